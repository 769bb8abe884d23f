/* msgtk — accounts: where and how to connect, and where the secret comes from.
 *
 * A config file ($XDG_CONFIG_HOME/msgtk/config, GKeyFile syntax) holds a
 * [defaults] group and named [account NAME] groups; see msgtk-config(5).
 * Secrets never come from the command line: a password command, a password
 * file (which must not be readable by group or others), the MSGTK_PASSWORD
 * environment variable, ~/.netrc, or a `password` key in a config file that
 * only its owner can read. OAuth2 bearer tokens come the same ways. */
#pragma once

#include <msgtk/connection.h>

G_BEGIN_DECLS

typedef struct {
  char *name; /* account name, NULL for none */
  char *host;
  guint16 port; /* 0: the protocol's default for the TLS mode */
  MsgtkTlsMode tls;
  char *user;
  char *auth; /* allowed SASL mechanisms, space/comma separated; NULL: any */
  char *from; /* envelope/header From for sending */
  char *trust_file;
  char *fingerprint;
  gboolean tls_insecure;
  guint timeout; /* seconds; 0: 60 */
  gboolean allow_plaintext_auth;
  char *password_command; /* run with /bin/sh -c; first line of stdout */
  char *password_file;
  char *token_command; /* OAuth2 bearer token */
  char *token_file;
  gboolean netrc;    /* look in ~/.netrc (default TRUE) */
  char *password;    /* from a private config file only; cleared on free */
  char *config_path; /* where the account was read from */
  /* what a server says for the user's eyes (IMAP ALERT), from any thread;
   * NULL: dropped */
  void (*alert) (const char *host, const char *text, gpointer data);
  gpointer alert_data;
} MsgtkAccount;

MsgtkAccount *msgtk_account_new (void);
void msgtk_account_free (MsgtkAccount *account);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MsgtkAccount, msgtk_account_free)

/* $XDG_CONFIG_HOME/msgtk/config (newly allocated). */
char *msgtk_account_default_config_path (void);

/* Read [defaults] and, when @name is given, [account NAME] from @path (NULL:
 * the default path, which may be missing unless @name is given) into
 * @account. @protocol ("smtp" or "imap") selects protocol-specific keys
 * (smtp-host, imap-port, …) over the generic ones. */
gboolean msgtk_account_load (MsgtkAccount *account, const char *path, const char *name,
                             const char *protocol, GError **error);

/* The password: password command, password file, config `password`,
 * MSGTK_PASSWORD, ~/.netrc (machine host, login user) — the first that is
 * set. NULL without error when there is none. Free with msgtk_secret_free(). */
char *msgtk_account_get_password (MsgtkAccount *account, GError **error);

/* The OAuth2 bearer token: token command, token file, MSGTK_TOKEN. */
char *msgtk_account_get_token (MsgtkAccount *account, GError **error);

/* The secret to authenticate with: the OAuth2 token when one is set (into
 * *@token), else the password (into *@password); the other stays NULL. FALSE
 * with MSGTK_ERROR_CONFIG when there is neither or when the account has no
 * user. Free both with msgtk_secret_free(). */
gboolean msgtk_account_get_secret (MsgtkAccount *account, char **password, char **token,
                                   GError **error);

/* Fetch the password now (a password command runs once) and keep it in
 * @account for every connection made with it; nothing to do for a token or
 * an account without credentials. */
gboolean msgtk_account_cache_password (MsgtkAccount *account, GError **error);

/* Whether the account has any credentials configured (then TLS is required). */
gboolean msgtk_account_has_credentials (MsgtkAccount *account);

/* Look up @host (and @login if not NULL) in the netrc file @path (NULL:
 * ~/.netrc). Sets *login (if it was NULL) and returns the password, or NULL. */
char *msgtk_netrc_lookup (const char *path, const char *host, char **login, GError **error);

/* Zero and free a secret. */
void msgtk_secret_free (char *secret);

/* Fill a connection config from @account (strings stay owned by @account). */
void msgtk_account_connection_config (MsgtkAccount *account, MsgtkConnectionConfig *config);

G_END_DECLS
