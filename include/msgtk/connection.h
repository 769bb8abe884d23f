/* msgtk — a buffered, line-oriented client connection over GIO: TCP, implicit
 * TLS, STARTTLS upgrade, timeouts, certificate checks, and a protocol trace
 * with secrets redacted. Shared by the SMTP and IMAP clients. */
#pragma once

#include <gio/gio.h>
#include <stdio.h>

G_BEGIN_DECLS

typedef enum {
  MSGTK_TLS_STARTTLS, /* plaintext, then upgraded with STARTTLS (required) */
  MSGTK_TLS_IMPLICIT, /* TLS from the first byte */
  MSGTK_TLS_NONE,     /* no TLS at all */
} MsgtkTlsMode;

/* "starttls", "implicit", "none" → mode; FALSE for anything else. */
gboolean msgtk_tls_mode_from_string (const char *text, MsgtkTlsMode *mode);
const char *msgtk_tls_mode_to_string (MsgtkTlsMode mode);

typedef struct {
  const char *host;
  guint16 port;
  MsgtkTlsMode tls;
  const char *trust_file;  /* PEM CA bundle to trust instead of the system store */
  const char *fingerprint; /* pinned SHA-256 of the server certificate (hex, ':' allowed) */
  gboolean tls_insecure;   /* accept any certificate (the program should warn its user) */
  guint timeout;           /* seconds for connecting and for each read/write; 0: 60 */
  gsize max_line;          /* longest line accepted; 0: 64 KiB */
  const char *protocol;    /* "SMTP", "IMAP": used in messages */
} MsgtkConnectionConfig;

typedef struct _MsgtkConnection MsgtkConnection;

/* Connect to @config->host:@config->port, trying every resolved address
 * within the timeout, and do the TLS handshake for implicit TLS. */
MsgtkConnection *msgtk_connection_open (const MsgtkConnectionConfig *config, GError **error);

/* A connection over an existing stream (tests, custom transports). */
MsgtkConnection *msgtk_connection_new_for_stream (GIOStream *stream,
                                                  const MsgtkConnectionConfig *config);

void msgtk_connection_free (MsgtkConnection *conn);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MsgtkConnection, msgtk_connection_free)

/* Upgrade to TLS after the server agreed to STARTTLS. Anything the server
 * sent before the handshake and we had not read yet is discarded (the
 * STARTTLS command-injection class); returns FALSE with
 * MSGTK_ERROR_PROTOCOL if such bytes were waiting. */
gboolean msgtk_connection_starttls (MsgtkConnection *conn, GError **error);

gboolean msgtk_connection_is_tls (MsgtkConnection *conn);

/* Read one line; the returned string has no CR/LF. A line over max_line is
 * MSGTK_ERROR_PROTOCOL; end of stream is MSGTK_ERROR_TEMP_FAIL. */
char *msgtk_connection_read_line (MsgtkConnection *conn, GError **error);

/* Read exactly @len bytes. */
GBytes *msgtk_connection_read_bytes (MsgtkConnection *conn, gsize len, GError **error);

/* Queue @len bytes for sending; nothing goes out until flush (so commands can
 * be pipelined in one write). Lines get CRLF appended. */
void msgtk_connection_queue_line (MsgtkConnection *conn, const char *line);
/* Queue a line holding a secret: the trace shows only its first @visible
 * bytes (e.g. "AUTH PLAIN"), then "<redacted>". CRLF is added. */
void msgtk_connection_queue_secret_line (MsgtkConnection *conn, const char *line, gsize visible);
/* Queue message data: never traced line by line (the trace says how many bytes). */
void msgtk_connection_queue_data (MsgtkConnection *conn, const void *data, gsize len);
gboolean msgtk_connection_flush (MsgtkConnection *conn, GError **error);

/* Trace the dialogue to @out (C:/S: lines, TLS switch marked). Lines queued
 * as secret are redacted; so is every occurrence of a registered secret. */
void msgtk_connection_set_trace (MsgtkConnection *conn, FILE *out);
void msgtk_connection_add_secret (MsgtkConnection *conn, const char *secret);
/* Redact server lines too while @on (e.g. during a SASL exchange). */
void msgtk_connection_redact_server (MsgtkConnection *conn, gboolean on);

/* Bytes written and read so far. */
guint64 msgtk_connection_bytes_written (MsgtkConnection *conn);

void msgtk_connection_close (MsgtkConnection *conn);

G_END_DECLS
