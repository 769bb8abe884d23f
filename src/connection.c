/* msgtk — buffered line-oriented client connection over GIO. */
#include <msgtk/connection.h>
#include <msgtk/terminal.h>

#include "error-private.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>

struct _MsgtkConnection {
  GIOStream *base;     /* the TCP connection (or the stream given) */
  GIOStream *io;       /* base, or TLS over it */
  GIOStream *zio;      /* deflate over io (msgtk_connection_compress()), or NULL */
  GByteArray *in;      /* read but not yet consumed */
  GByteArray *out;     /* queued, not yet written */
  gboolean out_secret; /* out holds a secret line: zero it once written */
  char *host;
  guint16 port;
  guint timeout;
  gsize max_line;
  char *protocol;
  char *trust_file;
  char *fingerprint; /* lowercase hex without ':' */
  gboolean tls_insecure;
  gboolean tls;
  gboolean got_data; /* the server has sent something */
  FILE *trace;
  GPtrArray *secrets;
  gboolean redact_server;
  guint64 written;
};

/* The names of a mode's values: the first for a value is the one it is
 * written as. */
typedef struct {
  const char *name;
  int value;
} ModeName;

static const ModeName tls_modes[] = {
  { "starttls", MSGTK_TLS_STARTTLS },
  { "implicit", MSGTK_TLS_IMPLICIT },
  { "tls", MSGTK_TLS_IMPLICIT },
  { "none", MSGTK_TLS_NONE },
  { NULL },
};

static const ModeName compress_modes[] = {
  { "auto", MSGTK_COMPRESS_AUTO },
  { "always", MSGTK_COMPRESS_ALWAYS },
  { "never", MSGTK_COMPRESS_NEVER },
  { NULL },
};

static gboolean
mode_from_string (const ModeName *names, const char *text, int *value)
{
  for (const ModeName *n = names; text != NULL && n->name != NULL; n++)
    if (g_ascii_strcasecmp (text, n->name) == 0) {
      *value = n->value;
      return TRUE;
    }
  return FALSE;
}

/* The name of @value; the first name for anything else. */
static const char *
mode_to_string (const ModeName *names, int value)
{
  for (const ModeName *n = names; n->name != NULL; n++)
    if (n->value == value)
      return n->name;
  return names[0].name;
}

/* The modes' values are read into them as ints. */
G_STATIC_ASSERT (sizeof (MsgtkTlsMode) == sizeof (int));
G_STATIC_ASSERT (sizeof (MsgtkCompressMode) == sizeof (int));

gboolean
msgtk_tls_mode_from_string (const char *text, MsgtkTlsMode *mode)
{
  return mode_from_string (tls_modes, text, (int *)mode);
}

const char *
msgtk_tls_mode_to_string (MsgtkTlsMode mode)
{
  return mode_to_string (tls_modes, mode);
}

gboolean
msgtk_compress_mode_from_string (const char *text, MsgtkCompressMode *mode)
{
  return mode_from_string (compress_modes, text, (int *)mode);
}

const char *
msgtk_compress_mode_to_string (MsgtkCompressMode mode)
{
  return mode_to_string (compress_modes, mode);
}

static char *
normalise_fingerprint (const char *fp)
{
  GString *s = g_string_new (NULL);
  for (const char *p = fp; *p; p++)
    if (g_ascii_isxdigit (*p))
      g_string_append_c (s, g_ascii_tolower (*p));
  return g_string_free (s, FALSE);
}

static MsgtkConnection *
conn_new (const MsgtkConnectionConfig *c)
{
  MsgtkConnection *conn = g_new0 (MsgtkConnection, 1);
  conn->in = g_byte_array_new ();
  conn->out = g_byte_array_new ();
  conn->host = g_strdup (c->host ? c->host : "localhost");
  conn->port = c->port;
  conn->timeout = c->timeout ? c->timeout : 60;
  conn->max_line = c->max_line ? c->max_line : 64 * 1024;
  conn->protocol = g_strdup (c->protocol ? c->protocol : "server");
  /* GTlsFileDatabase wants an absolute path. */
  conn->trust_file = c->trust_file ? g_canonicalize_filename (c->trust_file, NULL) : NULL;
  conn->fingerprint = c->fingerprint ? normalise_fingerprint (c->fingerprint) : NULL;
  conn->tls_insecure = c->tls_insecure;
  conn->secrets = g_ptr_array_new_with_free_func (g_free);
  return conn;
}

