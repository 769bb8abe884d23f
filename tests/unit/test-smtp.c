/* Unit tests of the smtp module: sessions against scripted servers
 * (transcripts, tests/unit/transcript.h: here those that check results
 * beside the dialogue; the pure dialogues are files in
 * tests/data/transcripts, run by test-transcripts), the DATA encoding, and
 * the message-side helpers (envelope from headers, Bcc removal, missing
 * headers, spool). */
#include "transcript.h"

#include <glib/gstdio.h>
#include <msgtk/msgtk.h>
#include <string.h>

/* ---- a client of a transcript's server ---- */

static MsgtkSmtp *
client (TranscriptPeer *peer, GError **error)
{
  g_autoptr (MsgtkAccount) a = transcript_peer_account (peer);
  return msgtk_smtp_connect (a, "test", NULL, error);
}

/* A plaintext session with a server playing @dialogue (which must greet). */
static MsgtkSmtp *
connected (const char *name, const char *dialogue, TranscriptPeer **peer)
{
  g_autoptr (GError) error = NULL;
  *peer = transcript_start_text (name, dialogue);
  MsgtkSmtp *s = client (*peer, &error);
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

#define GREET "S: 220 mx.test ESMTP\n"
#define BYE "C: QUIT\nS: 221 bye\n"
#define EHLO_PIPELINING "C: EHLO test\nS: 250-mx.test\nS: 250 PIPELINING\n"

/* ---- sessions ---- */

static void
test_capabilities (void)
{
  TranscriptPeer *peer;
  MsgtkSmtp *s = connected ("capabilities",
                            "S: 220-mx.test ESMTP\n"
                            "S: 220-a multi-line\n"
                            "S: 220 greeting\n"
                            "C: EHLO test\n"
                            "S: 250-mx.test greets test\n"
                            "S: 250-pipelining\n"
                            "S: 250-SIZE 12345\n"
                            "S: 250-AUTH PLAIN LOGIN\n"
                            "S: 250-8BITMIME\n"
                            "S: 250 CHUNKING\n" BYE,
                            &peer);
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
  transcript_assert_finish (peer); /* EHLO and QUIT, nothing else */
}

static void
test_bad_greetings (void)
{
  static const struct {
    const char *greeting;
    int code;
    const char *says;
  } cases[] = {
    { "S: hello there\n", MSGTK_ERROR_PROTOCOL, "malformed reply" },
    { "S: 22\n", MSGTK_ERROR_PROTOCOL, "malformed reply" },
    { "S: 220x no space\n", MSGTK_ERROR_PROTOCOL, "malformed reply" },
    { "S: 220-first\nS: 250 second\n", MSGTK_ERROR_PROTOCOL, "changed the reply code" },
    { "S: \033[2J\n", MSGTK_ERROR_PROTOCOL, "\"?[2J\"" },
    { "S: 421 4.3.2 too busy\n", MSGTK_ERROR_TEMP_FAIL, "421 4.3.2 too busy" },
    { "S: 554-no\nS: 554 mail from you\n", MSGTK_ERROR_UNAVAILABLE, "554 no\nmail from you" },
    { "-- close --\n", MSGTK_ERROR_TEMP_FAIL, "closed the connection" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    /* the client sends nothing, and closes */
    TranscriptPeer *peer = transcript_start_text ("bad-greeting", cases[i].greeting);
    g_autoptr (GError) error = NULL;
    MsgtkSmtp *s = client (peer, &error);
    g_assert_null (s);
    g_assert_error (error, MSGTK_ERROR, cases[i].code);
    g_assert_nonnull (strstr (error->message, cases[i].says));
    transcript_assert_finish (peer);
  }
}

static void
test_overlong_reply (void)
{
  g_autofree char *longline = g_strnfill (9000, 'x');
  g_autofree char *dialogue
      = g_strdup_printf (GREET "C: EHLO test\nS: 250-%s\nS: 250 ok\n", longline);
  TranscriptPeer *peer = transcript_start_text ("overlong-reply", dialogue);
  g_autoptr (GError) error = NULL;
  g_assert_null (client (peer, &error));
  g_assert_error (error, MSGTK_ERROR, MSGTK_ERROR_PROTOCOL);
  g_assert_nonnull (strstr (error->message, "longer than"));
  transcript_assert_finish (peer);
}

/* HELO fallback, then a transaction without PIPELINING: each command waits
 * for its reply, and the DATA stream is CRLF-normalised and dot-stuffed. */
static void
test_helo_and_data (void)
{
  TranscriptPeer *peer;
  MsgtkSmtp *s = connected ("helo-and-data",
                            GREET "C: EHLO test\n"
                                  "S: 502 5.5.1 no ESMTP here\n"
                                  "C: HELO test\n"
                                  "S: 250 mx.test\n"
                                  "C: MAIL FROM:<a@example.org>\n"
                                  "S: 250 ok\n"
                                  "C: RCPT TO:<b@example.net>\n"
                                  "S: 251 will forward\n"
                                  "C: DATA\n"
                                  "S: 354 go ahead\n"
                                  "C: Subject: x\n"
                                  "C:\n"
                                  "C: ..leading dot\n"
                                  "C: line\n"
                                  "C: ...two\n"
                                  "C: ..\n"
                                  "C: last\n"
                                  "C: .\n"
                                  "S: 250-2.0.0 queued\n"
                                  "S: 250 as 42\n" BYE,
                            &peer);
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
  transcript_assert_finish (peer);
}

/* PIPELINING: the server answers nothing until DATA has come, so the client
 * must have sent MAIL, every RCPT and DATA without waiting. One recipient
 * refused, the other still gets the message. */
static void
test_pipelining_partial (void)
{
  const char *text = "Subject: caf\xc3\xa9\n\nbody\n";
  /* SIZE counts the message as sent: CRLF line ends */
  g_autofree char *dialogue = g_strdup_printf (
      GREET "C: EHLO test\n"
            "S: 250-mx.test\nS: 250-PIPELINING\nS: 250-DSN\nS: 250-SIZE 100000\nS: 250 8BITMIME\n"
            "C: MAIL FROM:<a@example.org> SIZE=%zu BODY=8BITMIME RET=HDRS ENVID=E1\n"
            "C: RCPT TO:<b@example.net> NOTIFY=FAILURE\n"
            "C: RCPT TO:<nobody@example.net> NOTIFY=FAILURE\n"
            "C: DATA\n"
            "S: 250 2.1.0 ok\n"
            "S: 250 2.1.5 ok\n"
            "S: 550 5.1.1 <nobody@example.net>: no such user\n"
            "S: 354 go\n"
            "C: Subject: caf\xc3\xa9\n"
            "C:\n"
            "C: body\n"
            "C: .\n"
            "S: 250 2.0.0 queued\n" BYE,
      strlen (text) + 3);
  TranscriptPeer *peer;
  MsgtkSmtp *s = connected ("pipelining-partial", dialogue, &peer);
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) rcpts = strv_array ("b@example.net", "nobody@example.net", NULL);
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
  transcript_assert_finish (peer);
}

static void
test_all_refused_pipelined (void)
{
  TranscriptPeer *peer;
  MsgtkSmtp *s = connected ("all-refused-pipelined",
                            GREET EHLO_PIPELINING "C: MAIL FROM:<a@example.org>\n"
                                                  "C: RCPT TO:<x@example.net>\n"
                                                  "C: DATA\n"
                                                  "S: 250 ok\n"
                                                  "S: 550 5.1.1 unknown\n"
                                                  "S: 554 5.5.1 no valid recipients\n"
                                                  "C: RSET\n"
                                                  "S: 250 ok\n" BYE,
                            &peer);
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
  transcript_assert_finish (peer);
}

static void
test_sender_refused (void)
{
  TranscriptPeer *peer;
  MsgtkSmtp *s = connected ("sender-refused",
                            GREET EHLO_PIPELINING "C: MAIL FROM:<a@example.org>\n"
                                                  "C: RCPT TO:<b@example.net>\n"
                                                  "C: DATA\n"
                                                  "S: 553 5.7.1 sender not yours\n"
                                                  "S: 503 5.5.1 no sender\n"
                                                  "S: 503 5.5.1 no recipients\n"
                                                  "C: RSET\n"
                                                  "S: 250 ok\n" BYE,
                            &peer);
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) rcpts = strv_array ("b@example.net", NULL);
  g_autoptr (GBytes) msg = bytes ("Subject: x\n\nbody\n");
  g_autoptr (GPtrArray) results = NULL;
  g_assert_false (msgtk_smtp_send (s, "a@example.org", rcpts, msg, NULL, &results, &error));
  g_assert_error (error, MSGTK_ERROR, MSGTK_ERROR_UNAVAILABLE);
  g_assert_nonnull (strstr (error->message, "sender <a@example.org>: 553"));
  g_assert_false (((MsgtkSmtpRecipient *)g_ptr_array_index (results, 0))->accepted);
  msgtk_smtp_quit (s);
  transcript_assert_finish (peer);
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
  TranscriptPeer *peer;
  MsgtkSmtp *s = connected ("pipelining-across-messages",
                            GREET EHLO_PIPELINING "C: MAIL FROM:<a@example.org>\n"
                                                  "C: RCPT TO:<b@example.net>\n"
                                                  "C: DATA\n"
                                                  "S: 250 ok\n"
                                                  "S: 250 ok\n"
                                                  "S: 354 go\n"
                                                  "C: Subject: one\n"
                                                  "C:\n"
                                                  "C: body one\n"
                                                  "C: .\n"
                                                  "C: MAIL FROM:<a@example.org>\n"
                                                  "C: RCPT TO:<b@example.net>\n"
                                                  "C: DATA\n"
                                                  "S: 250 2.0.0 queued 1\n"
                                                  "S: 250 ok\n"
                                                  "S: 250 ok\n"
                                                  "S: 354 go\n"
                                                  "C: Subject: two\n"
                                                  "C:\n"
                                                  "C: body two\n"
                                                  "C: .\n"
                                                  "C: QUIT\n"
                                                  "S: 554 5.7.1 rejected 2\n"
                                                  "S: 221 bye\n",
                            &peer);
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
  transcript_assert_finish (peer);
}

