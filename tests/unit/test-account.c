/* Unit tests of the account module (config file with [defaults] and named
 * accounts, secret sources and their checks) and of the tools' shared
 * account options on top of it. HOME and XDG_CONFIG_HOME point into a
 * temporary directory, removed at the end. */
#include "cli.h"

#include <glib/gstdio.h>
#include <msgtk/msgtk.h>
#include <string.h>

static void
write_file (const char *path, const char *text, int mode)
{
  g_autofree char *dir = g_path_get_dirname (path);
  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  g_autoptr (GError) error = NULL;
  g_assert_true (g_file_set_contents (path, text, -1, &error));
  g_assert_cmpint (g_chmod (path, mode), ==, 0);
}

static void
remove_tree (const char *path)
{
  GDir *d = g_dir_open (path, 0, NULL);
  if (d) {
    const char *name;
    while ((name = g_dir_read_name (d))) {
      g_autofree char *sub = g_build_filename (path, name, NULL);
      remove_tree (sub);
    }
    g_dir_close (d);
  }
  g_remove (path);
}

static const char *config_text = "# msgtk accounts\n"
                                 "[defaults]\n"
                                 "host = mail.example.org\n"
                                 "port = 587\n"
                                 "timeout = 30\n"
                                 "from = me@example.org\n"
                                 "\n"
                                 "[account work]\n"
                                 "host = smtp.work.example\n"
                                 "smtp-port = 465\n"
                                 "imap-port = 993\n"
                                 "imap-host = imap.work.example\n"
                                 "tls = implicit\n"
                                 "user = me@work.example\n"
                                 "auth = PLAIN,LOGIN\n"
                                 "tls-trust-file = /etc/work-ca.pem\n"
                                 "tls-fingerprint = AB:CD\n"
                                 "allow-plaintext-auth = yes\n"
                                 "password-command = pass show work\n"
                                 "\n"
                                 "[account home]\n"
                                 "tls = none\n"
                                 "netrc = false\n"
                                 "tls-insecure = on\n";

static char *
default_config (const char *text)
{
  char *path = msgtk_account_default_config_path ();
  write_file (path, text, 0644);
  return path;
}

static void
test_config_accounts (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = default_config (config_text);
  g_autofree char *expect_path
      = g_build_filename (g_get_user_config_dir (), "msgtk", "config", NULL);
  g_assert_cmpstr (path, ==, expect_path);

  g_autoptr (MsgtkAccount) d = msgtk_account_new ();
  g_assert_true (msgtk_account_load (d, NULL, NULL, "smtp", &error));
  g_assert_no_error (error);
  g_assert_null (d->name);
  g_assert_cmpstr (d->host, ==, "mail.example.org");
  g_assert_cmpuint (d->port, ==, 587);
  g_assert_cmpuint (d->timeout, ==, 30);
  g_assert_cmpstr (d->from, ==, "me@example.org");
  g_assert_cmpint (d->tls, ==, MSGTK_TLS_STARTTLS); /* the default */
  g_assert_true (d->netrc);
  g_assert_false (d->allow_plaintext_auth);
  g_assert_cmpstr (d->config_path, ==, path);

  g_autoptr (MsgtkAccount) w = msgtk_account_new ();
  g_assert_true (msgtk_account_load (w, NULL, "work", "smtp", &error));
  g_assert_no_error (error);
  g_assert_cmpstr (w->name, ==, "work");
  g_assert_cmpstr (w->host, ==, "smtp.work.example");
  g_assert_cmpuint (w->port, ==, 465); /* smtp-port over port */
  g_assert_cmpint (w->tls, ==, MSGTK_TLS_IMPLICIT);
  g_assert_cmpstr (w->user, ==, "me@work.example");
  g_assert_cmpstr (w->auth, ==, "PLAIN,LOGIN");
  g_assert_cmpstr (w->trust_file, ==, "/etc/work-ca.pem");
  g_assert_cmpstr (w->fingerprint, ==, "AB:CD");
  g_assert_true (w->allow_plaintext_auth);
  g_assert_cmpstr (w->password_command, ==, "pass show work");
  g_assert_cmpstr (w->from, ==, "me@example.org"); /* from [defaults] */
  g_assert_cmpuint (w->timeout, ==, 30);

  g_autoptr (MsgtkAccount) wi = msgtk_account_new ();
  g_assert_true (msgtk_account_load (wi, NULL, "work", "imap", &error));
  g_assert_cmpstr (wi->host, ==, "imap.work.example");
  g_assert_cmpuint (wi->port, ==, 993);

  g_autoptr (MsgtkAccount) h = msgtk_account_new ();
  g_assert_true (msgtk_account_load (h, NULL, "home", "smtp", &error));
  g_assert_cmpint (h->tls, ==, MSGTK_TLS_NONE);
  g_assert_false (h->netrc);
  g_assert_true (h->tls_insecure);
  g_assert_cmpstr (h->host, ==, "mail.example.org");

  MsgtkConnectionConfig cc = { 0 };
  msgtk_account_connection_config (w, &cc);
  g_assert_cmpstr (cc.host, ==, "smtp.work.example");
  g_assert_cmpuint (cc.port, ==, 465);
  g_assert_cmpint (cc.tls, ==, MSGTK_TLS_IMPLICIT);
  g_assert_cmpstr (cc.trust_file, ==, "/etc/work-ca.pem");
  g_assert_cmpuint (cc.timeout, ==, 30);

  g_autoptr (MsgtkAccount) n = msgtk_account_new ();
  g_assert_false (msgtk_account_load (n, NULL, "nosuch", "smtp", &error));
  g_assert_error (error, MSGTK_ERROR, MSGTK_ERROR_CONFIG);
  g_assert_nonnull (strstr (error->message, "[account nosuch]"));
}