static void
trace_line (MsgtkConnection *conn, const char *dir, const char *text, gsize len)
{
  if (conn->trace == NULL)
    return;
  g_autoptr (GString) s = g_string_new_len (text, (gssize)len);
  for (guint i = 0; i < conn->secrets->len; i++) {
    const char *secret = g_ptr_array_index (conn->secrets, i);
    if (*secret)
      g_string_replace (s, secret, "<redacted>", 0);
  }
  /* Never let control bytes from a peer reach the terminal. */
  g_autofree char *shown = msgtk_terminal_text (s->str, (gssize)s->len, FALSE);
  fprintf (conn->trace, "%s %s\n", dir, shown);
  fflush (conn->trace);
}

static gboolean
check_tls_backend (GError **error)
{
  if (!g_tls_backend_supports_tls (g_tls_backend_get_default ())) {
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_UNAVAILABLE,
                 "TLS is not available: GIO has no TLS backend; install the "
                 "'glib-networking' package (apt-get install glib-networking)");
    return FALSE;
  }
  return TRUE;
}

static char *
cert_sha256 (GTlsCertificate *cert)
{
  g_autoptr (GByteArray) der = NULL;
  g_object_get (cert, "certificate", &der, NULL);
  if (der == NULL)
    return NULL;
  return g_compute_checksum_for_data (G_CHECKSUM_SHA256, der->data, der->len);
}

static gboolean
accept_certificate (GTlsConnection *tls, GTlsCertificate *cert, GTlsCertificateFlags errors,
                    gpointer data)
{
  MsgtkConnection *conn = data;
  if (conn->tls_insecure)
    return TRUE;
  if (conn->fingerprint) {
    g_autofree char *fp = cert_sha256 (cert);
    return fp && g_strcmp0 (fp, conn->fingerprint) == 0;
  }
  return FALSE;
}

static const char *
cert_problem (GTlsCertificateFlags f)
{
  if (f & G_TLS_CERTIFICATE_UNKNOWN_CA)
    return "it is not signed by a trusted authority";
  if (f & G_TLS_CERTIFICATE_BAD_IDENTITY)
    return "it does not match the host name";
  if (f & G_TLS_CERTIFICATE_EXPIRED)
    return "it has expired";
  if (f & G_TLS_CERTIFICATE_NOT_ACTIVATED)
    return "it is not valid yet";
  if (f & G_TLS_CERTIFICATE_REVOKED)
    return "it has been revoked";
  return "it failed verification";
}

static void
trace_tls (MsgtkConnection *conn)
{
  g_autofree char *suite = g_tls_connection_get_ciphersuite_name (G_TLS_CONNECTION (conn->io));
  fprintf (conn->trace, "-- TLS established (%s) --\n", suite ? suite : "TLS");
  fflush (conn->trace);
}

/* The TLS handshake, right after connecting (implicit TLS) or after the
 * server accepted STARTTLS (@starttls). */
