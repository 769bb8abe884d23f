/* Unit tests of the smtp module: sessions against a scripted server on a
 * loopback socket (run by a thread), the DATA encoding, and the message-side
 * helpers (envelope from headers, Bcc removal, missing headers, spool). */
#include <glib/gstdio.h>
#include <msgtk/msgtk.h>
#include <string.h>

/* ---- a scripted SMTP server ---- */

typedef struct {
  const char *wait;  /* what the client must have sent (after the last match); NULL: nothing */
  const char *reply; /* then this is written */
} Step;

typedef struct {
  const Step *steps;
  gboolean hangup; /* close right after the last step instead of reading to the end */
  GSocketListener *listener;
  guint16 port;
  GThread *thread;
  GString *got; /* everything the client sent */
} Server;

static gboolean
server_read (Server *sv, GSocket *sock)
{
  char buf[65536];
  gssize n = g_socket_receive (sock, buf, sizeof buf, NULL, NULL);
  if (n <= 0)
    return FALSE;
  g_string_append_len (sv->got, buf, n);
  return TRUE;
}

static gpointer
server_run (gpointer data)
{
  Server *sv = data;
  g_autoptr (GSocketConnection) conn = g_socket_listener_accept (sv->listener, NULL, NULL, NULL);
  if (conn == NULL)
    return NULL;
  GSocket *sock = g_socket_connection_get_socket (conn);
  g_socket_set_timeout (sock, 10);
  gsize matched = 0;
  for (const Step *st = sv->steps; st->wait || st->reply; st++) {
    if (st->wait) {
      const char *at;
      while ((at = strstr (sv->got->str + matched, st->wait)) == NULL)
        if (!server_read (sv, sock))
          return NULL;
      matched = (gsize)(at - sv->got->str) + strlen (st->wait);
    }
    if (st->reply
        && !g_output_stream_write_all (g_io_stream_get_output_stream (G_IO_STREAM (conn)),
                                       st->reply, strlen (st->reply), NULL, NULL, NULL))
      return NULL;
  }
  if (!sv->hangup)
    while (server_read (sv, sock))
      ;
  g_io_stream_close (G_IO_STREAM (conn), NULL, NULL);
  return NULL;
}

static Server *
server_start (const Step *steps, gboolean hangup)
{
  Server *sv = g_new0 (Server, 1);
  sv->steps = steps;
  sv->hangup = hangup;
  sv->got = g_string_new (NULL);
  sv->listener = g_socket_listener_new ();
  g_autoptr (GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) addr = g_inet_socket_address_new (lo, 0);
  g_autoptr (GSocketAddress) bound = NULL;
  g_autoptr (GError) error = NULL;
  g_socket_listener_add_address (sv->listener, addr, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP,
                                 NULL, &bound, &error);
  g_assert_no_error (error);
  sv->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  sv->thread = g_thread_new ("smtp-server", server_run, sv);
  return sv;
}

/* Wait for the server to finish; returns what the client sent. */
static char *
server_finish (Server *sv)
{
  g_thread_join (sv->thread);
  g_socket_listener_close (sv->listener);
  g_object_unref (sv->listener);
  char *got = g_string_free (sv->got, FALSE);
  g_free (sv);
  return got;
}

static MsgtkSmtp *
client (Server *sv, MsgtkTlsMode tls, GError **error)
{
  g_autoptr (MsgtkAccount) a = msgtk_account_new ();
  a->host = g_strdup ("127.0.0.1");
  a->port = sv->port;
  a->tls = tls;
  a->timeout = 5;
  return msgtk_smtp_connect (a, "test", NULL, error);
}

/* A plaintext session with a server playing @steps (which must greet). */
static MsgtkSmtp *
connected (const Step *steps, Server **sv)
{
  g_autoptr (GError) error = NULL;
  *sv = server_start (steps, FALSE);
  MsgtkSmtp *s = client (*sv, MSGTK_TLS_NONE, &error);
  g_assert_no_error (error);
  return s;
}