static void
test_config_missing (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = msgtk_account_default_config_path ();
  g_unlink (path);
  g_autoptr (MsgtkAccount) a = msgtk_account_new ();
  /* no config file at the default place: fine without an account name */
  g_assert_true (msgtk_account_load (a, NULL, NULL, "smtp", &error));
  g_assert_no_error (error);
  g_assert_null (a->host);
  g_assert_null (a->config_path);
  g_assert_false (msgtk_account_load (a, NULL, "work", "smtp", &error));
  g_assert_error (error, MSGTK_ERROR, MSGTK_ERROR_CONFIG);
  g_clear_error (&error);
  /* a file given explicitly must exist */
  g_assert_false (msgtk_account_load (a, "/nonexistent/msgtk.conf", NULL, "smtp", &error));
  g_assert_error (error, MSGTK_ERROR, MSGTK_ERROR_CONFIG);
  g_assert_nonnull (strstr (error->message, "/nonexistent/msgtk.conf"));
}

static void
test_config_errors (void)
{
  static const struct {
    const char *text, *says;
  } cases[] = {
    { "[defaults]\nhots = x\n", "unknown key 'hots'" },
    { "[defaults]\nport = 0\n", "port '0' is not 1-65535" },
    { "[defaults]\nport = 70000\n", "port '70000'" },
    { "[defaults]\nsmtp-port = 25x\n", "port '25x'" },
    { "[defaults]\ntimeout = 0\n", "timeout '0'" },
    { "[defaults]\ntls = ssl\n", "tls 'ssl' is not starttls, implicit or none" },
    { "[defaults]\ncompress = yes\n", "compress 'yes' is not auto, always or never" },
    { "[defaults]\nnetrc = maybe\n", "netrc 'maybe' is not true/false" },
    { "[account a]\nhost = x\nnonsense\n", "" },
  };
  g_autofree char *dir = g_dir_make_tmp ("msgtk-account-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "config", NULL);
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    write_file (path, cases[i].text, 0600);
    g_autoptr (GError) error = NULL;
    g_autoptr (MsgtkAccount) a = msgtk_account_new ();
    g_assert_false (msgtk_account_load (a, path, "a", "smtp", &error));
    g_assert_error (error, MSGTK_ERROR, MSGTK_ERROR_CONFIG);
    g_assert_nonnull (strstr (error->message, path));
    g_assert_nonnull (strstr (error->message, cases[i].says));
  }
  g_unlink (path);
  g_rmdir (dir);
}