static gboolean
tls_handshake (MsgtkConnection *conn, gboolean starttls, GError **error)
{
  g_autoptr (GError) local = NULL;
  if (!check_tls_backend (error))
    return FALSE;
  g_autoptr (GSocketConnectable) identity = g_network_address_new (conn->host, conn->port);
  GIOStream *tls = g_tls_client_connection_new (conn->base, identity, &local);
  if (tls == NULL) {
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_IO, "TLS setup for %s:%u failed: %s", conn->host,
                 conn->port, local->message);
    return FALSE;
  }
  if (conn->trust_file) {
    GTlsDatabase *db = g_tls_file_database_new (conn->trust_file, &local);
    if (db == NULL) {
      g_object_unref (tls);
      g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_CONFIG, "cannot use trust file %s: %s",
                   conn->trust_file, local->message);
      return FALSE;
    }
    g_tls_connection_set_database (G_TLS_CONNECTION (tls), db);
    g_object_unref (db);
  }
  g_signal_connect (tls, "accept-certificate", G_CALLBACK (accept_certificate), conn);
  if (!g_tls_connection_handshake (G_TLS_CONNECTION (tls), NULL, &local)) {
    GTlsCertificateFlags errs
        = g_tls_connection_get_peer_certificate_errors (G_TLS_CONNECTION (tls));
    if (g_error_matches (local, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE) && errs) {
      error_set_hint (
          error, MSGTK_ERROR_HINT_TRUST_CERTIFICATE, MSGTK_ERROR_IO,
          "TLS certificate of %s:%u refused: %s%s", conn->host, conn->port, cert_problem (errs),
          conn->fingerprint ? ", and its SHA-256 fingerprint does not match the pin" : "");
    } else if (starttls) {
      /* the port speaks STARTTLS: what answered is not TLS, or not only */
      g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_IO,
                   "TLS handshake with %s:%u after STARTTLS failed (%s): the server accepted "
                   "STARTTLS but what came then was not TLS (a broken server, or something "
                   "on the way tampering with the connection)",
                   conn->host, conn->port, local->message);
    } else if (g_error_matches (local, G_TLS_ERROR, G_TLS_ERROR_NOT_TLS)
               || g_error_matches (local, G_TLS_ERROR, G_TLS_ERROR_MISC)
               || g_error_matches (local, G_IO_ERROR, G_IO_ERROR_TIMED_OUT)) {
      error_set_hint (error, MSGTK_ERROR_HINT_USE_STARTTLS, MSGTK_ERROR_IO,
                      "TLS handshake with %s:%u failed (%s): the server does not seem to "
                      "speak TLS on this port",
                      conn->host, conn->port, local->message);
    } else {
      g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_IO, "TLS handshake with %s:%u failed: %s",
                   conn->host, conn->port, local->message);
    }
    g_object_unref (tls);
    return FALSE;
  }
  if (conn->fingerprint && !conn->tls_insecure) {
    GTlsCertificate *peer = g_tls_connection_get_peer_certificate (G_TLS_CONNECTION (tls));
    g_autofree char *fp = peer ? cert_sha256 (peer) : NULL;
    if (g_strcmp0 (fp, conn->fingerprint) != 0) {
      g_object_unref (tls);
      g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_IO,
                   "TLS certificate of %s:%u does not match the pinned SHA-256 fingerprint "
                   "(server's is %s)",
                   conn->host, conn->port, fp ? fp : "unknown");
      return FALSE;
    }
  }
  if (conn->io != conn->base)
    g_object_unref (conn->io);
  conn->io = tls;
  conn->tls = TRUE;
  if (conn->trace)
    trace_tls (conn);
  return TRUE;
}

