/* msgtk — SASL client exchanges over GNU SASL (libgsasl), protocol-neutral:
 * a MsgtkSasl takes base64 steps; inside the library, SMTP AUTH and IMAP
 * AUTHENTICATE run the one exchange loop over them (src/sasl-private.h),
 * which also checks the server's final message.
 * PLAIN, LOGIN, CRAM-MD5, SCRAM-SHA-1, SCRAM-SHA-256 come from libgsasl;
 * XOAUTH2 and OAUTHBEARER (RFC 7628), which the libgsasl shipped by Debian
 * lacks, are single-message bearer-token formats built here. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _MsgtkSasl MsgtkSasl;

/* The strongest mechanism that the server @offered (space-separated), the
 * account @allowed (space/comma separated, NULL = any) and we support.
 * Password mechanisms in order: SCRAM-SHA-256, SCRAM-SHA-1, CRAM-MD5, PLAIN,
 * LOGIN; with a token (@have_token): OAUTHBEARER, XOAUTH2. Returns a static
 * string, or NULL with MSGTK_ERROR_UNAVAILABLE saying what was offered. */
const char *msgtk_sasl_choose (const char *offered, const char *allowed, gboolean have_token,
                               GError **error);

/* Start a client exchange for @mechanism. @service is "smtp" or "imap". */
MsgtkSasl *msgtk_sasl_new (const char *mechanism, const char *user, const char *password,
                           const char *token, const char *service, const char *host,
                           GError **error);
void msgtk_sasl_free (MsgtkSasl *sasl);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MsgtkSasl, msgtk_sasl_free)

const char *msgtk_sasl_get_mechanism (MsgtkSasl *sasl);

/* Whether the client speaks first (an initial response to send with the
 * command when the protocol allows it: SASL-IR, RFC 4954). */
gboolean msgtk_sasl_client_first (MsgtkSasl *sasl);

/* One step: @challenge is the server's base64 text (NULL or "" for none).
 * *@response gets the base64 answer ("" for an empty one). *@done is set when
 * the mechanism has finished (for SCRAM: the server's signature verified). */
gboolean msgtk_sasl_step (MsgtkSasl *sasl, const char *challenge, char **response, gboolean *done,
                          GError **error);

G_END_DECLS
