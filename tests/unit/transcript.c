/* The transcript harness: parser, scripted server (with TLS, deflate
 * compression and a reference SASL server), and the runner of a
 * transcript's own client steps. */
#include "transcript.h"

#include <glib/gstdio.h>
#include <gsasl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#define PEER_TIMEOUT 10  /* seconds the scripted server waits for the client */
#define CLIENT_TIMEOUT 5 /* the client's timeout: below the server's */

/* ------------------------------------------------------------ the format */

typedef enum {
  ITEM_SERVER,     /* S: a line the server sends */
  ITEM_CLIENT,     /* C: a line the client must send */
  ITEM_TLS,        /* -- TLS --: both do the TLS handshake */
  ITEM_COMPRESS,   /* -- COMPRESS --: both compress from here (raw deflate) */
  ITEM_CLOSE,      /* -- close --: the server closes the connection */
  ITEM_CONNECTION, /* -- connection --: the client's next connection */
} ItemKind;

typedef struct {
  ItemKind kind;
  char *text;
  guint line;
} Item;

typedef struct {
  char *key;
  char *value;
  guint line;
} Field;

struct _Transcript {
  char *name;
  GPtrArray *fields; /* Field, in the order written */
  GArray *items;     /* Item, in the order written */
  gboolean tls;      /* a -- TLS -- line */
  gboolean tls_first;
  gboolean sasl;     /* a <sasl> placeholder */
  guint connections; /* how many the dialogue has */
};

/* The header fields the server reads, and those for transcript_run's
 * client (its steps, its account, what it sends). */
static const char *const server_keys[] = {
  "protocol", "user", "password", "sasl-server", "server-password", NULL,
};
static const char *const client_keys[] = {
  "run",       "fails",   "mechanism", "tls",        "allow-plaintext-auth", "token", "auth",
  "mail-from", "rcpt-to", "message",   "dsn-notify", "dsn-return",           "envid", "no-chunking",
  "mailbox",   "create",  "compress",  NULL,
};

/* The placeholders, and on which side they may stand. */
static const struct {
  const char *token;
  gboolean client, server;
} placeholders[] = {
  { "<sasl>", TRUE, TRUE },
  { "<sasl:refused>", TRUE, FALSE },
  { "<sasl:forged>", FALSE, TRUE },
  { "<*>", TRUE, FALSE },
};

/* The placeholder in @text (its index, -1 for none) and where it stands. */
static int
find_placeholder (const char *text, const char **at)
{
  int found = -1;
  *at = NULL;
  for (guint i = 0; i < G_N_ELEMENTS (placeholders); i++) {
    const char *p = strstr (text, placeholders[i].token);
    if (p != NULL && (*at == NULL || p < *at)) {
      *at = p;
      found = (int)i;
    }
  }
  return found;
}

static void
item_clear (gpointer data)
{
  g_free (((Item *)data)->text);
}

static void
field_free (gpointer data)
{
  Field *f = data;
  g_free (f->key);
  g_free (f->value);
  g_free (f);
}

void
transcript_free (Transcript *t)
{
  if (t == NULL)
    return;
  g_free (t->name);
  g_ptr_array_unref (t->fields);
  g_array_unref (t->items);
  g_free (t);
}

static const char *
field (Transcript *t, const char *key)
{
  const char *value = NULL;
  for (guint i = 0; i < t->fields->len; i++) {
    Field *f = t->fields->pdata[i];
    if (strcmp (f->key, key) == 0)
      value = f->value;
  }
  return value;
}

static gboolean
field_yes (Transcript *t, const char *key)
{
  const char *v = field (t, key);
  return v != NULL && (g_ascii_strcasecmp (v, "yes") == 0 || g_ascii_strcasecmp (v, "true") == 0);
}

static gboolean
parse_line (Transcript *t, char *l, guint n, gboolean *dialogue, GError **error)
{
  Item it = { .line = n };
  if ((l[0] == 'S' || l[0] == 'C') && l[1] == ':') {
    it.kind = l[0] == 'S' ? ITEM_SERVER : ITEM_CLIENT;
    it.text = g_strdup (l[2] == ' ' ? l + 3 : l + 2);
    const char *at;
    int ph = find_placeholder (it.text, &at);
    if (ph >= 0) {
      const char *other;
      gboolean side = it.kind == ITEM_CLIENT ? placeholders[ph].client : placeholders[ph].server;
      if (!side || find_placeholder (at + strlen (placeholders[ph].token), &other) >= 0) {
        if (!side)
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       "%s:%u: %s cannot stand in %s: lines", t->name, n, placeholders[ph].token,
                       it.kind == ITEM_CLIENT ? "C" : "S");
        else
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s:%u: one placeholder a line",
                       t->name, n);
        g_free (it.text);
        return FALSE;
      }
      t->sasl = t->sasl || ph != 3;
    }
  } else if (strcmp (l, "-- TLS --") == 0) {
    it.kind = ITEM_TLS;
    /* first in the first connection: implicit TLS */
    t->tls_first
        = t->tls_first || t->items->len == 0
          || (t->items->len == 1 && g_array_index (t->items, Item, 0).kind == ITEM_CONNECTION);
    t->tls = TRUE;
  } else if (strcmp (l, "-- COMPRESS --") == 0) {
    it.kind = ITEM_COMPRESS;
  } else if (strcmp (l, "-- close --") == 0) {
    it.kind = ITEM_CLOSE;
  } else if (strcmp (l, "-- connection --") == 0) {
    it.kind = ITEM_CONNECTION;
    t->connections++;
  } else {
    char *colon = strchr (l, ':');
    if (*dialogue || colon == NULL || colon == l) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "%s:%u: neither a header field (before the dialogue), nor S:, C:, "
                   "-- TLS --, -- COMPRESS --, -- close --, -- connection --, nor a # comment: "
                   "'%s'",
                   t->name, n, l);
      return FALSE;
    }
    Field *f = g_new0 (Field, 1);
    f->key = g_ascii_strdown (l, colon - l);
    f->value = g_strstrip (g_strdup (colon + 1));
    f->line = n;
    if (!g_strv_contains (server_keys, f->key) && !g_strv_contains (client_keys, f->key)) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s:%u: unknown header field '%s'",
                   t->name, n, f->key);
      field_free (f);
      return FALSE;
    }
    g_ptr_array_add (t->fields, f);
    return TRUE;
  }
  if (!*dialogue && it.kind != ITEM_CONNECTION)
    t->connections++; /* the first connection needs no marker */
  *dialogue = TRUE;
  g_array_append_val (t->items, it);
  return TRUE;
}