/* A password in the config file only when nobody else can read it. */
static void
test_config_password (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = default_config ("[account p]\nuser = u\npassword = from-config\n");
  g_autoptr (MsgtkAccount) a = msgtk_account_new ();
  g_assert_false (msgtk_account_load (a, NULL, "p", "smtp", &error));
  g_assert_error (error, MSGTK_ERROR, MSGTK_ERROR_CONFIG);
  g_assert_nonnull (strstr (error->message, "chmod 600"));
  g_assert_null (a->password);
  g_clear_error (&error);

  g_assert_cmpint (g_chmod (path, 0600), ==, 0);
  g_autoptr (MsgtkAccount) b = msgtk_account_new ();
  g_assert_true (msgtk_account_load (b, NULL, "p", "smtp", &error));
  g_assert_no_error (error);
  char *pw = msgtk_account_get_password (b, &error);
  g_assert_cmpstr (pw, ==, "from-config");
  msgtk_secret_free (pw);
}

static void
test_password_sources (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MsgtkAccount) a = msgtk_account_new ();
  a->host = g_strdup ("mail.example.org");
  g_autofree char *netrc = g_build_filename (g_get_home_dir (), ".netrc", NULL);
  g_unlink (netrc);
  g_assert_false (msgtk_account_has_credentials (a));
  g_assert_null (msgtk_account_get_password (a, &error)); /* none at all: no error */
  g_assert_no_error (error);

  /* netrc in $HOME */
  write_file (netrc, "machine other.example login x password nope\n", 0600);
  g_assert_null (msgtk_account_get_password (a, &error));
  g_assert_no_error (error);
  write_file (netrc,
              "machine other.example login x password nope\n"
              "machine mail.example.org\n  login me\n  password netrc-secret\n",
              0600);
  char *pw = msgtk_account_get_password (a, &error);
  g_assert_cmpstr (pw, ==, "netrc-secret");
  g_assert_cmpstr (a->user, ==, "me"); /* the login came with it */
  msgtk_secret_free (pw);

  /* environment over netrc */
  g_setenv ("MSGTK_PASSWORD", "from-env", TRUE);
  g_assert_true (msgtk_account_has_credentials (a));
  pw = msgtk_account_get_password (a, &error);
  g_assert_cmpstr (pw, ==, "from-env");
  msgtk_secret_free (pw);

  /* config password over environment */
  a->password = g_strdup ("from-config");
  pw = msgtk_account_get_password (a, &error);
  g_assert_cmpstr (pw, ==, "from-config");
  msgtk_secret_free (pw);

  /* password file over that: first line, owner-only */
  g_autofree char *file = g_build_filename (g_get_home_dir (), "pw", NULL);
  write_file (file, "from-file\nsecond line\n", 0640);
  a->password_file = g_strdup (file);
  g_assert_null (msgtk_account_get_password (a, &error));
  g_assert_error (error, MSGTK_ERROR, MSGTK_ERROR_CONFIG);
  g_assert_nonnull (strstr (error->message, "chmod 600"));
  g_clear_error (&error);
  g_assert_cmpint (g_chmod (file, 0600), ==, 0);
  pw = msgtk_account_get_password (a, &error);
  g_assert_cmpstr (pw, ==, "from-file");
  msgtk_secret_free (pw);
  write_file (file, "", 0600);
  g_assert_null (msgtk_account_get_password (a, &error));
  g_assert_error (error, MSGTK_ERROR, MSGTK_ERROR_CONFIG);
  g_assert_nonnull (strstr (error->message, "empty"));
  g_clear_error (&error);

  /* password command over everything: the first line of its output */
  a->password_command = g_strdup ("printf 'from-command\\r\\nsecond\\n'");
  pw = msgtk_account_get_password (a, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (pw, ==, "from-command");
  msgtk_secret_free (pw);
  /* the command does not see the secrets of the environment */
  g_setenv ("MSGTK_PASSWORD", "env-secret", TRUE);
  g_setenv ("MSGTK_TOKEN", "env-token", TRUE);
  g_free (a->password_command);
  a->password_command
      = g_strdup ("printf '%s/%s\\n' \"${MSGTK_PASSWORD:-unset}\" \"${MSGTK_TOKEN:-unset}\"");
  pw = msgtk_account_get_password (a, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (pw, ==, "unset/unset");
  msgtk_secret_free (pw);
  g_unsetenv ("MSGTK_TOKEN");
  g_free (a->password_command);
  a->password_command = g_strdup ("echo oops >&2; exit 3");
  g_assert_null (msgtk_account_get_password (a, &error));
  g_assert_error (error, MSGTK_ERROR, MSGTK_ERROR_CONFIG);
  g_assert_nonnull (strstr (error->message, "exit status 3"));
  g_assert_nonnull (strstr (error->message, "oops"));
  g_clear_error (&error);
  g_free (a->password_command);
  a->password_command = g_strdup ("true");
  g_assert_null (msgtk_account_get_password (a, &error));
  g_assert_error (error, MSGTK_ERROR, MSGTK_ERROR_CONFIG);
  g_assert_nonnull (strstr (error->message, "printed nothing"));
  g_unsetenv ("MSGTK_PASSWORD");
}

static void
test_netrc (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *netrc = g_build_filename (g_get_home_dir (), ".netrc", NULL);
  write_file (netrc,
              "machine mail.example.org login alice password a-pw\n"
              "machine MAIL.example.org login bob password b-pw\n"
              "default login anon password anon-pw\n",
              0600);
  char *login = NULL;
  char *pw = msgtk_netrc_lookup (NULL, "mail.example.org", &login, &error);
  g_assert_cmpstr (pw, ==, "a-pw");
  g_assert_cmpstr (login, ==, "alice");
  msgtk_secret_free (pw);
  g_free (login);
  login = g_strdup ("bob"); /* the entry for this login, host names case-insensitive */
  pw = msgtk_netrc_lookup (NULL, "mail.example.org", &login, &error);
  g_assert_cmpstr (pw, ==, "b-pw");
  g_assert_cmpstr (login, ==, "bob");
  msgtk_secret_free (pw);
  g_free (login);
  login = NULL;
  pw = msgtk_netrc_lookup (NULL, "elsewhere.example", &login, &error);
  g_assert_cmpstr (pw, ==, "anon-pw");
  g_assert_cmpstr (login, ==, "anon");
  msgtk_secret_free (pw);
  g_free (login);
  login = g_strdup ("carol"); /* no entry for carol anywhere */
  g_assert_null (msgtk_netrc_lookup (NULL, "mail.example.org", &login, &error));
  g_assert_no_error (error);
  g_free (login);

  /* MSGTK_NETRC names another file; a netrc others can read is refused */
  g_autofree char *other = g_build_filename (g_get_home_dir (), "other-netrc", NULL);
  write_file (other, "machine mail.example.org login z password z-pw\n", 0644);
  g_setenv ("MSGTK_NETRC", other, TRUE);
  g_autoptr (MsgtkAccount) a = msgtk_account_new ();
  a->host = g_strdup ("mail.example.org");
  g_assert_null (msgtk_account_get_password (a, &error));
  g_assert_error (error, MSGTK_ERROR, MSGTK_ERROR_CONFIG);
  g_assert_nonnull (strstr (error->message, other));
  g_clear_error (&error);
  g_chmod (other, 0600);
  pw = msgtk_account_get_password (a, &error);
  g_assert_cmpstr (pw, ==, "z-pw");
  msgtk_secret_free (pw);
  /* netrc = false: not looked at */
  a->netrc = FALSE;
  g_clear_pointer (&a->user, g_free);
  g_assert_null (msgtk_account_get_password (a, &error));
  g_assert_no_error (error);
  g_unsetenv ("MSGTK_NETRC");
}

static void
test_token_sources (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MsgtkAccount) a = msgtk_account_new ();
  g_assert_null (msgtk_account_get_token (a, &error));
  g_assert_no_error (error);
  g_setenv ("MSGTK_TOKEN", "env-token", TRUE);
  g_assert_true (msgtk_account_has_credentials (a));
  char *t = msgtk_account_get_token (a, &error);
  g_assert_cmpstr (t, ==, "env-token");
  msgtk_secret_free (t);
  g_autofree char *file = g_build_filename (g_get_home_dir (), "token", NULL);
  write_file (file, "file-token\n", 0600);
  a->token_file = g_strdup (file);
  t = msgtk_account_get_token (a, &error);
  g_assert_cmpstr (t, ==, "file-token");
  msgtk_secret_free (t);
  a->token_command = g_strdup ("echo command-token");
  t = msgtk_account_get_token (a, &error);
  g_assert_cmpstr (t, ==, "command-token");
  msgtk_secret_free (t);
  g_unsetenv ("MSGTK_TOKEN");
  /* an empty variable is no credential */
  g_autoptr (MsgtkAccount) b = msgtk_account_new ();
  g_setenv ("MSGTK_PASSWORD", "", TRUE);
  g_assert_false (msgtk_account_has_credentials (b));
  g_unsetenv ("MSGTK_PASSWORD");
}