static GPtrArray *
strv_array (const char *first, ...)
{
  GPtrArray *a = g_ptr_array_new_with_free_func (g_free);
  va_list ap;
  va_start (ap, first);
  for (const char *s = first; s; s = va_arg (ap, const char *))
    g_ptr_array_add (a, g_strdup (s));
  va_end (ap);
  return a;
}

static GBytes *
bytes (const char *s)
{
  return g_bytes_new (s, strlen (s));
}

#define GREET "220 mx.test ESMTP\r\n"
#define BYE                                                                                        \
  {                                                                                                \
    "QUIT\r\n", "221 bye\r\n"                                                                      \
  }
#define END                                                                                        \
  {                                                                                                \
    NULL, NULL                                                                                     \
  }

/* ---- sessions ---- */

static void
test_capabilities (void)
{
  const Step steps[] = {
    { NULL, "220-mx.test ESMTP\r\n220-a multi-line\r\n220 greeting\r\n" },
    { "EHLO test\r\n", "250-mx.test greets test\r\n250-pipelining\r\n250-SIZE 12345\r\n"
                       "250-AUTH PLAIN LOGIN\r\n250-8BITMIME\r\n250 CHUNKING\r\n" },
    BYE,
    END,
  };
  Server *sv;
  MsgtkSmtp *s = connected (steps, &sv);
  g_assert_true (msgtk_smtp_has_extension (s, "PIPELINING"));
  g_assert_true (msgtk_smtp_has_extension (s, "chunking"));
  g_assert_true (msgtk_smtp_has_extension (s, "AUTH"));
  g_assert_true (msgtk_smtp_has_extension (s, "8BITMIME"));
  g_assert_false (msgtk_smtp_has_extension (s, "STARTTLS"));
  g_assert_false (msgtk_smtp_has_extension (s, "SMTPUTF8"));
  g_assert_false (msgtk_smtp_has_extension (s, "mx.test"));
  g_assert_cmpuint (msgtk_smtp_get_size_limit (s), ==, 12345);
  g_assert_null (msgtk_smtp_get_auth_mechanism (s));
  g_assert_true (msgtk_smtp_is_usable (s));
  msgtk_smtp_quit (s);
  g_autofree char *got = server_finish (sv);
  g_assert_cmpstr (got, ==, "EHLO test\r\nQUIT\r\n");
}