Transcript *
transcript_parse (const char *name, const char *text, GError **error)
{
  g_autoptr (Transcript) t = g_new0 (Transcript, 1);
  t->name = g_strdup (name);
  t->fields = g_ptr_array_new_with_free_func (field_free);
  t->items = g_array_new (FALSE, TRUE, sizeof (Item));
  g_array_set_clear_func (t->items, item_clear);
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  gboolean dialogue = FALSE;
  for (guint i = 0; lines[i] != NULL; i++) {
    char *l = lines[i];
    gsize len = strlen (l);
    if (len > 0 && l[len - 1] == '\r')
      l[len - 1] = '\0';
    if (l[0] == '#' || l[0] == '\0')
      continue;
    if (!parse_line (t, l, i + 1, &dialogue, error))
      return NULL;
  }
  if (t->sasl && field (t, "sasl-server") == NULL) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                 "%s: <sasl> placeholders need a reference server: sasl-server: MECHANISM",
                 t->name);
    return NULL;
  }
  return g_steal_pointer (&t);
}

Transcript *
transcript_load (const char *path, GError **error)
{
  g_autofree char *text = NULL;
  if (!g_file_get_contents (path, &text, NULL, error))
    return NULL;
  g_autofree char *base = g_path_get_basename (path);
  return transcript_parse (base, text, error);
}

/* ---------------------------------------------- files the harness makes */

static char *harness_dir;
static char *cert_file, *key_file;
static GTlsCertificate *certificate;

static void
remove_harness_dir (void)
{
  g_autoptr (GDir) d = g_dir_open (harness_dir, 0, NULL);
  for (const char *n; d != NULL && (n = g_dir_read_name (d)) != NULL;) {
    g_autofree char *p = g_build_filename (harness_dir, n, NULL);
    g_remove (p);
  }
  g_rmdir (harness_dir);
}

static const char *
get_harness_dir (void)
{
  static gsize once;
  if (g_once_init_enter (&once)) {
    g_autoptr (GError) error = NULL;
    harness_dir = g_dir_make_tmp ("msgtk-transcript-XXXXXX", &error);
    g_assert_no_error (error);
    atexit (remove_harness_dir);
    g_once_init_leave (&once, 1);
  }
  return harness_dir;
}

/* A throw-away self-signed certificate for 127.0.0.1 (as
 * tests/servers/peers.py makes one), made the first time one is needed. */
static GTlsCertificate *
get_certificate (void)
{
  static gsize once;
  if (g_once_init_enter (&once)) {
    cert_file = g_build_filename (get_harness_dir (), "cert.pem", NULL);
    key_file = g_build_filename (get_harness_dir (), "key.pem", NULL);
    const char *argv[] = { "openssl",
                           "req",
                           "-x509",
                           "-newkey",
                           "ec",
                           "-pkeyopt",
                           "ec_paramgen_curve:prime256v1",
                           "-nodes",
                           "-days",
                           "30",
                           "-subj",
                           "/CN=localhost",
                           "-addext",
                           "subjectAltName=DNS:localhost,IP:127.0.0.1",
                           "-keyout",
                           key_file,
                           "-out",
                           cert_file,
                           NULL };
    g_autoptr (GError) error = NULL;
    g_autofree char *err = NULL;
    int status = 0;
    if (!g_spawn_sync (NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL,
                       NULL, NULL, NULL, &err, &status, &error)
        || !g_spawn_check_wait_status (status, &error))
      g_error ("transcripts with TLS need a certificate, and openssl could not make one "
               "(scripts/bootstrap installs it): %s %s",
               error->message, err ? err : "");
    certificate = g_tls_certificate_new_from_files (cert_file, key_file, &error);
    g_assert_no_error (error);
    g_once_init_leave (&once, 1);
  }
  return certificate;
}

/* -------------------------------------------------------- the peer */

struct _TranscriptPeer {
  Transcript *t;
  Transcript *owned;
  GSocket *listener;
  guint16 port;
  GThread *thread;
  gint stop;     /* atomic: the client side is done */
  char *failure; /* the first departure from the transcript */
  /* the thread's, read by others only after the join */
  GIOStream *conn;  /* the TCP connection */
  GIOStream *io;    /* what is read and written: conn, TLS over it, deflate over either */
  GIOStream *plain; /* under deflate (kept: TLS's streams need their connection) */
  GByteArray *in;   /* read, not yet matched */
  gboolean eof;
  Gsasl *sasl_ctx; /* the reference SASL server */
  Gsasl_session *sasl;
  gboolean sasl_stepped;
  char *sasl_out;     /* its message, not yet sent */
  GPtrArray *secrets; /* what the client sent for <sasl>: never in a trace */
};

/* @text as it can be shown in one line of a message: control bytes
 * escaped (CR as \r, LF as \n), at most 300 bytes. */
static char *
shown (const char *text, gsize len)
{
  GString *out = g_string_new (NULL);
  for (gsize i = 0; i < MIN (len, 300); i++) {
    guchar c = (guchar)text[i];
    if (c == '\r')
      g_string_append (out, "\\r");
    else if (c == '\n')
      g_string_append (out, "\\n");
    else if (c < 0x20 || c == 0x7f)
      g_string_append_printf (out, "\\x%02x", c);
    else
      g_string_append_c (out, (char)c);
  }
  if (len > 300)
    g_string_append (out, "...");
  return g_string_free (out, FALSE);
}

G_GNUC_PRINTF (3, 4)
static gboolean
fail (TranscriptPeer *p, guint line, const char *format, ...)
{
  va_list ap;
  va_start (ap, format);
  g_autofree char *what = g_strdup_vprintf (format, ap);
  va_end (ap);
  if (p->failure == NULL) {
    p->failure = line ? g_strdup_printf ("%s:%u: %s", p->t->name, line, what)
                      : g_strdup_printf ("%s: %s", p->t->name, what);
    if (g_test_initialized ())
      g_test_message ("transcript: %s", p->failure);
  }
  return FALSE;
}

