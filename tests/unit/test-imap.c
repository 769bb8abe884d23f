#include "date-private.h"
#include "imap-private.h"
#include "transcript.h"

#include <glib/gstdio.h>
#include <msgtk/msgtk.h>
#include <string.h>

/* ---- a session with a transcript's server (tests/unit/transcript.h; the
 * pure dialogues are files in tests/data/transcripts) ---- */

/* A session over a plain connection to @peer; @secure: whether the
 * session is to count as protected (a stream the caller vouches for). */
static MsgtkImapSession *
session (TranscriptPeer *peer, gboolean secure, GError **error)
{
  g_autoptr (GIOStream) stream = transcript_peer_connect (peer);
  return msgtk_imap_session_new_for_stream (stream, secure, error);
}

/* Free the session and @n messages, then check that the dialogue went as
 * the transcript says. */
static void
session_finish (MsgtkImapSession *s, TranscriptPeer *peer, MsgtkImapMessage *m, guint n)
{
  msgtk_imap_session_free (s);
  for (guint i = 0; i < n; i++)
    msgtk_imap_message_clear (&m[i]);
  transcript_assert_finish (peer);
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
  g_autofree char *f0 = msgtk_flags_to_imap (0, NULL);
  g_assert_cmpstr (f0, ==, "()");
  g_autofree char *f = msgtk_flags_to_imap (MSGTK_FLAG_SEEN | MSGTK_FLAG_DRAFT, NULL);
  g_assert_cmpstr (f, ==, "(\\Seen \\Draft)");
  /* the shared flags: maildir letters and mbox Status/X-Status to IMAP */
  g_autofree char *fm
      = msgtk_flags_to_imap (msgtk_flags_from_maildir_name ("1.M1P1.h:2,DFRST"), NULL);
  g_assert_cmpstr (fm, ==, "(\\Seen \\Answered \\Flagged \\Deleted \\Draft)");
  g_autofree char *fb = msgtk_flags_to_imap (msgtk_flags_from_mbox_status ("RO", "AT"), NULL);
  g_assert_cmpstr (fb, ==, "(\\Seen \\Answered \\Draft)");
  /* keywords: from X-Keywords and X-Mozilla-Keys, each once, made atoms */
  g_autoptr (GPtrArray) kw = g_ptr_array_new_with_free_func (g_free);
  msgtk_flags_parse_keywords ("$Label1, work  NonJunk,$label1", kw);
  msgtk_flags_parse_keywords ("to(do) caf\xc3\xa9 \\Seen", kw);
  g_ptr_array_add (kw, NULL);
  g_autofree char *fk = msgtk_flags_to_imap (MSGTK_FLAG_FLAGGED, (const char *const *)kw->pdata);
  g_assert_cmpstr (fk, ==, "(\\Flagged $Label1 work NonJunk to_do_ caf__)");
  MsgtkFlags flags = 0;
  g_autoptr (GPtrArray) uk = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GError) e = NULL;
  g_assert_true (msgtk_flags_parse ("(\\seen $Imported) \\Flagged", &flags, uk, &e));
  g_assert_cmpuint (flags, ==, MSGTK_FLAG_SEEN | MSGTK_FLAG_FLAGGED);
  g_assert_cmpuint (uk->len, ==, 1);
  g_assert_cmpstr (uk->pdata[0], ==, "$Imported");
  g_assert_false (msgtk_flags_parse ("\\Important", &flags, uk, &e));
  g_assert_error (e, MSGTK_ERROR, MSGTK_ERROR_USAGE);
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

#define GREETING "S: * OK [CAPABILITY IMAP4rev1 STARTTLS AUTH=PLAIN] ready\n"

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
  /* nothing is sent */
  TranscriptPeer *peer = transcript_start_text ("login-refused-in-clear", GREETING);
  g_autoptr (GError) error = NULL;
  g_autoptr (MsgtkAccount) a = account_new ("u", "secret");
  MsgtkImapSession *s = session (peer, FALSE, &error);
  g_assert_no_error (error);
  g_assert_true (msgtk_imap_session_has_capability (s, "starttls"));
  g_assert_false (msgtk_imap_session_authenticate (s, a, &error));
  g_assert_error (error, MSGTK_ERROR, MSGTK_ERROR_NO_PERM);
  g_assert_nonnull (strstr (error->message, "without TLS"));
  g_assert_null (strstr (error->message, "secret"));
  session_finish (s, peer, NULL, 0);
}