static void
test_bad_greetings (void)
{
  static const struct {
    const char *greeting;
    int code;
    const char *says;
  } cases[] = {
    { "hello there\r\n", MSGTK_ERROR_PROTOCOL, "malformed reply" },
    { "22\r\n", MSGTK_ERROR_PROTOCOL, "malformed reply" },
    { "220x no space\r\n", MSGTK_ERROR_PROTOCOL, "malformed reply" },
    { "220-first\r\n250 second\r\n", MSGTK_ERROR_PROTOCOL, "changed the reply code" },
    { "\033[2J\r\n", MSGTK_ERROR_PROTOCOL, "\"?[2J\"" },
    { "421 4.3.2 too busy\r\n", MSGTK_ERROR_TEMP_FAIL, "421 4.3.2 too busy" },
    { "554-no\r\n554 mail from you\r\n", MSGTK_ERROR_UNAVAILABLE, "554 no\nmail from you" },
    { "", MSGTK_ERROR_TEMP_FAIL, "closed the connection" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    const Step steps[] = { { NULL, cases[i].greeting }, END };
    Server *sv = server_start (steps, TRUE);
    g_autoptr (GError) error = NULL;
    MsgtkSmtp *s = client (sv, MSGTK_TLS_NONE, &error);
    g_assert_null (s);
    g_assert_error (error, MSGTK_ERROR, cases[i].code);
    g_assert_nonnull (strstr (error->message, cases[i].says));
    g_autofree char *got = server_finish (sv);
    g_assert_cmpstr (got, ==, "");
  }
}

static void
test_overlong_reply (void)
{
  g_autofree char *longline = g_strnfill (9000, 'x');
  g_autofree char *ehlo = g_strdup_printf ("250-%s\r\n250 ok\r\n", longline);
  const Step steps[] = { { NULL, GREET }, { "EHLO test\r\n", ehlo }, END };
  Server *sv = server_start (steps, TRUE);
  g_autoptr (GError) error = NULL;
  g_assert_null (client (sv, MSGTK_TLS_NONE, &error));
  g_assert_error (error, MSGTK_ERROR, MSGTK_ERROR_PROTOCOL);
  g_assert_nonnull (strstr (error->message, "longer than"));
  g_free (server_finish (sv));
}

static void
test_starttls_required (void)
{
  const Step steps[] = {
    { NULL, GREET },
    { "EHLO test\r\n", "250-mx.test\r\n250-AUTH PLAIN\r\n250 PIPELINING\r\n" },
    END,
  };
  Server *sv = server_start (steps, TRUE);
  g_autoptr (GError) error = NULL;
  g_assert_null (client (sv, MSGTK_TLS_STARTTLS, &error));
  g_assert_error (error, MSGTK_ERROR, MSGTK_ERROR_UNAVAILABLE);
  g_assert_nonnull (strstr (error->message, "does not offer STARTTLS"));
  g_autofree char *got = server_finish (sv);
  g_assert_cmpstr (got, ==, "EHLO test\r\n"); /* nothing else went out */
}

/* HELO fallback, then a transaction without PIPELINING: each command waits
 * for its reply, and the DATA stream is CRLF-normalised and dot-stuffed. */
static void
test_helo_and_data (void)
{
  const Step steps[] = {
    { NULL, GREET },
    { "EHLO test\r\n", "502 5.5.1 no ESMTP here\r\n" },
    { "HELO test\r\n", "250 mx.test\r\n" },
    { "MAIL FROM:<a@example.org>\r\n", "250 ok\r\n" },
    { "RCPT TO:<b@example.net>\r\n", "251 will forward\r\n" },
    { "DATA\r\n", "354 go ahead\r\n" },
    { "\r\n.\r\n", "250-2.0.0 queued\r\n250 as 42\r\n" },
    BYE,
    END,
  };
  Server *sv;
  MsgtkSmtp *s = connected (steps, &sv);
  g_autoptr (GError) error = NULL;
  g_assert_false (msgtk_smtp_has_extension (s, "PIPELINING"));
  g_autoptr (GPtrArray) rcpts = strv_array ("b@example.net", NULL);
  g_autoptr (GBytes) msg = bytes ("Subject: x\n\n.leading dot\nline\r\n..two\n.\nlast");
  g_autoptr (GPtrArray) results = NULL;
  g_assert_true (msgtk_smtp_send (s, "a@example.org", rcpts, msg, NULL, &results, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (results->len, ==, 1);
  MsgtkSmtpRecipient *r = g_ptr_array_index (results, 0);
  g_assert_cmpstr (r->address, ==, "b@example.net");
  g_assert_cmpint (r->code, ==, 251);
  g_assert_true (r->accepted);
  msgtk_smtp_quit (s);
  g_autofree char *got = server_finish (sv);
  g_assert_cmpstr (got, ==,
                   "EHLO test\r\nHELO test\r\nMAIL FROM:<a@example.org>\r\n"
                   "RCPT TO:<b@example.net>\r\nDATA\r\n"
                   "Subject: x\r\n\r\n..leading dot\r\nline\r\n...two\r\n..\r\nlast\r\n.\r\n"
                   "QUIT\r\n");
}

/* PIPELINING: the server answers nothing until DATA has come, so the client
 * must have sent MAIL, every RCPT and DATA without waiting. One recipient
 * refused, the other still gets the message. */
static void
test_pipelining_partial (void)
{
  const Step steps[] = {
    { NULL, GREET },
    { "EHLO test\r\n", "250-mx.test\r\n250-PIPELINING\r\n250-DSN\r\n250-SIZE 100000\r\n"
                       "250 8BITMIME\r\n" },
    { "DATA\r\n", "250 2.1.0 ok\r\n250 2.1.5 ok\r\n550 5.1.1 <nobody@example.net>: no such user\r\n"
                  "354 go\r\n" },
    { "\r\n.\r\n", "250 2.0.0 queued\r\n" },
    BYE,
    END,
  };
  Server *sv;
  MsgtkSmtp *s = connected (steps, &sv);
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) rcpts = strv_array ("b@example.net", "nobody@example.net", NULL);
  const char *text = "Subject: caf\xc3\xa9\n\nbody\n";
  g_autoptr (GBytes) msg = bytes (text);
  MsgtkSmtpSendOptions so = { .dsn_notify = "FAILURE", .dsn_return = "HDRS", .envid = "E1" };
  g_autoptr (GPtrArray) results = NULL;
  g_assert_true (msgtk_smtp_send (s, "a@example.org", rcpts, msg, &so, &results, &error));
  g_assert_no_error (error);
  MsgtkSmtpRecipient *good = g_ptr_array_index (results, 0);
  MsgtkSmtpRecipient *bad = g_ptr_array_index (results, 1);
  g_assert_true (good->accepted);
  g_assert_cmpint (good->code, ==, 250);
  g_assert_false (bad->accepted);
  g_assert_cmpint (bad->code, ==, 550);
  g_assert_cmpstr (bad->reply, ==, "5.1.1 <nobody@example.net>: no such user");
  msgtk_smtp_quit (s);
  g_autofree char *got = server_finish (sv);
  g_autofree char *expect = g_strdup_printf (
      "EHLO test\r\nMAIL FROM:<a@example.org> SIZE=%zu BODY=8BITMIME RET=HDRS ENVID=E1\r\n"
      "RCPT TO:<b@example.net> NOTIFY=FAILURE\r\nRCPT TO:<nobody@example.net> NOTIFY=FAILURE\r\n"
      "DATA\r\nSubject: caf\xc3\xa9\r\n\r\nbody\r\n.\r\nQUIT\r\n",
      strlen (text) + 3); /* SIZE counts the message as sent: CRLF line ends */
  g_assert_cmpstr (got, ==, expect);
}

static void
test_all_refused_pipelined (void)
{
  const Step steps[] = {
    { NULL, GREET },
    { "EHLO test\r\n", "250-mx.test\r\n250 PIPELINING\r\n" },
    { "DATA\r\n", "250 ok\r\n550 5.1.1 unknown\r\n554 5.5.1 no valid recipients\r\n" },
    { "RSET\r\n", "250 ok\r\n" },
    BYE,
    END,
  };
  Server *sv;
  MsgtkSmtp *s = connected (steps, &sv);
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) rcpts = strv_array ("x@example.net", NULL);
  g_autoptr (GBytes) msg = bytes ("Subject: x\n\nbody\n");
  g_autoptr (GPtrArray) results = NULL;
  g_assert_false (msgtk_smtp_send (s, "a@example.org", rcpts, msg, NULL, &results, &error));
  g_assert_error (error, MSGTK_ERROR, MSGTK_ERROR_NO_USER);
  g_assert_nonnull (strstr (error->message, "<x@example.net>: 550 5.1.1 unknown"));
  g_assert_cmpint (((MsgtkSmtpRecipient *)g_ptr_array_index (results, 0))->code, ==, 550);
  g_assert_true (msgtk_smtp_is_usable (s));
  msgtk_smtp_quit (s);
  g_autofree char *got = server_finish (sv);
  g_assert_cmpstr (got, ==,
                   "EHLO test\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<x@example.net>\r\n"
                   "DATA\r\nRSET\r\nQUIT\r\n");
}

/* Without PIPELINING, no DATA or BDAT goes out when every RCPT was refused. */
static void
test_all_refused_no_pipelining (void)
{
  const Step steps[] = {
    { NULL, GREET },
    { "EHLO test\r\n", "250-mx.test\r\n250 CHUNKING\r\n" },
    { "MAIL FROM:<a@example.org>\r\n", "250 ok\r\n" },
    { "RCPT TO:<x@example.net>\r\n", "450 4.2.0 try later\r\n" },
    { "RSET\r\n", "250 ok\r\n" },
    BYE,
    END,
  };
  Server *sv;
  MsgtkSmtp *s = connected (steps, &sv);
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) rcpts = strv_array ("x@example.net", NULL);
  g_autoptr (GBytes) msg = bytes ("Subject: x\n\nbody\n");
  g_autoptr (GPtrArray) results = NULL;
  g_assert_false (msgtk_smtp_send (s, "a@example.org", rcpts, msg, NULL, &results, &error));
  g_assert_error (error, MSGTK_ERROR, MSGTK_ERROR_TEMP_FAIL);
  g_assert_true (msgtk_smtp_is_usable (s));
  msgtk_smtp_quit (s);
  g_autofree char *got = server_finish (sv);
  g_assert_cmpstr (got, ==,
                   "EHLO test\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<x@example.net>\r\n"
                   "RSET\r\nQUIT\r\n");
}

