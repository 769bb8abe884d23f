/**
 * SECTION:msgtk-imap
 * @title: IMAP
 * @short_description: an IMAP4rev1 client session (RFC 3501, 9051) for
 *   uploading messages
 *
 * Greeting (OK, PREAUTH, BYE), CAPABILITY, STARTTLS or implicit TLS over a
 * MsgtkConnection (certificate checks, timeouts, trace with secrets
 * redacted), AUTHENTICATE through the sasl module (SASL-IR when offered) or
 * LOGIN, COMPRESS=DEFLATE (RFC 4978), ENABLE UTF8=ACCEPT, LIST (hierarchy
 * delimiter), CREATE. The
 * response reader copes with untagged responses at any time and literals
 * inside responses. APPEND over a session is in imap-append.h, STATUS and
 * UID FETCH in imap-mailbox.h.
 */
#pragma once

#include <msgtk/account.h>
#include <msgtk/connection.h>
#include <stdio.h>

G_BEGIN_DECLS

/**
 * MsgtkImapSession:
 *
 * A connection to an IMAP server and the state of the session on it.
 * Opaque; made with msgtk_imap_session_connect(), freed with
 * msgtk_imap_session_free().
 */
typedef struct _MsgtkImapSession MsgtkImapSession;

/**
 * msgtk_imap_session_connect:
 * @account: the server and how to reach it: host, port (default 993 with
 *   implicit TLS, 143 otherwise), TLS mode, trust file, fingerprint, timeout;
 *   its alert function gets the server's ALERT texts
 * @trace: (nullable): where the dialogue goes, secrets redacted
 * @error: return location for an error
 *
 * Connects to the server of @account, reads the greeting and the
 * capabilities, and upgrades with STARTTLS when the account asks for it
 * (refusing a server that does not offer it: nothing is sent then).
 *
 * Returns: (transfer full): the session, or %NULL with %MSGTK_ERROR_USAGE
 *   (hint %MSGTK_ERROR_HINT_NO_HOST_GIVEN) when the account names no host;
 *   with the errors of msgtk_connection_open() and
 *   msgtk_imap_session_starttls(); with %MSGTK_ERROR_UNAVAILABLE when the
 *   server greets with BYE; or with %MSGTK_ERROR_PROTOCOL when it does not
 *   greet like an IMAP server.
 */
MsgtkImapSession *msgtk_imap_session_connect (MsgtkAccount *account, FILE *trace, GError **error);

/**
 * msgtk_imap_session_new_for_stream:
 * @stream: an already connected stream (a reference is taken)
 * @secure: whether it is protected, e.g. by TLS (credentials are sent only
 *   then, unless the account allows plaintext authentication)
 * @error: return location for an error
 *
 * A session over @stream; reads the greeting. For tests and custom
 * transports.
 *
 * Returns: (transfer full): the session, or %NULL with the greeting's errors
 *   as msgtk_imap_session_connect() has them.
 */
MsgtkImapSession *msgtk_imap_session_new_for_stream (GIOStream *stream, gboolean secure,
                                                     GError **error);

/**
 * msgtk_imap_session_free:
 * @session: (nullable) (transfer full): a session
 *
 * Closes the connection (without LOGOUT: see msgtk_imap_session_logout())
 * and frees @session.
 */
void msgtk_imap_session_free (MsgtkImapSession *session);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MsgtkImapSession, msgtk_imap_session_free)

/**
 * msgtk_imap_session_starttls:
 * @session: a session
 * @error: return location for an error
 *
 * STARTTLS (done by msgtk_imap_session_connect() when the account asks for
 * it); the capabilities are asked again over TLS.
 *
 * Returns: %FALSE with %MSGTK_ERROR_UNAVAILABLE when the server does not
 *   offer STARTTLS (hint %MSGTK_ERROR_HINT_STARTTLS_NOT_OFFERED), when it
 *   pre-authenticated the connection, or when it refuses the command; with
 *   %MSGTK_ERROR_PROTOCOL when it sent anything after its OK and before the
 *   handshake; or with the errors of msgtk_connection_starttls().
 */
gboolean msgtk_imap_session_starttls (MsgtkImapSession *session, GError **error);

/**
 * msgtk_imap_session_has_capability:
 * @session: a session
 * @capability: a capability, in any case ("LITERAL+")
 *
 * Whether the server has a capability.
 *
 * Returns: whether the server advertised @capability (in its greeting, in
 *   a CAPABILITY response or response code).
 */
gboolean msgtk_imap_session_has_capability (MsgtkImapSession *session, const char *capability);

/**
 * msgtk_imap_session_get_append_limit:
 * @session: a session
 *
 * The largest message the server takes.
 *
 * Returns: the APPENDLIMIT the server advertised; 0 if none.
 */
guint64 msgtk_imap_session_get_append_limit (MsgtkImapSession *session);

