/**
 * SECTION:msgtk-account
 * @title: Accounts
 * @short_description: where and how to connect, and where the secret comes
 *   from
 *
 * A config file ($XDG_CONFIG_HOME/msgtk/config, GKeyFile syntax) holds a
 * [defaults] group and named [account NAME] groups; see msgtk-config(5).
 * Secrets never come from the command line: a password command, a password
 * file (which must not be readable by group or others), the MSGTK_PASSWORD
 * environment variable, ~/.netrc, or a `password` key in a config file that
 * only its owner can read. OAuth2 bearer tokens come the same ways.
 */
#pragma once

#include <msgtk/connection.h>

G_BEGIN_DECLS

/**
 * MsgtkAccount:
 * @name: (nullable): the account name; %NULL for none
 * @host: (nullable): the server's host name
 * @port: the server's port; 0: the protocol's default for the TLS mode
 * @tls: the TLS mode (default %MSGTK_TLS_STARTTLS)
 * @user: (nullable): the user name to authenticate as
 * @auth: (nullable): the allowed SASL mechanisms, space or comma separated;
 *   %NULL: any
 * @from: (nullable): the envelope and header From for sending
 * @trust_file: (nullable): a PEM CA bundle to trust instead of the system
 *   store
 * @fingerprint: (nullable): the pinned SHA-256 of the server certificate
 * @tls_insecure: accept any certificate
 * @timeout: seconds for connecting and for each read or write; 0: 60
 * @allow_plaintext_auth: send credentials without TLS too
 * @password_command: (nullable): run with /bin/sh -c; the password is the
 *   first line of its output
 * @password_file: (nullable): a file private to its owner (no permissions
 *   for group or others); the password is its first line
 * @token_command: (nullable): as @password_command, for an OAuth2 bearer
 *   token
 * @token_file: (nullable): as @password_file, for an OAuth2 bearer token
 * @netrc: look in ~/.netrc (or the file $MSGTK_NETRC names); default %TRUE
 * @password: (nullable): from a private config file only, or kept by
 *   msgtk_account_cache_password(); zeroed on free
 * @config_path: (nullable): where the account was read from
 * @alert: (nullable): called with what a server says for the user's eyes
 *   (IMAP ALERT), from any thread; %NULL: dropped
 * @alert_data: (closure): for @alert
 * @compress: when an IMAP session compresses its connection (COMPRESS=DEFLATE);
 *   default %MSGTK_COMPRESS_AUTO
 *
 * Where and how to connect, and where the secret comes from. All strings
 * are owned by the account (g_free(), @password msgtk_secret_free()); make
 * it with msgtk_account_new(), free it with msgtk_account_free().
 */
typedef struct {
  char *name;
  char *host;
  guint16 port;
  MsgtkTlsMode tls;
  char *user;
  char *auth;
  char *from;
  char *trust_file;
  char *fingerprint;
  gboolean tls_insecure;
  guint timeout;
  gboolean allow_plaintext_auth;
  char *password_command;
  char *password_file;
  char *token_command;
  char *token_file;
  gboolean netrc;
  char *password;
  char *config_path;
  void (*alert) (const char *host, const char *text, gpointer data);
  gpointer alert_data;
  MsgtkCompressMode compress;
} MsgtkAccount;

/**
 * msgtk_account_new:
 *
 * A new account, to fill in or load with msgtk_account_load().
 *
 * Returns: (transfer full): an empty account: STARTTLS, netrc on.
 */
MsgtkAccount *msgtk_account_new (void);

/**
 * msgtk_account_free:
 * @account: (nullable) (transfer full): an account
 *
 * Frees @account and its strings, zeroing the password.
 */
void msgtk_account_free (MsgtkAccount *account);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MsgtkAccount, msgtk_account_free)

/**
 * msgtk_account_default_config_path:
 *
 * Where the config file is by default.
 *
 * Returns: (transfer full): the default config file path,
 *   $XDG_CONFIG_HOME/msgtk/config.
 */
char *msgtk_account_default_config_path (void);

/**
 * msgtk_account_load:
 * @account: the account to fill in
 * @path: (nullable): the config file; %NULL: the default path, which may be
 *   missing unless @name is given
 * @name: (nullable): the account to read after [defaults]; %NULL: only
 *   [defaults]
 * @protocol: (nullable): "smtp" or "imap": selects protocol-specific keys
 *   (smtp-host, imap-port, …) over the generic ones
 * @error: return location for an error
 *
 * Reads [defaults] and, when @name is given, [account NAME] from @path into
 * @account (what a group sets replaces what @account held). msgtk-config(5)
 * lists the keys.
 *
 * Returns: %FALSE with %MSGTK_ERROR_CONFIG when the file cannot be read or
 *   parsed, has no [account NAME], has an unknown key or a value that is
 *   not valid (port, timeout, tls, a boolean), or holds a password but has
 *   permissions for group or others.
 */
