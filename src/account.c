/* msgtk — accounts and secrets. */
#include <msgtk/account.h>
#include <msgtk/error.h>

#include "error-private.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

MsgtkAccount *
msgtk_account_new (void)
{
  MsgtkAccount *a = g_new0 (MsgtkAccount, 1);
  a->tls = MSGTK_TLS_STARTTLS;
  a->netrc = TRUE;
  return a;
}

void
msgtk_secret_free (char *secret)
{
  if (secret) {
    memset (secret, 0, strlen (secret));
    g_free (secret);
  }
}

void
msgtk_account_free (MsgtkAccount *a)
{
  if (a == NULL)
    return;
  g_free (a->name);
  g_free (a->host);
  g_free (a->user);
  g_free (a->auth);
  g_free (a->from);
  g_free (a->trust_file);
  g_free (a->fingerprint);
  g_free (a->password_command);
  g_free (a->password_file);
  g_free (a->token_command);
  g_free (a->token_file);
  msgtk_secret_free (a->password);
  g_free (a->config_path);
  g_free (a);
}

char *
msgtk_account_default_config_path (void)
{
  return g_build_filename (g_get_user_config_dir (), "msgtk", "config", NULL);
}

/* Only the owner may read a file that holds a secret. */
static gboolean
check_private (const char *path, const char *what, GError **error)
{
  struct stat st;
  if (stat (path, &st) != 0) {
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_CONFIG, "cannot read %s %s: %s", what, path,
                 g_strerror (errno));
    return FALSE;
  }
  if (st.st_mode & (S_IRWXG | S_IRWXO)) {
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_CONFIG,
                 "%s %s holds a secret but is readable by others (mode %03o): run chmod 600 %s",
                 what, path, (unsigned)(st.st_mode & 0777), path);
    return FALSE;
  }
  return TRUE;
}

static char *
get_key (GKeyFile *kf, const char *group, const char *protocol, const char *key)
{
  g_autofree char *pkey = g_strdup_printf ("%s-%s", protocol ? protocol : "", key);
  if (protocol && g_key_file_has_key (kf, group, pkey, NULL))
    return g_key_file_get_string (kf, group, pkey, NULL);
  if (g_key_file_has_key (kf, group, key, NULL))
    return g_key_file_get_string (kf, group, key, NULL);
  return NULL;
}

static gboolean
parse_bool (const char *v, gboolean *out)
{
  if (!g_ascii_strcasecmp (v, "true") || !g_ascii_strcasecmp (v, "yes") || !strcmp (v, "1")
      || !g_ascii_strcasecmp (v, "on"))
    *out = TRUE;
  else if (!g_ascii_strcasecmp (v, "false") || !g_ascii_strcasecmp (v, "no") || !strcmp (v, "0")
           || !g_ascii_strcasecmp (v, "off"))
    *out = FALSE;
  else
    return FALSE;
  return TRUE;
}

static const char *const known_keys[] = { "host",
                                          "port",
                                          "tls",
                                          "user",
                                          "auth",
                                          "from",
                                          "tls-trust-file",
                                          "tls-fingerprint",
                                          "tls-insecure",
                                          "timeout",
                                          "allow-plaintext-auth",
                                          "password-command",
                                          "password-file",
                                          "token-command",
                                          "token-file",
                                          "netrc",
                                          "password",
                                          "compress",
                                          NULL };

static gboolean
known_key (const char *key)
{
  const char *k = key;
  if (g_str_has_prefix (k, "smtp-"))
    k += 5;
  else if (g_str_has_prefix (k, "imap-"))
    k += 5;
  return g_strv_contains (known_keys, k);
}

static gboolean
apply_group (MsgtkAccount *a, GKeyFile *kf, const char *group, const char *protocol,
             const char *path, GError **error)
{
  g_auto (GStrv) keys = g_key_file_get_keys (kf, group, NULL, NULL);
  for (guint i = 0; keys && keys[i]; i++)
    if (!known_key (keys[i])) {
      g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_CONFIG, "%s: [%s]: unknown key '%s'", path,
                   group, keys[i]);
      return FALSE;
    }
