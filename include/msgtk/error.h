/* msgtk — error domain and mapping to sysexits(3) exit codes. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define MSGTK_ERROR (msgtk_error_quark ())

/**
 * MsgtkError:
 * Error codes of the MSGTK_ERROR domain. Each maps to one sysexits(3) code
 * (shown after the name), which tools use as their exit status.
 */
typedef enum {
  MSGTK_ERROR_FAILED,      /* EX_SOFTWARE 70: internal error */
  MSGTK_ERROR_USAGE,       /* EX_USAGE 64: bad options or arguments */
  MSGTK_ERROR_DATA,        /* EX_DATAERR 65: bad input data */
  MSGTK_ERROR_NO_INPUT,    /* EX_NOINPUT 66: input missing or unreadable */
  MSGTK_ERROR_NO_USER,     /* EX_NOUSER 67: addressee unknown */
  MSGTK_ERROR_NO_HOST,     /* EX_NOHOST 68: host name unknown */
  MSGTK_ERROR_UNAVAILABLE, /* EX_UNAVAILABLE 69: service unavailable, permanent refusal */
  MSGTK_ERROR_OS,          /* EX_OSERR 71: system error */
  MSGTK_ERROR_CANT_CREATE, /* EX_CANTCREAT 73: cannot create output */
  MSGTK_ERROR_IO,          /* EX_IOERR 74: input/output error */
  MSGTK_ERROR_TEMP_FAIL,   /* EX_TEMPFAIL 75: temporary failure, try again later */
  MSGTK_ERROR_PROTOCOL,    /* EX_PROTOCOL 76: remote error in protocol */
  MSGTK_ERROR_NO_PERM,     /* EX_NOPERM 77: permission denied (e.g. authentication) */
  MSGTK_ERROR_CONFIG,      /* EX_CONFIG 78: configuration error */
} MsgtkError;

GQuark msgtk_error_quark (void);

/* The sysexits(3) code for @code. */
int msgtk_error_code_to_exit (MsgtkError code);

/* The sysexits(3) code for any GError: MSGTK_ERROR codes by the table above,
 * and the usual GLib/GIO domains (file, I/O, resolver, TLS, key file, option)
 * by their meaning. NULL gives 0 (EX_OK). */
int msgtk_error_exit_code (const GError *error);

/* Short symbolic name of an exit code ("EX_DATAERR"), or "EX_OK"/"EX_UNKNOWN". */
const char *msgtk_exit_code_name (int exit_code);

G_END_DECLS