MsgtkConnection *
msgtk_connection_open (const MsgtkConnectionConfig *config, GError **error)
{
  g_autoptr (GError) local = NULL;
  if (config->tls == MSGTK_TLS_IMPLICIT || config->tls == MSGTK_TLS_STARTTLS)
    if (!check_tls_backend (error))
      return NULL;
  MsgtkConnection *conn = conn_new (config);
  g_autoptr (GSocketClient) client = g_socket_client_new ();
  g_socket_client_set_timeout (client, conn->timeout);
  g_socket_client_set_enable_proxy (client, FALSE);
  GSocketConnection *sc
      = g_socket_client_connect_to_host (client, conn->host, conn->port, NULL, &local);
  if (sc == NULL) {
    int code = MSGTK_ERROR_UNAVAILABLE;
    if (local->domain == G_RESOLVER_ERROR)
      code = MSGTK_ERROR_NO_HOST;
    else if (g_error_matches (local, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
      code = MSGTK_ERROR_TEMP_FAIL;
    g_set_error (error, MSGTK_ERROR, code, "cannot connect to %s server %s port %u: %s",
                 conn->protocol, conn->host, conn->port, local->message);
    msgtk_connection_free (conn);
    return NULL;
  }
  conn->base = G_IO_STREAM (sc);
  conn->io = conn->base;
  /* Writes are batched here (one write per pipelined group): Nagle's
   * algorithm would only hold a small group back behind a large one. */
  g_socket_set_option (g_socket_connection_get_socket (sc), IPPROTO_TCP, TCP_NODELAY, 1, NULL);
  if (config->tls == MSGTK_TLS_IMPLICIT && !tls_handshake (conn, FALSE, error)) {
    msgtk_connection_free (conn);
    return NULL;
  }
  return conn;
}

MsgtkConnection *
msgtk_connection_new_for_stream (GIOStream *stream, const MsgtkConnectionConfig *config)
{
  MsgtkConnection *conn = conn_new (config);
  conn->base = g_object_ref (stream);
  conn->io = conn->base;
  return conn;
}

void
msgtk_connection_free (MsgtkConnection *conn)
{
  if (conn == NULL)
    return;
  g_clear_object (&conn->zio);
  if (conn->io && conn->io != conn->base)
    g_object_unref (conn->io);
  g_clear_object (&conn->base);
  g_byte_array_unref (conn->in);
  if (conn->out->len)
    memset (conn->out->data, 0, conn->out->len);
  g_byte_array_unref (conn->out);
  for (guint i = 0; i < conn->secrets->len; i++) {
    char *s = g_ptr_array_index (conn->secrets, i);
    memset (s, 0, strlen (s));
  }
  g_ptr_array_unref (conn->secrets);
  g_free (conn->host);
  g_free (conn->protocol);
  g_free (conn->trust_file);
  g_free (conn->fingerprint);
  g_free (conn);
}

void
msgtk_connection_close (MsgtkConnection *conn)
{
  if (conn && conn->zio) /* ends the deflate stream; io stays open for that */
    g_io_stream_close (conn->zio, NULL, NULL);
  if (conn && conn->io)
    g_io_stream_close (conn->io, NULL, NULL);
}

/* What is read and written: compressed, or not. */
static GIOStream *
stream_of (MsgtkConnection *conn)
{
  return conn->zio ? conn->zio : conn->io;
}

gboolean
msgtk_connection_is_tls (MsgtkConnection *conn)
{
  return conn->tls;
}

gboolean
msgtk_connection_starttls (MsgtkConnection *conn, GError **error)
{
  gsize pending = conn->in->len;
  if (pending == 0 && G_IS_SOCKET_CONNECTION (conn->base)) {
    GSocket *sock = g_socket_connection_get_socket (G_SOCKET_CONNECTION (conn->base));
    if (g_socket_condition_check (sock, G_IO_IN) & G_IO_IN) {
      guint8 buf[4096];
      gssize n = g_socket_receive_with_blocking (sock, (char *)buf, sizeof buf, FALSE, NULL, NULL);
      pending = n > 0 ? (gsize)n : 0;
    }
  }
  g_byte_array_set_size (conn->in, 0);
  if (pending > 0) {
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_PROTOCOL,
                 "%s server %s sent %zu unexpected bytes after agreeing to STARTTLS, before the "
                 "TLS handshake; refusing to go on (a STARTTLS command-injection attempt, or a "
                 "broken server)",
                 conn->protocol, conn->host, pending);
    return FALSE;
  }
  return tls_handshake (conn, TRUE, error);
}

gboolean
msgtk_connection_is_local (MsgtkConnection *conn)
{
  if (!G_IS_SOCKET_CONNECTION (conn->base))
    return FALSE;
  g_autoptr (GSocketAddress) peer
      = g_socket_connection_get_remote_address (G_SOCKET_CONNECTION (conn->base), NULL);
  if (G_IS_INET_SOCKET_ADDRESS (peer))
    return g_inet_address_get_is_loopback (
        g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (peer)));
  return peer != NULL && g_socket_address_get_family (peer) == G_SOCKET_FAMILY_UNIX;
}