/* The secret to authenticate with: a token over a password; errors say what is missing. */
static void
test_secret (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MsgtkAccount) a = msgtk_account_new ();
  a->netrc = FALSE;
  char *pw = NULL, *tok = NULL;
  g_assert_false (msgtk_account_get_secret (a, &pw, &tok, &error));
  g_assert_error (error, MSGTK_ERROR, MSGTK_ERROR_CONFIG);
  /* the library names no option: the hint says what is missing, the tools
   * say how to give it */
  g_assert_null (strstr (error->message, "--"));
  g_assert_cmpint (msgtk_error_get_hint (error), ==, MSGTK_ERROR_HINT_GIVE_PASSWORD);
  g_assert_nonnull (strstr (cli_hint (error), "--password-command"));
  g_clear_error (&error);
  a->password = g_strdup ("pw");
  g_assert_false (msgtk_account_get_secret (a, &pw, &tok, &error)); /* no user */
  g_assert_error (error, MSGTK_ERROR, MSGTK_ERROR_CONFIG);
  g_assert_cmpint (msgtk_error_get_hint (error), ==, MSGTK_ERROR_HINT_GIVE_USER);
  g_assert_null (pw);
  g_assert_null (tok);
  g_clear_error (&error);
  a->user = g_strdup ("me");
  g_assert_true (msgtk_account_get_secret (a, &pw, &tok, &error));
  g_assert_cmpstr (pw, ==, "pw");
  g_assert_null (tok);
  msgtk_secret_free (pw);
  a->token_command = g_strdup ("echo tok");
  g_assert_true (msgtk_account_get_secret (a, &pw, &tok, &error));
  g_assert_null (pw);
  g_assert_cmpstr (tok, ==, "tok");
  msgtk_secret_free (tok);
}

