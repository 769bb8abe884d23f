/**
 * SECTION:msgtk-error
 * @title: Errors
 * @short_description: the error domain, error hints, and the mapping to
 *   sysexits(3) exit codes
 *
 * Every fallible function of libmsgtk takes a GError and fails with an error
 * of the %MSGTK_ERROR domain (a few pass on an error of GLib or GIO, e.g. of
 * a stream they read, which msgtk_error_exit_code() maps too): its
 * #MsgtkError code says how the failure maps to a sysexits(3) exit code, and
 * a #MsgtkErrorHint, where there is one, says what the user can do about it.
 * The library says what went wrong and never names a program's options: a
 * program turns the hint into words for its own.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/**
 * MSGTK_ERROR:
 *
 * The error domain of libmsgtk. Its errors carry a #MsgtkError code (which
 * says how the failure maps to an exit code) and, where the remedy is
 * something the caller can do, a #MsgtkErrorHint (msgtk_error_get_hint()).
 */
#define MSGTK_ERROR (msgtk_error_quark ())

/**
 * MsgtkError:
 * @MSGTK_ERROR_FAILED: internal error (EX_SOFTWARE, 70)
 * @MSGTK_ERROR_USAGE: bad arguments (EX_USAGE, 64)
 * @MSGTK_ERROR_DATA: bad input data (EX_DATAERR, 65)
 * @MSGTK_ERROR_NO_INPUT: input missing or unreadable (EX_NOINPUT, 66)
 * @MSGTK_ERROR_NO_USER: addressee unknown (EX_NOUSER, 67)
 * @MSGTK_ERROR_NO_HOST: host name unknown (EX_NOHOST, 68)
 * @MSGTK_ERROR_UNAVAILABLE: service unavailable, permanent refusal (EX_UNAVAILABLE, 69)
 * @MSGTK_ERROR_OS: system error (EX_OSERR, 71)
 * @MSGTK_ERROR_CANT_CREATE: cannot create output (EX_CANTCREAT, 73)
 * @MSGTK_ERROR_IO: input/output error (EX_IOERR, 74)
 * @MSGTK_ERROR_TEMP_FAIL: temporary failure, try again later (EX_TEMPFAIL, 75)
 * @MSGTK_ERROR_PROTOCOL: remote error in protocol (EX_PROTOCOL, 76)
 * @MSGTK_ERROR_NO_PERM: permission denied, e.g. authentication (EX_NOPERM, 77)
 * @MSGTK_ERROR_CONFIG: configuration error (EX_CONFIG, 78)
 *
 * Error codes of the %MSGTK_ERROR domain. Each maps to one sysexits(3)
 * code, which tools use as their exit status.
 */
typedef enum {
  MSGTK_ERROR_FAILED,
  MSGTK_ERROR_USAGE,
  MSGTK_ERROR_DATA,
  MSGTK_ERROR_NO_INPUT,
  MSGTK_ERROR_NO_USER,
  MSGTK_ERROR_NO_HOST,
  MSGTK_ERROR_UNAVAILABLE,
  MSGTK_ERROR_OS,
  MSGTK_ERROR_CANT_CREATE,
  MSGTK_ERROR_IO,
  MSGTK_ERROR_TEMP_FAIL,
  MSGTK_ERROR_PROTOCOL,
  MSGTK_ERROR_NO_PERM,
  MSGTK_ERROR_CONFIG,
} MsgtkError;

