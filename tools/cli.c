/* msgtk tools — shared command-line glue (not part of libmsgtk). */
#include "cli.h"

#include <stdio.h>

int
cli_report_error (const char *prog, const GError *error)
{
  int code = msgtk_error_exit_code (error);
  /* messages name paths and data, which may hold any bytes: print valid UTF-8 */
  g_autofree char *message = g_utf8_make_valid (error ? error->message : "unknown error", -1);
  fprintf (stderr, "%s: %s\n", prog, message);
  return code;
}

gboolean
cli_parse (GOptionContext *context, const char *prog, int *argc, char ***argv)
{
  g_autoptr (GError) error = NULL;
  if (!g_option_context_parse (context, argc, argv, &error)) {
    fprintf (stderr, "%s: %s\n%s: try '%s --help'\n", prog, error->message, prog, prog);
    return FALSE;
  }
  return TRUE;
}

GOptionGroup *
cli_account_option_group (CliAccountOptions *o)
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
  GOptionGroup *g = g_option_group_new ("account", "Server, TLS and credential options:",
                                        "Show server, TLS and credential options", NULL, NULL);
  g_option_group_add_entries (g, entries);
  return g;
}

MsgtkAccount *
cli_account_resolve (CliAccountOptions *o, const char *protocol, GError **error)
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
  return g_steal_pointer (&a);
}
