/* msgtk — IMAP4rev1 client session (RFC 3501, 9051) for uploading messages.
 *
 * Greeting (OK, PREAUTH, BYE), CAPABILITY, STARTTLS or implicit TLS over a
 * MsgtkConnection (certificate checks, timeouts, trace with secrets
 * redacted), AUTHENTICATE through the sasl module (SASL-IR when offered) or
 * LOGIN, ENABLE UTF8=ACCEPT, LIST (hierarchy delimiter), CREATE, APPEND with
 * flags and internal date (synchronising literals, LITERAL+ / LITERAL-,
 * MULTIAPPEND, UIDPLUS APPENDUID, APPENDLIMIT), UID SEARCH HEADER Message-ID.
 * The response reader copes with untagged responses at any time and
 * literals inside responses.
 *
 * Messages are sent byte for byte as given, with bare LF turned into CRLF;
 * the literal size is the size after that normalisation. */
#pragma once

#include <msgtk/account.h>
#include <msgtk/connection.h>
#include <msgtk/sink.h>
#include <stdio.h>

G_BEGIN_DECLS

typedef struct _MsgtkImapSession MsgtkImapSession;

/* Connect to the server of @account (host, port — default 993 with implicit
 * TLS, 143 otherwise —, TLS mode, trust file, fingerprint, timeout), read the
 * greeting and the capabilities, and upgrade with STARTTLS when the account
 * asks for it (refusing a server that does not offer it). @trace (nullable)
 * gets the dialogue, secrets redacted. */
MsgtkImapSession *msgtk_imap_session_connect (MsgtkAccount *account, FILE *trace, GError **error);

/* A session over an already connected @stream (@secure: whether it is
 * protected, e.g. by TLS); reads the greeting. For tests and custom
 * transports. */
MsgtkImapSession *msgtk_imap_session_new_for_stream (GIOStream *stream, gboolean secure,
                                                     GError **error);

void msgtk_imap_session_free (MsgtkImapSession *session);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MsgtkImapSession, msgtk_imap_session_free)

/* STARTTLS (done by msgtk_imap_session_connect when the account asks for
 * it): refused when the server does not offer it or pre-authenticated the
 * connection; anything the server sent after its OK and before the
 * handshake is refused (MSGTK_ERROR_PROTOCOL); capabilities are asked again
 * over TLS. */
gboolean msgtk_imap_session_starttls (MsgtkImapSession *session, GError **error);

/* Whether the server advertised @capability (case-insensitive, e.g. "LITERAL+"). */
gboolean msgtk_imap_session_has_capability (MsgtkImapSession *session, const char *capability);

/* The APPENDLIMIT the server advertised, 0 if none. */
guint64 msgtk_imap_session_get_append_limit (MsgtkImapSession *session);

/* Authenticate with the credentials of @account (user, and the token or
 * password from its secret sources). Refused without TLS
 * (MSGTK_ERROR_NO_PERM) unless the account allows plaintext authentication.
 * AUTHENTICATE with the strongest mechanism the server offers and the
 * account allows (msgtk_sasl_choose; the initial response in the command
 * with SASL-IR), else LOGIN (quoted strings, or literals for 8-bit / CR / LF)
 * when the server allows it and the account's mechanisms are unrestricted or
 * include PLAIN or LOGIN. A PREAUTH session is already authenticated: nothing
 * is sent. Then ENABLE UTF8=ACCEPT when offered (mailbox names then go out as
 * UTF-8). */
gboolean msgtk_imap_session_authenticate (MsgtkImapSession *session, MsgtkAccount *account,
                                          GError **error);

/* The mechanism used by msgtk_imap_session_authenticate ("SCRAM-SHA-256", or
 * "LOGIN" for the LOGIN command); NULL before, or for PREAUTH. */
const char *msgtk_imap_session_get_auth_mechanism (MsgtkImapSession *session);

/* Whether UTF8=ACCEPT was enabled. */
gboolean msgtk_imap_session_is_utf8 (MsgtkImapSession *session);

/* The hierarchy delimiter (LIST "" ""); '\0' for a flat server. */
gboolean msgtk_imap_session_get_delimiter (MsgtkImapSession *session, char *delimiter,
                                           GError **error);

/* CREATE @mailbox (UTF-8 name). An existing mailbox is not an error. */
gboolean msgtk_imap_session_create (MsgtkImapSession *session, const char *mailbox, GError **error);

/* UID SEARCH HEADER Message-ID @message_id in @mailbox (EXAMINE'd, and left
 * so for the next search in it). Sets @found to whether at least one message
 * matches; a mailbox that does not exist holds nothing. */
gboolean msgtk_imap_session_search_message_id (MsgtkImapSession *session, const char *mailbox,
                                               const char *message_id, gboolean *found,
                                               GError **error);

/* Add to @digests (a set of hex strings) the SHA-256 of the last @count
 * messages of @mailbox (EXAMINE, FETCH BODY.PEEK[]): used to find out
 * whether messages sent just before an interruption were stored. */
gboolean msgtk_imap_session_fetch_last_digests (MsgtkImapSession *session, const char *mailbox,
                                                guint count, GHashTable *digests, GError **error);

/* LOGOUT and close (errors ignored). */
void msgtk_imap_session_logout (MsgtkImapSession *session);

G_END_DECLS