/**
 * MsgtkErrorHint:
 * @MSGTK_ERROR_HINT_NONE: nothing to suggest
 * @MSGTK_ERROR_HINT_NO_HOST_GIVEN: no server was named: give one
 * @MSGTK_ERROR_HINT_USE_IMPLICIT_TLS: the port speaks TLS from the first byte
 * @MSGTK_ERROR_HINT_USE_STARTTLS: the port is a plaintext (STARTTLS) port
 * @MSGTK_ERROR_HINT_STARTTLS_NOT_OFFERED: STARTTLS is required but the server
 *   does not offer it: use a TLS port, or no TLS only on a trusted network
 * @MSGTK_ERROR_HINT_TRUST_CERTIFICATE: the certificate was refused: name the
 *   CA to trust or pin the certificate
 * @MSGTK_ERROR_HINT_TLS_FOR_CREDENTIALS: credentials are only sent over TLS
 * @MSGTK_ERROR_HINT_GIVE_PASSWORD: no source of a password is configured
 * @MSGTK_ERROR_HINT_GIVE_USER: a secret is configured but no user name
 * @MSGTK_ERROR_HINT_GIVE_TOKEN: the mechanism needs an OAuth2 token
 * @MSGTK_ERROR_HINT_CHECK_CREDENTIALS: the server refused the credentials
 * @MSGTK_ERROR_HINT_CREATE_MAILBOX: the mailbox does not exist: allow
 *   creating it
 * @MSGTK_ERROR_HINT_LIST_PARTS: no such part: list the part numbers
 * @MSGTK_ERROR_HINT_INPUT_CHARSET: the input is not UTF-8: name its charset
 * @MSGTK_ERROR_HINT_GIVE_FROM: the message needs an author address
 * @MSGTK_ERROR_HINT_GIVE_RECIPIENTS: a message to send has no recipients
 * @MSGTK_ERROR_HINT_GIVE_SENDER: a message to send has no envelope sender
 *
 * What the user can do about an error, as a code: the library says what went
 * wrong and never names a program's options; a program turns the hint into
 * words for its own options (msgtk's tools print "use --create", say).
 */
typedef enum {
  MSGTK_ERROR_HINT_NONE,
  MSGTK_ERROR_HINT_NO_HOST_GIVEN,
  MSGTK_ERROR_HINT_USE_IMPLICIT_TLS,
  MSGTK_ERROR_HINT_USE_STARTTLS,
  MSGTK_ERROR_HINT_STARTTLS_NOT_OFFERED,
  MSGTK_ERROR_HINT_TRUST_CERTIFICATE,
  MSGTK_ERROR_HINT_TLS_FOR_CREDENTIALS,
  MSGTK_ERROR_HINT_GIVE_PASSWORD,
  MSGTK_ERROR_HINT_GIVE_USER,
  MSGTK_ERROR_HINT_GIVE_TOKEN,
  MSGTK_ERROR_HINT_CHECK_CREDENTIALS,
  MSGTK_ERROR_HINT_CREATE_MAILBOX,
  MSGTK_ERROR_HINT_LIST_PARTS,
  MSGTK_ERROR_HINT_INPUT_CHARSET,
  MSGTK_ERROR_HINT_GIVE_FROM,
  MSGTK_ERROR_HINT_GIVE_RECIPIENTS,
  MSGTK_ERROR_HINT_GIVE_SENDER,
} MsgtkErrorHint;

/**
 * msgtk_error_quark:
 *
 * The quark of the error domain of libmsgtk.
 *
 * Returns: the quark of the %MSGTK_ERROR domain.
 */
GQuark msgtk_error_quark (void);

/**
 * msgtk_error_get_hint:
 * @error: (nullable): an error
 *
 * What the user can do about @error.
 *
 * Returns: the hint @error carries; %MSGTK_ERROR_HINT_NONE for none, for
 *   %NULL and for errors of other domains.
 */
MsgtkErrorHint msgtk_error_get_hint (const GError *error);

/**
 * msgtk_error_set_hint:
 * @error: (nullable): an error of the %MSGTK_ERROR domain
 * @hint: the hint
 *
 * Attaches @hint to @error (errors of other domains are left alone).
 */
void msgtk_error_set_hint (GError *error, MsgtkErrorHint hint);

/**
 * msgtk_error_code_to_exit:
 * @code: a #MsgtkError
 *
 * The exit code of an error code.
 *
 * Returns: the sysexits(3) code for @code.
 */
int msgtk_error_code_to_exit (MsgtkError code);

/**
 * msgtk_error_exit_code:
 * @error: (nullable): any error
 *
 * The sysexits(3) code for an error: %MSGTK_ERROR codes by the table of
 * #MsgtkError, and the usual GLib/GIO domains (file, I/O, resolver, TLS, key
 * file, option, conversion) by their meaning.
 *
 * Returns: the exit code; 0 (EX_OK) for %NULL.
 */
int msgtk_error_exit_code (const GError *error);

/**
 * msgtk_exit_code_name:
 * @exit_code: an exit code
 *
 * The name of a sysexits(3) code, for messages.
 *
 * Returns: the short symbolic name of @exit_code ("EX_DATAERR"), "EX_OK", or
 *   "EX_UNKNOWN".
 */
const char *msgtk_exit_code_name (int exit_code);

G_END_DECLS