gboolean msgtk_account_load (MsgtkAccount *account, const char *path, const char *name,
                             const char *protocol, GError **error);

/**
 * msgtk_account_get_password:
 * @account: an account
 * @error: return location for an error
 *
 * The password: from the password command, the password file, the config
 * `password`, $MSGTK_PASSWORD or ~/.netrc (machine host, login user; it
 * sets @user when that is %NULL) — the first that is set.
 *
 * Returns: (transfer full) (nullable): the password, to be freed with
 *   msgtk_secret_free(); %NULL without error when there is none, or with
 *   %MSGTK_ERROR_CONFIG when the command fails or prints nothing, or a file
 *   cannot be read, is empty or has permissions for group or others.
 */
char *msgtk_account_get_password (MsgtkAccount *account, GError **error);

/**
 * msgtk_account_get_token:
 * @account: an account
 * @error: return location for an error
 *
 * The OAuth2 bearer token: from the token command, the token file or
 * $MSGTK_TOKEN — the first that is set.
 *
 * Returns: (transfer full) (nullable): the token, to be freed with
 *   msgtk_secret_free(); %NULL without error when there is none, or with
 *   %MSGTK_ERROR_CONFIG as msgtk_account_get_password() has it.
 */
char *msgtk_account_get_token (MsgtkAccount *account, GError **error);

/**
 * msgtk_account_get_secret:
 * @account: an account
 * @password: (out) (transfer full) (nullable): the password, when there is
 *   no token
 * @token: (out) (transfer full) (nullable): the OAuth2 token, when one is set
 * @error: return location for an error
 *
 * The secret to authenticate with: the OAuth2 token when one is set, else
 * the password; the other stays %NULL. Free both with msgtk_secret_free().
 *
 * Returns: %FALSE (both %NULL) with %MSGTK_ERROR_CONFIG when there is
 *   neither (hint %MSGTK_ERROR_HINT_GIVE_PASSWORD), when the account has no
 *   user (hint %MSGTK_ERROR_HINT_GIVE_USER), or as
 *   msgtk_account_get_password() fails.
 */
gboolean msgtk_account_get_secret (MsgtkAccount *account, char **password, char **token,
                                   GError **error);

/**
 * msgtk_account_cache_password:
 * @account: an account
 * @error: return location for an error
 *
 * Fetches the password now (a password command runs once) and keeps it in
 * the @password of @account for every connection made with it (the command and
 * file are then dropped); nothing to do for a token or an account without
 * credentials.
 *
 * Returns: %FALSE with the errors of msgtk_account_get_password().
 */
gboolean msgtk_account_cache_password (MsgtkAccount *account, GError **error);

/**
 * msgtk_account_has_credentials:
 * @account: an account
 *
 * Whether the account has any credentials configured (then TLS is
 * required): a user, a password or token source, $MSGTK_PASSWORD or
 * $MSGTK_TOKEN, or a netrc entry for the host (or a netrc file that cannot
 * be used, which msgtk_account_get_password() then reports).
 *
 * Returns: whether it has.
 */
gboolean msgtk_account_has_credentials (MsgtkAccount *account);

/**
 * msgtk_netrc_lookup:
 * @path: (nullable): the netrc file; %NULL: ~/.netrc
 * @host: the machine to look up
 * @login: (inout) (transfer full): the login to match, or a pointer to
 *   %NULL for any: then set to the entry's login, if it has one
 * @error: return location for an error
 *
 * Looks up @host (and *@login if not %NULL) in the netrc file @path; a
 * "default" entry matches any host.
 *
 * Returns: (transfer full) (nullable): the password, to be freed with
 *   msgtk_secret_free(); %NULL when the file is missing or unreadable or has
 *   no matching entry, or with %MSGTK_ERROR_CONFIG when it has permissions
 *   for group or others.
 */
char *msgtk_netrc_lookup (const char *path, const char *host, char **login, GError **error);

/**
 * msgtk_secret_free:
 * @secret: (nullable) (transfer full): a secret
 *
 * Zeroes and frees a secret.
 */
void msgtk_secret_free (char *secret);

/**
 * msgtk_account_connection_config:
 * @account: an account
 * @config: (out caller-allocates): the config to fill in: host, port, TLS
 *   mode, trust file, fingerprint, insecure and timeout (the rest is left
 *   as it was)
 *
 * Fills a connection config from @account; its strings stay owned by
 * @account.
 */
void msgtk_account_connection_config (MsgtkAccount *account, MsgtkConnectionConfig *config);

G_END_DECLS
