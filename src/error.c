/* msgtk — error domain, hints, and mapping to sysexits(3) exit codes. */
#include "error-private.h"

#include <gio/gio.h>
#include <sysexits.h>

/* What an MSGTK_ERROR carries beside its code (GLib's extended error domains). */
typedef struct {
  MsgtkErrorHint hint;
} MsgtkErrorPrivate;

static MsgtkErrorPrivate *
error_private (const GError *error)
{
  /* where g_error_domain_register_static() puts it: just before the GError,
   * aligned as GLib aligns it (G_DEFINE_EXTENDED_ERROR's computation) */
  const gsize align = 2 * sizeof (gsize);
  const gsize size = (sizeof (MsgtkErrorPrivate) + (align - 1)) & -align;
  return (MsgtkErrorPrivate *)(((guint8 *)error) - size);
}

static void
private_init (GError *error)
{
  error_private (error)->hint = MSGTK_ERROR_HINT_NONE;
}

static void
private_copy (const GError *src, GError *dest)
{
  *error_private (dest) = *error_private (src);
}

static void
private_clear (GError *error)
{
  (void)error;
}

GQuark
msgtk_error_quark (void)
{
  static GQuark quark;
  static gsize once;
  if (g_once_init_enter (&once)) {
    quark = g_error_domain_register_static ("msgtk-error-quark", sizeof (MsgtkErrorPrivate),
                                            private_init, private_copy, private_clear);
    g_once_init_leave (&once, 1);
  }
  return quark;
}

MsgtkErrorHint
msgtk_error_get_hint (const GError *error)
{
  if (error == NULL || error->domain != MSGTK_ERROR)
    return MSGTK_ERROR_HINT_NONE;
  return error_private (error)->hint;
}

void
msgtk_error_set_hint (GError *error, MsgtkErrorHint hint)
{
  if (error != NULL && error->domain == MSGTK_ERROR)
    error_private (error)->hint = hint;
}

int
msgtk_error_code_to_exit (MsgtkError code)
{
  switch (code) {
  case MSGTK_ERROR_USAGE: return EX_USAGE;
  case MSGTK_ERROR_DATA: return EX_DATAERR;
  case MSGTK_ERROR_NO_INPUT: return EX_NOINPUT;
  case MSGTK_ERROR_NO_USER: return EX_NOUSER;
  case MSGTK_ERROR_NO_HOST: return EX_NOHOST;
  case MSGTK_ERROR_UNAVAILABLE: return EX_UNAVAILABLE;
  case MSGTK_ERROR_OS: return EX_OSERR;
  case MSGTK_ERROR_CANT_CREATE: return EX_CANTCREAT;
  case MSGTK_ERROR_IO: return EX_IOERR;
  case MSGTK_ERROR_TEMP_FAIL: return EX_TEMPFAIL;
  case MSGTK_ERROR_PROTOCOL: return EX_PROTOCOL;
  case MSGTK_ERROR_NO_PERM: return EX_NOPERM;
  case MSGTK_ERROR_CONFIG: return EX_CONFIG;
  case MSGTK_ERROR_FAILED:
  default: return EX_SOFTWARE;
  }
}

static int
io_error_exit (int code)
{
  switch (code) {
  case G_IO_ERROR_NOT_FOUND:
  case G_IO_ERROR_IS_DIRECTORY:
  case G_IO_ERROR_NOT_REGULAR_FILE: return EX_NOINPUT;
  case G_IO_ERROR_PERMISSION_DENIED: return EX_NOPERM;
  case G_IO_ERROR_TIMED_OUT:
  case G_IO_ERROR_WOULD_BLOCK:
  case G_IO_ERROR_BUSY:
  case G_IO_ERROR_NETWORK_UNREACHABLE:
  case G_IO_ERROR_HOST_UNREACHABLE:
  case G_IO_ERROR_CONNECTION_CLOSED: return EX_TEMPFAIL;
  case G_IO_ERROR_CONNECTION_REFUSED: return EX_UNAVAILABLE;
  case G_IO_ERROR_HOST_NOT_FOUND: return EX_NOHOST;
  case G_IO_ERROR_INVALID_DATA:
  case G_IO_ERROR_INVALID_ARGUMENT: return EX_DATAERR;
  case G_IO_ERROR_NO_SPACE:
  default: return EX_IOERR;
  }
}

int
msgtk_error_exit_code (const GError *error)
{
  if (error == NULL)
    return EX_OK;
  if (error->domain == MSGTK_ERROR)
    return msgtk_error_code_to_exit ((MsgtkError)error->code);
  if (error->domain == G_IO_ERROR)
    return io_error_exit (error->code);
  if (error->domain == G_FILE_ERROR) {
    switch (error->code) {
    case G_FILE_ERROR_NOENT:
    case G_FILE_ERROR_ISDIR:
    case G_FILE_ERROR_NOTDIR: return EX_NOINPUT;
    case G_FILE_ERROR_ACCES:
    case G_FILE_ERROR_PERM: return EX_NOPERM;
    default: return EX_IOERR;
    }
  }
  if (error->domain == G_RESOLVER_ERROR)
    return error->code == G_RESOLVER_ERROR_TEMPORARY_FAILURE ? EX_TEMPFAIL : EX_NOHOST;
  if (error->domain == G_TLS_ERROR)
    return EX_PROTOCOL;
  if (error->domain == G_KEY_FILE_ERROR)
    return EX_CONFIG;
  if (error->domain == G_OPTION_ERROR)
    return EX_USAGE;
  if (error->domain == G_CONVERT_ERROR)
    return EX_DATAERR;
  return EX_SOFTWARE;
}

const char *
msgtk_exit_code_name (int exit_code)
{
  switch (exit_code) {
  case EX_OK: return "EX_OK";
  case EX_USAGE: return "EX_USAGE";
  case EX_DATAERR: return "EX_DATAERR";
  case EX_NOINPUT: return "EX_NOINPUT";
  case EX_NOUSER: return "EX_NOUSER";
  case EX_NOHOST: return "EX_NOHOST";
  case EX_UNAVAILABLE: return "EX_UNAVAILABLE";
  case EX_SOFTWARE: return "EX_SOFTWARE";
  case EX_OSERR: return "EX_OSERR";
  case EX_OSFILE: return "EX_OSFILE";
  case EX_CANTCREAT: return "EX_CANTCREAT";
  case EX_IOERR: return "EX_IOERR";
  case EX_TEMPFAIL: return "EX_TEMPFAIL";
  case EX_PROTOCOL: return "EX_PROTOCOL";
  case EX_NOPERM: return "EX_NOPERM";
  case EX_CONFIG: return "EX_CONFIG";
  default: return "EX_UNKNOWN";
  }
}

void
error_set_hint (GError **error, MsgtkErrorHint hint, MsgtkError code, const char *format, ...)
{
  if (error == NULL)
    return;
  va_list ap;
  va_start (ap, format);
  GError *e = g_error_new_valist (MSGTK_ERROR, (gint)code, format, ap);
  va_end (ap);
  msgtk_error_set_hint (e, hint);
  g_propagate_error (error, e);
}