static gboolean
io_closed (const GError *e)
{
  return g_error_matches (e, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED)
         || g_error_matches (e, G_IO_ERROR, G_IO_ERROR_BROKEN_PIPE)
         /* a deflate stream closed without its final block */
         || g_error_matches (e, G_IO_ERROR, G_IO_ERROR_PARTIAL_INPUT)
         || g_error_matches (e, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED)
         || g_error_matches (e, G_TLS_ERROR, G_TLS_ERROR_EOF);
}

/* Read what comes, into p->in. FALSE at the end of the stream (p->eof) or
 * on an error (@error), e.g. the timeout. */
static gboolean
fill (TranscriptPeer *p, GError **error)
{
  guint8 buf[65536];
  g_autoptr (GError) local = NULL;
  gssize n
      = g_input_stream_read (g_io_stream_get_input_stream (p->io), buf, sizeof buf, NULL, &local);
  if (n > 0) {
    g_byte_array_append (p->in, buf, (guint)n);
    return TRUE;
  }
  if (n == 0 || io_closed (local))
    p->eof = TRUE;
  else
    g_propagate_error (error, g_steal_pointer (&local));
  return FALSE;
}

/* Before the server speaks: the client must not have sent anything yet
 * that the transcript puts after what the server says now. */
static gboolean
check_quiet (TranscriptPeer *p, const Item *it, const char *what)
{
  GInputStream *in = g_io_stream_get_input_stream (p->io);
  if (p->in->len == 0 && !p->eof && G_IS_POLLABLE_INPUT_STREAM (in)
      && g_pollable_input_stream_is_readable (G_POLLABLE_INPUT_STREAM (in))) {
    guint8 buf[65536];
    g_autoptr (GError) local = NULL;
    gssize n = g_pollable_input_stream_read_nonblocking (G_POLLABLE_INPUT_STREAM (in), buf,
                                                         sizeof buf, NULL, &local);
    if (n > 0)
      g_byte_array_append (p->in, buf, (guint)n);
    else if (n == 0 || io_closed (local))
      p->eof = TRUE;
  }
  if (p->in->len == 0)
    return TRUE;
  g_autofree char *early = shown ((const char *)p->in->data, p->in->len);
  return fail (p, it->line, "the client sent '%s' before %s (the transcript has it after)", early,
               what);
}

/* Before the handshake: what the client sent must be its first TLS
 * record (a handshake record, 0x16: it may have sent its ClientHello the
 * moment it connected, or read STARTTLS's reply), not plaintext. Only
 * looked at: it is the TLS layer's to read. */
static gboolean
check_quiet_before_tls (TranscriptPeer *p, const Item *it)
{
  if (p->in->len > 0)
    return check_quiet (p, it, "the TLS handshake");
  GSocket *sock = g_socket_connection_get_socket (G_SOCKET_CONNECTION (p->conn));
  char buf[300];
  gssize n = recv (g_socket_get_fd (sock), buf, sizeof buf, MSG_PEEK | MSG_DONTWAIT);
  if (n <= 0 || buf[0] == 0x16)
    return TRUE;
  g_autofree char *early = shown (buf, (gsize)n);
  return fail (p, it->line,
               "the client sent '%s' before the TLS handshake (the transcript has it "
               "after)",
               early);
}

static gboolean
read_line (TranscriptPeer *p, const Item *it, char **line)
{
  for (;;) {
    guint8 *crlf = p->in->len >= 2 ? memmem (p->in->data, p->in->len, "\r\n", 2) : NULL;
    if (crlf != NULL) {
      gsize len = (gsize)(crlf - p->in->data);
      *line = g_strndup ((const char *)p->in->data, len);
      if (memchr (p->in->data, '\0', len) != NULL) {
        g_autofree char *got = shown ((const char *)p->in->data, len);
        g_byte_array_remove_range (p->in, 0, (guint)len + 2);
        return fail (p, it->line, "the client sent a NUL byte in '%s'", got);
      }
      g_byte_array_remove_range (p->in, 0, (guint)len + 2);
      return TRUE;
    }
    g_autoptr (GError) error = NULL;
    if (p->eof || !fill (p, &error)) {
      g_autofree char *want = shown (it->text, strlen (it->text));
      g_autofree char *part = shown ((const char *)p->in->data, p->in->len);
      if (p->eof)
        return fail (p, it->line,
                     "the transcript expects C: '%s'; the client closed the connection%s%s%s", want,
                     p->in->len ? " after '" : "", p->in->len ? part : "",
                     p->in->len ? "' (no CRLF)" : "");
      return fail (p, it->line, "the transcript expects C: '%s'; the client sent %s%s%s (%s)", want,
                   p->in->len ? "'" : "nothing", p->in->len ? part : "",
                   p->in->len ? "' and no CRLF" : "", error->message);
    }
  }
}

/* ---- the reference SASL server ---- */

static int
sasl_callback (Gsasl *ctx, Gsasl_session *session, Gsasl_property prop)
{
  TranscriptPeer *p = gsasl_callback_hook_get (ctx);
  const char *user = field (p->t, "user");
  const char *password = field (p->t, "server-password");
  if (password == NULL)
    password = field (p->t, "password");
  const char *authid = gsasl_property_fast (session, GSASL_AUTHID);
  switch (prop) {
  case GSASL_PASSWORD:
    if (g_strcmp0 (authid, user) != 0 || password == NULL)
      return GSASL_NO_CALLBACK;
    gsasl_property_set (session, GSASL_PASSWORD, password);
    return GSASL_OK;
  case GSASL_VALIDATE_SIMPLE:
    return g_strcmp0 (authid, user) == 0
                   && g_strcmp0 (gsasl_property_fast (session, GSASL_PASSWORD), password) == 0
               ? GSASL_OK
               : GSASL_AUTHENTICATION_ERROR;
  default: return GSASL_NO_CALLBACK;
  }
}

static gboolean
sasl_server (TranscriptPeer *p, const Item *it)
{
  if (p->sasl != NULL)
    return TRUE;
  const char *mech = field (p->t, "sasl-server");
  int rc = gsasl_init (&p->sasl_ctx);
  if (rc == GSASL_OK) {
    gsasl_callback_set (p->sasl_ctx, sasl_callback);
    gsasl_callback_hook_set (p->sasl_ctx, p);
    rc = gsasl_server_start (p->sasl_ctx, mech, &p->sasl);
  }
  if (rc != GSASL_OK)
    return fail (p, it->line, "the reference SASL server cannot start %s: %s", mech,
                 gsasl_strerror (rc));
  const char *protocol = field (p->t, "protocol");
  gsasl_property_set (p->sasl, GSASL_SERVICE, protocol ? protocol : "smtp");
  gsasl_property_set (p->sasl, GSASL_HOSTNAME, "mx.test");
  return TRUE;
}

