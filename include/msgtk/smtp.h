/**
 * SECTION:msgtk-smtp
 * @title: SMTP
 * @short_description: an SMTP/ESMTP client session (RFC 5321) for message
 *   submission
 *
 * The session: the greeting, EHLO/HELO and the extensions it lists,
 * STARTTLS (RFC 3207), AUTH (RFC 4954) through the sasl module, QUIT. Mail
 * transactions over a session are smtp-transaction.h's.
 */
#pragma once

#include <msgtk/account.h>
#include <msgtk/error.h>
#include <stdio.h>

G_BEGIN_DECLS

/**
 * MsgtkSmtp:
 *
 * A session with an SMTP server. Opaque; made with msgtk_smtp_connect(),
 * ended with msgtk_smtp_quit() or msgtk_smtp_free().
 */
typedef struct _MsgtkSmtp MsgtkSmtp;

/**
 * msgtk_smtp_check_helo:
 * @name: a name to EHLO as
 * @error: return location for an error
 *
 * Whether @name is one EHLO may carry (RFC 5321 4.1.1.1): a domain (letters,
 * digits, hyphens and dots, at most 255 characters) or an address literal
 * in brackets, never a space or a control character. msgtk_smtp_connect()
 * refuses, before connecting, a name that is not.
 *
 * Returns: %TRUE if it is; else %FALSE with %MSGTK_ERROR_USAGE.
 */
gboolean msgtk_smtp_check_helo (const char *name, GError **error);

/**
 * msgtk_smtp_connect:
 * @account: the server and how to reach it (port default: 587 with STARTTLS,
 *   465 with implicit TLS, 25 with none)
 * @helo: (nullable): the name to EHLO as; %NULL: the local host name
 * @trace: (nullable): where the dialogue goes, secrets redacted
 * @error: return location for an error
 *
 * Connects as @account says, reads the greeting, sends EHLO (HELO if EHLO
 * is refused), and in STARTTLS mode STARTTLS and EHLO again. STARTTLS not
 * offered in that mode is an error before anything else is sent.
 *
 * Returns: (transfer full): the session, or %NULL with %MSGTK_ERROR_USAGE
 *   (hint %MSGTK_ERROR_HINT_NO_HOST_GIVEN) when the account names no host;
 *   with the errors of msgtk_connection_open() and
 *   msgtk_connection_starttls(); with %MSGTK_ERROR_TEMP_FAIL or
 *   %MSGTK_ERROR_UNAVAILABLE when the greeting is not 220 (4xx, 5xx); with
 *   %MSGTK_ERROR_UNAVAILABLE (hint %MSGTK_ERROR_HINT_STARTTLS_NOT_OFFERED)
 *   when STARTTLS is required but not offered; with the error of
 *   msgtk_smtp_reply_error() when EHLO and HELO, or STARTTLS, are refused;
 *   or with %MSGTK_ERROR_PROTOCOL for a malformed reply.
 */
MsgtkSmtp *msgtk_smtp_connect (MsgtkAccount *account, const char *helo, FILE *trace,
                               GError **error);

/**
 * msgtk_smtp_authenticate:
 * @smtp: a session
 * @account: the user, and the sources of the token or password
 * @error: return location for an error
 *
 * AUTH with the strongest mechanism the server offers and the account
 * allows (msgtk_sasl_choose()). Does nothing when the account has no
 * credentials (msgtk_account_has_credentials()).
 *
 * Returns: %FALSE with %MSGTK_ERROR_NO_PERM (hint
 *   %MSGTK_ERROR_HINT_TLS_FOR_CREDENTIALS) when the session is not secure and
 *   the account does not allow plaintext authentication; with
 *   %MSGTK_ERROR_UNAVAILABLE when the server offers no AUTH or no usable
 *   mechanism; with the errors of msgtk_account_get_secret() and
 *   msgtk_sasl_new(); with %MSGTK_ERROR_NO_PERM (hint
 *   %MSGTK_ERROR_HINT_CHECK_CREDENTIALS for 535) or %MSGTK_ERROR_TEMP_FAIL
 *   (4xx) when the server refuses; with %MSGTK_ERROR_NO_PERM when it accepts
 *   before the exchange is complete (SCRAM: without proving that it knows
 *   the password); or with a connection error.
 */
gboolean msgtk_smtp_authenticate (MsgtkSmtp *smtp, MsgtkAccount *account, GError **error);

/**
 * msgtk_smtp_has_extension:
 * @smtp: a session
 * @ext: an EHLO keyword, in any case ("PIPELINING")
 *
 * Whether the server has an extension.
 *
 * Returns: whether the server advertised @ext in its last EHLO reply.
 */
gboolean msgtk_smtp_has_extension (MsgtkSmtp *smtp, const char *ext);

/**
 * msgtk_smtp_get_size_limit:
 * @smtp: a session
 *
 * The largest message the server takes.
 *
 * Returns: the SIZE limit the server advertised; 0 if none.
 */
guint64 msgtk_smtp_get_size_limit (MsgtkSmtp *smtp);

/**
 * msgtk_smtp_get_auth_mechanism:
 * @smtp: a session
 *
 * How the session was authenticated.
 *
 * Returns: (transfer none) (nullable): the mechanism msgtk_smtp_authenticate()
 *   used, or %NULL.
 */
const char *msgtk_smtp_get_auth_mechanism (MsgtkSmtp *smtp);

/**
 * msgtk_smtp_is_usable:
 * @smtp: a session
 *
 * Whether the session can go on.
 *
 * Returns: whether the session can go on: %FALSE once the connection failed
 *   (reading, writing, a malformed reply) or could not be reset.
 */
gboolean msgtk_smtp_is_usable (MsgtkSmtp *smtp);

/**
 * msgtk_smtp_quit:
 * @smtp: (nullable) (transfer full): a session
 *
 * Sends QUIT (errors ignored; a deferred final reply is still read and
 * reported) and frees @smtp.
 */
void msgtk_smtp_quit (MsgtkSmtp *smtp);

/**
 * msgtk_smtp_free:
 * @smtp: (nullable) (transfer full): a session
 *
 * Frees @smtp without QUIT: a deferred message is reported as not
 * confirmed.
 */
void msgtk_smtp_free (MsgtkSmtp *smtp);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MsgtkSmtp, msgtk_smtp_free)

/**
 * msgtk_smtp_reply_error:
 * @code: an SMTP reply code
 * @command: (nullable): the command it answers ("MAIL", "RCPT", "DATA",
 *   "BDAT", "AUTH", …)
 *
 * The #MsgtkError for an SMTP reply code in the context of @command: 4xx
 * %MSGTK_ERROR_TEMP_FAIL; 530, 534, 535, 538 %MSGTK_ERROR_NO_PERM; 550, 551,
 * 553 to RCPT %MSGTK_ERROR_NO_USER; 552, 554 to DATA or BDAT
 * %MSGTK_ERROR_DATA; other 5xx %MSGTK_ERROR_UNAVAILABLE; anything else
 * %MSGTK_ERROR_PROTOCOL.
 *
 * Returns: a #MsgtkError code.
 */
MsgtkError msgtk_smtp_reply_error (int code, const char *command);

G_END_DECLS
