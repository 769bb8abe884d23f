#include "draft-private.h"
#include "gmime-autoptr-private.h"

#include <glib/gstdio.h>
#include <msgtk/msgtk.h>
#include <string.h>

static char *
to_string (GMimeMessage *m)
{
  return g_mime_object_to_string (GMIME_OBJECT (m), NULL);
}

/* Every encoded word ≤ 75, every line ≤ 78 (with "Field: "), each word decodes alone. */
static void
assert_well_formed (const char *field, const char *value)
{
  g_autofree char *full = g_strdup_printf ("%s: %s", field, value);
  g_auto (GStrv) lines = g_strsplit (full, "\n", -1);
  for (guint i = 0; lines[i]; i++) {
    g_assert_cmpuint (strlen (lines[i]), <=, 78);
    if (i > 0)
      g_assert_true (lines[i][0] == ' ');
  }
  g_autoptr (GRegex) re = g_regex_new ("=\\?[^?]+\\?[QB]\\?[^?]*\\?=", 0, 0, NULL);
  g_autoptr (GMatchInfo) mi = NULL;
  g_regex_match (re, value, 0, &mi);
  while (g_match_info_matches (mi)) {
    g_autofree char *w = g_match_info_fetch (mi, 0);
    g_assert_cmpuint (strlen (w), <=, 75);
    g_autofree char *dec = g_mime_utils_header_decode_text (NULL, w);
    g_assert_true (g_utf8_validate (dec, -1, NULL));
    g_assert_null (strstr (dec, "\xef\xbf\xbd")); /* no replacement character */
    g_match_info_next (mi, NULL);
  }
}

static void
test_encode_ascii (void)
{
  g_autoptr (GError) e = NULL;
  g_autofree char *v = msgtk_encode_header ("Subject", "plain words", NULL, &e);
  g_assert_no_error (e);
  g_assert_cmpstr (v, ==, "plain words");
  g_autofree char *longv = msgtk_encode_header (
      "Subject",
      "a long ascii subject that keeps going and going well beyond the seventy eight "
      "character limit",
      NULL, &e);
  g_assert_nonnull (strchr (longv, '\n'));
  assert_well_formed ("Subject", longv);
  g_autofree char *un = g_mime_utils_header_unfold (longv);
  g_assert_cmpstr (un, ==,
                   "a long ascii subject that keeps going and going well beyond the seventy "
                   "eight character limit");
  /* control characters (ESC, BEL, DEL) never go into a field: refused, as
   * CR and LF are; a tab is white space */
  static const char *const controls[] = { "a \x1b$B shift", "bell\x07 x", "del\x7f" };
  for (guint i = 0; i < G_N_ELEMENTS (controls); i++) {
    g_autofree char *c = msgtk_encode_header ("Subject", controls[i], NULL, &e);
    g_assert_null (c);
    g_assert_error (e, MSGTK_ERROR, MSGTK_ERROR_DATA);
    g_assert_nonnull (strstr (e->message, "control character"));
    g_clear_error (&e);
  }
  g_autofree char *tab = msgtk_encode_header ("Subject", "a\tb", NULL, &e);
  g_assert_cmpstr (tab, ==, "a\tb");
  g_autofree char *crlf = msgtk_encode_header ("Subject", "two\r\nlines", NULL, &e);
  g_assert_null (crlf);
  g_assert_error (e, MSGTK_ERROR, MSGTK_ERROR_DATA);
}