#define STR(field, key)                                                                            \
  do {                                                                                             \
    char *v_ = get_key (kf, group, protocol, key);                                                 \
    if (v_) {                                                                                      \
      g_free (a->field);                                                                           \
      a->field = v_;                                                                               \
    }                                                                                              \
  } while (0)
  STR (host, "host");
  STR (user, "user");
  STR (auth, "auth");
  STR (from, "from");
  STR (trust_file, "tls-trust-file");
  STR (fingerprint, "tls-fingerprint");
  STR (password_command, "password-command");
  STR (password_file, "password-file");
  STR (token_command, "token-command");
  STR (token_file, "token-file");
#undef STR
  g_autofree char *port = get_key (kf, group, protocol, "port");
  if (port) {
    guint64 p;
    if (!g_ascii_string_to_unsigned (port, 10, 1, 65535, &p, NULL)) {
      g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_CONFIG, "%s: [%s]: port '%s' is not 1-65535",
                   path, group, port);
      return FALSE;
    }
    a->port = (guint16)p;
  }
  g_autofree char *timeout = get_key (kf, group, protocol, "timeout");
  if (timeout) {
    guint64 t;
    if (!g_ascii_string_to_unsigned (timeout, 10, 1, 3600, &t, NULL)) {
      g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_CONFIG,
                   "%s: [%s]: timeout '%s' is not 1-3600 seconds", path, group, timeout);
      return FALSE;
    }
    a->timeout = (guint)t;
  }
  g_autofree char *tls = get_key (kf, group, protocol, "tls");
  if (tls && !msgtk_tls_mode_from_string (tls, &a->tls)) {
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_CONFIG,
                 "%s: [%s]: tls '%s' is not starttls, implicit or none", path, group, tls);
    return FALSE;
  }
  g_autofree char *compress = get_key (kf, group, protocol, "compress");
  if (compress && !msgtk_compress_mode_from_string (compress, &a->compress)) {
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_CONFIG,
                 "%s: [%s]: compress '%s' is not auto, always or never", path, group, compress);
    return FALSE;
  }
  struct {
    const char *key;
    gboolean *field;
  } bools[] = { { "tls-insecure", &a->tls_insecure },
                { "allow-plaintext-auth", &a->allow_plaintext_auth },
                { "netrc", &a->netrc } };
  for (guint i = 0; i < G_N_ELEMENTS (bools); i++) {
    g_autofree char *v = get_key (kf, group, protocol, bools[i].key);
    if (v && !parse_bool (v, bools[i].field)) {
      g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_CONFIG, "%s: [%s]: %s '%s' is not true/false",
                   path, group, bools[i].key, v);
      return FALSE;
    }
  }
  char *pw = get_key (kf, group, protocol, "password");
  if (pw) {
    if (!check_private (path, "config file", error)) {
      msgtk_secret_free (pw);
      return FALSE;
    }
    msgtk_secret_free (a->password);
    a->password = pw;
  }
  return TRUE;
}

gboolean
msgtk_account_load (MsgtkAccount *a, const char *path, const char *name, const char *protocol,
                    GError **error)
{
  g_autofree char *def = path ? NULL : msgtk_account_default_config_path ();
  const char *p = path ? path : def;
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autoptr (GError) local = NULL;
  if (!g_key_file_load_from_file (kf, p, G_KEY_FILE_NONE, &local)) {
    if (g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_NOENT) && !path && !name)
      return TRUE;
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_CONFIG, "cannot read config file %s: %s", p,
                 local->message);
    return FALSE;
  }
  g_free (a->config_path);
  a->config_path = g_strdup (p);
  if (g_key_file_has_group (kf, "defaults") && !apply_group (a, kf, "defaults", protocol, p, error))
    return FALSE;
  if (name) {
    g_autofree char *group = g_strdup_printf ("account %s", name);
    if (!g_key_file_has_group (kf, group)) {
      g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_CONFIG, "%s has no [account %s]", p, name);
      return FALSE;
    }
    if (!apply_group (a, kf, group, protocol, p, error))
      return FALSE;
    g_free (a->name);
    a->name = g_strdup (name);
  }
  return TRUE;
}