static void
test_sender_refused (void)
{
  const Step steps[] = {
    { NULL, GREET },
    { "EHLO test\r\n", "250-mx.test\r\n250 PIPELINING\r\n" },
    { "DATA\r\n",
      "553 5.7.1 sender not yours\r\n503 5.5.1 no sender\r\n503 5.5.1 no recipients\r\n" },
    { "RSET\r\n", "250 ok\r\n" },
    BYE,
    END,
  };
  Server *sv;
  MsgtkSmtp *s = connected (steps, &sv);
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) rcpts = strv_array ("b@example.net", NULL);
  g_autoptr (GBytes) msg = bytes ("Subject: x\n\nbody\n");
  g_autoptr (GPtrArray) results = NULL;
  g_assert_false (msgtk_smtp_send (s, "a@example.org", rcpts, msg, NULL, &results, &error));
  g_assert_error (error, MSGTK_ERROR, MSGTK_ERROR_UNAVAILABLE);
  g_assert_nonnull (strstr (error->message, "sender <a@example.org>: 553"));
  g_assert_false (((MsgtkSmtpRecipient *)g_ptr_array_index (results, 0))->accepted);
  msgtk_smtp_quit (s);
  g_free (server_finish (sv));
}

static void
test_bdat (void)
{
  const char *text = "A: b\n\n.x\nlast line";
  const char *wire = "A: b\r\n\r\n.x\r\nlast line\r\n"; /* no dot-stuffing with BDAT */
  const Step steps[] = {
    { NULL, GREET },
    { "EHLO test\r\n", "250-mx.test\r\n250-PIPELINING\r\n250 CHUNKING\r\n" },
    { "last line\r\n", "250 ok\r\n250 ok\r\n250 2.0.0 queued\r\n" },
    BYE,
    END,
  };
  Server *sv;
  MsgtkSmtp *s = connected (steps, &sv);
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) rcpts = strv_array ("b@example.net", NULL);
  g_autoptr (GBytes) msg = bytes (text);
  g_autoptr (GPtrArray) results = NULL;
  g_assert_true (msgtk_smtp_send (s, "a@example.org", rcpts, msg, NULL, &results, &error));
  g_assert_no_error (error);
  msgtk_smtp_quit (s);
  g_autofree char *got = server_finish (sv);
  g_autofree char *expect
      = g_strdup_printf ("EHLO test\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\n"
                         "BDAT %zu LAST\r\n%sQUIT\r\n",
                         strlen (wire), wire);
  g_assert_cmpstr (got, ==, expect);
}

