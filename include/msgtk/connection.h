/**
 * SECTION:msgtk-connection
 * @title: Connections
 * @short_description: a buffered, line-oriented client connection over GIO
 *
 * TCP, implicit TLS, STARTTLS upgrade (discarding nothing silently: bytes the server sent
 * before the handshake are an error), timeouts, certificate checks (the
 * system store, a trust file or a pinned fingerprint), and a protocol trace
 * with secrets redacted. Shared by the SMTP and IMAP clients. Commands are
 * queued and go out together at the next flush, so that pipelined commands
 * take one write. A connection can be compressed (raw deflate both ways, as
 * IMAP's COMPRESS=DEFLATE has it): each flush then ends a deflate block, so
 * that the server can read every command as soon as it is sent.
 */
#pragma once

#include <gio/gio.h>
#include <stdio.h>

G_BEGIN_DECLS

/**
 * MsgtkTlsMode:
 * @MSGTK_TLS_STARTTLS: plaintext, then upgraded with STARTTLS (required)
 * @MSGTK_TLS_IMPLICIT: TLS from the first byte
 * @MSGTK_TLS_NONE: no TLS at all
 *
 * How a connection is protected.
 */
typedef enum {
  MSGTK_TLS_STARTTLS,
  MSGTK_TLS_IMPLICIT,
  MSGTK_TLS_NONE,
} MsgtkTlsMode;

/**
 * msgtk_tls_mode_from_string:
 * @text: (nullable): "starttls", "implicit" (or "tls") or "none", in any case
 * @mode: (out): set to the mode @text names
 *
 * Reads a TLS mode.
 *
 * Returns: %FALSE (and @mode untouched) for anything else, or %NULL.
 */
gboolean msgtk_tls_mode_from_string (const char *text, MsgtkTlsMode *mode);

/**
 * msgtk_tls_mode_to_string:
 * @mode: a mode
 *
 * The name of a TLS mode, as msgtk_tls_mode_from_string() reads it.
 *
 * Returns: (transfer none): the name of @mode: "starttls", "implicit" or
 *   "none".
 */
const char *msgtk_tls_mode_to_string (MsgtkTlsMode mode);

/**
 * MsgtkCompressMode:
 * @MSGTK_COMPRESS_AUTO: compress when the server offers it, unless the
 *   server is on this machine (a loopback address or a Unix socket), where
 *   compressing only costs CPU
 * @MSGTK_COMPRESS_ALWAYS: compress whenever the server offers it
 * @MSGTK_COMPRESS_NEVER: never compress
 *
 * When a session compresses its connection (IMAP COMPRESS=DEFLATE, RFC
 * 4978).
 */
typedef enum {
  MSGTK_COMPRESS_AUTO,
  MSGTK_COMPRESS_ALWAYS,
  MSGTK_COMPRESS_NEVER,
} MsgtkCompressMode;

/**
 * msgtk_compress_mode_from_string:
 * @text: (nullable): "auto", "always" or "never", in any case
 * @mode: (out): set to the mode @text names
 *
 * Reads a compression mode.
 *
 * Returns: %FALSE (and @mode untouched) for anything else, or %NULL.
 */
gboolean msgtk_compress_mode_from_string (const char *text, MsgtkCompressMode *mode);

/**
 * msgtk_compress_mode_to_string:
 * @mode: a mode
 *
 * The name of a compression mode, as msgtk_compress_mode_from_string()
 * reads it.
 *
 * Returns: (transfer none): "auto", "always" or "never".
 */
const char *msgtk_compress_mode_to_string (MsgtkCompressMode mode);

/**
 * MsgtkConnectionConfig:
 * @host: (nullable): the server's host name; %NULL: "localhost"
 * @port: the server's port
 * @tls: the TLS mode: %MSGTK_TLS_IMPLICIT does the handshake on connecting;
 *   %MSGTK_TLS_STARTTLS leaves it to msgtk_connection_starttls()
 * @trust_file: (nullable): a PEM CA bundle to trust instead of the system
 *   store
 * @fingerprint: (nullable): the pinned SHA-256 of the server certificate
 *   (hex, ':' allowed): a certificate that matches is accepted even when it
 *   does not verify, one that does not match is refused
 * @tls_insecure: accept any certificate (the program should warn its user)
 * @timeout: seconds for connecting, for each write, and for reading each
 *   line of an answer whole (a second more for each 64 KiB of data read at
 *   once): a server that sends a byte now and then is given up; 0: 60
 * @max_line: the longest line accepted; 0: 64 KiB
 * @protocol: (nullable): "SMTP", "IMAP": used in messages; %NULL: "server"
 *
 * Where and how to connect. The connection copies what it keeps.
 */
