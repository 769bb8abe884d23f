/* Unit tests of the message module: the envelope a header gives, its fields,
 * and rendering (Bcc removal, missing Date and Message-ID, mbox Status
 * fields, line ends), raw bytes never re-serialised. */
#include <msgtk/msgtk.h>
#include <string.h>

static GBytes *
bytes (const char *s)
{
  return g_bytes_new (s, strlen (s));
}

static GBytes *
strip_bcc (GBytes *m)
{
  MsgtkRenderOptions o = { .strip_bcc = TRUE };
  g_autoptr (GError) error = NULL;
  GBytes *out = msgtk_message_render_bytes (m, &o, &error);
  g_assert_no_error (error);
  return out;
}

static GBytes *
add_missing (GBytes *m, const char *domain)
{
  MsgtkRenderOptions o = { .add_missing = TRUE, .id_domain = domain };
  g_autoptr (GError) error = NULL;
  GBytes *out = msgtk_message_render_bytes (m, &o, &error);
  g_assert_no_error (error);
  return out;
}

static void
test_needs_8bit (void)
{
  for (gsize len = 1; len < 40; len++)
    for (gsize pos = 0; pos < len; pos++) {
      g_autofree char *s = g_strnfill (len, 'a');
      g_autoptr (GBytes) plain = g_bytes_new (s, len);
      g_assert_false (msgtk_message_needs_8bit (plain));
      s[pos] = (char)0x80;
      g_autoptr (GBytes) high = g_bytes_new (s, len);
      g_assert_true (msgtk_message_needs_8bit (high));
    }
  g_autoptr (GBytes) empty = g_bytes_new (NULL, 0);
  g_assert_false (msgtk_message_needs_8bit (empty));
}

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
  g_assert_true (msgtk_message_envelope (m, &sender, rcpts, &error));
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
  g_assert_true (msgtk_message_envelope (m2, &s2, r2, &error));
  g_assert_cmpstr (s2, ==, "s@example.org");
  char *given = g_strdup ("given@example.org");
  g_ptr_array_set_size (r2, 0);
  g_assert_true (msgtk_message_envelope (m2, &given, r2, &error));
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
  g_assert_true (msgtk_message_envelope (m3, &s3, r3, &error));
  g_assert_cmpstr (s3, ==, "fwd@example.org");
  const char *const want3[] = { "new@example.net", "secret@example.net", NULL };
  assert_strv (r3, want3);

  g_autoptr (GBytes) m4 = bytes ("Resent-Sender: rs@example.org\nResent-From: rf@example.org\n"
                                 "Resent-Cc: c@example.net\nFrom: o@example.org\n\n");
  g_autofree char *s4 = NULL;
  g_autoptr (GPtrArray) r4 = g_ptr_array_new_with_free_func (g_free);
  g_assert_true (msgtk_message_envelope (m4, &s4, r4, &error));
  g_assert_cmpstr (s4, ==, "rs@example.org");
  const char *const want4[] = { "c@example.net", NULL };
  assert_strv (r4, want4);

  /* no addresses at all */
  g_autoptr (GBytes) m5 = bytes ("Subject: none\n\nbody\n");
  g_autofree char *s5 = NULL;
  g_autoptr (GPtrArray) r5 = g_ptr_array_new_with_free_func (g_free);
  g_assert_true (msgtk_message_envelope (m5, &s5, r5, &error));
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
  g_autoptr (GBytes) out = strip_bcc (m);
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
  g_autoptr (GBytes) same = strip_bcc (plain);
  g_assert_true (g_bytes_equal (plain, same));
  g_assert_true (g_bytes_get_data (plain, NULL) == g_bytes_get_data (same, NULL));

  /* no header at all: a Bcc: line is body text */
  g_autoptr (GBytes) headless = bytes ("\nBcc: body text\n\nmore\n");
  g_autoptr (GBytes) kept = strip_bcc (headless);
  g_assert_true (g_bytes_equal (headless, kept));
  g_autoptr (GBytes) headless_crlf = bytes ("\r\nBcc: body text\r\n\r\nmore\r\n");
  g_autoptr (GBytes) kept_crlf = strip_bcc (headless_crlf);
  g_assert_true (g_bytes_equal (headless_crlf, kept_crlf));
  g_autofree char *none = NULL;
  g_autoptr (GPtrArray) none_rcpts = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) headless_to = bytes ("\nTo: body@example.net\n\n");
  g_assert_true (msgtk_message_envelope (headless_to, &none, none_rcpts, &error));
  g_assert_cmpuint (none_rcpts->len, ==, 0);

  /* a Bcc as the last header line of a message without body */
  g_autoptr (GBytes) last = bytes ("To: b@example.net\nBcc: x@example.net");
  g_autoptr (GBytes) cut = strip_bcc (last);
  const char *c = g_bytes_get_data (cut, &n);
  g_assert_cmpmem (c, n, "To: b@example.net\n", 18);
}

