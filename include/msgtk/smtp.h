/* msgtk — an SMTP/ESMTP client session (RFC 5321) for message submission:
 * the greeting, EHLO/HELO and the extensions it lists, STARTTLS (RFC 3207),
 * AUTH (RFC 4954), QUIT. Mail transactions over a session are
 * smtp-transaction.h's. */
#pragma once

#include <msgtk/account.h>
#include <stdio.h>

G_BEGIN_DECLS

typedef struct _MsgtkSmtp MsgtkSmtp;

/* Connect as @account says (port default: 587 STARTTLS, 465 implicit, 25
 * none), read the greeting, EHLO as @helo (NULL: the local host name; HELO
 * if EHLO is refused), and STARTTLS + EHLO again in STARTTLS mode. STARTTLS
 * not offered in that mode is an error before anything else is sent.
 * @trace (nullable) gets the dialogue with secrets redacted. */
MsgtkSmtp *msgtk_smtp_connect (MsgtkAccount *account, const char *helo, FILE *trace,
                               GError **error);

/* AUTH with the strongest mechanism offered and allowed. Does nothing when
 * the account has no credentials. Refuses (MSGTK_ERROR_NO_PERM) to send
 * credentials without TLS unless the account says allow-plaintext-auth. */
gboolean msgtk_smtp_authenticate (MsgtkSmtp *smtp, MsgtkAccount *account, GError **error);

/* Whether the server advertised the EHLO keyword @ext (case-insensitive). */
gboolean msgtk_smtp_has_extension (MsgtkSmtp *smtp, const char *ext);
/* The SIZE limit the server advertised; 0 if none. */
guint64 msgtk_smtp_get_size_limit (MsgtkSmtp *smtp);
/* The mechanism used by msgtk_smtp_authenticate(), or NULL. */
const char *msgtk_smtp_get_auth_mechanism (MsgtkSmtp *smtp);

gboolean msgtk_smtp_is_usable (MsgtkSmtp *smtp);

/* QUIT (errors ignored; a deferred final reply is still read and reported)
 * and free. Freeing without QUIT reports a deferred message as not
 * confirmed. */
void msgtk_smtp_quit (MsgtkSmtp *smtp);
void msgtk_smtp_free (MsgtkSmtp *smtp);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MsgtkSmtp, msgtk_smtp_free)

/* The MsgtkError for an SMTP reply code in the context of @command
 * ("MAIL", "RCPT", "DATA", "AUTH", …). */
int msgtk_smtp_reply_error (int code, const char *command);

G_END_DECLS