/* Give the client's @message to the reference server, which must take it
 * (or, with @refused, refuse it). */
static gboolean
sasl_take (TranscriptPeer *p, const Item *it, const char *message, gboolean refused)
{
  if (!sasl_server (p, it))
    return FALSE;
  char *out = NULL;
  /* "=": an empty initial response */
  int rc = gsasl_step64 (p->sasl, strcmp (message, "=") == 0 ? "" : message, &out);
  p->sasl_stepped = TRUE;
  g_free (p->sasl_out);
  p->sasl_out = g_strdup (out);
  gsasl_free (out);
  if (strlen (message) >= 8)
    g_ptr_array_add (p->secrets, g_strdup (message));
  gboolean ok = rc == GSASL_OK || rc == GSASL_NEEDS_MORE;
  if (refused && ok)
    return fail (p, it->line,
                 "the reference SASL server took the client's message, which the "
                 "transcript says it refuses");
  if (!refused && !ok)
    return fail (p, it->line, "the reference SASL server refused the client's message: %s",
                 gsasl_strerror (rc));
  return TRUE;
}

/* The reference server's next message (for a server-first mechanism, its
 * first challenge); @forged: with the SCRAM signature changed. */
static char *
sasl_give (TranscriptPeer *p, const Item *it, gboolean forged)
{
  if (!sasl_server (p, it))
    return NULL;
  if (!p->sasl_stepped) {
    char *out = NULL;
    int rc = gsasl_step64 (p->sasl, "", &out);
    p->sasl_stepped = TRUE;
    p->sasl_out = g_strdup (out);
    gsasl_free (out);
    if (rc != GSASL_NEEDS_MORE) {
      fail (p, it->line, "the reference SASL server has no first challenge: %s",
            gsasl_strerror (rc));
      return NULL;
    }
  }
  if (p->sasl_out == NULL) {
    fail (p, it->line, "the reference SASL server has nothing to send here");
    return NULL;
  }
  char *msg = g_steal_pointer (&p->sasl_out);
  if (!forged)
    return msg;
  gsize n = 0;
  g_autofree guchar *raw = g_base64_decode (msg, &n);
  g_free (msg);
  if (n < 3 || raw[0] != 'v' || raw[1] != '=') {
    fail (p, it->line, "<sasl:forged> stands for SCRAM's final message (v=...), not this one");
    return NULL;
  }
  raw[2] = raw[2] == 'A' ? 'B' : 'A'; /* the first six bits of the signature */
  return g_base64_encode (raw, n);
}

/* ---- the dialogue ---- */

static gboolean
server_line (TranscriptPeer *p, const Item *it, GString *out)
{
  const char *at;
  int ph = find_placeholder (it->text, &at);
  if (ph < 0) {
    g_string_append (out, it->text);
  } else {
    g_autofree char *msg = sasl_give (p, it, ph == 2);
    if (msg == NULL)
      return FALSE;
    g_string_append_len (out, it->text, at - it->text);
    g_string_append (out, msg);
    g_string_append (out, at + strlen (placeholders[ph].token));
  }
  g_string_append (out, "\r\n");
  return TRUE;
}