typedef struct {
  const char *host;
  guint16 port;
  MsgtkTlsMode tls;
  const char *trust_file;
  const char *fingerprint;
  gboolean tls_insecure;
  guint timeout;
  gsize max_line;
  const char *protocol;
} MsgtkConnectionConfig;

/**
 * MsgtkConnection:
 *
 * A client connection. Opaque; made with msgtk_connection_open(), freed
 * with msgtk_connection_free().
 */
typedef struct _MsgtkConnection MsgtkConnection;

/**
 * msgtk_connection_open:
 * @config: where and how to connect
 * @error: return location for an error
 *
 * Connects to the host and port of @config, trying every resolved address within
 * the timeout (no proxy), and does the TLS handshake for implicit TLS.
 *
 * Returns: (transfer full): the connection, or %NULL with
 *   %MSGTK_ERROR_UNAVAILABLE when GIO has no TLS backend (glib-networking
 *   missing) or the connection is refused; with %MSGTK_ERROR_NO_HOST when
 *   the host name does not resolve; with %MSGTK_ERROR_TEMP_FAIL when
 *   connecting times out; or, for implicit TLS, with the handshake's errors
 *   as msgtk_connection_starttls() has them.
 */
MsgtkConnection *msgtk_connection_open (const MsgtkConnectionConfig *config, GError **error);

/**
 * msgtk_connection_new_for_stream:
 * @stream: an existing stream (a reference is taken)
 * @config: the rest of the configuration (host and port for messages and
 *   the TLS identity, timeout, line length, certificate checks)
 *
 * A connection over an existing stream, for tests and custom transports.
 *
 * Returns: (transfer full): the connection.
 */
MsgtkConnection *msgtk_connection_new_for_stream (GIOStream *stream,
                                                  const MsgtkConnectionConfig *config);

/**
 * msgtk_connection_free:
 * @conn: (nullable) (transfer full): a connection
 *
 * Frees @conn and drops its references to the stream, zeroing the secrets
 * it held (what was queued, the registered secrets). To close the stream
 * first: msgtk_connection_close().
 */
void msgtk_connection_free (MsgtkConnection *conn);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MsgtkConnection, msgtk_connection_free)

/**
 * msgtk_connection_starttls:
 * @conn: a connection
 * @error: return location for an error
 *
 * Upgrades to TLS after the server agreed to STARTTLS, checking the
 * certificate as the configuration says. Anything the server sent before
 * the handshake and that was not read yet is discarded (the STARTTLS
 * command-injection class), and is an error.
 *
 * Returns: %FALSE with %MSGTK_ERROR_PROTOCOL when such bytes were waiting;
 *   with %MSGTK_ERROR_UNAVAILABLE when GIO has no TLS backend; with
 *   %MSGTK_ERROR_CONFIG when the trust file cannot be used; with
 *   %MSGTK_ERROR_IO when the handshake fails (hint
 *   %MSGTK_ERROR_HINT_TRUST_CERTIFICATE when the certificate is refused,
 *   %MSGTK_ERROR_HINT_USE_STARTTLS when the server does not seem to speak
 *   TLS) or the certificate does not match the pinned fingerprint.
 */
gboolean msgtk_connection_starttls (MsgtkConnection *conn, GError **error);

/**
 * msgtk_connection_is_tls:
 * @conn: a connection
 *
 * Whether the connection is encrypted.
 *
 * Returns: whether the connection is protected by TLS by now.
 */
gboolean msgtk_connection_is_tls (MsgtkConnection *conn);

/**
 * msgtk_connection_is_local:
 * @conn: a connection
 *
 * Whether the server is on this machine: the connection goes to a loopback
 * address (127.0.0.0/8, ::1) or over a Unix socket.
 *
 * Returns: whether the connection is local; %FALSE for a connection over a
 *   stream that is not a socket (msgtk_connection_new_for_stream()).
 */
gboolean msgtk_connection_is_local (MsgtkConnection *conn);

/**
 * msgtk_connection_compress:
 * @conn: a connection
 * @level: the deflate level of what is sent, 1 (fastest) to 9 (smallest);
 *   -1: zlib's default
 * @error: return location for an error
 *
 * Compresses the connection from here on, both ways, with raw deflate
 * (RFC 1951, as IMAP COMPRESS=DEFLATE has it), over TLS when the connection
 * has it: call it once the server has agreed. What the server sent after
 * agreeing and that was not read yet is already compressed, and is read
 * as such. Each msgtk_connection_flush() ends with a deflate sync flush, so
 * that the server has all of what was sent. The trace says when compression
 * starts.
 *
 * Returns: %FALSE with %MSGTK_ERROR_PROTOCOL when the connection is
 *   compressed already, or when what the server sent after agreeing does not
 *   decompress.
 */
gboolean msgtk_connection_compress (MsgtkConnection *conn, int level, GError **error);