/* The server goes away while a message waits for its final reply: that
 * message is reported as not confirmed, the next one fails, and freeing a
 * session with a message still waiting reports it too. */
static void
test_pending_lost (void)
{
#define FIRST_MESSAGE                                                                              \
  GREET EHLO_PIPELINING "C: MAIL FROM:<a@example.org>\n"                                           \
                        "C: RCPT TO:<b@example.net>\n"                                             \
                        "C: DATA\n"                                                                \
                        "S: 250 ok\n"                                                              \
                        "S: 250 ok\n"                                                              \
                        "S: 354 go\n"                                                              \
                        "C: Subject: one\n"                                                        \
                        "C:\n"                                                                     \
                        "C: body one\n"
  TranscriptPeer *peer;
  MsgtkSmtp *s = connected ("pending-lost", FIRST_MESSAGE "-- close --\n", &peer);
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) rcpts = strv_array ("b@example.net", NULL);
  g_autoptr (GBytes) m1 = bytes ("Subject: one\n\nbody one\n");
  Done d1 = { 0 }, d2 = { 0 };
  MsgtkSmtpSendOptions so = { .done = on_done, .done_data = &d1 };
  g_autoptr (GPtrArray) r1 = NULL, r2 = NULL;
  g_assert_true (msgtk_smtp_send (s, "a@example.org", rcpts, m1, &so, &r1, &error));
  transcript_assert_finish (peer); /* the server has hung up */
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

  /* freed while waiting: the dot never went (not delivered), nothing more did */
  s = connected ("pending-freed", FIRST_MESSAGE, &peer);
  Done d3 = { 0 };
  so.done_data = &d3;
  g_autoptr (GPtrArray) r3 = NULL;
  g_assert_true (msgtk_smtp_send (s, "a@example.org", rcpts, m1, &so, &r3, &error));
  msgtk_smtp_free (s);
  g_assert_cmpuint (d3.calls, ==, 1);
  g_assert_false (d3.ok);
  g_assert_cmpint (d3.code, ==, MSGTK_ERROR_TEMP_FAIL);
  g_free (d3.message);
  transcript_assert_finish (peer);