static gboolean
client_line (TranscriptPeer *p, const Item *it, const char *got)
{
  const char *at;
  int ph = find_placeholder (it->text, &at);
  gboolean ok;
  g_autofree char *mid = NULL;
  if (ph < 0) {
    ok = strcmp (got, it->text) == 0;
  } else {
    gsize pre = (gsize)(at - it->text);
    const char *suffix = at + strlen (placeholders[ph].token);
    gsize len = strlen (got), suf = strlen (suffix);
    ok = len >= pre + suf && strncmp (got, it->text, pre) == 0
         && strcmp (got + len - suf, suffix) == 0;
    if (ok)
      mid = g_strndup (got + pre, len - pre - suf);
    if (ok && ph != 3) /* <sasl>: a base64 message */
      ok = strspn (mid, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=")
           == strlen (mid);
  }
  if (!ok && ph < 0) {
    /* long lines (message data) are shown from a little before they differ */
    gsize d = 0;
    while (got[d] != '\0' && got[d] == it->text[d])
      d++;
    gsize from = d > 100 ? d - 20 : 0;
    g_autofree char *want = shown (it->text + from, strlen (it->text + from));
    g_autofree char *sent = shown (got + from, strlen (got + from));
    g_autofree char *where
        = from ? g_strdup_printf (" (from byte %" G_GSIZE_FORMAT " on, where they differ)", from)
               : g_strdup ("");
    return fail (p, it->line, "the transcript expects C: '%s%s', the client sent '%s%s'%s",
                 from ? "..." : "", want, from ? "..." : "", sent, where);
  }
  if (!ok) {
    g_autofree char *want = shown (it->text, strlen (it->text));
    g_autofree char *sent = shown (got, strlen (got));
    return fail (p, it->line, "the transcript expects C: '%s', the client sent '%s'", want, sent);
  }
  if (ph == 0 || ph == 1)
    return sasl_take (p, it, mid, ph == 1);
  return TRUE;
}

static gboolean
write_out (TranscriptPeer *p, const Item *it, GString *out)
{
  g_autoptr (GError) error = NULL;
  GOutputStream *os = g_io_stream_get_output_stream (p->io);
  /* flushing: a sync flush when compressed */
  if (g_output_stream_write_all (os, out->str, out->len, NULL, NULL, &error)
      && g_output_stream_flush (os, NULL, &error))
    return TRUE;
  g_autofree char *text = shown (out->str, out->len);
  return fail (p, it->line, "cannot send '%s': %s (has the client gone?)", text, error->message);
}

static gboolean
handshake (TranscriptPeer *p, const Item *it)
{
  g_autoptr (GError) error = NULL;
  GIOStream *tls = g_tls_server_connection_new (p->conn, get_certificate (), &error);
  if (tls == NULL)
    return fail (p, it->line, "cannot set up TLS: %s", error->message);
  g_tls_connection_set_require_close_notify (G_TLS_CONNECTION (tls), FALSE);
  if (!g_tls_connection_handshake (G_TLS_CONNECTION (tls), NULL, &error)) {
    g_object_unref (tls);
    return fail (p, it->line, "the TLS handshake failed: %s", error->message);
  }
  g_object_unref (p->io);
  p->io = tls;
  return TRUE;
}

/* Both sides compress from here on (IMAP COMPRESS DEFLATE's OK): what the
 * client sent before must have been read, as plaintext. */
static gboolean
start_compression (TranscriptPeer *p, const Item *it)
{
  if (p->in->len > 0) {
    g_autofree char *early = shown ((const char *)p->in->data, p->in->len);
    return fail (p, it->line,
                 "the client sent '%s' before compression started (the transcript has it after)",
                 early);
  }
  g_autoptr (GZlibDecompressor) inflater = g_zlib_decompressor_new (G_ZLIB_COMPRESSOR_FORMAT_RAW);
  g_autoptr (GZlibCompressor) deflater = g_zlib_compressor_new (G_ZLIB_COMPRESSOR_FORMAT_RAW, -1);
  g_autoptr (GInputStream) in
      = g_converter_input_stream_new (g_io_stream_get_input_stream (p->io), G_CONVERTER (inflater));
  g_autoptr (GOutputStream) out = g_converter_output_stream_new (
      g_io_stream_get_output_stream (p->io), G_CONVERTER (deflater));
  p->plain = p->io;
  p->io = g_simple_io_stream_new (in, out);
  return TRUE;
}

/* After the last line: the client must close without sending more. */
static void
read_to_end (TranscriptPeer *p)
{
  while (!p->eof) {
    g_autoptr (GError) error = NULL;
    if (!fill (p, &error) && !p->eof) {
      fail (p, 0,
            "the client neither closed the connection nor sent anything after the end of "
            "the transcript (%s)",
            error->message);
      return;
    }
  }
  if (p->in->len > 0) {
    g_autofree char *more = shown ((const char *)p->in->data, p->in->len);
    fail (p, 0, "after the end of the transcript, the client sent '%s'", more);
  }
}

/* The client's next connection (@n of the transcript's; beyond them, one
 * too many), taken as the client makes it; FALSE once the client side is
 * done without it. */
static gboolean
accept_client (TranscriptPeer *p, guint n)
{
  guint want = p->t->connections;
  for (gboolean last = FALSE; !last;) {
    /* once the client side is done: one more look, for a connection made
     * just before */
    last = g_atomic_int_get (&p->stop);
    if (g_socket_condition_timed_wait (p->listener, G_IO_IN, last ? 0 : 100 * 1000, NULL, NULL)) {
      g_autoptr (GSocket) sock = g_socket_accept (p->listener, NULL, NULL);
      if (sock != NULL && n > want) {
        fail (p, 0, "the client opened connection %u; the transcript has %u", n, want);
        g_socket_close (sock, NULL);
        return FALSE;
      }
      if (sock != NULL) {
        g_socket_set_timeout (sock, PEER_TIMEOUT);
        p->conn = G_IO_STREAM (g_socket_connection_factory_create_connection (sock));
        p->io = g_object_ref (p->conn);
        return TRUE;
      }
    }
  }
  if (n == 1 && want > 0)
    fail (p, 0, "the client never connected");
  else if (n <= want)
    fail (p, 0, "the client never opened connection %u of the transcript's %u", n, want);
  return FALSE;
}

/* One connection is over: what the next one starts from. */
static void
end_connection (TranscriptPeer *p)
{
  g_io_stream_close (p->io, NULL, NULL);
  g_clear_object (&p->io);
  g_clear_object (&p->plain);
  g_clear_object (&p->conn);
  g_byte_array_set_size (p->in, 0);
  p->eof = FALSE;
  if (p->sasl != NULL) /* a new exchange for each connection */
    gsasl_finish (p->sasl);
  p->sasl = NULL;
  p->sasl_stepped = FALSE;
  g_clear_pointer (&p->sasl_out, g_free);
}

/* Play the items of one connection, from @i; returns where the next
 * connection starts. */
static guint
play_connection (TranscriptPeer *p, guint i)
{
  GArray *items = p->t->items;
  gboolean closed = FALSE;
  while (i < items->len && p->failure == NULL && !closed) {
    const Item *it = &g_array_index (items, Item, i);
    if (it->kind == ITEM_CONNECTION)
      break;
    if (it->kind == ITEM_SERVER) {
      /* the server's lines up to the next client line go out in one write */
      g_autoptr (GString) out = g_string_new (NULL);
      guint j = i;
      for (; j < items->len && g_array_index (items, Item, j).kind == ITEM_SERVER; j++)
        if (!server_line (p, &g_array_index (items, Item, j), out))
          break;
      g_autofree char *what = g_strdup_printf ("the server's '%s'", it->text);
      if (p->failure == NULL && check_quiet (p, it, what))
        write_out (p, it, out);
      i = j;
    } else if (it->kind == ITEM_CLIENT) {
      g_autofree char *line = NULL;
      if (read_line (p, it, &line))
        client_line (p, it, line);
      i++;
    } else if (it->kind == ITEM_TLS) {
      if (check_quiet_before_tls (p, it))
        handshake (p, it);
      i++;
    } else if (it->kind == ITEM_COMPRESS) {
      start_compression (p, it);
      i++;
    } else {
      closed = TRUE;
      i++;
    }
  }
  if (p->failure == NULL && !closed)
    read_to_end (p);
  /* the rest of this connection, to its end or to the next one */
  while (i < items->len && g_array_index (items, Item, i).kind != ITEM_CONNECTION)
    i++;
  return i < items->len ? i + 1 : i;
}

static gpointer
peer_run (gpointer data)
{
  TranscriptPeer *p = data;
  guint i = 0;
  if (p->t->items->len > 0 && g_array_index (p->t->items, Item, 0).kind == ITEM_CONNECTION)
    i = 1; /* the first connection's marker */
  for (guint n = 1; p->failure == NULL && accept_client (p, n); n++) {
    i = play_connection (p, i);
    end_connection (p);
  }
  /* done (the client is, or it departed): a client that connects now is
   * refused at once instead of waiting for a server that will not answer */
  g_socket_close (p->listener, NULL);
  return NULL;
}

TranscriptPeer *
transcript_peer_new (Transcript *t, GError **error)
{
  g_autoptr (GSocket) listener
      = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, error);
  g_autoptr (GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) addr = g_inet_socket_address_new (lo, 0);
  if (listener == NULL || !g_socket_bind (listener, addr, TRUE, error)
      || !g_socket_listen (listener, error))
    return NULL;
  g_autoptr (GSocketAddress) bound = g_socket_get_local_address (listener, error);
  if (bound == NULL)
    return NULL;
  TranscriptPeer *p = g_new0 (TranscriptPeer, 1);
  p->t = t;
  p->in = g_byte_array_new ();
  p->secrets = g_ptr_array_new_with_free_func (g_free);
  p->listener = g_steal_pointer (&listener);
  p->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  if (t->tls)
    get_certificate (); /* before the thread needs it */
  p->thread = g_thread_new ("transcript-peer", peer_run, p);
  return p;
}