/**
 * msgtk_imap_session_authenticate:
 * @session: a session
 * @account: the user, and the sources of the token or password
 * @error: return location for an error
 *
 * Authenticates with the credentials of @account: AUTHENTICATE with the
 * strongest mechanism the server offers and the account allows
 * (msgtk_sasl_choose(); the initial response in the command with SASL-IR),
 * else LOGIN (quoted strings, or literals for 8-bit / CR / LF) when the
 * server allows it (no LOGINDISABLED) and the account's mechanisms are
 * unrestricted or include PLAIN or LOGIN. A PREAUTH session is already
 * authenticated: nothing is sent. Then COMPRESS DEFLATE when the server
 * offers COMPRESS=DEFLATE and the account's @compress wants it
 * (%MSGTK_COMPRESS_AUTO: unless the server is on this machine; a server
 * that refuses it is used uncompressed), and ENABLE UTF8=ACCEPT when
 * offered (mailbox names then go out as UTF-8).
 *
 * Returns: %FALSE with %MSGTK_ERROR_NO_PERM (hint
 *   %MSGTK_ERROR_HINT_TLS_FOR_CREDENTIALS) when the session is not secure and
 *   the account does not allow plaintext authentication; with the errors of
 *   msgtk_account_get_secret() (%MSGTK_ERROR_CONFIG); with
 *   %MSGTK_ERROR_UNAVAILABLE when no mechanism (and not LOGIN) can be used;
 *   with %MSGTK_ERROR_NO_PERM (hint %MSGTK_ERROR_HINT_CHECK_CREDENTIALS) when
 *   the server refuses the credentials, or %MSGTK_ERROR_TEMP_FAIL when it
 *   refuses with [UNAVAILABLE]; with %MSGTK_ERROR_NO_PERM when it accepts
 *   before the exchange is complete (SCRAM: without proving that it knows
 *   the password); or with a connection error.
 */
gboolean msgtk_imap_session_authenticate (MsgtkImapSession *session, MsgtkAccount *account,
                                          GError **error);

/**
 * msgtk_imap_session_compress:
 * @session: a session
 * @error: return location for an error
 *
 * COMPRESS DEFLATE (RFC 4978; done by msgtk_imap_session_authenticate()
 * as the account's @compress says): from the server's OK on, everything
 * goes compressed both ways (over TLS, when the session has it). Commands
 * and literals are flushed through the compressor each time the session
 * sends, so pipelined commands, LITERAL+ and MULTIAPPEND work as before.
 *
 * Returns: %FALSE with %MSGTK_ERROR_UNAVAILABLE when the server does not
 *   offer COMPRESS=DEFLATE, or refuses the command (NO; the session goes on
 *   uncompressed); with %MSGTK_ERROR_PROTOCOL when it does not understand it
 *   (BAD; likewise), when the session is compressed already, or as
 *   msgtk_connection_compress() fails; or with a connection error.
 */
gboolean msgtk_imap_session_compress (MsgtkImapSession *session, GError **error);

/**
 * msgtk_imap_session_is_compressed:
 * @session: a session
 *
 * Whether the session's connection is compressed.
 *
 * Returns: whether COMPRESS DEFLATE was agreed.
 */
gboolean msgtk_imap_session_is_compressed (MsgtkImapSession *session);

/**
 * msgtk_imap_session_get_host:
 * @session: a session
 *
 * Returns: (transfer none): the host name the session was made to.
 */
const char *msgtk_imap_session_get_host (MsgtkImapSession *session);

/**
 * msgtk_imap_session_get_port:
 * @session: a session
 *
 * Returns: the port the session was made to; 0 for a session over a
 *   stream (msgtk_imap_session_new_for_stream()).
 */
guint16 msgtk_imap_session_get_port (MsgtkImapSession *session);

/**
 * msgtk_imap_session_get_auth_mechanism:
 * @session: a session
 *
 * How the session was authenticated.
 *
 * Returns: (transfer none) (nullable): the mechanism
 *   msgtk_imap_session_authenticate() used ("SCRAM-SHA-256", or "LOGIN" for
 *   the LOGIN command); %NULL before, or for PREAUTH.
 */
const char *msgtk_imap_session_get_auth_mechanism (MsgtkImapSession *session);

/**
 * msgtk_imap_session_is_utf8:
 * @session: a session
 *
 * Whether mailbox names go out as UTF-8.
 *
 * Returns: whether UTF8=ACCEPT was enabled.
 */
gboolean msgtk_imap_session_is_utf8 (MsgtkImapSession *session);

/**
 * msgtk_imap_session_logout:
 * @session: a session
 *
 * Sends LOGOUT and reads the server's answer, errors ignored; the
 * connection is closed by msgtk_imap_session_free().
 */
void msgtk_imap_session_logout (MsgtkImapSession *session);

G_END_DECLS