static void
test_add_missing (void)
{
  g_autoptr (GBytes) full
      = bytes ("Date: Mon, 3 Jan 2005 04:05:06 +0000\nMessage-ID: <x@y>\nSubject: s\n\nb\n");
  g_autoptr (GBytes) same = add_missing (full, "example.org");
  g_assert_true (g_bytes_equal (full, same));

  g_autoptr (GBytes) bare = bytes ("Subject: s\r\n\r\nbody\r\n");
  g_autoptr (GBytes) added = add_missing (bare, "example.org");
  g_autofree char *text = g_strndup (g_bytes_get_data (added, NULL), g_bytes_get_size (added));
  g_assert_true (g_str_has_prefix (text, "Date: "));
  g_assert_nonnull (strstr (text, "\r\nMessage-ID: <"));
  g_assert_nonnull (strstr (text, "@example.org>\r\nSubject: s\r\n\r\nbody\r\n"));

  g_autoptr (GBytes) nodate = bytes ("Message-ID: <x@y>\n\nb\n");
  g_autoptr (GBytes) d = add_missing (nodate, NULL);
  g_autofree char *dt = g_strndup (g_bytes_get_data (d, NULL), g_bytes_get_size (d));
  g_assert_true (g_str_has_prefix (dt, "Date: "));
  g_assert_true (g_str_has_suffix (dt, "\nMessage-ID: <x@y>\n\nb\n"));
  g_assert_null (strstr (strstr (dt, "Message-ID") + 1, "Message-ID")); /* not added twice */
}

static char *
render (const char *head, const char *rest, const MsgtkRenderOptions *o)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) h = bytes (head);
  g_autoptr (GInputStream) in
      = rest ? g_memory_input_stream_new_from_data (g_strdup (rest), -1, g_free) : NULL;
  g_autoptr (GByteArray) buf = g_byte_array_new ();
  GMimeStream *out = g_mime_stream_mem_new_with_byte_array (buf);
  g_mime_stream_mem_set_owner (GMIME_STREAM_MEM (out), FALSE);
  MsgtkMessageData d = { NULL, h, in };
  g_assert_true (msgtk_message_render (&d, o, out, &error));
  g_assert_no_error (error);
  g_object_unref (out);
  return g_strndup ((const char *)buf->data, buf->len);
}

static void
test_status (void)
{
  /* "Status : RO" is a Status field, as GMime reads it: nothing to change */
  MsgtkRenderOptions seen = { .set_status = TRUE, .flags = MSGTK_FLAG_SEEN };
  g_autofree char *a = render ("Status : RO\nSubject: x\n\nbody\n", NULL, &seen);
  g_assert_cmpstr (a, ==, "Status : RO\nSubject: x\n\nbody\n");
  /* other flags: the fields (with continuations) go, new ones end the header */
  MsgtkRenderOptions more = { .set_status = TRUE, .flags = MSGTK_FLAG_SEEN | MSGTK_FLAG_FLAGGED };
  g_autofree char *b = render (
      "Status : RO\r\nX-Status: A\r\n\tcont\r\nSubject: x\r\n\r\nStatus: body\r\n", NULL, &more);
  g_assert_cmpstr (b, ==, "Subject: x\r\nStatus: RO\r\nX-Status: F\r\n\r\nStatus: body\r\n");
  /* a header block that comes in pieces from a stream, and has no final newline */
  MsgtkRenderOptions none = { .set_status = TRUE, .flags = 0 };
  g_autofree char *c = render ("Subj", "ect: x\nStatus: R", &none);
  g_assert_cmpstr (c, ==, "Subject: x\nStatus: O\n");
  /* line ends: converted on the way, edits included */
  MsgtkRenderOptions crlf = { .eol = MSGTK_EOL_CRLF, .strip_bcc = TRUE };
  g_autofree char *d = render ("Bcc: x\nTo: y\n\n", "body\nmore\n", &crlf);
  g_assert_cmpstr (d, ==, "To: y\r\n\r\nbody\r\nmore\r\n");
}

static void
test_fields (void)
{
  g_autoptr (GBytes) m
      = bytes ("Message-ID:\n <a@b>\nDate: Mon, 3 Jan 2005 04:05:06 +0100\n\nDate: body\n");
  g_autofree char *id = msgtk_message_get_header (m, "message-id");
  g_assert_cmpstr (id, ==, "<a@b>");
  g_autoptr (GDateTime) dt = msgtk_message_get_date (m);
  g_assert_nonnull (dt);
  g_assert_cmpint (g_date_time_to_unix (dt), ==, 1104721506);
  g_autoptr (GBytes) none = bytes ("Subject: s\n\nDate: Mon, 3 Jan 2005 04:05:06 +0100\n");
  g_assert_null (msgtk_message_get_date (none));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/message/needs-8bit", test_needs_8bit);
  g_test_add_func ("/message/envelope", test_envelope);
  g_test_add_func ("/message/strip-bcc", test_strip_bcc);
  g_test_add_func ("/message/add-missing", test_add_missing);
  g_test_add_func ("/message/status", test_status);
  g_test_add_func ("/message/fields", test_fields);
  return g_test_run ();
}