TranscriptPeer *
transcript_peer_start (Transcript *t)
{
  g_autoptr (GError) error = NULL;
  TranscriptPeer *p = transcript_peer_new (t, &error);
  g_assert_no_error (error);
  return p;
}

const char *
transcript_peer_get_cafile (TranscriptPeer *p)
{
  get_certificate ();
  return cert_file;
}

gboolean
transcript_check_server_only (Transcript *t, GError **error)
{
  for (guint i = 0; i < t->fields->len; i++) {
    Field *f = t->fields->pdata[i];
    if (!g_strv_contains (server_keys, f->key)) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "%s:%u: '%s' is for test-transcripts' own client; here the client is "
                   "the program under test, and the header says only what the server needs "
                   "(protocol, sasl-server, user, password, server-password)",
                   t->name, f->line, f->key);
      return FALSE;
    }
  }
  return TRUE;
}

guint16
transcript_peer_get_port (TranscriptPeer *p)
{
  return p->port;
}

static void
peer_free (TranscriptPeer *p)
{
  g_clear_object (&p->io);
  g_clear_object (&p->plain);
  g_clear_object (&p->conn);
  g_clear_object (&p->listener);
  g_byte_array_unref (p->in);
  if (p->sasl != NULL)
    gsasl_finish (p->sasl);
  if (p->sasl_ctx != NULL)
    gsasl_done (p->sasl_ctx);
  g_free (p->sasl_out);
  g_ptr_array_unref (p->secrets);
  g_free (p->failure);
  transcript_free (p->owned);
  g_free (p);
}

static void
peer_join (TranscriptPeer *p)
{
  if (p->thread == NULL)
    return;
  g_atomic_int_set (&p->stop, 1);
  g_thread_join (p->thread);
  p->thread = NULL;
}

gboolean
transcript_peer_finish (TranscriptPeer *p, GError **error)
{
  peer_join (p);
  gboolean ok = p->failure == NULL;
  if (!ok)
    g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_FAILED, p->failure);
  peer_free (p);
  return ok;
}

TranscriptPeer *
transcript_start_text (const char *name, const char *text)
{
  g_autoptr (GError) error = NULL;
  Transcript *t = transcript_parse (name, text, &error);
  g_assert_no_error (error);
  TranscriptPeer *p = transcript_peer_start (t);
  p->owned = t;
  return p;
}

void
transcript_assert_finish (TranscriptPeer *p)
{
  g_autoptr (GError) error = NULL;
  transcript_peer_finish (p, &error);
  g_assert_no_error (error);
}

GIOStream *
transcript_peer_connect (TranscriptPeer *p)
{
  g_autoptr (GSocketClient) client = g_socket_client_new ();
  g_socket_client_set_timeout (client, CLIENT_TIMEOUT);
  /* as msgtk_connection_open(): no proxy resolver (libproxy) for loopback */
  g_socket_client_set_enable_proxy (client, FALSE);
  g_autoptr (GError) error = NULL;
  GSocketConnection *c
      = g_socket_client_connect_to_host (client, "127.0.0.1", p->port, NULL, &error);
  g_assert_no_error (error);
  return G_IO_STREAM (c);
}

MsgtkAccount *
transcript_peer_account (TranscriptPeer *p)
{
  Transcript *t = p->t;
  MsgtkAccount *a = msgtk_account_new ();
  a->host = g_strdup ("127.0.0.1");
  a->port = p->port;
  a->timeout = CLIENT_TIMEOUT;
  a->netrc = FALSE;
  const char *tls = field (t, "tls");
  if (tls != NULL)
    g_assert_true (msgtk_tls_mode_from_string (tls, &a->tls));
  else
    a->tls = t->tls_first ? MSGTK_TLS_IMPLICIT : t->tls ? MSGTK_TLS_STARTTLS : MSGTK_TLS_NONE;
  if (t->tls || a->tls != MSGTK_TLS_NONE) {
    get_certificate ();
    a->trust_file = g_strdup (cert_file);
  }
  a->user = g_strdup (field (t, "user"));
  a->password = g_strdup (field (t, "password"));
  a->auth = g_strdup (field (t, "auth"));
  a->allow_plaintext_auth = field_yes (t, "allow-plaintext-auth");
  const char *compress = field (t, "compress");
  if (compress != NULL)
    g_assert_true (msgtk_compress_mode_from_string (compress, &a->compress));
  const char *token = field (t, "token");
  if (token != NULL) {
    static gint serial;
    g_autofree char *name = g_strdup_printf ("token-%d", g_atomic_int_add (&serial, 1));
    a->token_file = g_build_filename (get_harness_dir (), name, NULL);
    g_autoptr (GError) error = NULL;
    g_file_set_contents_full (a->token_file, token, -1, G_FILE_SET_CONTENTS_NONE, 0600, &error);
    g_assert_no_error (error);
  }
  return a;
}

/* ------------------------------------------------------------ the runner */

typedef struct {
  Transcript *t;
  TranscriptPeer *peer;
  MsgtkAccount *account;
  FILE *trace;
  MsgtkSmtp *smtp;
  MsgtkImapSession *imap;
} Run;

typedef gboolean (*StepFunc) (Run *run, GError **error);

typedef struct {
  const char *name;
  StepFunc func;
  gboolean needs_session;
} Step;

typedef struct {
  const char *protocol;
  const Step *steps;
  const char *(*mechanism) (Run *run);
} Protocol;

