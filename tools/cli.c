/* msgtk tools — shared command-line glue (not part of libmsgtk). */
#include "cli.h"

#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

const char *
cli_hint (const GError *error)
{
  switch (msgtk_error_get_hint (error)) {
  case MSGTK_ERROR_HINT_NO_HOST_GIVEN: return "give --host, or an --account with a host";
  case MSGTK_ERROR_HINT_USE_IMPLICIT_TLS:
    return "if the port expects TLS from the first byte, use --tls implicit";
  case MSGTK_ERROR_HINT_USE_STARTTLS:
    return "if it is a plaintext or STARTTLS port, use --tls starttls";
  case MSGTK_ERROR_HINT_STARTTLS_NOT_OFFERED:
    return "use --tls implicit for a TLS port (such as 465 or 993), or --tls none only on a "
           "trusted network";
  case MSGTK_ERROR_HINT_TRUST_CERTIFICATE:
    return "give the CA with --tls-trust-file, or pin the certificate with --tls-fingerprint";
  case MSGTK_ERROR_HINT_TLS_FOR_CREDENTIALS:
    return "use --tls starttls or --tls implicit (allow-plaintext-auth = true in the account "
           "overrides this)";
  case MSGTK_ERROR_HINT_GIVE_PASSWORD:
    return "give one with --password-command, --password-file, MSGTK_PASSWORD or ~/.netrc";
  case MSGTK_ERROR_HINT_GIVE_USER: return "give --user";
  case MSGTK_ERROR_HINT_GIVE_TOKEN:
    return "give one with --token-command, --token-file or MSGTK_TOKEN";
  case MSGTK_ERROR_HINT_CHECK_CREDENTIALS: return "check the user and the password";
  case MSGTK_ERROR_HINT_CREATE_MAILBOX: return "use --create to create it";
  case MSGTK_ERROR_HINT_LIST_PARTS: return "--tree lists the part numbers";
  case MSGTK_ERROR_HINT_INPUT_CHARSET: return "give --input-charset if it is in another charset";
  case MSGTK_ERROR_HINT_GIVE_FROM: return "give --from or \"from\" in the draft";
  case MSGTK_ERROR_HINT_GIVE_RECIPIENTS: return "give them as arguments, or use -t";
  case MSGTK_ERROR_HINT_GIVE_SENDER: return "use --from, an account's from, or a From header";
  case MSGTK_ERROR_HINT_NONE:
  default: return NULL;
  }
}

char *
cli_error_text (const GError *error)
{
  const char *hint = cli_hint (error);
  g_autofree char *text = g_strdup_printf ("%s%s%s", error ? error->message : "unknown error",
                                           hint ? "; " : "", hint ? hint : "");
  /* messages name paths and data, which may hold any bytes: valid UTF-8 */
  return g_utf8_make_valid (text, -1);
}

int
cli_report_error (const char *prog, const GError *error)
{
  g_autofree char *message = cli_error_text (error);
  fprintf (stderr, "%s: %s\n", prog, message);
  return msgtk_error_exit_code (error);
}

static void
print_alert (const char *host, const char *text, gpointer data)
{
  g_autofree char *shown = g_utf8_make_valid (text, -1);
  for (char *p = shown; *p; p++)
    if ((guchar)*p < 0x20 || *p == 0x7f)
      *p = '?';
  fprintf (stderr, "%s: the server %s says: %s\n", (const char *)data, host, shown);
}

gboolean
cli_parse (GOptionContext *context, const char *prog, int *argc, char ***argv)
{
  /* the user's locale, for messages; but values and output are UTF-8
   * whatever it is (GOption converts from the locale's charset) */
  setlocale (LC_ALL, "");
  if (!g_get_charset (NULL))
    setlocale (LC_CTYPE, "C.UTF-8");
  static gboolean version;
  static const GOptionEntry entries[] = {
    { "version", 'V', 0, G_OPTION_ARG_NONE, &version, "Print the version and exit", NULL },
    { NULL },
  };
  g_option_context_add_main_entries (context, entries, NULL);
  g_autoptr (GError) error = NULL;
  if (!g_option_context_parse (context, argc, argv, &error)) {
    fprintf (stderr, "%s: %s\n%s: try '%s --help'\n", prog, error->message, prog, prog);
    return FALSE;
  }
  if (version) {
    printf ("%s (msgtk) %s\n", prog, msgtk_version ());
    exit (fflush (stdout) == 0 && !ferror (stdout) ? 0 : 74);
  }
  return TRUE;
}