#undef FIRST_MESSAGE
}

/* ---- encoding and mapping ---- */

static void
test_encode_data (void)
{
  static const struct {
    const char *in;
    gboolean dots;
    const char *out;
  } cases[] = {
    { "", TRUE, "" },
    { "a", TRUE, "a\r\n" },
    { "a\n", TRUE, "a\r\n" },
    { "a\r\n", TRUE, "a\r\n" },
    { "a\nb", FALSE, "a\r\nb\r\n" },
    { "\n\n", TRUE, "\r\n\r\n" },
    { ".\n", TRUE, "..\r\n" },
    { ".", TRUE, "..\r\n" },
    { ".\n", FALSE, ".\r\n" },
    { "x\n.y\r\n..z\n", TRUE, "x\r\n..y\r\n...z\r\n" },
    { "a.b\n .c\n", TRUE, "a.b\r\n .c\r\n" },
    { "lone\rcr\n", TRUE, "lone\rcr\r\n" },
    { "cr at end\r", TRUE, "cr at end\r\r\n" },
    { "two\r\r\n", TRUE, "two\r\r\n" },
    { "\r\n.\r\n", TRUE, "\r\n..\r\n" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autoptr (GByteArray) out = g_byte_array_new ();
    g_byte_array_append (out, (const guint8 *)"P", 1); /* appends after what is there */
    gsize n = msgtk_smtp_encode_data (cases[i].in, strlen (cases[i].in), cases[i].dots, out);
    g_assert_cmpuint (n, ==, strlen (cases[i].out));
    g_assert_cmpuint (out->len, ==, n + 1);
    g_assert_cmpmem (out->data + 1, n, cases[i].out, strlen (cases[i].out));
  }
  /* a longer text with 8-bit bytes and NULs passes through unchanged but for line ends */
  g_autoptr (GByteArray) big = g_byte_array_new ();
  g_autoptr (GString) expect = g_string_new (NULL);
  g_autoptr (GString) in = g_string_new (NULL);
  for (int i = 0; i < 5000; i++) {
    g_string_append_printf (in, "%sline %d \xc3\xa9%c\n", i % 7 ? "" : ".", i, 0);
    g_string_append_printf (expect, "%sline %d \xc3\xa9%c\r\n", i % 7 ? "" : "..", i, 0);
  }
  msgtk_smtp_encode_data (in->str, in->len, TRUE, big);
  g_assert_cmpmem (big->data, big->len, expect->str, expect->len);
}

static void
test_needs_8bit (void)
{
  for (gsize len = 1; len < 40; len++)
    for (gsize pos = 0; pos < len; pos++) {
      g_autofree char *s = g_strnfill (len, 'a');
      g_autoptr (GBytes) plain = g_bytes_new (s, len);
      g_assert_false (msgtk_smtp_needs_8bit (plain));
      s[pos] = (char)0x80;
      g_autoptr (GBytes) high = g_bytes_new (s, len);
      g_assert_true (msgtk_smtp_needs_8bit (high));
    }
  g_autoptr (GBytes) empty = g_bytes_new (NULL, 0);
  g_assert_false (msgtk_smtp_needs_8bit (empty));
}

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

/* ---- message helpers ---- */

static void
assert_strv (GPtrArray *a, const char *const *expect)
{
  guint n = g_strv_length ((char **)expect);
  g_assert_cmpuint (a->len, ==, n);
  for (guint i = 0; i < n; i++)
    g_assert_cmpstr (g_ptr_array_index (a, i), ==, expect[i]);
}

static void
test_envelope (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) m = bytes ("From: \"Ann\" <ann@example.org>\n"
                                "To: Bob <bob@example.net>, carol@example.net\n"
                                "Cc: team: dave@example.net, Bob <BOB@example.net>;\n"
                                "Bcc: hidden@example.net\n"
                                "Subject: hi\n\nTo: not@header.example\n");
  g_autofree char *sender = NULL;
  g_autoptr (GPtrArray) rcpts = g_ptr_array_new_with_free_func (g_free);
  g_assert_true (msgtk_smtp_envelope_from_headers (m, &sender, rcpts, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (sender, ==, "ann@example.org");
  const char *const want[]
      = { "bob@example.net", "carol@example.net", "dave@example.net", "hidden@example.net", NULL };
  assert_strv (rcpts, want);

  /* Sender: wins over From:; a sender already given stays */
  g_autoptr (GBytes) m2
      = bytes ("From: a@example.org\r\nSender: s@example.org\r\nTo: t@example.net\r\n\r\nx\r\n");
  g_autofree char *s2 = NULL;
  g_autoptr (GPtrArray) r2 = g_ptr_array_new_with_free_func (g_free);
  g_assert_true (msgtk_smtp_envelope_from_headers (m2, &s2, r2, &error));
  g_assert_cmpstr (s2, ==, "s@example.org");
  char *given = g_strdup ("given@example.org");
  g_ptr_array_set_size (r2, 0);
  g_assert_true (msgtk_smtp_envelope_from_headers (m2, &given, r2, &error));
  g_assert_cmpstr (given, ==, "given@example.org");
  g_free (given);

  /* Resent-* present: only the Resent- recipients, the Resent- sender */
  g_autoptr (GBytes) m3 = bytes ("Resent-From: fwd@example.org\n"
                                 "Resent-To: new@example.net\n"
                                 "Resent-Bcc: secret@example.net\n"
                                 "From: orig@example.org\n"
                                 "To: old@example.net\n\nbody\n");
  g_autofree char *s3 = NULL;
  g_autoptr (GPtrArray) r3 = g_ptr_array_new_with_free_func (g_free);
  g_assert_true (msgtk_smtp_envelope_from_headers (m3, &s3, r3, &error));
  g_assert_cmpstr (s3, ==, "fwd@example.org");
  const char *const want3[] = { "new@example.net", "secret@example.net", NULL };
  assert_strv (r3, want3);

  g_autoptr (GBytes) m4 = bytes ("Resent-Sender: rs@example.org\nResent-From: rf@example.org\n"
                                 "Resent-Cc: c@example.net\nFrom: o@example.org\n\n");
  g_autofree char *s4 = NULL;
  g_autoptr (GPtrArray) r4 = g_ptr_array_new_with_free_func (g_free);
  g_assert_true (msgtk_smtp_envelope_from_headers (m4, &s4, r4, &error));
  g_assert_cmpstr (s4, ==, "rs@example.org");
  const char *const want4[] = { "c@example.net", NULL };
  assert_strv (r4, want4);

  /* no addresses at all */
  g_autoptr (GBytes) m5 = bytes ("Subject: none\n\nbody\n");
  g_autofree char *s5 = NULL;
  g_autoptr (GPtrArray) r5 = g_ptr_array_new_with_free_func (g_free);
  g_assert_true (msgtk_smtp_envelope_from_headers (m5, &s5, r5, &error));
  g_assert_null (s5);
  g_assert_cmpuint (r5->len, ==, 0);
}

static void
test_strip_bcc (void)
{
  const char *text = "From: a@example.org\r\n"
                     "Bcc: x@example.net,\r\n"
                     "\ty@example.net\r\n"
                     "To: b@example.net\r\n"
                     "BCC : z@example.net\r\n"
                     "Resent-Bcc: r@example.net\r\n"
                     "Bccx: kept\r\n"
                     "Subject: s\r\n"
                     "\r\n"
                     "Bcc: in the body stays\r\n";
  g_autoptr (GBytes) m = bytes (text);
  g_autoptr (GBytes) out = msgtk_smtp_strip_bcc (m);
  gsize n;
  const char *p = g_bytes_get_data (out, &n);
  const char *want = "From: a@example.org\r\n"
                     "To: b@example.net\r\n"
                     "Bccx: kept\r\n"
                     "Subject: s\r\n"
                     "\r\n"
                     "Bcc: in the body stays\r\n";
  g_assert_cmpmem (p, n, want, strlen (want));

  /* without Bcc: the very same bytes */
  g_autoptr (GBytes) plain = bytes ("From: a@example.org\nTo: b@example.net\n\nBcc: body\n");
  g_autoptr (GBytes) same = msgtk_smtp_strip_bcc (plain);
  g_assert_true (g_bytes_equal (plain, same));
  g_assert_true (g_bytes_get_data (plain, NULL) == g_bytes_get_data (same, NULL));

  /* no header at all: a Bcc: line is body text */
  g_autoptr (GBytes) headless = bytes ("\nBcc: body text\n\nmore\n");
  g_autoptr (GBytes) kept = msgtk_smtp_strip_bcc (headless);
  g_assert_true (g_bytes_equal (headless, kept));
  g_autoptr (GBytes) headless_crlf = bytes ("\r\nBcc: body text\r\n\r\nmore\r\n");
  g_autoptr (GBytes) kept_crlf = msgtk_smtp_strip_bcc (headless_crlf);
  g_assert_true (g_bytes_equal (headless_crlf, kept_crlf));
  g_autofree char *none = NULL;
  g_autoptr (GPtrArray) none_rcpts = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) headless_to = bytes ("\nTo: body@example.net\n\n");
  g_assert_true (msgtk_smtp_envelope_from_headers (headless_to, &none, none_rcpts, &error));
  g_assert_cmpuint (none_rcpts->len, ==, 0);

  /* a Bcc as the last header line of a message without body */
  g_autoptr (GBytes) last = bytes ("To: b@example.net\nBcc: x@example.net");
  g_autoptr (GBytes) cut = msgtk_smtp_strip_bcc (last);
  const char *c = g_bytes_get_data (cut, &n);
  g_assert_cmpmem (c, n, "To: b@example.net\n", 18);
}

static void
test_add_missing (void)
{
  g_autoptr (GBytes) full
      = bytes ("Date: Mon, 3 Jan 2005 04:05:06 +0000\nMessage-ID: <x@y>\nSubject: s\n\nb\n");
  g_autoptr (GBytes) same = msgtk_smtp_add_missing (full, "example.org");
  g_assert_true (g_bytes_equal (full, same));

  g_autoptr (GBytes) bare = bytes ("Subject: s\r\n\r\nbody\r\n");
  g_autoptr (GBytes) added = msgtk_smtp_add_missing (bare, "example.org");
  g_autofree char *text = g_strndup (g_bytes_get_data (added, NULL), g_bytes_get_size (added));
  g_assert_true (g_str_has_prefix (text, "Date: "));
  g_assert_nonnull (strstr (text, "\r\nMessage-ID: <"));
  g_assert_nonnull (strstr (text, "@example.org>\r\nSubject: s\r\n\r\nbody\r\n"));

  g_autoptr (GBytes) nodate = bytes ("Message-ID: <x@y>\n\nb\n");
  g_autoptr (GBytes) d = msgtk_smtp_add_missing (nodate, NULL);
  g_autofree char *dt = g_strndup (g_bytes_get_data (d, NULL), g_bytes_get_size (d));
  g_assert_true (g_str_has_prefix (dt, "Date: "));
  g_assert_true (g_str_has_suffix (dt, "\nMessage-ID: <x@y>\n\nb\n"));
  g_assert_null (strstr (strstr (dt, "Message-ID") + 1, "Message-ID")); /* not added twice */
}

static void
test_spool (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("msgtk-spool-XXXXXX", &error);
  g_assert_no_error (error);
  g_autofree char *spool = g_build_filename (dir, "queue", NULL);
  g_autoptr (GPtrArray) rcpts = strv_array ("b@example.net", "c;d@example.net", NULL);
  g_autoptr (GBytes) m1 = bytes ("Subject: one\n\nbody\n");
  g_autoptr (GBytes) m2 = bytes ("Subject: two\n\nbody\n");
  g_autofree char *n1 = NULL, *n2 = NULL;
  g_assert_true (
      msgtk_smtp_spool_put (spool, "a@example.org", rcpts, m1, "451 later", &n1, &error));
  g_assert_true (msgtk_smtp_spool_put (spool, "", rcpts, m2, NULL, &n2, &error));
  g_assert_no_error (error);
  g_autofree char *msgpath = g_build_filename (spool, "new", n1, NULL);
  GStatBuf st;
  g_assert_cmpint (g_stat (msgpath, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);

  g_autoptr (GPtrArray) names = msgtk_smtp_spool_list (spool, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (names->len, ==, 2);
  g_assert_cmpstr (g_ptr_array_index (names, 0), ==, n1); /* oldest first */
  g_assert_cmpstr (g_ptr_array_index (names, 1), ==, n2);

  g_autofree char *sender = NULL;
  g_autoptr (GPtrArray) got = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GBytes) back = NULL;
  g_assert_true (msgtk_smtp_spool_get (spool, n1, &sender, got, &back, &error));
  g_assert_cmpstr (sender, ==, "a@example.org");
  const char *const want[] = { "b@example.net", "c;d@example.net", NULL };
  assert_strv (got, want);
  g_assert_true (g_bytes_equal (back, m1));

  g_assert_true (msgtk_smtp_spool_remove (spool, n1, &error));
  g_autoptr (GPtrArray) left = msgtk_smtp_spool_list (spool, &error);
  g_assert_cmpuint (left->len, ==, 1);
  g_autofree char *envpath = g_build_filename (spool, "env", n1, NULL);
  g_assert_false (g_file_test (envpath, G_FILE_TEST_EXISTS));

  g_autoptr (GPtrArray) none = msgtk_smtp_spool_list (dir, &error); /* not a spool */
  g_assert_null (none);
  g_assert_error (error, MSGTK_ERROR, MSGTK_ERROR_NO_INPUT);
  g_clear_error (&error);

  g_assert_true (msgtk_smtp_spool_remove (spool, n2, &error));
  const char *subs[] = { "tmp", "new", "cur", "env" };
  for (guint i = 0; i < G_N_ELEMENTS (subs); i++) {
    g_autofree char *d = g_build_filename (spool, subs[i], NULL);
    g_assert_cmpint (g_rmdir (d), ==, 0);
  }
  g_assert_cmpint (g_rmdir (spool), ==, 0);
  g_assert_cmpint (g_rmdir (dir), ==, 0);
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
  g_test_add_func ("/smtp/helo-and-data", test_helo_and_data);
  g_test_add_func ("/smtp/pipelining-partial", test_pipelining_partial);
  g_test_add_func ("/smtp/all-refused-pipelined", test_all_refused_pipelined);
  g_test_add_func ("/smtp/sender-refused", test_sender_refused);
  g_test_add_func ("/smtp/pipelining-across-messages", test_pipelining_across_messages);
  g_test_add_func ("/smtp/pending-lost", test_pending_lost);
  g_test_add_func ("/smtp/encode-data", test_encode_data);
  g_test_add_func ("/smtp/needs-8bit", test_needs_8bit);
  g_test_add_func ("/smtp/reply-error", test_reply_error);
  g_test_add_func ("/smtp/envelope", test_envelope);
  g_test_add_func ("/smtp/strip-bcc", test_strip_bcc);
  g_test_add_func ("/smtp/add-missing", test_add_missing);
  g_test_add_func ("/smtp/spool", test_spool);
  return g_test_run ();
}