static GPtrArray *
words (const char *text)
{
  GPtrArray *a = g_ptr_array_new_with_free_func (g_free);
  g_auto (GStrv) parts = g_strsplit_set (text ? text : "", " \t", -1);
  for (guint i = 0; parts[i] != NULL; i++)
    if (*parts[i] != '\0')
      g_ptr_array_add (a, g_strdup (parts[i]));
  return a;
}

/* ---- SMTP ---- */

static gboolean
smtp_connect (Run *r, GError **error)
{
  r->smtp = msgtk_smtp_connect (r->account, "test", r->trace, error);
  return r->smtp != NULL;
}

static gboolean
smtp_authenticate (Run *r, GError **error)
{
  return msgtk_smtp_authenticate (r->smtp, r->account, error);
}

static gboolean
smtp_send (Run *r, GError **error)
{
  g_autoptr (GPtrArray) rcpts = words (field (r->t, "rcpt-to"));
  g_autofree char *text = g_strcompress (field (r->t, "message") ? field (r->t, "message") : "");
  g_autoptr (GBytes) message = g_bytes_new (text, strlen (text));
  MsgtkSmtpSendOptions o = {
    .dsn_notify = field (r->t, "dsn-notify"),
    .dsn_return = field (r->t, "dsn-return"),
    .envid = field (r->t, "envid"),
    .no_chunking = field_yes (r->t, "no-chunking"),
  };
  g_autoptr (GPtrArray) results = NULL;
  return msgtk_smtp_send (r->smtp, field (r->t, "mail-from"), rcpts, message, &o, &results, error);
}

static gboolean
smtp_quit (Run *r, GError **error)
{
  msgtk_smtp_quit (g_steal_pointer (&r->smtp));
  return TRUE;
}

static const char *
smtp_mechanism (Run *r)
{
  return msgtk_smtp_get_auth_mechanism (r->smtp);
}

static const Step smtp_steps[] = {
  { "connect", smtp_connect, FALSE },
  { "authenticate", smtp_authenticate, TRUE },
  { "send", smtp_send, TRUE },
  { "quit", smtp_quit, TRUE },
  { NULL },
};

/* ---- IMAP ---- */

static gboolean
imap_connect (Run *r, GError **error)
{
  r->imap = msgtk_imap_session_connect (r->account, r->trace, error);
  return r->imap != NULL;
}

static gboolean
imap_starttls (Run *r, GError **error)
{
  return msgtk_imap_session_starttls (r->imap, error);
}

static gboolean
imap_authenticate (Run *r, GError **error)
{
  return msgtk_imap_session_authenticate (r->imap, r->account, error);
}

static gboolean
imap_append (Run *r, GError **error)
{
  g_autoptr (GArray) msgs = g_array_new (FALSE, TRUE, sizeof (MsgtkImapMessage));
  for (guint i = 0; i < r->t->fields->len; i++) {
    Field *f = r->t->fields->pdata[i];
    if (strcmp (f->key, "message") != 0)
      continue;
    char *text = g_strcompress (f->value);
    MsgtkImapMessage m = { .data = g_bytes_new_take (text, strlen (text)) };
    g_array_append_val (msgs, m);
  }
  MsgtkImapAppendOptions o = { .create = field_yes (r->t, "create") };
  const char *name = field (r->t, "mailbox");
  g_autofree char *mailbox = g_strcompress (name ? name : "INBOX");
  gboolean ok = msgtk_imap_session_append (r->imap, mailbox, (MsgtkImapMessage *)msgs->data,
                                           msgs->len, &o, error);
  for (guint i = 0; i < msgs->len; i++) {
    MsgtkImapMessage *m = &g_array_index (msgs, MsgtkImapMessage, i);
    if (ok && m->status != MSGTK_IMAP_APPEND_OK) {
      g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_UNAVAILABLE, "message %u refused: [%s] %s",
                   i + 1, m->code ? m->code : "", m->text ? m->text : "");
      ok = FALSE;
    }
    msgtk_imap_message_clear (m);
  }
  return ok;
}

static gboolean
imap_logout (Run *r, GError **error)
{
  msgtk_imap_session_logout (r->imap);
  g_clear_pointer (&r->imap, msgtk_imap_session_free);
  return TRUE;
}

static const char *
imap_mechanism (Run *r)
{
  return msgtk_imap_session_get_auth_mechanism (r->imap);
}

static const Step imap_steps[] = {
  { "connect", imap_connect, FALSE },
  { "starttls", imap_starttls, TRUE },
  { "authenticate", imap_authenticate, TRUE },
  { "append", imap_append, TRUE },
  { "logout", imap_logout, TRUE },
  { NULL },
};

/* POP3 joins here once libmsgtk has a POP3 session. */
static const Protocol protocols[] = {
  { "smtp", smtp_steps, smtp_mechanism },
  { "imap", imap_steps, imap_mechanism },
};

static const struct {
  const char *name;
  MsgtkError code;
} error_names[] = {
  { "FAILED", MSGTK_ERROR_FAILED },
  { "USAGE", MSGTK_ERROR_USAGE },
  { "DATA", MSGTK_ERROR_DATA },
  { "NO_INPUT", MSGTK_ERROR_NO_INPUT },
  { "NO_USER", MSGTK_ERROR_NO_USER },
  { "NO_HOST", MSGTK_ERROR_NO_HOST },
  { "UNAVAILABLE", MSGTK_ERROR_UNAVAILABLE },
  { "OS", MSGTK_ERROR_OS },
  { "CANT_CREATE", MSGTK_ERROR_CANT_CREATE },
  { "IO", MSGTK_ERROR_IO },
  { "TEMP_FAIL", MSGTK_ERROR_TEMP_FAIL },
  { "PROTOCOL", MSGTK_ERROR_PROTOCOL },
  { "NO_PERM", MSGTK_ERROR_NO_PERM },
  { "CONFIG", MSGTK_ERROR_CONFIG },
};

static const char *
error_name (int code)
{
  for (guint i = 0; i < G_N_ELEMENTS (error_names); i++)
    if ((int)error_names[i].code == code)
      return error_names[i].name;
  return "?";
}

/* What must never show in a trace or an error message: the secrets, their
 * base64 forms as the mechanisms send them, and what the client sent for
 * <sasl>. */