/* What the server sent after agreeing to compress, read already: through
 * @inflater into conn->in. Until the input is used up and the output did not
 * fill the buffer (zlib may hold output back for want of room). */
static gboolean
inflate_pending (MsgtkConnection *conn, GConverter *inflater, GError **error)
{
  g_autoptr (GByteArray) raw = conn->in;
  conn->in = g_byte_array_new ();
  gsize off = 0;
  for (;;) {
    guint8 buf[16384];
    gsize used = 0, made = 0;
    g_autoptr (GError) local = NULL;
    GConverterResult r
        = g_converter_convert (inflater, raw->data + off, raw->len - off, buf, sizeof buf,
                               G_CONVERTER_NO_FLAGS, &used, &made, &local);
    if (r == G_CONVERTER_ERROR && g_error_matches (local, G_IO_ERROR, G_IO_ERROR_PARTIAL_INPUT))
      return TRUE; /* all of it taken in */
    if (r == G_CONVERTER_ERROR || r == G_CONVERTER_FINISHED) {
      g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_PROTOCOL,
                   "%s server %s sent data that does not decompress (%s) after agreeing to "
                   "compress",
                   conn->protocol, conn->host, local ? local->message : "the stream ended");
      return FALSE;
    }
    off += used;
    g_byte_array_append (conn->in, buf, (guint)made);
    if (off == raw->len && made < sizeof buf)
      return TRUE;
  }
}

gboolean
msgtk_connection_compress (MsgtkConnection *conn, int level, GError **error)
{
  if (conn->zio != NULL) {
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_PROTOCOL,
                 "the connection to %s server %s is compressed already", conn->protocol,
                 conn->host);
    return FALSE;
  }
  g_autoptr (GZlibDecompressor) inflater = g_zlib_decompressor_new (G_ZLIB_COMPRESSOR_FORMAT_RAW);
  if (conn->in->len > 0 && !inflate_pending (conn, G_CONVERTER (inflater), error))
    return FALSE;
  level = CLAMP (level, -1, 9);
  g_autoptr (GZlibCompressor) deflater
      = g_zlib_compressor_new (G_ZLIB_COMPRESSOR_FORMAT_RAW, level);
  g_autoptr (GInputStream) in = g_converter_input_stream_new (
      g_io_stream_get_input_stream (conn->io), G_CONVERTER (inflater));
  g_autoptr (GOutputStream) out = g_converter_output_stream_new (
      g_io_stream_get_output_stream (conn->io), G_CONVERTER (deflater));
  /* closing them ends the deflate stream, not the connection */
  g_filter_input_stream_set_close_base_stream (G_FILTER_INPUT_STREAM (in), FALSE);
  g_filter_output_stream_set_close_base_stream (G_FILTER_OUTPUT_STREAM (out), FALSE);
  conn->zio = g_simple_io_stream_new (in, out);
  if (conn->trace) {
    fprintf (conn->trace, "-- deflate compression on (level %d) --\n", level);
    fflush (conn->trace);
  }
  return TRUE;
}

gboolean
msgtk_connection_is_compressed (MsgtkConnection *conn)
{
  return conn->zio != NULL;
}

/* The time a read of @len bytes (0: a line) may take in all: the timeout,
 * and a second more for each 64 KiB, so that a server that sends a byte now
 * and then cannot keep a session waiting for ever (nor a slow link fail a
 * big literal). */
static gint64
deadline_for (MsgtkConnection *conn, gsize len)
{
  return g_get_monotonic_time () + ((gint64)conn->timeout + (gint64)(len >> 16)) * G_USEC_PER_SEC;
}

static gboolean
too_slow (MsgtkConnection *conn, GError **error)
{
  g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_TEMP_FAIL,
               "%s server %s did not finish its answer within %u s (it sends too slowly)",
               conn->protocol, conn->host, conn->timeout);
  return FALSE;
}

