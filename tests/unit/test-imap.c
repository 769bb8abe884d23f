#include "date-private.h"
#include "imap-private.h"

#include <glib/gstdio.h>
#include <msgtk/msgtk.h>
#include <string.h>

/* ---- a scripted server: fixed responses in, everything the client sent out ---- */

typedef struct {
  GIOStream *stream;
  GOutputStream *sent;
} Script;

static Script
script_new (const char *responses)
{
  Script sc;
  g_autoptr (GInputStream) in
      = g_memory_input_stream_new_from_data (g_strdup (responses), -1, g_free);
  sc.sent = g_memory_output_stream_new_resizable ();
  sc.stream = g_simple_io_stream_new (in, sc.sent);
  return sc;
}

static char *
script_sent (Script *sc)
{
  GMemoryOutputStream *m = G_MEMORY_OUTPUT_STREAM (sc->sent);
  gsize n = g_memory_output_stream_get_data_size (m);
  return n ? g_strndup (g_memory_output_stream_get_data (m), n) : g_strdup ("");
}

static void
script_free (Script *sc)
{
  g_object_unref (sc->stream);
  g_object_unref (sc->sent);
}

/* Check that the client sent exactly @want, then free the script and @n messages. */
static void
script_finish (Script *sc, const char *want, MsgtkImapMessage *m, guint n)
{
  g_autofree char *sent = script_sent (sc);
  g_assert_cmpstr (sent, ==, want);
  for (guint i = 0; i < n; i++)
    msgtk_imap_message_clear (&m[i]);
  script_free (sc);
}