static char *
first_line (char *text)
{
  char *nl = strpbrk (text, "\r\n");
  if (nl)
    *nl = '\0';
  return text;
}

static char *
secret_from_command (const char *command, const char *what, GError **error)
{
  char *out = NULL;
  g_autofree char *err = NULL;
  int status = 0;
  g_autoptr (GError) local = NULL;
  const char *argv[] = { "/bin/sh", "-c", command, NULL };
  /* the command gets our environment but the secrets in it */
  g_auto (GStrv) env = g_get_environ ();
  env = g_environ_unsetenv (env, "MSGTK_PASSWORD");
  env = g_environ_unsetenv (env, "MSGTK_TOKEN");
  if (!g_spawn_sync (NULL, (char **)argv, env, G_SPAWN_DEFAULT, NULL, NULL, &out, &err, &status,
                     &local)) {
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_CONFIG, "cannot run the %s command: %s", what,
                 local->message);
    return NULL;
  }
  if (!g_spawn_check_wait_status (status, NULL)) {
    msgtk_secret_free (out);
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_CONFIG,
                 "the %s command failed (exit status %d): %s", what,
                 WIFEXITED (status) ? WEXITSTATUS (status) : -1, err ? g_strstrip (err) : "");
    return NULL;
  }
  first_line (out);
  if (*out == '\0') {
    msgtk_secret_free (out);
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_CONFIG, "the %s command printed nothing", what);
    return NULL;
  }
  return out;
}

static char *
secret_from_file (const char *path, const char *what, GError **error)
{
  char *text = NULL;
  g_autoptr (GError) local = NULL;
  if (!check_private (path, what, error))
    return NULL;
  if (!g_file_get_contents (path, &text, NULL, &local)) {
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_CONFIG, "cannot read %s %s: %s", what, path,
                 local->message);
    return NULL;
  }
  first_line (text);
  if (*text == '\0') {
    g_free (text);
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_CONFIG,
                 "%s %s is empty (the secret is its first line)", what, path);
    return NULL;
  }
  return text;
}

char *
msgtk_netrc_lookup (const char *path, const char *host, char **login, GError **error)
{
  g_autofree char *def = path ? NULL : g_build_filename (g_get_home_dir (), ".netrc", NULL);
  const char *p = path ? path : def;
  if (!g_file_test (p, G_FILE_TEST_EXISTS))
    return NULL;
  if (!check_private (p, "netrc file", error))
    return NULL;
  g_autofree char *text = NULL;
  if (!g_file_get_contents (p, &text, NULL, NULL))
    return NULL;
  g_auto (GStrv) tok = g_regex_split_simple ("\\s+", text, 0, 0);
  char *result = NULL;
  gboolean in_match = FALSE, in_default = FALSE;
  char *mlogin = NULL, *mpass = NULL;
  for (guint i = 0; tok[i]; i++) {
    const char *t = tok[i];
    if (!*t)
      continue;
    gboolean entry_start = !strcmp (t, "machine") || !strcmp (t, "default");
    if (entry_start) {
      if ((in_match || in_default) && mpass && (*login == NULL || !g_strcmp0 (mlogin, *login)))
        break;
      g_clear_pointer (&mlogin, g_free);
      g_clear_pointer (&mpass, msgtk_secret_free);
      in_default = !strcmp (t, "default");
      in_match = !in_default && tok[i + 1] && !g_ascii_strcasecmp (tok[i + 1], host);
      if (!in_default && tok[i + 1])
        i++;
    } else if (!strcmp (t, "login") && tok[i + 1]) {
      g_free (mlogin);
      mlogin = g_strdup (tok[++i]);
    } else if (!strcmp (t, "password") && tok[i + 1]) {
      msgtk_secret_free (mpass);
      mpass = g_strdup (tok[++i]);
    }
  }
  if ((in_match || in_default) && mpass && (*login == NULL || !g_strcmp0 (mlogin, *login))) {
    result = mpass;
    mpass = NULL;
    if (*login == NULL && mlogin)
      *login = g_strdup (mlogin);
  }
  g_free (mlogin);
  msgtk_secret_free (mpass);
  for (guint i = 0; tok[i]; i++)
    memset (tok[i], 0, strlen (tok[i]));
  memset (text, 0, strlen (text));
  return result;
}