/* Read what the server sent, by @deadline. */
static gboolean
fill (MsgtkConnection *conn, gint64 deadline, GError **error)
{
  guint8 buf[16384];
  g_autoptr (GError) local = NULL;
  gint64 left = deadline - g_get_monotonic_time ();
  if (left <= 0)
    return too_slow (conn, error);
  /* no read waits past the deadline (writes keep the whole timeout) */
  GSocket *sock = G_IS_SOCKET_CONNECTION (conn->base)
                      ? g_socket_connection_get_socket (G_SOCKET_CONNECTION (conn->base))
                      : NULL;
  if (sock != NULL)
    g_socket_set_timeout (sock, (guint)MAX ((left + G_USEC_PER_SEC - 1) / G_USEC_PER_SEC, 1));
  gssize n = g_input_stream_read (g_io_stream_get_input_stream (stream_of (conn)), buf, sizeof buf,
                                  NULL, &local);
  if (sock != NULL)
    g_socket_set_timeout (sock, conn->timeout);
  if (n > 0) {
    g_byte_array_append (conn->in, buf, (guint)n);
    conn->got_data = TRUE;
    return TRUE;
  }
  if (n == 0 || g_error_matches (local, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED)) {
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_TEMP_FAIL,
                 "%s server %s closed the connection unexpectedly", conn->protocol, conn->host);
    return FALSE;
  }
  if (g_error_matches (local, G_IO_ERROR, G_IO_ERROR_TIMED_OUT)) {
    if (conn->got_data && deadline - g_get_monotonic_time () < G_USEC_PER_SEC)
      return too_slow (conn, error);
    if (!conn->got_data && !conn->tls)
      error_set_hint (error, MSGTK_ERROR_HINT_USE_IMPLICIT_TLS, MSGTK_ERROR_TEMP_FAIL,
                      "no greeting from %s server %s port %u within %u s; the port may "
                      "expect TLS from the first byte (as 465 and 993 do)",
                      conn->protocol, conn->host, conn->port, conn->timeout);
    else
      g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_TEMP_FAIL,
                   "%s server %s did not answer within %u s", conn->protocol, conn->host,
                   conn->timeout);
    return FALSE;
  }
  g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_TEMP_FAIL, "reading from %s server %s failed: %s",
               conn->protocol, conn->host, local->message);
  return FALSE;
}

char *
msgtk_connection_read_line (MsgtkConnection *conn, GError **error)
{
  gsize scanned = 0;
  gint64 deadline = deadline_for (conn, 0);
  for (;;) {
    guint8 *nl = conn->in->len > scanned
                     ? memchr (conn->in->data + scanned, '\n', conn->in->len - scanned)
                     : NULL;
    if (nl) {
      gsize len = (gsize)(nl - conn->in->data);
      gsize end = len;
      if (end > 0 && conn->in->data[end - 1] == '\r')
        end--;
      if (end > conn->max_line)
        break;
      char *line = g_strndup ((const char *)conn->in->data, end);
      g_byte_array_remove_range (conn->in, 0, (guint)(len + 1));
      if (!conn->tls && !conn->got_data)
        conn->got_data = TRUE;
      /* A TLS alert record (0x15 0x03) where text was expected. */
      if (conn->trace) {
        if (conn->redact_server && end > 4)
          fprintf (conn->trace, "S: %.4s<redacted>\n", line);
        else
          trace_line (conn, "S:", line, end);
      }
      return line;
    }
    scanned = conn->in->len;
    if (conn->in->len > conn->max_line + 2)
      break;
    if (!fill (conn, deadline, error))
      return NULL;
    if (!conn->tls && conn->in->len >= 2 && conn->in->data[0] == 0x15
        && conn->in->data[1] == 0x03) {
      error_set_hint (error, MSGTK_ERROR_HINT_USE_IMPLICIT_TLS, MSGTK_ERROR_PROTOCOL,
                      "%s server %s port %u answered with TLS, not plaintext", conn->protocol,
                      conn->host, conn->port);
      return NULL;
    }
  }
  g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_PROTOCOL,
               "%s server %s sent a line longer than %zu bytes", conn->protocol, conn->host,
               conn->max_line);
  return NULL;
}