static GPtrArray *
secret_forms (Transcript *t, TranscriptPeer *peer)
{
  GPtrArray *forms = g_ptr_array_new_with_free_func (g_free);
  const char *user = field (t, "user") ? field (t, "user") : "";
  const char *secrets[] = { field (t, "password"), field (t, "token") };
  for (guint i = 0; i < G_N_ELEMENTS (secrets); i++) {
    const char *s = secrets[i];
    if (s == NULL || strlen (s) < 3)
      continue;
    g_ptr_array_add (forms, g_strdup (s));
    g_ptr_array_add (forms, g_base64_encode ((const guchar *)s, strlen (s)));
    g_autofree char *plain = g_strdup_printf ("%c%s%c%s", 0, user, 0, s);
    g_ptr_array_add (forms,
                     g_base64_encode ((const guchar *)plain, strlen (user) + strlen (s) + 2));
    g_autofree char *x = g_strdup_printf ("user=%s\001auth=Bearer %s\001\001", user, s);
    g_ptr_array_add (forms, g_base64_encode ((const guchar *)x, strlen (x)));
    g_autofree char *o = g_strdup_printf ("n,a=%s,\001auth=Bearer %s\001\001", user, s);
    g_ptr_array_add (forms, g_base64_encode ((const guchar *)o, strlen (o)));
  }
  for (guint i = 0; i < peer->secrets->len; i++)
    g_ptr_array_add (forms, g_strdup (peer->secrets->pdata[i]));
  return forms;
}

static gboolean
holds_secret (GPtrArray *forms, const char *text, const char *where, GError **error)
{
  for (guint i = 0; text != NULL && i < forms->len; i++)
    if (strstr (text, forms->pdata[i]) != NULL) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "a secret shows in %s: %s", where, text);
      return TRUE;
    }
  return FALSE;
}

/* Run the steps; FALSE with @error at the first one that does not end as
 * the transcript says. Error messages go to @messages. */
static gboolean
run_steps (Run *r, const Protocol *proto, GPtrArray *messages, GError **error)
{
  Transcript *t = r->t;
  for (guint i = 0; i < t->fields->len; i++) {
    Field *f = t->fields->pdata[i];
    if (strcmp (f->key, "run") != 0)
      continue;
    const Step *step = proto->steps;
    while (step->name != NULL && strcmp (step->name, f->value) != 0)
      step++;
    if (step->name == NULL) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s:%u: no %s step '%s'", t->name,
                   f->line, proto->protocol, f->value);
      return FALSE;
    }
    if (step->needs_session && r->smtp == NULL && r->imap == NULL) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "%s:%u: %s needs a session (connect first; none is left after a failed "
                   "connect or after quit/logout)",
                   t->name, f->line, f->value);
      return FALSE;
    }
    Field *fails = i + 1 < t->fields->len ? t->fields->pdata[i + 1] : NULL;
    if (fails != NULL && strcmp (fails->key, "fails") != 0)
      fails = NULL;
    g_autoptr (GError) local = NULL;
    gboolean ok = step->func (r, &local);
    if (local != NULL)
      g_ptr_array_add (messages, g_strdup (local->message));
    if (fails == NULL && !ok) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s:%u: %s failed: %s (%s)", t->name,
                   f->line, f->value, local ? local->message : "no error set",
                   local ? error_name (local->code) : "");
      return FALSE;
    }
    if (fails != NULL) {
      char *sp = strchr (fails->value, ' ');
      g_autofree char *code = g_strndup (fails->value, sp ? sp - fails->value : -1);
      const char *says = sp ? sp + 1 : "";
      if (ok || local == NULL || local->domain != MSGTK_ERROR
          || strcmp (error_name (local->code), code) != 0
          || strstr (local->message, says) == NULL) {
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                     "%s:%u: %s should fail with %s saying '%s'; it %s%s%s%s", t->name, fails->line,
                     f->value, code, says, ok ? "succeeded" : "failed with ",
                     ok ? "" : error_name (local ? local->code : -1), ok ? "" : ": ",
                     ok      ? ""
                     : local ? local->message
                             : "no error set");
        return FALSE;
      }
    }
    const char *mech = field (t, "mechanism");
    if (ok && strcmp (f->value, "authenticate") == 0 && mech != NULL
        && g_strcmp0 (proto->mechanism (r), mech) != 0) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   "%s: authenticated with %s, the transcript says %s", t->name,
                   proto->mechanism (r), mech);
      return FALSE;
    }
  }
  return TRUE;
}

gboolean
transcript_run (Transcript *t, GError **error)
{
  const char *name = field (t, "protocol");
  const Protocol *proto = NULL;
  for (guint i = 0; i < G_N_ELEMENTS (protocols); i++)
    if (g_strcmp0 (name, protocols[i].protocol) == 0)
      proto = &protocols[i];
  if (proto == NULL) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                 "%s: protocol: '%s' is not one the harness runs (smtp, imap)", t->name,
                 name ? name : "");
    return FALSE;
  }
  Run r = { .t = t };
  r.peer = transcript_peer_start (t);
  r.account = transcript_peer_account (r.peer);
  char *trace_text = NULL;
  size_t trace_len = 0;
  r.trace = open_memstream (&trace_text, &trace_len);
  g_autoptr (GPtrArray) messages = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GError) step_error = NULL;
  gboolean ok = run_steps (&r, proto, messages, &step_error);
  if (r.smtp != NULL)
    msgtk_smtp_free (r.smtp);
  g_clear_pointer (&r.imap, msgtk_imap_session_free);
  fclose (r.trace);
  peer_join (r.peer);
  g_autoptr (GPtrArray) forms = secret_forms (t, r.peer);
  g_autoptr (GError) dialogue = NULL;
  transcript_peer_finish (r.peer, &dialogue);
  msgtk_account_free (r.account);
  g_autoptr (GError) leak = NULL;
  if (ok && !holds_secret (forms, trace_text, "the trace", &leak))
    for (guint i = 0; i < messages->len; i++)
      if (holds_secret (forms, messages->pdata[i], "an error message", &leak))
        break;
  free (trace_text);
  /* the dialogue first: where it went wrong explains the rest */
  if (dialogue != NULL) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s%s%s", dialogue->message,
                 step_error ? "; then " : "", step_error ? step_error->message : "");
    return FALSE;
  }
  if (step_error != NULL || leak != NULL) {
    g_propagate_error (error, step_error ? g_steal_pointer (&step_error) : g_steal_pointer (&leak));
    return FALSE;
  }
  return TRUE;
}