static void
test_encode_charsets (void)
{
  struct {
    const char *text, *charset_in_word;
  } cases[] = {
    { "café crème", "iso-8859-1" }, { "Привет мир", "iso-8859-5" }, { "Γειά σου", "iso-8859-7" },
    { "日本語", "utf-8" },          { "emoji 😀", "utf-8" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autoptr (GError) e = NULL;
    g_autofree char *v = msgtk_encode_header ("Subject", cases[i].text, NULL, &e);
    g_assert_no_error (e);
    g_autofree char *needle = g_strdup_printf ("=?%s?", cases[i].charset_in_word);
    g_assert_nonnull (strstr (v, needle));
    g_autofree char *dec = g_mime_utils_header_decode_text (NULL, v);
    g_assert_cmpstr (dec, ==, cases[i].text);
  }
  /* A named charset is used; one that cannot hold the text is an error. */
  g_autoptr (GError) e = NULL;
  g_autofree char *u = msgtk_encode_header ("Subject", "café", "utf-8", &e);
  g_assert_nonnull (strstr (u, "=?utf-8?"));
  g_autofree char *bad = msgtk_encode_header ("Subject", "Привет", "iso-8859-1", &e);
  g_assert_null (bad);
  g_assert_error (e, MSGTK_ERROR, MSGTK_ERROR_DATA);
  g_clear_error (&e);
  g_autofree char *unk = msgtk_encode_header ("Subject", "x", "no-such-cs", &e);
  g_assert_null (unk);
  g_assert_error (e, MSGTK_ERROR, MSGTK_ERROR_DATA);
}

static void
test_encode_q_or_b (void)
{
  g_autoptr (GError) e = NULL;
  /* Mostly ASCII: Q is shorter. Mostly non-ASCII: B. */
  g_autofree char *q = msgtk_encode_header ("Subject", "Zurückgesendete", NULL, &e);
  g_assert_nonnull (strstr (q, "?Q?"));
  g_autofree char *b = msgtk_encode_header ("Subject", "日本語の件名", NULL, &e);
  g_assert_nonnull (strstr (b, "?B?"));
}

static void
test_encode_folding (void)
{
  static const char ru[] = "Ежемесячный отчёт о производительности системы сборки — "
                           "Ежемесячный отчёт о производительности системы сборки";
  const char *texts[] = {
    ru,
    "日本語のテキストも含む長い件名です😀日本語のテキストも含む長い件名です😀日本語のテキスト",
    "😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀",
    "mixed ascii words Ünïcödé then more ascii and then ελληνικά κείμενο and שלום עולם",
  };
  for (guint i = 0; i < G_N_ELEMENTS (texts); i++) {
    g_autoptr (GError) e = NULL;
    g_autofree char *v = msgtk_encode_header ("Subject", texts[i], NULL, &e);
    g_assert_no_error (e);
    assert_well_formed ("Subject", v);
    g_autofree char *unfolded = g_mime_utils_header_unfold (v);
    g_autofree char *dec = g_mime_utils_header_decode_text (NULL, unfolded);
    g_assert_cmpstr (dec, ==, texts[i]);
  }
}

static void
test_injection_and_names (void)
{
  g_autoptr (MsgtkDraft) d = msgtk_draft_new ();
  g_autoptr (GError) e = NULL;
  g_assert_false (msgtk_draft_set (d, "subject", "a\r\nBcc: x@y", &e));
  g_assert_error (e, MSGTK_ERROR, MSGTK_ERROR_DATA);
  g_assert_nonnull (strstr (e->message, "subject"));
  g_clear_error (&e);
  g_assert_false (msgtk_draft_add_header (d, "X-Ok", "v\nX-Evil: 1", &e));
  g_assert_error (e, MSGTK_ERROR, MSGTK_ERROR_DATA);
  g_assert_nonnull (strstr (e->message, "X-Ok"));
  g_clear_error (&e);
  g_assert_false (msgtk_draft_add_header (d, "Bad:Name", "v", &e));
  g_assert_error (e, MSGTK_ERROR, MSGTK_ERROR_DATA);
  g_clear_error (&e);
  g_assert_false (msgtk_draft_add_header (d, "Content-Type", "text/html", &e));
  g_assert_error (e, MSGTK_ERROR, MSGTK_ERROR_DATA);
  g_clear_error (&e);
  g_assert_false (msgtk_draft_set (d, "charset", "bogus-charset-x", &e));
  g_assert_error (e, MSGTK_ERROR, MSGTK_ERROR_DATA);
  g_clear_error (&e);
  g_assert_false (
      msgtk_draft_add_attachment (d, "/nonexistent/a.pdf", NULL, NULL, FALSE, NULL, &e));
  g_assert_error (e, MSGTK_ERROR, MSGTK_ERROR_NO_INPUT);
  g_assert_nonnull (strstr (e->message, "/nonexistent/a.pdf"));
}

static void
test_addresses (void)
{
  const char *bad[] = {
    "user@",         "@example.org", "no-domain", "a..b@example.org", "ok@example.org, broken@",
    "a@exa mple.org"
  };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
    g_autoptr (MsgtkDraft) d = msgtk_draft_new ();
    g_autoptr (GError) e = NULL;
    g_assert_true (msgtk_draft_set (d, "from", "a@example.org", &e));
    g_assert_true (msgtk_draft_set (d, "to", bad[i], &e));
    g_autoptr (GMimeMessage) m = msgtk_draft_build (d, &e);
    g_assert_null (m);
    g_assert_error (e, MSGTK_ERROR, MSGTK_ERROR_DATA);
    g_assert_true (g_str_has_prefix (e->message, "To:"));
  }
  g_autoptr (MsgtkDraft) d = msgtk_draft_new ();
  g_autoptr (GError) e = NULL;
  msgtk_draft_set (d, "from", "\"Doe, John\" <john@example.org>", &e);
  msgtk_draft_set (d, "to", "Ïvan Пётр <ivan@example.ru>, plain@example.org", &e);
  g_autoptr (GMimeMessage) m = msgtk_draft_build (d, &e);
  g_assert_no_error (e);
  g_autofree char *s = to_string (m);
  g_assert_nonnull (strstr (s, "From: \"Doe, John\" <john@example.org>\n"));
  InternetAddressList *to = g_mime_message_get_to (m);
  g_assert_cmpint (internet_address_list_length (to), ==, 2);
}