static void
test_parse (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (ImapResponse) t
      = imap_response_parse ("A1 NO [TRYCREATE] No such mailbox", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (t->kind, ==, IMAP_RESPONSE_TAGGED);
  g_assert_cmpstr (t->tag, ==, "A1");
  g_assert_cmpstr (t->status, ==, "NO");
  g_assert_cmpstr (t->code, ==, "TRYCREATE");
  g_assert_cmpstr (t->text, ==, "No such mailbox");

  g_autoptr (ImapResponse) u = imap_response_parse ("* 23 EXISTS", NULL, &error);
  g_assert_cmpint (u->kind, ==, IMAP_RESPONSE_UNTAGGED);
  g_assert_null (u->status);
  g_assert_cmpstr (u->data, ==, "23 EXISTS");

  g_autoptr (ImapResponse) ok
      = imap_response_parse ("* ok [CAPABILITY IMAP4rev1 LITERAL+] hi", NULL, &error);
  g_assert_cmpstr (ok->status, ==, "OK");
  g_assert_cmpstr (ok->code, ==, "CAPABILITY IMAP4rev1 LITERAL+");
  g_assert_cmpstr (ok->text, ==, "hi");

  g_autoptr (ImapResponse) c = imap_response_parse ("+ Ready for literal data", NULL, &error);
  g_assert_cmpint (c->kind, ==, IMAP_RESPONSE_CONTINUATION);
  g_assert_cmpstr (c->text, ==, "Ready for literal data");
  g_autoptr (ImapResponse) c2 = imap_response_parse ("+", NULL, &error);
  g_assert_cmpint (c2->kind, ==, IMAP_RESPONSE_CONTINUATION);

  g_autoptr (ImapResponse) bad = imap_response_parse ("garbage", NULL, &error);
  g_assert_null (bad);
  g_assert_error (error, MSGTK_ERROR, MSGTK_ERROR_PROTOCOL);
  g_clear_error (&error);
  g_autoptr (ImapResponse) bad2 = imap_response_parse ("A1 MAYBE so", NULL, &error);
  g_assert_null (bad2);
  g_assert_error (error, MSGTK_ERROR, MSGTK_ERROR_PROTOCOL);

  guint64 n = 0;
  g_assert_true (imap_line_literal ("* 1 FETCH (BODY[] {12}", 22, &n));
  g_assert_cmpuint (n, ==, 12);
  g_assert_true (imap_line_literal ("x {7+}", 6, &n));
  g_assert_cmpuint (n, ==, 7);
  g_assert_false (imap_line_literal ("x {}", 4, &n));
  g_assert_false (imap_line_literal ("A1 OK done", 10, &n));
}

static void
test_utf7 (void)
{
  static const struct {
    const char *utf8, *mutf7;
  } cases[] = {
    { "INBOX", "INBOX" },
    { "Entwürfe", "Entw&APw-rfe" },
    { "~peter/mail/日本語/台北", "~peter/mail/&ZeVnLIqe-/&U,BTFw-" },
    { "A&B", "A&-B" },
    { "&", "&-" },
    { "Ü", "&ANw-" },
    { "😀 x", "&2D3eAA- x" },
    { "ÀÁ", "&AMAAwQ-" },
    { "", "" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autofree char *e = msgtk_utf7_encode (cases[i].utf8);
    g_assert_cmpstr (e, ==, cases[i].mutf7);
    g_autofree char *d = msgtk_utf7_decode (cases[i].mutf7);
    g_assert_cmpstr (d, ==, cases[i].utf8);
  }
  /* invalid: unterminated run, bad base64, 8-bit, lone surrogate, leftover bits */
  const char *bad[] = { "&ANw", "&A*w-", "caf\xc3\xa9", "&2D0-", "&ANx-" };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
    g_autofree char *d = msgtk_utf7_decode (bad[i]);
    g_assert_null (d);
  }
  g_autofree char *inv = msgtk_utf7_encode ("\xff");
  g_assert_null (inv);
}

static void
test_quote_and_format (void)
{
  g_autoptr (GString) s = g_string_new (NULL);
  g_assert_true (imap_quote (s, "a \"b\" \\c", FALSE));
  g_assert_cmpstr (s->str, ==, "\"a \\\"b\\\" \\\\c\"");
  g_string_truncate (s, 0);
  g_assert_false (imap_quote (s, "line\r\nbreak", FALSE));
  g_assert_false (imap_quote (s, "pässword", FALSE));
  g_assert_true (imap_quote (s, "pässword", TRUE));
  g_assert_cmpstr (s->str, ==, "\"pässword\"");

  g_autoptr (GTimeZone) tz = g_time_zone_new_identifier ("-0730");
  g_autoptr (GDateTime) d = g_date_time_new (tz, 2004, 3, 7, 9, 5, 1);
  g_autofree char *ds = date_format_imap (d);
  g_assert_cmpstr (ds, ==, "07-Mar-2004 09:05:01 -0730");
  g_autofree char *f0 = msgtk_flags_to_imap (0);
  g_assert_cmpstr (f0, ==, "()");
  g_autofree char *f = msgtk_flags_to_imap (MSGTK_FLAG_SEEN | MSGTK_FLAG_DRAFT);
  g_assert_cmpstr (f, ==, "(\\Seen \\Draft)");
  /* the shared flags: maildir letters and mbox Status/X-Status to IMAP */
  g_autofree char *fm = msgtk_flags_to_imap (msgtk_flags_from_maildir_name ("1.M1P1.h:2,DFRST"));
  g_assert_cmpstr (fm, ==, "(\\Seen \\Answered \\Flagged \\Deleted \\Draft)");
  g_autofree char *fb = msgtk_flags_to_imap (msgtk_flags_from_mbox_status ("RO", "AT"));
  g_assert_cmpstr (fb, ==, "(\\Seen \\Answered \\Draft)");
}

static void
test_batches (void)
{
  guint64 sizes[] = { 10, 10, 10, 100, 5, 5, 5, 5, 5 };
  g_autoptr (GArray) b = imap_split_batches (sizes, G_N_ELEMENTS (sizes), 3, 50);
  /* [10 10 10] [100] [5 5 5] [5 5] */
  g_assert_cmpuint (b->len, ==, 4);
  g_assert_cmpuint (g_array_index (b, guint, 0), ==, 3);
  g_assert_cmpuint (g_array_index (b, guint, 1), ==, 1);
  g_assert_cmpuint (g_array_index (b, guint, 2), ==, 3);
  g_assert_cmpuint (g_array_index (b, guint, 3), ==, 2);
  g_autoptr (GArray) e = imap_split_batches (sizes, 0, 3, 50);
  g_assert_cmpuint (e->len, ==, 0);

  g_autoptr (GArray) uids = g_array_new (FALSE, FALSE, sizeof (guint32));
  guint32 v = 0;
  g_assert_true (imap_parse_appenduid ("APPENDUID 38505 3955:3957,3960", &v, uids));
  g_assert_cmpuint (v, ==, 38505);
  g_assert_cmpuint (uids->len, ==, 4);
  g_assert_cmpuint (g_array_index (uids, guint32, 2), ==, 3957);
  g_assert_cmpuint (g_array_index (uids, guint32, 3), ==, 3960);
  g_assert_false (imap_parse_appenduid ("APPENDUID 0 1", &v, uids));
  g_assert_false (imap_parse_appenduid ("COPYUID 1 2 3", &v, uids));
  g_assert_false (imap_parse_appenduid ("APPENDUID 5 x", &v, uids));
}

#define GREETING "* OK [CAPABILITY IMAP4rev1 STARTTLS AUTH=PLAIN] ready\r\n"

static MsgtkAccount *
account_new (const char *user, const char *password)
{
  MsgtkAccount *a = msgtk_account_new ();
  a->user = g_strdup (user);
  a->password = g_strdup (password);
  a->netrc = FALSE;
  return a;
}

static void
test_login_refused_in_clear (void)
{
  Script sc = script_new (GREETING);
  g_autoptr (GError) error = NULL;
  g_autoptr (MsgtkAccount) a = account_new ("u", "secret");
  g_autoptr (MsgtkImapSession) s = msgtk_imap_session_new_for_stream (sc.stream, FALSE, &error);
  g_assert_no_error (error);
  g_assert_true (msgtk_imap_session_has_capability (s, "starttls"));
  g_assert_false (msgtk_imap_session_authenticate (s, a, &error));
  g_assert_error (error, MSGTK_ERROR, MSGTK_ERROR_NO_PERM);
  g_assert_nonnull (strstr (error->message, "without TLS"));
  g_assert_null (strstr (error->message, "secret"));
  g_autofree char *sent = script_sent (&sc);
  g_assert_cmpstr (sent, ==, "");
  script_free (&sc);
}

static void
test_login_literal (void)
{
  /* no SASL mechanism offered: LOGIN; an 8-bit password without LITERAL+ is
   * a synchronising literal; untagged data interleaved */
  Script sc = script_new ("* OK hello\r\n"
                          "* CAPABILITY IMAP4rev1\r\n"
                          "A0001 OK done\r\n"
                          "+ go on\r\n"
                          "* 3 EXISTS\r\n"
                          "A0002 OK [CAPABILITY IMAP4rev1 MULTIAPPEND] logged in\r\n");
  g_autoptr (GError) error = NULL;
  g_autoptr (MsgtkAccount) a = account_new ("us\"er", "pä\\ss");
  g_autoptr (MsgtkImapSession) s = msgtk_imap_session_new_for_stream (sc.stream, TRUE, &error);
  g_assert_no_error (error);
  g_assert_true (msgtk_imap_session_authenticate (s, a, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (msgtk_imap_session_get_auth_mechanism (s), ==, "LOGIN");
  g_assert_true (msgtk_imap_session_has_capability (s, "MULTIAPPEND"));
  g_autofree char *sent = script_sent (&sc);
  g_assert_cmpstr (sent, ==, "A0001 CAPABILITY\r\nA0002 LOGIN \"us\\\"er\" {6}\r\npä\\ss\r\n");
  script_free (&sc);
}

static void
test_authenticate_sasl_ir (void)
{
  /* SASL-IR: PLAIN's initial response in the command; then ENABLE UTF8=ACCEPT
   * and a UTF-8 mailbox name sent as it is */
  Script sc = script_new ("* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN AUTH=LOGIN] hi\r\n"
                          "A0001 OK [CAPABILITY IMAP4rev1 UTF8=ACCEPT LITERAL+] welcome\r\n"
                          "* ENABLED UTF8=ACCEPT\r\n"
                          "A0002 OK enabled\r\n"
                          "A0003 OK [APPENDUID 4 9] stored\r\n");
  g_autoptr (GError) error = NULL;
  g_autoptr (MsgtkAccount) a = account_new ("user", "pass");
  g_autoptr (MsgtkImapSession) s = msgtk_imap_session_new_for_stream (sc.stream, TRUE, &error);
  g_assert_no_error (error);
  g_assert_true (msgtk_imap_session_authenticate (s, a, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (msgtk_imap_session_get_auth_mechanism (s), ==, "PLAIN");
  g_assert_true (msgtk_imap_session_is_utf8 (s));
  MsgtkImapMessage m = { 0 };
  m.data = g_bytes_new_static ("x", 1);
  g_assert_true (msgtk_imap_session_append (s, "Entwürfe", &m, 1, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (m.uid, ==, 9);
  msgtk_imap_message_clear (&m);
  g_autofree char *sent = script_sent (&sc);
  g_assert_cmpstr (sent, ==,
                   "A0001 AUTHENTICATE PLAIN AHVzZXIAcGFzcw==\r\n"
                   "A0002 ENABLE UTF8=ACCEPT\r\n"
                   "A0003 APPEND \"Entwürfe\" () {1+}\r\nx\r\n");
  script_free (&sc);
}

static void
test_authenticate_continuation (void)
{
  /* no SASL-IR: the initial response after an empty continuation; the
   * capabilities are asked again after authentication */
  Script sc = script_new ("* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] hi\r\n"
                          "+ \r\n"
                          "A0001 OK done\r\n"
                          "* CAPABILITY IMAP4rev1 MULTIAPPEND\r\n"
                          "A0002 OK caps\r\n");
  g_autoptr (GError) error = NULL;
  g_autoptr (MsgtkAccount) a = account_new ("user", "pass");
  g_autoptr (MsgtkImapSession) s = msgtk_imap_session_new_for_stream (sc.stream, TRUE, &error);
  g_assert_true (msgtk_imap_session_authenticate (s, a, &error));
  g_assert_no_error (error);
  g_assert_true (msgtk_imap_session_has_capability (s, "MULTIAPPEND"));
  g_autofree char *sent = script_sent (&sc);
  g_assert_cmpstr (sent, ==,
                   "A0001 AUTHENTICATE PLAIN\r\nAHVzZXIAcGFzcw==\r\nA0002 CAPABILITY\r\n");
  script_free (&sc);
}

static void
test_authenticate_refusals (void)
{
  g_autoptr (GError) error = NULL;
  /* the account allows only SCRAM-SHA-256, the server offers PLAIN: nothing sent */
  Script sc = script_new ("* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] hi\r\n");
  g_autoptr (MsgtkAccount) a = account_new ("user", "hunter2");
  a->auth = g_strdup ("SCRAM-SHA-256");
  g_autoptr (MsgtkImapSession) s = msgtk_imap_session_new_for_stream (sc.stream, TRUE, &error);
  g_assert_false (msgtk_imap_session_authenticate (s, a, &error));
  g_assert_error (error, MSGTK_ERROR, MSGTK_ERROR_UNAVAILABLE);
  g_autofree char *sent = script_sent (&sc);
  g_assert_cmpstr (sent, ==, "");
  g_clear_pointer (&s, msgtk_imap_session_free);
  script_free (&sc);
  g_clear_error (&error);

  /* no mechanism and LOGINDISABLED */
  sc = script_new ("* OK [CAPABILITY IMAP4rev1 LOGINDISABLED] hi\r\n");
  g_clear_pointer (&a->auth, g_free);
  s = msgtk_imap_session_new_for_stream (sc.stream, TRUE, &error);
  g_assert_false (msgtk_imap_session_authenticate (s, a, &error));
  g_assert_error (error, MSGTK_ERROR, MSGTK_ERROR_UNAVAILABLE);
  g_assert_nonnull (strstr (error->message, "LOGINDISABLED"));
  g_clear_pointer (&s, msgtk_imap_session_free);
  script_free (&sc);
  g_clear_error (&error);

  /* wrong password: the server's words, no secret */
  sc = script_new ("* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN] hi\r\n"
                   "A0001 NO [AUTHENTICATIONFAILED] Authentication failed.\r\n");
  s = msgtk_imap_session_new_for_stream (sc.stream, TRUE, &error);
  g_assert_false (msgtk_imap_session_authenticate (s, a, &error));
  g_assert_error (error, MSGTK_ERROR, MSGTK_ERROR_NO_PERM);
  g_assert_nonnull (strstr (error->message, "AUTHENTICATIONFAILED"));
  g_assert_null (strstr (error->message, a->password));
  g_clear_pointer (&s, msgtk_imap_session_free);
  script_free (&sc);
}

static void
test_starttls_injection (void)
{
  /* a response smuggled in after the OK to STARTTLS, before the handshake */
  Script sc = script_new ("* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] hi\r\n"
                          "A0001 OK Begin TLS negotiation now\r\n"
                          "* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] injected\r\n");
  g_autoptr (GError) error = NULL;
  g_autoptr (MsgtkImapSession) s = msgtk_imap_session_new_for_stream (sc.stream, FALSE, &error);
  g_assert_false (msgtk_imap_session_starttls (s, &error));
  g_assert_error (error, MSGTK_ERROR, MSGTK_ERROR_PROTOCOL);
  g_assert_false (msgtk_imap_session_has_capability (s, "AUTH=PLAIN"));
  g_clear_error (&error);
  script_free (&sc);

  /* STARTTLS not offered: refused, nothing sent */
  sc = script_new ("* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] hi\r\n");
  g_clear_pointer (&s, msgtk_imap_session_free);
  s = msgtk_imap_session_new_for_stream (sc.stream, FALSE, &error);
  g_assert_false (msgtk_imap_session_starttls (s, &error));
  g_assert_error (error, MSGTK_ERROR, MSGTK_ERROR_UNAVAILABLE);
  g_autofree char *sent = script_sent (&sc);
  g_assert_cmpstr (sent, ==, "");
  script_free (&sc);
}

static void
test_greeting_bye (void)
{
  Script sc = script_new ("* BYE too many connections\r\n");
  g_autoptr (GError) error = NULL;
  g_autoptr (MsgtkImapSession) s = msgtk_imap_session_new_for_stream (sc.stream, TRUE, &error);
  g_assert_null (s);
  g_assert_error (error, MSGTK_ERROR, MSGTK_ERROR_UNAVAILABLE);
  g_assert_nonnull (strstr (error->message, "too many connections"));
  script_free (&sc);
}

static MsgtkImapMessage
msg (const char *text, MsgtkFlags flags)
{
  MsgtkImapMessage m = { 0 };
  m.data = g_bytes_new (text, strlen (text));
  m.flags = flags;
  return m;
}

static void
test_append_sync (void)
{
  /* no LITERAL+, no MULTIAPPEND: one command per message, waiting for '+';
   * an untagged FETCH with a literal arrives in the middle */
  Script sc = script_new ("* PREAUTH [CAPABILITY IMAP4rev1 UIDPLUS] hi\r\n"
                          "+ ok\r\n"
                          "* 1 FETCH (BODY[] {5}\r\nab\r\nc)\r\n"
                          "A0001 OK [APPENDUID 9 41] done\r\n"
                          "A0002 NO [OVERQUOTA] Quota exceeded\r\n");
  g_autoptr (GError) error = NULL;
  g_autoptr (MsgtkImapSession) s = msgtk_imap_session_new_for_stream (sc.stream, FALSE, &error);
  g_assert_no_error (error);
  g_autoptr (MsgtkAccount) a = account_new ("u", "p");
  g_assert_true (msgtk_imap_session_authenticate (s, a, &error)); /* PREAUTH: nothing sent */
  MsgtkImapMessage m[2]
      = { msg ("Subject: a\n\nx\n", MSGTK_FLAG_SEEN), msg ("Subject: b\r\n\r\ny", 0) };
  g_autoptr (GTimeZone) utc = g_time_zone_new_utc ();
  m[0].internal_date = g_date_time_new (utc, 2020, 1, 2, 3, 4, 5);
  g_assert_true (msgtk_imap_session_append (s, "Entwürfe", m, 2, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (m[0].status, ==, MSGTK_IMAP_APPEND_OK);
  g_assert_cmpuint (m[0].uidvalidity, ==, 9);
  g_assert_cmpuint (m[0].uid, ==, 41);
  g_assert_cmpint (m[1].status, ==, MSGTK_IMAP_APPEND_REFUSED);
  g_assert_cmpstr (m[1].code, ==, "OVERQUOTA");
  g_assert_cmpstr (m[1].text, ==, "Quota exceeded");
  script_finish (&sc,
                 "A0001 APPEND \"Entw&APw-rfe\" (\\Seen) \"02-Jan-2020 03:04:05 +0000\" {17}\r\n"
                 "Subject: a\r\n\r\nx\r\n\r\n"
                 "A0002 APPEND \"Entw&APw-rfe\" () {15}\r\n",
                 m, 2);
}

static void
test_multiappend_retry (void)
{
  /* MULTIAPPEND + LITERAL+: one command for three messages; it is refused as a
   * whole, then retried one by one: the middle one is the bad one */
  Script sc = script_new ("* PREAUTH [CAPABILITY IMAP4rev1 MULTIAPPEND LITERAL+ UIDPLUS] hi\r\n"
                          "A0001 NO [LIMIT] message too big\r\n"
                          "A0002 OK [APPENDUID 7 1] ok\r\n"
                          "A0003 NO [LIMIT] message too big\r\n"
                          "A0004 OK [APPENDUID 7 2] ok\r\n");
  g_autoptr (GError) error = NULL;
  g_autoptr (MsgtkImapSession) s = msgtk_imap_session_new_for_stream (sc.stream, FALSE, &error);
  g_assert_no_error (error);
  MsgtkImapMessage m[3] = { msg ("a\n", 0), msg ("bb\n", MSGTK_FLAG_FLAGGED), msg ("c", 0) };
  g_assert_true (msgtk_imap_session_append (s, "INBOX", m, 3, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (m[0].status, ==, MSGTK_IMAP_APPEND_OK);
  g_assert_cmpint (m[1].status, ==, MSGTK_IMAP_APPEND_REFUSED);
  g_assert_cmpstr (m[1].code, ==, "LIMIT");
  g_assert_cmpint (m[2].status, ==, MSGTK_IMAP_APPEND_OK);
  g_assert_cmpuint (m[2].uid, ==, 2);
  script_finish (
      &sc,
      "A0001 APPEND \"INBOX\" () {3+}\r\na\r\n (\\Flagged) {4+}\r\nbb\r\n () {1+}\r\nc\r\n"
      "A0002 APPEND \"INBOX\" () {3+}\r\na\r\n\r\n"
      "A0003 APPEND \"INBOX\" (\\Flagged) {4+}\r\nbb\r\n\r\n"
      "A0004 APPEND \"INBOX\" () {1+}\r\nc\r\n",
      m, 3);
}

static void
test_trycreate_and_bye (void)
{
  /* LITERAL+ without MULTIAPPEND: both APPENDs go out before the first
   * completion; both say TRYCREATE; CREATE once, then both again; BYE */
  Script sc = script_new ("* PREAUTH [CAPABILITY IMAP4rev1 LITERAL+ APPENDLIMIT=10] hi\r\n"
                          "A0001 NO [TRYCREATE] no such mailbox\r\n"
                          "A0002 NO [TRYCREATE] no such mailbox\r\n"
                          "A0003 OK created\r\n"
                          "A0004 OK [APPENDUID 1 1] ok\r\n"
                          "* BYE shutting down\r\n");
  g_autoptr (GError) error = NULL;
  g_autoptr (MsgtkImapSession) s = msgtk_imap_session_new_for_stream (sc.stream, FALSE, &error);
  g_assert_cmpuint (msgtk_imap_session_get_append_limit (s), ==, 10);
  MsgtkImapMessage m[3] = { msg ("a", 0), msg ("way too long for the limit", 0), msg ("c", 0) };
  MsgtkImapAppendOptions o = { .create = TRUE };
  g_assert_false (msgtk_imap_session_append (s, "New", m, 3, &o, &error));
  g_assert_error (error, MSGTK_ERROR, MSGTK_ERROR_TEMP_FAIL);
  g_assert_nonnull (strstr (error->message, "shutting down"));
  g_assert_cmpint (m[0].status, ==, MSGTK_IMAP_APPEND_OK);
  g_assert_cmpint (m[1].status, ==, MSGTK_IMAP_APPEND_REFUSED);
  g_assert_cmpstr (m[1].code, ==, "TOOBIG");
  g_assert_cmpint (m[2].status, ==, MSGTK_IMAP_APPEND_PENDING);
  script_finish (&sc,
                 "A0001 APPEND \"New\" () {1+}\r\na\r\n"
                 "A0002 APPEND \"New\" () {1+}\r\nc\r\n"
                 "A0003 CREATE \"New\"\r\n"
                 "A0004 APPEND \"New\" () {1+}\r\na\r\n"
                 "A0005 APPEND \"New\" () {1+}\r\nc\r\n",
                 m, 3);
}

static void
test_literal_minus (void)
{
  /* LITERAL-: non-synchronising up to 4096 bytes, synchronising above */
  Script sc = script_new ("* PREAUTH [CAPABILITY IMAP4rev1 LITERAL-] hi\r\n"
                          "A0001 OK small stored\r\n"
                          "+ go ahead\r\n"
                          "A0002 OK big stored\r\n");
  g_autoptr (GError) error = NULL;
  g_autoptr (MsgtkImapSession) s = msgtk_imap_session_new_for_stream (sc.stream, FALSE, &error);
  g_autofree char *big = g_strnfill (4097, 'b');
  g_autofree char *edge = g_strnfill (4096, 'e');
  MsgtkImapMessage m[2] = { msg (edge, 0), msg (big, 0) };
  g_assert_true (msgtk_imap_session_append (s, "INBOX", m, 2, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (m[0].status, ==, MSGTK_IMAP_APPEND_OK);
  g_assert_cmpint (m[1].status, ==, MSGTK_IMAP_APPEND_OK);
  g_autofree char *want = g_strdup_printf ("A0001 APPEND \"INBOX\" () {4096+}\r\n%s\r\n"
                                           "A0002 APPEND \"INBOX\" () {4097}\r\n%s\r\n",
                                           edge, big);
  script_finish (&sc, want, m, 2);
}

static void
test_throttled (void)
{
  /* a throttling reply: back off, send the same batch again */
  Script sc = script_new ("* PREAUTH [CAPABILITY IMAP4rev1 LITERAL+ MULTIAPPEND] hi\r\n"
                          "A0001 NO [UNAVAILABLE] try again later\r\n"
                          "A0002 NO [THROTTLED] slow down\r\n"
                          "A0003 OK stored\r\n");
  g_autoptr (GError) error = NULL;
  g_autoptr (MsgtkImapSession) s = msgtk_imap_session_new_for_stream (sc.stream, FALSE, &error);
  MsgtkImapMessage m[2] = { msg ("a", 0), msg ("b", 0) };
  MsgtkImapAppendOptions o = { .backoff_ms = 1 };
  gint64 t0 = g_get_monotonic_time ();
  g_assert_true (msgtk_imap_session_append (s, "INBOX", m, 2, &o, &error));
  g_assert_no_error (error);
  g_assert_cmpint (g_get_monotonic_time () - t0, >=, 3000); /* 1 ms, then 2 ms */
  g_assert_cmpint (m[0].status, ==, MSGTK_IMAP_APPEND_OK);
  g_assert_cmpint (m[1].status, ==, MSGTK_IMAP_APPEND_OK);
  const char *cmd = "APPEND \"INBOX\" () {1+}\r\na () {1+}\r\nb\r\n";
  g_autofree char *want = g_strdup_printf ("A0001 %sA0002 %sA0003 %s", cmd, cmd, cmd);
  script_finish (&sc, want, m, 2);
}

static void
test_in_flight_any_order (void)
{
  /* three APPENDs in flight; completions come back in another order */
  Script sc = script_new ("* PREAUTH [CAPABILITY IMAP4rev1 LITERAL+ UIDPLUS] hi\r\n"
                          "A0003 OK [APPENDUID 5 3] third\r\n"
                          "* 2 EXISTS\r\n"
                          "A0001 OK [APPENDUID 5 1] first\r\n"
                          "A0002 NO [LIMIT] second refused\r\n");
  g_autoptr (GError) error = NULL;
  g_autoptr (MsgtkImapSession) s = msgtk_imap_session_new_for_stream (sc.stream, FALSE, &error);
  MsgtkImapMessage m[3] = { msg ("a", 0), msg ("b", 0), msg ("c", 0) };
  g_assert_true (msgtk_imap_session_append (s, "INBOX", m, 3, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (m[0].uid, ==, 1);
  g_assert_cmpint (m[1].status, ==, MSGTK_IMAP_APPEND_REFUSED);
  g_assert_cmpstr (m[1].code, ==, "LIMIT");
  g_assert_cmpuint (m[2].uid, ==, 3);
  script_finish (&sc,
                 "A0001 APPEND \"INBOX\" () {1+}\r\na\r\n"
                 "A0002 APPEND \"INBOX\" () {1+}\r\nb\r\n"
                 "A0003 APPEND \"INBOX\" () {1+}\r\nc\r\n",
                 m, 3);
}

static void
test_search_message_id (void)
{
  /* one EXAMINE for searches in the same mailbox; a missing mailbox has nothing */
  Script sc = script_new ("* PREAUTH [CAPABILITY IMAP4rev1] hi\r\n"
                          "* 2 EXISTS\r\nA0001 OK [READ-ONLY] examined\r\n"
                          "* SEARCH 7\r\nA0002 OK searched\r\n"
                          "* SEARCH\r\nA0003 OK searched\r\n"
                          "A0004 NO [NONEXISTENT] no such mailbox\r\n");
  g_autoptr (GError) error = NULL;
  g_autoptr (MsgtkImapSession) s = msgtk_imap_session_new_for_stream (sc.stream, FALSE, &error);
  gboolean found = FALSE;
  g_assert_true (msgtk_imap_session_search_message_id (s, "INBOX", "<a@x>", &found, &error));
  g_assert_true (found);
  g_assert_true (msgtk_imap_session_search_message_id (s, "INBOX", "<b@x>", &found, &error));
  g_assert_false (found);
  g_assert_true (msgtk_imap_session_search_message_id (s, "Other", "<a@x>", &found, &error));
  g_assert_false (found);
  g_assert_no_error (error);
  g_autofree char *sent = script_sent (&sc);
  g_assert_cmpstr (sent, ==,
                   "A0001 EXAMINE \"INBOX\"\r\n"
                   "A0002 UID SEARCH HEADER Message-ID \"<a@x>\"\r\n"
                   "A0003 UID SEARCH HEADER Message-ID \"<b@x>\"\r\n"
                   "A0004 EXAMINE \"Other\"\r\n");
  script_free (&sc);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/imap/parse", test_parse);
  g_test_add_func ("/imap/utf7", test_utf7);
  g_test_add_func ("/imap/quote-format", test_quote_and_format);
  g_test_add_func ("/imap/batches", test_batches);
  g_test_add_func ("/imap/login-refused-in-clear", test_login_refused_in_clear);
  g_test_add_func ("/imap/login-literal", test_login_literal);
  g_test_add_func ("/imap/authenticate-sasl-ir", test_authenticate_sasl_ir);
  g_test_add_func ("/imap/authenticate-continuation", test_authenticate_continuation);
  g_test_add_func ("/imap/authenticate-refusals", test_authenticate_refusals);
  g_test_add_func ("/imap/starttls-injection", test_starttls_injection);
  g_test_add_func ("/imap/literal-minus", test_literal_minus);
  g_test_add_func ("/imap/throttled", test_throttled);
  g_test_add_func ("/imap/search-message-id", test_search_message_id);
  g_test_add_func ("/imap/in-flight-any-order", test_in_flight_any_order);
  g_test_add_func ("/imap/greeting-bye", test_greeting_bye);
  g_test_add_func ("/imap/append-sync", test_append_sync);
  g_test_add_func ("/imap/multiappend-retry", test_multiappend_retry);
  g_test_add_func ("/imap/trycreate-bye", test_trycreate_and_bye);
  return g_test_run ();
}