GBytes *
msgtk_connection_read_bytes (MsgtkConnection *conn, gsize len, GError **error)
{
  gint64 deadline = deadline_for (conn, len);
  while (conn->in->len < len)
    if (!fill (conn, deadline, error))
      return NULL;
  GBytes *b = g_bytes_new (conn->in->data, len);
  g_byte_array_remove_range (conn->in, 0, (guint)len);
  if (conn->trace)
    fprintf (conn->trace, "S: <%zu bytes>\n", len);
  return b;
}

void
msgtk_connection_queue_line (MsgtkConnection *conn, const char *line)
{
  trace_line (conn, "C:", line, strlen (line));
  g_byte_array_append (conn->out, (const guint8 *)line, (guint)strlen (line));
  g_byte_array_append (conn->out, (const guint8 *)"\r\n", 2);
}

void
msgtk_connection_queue_secret_line (MsgtkConnection *conn, const char *line, gsize visible)
{
  gsize len = strlen (line);
  if (conn->trace) {
    g_autofree char *shown = g_strndup (line, MIN (visible, len));
    fprintf (conn->trace, "C: %s%s<redacted>\n", shown, visible && visible < len ? " " : "");
  }
  conn->out_secret = TRUE;
  g_byte_array_append (conn->out, (const guint8 *)line, (guint)len);
  g_byte_array_append (conn->out, (const guint8 *)"\r\n", 2);
}

void
msgtk_connection_queue_data (MsgtkConnection *conn, const void *data, gsize len)
{
  if (conn->trace)
    fprintf (conn->trace, "C: <%zu bytes of message data>\n", len);
  g_byte_array_append (conn->out, data, (guint)len);
}

gboolean
msgtk_connection_flush (MsgtkConnection *conn, GError **error)
{
  g_autoptr (GError) local = NULL;
  if (conn->out->len == 0)
    return TRUE;
  /* on a compressed connection, flushing ends a deflate block (a sync
   * flush) and writes it out */
  GOutputStream *os = g_io_stream_get_output_stream (stream_of (conn));
  gsize written = 0;
  gboolean ok
      = g_output_stream_write_all (os, conn->out->data, conn->out->len, &written, NULL, &local)
        && g_output_stream_flush (os, NULL, &local);
  conn->written += written;
  if (conn->out_secret)
    memset (conn->out->data, 0, conn->out->len);
  conn->out_secret = FALSE;
  if (conn->out->len > 8 * 1024 * 1024) { /* do not keep the room a huge write took */
    g_byte_array_unref (conn->out);
    conn->out = g_byte_array_new ();
  } else {
    g_byte_array_set_size (conn->out, 0);
  }
  if (!ok && g_error_matches (local, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED)) {
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_TEMP_FAIL,
                 "%s server %s closed the connection unexpectedly (while sending)", conn->protocol,
                 conn->host);
    return FALSE;
  }
  if (!ok) {
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_TEMP_FAIL, "writing to %s server %s failed: %s",
                 conn->protocol, conn->host, local->message);
    return FALSE;
  }
  return TRUE;
}

void
msgtk_connection_set_trace (MsgtkConnection *conn, FILE *out)
{
  conn->trace = out;
  if (out && conn->tls) /* implicit TLS: the handshake came before the trace */
    trace_tls (conn);
}

void
msgtk_connection_add_secret (MsgtkConnection *conn, const char *secret)
{
  if (secret && *secret)
    g_ptr_array_add (conn->secrets, g_strdup (secret));
}

void
msgtk_connection_redact_server (MsgtkConnection *conn, gboolean on)
{
  conn->redact_server = on;
}

guint64
msgtk_connection_bytes_written (MsgtkConnection *conn)
{
  return conn->written;
}