static GMimeMessage *
build_text (const char *body, const char *input_charset, GError **e)
{
  g_autoptr (MsgtkDraft) d = msgtk_draft_new ();
  msgtk_draft_set (d, "from", "a@example.org", NULL);
  if (input_charset && !msgtk_draft_set (d, "input-charset", input_charset, e))
    return NULL;
  g_autoptr (GBytes) b = g_bytes_new (body, strlen (body));
  msgtk_draft_set_text (d, b);
  return msgtk_draft_build (d, e);
}

static void
test_body_encodings (void)
{
  g_autoptr (GError) e = NULL;
  struct {
    const char *body;
    GMimeContentEncoding enc;
    const char *charset;
  } cases[] = {
    { "hello\n", GMIME_CONTENT_ENCODING_7BIT, "us-ascii" },
    { "café au lait, mostly ascii text here\n", GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE,
      "iso-8859-1" },
    { "日本語日本語日本語日本語\n", GMIME_CONTENT_ENCODING_BASE64, "utf-8" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autoptr (GMimeMessage) m = build_text (cases[i].body, NULL, &e);
    g_assert_no_error (e);
    GMimeObject *part = g_mime_message_get_mime_part (m);
    GMimeContentEncoding enc = g_mime_part_get_content_encoding (GMIME_PART (part));
    if (cases[i].enc == GMIME_CONTENT_ENCODING_7BIT)
      g_assert_true (enc == GMIME_CONTENT_ENCODING_7BIT || enc == GMIME_CONTENT_ENCODING_DEFAULT);
    else
      g_assert_cmpint (enc, ==, cases[i].enc);
    g_assert_cmpstr (g_mime_object_get_content_type_parameter (part, "charset"), ==,
                     cases[i].charset);
    g_autofree char *text = g_mime_text_part_get_text (GMIME_TEXT_PART (part));
    g_assert_cmpstr (text, ==, cases[i].body);
  }
  /* A 2000-character line never goes out as 7bit. */
  g_autofree char *longline = g_strnfill (2000, 'x');
  g_autoptr (GMimeMessage) m = build_text (longline, NULL, &e);
  g_autofree char *s = to_string (m);
  g_auto (GStrv) lines = g_strsplit (s, "\n", -1);
  for (guint i = 0; lines[i]; i++)
    g_assert_cmpuint (strlen (lines[i]), <=, 998);
  /* Invalid bytes in the declared charset are an error. */
  g_autoptr (GMimeMessage) bad = build_text ("caf\xe9\n", NULL, &e);
  g_assert_null (bad);
  g_assert_error (e, MSGTK_ERROR, MSGTK_ERROR_DATA);
  g_clear_error (&e);
  g_autoptr (GMimeMessage) latin = build_text ("caf\xe9\r\n", "iso-8859-1", &e);
  g_assert_no_error (e);
  g_autofree char *t
      = g_mime_text_part_get_text (GMIME_TEXT_PART (g_mime_message_get_mime_part (latin)));
  g_assert_cmpstr (t, ==, "café\n");
}

static GMimeMessage *
repro_message (const char *att)
{
  g_autoptr (MsgtkDraft) d = msgtk_draft_new ();
  msgtk_draft_set (d, "from", "Zoë <z@example.org>", NULL);
  msgtk_draft_set (d, "to", "b@example.org", NULL);
  msgtk_draft_set (d, "subject", "repro ✓", NULL);
  g_autoptr (GBytes) t = g_bytes_new_static ("text\n", 5);
  g_autoptr (GBytes) h = g_bytes_new_static ("<p>x</p>\n", 9);
  msgtk_draft_set_text (d, t);
  msgtk_draft_set_html (d, h);
  msgtk_draft_add_attachment (d, att, NULL, "ünï.bin", FALSE, NULL, NULL);
  msgtk_draft_set_reproducible (d, TRUE, 1700000000);
  return msgtk_draft_build (d, NULL);
}

static void
test_reproducible (void)
{
  g_autofree char *dir = g_dir_make_tmp ("msgtk-draft-XXXXXX", NULL);
  g_autofree char *att = g_build_filename (dir, "a.bin", NULL);
  g_assert_true (g_file_set_contents (att, "\x01\x02\x03binary", 9, NULL));
  g_autoptr (GMimeMessage) a = repro_message (att);
  g_autoptr (GMimeMessage) b = repro_message (att);
  g_autofree char *sa = to_string (a), *sb = to_string (b);
  g_assert_cmpstr (sa, ==, sb);
  g_assert_nonnull (strstr (sa, "Date: Tue, 14 Nov 2023 22:13:20 +0000"));
  g_assert_nonnull (strstr (sa, "filename*=iso-8859-1''%FCn%EF.bin"));
  /* Different content → different Message-ID. */
  g_assert_true (g_file_set_contents (att, "other", 5, NULL));
  g_autoptr (GMimeMessage) c = repro_message (att);
  g_assert_cmpstr (g_mime_message_get_message_id (a), !=, g_mime_message_get_message_id (c));
  g_unlink (att);
  g_rmdir (dir);
}

static void
test_json (void)
{
  g_autoptr (GError) e = NULL;
  const char *jl = "{\"from\":\"a@example.org\",\"to\":[\"b@example.org\"],\"subject\":\"1\"}\n"
                   "\n"
                   "{\"from\":\"a@example.org\",\"to\":\"c@example.org\",\"subject\":\"2\"}\n";
  g_autoptr (GPtrArray) many = msgtk_draft_parse_json_many (jl, strlen (jl), NULL, &e);
  g_assert_no_error (e);
  g_assert_cmpuint (many->len, ==, 2);
  g_autoptr (GMimeMessage) m = msgtk_draft_build (g_ptr_array_index (many, 1), &e);
  g_assert_cmpstr (g_mime_message_get_subject (m), ==, "2");
  const char *pretty = "{\n  \"from\": \"a@example.org\",\n  \"headers\": {\"X-A\": \"1\"}\n}\n";
  g_autoptr (GPtrArray) one = msgtk_draft_parse_json_many (pretty, strlen (pretty), NULL, &e);
  g_assert_no_error (e);
  g_assert_cmpuint (one->len, ==, 1);
  const char *bad = "{\"from\":\"a@example.org\"}\n{\"subjet\":\"x\"}\n";
  g_autoptr (GPtrArray) none = msgtk_draft_parse_json_many (bad, strlen (bad), NULL, &e);
  g_assert_null (none);
  g_assert_error (e, MSGTK_ERROR, MSGTK_ERROR_DATA);
  g_assert_nonnull (strstr (e->message, "line 2"));
  g_assert_nonnull (strstr (e->message, "subjet"));
  g_clear_error (&e);
  /* several drafts over several lines each (jq's output), braces and quotes
   * in strings: each one a draft, none dropped; an error names the line its
   * draft starts on */
  const char *stream
      = "{\n  \"from\": \"a@example.org\",\n  \"subject\": \"{ not \\\" [ a brace\"\n}\n"
        "{\n  \"from\": \"a@example.org\",\n  \"subject\": \"two\"\n}"
        "{\"from\": \"a@example.org\", \"subject\": \"three\"}\n";
  g_autoptr (GPtrArray) three = msgtk_draft_parse_json_many (stream, strlen (stream), NULL, &e);
  g_assert_no_error (e);
  g_assert_cmpuint (three->len, ==, 3);
  g_autoptr (GMimeMessage) m1 = msgtk_draft_build (g_ptr_array_index (three, 0), &e);
  g_assert_cmpstr (g_mime_message_get_subject (m1), ==, "{ not \" [ a brace");
  g_autoptr (GMimeMessage) m3 = msgtk_draft_build (g_ptr_array_index (three, 2), &e);
  g_assert_cmpstr (g_mime_message_get_subject (m3), ==, "three");
  const char *broken = "{\"from\": \"a@example.org\"}\n\n{\n \"subject\": 1,\n \"bcc\": [\n}\n";
  g_autoptr (GPtrArray) nothing = msgtk_draft_parse_json_many (broken, strlen (broken), NULL, &e);
  g_assert_null (nothing);
  g_assert_nonnull (strstr (e->message, "line 3"));
}

/* A reproducible draft with one field of the table set to @value (NULL:
 * not set); its Message-ID. */
static char *
repro_id (const char *att, const char *field, const char *value)
{
  g_autoptr (MsgtkDraft) d = msgtk_draft_new ();
  g_autoptr (GError) e = NULL;
  const char *const base[][2]
      = { { "from", "a@example.org" }, { "to", "b@example.org" }, { "subject", "s" } };
  for (guint i = 0; i < G_N_ELEMENTS (base); i++)
    if (field == NULL || strcmp (field, base[i][0]) != 0)
      g_assert_true (msgtk_draft_set (d, base[i][0], base[i][1], &e));
  if (value != NULL)
    g_assert_true (msgtk_draft_set (d, field, value, &e));
  g_assert_no_error (e);
  g_assert_true (msgtk_draft_add_attachment (d, att, NULL, "Zoë.txt", FALSE, NULL, &e));
  msgtk_draft_set_reproducible (d, TRUE, 1700000000);
  g_autoptr (GMimeMessage) m = msgtk_draft_build (d, &e);
  g_assert_no_error (e);
  return g_strdup (g_mime_message_get_message_id (m));
}

/* Every field of the draft table enters the reproducible hash: two drafts
 * that differ in one field (keep-bcc and filename-encoding among them) get
 * different Message-IDs, so that a dedupe by Message-ID keeps both. */
static void
test_reproducible_fields (void)
{
  g_autofree char *dir = g_dir_make_tmp ("msgtk-draft-XXXXXX", NULL);
  g_autofree char *att = g_build_filename (dir, "a.txt", NULL);
  g_assert_true (g_file_set_contents (att, "attached\n", -1, NULL));
  g_autofree char *plain = repro_id (att, NULL, NULL);
  static const char *const values[][2] = {
    { "from", "z@example.org" },
    { "sender", "s@example.org" },
    { "reply-to", "r@example.org" },
    { "to", "c@example.org" },
    { "cc", "c@example.org" },
    { "bcc", "c@example.org" },
    { "subject", "other" },
    { "date", "2024-01-01T00:00:00Z" },
    { "in-reply-to", "<x@y>" },
    { "references", "<x@y>" },
    { "message-id-domain", "x.test" },
    { "charset", "utf-8" },
    { "input-charset", "iso-8859-1" },
    { "filename-encoding", "rfc2047" },
    { "keep-bcc", "true" },
  };
  for (guint i = 0; i < draft_n_fields; i++) {
    const DraftField *f = &draft_fields[i];
    if (f->kind == DRAFT_MSGID)
      continue; /* a Message-ID given is the Message-ID */
    const char *v = NULL;
    for (guint k = 0; k < G_N_ELEMENTS (values); k++)
      if (strcmp (values[k][0], f->name) == 0)
        v = values[k][1];
    if (v == NULL)
      g_error ("no test value for the draft field %s: add one", f->name);
    g_autofree char *id = repro_id (att, f->name, v);
    if (g_strcmp0 (id, plain) == 0)
      g_error ("field %s does not change the reproducible Message-ID", f->name);
  }
  g_unlink (att);
  g_rmdir (dir);
}

/* A draft written as JSON and read back builds the same message. */
static void
test_json_round_trip (void)
{
  g_autofree char *dir = g_dir_make_tmp ("msgtk-draft-XXXXXX", NULL);
  g_autofree char *att = g_build_filename (dir, "a.bin", NULL);
  g_assert_true (g_file_set_contents (att, "\x01\x02", 2, NULL));
  g_autoptr (GError) e = NULL;
  g_autoptr (MsgtkDraft) d = msgtk_draft_new ();
  g_assert_true (msgtk_draft_set (d, "from", "Zoë <z@example.org>", &e));
  g_assert_true (msgtk_draft_set (d, "to", "b@example.org", &e));
  g_assert_true (msgtk_draft_set (d, "to", "c@example.org", &e));
  g_assert_true (msgtk_draft_set (d, "references", "<a@b> <c@d>", &e));
  g_assert_true (msgtk_draft_set (d, "filename-encoding", "rfc2047", &e));
  g_assert_true (msgtk_draft_add_header (d, "X-Tag", "één", &e));
  g_autoptr (GBytes) t = g_bytes_new_static ("caf\xe9\n", 5);
  g_assert_true (msgtk_draft_set (d, "input-charset", "iso-8859-1", &e));
  msgtk_draft_set_text (d, t);
  msgtk_draft_set_keep_bcc (d, TRUE);
  g_assert_true (
      msgtk_draft_add_attachment (d, att, "application/x-test", "ünï.bin", TRUE, "c1", &e));
  g_assert_no_error (e);
  g_autoptr (JsonNode) node = msgtk_draft_to_json (d);
  g_autofree char *json = json_to_string (node, FALSE);
  g_autoptr (MsgtkDraft) back = msgtk_draft_new_from_json (json, -1, NULL, &e);
  g_assert_no_error (e);
  msgtk_draft_set_reproducible (d, TRUE, 1700000000);
  msgtk_draft_set_reproducible (back, TRUE, 1700000000);
  g_autoptr (GMimeMessage) m1 = msgtk_draft_build (d, &e);
  g_autoptr (GMimeMessage) m2 = msgtk_draft_build (back, &e);
  g_assert_no_error (e);
  g_autofree char *s1 = to_string (m1), *s2 = to_string (m2);
  g_assert_cmpstr (s1, ==, s2);
  g_assert_nonnull (strstr (json, "\"text\":\"café\\n\""));
  g_unlink (att);
  g_rmdir (dir);
}

int
main (int argc, char **argv)
{
  g_mime_init ();
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/draft/encode/ascii", test_encode_ascii);
  g_test_add_func ("/draft/encode/charsets", test_encode_charsets);
  g_test_add_func ("/draft/encode/q-or-b", test_encode_q_or_b);
  g_test_add_func ("/draft/encode/folding", test_encode_folding);
  g_test_add_func ("/draft/injection-and-names", test_injection_and_names);
  g_test_add_func ("/draft/addresses", test_addresses);
  g_test_add_func ("/draft/body-encodings", test_body_encodings);
  g_test_add_func ("/draft/reproducible", test_reproducible);
  g_test_add_func ("/draft/json", test_json);
  g_test_add_func ("/draft/reproducible-fields", test_reproducible_fields);
  g_test_add_func ("/draft/json-round-trip", test_json_round_trip);
  int r = g_test_run ();
  g_mime_shutdown ();
  return r;
}