GOptionGroup *
cli_account_option_group (CliAccountOptions *o, const char *protocol)
{
  GOptionEntry entries[] = {
    { "account", 'a', 0, G_OPTION_ARG_STRING, &o->account, "use [account NAME] of the config file",
      "NAME" },
    { "config", 0, 0, G_OPTION_ARG_FILENAME, &o->config,
      "config file (default $XDG_CONFIG_HOME/msgtk/config)", "FILE" },
    { "host", 'H', 0, G_OPTION_ARG_STRING, &o->host, "server host name or address", "HOST" },
    { "port", 'P', 0, G_OPTION_ARG_INT, &o->port, "server port (default from the TLS mode)",
      "PORT" },
    { "tls", 0, 0, G_OPTION_ARG_STRING, &o->tls, "starttls (default), implicit or none", "MODE" },
    { "user", 'u', 0, G_OPTION_ARG_STRING, &o->user, "user name to authenticate as", "USER" },
    { "auth", 0, 0, G_OPTION_ARG_STRING, &o->auth, "SASL mechanisms allowed, comma-separated",
      "MECHS" },
    { "tls-trust-file", 0, 0, G_OPTION_ARG_FILENAME, &o->trust_file,
      "trust the CA certificates in FILE (PEM) instead of the system's", "FILE" },
    { "tls-fingerprint", 0, 0, G_OPTION_ARG_STRING, &o->fingerprint,
      "accept only the server certificate with this SHA-256 fingerprint", "HEX" },
    { "tls-insecure", 0, 0, G_OPTION_ARG_NONE, &o->tls_insecure,
      "do not verify the server certificate (dangerous)", NULL },
    { "password-command", 0, 0, G_OPTION_ARG_STRING, &o->password_command,
      "run CMD; the first line of its output is the password", "CMD" },
    { "password-file", 0, 0, G_OPTION_ARG_FILENAME, &o->password_file,
      "read the password from the first line of FILE (mode 600)", "FILE" },
    { "token-command", 0, 0, G_OPTION_ARG_STRING, &o->token_command,
      "run CMD; the first line of its output is an OAuth2 bearer token", "CMD" },
    { "token-file", 0, 0, G_OPTION_ARG_FILENAME, &o->token_file,
      "read an OAuth2 bearer token from FILE (mode 600)", "FILE" },
    { "timeout", 0, 0, G_OPTION_ARG_INT, &o->timeout,
      "seconds allowed for connecting and for each read or write (default 60)", "SECONDS" },
    { "trace", 0, 0, G_OPTION_ARG_NONE, &o->trace,
      "print the protocol dialogue on stderr (secrets redacted)", NULL },
    { NULL },
  };
  GOptionEntry imap_entries[] = {
    { "compress", 0, 0, G_OPTION_ARG_STRING, &o->compress,
      "COMPRESS=DEFLATE where offered: auto (default: unless the server is on this machine), "
      "always or never",
      "WHEN" },
    { NULL },
  };
  GOptionGroup *g = g_option_group_new ("account", "Server, TLS and credential options:",
                                        "Show server, TLS and credential options", NULL, NULL);
  g_option_group_add_entries (g, entries);
  if (g_strcmp0 (protocol, "imap") == 0)
    g_option_group_add_entries (g, imap_entries);
  return g;
}

MsgtkAccount *
cli_account_resolve (CliAccountOptions *o, const char *prog, const char *protocol, GError **error)
{
  g_autoptr (MsgtkAccount) a = msgtk_account_new ();
  if (!msgtk_account_load (a, o->config, o->account, protocol, error))
    return NULL;
#define SET(field, value)                                                                          \
  if (value) {                                                                                     \
    g_free (a->field);                                                                             \
    a->field = g_strdup (value);                                                                   \
  }
  SET (host, o->host);
  SET (user, o->user);
  SET (auth, o->auth);
  SET (trust_file, o->trust_file);
  SET (fingerprint, o->fingerprint);
  if (o->password_command || o->password_file) {
    g_clear_pointer (&a->password_command, g_free);
    g_clear_pointer (&a->password_file, g_free);
  }
  SET (password_command, o->password_command);
  SET (password_file, o->password_file);
  /* Likewise a token source given as an option replaces the config's. */
  if (o->token_command || o->token_file) {
    g_clear_pointer (&a->token_command, g_free);
    g_clear_pointer (&a->token_file, g_free);
  }
  SET (token_command, o->token_command);
  SET (token_file, o->token_file);
#undef SET
  if (o->port < 0 || o->port > 65535) {
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_USAGE, "--port %d is not 1-65535", o->port);
    return NULL;
  }
  if (o->port)
    a->port = (guint16)o->port;
  if (o->timeout < 0) {
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_USAGE, "--timeout must be positive");
    return NULL;
  }
  if (o->timeout)
    a->timeout = (guint)o->timeout;
  if (o->tls_insecure)
    a->tls_insecure = TRUE;
  if (o->tls && !msgtk_tls_mode_from_string (o->tls, &a->tls)) {
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_USAGE, "--tls %s: use starttls, implicit or none",
                 o->tls);
    return NULL;
  }
  if (o->compress && !msgtk_compress_mode_from_string (o->compress, &a->compress)) {
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_USAGE, "--compress %s: use auto, always or never",
                 o->compress);
    return NULL;
  }
  if (a->tls_insecure)
    fprintf (stderr,
             "%s: WARNING: --tls-insecure: the server's certificate is NOT checked; anyone on "
             "the path can read and change the connection, including your credentials.\n",
             prog);
  a->alert = print_alert; /* IMAP ALERTs are for the user's eyes (RFC 3501 7.1) */
  a->alert_data = (gpointer)prog;
  return g_steal_pointer (&a);
}

static volatile sig_atomic_t interrupt_signal;

static void
on_interrupt (int sig)
{
  if (interrupt_signal != 0)
    _exit (128 + sig); /* the second: at once */
  interrupt_signal = sig;
  msgtk_interrupt ();
}

void
cli_catch_interrupts (void)
{
  struct sigaction sa = { .sa_handler = on_interrupt };
  sigemptyset (&sa.sa_mask);
  sigaction (SIGINT, &sa, NULL);
  sigaction (SIGTERM, &sa, NULL);
  sigaction (SIGHUP, &sa, NULL);
}

int
cli_interrupt_signal (void)
{
  return interrupt_signal;
}