/* The tools' options over the config file for @protocol; secrets never
 * from argv. */
static MsgtkAccount *
resolve_for (const char *const *args, const char *protocol, GError **error)
{
  static CliAccountOptions o;
  memset (&o, 0, sizeof o);
  g_autoptr (GOptionContext) ctx = g_option_context_new (NULL);
  g_option_context_add_group (ctx, cli_account_option_group (&o, protocol));
  g_auto (GStrv) argv = g_strdupv ((char **)args);
  if (!g_option_context_parse_strv (ctx, &argv, error))
    return NULL;
  MsgtkAccount *a = cli_account_resolve (&o, "test-account", protocol, error);
  g_free (o.compress);
  g_free (o.account);
  g_free (o.config);
  g_free (o.host);
  g_free (o.tls);
  g_free (o.user);
  g_free (o.auth);
  g_free (o.trust_file);
  g_free (o.fingerprint);
  g_free (o.password_command);
  g_free (o.password_file);
  g_free (o.token_command);
  g_free (o.token_file);
  return a;
}

static MsgtkAccount *
resolve (const char *const *args, GError **error)
{
  return resolve_for (args, "smtp", error);
}

static void
test_cli_overrides (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = default_config (config_text);
  const char *const args[]
      = { "prog",  "--account", "work",   "--host", "other.example",   "--port",  "2525",
          "--tls", "none",      "--user", "u2",     "--password-file", "/run/pw", "--timeout",
          "7",     NULL };
  g_autoptr (MsgtkAccount) a = resolve (args, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (a->host, ==, "other.example");
  g_assert_cmpuint (a->port, ==, 2525);
  g_assert_cmpint (a->tls, ==, MSGTK_TLS_NONE);
  g_assert_cmpstr (a->user, ==, "u2");
  g_assert_cmpuint (a->timeout, ==, 7);
  g_assert_cmpstr (a->auth, ==, "PLAIN,LOGIN"); /* not overridden: from the account */
  /* a password source given as an option replaces the config's */
  g_assert_cmpstr (a->password_file, ==, "/run/pw");
  g_assert_null (a->password_command);

  /* the same for tokens */
  write_file (path, "[account t]\ntoken-command = get-token\n", 0600);
  const char *const targs[] = { "prog", "-a", "t", "--token-file", "/run/token", NULL };
  g_autoptr (MsgtkAccount) t = resolve (targs, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (t->token_file, ==, "/run/token");
  g_assert_null (t->token_command);

  const char *const bad_tls[] = { "prog", "--tls", "ssl", NULL };
  g_assert_null (resolve (bad_tls, &error));
  g_assert_error (error, MSGTK_ERROR, MSGTK_ERROR_USAGE);
  g_clear_error (&error);
  const char *const bad_port[] = { "prog", "--port", "70000", NULL };
  g_assert_null (resolve (bad_port, &error));
  g_assert_error (error, MSGTK_ERROR, MSGTK_ERROR_USAGE);
  g_clear_error (&error);
  const char *const with_password[] = { "prog", "--password", "hunter2", NULL };
  g_assert_null (resolve (with_password, &error));
  g_assert_error (error, G_OPTION_ERROR, G_OPTION_ERROR_UNKNOWN_OPTION);
  g_clear_error (&error);
  const char *const with_token[] = { "prog", "--token", "abc", NULL };
  g_assert_null (resolve (with_token, &error));
  g_assert_error (error, G_OPTION_ERROR, G_OPTION_ERROR_UNKNOWN_OPTION);
}

/* --compress is an IMAP option, over the config's compress key. */
static void
test_cli_compress (void)
{
  g_autoptr (GError) error = NULL;
  g_free (default_config ("[defaults]\nimap-compress = never\n"));
  const char *const none[] = { "prog", NULL };
  g_autoptr (MsgtkAccount) a = resolve_for (none, "imap", &error);
  g_assert_no_error (error);
  g_assert_cmpint (a->compress, ==, MSGTK_COMPRESS_NEVER);
  g_autoptr (MsgtkAccount) smtp = resolve_for (none, "smtp", &error);
  g_assert_no_error (error);
  g_assert_cmpint (smtp->compress, ==, MSGTK_COMPRESS_AUTO); /* an imap- key */
  const char *const always[] = { "prog", "--compress=always", NULL };
  g_autoptr (MsgtkAccount) b = resolve_for (always, "imap", &error);
  g_assert_no_error (error);
  g_assert_cmpint (b->compress, ==, MSGTK_COMPRESS_ALWAYS);
  g_assert_null (resolve_for (always, "smtp", &error));
  g_assert_error (error, G_OPTION_ERROR, G_OPTION_ERROR_UNKNOWN_OPTION);
  g_clear_error (&error);
  const char *const bad[] = { "prog", "--compress", "yes", NULL };
  g_assert_null (resolve_for (bad, "imap", &error));
  g_assert_error (error, MSGTK_ERROR, MSGTK_ERROR_USAGE);
  g_assert_nonnull (strstr (error->message, "auto, always or never"));
}

static void
test_compress_modes (void)
{
  MsgtkCompressMode m = MSGTK_COMPRESS_NEVER;
  g_assert_true (msgtk_compress_mode_from_string ("Always", &m));
  g_assert_cmpint (m, ==, MSGTK_COMPRESS_ALWAYS);
  g_assert_true (msgtk_compress_mode_from_string ("auto", &m));
  g_assert_cmpint (m, ==, MSGTK_COMPRESS_AUTO);
  g_assert_false (msgtk_compress_mode_from_string ("on", &m));
  g_assert_false (msgtk_compress_mode_from_string (NULL, &m));
  g_assert_cmpint (m, ==, MSGTK_COMPRESS_AUTO);
  g_assert_cmpstr (msgtk_compress_mode_to_string (MSGTK_COMPRESS_NEVER), ==, "never");
  g_assert_cmpstr (msgtk_compress_mode_to_string (MSGTK_COMPRESS_AUTO), ==, "auto");
  g_autoptr (MsgtkAccount) a = msgtk_account_new ();
  g_assert_cmpint (a->compress, ==, MSGTK_COMPRESS_AUTO);
}

static void
test_tls_modes (void)
{
  MsgtkTlsMode m = MSGTK_TLS_NONE;
  g_assert_true (msgtk_tls_mode_from_string ("STARTTLS", &m));
  g_assert_cmpint (m, ==, MSGTK_TLS_STARTTLS);
  g_assert_true (msgtk_tls_mode_from_string ("implicit", &m));
  g_assert_cmpint (m, ==, MSGTK_TLS_IMPLICIT);
  g_assert_true (msgtk_tls_mode_from_string ("none", &m));
  g_assert_cmpint (m, ==, MSGTK_TLS_NONE);
  g_assert_false (msgtk_tls_mode_from_string ("ssl", &m));
  g_assert_false (msgtk_tls_mode_from_string (NULL, &m));
  g_assert_cmpint (m, ==, MSGTK_TLS_NONE);
  g_assert_cmpstr (msgtk_tls_mode_to_string (MSGTK_TLS_IMPLICIT), ==, "implicit");
  g_assert_cmpstr (msgtk_tls_mode_to_string (MSGTK_TLS_STARTTLS), ==, "starttls");
  g_assert_cmpstr (msgtk_tls_mode_to_string (MSGTK_TLS_NONE), ==, "none");
  g_assert_true (msgtk_tls_mode_from_string ("TLS", &m));
  g_assert_cmpint (m, ==, MSGTK_TLS_IMPLICIT);
  g_assert_cmpstr (msgtk_tls_mode_to_string (MSGTK_TLS_IMPLICIT), ==, "implicit");
}

int
main (int argc, char **argv)
{
  /* Before anything asks GLib for (and makes it cache) these directories. */
  g_autofree char *root = g_dir_make_tmp ("msgtk-test-account-XXXXXX", NULL);
  g_autofree char *home = g_build_filename (root, "home", NULL);
  g_autofree char *config = g_build_filename (root, "config", NULL);
  g_mkdir (home, 0700);
  g_setenv ("HOME", home, TRUE);
  g_setenv ("XDG_CONFIG_HOME", config, TRUE);
  g_test_init (&argc, &argv, NULL);
  g_assert_cmpstr (g_get_home_dir (), ==, home);
  g_unsetenv ("MSGTK_PASSWORD");
  g_unsetenv ("MSGTK_TOKEN");
  g_unsetenv ("MSGTK_NETRC");
  g_test_add_func ("/account/config-accounts", test_config_accounts);
  g_test_add_func ("/account/config-missing", test_config_missing);
  g_test_add_func ("/account/config-errors", test_config_errors);
  g_test_add_func ("/account/config-password", test_config_password);
  g_test_add_func ("/account/password-sources", test_password_sources);
  g_test_add_func ("/account/netrc", test_netrc);
  g_test_add_func ("/account/token-sources", test_token_sources);
  g_test_add_func ("/account/secret", test_secret);
  g_test_add_func ("/account/cli-overrides", test_cli_overrides);
  g_test_add_func ("/account/cli-compress", test_cli_compress);
  g_test_add_func ("/account/tls-modes", test_tls_modes);
  g_test_add_func ("/account/compress-modes", test_compress_modes);
  int rc = g_test_run ();
  remove_tree (root);
  return rc;
}