char *
msgtk_account_get_password (MsgtkAccount *a, GError **error)
{
  if (a->password_command)
    return secret_from_command (a->password_command, "password", error);
  if (a->password_file)
    return secret_from_file (a->password_file, "password file", error);
  if (a->password)
    return g_strdup (a->password);
  const char *env = g_getenv ("MSGTK_PASSWORD");
  if (env && *env)
    return g_strdup (env);
  if (a->netrc && a->host)
    return msgtk_netrc_lookup (g_getenv ("MSGTK_NETRC"), a->host, &a->user, error);
  return NULL;
}

char *
msgtk_account_get_token (MsgtkAccount *a, GError **error)
{
  if (a->token_command)
    return secret_from_command (a->token_command, "token", error);
  if (a->token_file)
    return secret_from_file (a->token_file, "token file", error);
  const char *env = g_getenv ("MSGTK_TOKEN");
  if (env && *env)
    return g_strdup (env);
  return NULL;
}

static gboolean
env_set (const char *name)
{
  const char *v = g_getenv (name);
  return v && *v;
}

gboolean
msgtk_account_get_secret (MsgtkAccount *a, char **password, char **token, GError **error)
{
  g_autoptr (GError) local = NULL;
  *password = NULL;
  *token = msgtk_account_get_token (a, &local);
  if (local) {
    g_propagate_error (error, g_steal_pointer (&local));
    return FALSE;
  }
  if (*token == NULL) {
    *password = msgtk_account_get_password (a, &local);
    if (*password == NULL) {
      if (local)
        g_propagate_error (error, g_steal_pointer (&local));
      else
        error_set_hint (error, MSGTK_ERROR_HINT_GIVE_PASSWORD, MSGTK_ERROR_CONFIG,
                        "no password for %s", a->user ? a->user : "the account");
      return FALSE;
    }
  }
  if (a->user == NULL) {
    g_clear_pointer (password, msgtk_secret_free);
    g_clear_pointer (token, msgtk_secret_free);
    error_set_hint (error, MSGTK_ERROR_HINT_GIVE_USER, MSGTK_ERROR_CONFIG,
                    "a password is set but no user name");
    return FALSE;
  }
  return TRUE;
}

gboolean
msgtk_account_has_credentials (MsgtkAccount *a)
{
  if (a->user != NULL || a->password_command || a->password_file || a->password || a->token_command
      || a->token_file || env_set ("MSGTK_PASSWORD") || env_set ("MSGTK_TOKEN"))
    return TRUE;
  if (!a->netrc || a->host == NULL)
    return FALSE;
  /* A netrc entry for the host counts, and so does an unusable netrc file:
   * msgtk_account_get_password() then reports why. */
  g_autoptr (GError) error = NULL;
  char *login = NULL;
  char *pw = msgtk_netrc_lookup (g_getenv ("MSGTK_NETRC"), a->host, &login, &error);
  gboolean found = pw != NULL || error != NULL;
  msgtk_secret_free (pw);
  g_free (login);
  return found;
}

void
msgtk_account_connection_config (MsgtkAccount *a, MsgtkConnectionConfig *c)
{
  c->host = a->host;
  c->port = a->port;
  c->tls = a->tls;
  c->trust_file = a->trust_file;
  c->fingerprint = a->fingerprint;
  c->tls_insecure = a->tls_insecure;
  c->timeout = a->timeout;
}

gboolean
msgtk_account_cache_password (MsgtkAccount *a, GError **error)
{
  if (!msgtk_account_has_credentials (a) || a->token_command || a->token_file
      || g_getenv ("MSGTK_TOKEN"))
    return TRUE;
  GError *local = NULL;
  char *password = msgtk_account_get_password (a, &local);
  if (local != NULL) {
    g_propagate_error (error, local);
    return FALSE;
  }
  if (password != NULL) {
    g_clear_pointer (&a->password_command, g_free);
    g_clear_pointer (&a->password_file, g_free);
    msgtk_secret_free (a->password);
    a->password = password;
  }
  return TRUE;
}