/* SIZE, 8BITMIME and SMTPUTF8 decisions are made before anything is sent. */
static void
test_refused_before_sending (void)
{
  static const struct {
    const char *ehlo, *sender, *message;
    int code;
    const char *says;
  } cases[] = {
    { "250-mx\r\n250 SIZE 10\r\n", "a@example.org", "Subject: too big\n\nbody\n", MSGTK_ERROR_DATA,
      "exceeds the SIZE limit of 10" },
    /* 20 bytes as given, 30 with CRLF line ends */
    { "250-mx\r\n250 SIZE 25\r\n", "a@example.org", "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n",
      MSGTK_ERROR_DATA, "message of 30 bytes exceeds" },
    { "250-mx\r\n250 PIPELINING\r\n", "a@example.org", "Subject: caf\xc3\xa9\n\nx\n",
      MSGTK_ERROR_DATA, "neither 8BITMIME nor SMTPUTF8" },
    { "250-mx\r\n250 8BITMIME\r\n", "j\xc3\xbcrgen@example.org", "Subject: x\n\nx\n",
      MSGTK_ERROR_UNAVAILABLE, "SMTPUTF8" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    const Step steps[] = { { NULL, GREET }, { "EHLO test\r\n", cases[i].ehlo }, BYE, END };
    Server *sv = server_start (steps, FALSE);
    g_autoptr (GError) error = NULL;
    MsgtkSmtp *s = client (sv, MSGTK_TLS_NONE, &error);
    g_assert_no_error (error);
    g_autoptr (GPtrArray) rcpts = strv_array ("b@example.net", NULL);
    g_autoptr (GBytes) msg = bytes (cases[i].message);
    g_autoptr (GPtrArray) results = NULL;
    g_assert_false (msgtk_smtp_send (s, cases[i].sender, rcpts, msg, NULL, &results, &error));
    g_assert_error (error, MSGTK_ERROR, cases[i].code);
    g_assert_nonnull (strstr (error->message, cases[i].says));
    g_assert_true (msgtk_smtp_is_usable (s));
    msgtk_smtp_quit (s);
    g_autofree char *got = server_finish (sv);
    g_assert_cmpstr (got, ==, "EHLO test\r\nQUIT\r\n");
  }
}

static void
test_smtputf8 (void)
{
  const Step steps[] = {
    { NULL, GREET },
    { "EHLO test\r\n", "250-mx.test\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n" },
    { "DATA\r\n", "250 ok\r\n250 ok\r\n354 go\r\n" },
    { "\r\n.\r\n", "250 ok\r\n" },
    BYE,
    END,
  };
  Server *sv;
  MsgtkSmtp *s = connected (steps, &sv);
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) rcpts = strv_array ("b@example.net", NULL);
  g_autoptr (GBytes) msg = bytes ("Subject: x\n\nascii\n");
  g_autoptr (GPtrArray) results = NULL;
  g_assert_true (
      msgtk_smtp_send (s, "j\xc3\xbcrgen@example.org", rcpts, msg, NULL, &results, &error));
  g_assert_no_error (error);
  msgtk_smtp_quit (s);
  g_autofree char *got = server_finish (sv);
  /* SMTPUTF8 for the address; no BODY=8BITMIME for an ASCII message */
  g_assert_nonnull (strstr (got, "MAIL FROM:<j\xc3\xbcrgen@example.org> SMTPUTF8\r\n"));
}

