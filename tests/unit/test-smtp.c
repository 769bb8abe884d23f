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
            "C: MAIL FROM:<a@example.org> SIZE=%zu BODY=8BITMIME RET=HDRS ENVID=E1+2Bx+3Dy+20z\n"
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
  MsgtkSmtpSendOptions so = { .dsn_notify = "FAILURE", .dsn_return = "HDRS", .envid = "E1+x=y z" };
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

/* Values that reach the wire: only those SMTP allows, never CR or LF. */
static void
test_wire_values (void)
{
  static const char *const good_helo[]
      = { "mx.example.org", "host-1", "[192.0.2.1]", "[IPv6:2001:db8::1]", NULL };
  static const char *const bad_helo[]
      = { "x\r\nVRFY root", "a b", "", "[1.2.3.4", "caf\xc3\xa9", "[a]b]", NULL };
  for (guint i = 0; good_helo[i] != NULL; i++) {
    g_autoptr (GError) error = NULL;
    g_assert_true (msgtk_smtp_check_helo (good_helo[i], &error));
    g_assert_no_error (error);
  }
  for (guint i = 0; bad_helo[i] != NULL; i++) {
    g_autoptr (GError) error = NULL;
    g_assert_false (msgtk_smtp_check_helo (bad_helo[i], &error));
    g_assert_error (error, MSGTK_ERROR, MSGTK_ERROR_USAGE);
    g_assert_null (strchr (error->message, '\n'));
  }
  struct {
    MsgtkSmtpSendOptions o;
    gboolean ok;
  } cases[] = {
    { { .dsn_notify = "never" }, TRUE },
    { { .dsn_notify = "SUCCESS,FAILURE,DELAY" }, TRUE },
    { { .dsn_notify = "SUCCESS,SUCCESS" }, FALSE },
    { { .dsn_notify = "NEVER,SUCCESS" }, FALSE },
    { { .dsn_notify = "FAILURE\r\nVRFY root" }, FALSE },
    { { .dsn_notify = "" }, FALSE },
    { { .dsn_return = "hdrs" }, TRUE },
    { { .dsn_return = "FULL,HDRS" }, FALSE },
    { { .dsn_return = "HDRS x" }, FALSE },
    { { .envid = "id+1=2 3" }, TRUE },
    { { .envid = "id\r\nVRFY root" }, FALSE },
    { { .envid = "caf\xc3\xa9" }, FALSE },
    { { .envid = "" }, FALSE },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autoptr (GError) error = NULL;
    g_assert_cmpint (msgtk_smtp_send_options_check (&cases[i].o, &error), ==, cases[i].ok);
    if (!cases[i].ok)
      g_assert_error (error, MSGTK_ERROR, MSGTK_ERROR_USAGE);
  }
  char envid[102];
  memset (envid, 'e', 101);
  envid[101] = '\0';
  MsgtkSmtpSendOptions too_long = { .envid = envid };
  g_assert_false (msgtk_smtp_send_options_check (&too_long, NULL));
  envid[100] = '\0';
  g_assert_true (msgtk_smtp_send_options_check (&too_long, NULL));
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
  g_test_add_func ("/smtp/reply-error", test_reply_error);
  g_test_add_func ("/smtp/wire-values", test_wire_values);
  return g_test_run ();
}
