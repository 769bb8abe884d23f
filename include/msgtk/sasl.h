/**
 * SECTION:msgtk-sasl
 * @title: SASL
 * @short_description: SASL client exchanges over GNU SASL (libgsasl),
 *   protocol-neutral
 *
 * A #MsgtkSasl takes base64 steps; inside the library, SMTP AUTH and IMAP
 * AUTHENTICATE run the one exchange loop over them (src/sasl-private.h),
 * which also checks the server's final message.
 * PLAIN, LOGIN, CRAM-MD5, SCRAM-SHA-1, SCRAM-SHA-256 come from libgsasl;
 * XOAUTH2 and OAUTHBEARER (RFC 7628), which the libgsasl shipped by Debian
 * lacks, are single-message bearer-token formats built here.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/**
 * MsgtkSasl:
 *
 * One client side of a SASL exchange. Opaque; made with msgtk_sasl_new(),
 * freed with msgtk_sasl_free().
 */
typedef struct _MsgtkSasl MsgtkSasl;

/**
 * msgtk_sasl_choose:
 * @offered: (nullable): the mechanisms the server offers, space separated
 * @allowed: (nullable): the mechanisms the account allows, space or comma
 *   separated; %NULL: any
 * @have_token: whether the secret is an OAuth2 token (else a password)
 * @error: return location for an error
 *
 * The strongest mechanism that the server offers, the account allows and
 * msgtk supports (names compared in any case). Password mechanisms in
 * order: SCRAM-SHA-256, SCRAM-SHA-1, CRAM-MD5, PLAIN, LOGIN; with a token:
 * OAUTHBEARER, XOAUTH2.
 *
 * Returns: (transfer none): the mechanism, a static string; or %NULL with
 *   %MSGTK_ERROR_UNAVAILABLE saying what was offered (and allowed).
 */
const char *msgtk_sasl_choose (const char *offered, const char *allowed, gboolean have_token,
                               GError **error);

/**
 * msgtk_sasl_new:
 * @mechanism: the mechanism, in any case
 * @user: (nullable): the user name to authenticate as
 * @password: (nullable): the password, for the password mechanisms
 * @token: (nullable): the OAuth2 token, for OAUTHBEARER and XOAUTH2
 * @service: (nullable): the service name: "smtp" or "imap"; %NULL: "smtp"
 * @host: (nullable): the server's host name; %NULL: "localhost" (in
 *   messages)
 * @error: return location for an error
 *
 * Starts a client exchange for @mechanism.
 *
 * Returns: (transfer full): the exchange, or %NULL with %MSGTK_ERROR_CONFIG
 *   when a token mechanism has no token (hint %MSGTK_ERROR_HINT_GIVE_TOKEN)
 *   or no user (hint %MSGTK_ERROR_HINT_GIVE_USER), or with
 *   %MSGTK_ERROR_UNAVAILABLE when libgsasl cannot start @mechanism.
 */
MsgtkSasl *msgtk_sasl_new (const char *mechanism, const char *user, const char *password,
                           const char *token, const char *service, const char *host,
                           GError **error);

/**
 * msgtk_sasl_free:
 * @sasl: (nullable) (transfer full): an exchange
 *
 * Frees @sasl, zeroing the token message it held.
 */
void msgtk_sasl_free (MsgtkSasl *sasl);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MsgtkSasl, msgtk_sasl_free)

/**
 * msgtk_sasl_get_mechanism:
 * @sasl: an exchange
 *
 * The mechanism of an exchange.
 *
 * Returns: (transfer none): its mechanism, in upper case.
 */
const char *msgtk_sasl_get_mechanism (MsgtkSasl *sasl);

/**
 * msgtk_sasl_client_first:
 * @sasl: an exchange
 *
 * Whether the client speaks first: an initial response to send with the
 * command when the protocol allows it (SASL-IR, RFC 4954). Every mechanism
 * but CRAM-MD5 and LOGIN does.
 *
 * Returns: whether it does.
 */
gboolean msgtk_sasl_client_first (MsgtkSasl *sasl);

/**
 * msgtk_sasl_step:
 * @sasl: an exchange
 * @challenge: (nullable): the server's base64 text; %NULL or "" for none
 * @response: (out) (transfer full): the base64 answer ("" for an empty one);
 *   a secret (free it with msgtk_secret_free())
 * @done: (out): set when the mechanism has finished (for SCRAM: the
 *   server's signature verified)
 * @error: return location for an error
 *
 * One step of the exchange.
 *
 * Returns: %FALSE with %MSGTK_ERROR_NO_PERM when the mechanism refuses the
 *   challenge (for SCRAM: a wrong server signature, or the server's error,
 *   hint %MSGTK_ERROR_HINT_CHECK_CREDENTIALS).
 */
gboolean msgtk_sasl_step (MsgtkSasl *sasl, const char *challenge, char **response, gboolean *done,
                          GError **error);

G_END_DECLS