/**
 * msgtk_connection_is_compressed:
 * @conn: a connection
 *
 * Whether the connection is compressed.
 *
 * Returns: whether msgtk_connection_compress() started compression.
 */
gboolean msgtk_connection_is_compressed (MsgtkConnection *conn);

/**
 * msgtk_connection_read_line:
 * @conn: a connection
 * @error: return location for an error
 *
 * Reads one line (traced as "S: ...").
 *
 * Returns: (transfer full): the line without its CR LF, or %NULL with
 *   %MSGTK_ERROR_PROTOCOL for a line over the maximum length or a TLS record
 *   where plaintext was expected (hint %MSGTK_ERROR_HINT_USE_IMPLICIT_TLS),
 *   or with %MSGTK_ERROR_TEMP_FAIL at the end of the stream, on a timeout
 *   (hint %MSGTK_ERROR_HINT_USE_IMPLICIT_TLS when no greeting came on a
 *   plaintext connection) or when reading fails.
 */
char *msgtk_connection_read_line (MsgtkConnection *conn, GError **error);

/**
 * msgtk_connection_read_bytes:
 * @conn: a connection
 * @len: how many bytes
 * @error: return location for an error
 *
 * Reads exactly @len bytes (an IMAP literal, say).
 *
 * Returns: (transfer full): the bytes, or %NULL with %MSGTK_ERROR_TEMP_FAIL
 *   as msgtk_connection_read_line() has it.
 */
GBytes *msgtk_connection_read_bytes (MsgtkConnection *conn, gsize len, GError **error);

/**
 * msgtk_connection_queue_line:
 * @conn: a connection
 * @line: a command line, without CR LF
 *
 * Queues @line, with CR LF appended, for sending; nothing goes out until
 * msgtk_connection_flush() (so commands can be pipelined in one write).
 */
void msgtk_connection_queue_line (MsgtkConnection *conn, const char *line);

/**
 * msgtk_connection_queue_secret_line:
 * @conn: a connection
 * @line: a command line holding a secret, without CR LF
 * @visible: how many bytes of it the trace shows (e.g. those of "AUTH PLAIN")
 *
 * Queues a line holding a secret, with CR LF appended: the trace shows only
 * its first @visible bytes, then `<redacted>`; the queued copy is zeroed
 * once sent.
 */
void msgtk_connection_queue_secret_line (MsgtkConnection *conn, const char *line, gsize visible);

/**
 * msgtk_connection_queue_data:
 * @conn: a connection
 * @data: (array length=len) (element-type guint8): message data
 * @len: its length
 *
 * Queues message data as it is (nothing is appended). It is never traced
 * line by line: the trace says how many bytes went.
 */
void msgtk_connection_queue_data (MsgtkConnection *conn, const void *data, gsize len);

/**
 * msgtk_connection_flush:
 * @conn: a connection
 * @error: return location for an error
 *
 * Sends everything queued, in one write.
 *
 * Returns: %FALSE with %MSGTK_ERROR_TEMP_FAIL when the server closed the
 *   connection or writing fails (or times out).
 */
gboolean msgtk_connection_flush (MsgtkConnection *conn, GError **error);

/**
 * msgtk_connection_set_trace:
 * @conn: a connection
 * @out: (nullable): where the trace goes; %NULL: none
 *
 * Traces the dialogue to @out: "C: " and "S: " lines, the switch to TLS
 * marked, control characters of the peer's shown as '?'. Lines queued as
 * secret are redacted; so is every occurrence of a registered secret
 * (msgtk_connection_add_secret()).
 */
void msgtk_connection_set_trace (MsgtkConnection *conn, FILE *out);

/**
 * msgtk_connection_add_secret:
 * @conn: a connection
 * @secret: (nullable): a secret (a password, a token); %NULL or "": nothing
 *
 * Registers @secret (copied) to be redacted wherever it shows in the trace.
 */
void msgtk_connection_add_secret (MsgtkConnection *conn, const char *secret);

/**
 * msgtk_connection_redact_server:
 * @conn: a connection
 * @on: whether to redact the server's lines
 *
 * Redacts the server's lines in the trace too while @on (e.g. during a SASL
 * exchange, whose challenges can hold secrets): only their first 4 bytes are
 * shown.
 */
void msgtk_connection_redact_server (MsgtkConnection *conn, gboolean on);

/**
 * msgtk_connection_bytes_written:
 * @conn: a connection
 *
 * How much was sent over the connection.
 *
 * Returns: the number of bytes written to the connection so far (before
 *   compression, on a compressed connection).
 */
guint64 msgtk_connection_bytes_written (MsgtkConnection *conn);

/**
 * msgtk_connection_close:
 * @conn: (nullable): a connection
 *
 * Closes the connection's stream (errors ignored); @conn is still to be
 * freed.
 */
void msgtk_connection_close (MsgtkConnection *conn);

G_END_DECLS