static void
test_login_literal (void)
{
  /* no SASL mechanism offered: LOGIN; an 8-bit password without LITERAL+ is
   * a synchronising literal; untagged data interleaved */
  TranscriptPeer *peer
      = transcript_start_text ("login-literal", "S: * OK hello\n"
                                                "C: A0001 CAPABILITY\n"
                                                "S: * CAPABILITY IMAP4rev1\n"
                                                "S: A0001 OK done\n"
                                                "C: A0002 LOGIN \"us\\\"er\" {6}\n"
                                                "S: + go on\n"
                                                "C: p\xc3\xa4\\ss\n"
                                                "S: * 3 EXISTS\n"
                                                "S: A0002 OK [CAPABILITY IMAP4rev1 MULTIAPPEND] "
                                                "logged in\n");
  g_autoptr (GError) error = NULL;
  g_autoptr (MsgtkAccount) a = account_new ("us\"er", "p\xc3\xa4\\ss");
  MsgtkImapSession *s = session (peer, TRUE, &error);
  g_assert_no_error (error);
  g_assert_true (msgtk_imap_session_authenticate (s, a, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (msgtk_imap_session_get_auth_mechanism (s), ==, "LOGIN");
  g_assert_true (msgtk_imap_session_has_capability (s, "MULTIAPPEND"));
  session_finish (s, peer, NULL, 0);
}

static void
test_authenticate_sasl_ir (void)
{
  /* SASL-IR: PLAIN's initial response in the command; then ENABLE UTF8=ACCEPT
   * and a UTF-8 mailbox name sent as it is */
  TranscriptPeer *peer = transcript_start_text (
      "authenticate-sasl-ir", "S: * OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN AUTH=LOGIN] hi\n"
                              "C: A0001 AUTHENTICATE PLAIN AHVzZXIAcGFzcw==\n"
                              "S: A0001 OK [CAPABILITY IMAP4rev1 UTF8=ACCEPT LITERAL+] welcome\n"
                              "C: A0002 ENABLE UTF8=ACCEPT\n"
                              "S: * ENABLED UTF8=ACCEPT\n"
                              "S: A0002 OK enabled\n"
                              "C: A0003 APPEND \"Entw\xc3\xbcrfe\" () {1+}\n"
                              "C: x\n"
                              "S: A0003 OK [APPENDUID 4 9] stored\n");
  g_autoptr (GError) error = NULL;
  g_autoptr (MsgtkAccount) a = account_new ("user", "pass");
  MsgtkImapSession *s = session (peer, TRUE, &error);
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
  session_finish (s, peer, &m, 1);
}

static void
test_authenticate_continuation (void)
{
  /* no SASL-IR: the initial response after an empty continuation; the
   * capabilities are asked again after authentication */
  TranscriptPeer *peer = transcript_start_text ("authenticate-continuation",
                                                "S: * OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] hi\n"
                                                "C: A0001 AUTHENTICATE PLAIN\n"
                                                "S: + \n"
                                                "C: AHVzZXIAcGFzcw==\n"
                                                "S: A0001 OK done\n"
                                                "C: A0002 CAPABILITY\n"
                                                "S: * CAPABILITY IMAP4rev1 MULTIAPPEND\n"
                                                "S: A0002 OK caps\n");
  g_autoptr (GError) error = NULL;
  g_autoptr (MsgtkAccount) a = account_new ("user", "pass");
  MsgtkImapSession *s = session (peer, TRUE, &error);
  g_assert_true (msgtk_imap_session_authenticate (s, a, &error));
  g_assert_no_error (error);
  g_assert_true (msgtk_imap_session_has_capability (s, "MULTIAPPEND"));
  session_finish (s, peer, NULL, 0);
}

static void
test_starttls_injection (void)
{
  /* a response smuggled in after the OK to STARTTLS, before the handshake
   * (in the same write: the server's lines before a client line go
   * together); STARTTLS not offered: tests/data/transcripts */
  TranscriptPeer *peer = transcript_start_text (
      "starttls-injection", "S: * OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] hi\n"
                            "C: A0001 STARTTLS\n"
                            "S: A0001 OK Begin TLS negotiation now\n"
                            "S: * OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] injected\n");
  g_autoptr (GError) error = NULL;
  MsgtkImapSession *s = session (peer, FALSE, &error);
  g_assert_false (msgtk_imap_session_starttls (s, &error));
  g_assert_error (error, MSGTK_ERROR, MSGTK_ERROR_PROTOCOL);
  g_assert_false (msgtk_imap_session_has_capability (s, "AUTH=PLAIN"));
  session_finish (s, peer, NULL, 0);
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
  TranscriptPeer *peer = transcript_start_text (
      "append-sync",
      "S: * PREAUTH [CAPABILITY IMAP4rev1 UIDPLUS] hi\n"
      "C: A0001 APPEND \"Entw&APw-rfe\" (\\Seen) \"02-Jan-2020 03:04:05 +0000\" {17}\n"
      "S: + ok\n"
      "C: Subject: a\n"
      "C:\n"
      "C: x\n"
      "C:\n"
      "S: * 1 FETCH (BODY[] {5}\n"
      "S: ab\n"
      "S: c)\n"
      "S: A0001 OK [APPENDUID 9 41] done\n"
      "C: A0002 APPEND \"Entw&APw-rfe\" () {15}\n"
      "S: A0002 NO [OVERQUOTA] Quota exceeded\n");
  g_autoptr (GError) error = NULL;
  MsgtkImapSession *s = session (peer, FALSE, &error);
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
  session_finish (s, peer, m, 2);
}

static void
test_multiappend_retry (void)
{
  /* MULTIAPPEND + LITERAL+: one command for three messages; it is refused as a
   * whole, then retried one by one: the middle one is the bad one */
  TranscriptPeer *peer = transcript_start_text (
      "multiappend-retry", "S: * PREAUTH [CAPABILITY IMAP4rev1 MULTIAPPEND LITERAL+ UIDPLUS] hi\n"
                           "C: A0001 APPEND \"INBOX\" () {3+}\n"
                           "C: a\n"
                           "C:  (\\Flagged) {4+}\n"
                           "C: bb\n"
                           "C:  () {1+}\n"
                           "C: c\n"
                           "S: A0001 NO [LIMIT] message too big\n"
                           "C: A0002 APPEND \"INBOX\" () {3+}\n"
                           "C: a\n"
                           "C:\n"
                           "S: A0002 OK [APPENDUID 7 1] ok\n"
                           "C: A0003 APPEND \"INBOX\" (\\Flagged) {4+}\n"
                           "C: bb\n"
                           "C:\n"
                           "S: A0003 NO [LIMIT] message too big\n"
                           "C: A0004 APPEND \"INBOX\" () {1+}\n"
                           "C: c\n"
                           "S: A0004 OK [APPENDUID 7 2] ok\n");
  g_autoptr (GError) error = NULL;
  MsgtkImapSession *s = session (peer, FALSE, &error);
  g_assert_no_error (error);
  MsgtkImapMessage m[3] = { msg ("a\n", 0), msg ("bb\n", MSGTK_FLAG_FLAGGED), msg ("c", 0) };
  g_assert_true (msgtk_imap_session_append (s, "INBOX", m, 3, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (m[0].status, ==, MSGTK_IMAP_APPEND_OK);
  g_assert_cmpint (m[1].status, ==, MSGTK_IMAP_APPEND_REFUSED);
  g_assert_cmpstr (m[1].code, ==, "LIMIT");
  g_assert_cmpint (m[2].status, ==, MSGTK_IMAP_APPEND_OK);
  g_assert_cmpuint (m[2].uid, ==, 2);
  session_finish (s, peer, m, 3);
}

static void
test_trycreate_and_bye (void)
{
  /* LITERAL+ without MULTIAPPEND: both APPENDs go out before the first
   * completion; both say TRYCREATE; CREATE once, then both again; BYE */
  TranscriptPeer *peer = transcript_start_text (
      "trycreate-bye", "S: * PREAUTH [CAPABILITY IMAP4rev1 LITERAL+ APPENDLIMIT=10] hi\n"
                       "C: A0001 APPEND \"New\" () {1+}\n"
                       "C: a\n"
                       "C: A0002 APPEND \"New\" () {1+}\n"
                       "C: c\n"
                       "S: A0001 NO [TRYCREATE] no such mailbox\n"
                       "S: A0002 NO [TRYCREATE] no such mailbox\n"
                       "C: A0003 CREATE \"New\"\n"
                       "S: A0003 OK created\n"
                       "C: A0004 APPEND \"New\" () {1+}\n"
                       "C: a\n"
                       "S: A0004 OK [APPENDUID 1 1] ok\n"
                       "C: A0005 APPEND \"New\" () {1+}\n"
                       "C: c\n"
                       "S: * BYE shutting down\n"
                       "-- close --\n");
  g_autoptr (GError) error = NULL;
  MsgtkImapSession *s = session (peer, FALSE, &error);
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
  session_finish (s, peer, m, 3);
}

static void
test_literal_minus (void)
{
  /* LITERAL-: non-synchronising up to 4096 bytes, synchronising above */
  g_autofree char *big = g_strnfill (4097, 'b');
  g_autofree char *edge = g_strnfill (4096, 'e');
  g_autofree char *dialogue = g_strdup_printf ("S: * PREAUTH [CAPABILITY IMAP4rev1 LITERAL-] hi\n"
                                               "C: A0001 APPEND \"INBOX\" () {4096+}\n"
                                               "C: %s\n"
                                               "S: A0001 OK small stored\n"
                                               "C: A0002 APPEND \"INBOX\" () {4097}\n"
                                               "S: + go ahead\n"
                                               "C: %s\n"
                                               "S: A0002 OK big stored\n",
                                               edge, big);
  TranscriptPeer *peer = transcript_start_text ("literal-minus", dialogue);
  g_autoptr (GError) error = NULL;
  MsgtkImapSession *s = session (peer, FALSE, &error);
  MsgtkImapMessage m[2] = { msg (edge, 0), msg (big, 0) };
  g_assert_true (msgtk_imap_session_append (s, "INBOX", m, 2, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (m[0].status, ==, MSGTK_IMAP_APPEND_OK);
  g_assert_cmpint (m[1].status, ==, MSGTK_IMAP_APPEND_OK);
  session_finish (s, peer, m, 2);
}

static void
test_throttled (void)
{
  /* a throttling reply: back off, send the same batch again */
#define APPEND_AB                                                                                  \
  " APPEND \"INBOX\" () {1+}\n"                                                                    \
  "C: a () {1+}\n"                                                                                 \
  "C: b\n"
  TranscriptPeer *peer = transcript_start_text (
      "throttled", "S: * PREAUTH [CAPABILITY IMAP4rev1 LITERAL+ "
                   "MULTIAPPEND] hi\n"
                   "C: A0001" APPEND_AB "S: A0001 NO [UNAVAILABLE] try again later\n"
                   "C: A0002" APPEND_AB "S: A0002 NO [THROTTLED] slow down\n"
                   "C: A0003" APPEND_AB "S: A0003 OK stored\n");
#undef APPEND_AB
  g_autoptr (GError) error = NULL;
  MsgtkImapSession *s = session (peer, FALSE, &error);
  MsgtkImapMessage m[2] = { msg ("a", 0), msg ("b", 0) };
  MsgtkImapAppendOptions o = { .backoff_ms = 1 };
  gint64 t0 = g_get_monotonic_time ();
  g_assert_true (msgtk_imap_session_append (s, "INBOX", m, 2, &o, &error));
  g_assert_no_error (error);
  g_assert_cmpint (g_get_monotonic_time () - t0, >=, 3000); /* 1 ms, then 2 ms */
  g_assert_cmpint (m[0].status, ==, MSGTK_IMAP_APPEND_OK);
  g_assert_cmpint (m[1].status, ==, MSGTK_IMAP_APPEND_OK);
  session_finish (s, peer, m, 2);
}

static void
test_in_flight_any_order (void)
{
  /* three APPENDs in flight; completions come back in another order */
  TranscriptPeer *peer = transcript_start_text (
      "in-flight-any-order", "S: * PREAUTH [CAPABILITY IMAP4rev1 LITERAL+ UIDPLUS] hi\n"
                             "C: A0001 APPEND \"INBOX\" () {1+}\n"
                             "C: a\n"
                             "C: A0002 APPEND \"INBOX\" () {1+}\n"
                             "C: b\n"
                             "C: A0003 APPEND \"INBOX\" () {1+}\n"
                             "C: c\n"
                             "S: A0003 OK [APPENDUID 5 3] third\n"
                             "S: * 2 EXISTS\n"
                             "S: A0001 OK [APPENDUID 5 1] first\n"
                             "S: A0002 NO [LIMIT] second refused\n");
  g_autoptr (GError) error = NULL;
  MsgtkImapSession *s = session (peer, FALSE, &error);
  MsgtkImapMessage m[3] = { msg ("a", 0), msg ("b", 0), msg ("c", 0) };
  g_assert_true (msgtk_imap_session_append (s, "INBOX", m, 3, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (m[0].uid, ==, 1);
  g_assert_cmpint (m[1].status, ==, MSGTK_IMAP_APPEND_REFUSED);
  g_assert_cmpstr (m[1].code, ==, "LIMIT");
  g_assert_cmpuint (m[2].uid, ==, 3);
  session_finish (s, peer, m, 3);
}

static void
test_status (void)
{
  /* STATUS: the numbers whatever their order; a refusal is a missing mailbox */
  TranscriptPeer *peer = transcript_start_text (
      "status", "S: * PREAUTH [CAPABILITY IMAP4rev1] hi\n"
                "C: A0001 STATUS \"Lists/a (b)\" (MESSAGES UIDNEXT UIDVALIDITY)\n"
                "S: * STATUS \"Lists/a (b)\" (UIDVALIDITY 1700000000 MESSAGES 3 UIDNEXT 9)\n"
                "S: A0001 OK done\n"
                "C: A0002 STATUS \"Gone\" (MESSAGES UIDNEXT UIDVALIDITY)\n"
                "S: A0002 NO [NONEXISTENT] no such mailbox\n"
                "C: A0003 STATUS \"Odd\" (MESSAGES UIDNEXT UIDVALIDITY)\n"
                "S: * STATUS \"Odd\" (MESSAGES 3)\n"
                "S: A0003 OK done\n");
  g_autoptr (GError) error = NULL;
  MsgtkImapSession *s = session (peer, FALSE, &error);
  MsgtkImapMailboxStatus st;
  g_assert_true (msgtk_imap_session_status (s, "Lists/a (b)", &st, &error));
  g_assert_true (st.exists);
  g_assert_cmpuint (st.uidvalidity, ==, 1700000000);
  g_assert_cmpuint (st.uidnext, ==, 9);
  g_assert_cmpuint (st.messages, ==, 3);
  g_assert_true (msgtk_imap_session_status (s, "Gone", &st, &error));
  g_assert_false (st.exists);
  g_assert_false (msgtk_imap_session_status (s, "Odd", &st, &error));
  g_assert_error (error, MSGTK_ERROR, MSGTK_ERROR_PROTOCOL);
  session_finish (s, peer, NULL, 0);
}

typedef struct {
  GString *seen;
} Seen;

static void
on_fetched (const MsgtkImapFetched *m, gpointer data)
{
  Seen *seen = data;
  g_string_append_printf (seen->seen, "%u:", m->uid);
  if (m->has_size)
    g_string_append_printf (seen->seen, "size=%" G_GUINT64_FORMAT ";", m->size);
  if (m->flags)
    g_string_append_printf (seen->seen, "flags=%s;", m->flags);
  if (m->header)
    g_string_append_printf (seen->seen, "header=%.*s;", (int)g_bytes_get_size (m->header),
                            (const char *)g_bytes_get_data (m->header, NULL));
  if (m->body)
    g_string_append_printf (seen->seen, "body=%.*s;", (int)g_bytes_get_size (m->body),
                            (const char *)g_bytes_get_data (m->body, NULL));
  g_string_append_c (seen->seen, '|');
}

static void
test_uid_fetch (void)
{
  /* EXAMINE once; items in any order, literals and quoted strings; the
   * message below N that "N:*" brings is left out; a missing mailbox has
   * nothing */
  TranscriptPeer *peer = transcript_start_text (
      "uid-fetch", "S: * PREAUTH [CAPABILITY IMAP4rev1] hi\n"
                   "C: A0001 EXAMINE \"INBOX\"\n"
                   "S: * 2 EXISTS\n"
                   "S: A0001 OK [READ-ONLY] examined\n"
                   "C: A0002 UID FETCH 5:* (UID RFC822.SIZE FLAGS "
                   "BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])\n"
                   "S: * 1 FETCH (UID 5 RFC822.SIZE 120 FLAGS (\\Seen $Label1) "
                   "BODY[HEADER.FIELDS (\"MESSAGE-ID\")] {19}\n"
                   "S: Message-ID: <a>\n"
                   "S:\n"
                   "S: )\n"
                   "S: * 2 FETCH (BODY[HEADER.FIELDS (MESSAGE-ID)] \"\" FLAGS () UID 7 "
                   "RFC822.SIZE 3)\n"
                   "S: * 2 EXPUNGE\n"
                   "S: A0002 OK fetched\n"
                   "C: A0003 UID FETCH 9:* (UID BODY.PEEK[])\n"
                   "S: * 1 FETCH (UID 7 BODY[] {2}\n"
                   "S: ab)\n"
                   "S: A0003 OK fetched\n"
                   "C: A0004 UID FETCH 1:7 (UID BODY.PEEK[])\n"
                   "S: * 1 FETCH (UID 5 BODY[] NIL)\n"
                   "S: * 3 FETCH (UID 7 BODY[] \"a\\\"b\")\n"
                   "S: A0004 OK fetched\n"
                   "C: A0005 EXAMINE \"Gone\"\n"
                   "S: A0005 NO [NONEXISTENT] no such mailbox\n");
  g_autoptr (GError) error = NULL;
  MsgtkImapSession *s = session (peer, FALSE, &error);
  Seen seen = { g_string_new (NULL) };
  g_assert_true (msgtk_imap_session_uid_fetch (s, "INBOX", 5, 0,
                                               MSGTK_IMAP_FETCH_SIZE | MSGTK_IMAP_FETCH_FLAGS
                                                   | MSGTK_IMAP_FETCH_MESSAGE_ID,
                                               on_fetched, &seen, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (seen.seen->str, ==,
                   "5:size=120;flags=(\\Seen $Label1);header=Message-ID: <a>\r\n\r\n;|"
                   "7:size=3;flags=();header=;|");
  g_string_truncate (seen.seen, 0);
  g_assert_true (msgtk_imap_session_uid_fetch (s, "INBOX", 9, 0, MSGTK_IMAP_FETCH_BODY, on_fetched,
                                               &seen, &error));
  g_assert_cmpstr (seen.seen->str, ==, "");
  g_assert_true (msgtk_imap_session_uid_fetch (s, "INBOX", 1, 7, MSGTK_IMAP_FETCH_BODY, on_fetched,
                                               &seen, &error));
  g_assert_cmpstr (seen.seen->str, ==, "5:|7:body=a\"b;|");
  g_string_truncate (seen.seen, 0);
  g_assert_true (msgtk_imap_session_uid_fetch (s, "Gone", 1, 0, MSGTK_IMAP_FETCH_BODY, on_fetched,
                                               &seen, &error));
  g_assert_cmpstr (seen.seen->str, ==, "");
  g_assert_no_error (error);
  g_string_free (seen.seen, TRUE);
  session_finish (s, peer, NULL, 0);
}

static void
test_list_namespace (void)
{
  /* LIST: attributes, quoted and literal names, modified UTF-7 decoded, a
   * NIL delimiter; NAMESPACE's personal prefix and delimiter */
  TranscriptPeer *peer = transcript_start_text (
      "list", "S: * PREAUTH [CAPABILITY IMAP4rev1 NAMESPACE SPECIAL-USE] hi\n"
              "C: A0001 LIST \"\" \"*\"\n"
              "S: * LIST (\\HasNoChildren) \".\" INBOX\n"
              "S: * LIST (\\HasNoChildren \\Sent) \".\" \"INBOX.Gesendet\"\n"
              "S: * LIST (\\Noselect \\HasChildren) \".\" {15}\n"
              "S: INBOX.Entw&APw-\n"
              "S: * LIST (\\Drafts) \".\" \"INBOX.Entw&APw-rfe\"\n"
              "S: * LIST () NIL \"flat \\\"q\\\"\"\n"
              "S: * LIST (\\Trash) \".\"\n"
              "S: * FLAGS (\\Seen)\n"
              "S: A0001 OK listed\n"
              "C: A0002 NAMESPACE\n"
              "S: * NAMESPACE ((\"INBOX.\" \".\")) NIL ((\"#shared.\" \".\"))\n"
              "S: A0002 OK namespace\n");
  g_autoptr (GError) error = NULL;
  MsgtkImapSession *s = session (peer, FALSE, &error);
  g_autoptr (GPtrArray) list = msgtk_imap_session_list (s, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (list->len, ==, 5); /* the one without a name is not taken */
  const MsgtkImapMailboxInfo *m = list->pdata[1];
  g_assert_cmpstr (m->name, ==, "INBOX.Gesendet");
  g_assert_cmpint (m->delimiter, ==, '.');
  g_assert_cmpuint (m->attributes, ==, MSGTK_IMAP_MAILBOX_SENT);
  m = list->pdata[2];
  g_assert_cmpstr (m->name, ==, "INBOX.Entwü");
  g_assert_cmpuint (m->attributes, ==, MSGTK_IMAP_MAILBOX_NOSELECT);
  m = list->pdata[3];
  g_assert_cmpstr (m->name, ==, "INBOX.Entwürfe");
  g_assert_cmpuint (m->attributes, ==, MSGTK_IMAP_MAILBOX_DRAFTS);
  m = list->pdata[4];
  g_assert_cmpstr (m->name, ==, "flat \"q\"");
  g_assert_cmpint (m->delimiter, ==, '\0');
  g_autofree char *prefix = NULL;
  char delimiter = 0;
  g_assert_true (msgtk_imap_session_get_namespace (s, &prefix, &delimiter, &error));
  g_assert_cmpstr (prefix, ==, "INBOX.");
  g_assert_cmpint (delimiter, ==, '.');
  session_finish (s, peer, NULL, 0);
}

static void
test_parse_fetch (void)
{
  /* malformed FETCH responses are not taken */
  static const char *const bad[] = {
    "1 FETCH (UID)",          "1 FETCH (UID x)",
    "0 FETCH (UID 1)",        "1 FETCH (UID 0)",
    "1 FETCH (BODY[] {3})",   "1 FETCH (BODY[ \"a\")",
    "1 FETCH (FLAGS (\\Seen", "1 FETCH (BODY[] \"a)",
    "1 FETCHED (UID 1)",      "1 FETCH (UID 99999999999)",
  };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
    g_autoptr (GError) error = NULL;
    g_autofree char *line = g_strconcat ("* ", bad[i], NULL);
    g_autoptr (ImapResponse) r = imap_response_parse (line, NULL, &error);
    g_assert_nonnull (r);
    MsgtkImapFetched f;
    g_assert_false (imap_parse_fetch (r, &f));
    g_assert_null (f.body);
  }
}

/* ---- COMPRESS=DEFLATE over a stream that is not a socket (so not local:
 * auto compresses); the dialogue over the socket is in the transcripts
 * imap-compress-*.txt ---- */

/* @text through @deflater, sync-flushed, as a server sends it. */
static void
append_deflated (GByteArray *out, GConverter *deflater, const char *text)
{
  g_autoptr (GOutputStream) mem = g_memory_output_stream_new_resizable ();
  g_autoptr (GOutputStream) z = g_converter_output_stream_new (mem, deflater);
  g_assert_true (g_output_stream_write_all (z, text, strlen (text), NULL, NULL, NULL));
  g_assert_true (g_output_stream_flush (z, NULL, NULL));
  g_byte_array_append (out, g_memory_output_stream_get_data (G_MEMORY_OUTPUT_STREAM (mem)),
                       (guint)g_memory_output_stream_get_data_size (G_MEMORY_OUTPUT_STREAM (mem)));
}

/* All of the raw deflate stream @data, inflated (it must end). */
static char *
inflated (const guint8 *data, gsize len)
{
  g_autoptr (GInputStream) mem = g_memory_input_stream_new_from_data (data, (gssize)len, NULL);
  g_autoptr (GZlibDecompressor) inflater = g_zlib_decompressor_new (G_ZLIB_COMPRESSOR_FORMAT_RAW);
  g_autoptr (GInputStream) z = g_converter_input_stream_new (mem, G_CONVERTER (inflater));
  GString *out = g_string_new (NULL);
  char buf[4096];
  gssize n;
  g_autoptr (GError) error = NULL;
  while ((n = g_input_stream_read (z, buf, sizeof buf, NULL, &error)) > 0)
    g_string_append_len (out, buf, n);
  g_assert_no_error (error);
  return g_string_free (out, FALSE);
}

/* A PREAUTH session of an account that compresses as @mode, over a stream
 * that reads @server and writes into *@sent; it asks for the delimiter
 * ('/'). */
static MsgtkImapSession *
memory_session (GByteArray *server, MsgtkCompressMode mode, GOutputStream **sent)
{
  g_autoptr (GBytes) in_bytes = g_bytes_new (server->data, server->len);
  g_autoptr (GInputStream) in = g_memory_input_stream_new_from_bytes (in_bytes);
  *sent = g_memory_output_stream_new_resizable ();
  g_autoptr (GIOStream) io = g_simple_io_stream_new (in, *sent);
  g_autoptr (GError) error = NULL;
  MsgtkImapSession *s = msgtk_imap_session_new_for_stream (io, TRUE, &error);
  g_assert_no_error (error);
  g_autoptr (MsgtkAccount) a = account_new ("u", "p");
  a->compress = mode;
  g_assert_true (msgtk_imap_session_authenticate (s, a, &error));
  g_assert_no_error (error);
  char delimiter = 0;
  g_assert_true (msgtk_imap_session_get_delimiter (s, &delimiter, &error));
  g_assert_no_error (error);
  g_assert_cmpint (delimiter, ==, '/');
  return s;
}

#define COMPRESS_GREETING "* PREAUTH [CAPABILITY IMAP4rev1 COMPRESS=DEFLATE] hi\r\n"

static void
test_compress (void)
{
  /* the server's OK, and in the same read what it sent compressed after it:
   * more than one buffer's worth once inflated */
  g_autoptr (GByteArray) server = g_byte_array_new ();
  const char *plain = COMPRESS_GREETING "A0001 OK DEFLATE active\r\n";
  g_byte_array_append (server, (const guint8 *)plain, (guint)strlen (plain));
  g_autofree char *big = g_strnfill (40000, 'x');
  g_autofree char *after
      = g_strdup_printf ("* OK %s\r\n* LIST (\\Noselect) \"/\" \"\"\r\nA0002 OK listed\r\n", big);
  g_autoptr (GZlibCompressor) deflater = g_zlib_compressor_new (G_ZLIB_COMPRESSOR_FORMAT_RAW, -1);
  append_deflated (server, G_CONVERTER (deflater), after);
  g_autoptr (GOutputStream) sent = NULL;
  MsgtkImapSession *s = memory_session (server, MSGTK_COMPRESS_AUTO, &sent);
  g_assert_true (msgtk_imap_session_is_compressed (s));
  msgtk_imap_session_free (s); /* ends the deflate stream */
  const guint8 *data = g_memory_output_stream_get_data (G_MEMORY_OUTPUT_STREAM (sent));
  gsize len = g_memory_output_stream_get_data_size (G_MEMORY_OUTPUT_STREAM (sent));
  const char *command = "A0001 COMPRESS DEFLATE\r\n";
  g_assert_cmpuint (len, >, strlen (command));
  g_assert_cmpmem (data, strlen (command), command, strlen (command));
  g_autofree char *rest = inflated (data + strlen (command), len - strlen (command));
  g_assert_cmpstr (rest, ==, "A0002 LIST \"\" \"\"\r\n");

  /* never: nothing compressed, though offered and not local */
  g_autoptr (GByteArray) server2 = g_byte_array_new ();
  const char *dialogue = COMPRESS_GREETING "* LIST (\\Noselect) \"/\" \"\"\r\nA0001 OK listed\r\n";
  g_byte_array_append (server2, (const guint8 *)dialogue, (guint)strlen (dialogue));
  g_autoptr (GOutputStream) sent2 = NULL;
  s = memory_session (server2, MSGTK_COMPRESS_NEVER, &sent2);
  g_assert_false (msgtk_imap_session_is_compressed (s));
  msgtk_imap_session_free (s);
  g_assert_cmpmem (g_memory_output_stream_get_data (G_MEMORY_OUTPUT_STREAM (sent2)),
                   g_memory_output_stream_get_data_size (G_MEMORY_OUTPUT_STREAM (sent2)),
                   "A0001 LIST \"\" \"\"\r\n", 18);
}

/* What the server sends after its OK must decompress. */
static void
test_compress_garbage (void)
{
  g_autoptr (GByteArray) server = g_byte_array_new ();
  const char *text = COMPRESS_GREETING "A0001 OK DEFLATE active\r\n\xff\xff\xff\xff";
  g_byte_array_append (server, (const guint8 *)text, (guint)strlen (text));
  g_autoptr (GBytes) in_bytes = g_bytes_new (server->data, server->len);
  g_autoptr (GInputStream) in = g_memory_input_stream_new_from_bytes (in_bytes);
  g_autoptr (GOutputStream) out = g_memory_output_stream_new_resizable ();
  g_autoptr (GIOStream) io = g_simple_io_stream_new (in, out);
  g_autoptr (GError) error = NULL;
  g_autoptr (MsgtkImapSession) s = msgtk_imap_session_new_for_stream (io, TRUE, &error);
  g_assert_false (msgtk_imap_session_compress (s, &error));
  g_assert_error (error, MSGTK_ERROR, MSGTK_ERROR_PROTOCOL);
  g_assert_nonnull (strstr (error->message, "does not decompress"));
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
  g_test_add_func ("/imap/starttls-injection", test_starttls_injection);
  g_test_add_func ("/imap/literal-minus", test_literal_minus);
  g_test_add_func ("/imap/throttled", test_throttled);
  g_test_add_func ("/imap/status", test_status);
  g_test_add_func ("/imap/uid-fetch", test_uid_fetch);
  g_test_add_func ("/imap/parse-fetch", test_parse_fetch);
  g_test_add_func ("/imap/list-namespace", test_list_namespace);
  g_test_add_func ("/imap/in-flight-any-order", test_in_flight_any_order);
  g_test_add_func ("/imap/append-sync", test_append_sync);
  g_test_add_func ("/imap/multiappend-retry", test_multiappend_retry);
  g_test_add_func ("/imap/trycreate-bye", test_trycreate_and_bye);
  g_test_add_func ("/imap/compress", test_compress);
  g_test_add_func ("/imap/compress-garbage", test_compress_garbage);
  return g_test_run ();
}