typedef struct {
  guint calls;
  gboolean ok;
  int code;
  char *message;
  guint recipients;
} Done;

static void
on_done (gboolean ok, GPtrArray *results, const GError *error, gpointer data)
{
  Done *d = data;
  d->calls++;
  d->ok = ok;
  d->code = error ? error->code : -1;
  g_free (d->message);
  d->message = error ? g_strdup (error->message) : NULL;
  d->recipients = results->len;
}

/* Pipelining across messages: the closing dot of one message goes out with
 * the next message's commands, and its outcome is reported then. */
static void
test_pipelining_across_messages (void)
{
  const Step steps[] = {
    { NULL, GREET },
    { "EHLO test\r\n", "250-mx.test\r\n250 PIPELINING\r\n" },
    { "DATA\r\n", "250 ok\r\n250 ok\r\n354 go\r\n" },
    { "DATA\r\n", "250 2.0.0 queued 1\r\n250 ok\r\n250 ok\r\n354 go\r\n" },
    { "QUIT\r\n", "554 5.7.1 rejected 2\r\n221 bye\r\n" },
    END,
  };
  Server *sv;
  MsgtkSmtp *s = connected (steps, &sv);
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) rcpts = strv_array ("b@example.net", NULL);
  g_autoptr (GBytes) m1 = bytes ("Subject: one\n\nbody one\n");
  g_autoptr (GBytes) m2 = bytes ("Subject: two\n\nbody two\n");
  Done d1 = { 0 }, d2 = { 0 };
  MsgtkSmtpSendOptions so = { .done = on_done, .done_data = &d1 };
  g_autoptr (GPtrArray) r1 = NULL, r2 = NULL;
  g_assert_true (msgtk_smtp_send (s, "a@example.org", rcpts, m1, &so, &r1, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (d1.calls, ==, 0); /* not confirmed yet */
  so.done_data = &d2;
  g_assert_true (msgtk_smtp_send (s, "a@example.org", rcpts, m2, &so, &r2, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (d1.calls, ==, 1);
  g_assert_true (d1.ok);
  g_assert_cmpuint (d1.recipients, ==, 1);
  g_assert_cmpuint (d2.calls, ==, 0);
  msgtk_smtp_quit (s);
  g_assert_cmpuint (d2.calls, ==, 1);
  g_assert_false (d2.ok);
  g_assert_cmpint (d2.code, ==, MSGTK_ERROR_DATA);
  g_assert_nonnull (strstr (d2.message, "554 5.7.1 rejected 2"));
  g_free (d2.message);
  g_autofree char *got = server_finish (sv);
  g_assert_cmpstr (got, ==,
                   "EHLO test\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nDATA\r\n"
                   "Subject: one\r\n\r\nbody one\r\n"
                   ".\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nDATA\r\n"
                   "Subject: two\r\n\r\nbody two\r\n.\r\nQUIT\r\n");
}

/* The server goes away while a message waits for its final reply: that
 * message is reported as not confirmed, the next one fails, and freeing a
 * session with a message still waiting reports it too. */
static void
test_pending_lost (void)
{
  const Step steps[] = {
    { NULL, GREET },
    { "EHLO test\r\n", "250-mx.test\r\n250 PIPELINING\r\n" },
    { "DATA\r\n", "250 ok\r\n250 ok\r\n354 go\r\n" },
    { "body one\r\n", NULL },
    END,
  };
  Server *sv = server_start (steps, TRUE);
  g_autoptr (GError) error = NULL;
  MsgtkSmtp *s = client (sv, MSGTK_TLS_NONE, &error);
  g_assert_no_error (error);
  g_autoptr (GPtrArray) rcpts = strv_array ("b@example.net", NULL);
  g_autoptr (GBytes) m1 = bytes ("Subject: one\n\nbody one\n");
  Done d1 = { 0 }, d2 = { 0 };
  MsgtkSmtpSendOptions so = { .done = on_done, .done_data = &d1 };
  g_autoptr (GPtrArray) r1 = NULL, r2 = NULL;
  g_assert_true (msgtk_smtp_send (s, "a@example.org", rcpts, m1, &so, &r1, &error));
  g_free (server_finish (sv)); /* the server has hung up */
  so.done_data = &d2;
  g_assert_false (msgtk_smtp_send (s, "a@example.org", rcpts, m1, &so, &r2, &error));
  g_assert_error (error, MSGTK_ERROR, MSGTK_ERROR_TEMP_FAIL);
  g_assert_false (msgtk_smtp_is_usable (s));
  g_assert_cmpuint (d1.calls, ==, 1);
  g_assert_false (d1.ok);
  g_assert_cmpint (d1.code, ==, MSGTK_ERROR_TEMP_FAIL);
  g_assert_nonnull (strstr (d1.message, "before the server confirmed"));
  g_assert_cmpuint (d2.calls, ==, 0); /* FALSE returned: no callback */
  g_free (d1.message);
  msgtk_smtp_free (s);
  g_clear_error (&error);

  /* freed while waiting */
  const Step steps2[] = {
    { NULL, GREET },
    { "EHLO test\r\n", "250-mx.test\r\n250 PIPELINING\r\n" },
    { "DATA\r\n", "250 ok\r\n250 ok\r\n354 go\r\n" },
    END,
  };
  sv = server_start (steps2, FALSE);
  s = client (sv, MSGTK_TLS_NONE, &error);
  g_assert_no_error (error);
  Done d3 = { 0 };
  so.done_data = &d3;
  g_autoptr (GPtrArray) r3 = NULL;
  g_assert_true (msgtk_smtp_send (s, "a@example.org", rcpts, m1, &so, &r3, &error));
  msgtk_smtp_free (s);
  g_assert_cmpuint (d3.calls, ==, 1);
  g_assert_false (d3.ok);
  g_assert_cmpint (d3.code, ==, MSGTK_ERROR_TEMP_FAIL);
  g_free (d3.message);
  g_autofree char *got = server_finish (sv);
  g_assert_false (g_str_has_suffix (got, ".\r\n")); /* the dot never went: not delivered */
}

/* ---- encoding and mapping ---- */

static void
test_reply_error (void)
{
  g_assert_cmpint (msgtk_smtp_reply_error (421, "MAIL"), ==, MSGTK_ERROR_TEMP_FAIL);
  g_assert_cmpint (msgtk_smtp_reply_error (452, "RCPT"), ==, MSGTK_ERROR_TEMP_FAIL);
  g_assert_cmpint (msgtk_smtp_reply_error (550, "RCPT"), ==, MSGTK_ERROR_NO_USER);
  g_assert_cmpint (msgtk_smtp_reply_error (550, "MAIL"), ==, MSGTK_ERROR_UNAVAILABLE);
  g_assert_cmpint (msgtk_smtp_reply_error (552, "DATA"), ==, MSGTK_ERROR_DATA);
  g_assert_cmpint (msgtk_smtp_reply_error (554, "BDAT"), ==, MSGTK_ERROR_DATA);
  g_assert_cmpint (msgtk_smtp_reply_error (535, "AUTH"), ==, MSGTK_ERROR_NO_PERM);
  g_assert_cmpint (msgtk_smtp_reply_error (530, "MAIL"), ==, MSGTK_ERROR_NO_PERM);
  g_assert_cmpint (msgtk_smtp_reply_error (354, "MAIL"), ==, MSGTK_ERROR_PROTOCOL);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_unsetenv ("MSGTK_PASSWORD");
  g_unsetenv ("MSGTK_TOKEN");
  g_test_add_func ("/smtp/capabilities", test_capabilities);
  g_test_add_func ("/smtp/bad-greetings", test_bad_greetings);
  g_test_add_func ("/smtp/overlong-reply", test_overlong_reply);
  g_test_add_func ("/smtp/starttls-required", test_starttls_required);
  g_test_add_func ("/smtp/helo-and-data", test_helo_and_data);
  g_test_add_func ("/smtp/pipelining-partial", test_pipelining_partial);
  g_test_add_func ("/smtp/all-refused-pipelined", test_all_refused_pipelined);
  g_test_add_func ("/smtp/all-refused-no-pipelining", test_all_refused_no_pipelining);
  g_test_add_func ("/smtp/sender-refused", test_sender_refused);
  g_test_add_func ("/smtp/bdat", test_bdat);
  g_test_add_func ("/smtp/refused-before-sending", test_refused_before_sending);
  g_test_add_func ("/smtp/smtputf8", test_smtputf8);
  g_test_add_func ("/smtp/pipelining-across-messages", test_pipelining_across_messages);
  g_test_add_func ("/smtp/pending-lost", test_pending_lost);
  g_test_add_func ("/smtp/reply-error", test_reply_error);
  return g_test_run ();
}
