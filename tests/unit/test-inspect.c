/* inspect: summary, headers, tree numbering, text, JSON fields, lint codes,
 * part content, extraction and file name sanitising. */
#include <glib/gstdio.h>
#include <gmime/gmime.h>
#include <msgtk/msgtk.h>
#include <string.h>

static const char NESTED[]
    = "From: =?iso-8859-1?q?J=F6rg?= <jorg@example.org>\n"
      "To: Team: a@example.org, \"B\" <b@example.org>;, c@example.org\n"
      "Subject: =?utf-8?b?w4FydsOtenTFsXLFkSB0w7xrw7ZyZsO6csOzZ8OpcA==?=\n"
      "Date: Mon, 1 Jan 2024 10:30:00 +0200\n"
      "Message-ID: <nested@example.org>\n"
      "MIME-Version: 1.0\n"
      "Content-Type: multipart/mixed; boundary=outer\n"
      "\n"
      "--outer\n"
      "Content-Type: multipart/alternative; boundary=alt\n"
      "\n"
      "--alt\n"
      "Content-Type: text/plain; charset=iso-8859-1\n"
      "Content-Transfer-Encoding: quoted-printable\n"
      "\n"
      "caf=E9\n"
      "--alt\n"
      "Content-Type: text/html; charset=utf-8\n"
      "\n"
      "<p>caf&eacute;</p>\n"
      "--alt--\n"
      "--outer\n"
      "Content-Type: application/pdf\n"
      "Content-Disposition: attachment; filename*=utf-8''r%C3%A9sum%C3%A9.pdf\n"
      "Content-Transfer-Encoding: base64\n"
      "\n"
      "JVBERi0xLjQK\n"
      "--outer\n"
      "Content-Type: message/rfc822\n"
      "\n"
      "From: inner@example.org\n"
      "Subject: inner\n"
      "Content-Type: text/plain\n"
      "\n"
      "inner body\n"
      "--outer--\n";

static MsgtkInspection *
inspect (const char *text, MsgtkInspectFlags flags)
{
  g_autoptr (GBytes) raw = g_bytes_new (text, strlen (text));
  GError *e = NULL;
  MsgtkInspection *in = msgtk_inspection_new (raw, NULL, flags, &e);
  g_assert_no_error (e);
  g_assert_nonnull (in);
  return in;
}

static void
test_summary (void)
{
  g_autoptr (MsgtkInspection) in = inspect (NESTED, MSGTK_INSPECT_HEADERS_ONLY);
  g_autofree char *s = msgtk_inspection_summary (in);
  g_assert_true (g_str_has_prefix (s, "2024-01-01 10:30  Jörg "));
  g_assert_nonnull (strstr (s, " @ "));
  g_assert_true (g_str_has_suffix (s, "  Árvíztűrő tükörfúrógép"));
  g_assert_null (strchr (s, '\n'));
}

static void
test_headers (void)
{
  g_autoptr (MsgtkInspection) in = inspect (NESTED, MSGTK_INSPECT_FULL);
  g_autofree char *h = msgtk_inspection_headers (in, FALSE);
  g_assert_nonnull (strstr (h, "From: Jörg <jorg@example.org>\n"));
  g_assert_nonnull (strstr (h, "Subject: Árvíztűrő tükörfúrógép\n"));
  /* the Content-Type of the top header block, in its place */
  g_assert_nonnull (strstr (h, "MIME-Version: 1.0\nContent-Type: multipart/mixed"));
  g_autofree char *raw = msgtk_inspection_headers (in, TRUE);
  g_assert_nonnull (strstr (raw, "Subject: =?utf-8?b?"));
}

static void
test_tree (void)
{
  g_autoptr (MsgtkInspection) in = inspect (NESTED, MSGTK_INSPECT_FULL);
  g_autofree char *tree = msgtk_inspection_tree (in);
  const char *want = "1 multipart/mixed\n"
                     "  1.1 multipart/alternative\n"
                     "    1.1.1 text/plain charset=iso-8859-1 encoding=quoted-printable size=4\n"
                     "    1.1.2 text/html charset=utf-8 size=18\n"
                     "  1.2 application/pdf encoding=base64 size=9 disposition=attachment "
                     "filename=\"résumé.pdf\"\n"
                     "  1.3 message/rfc822\n"
                     "    1.3.1 text/plain size=10\n";
  g_assert_cmpstr (tree, ==, want);
}

static void
test_text (void)
{
  g_autoptr (MsgtkInspection) in = inspect (NESTED, MSGTK_INSPECT_FULL);
  g_autofree char *text = msgtk_inspection_text (in);
  g_assert_cmpstr (text, ==, "café");
  g_autoptr (MsgtkInspection) html = inspect ("From: a@b\nContent-Type: text/html\n\n"
                                              "<html><style>x{}</style><p>one &amp; two</p>"
                                              "<p>three&#33;</p></html>\n",
                                              MSGTK_INSPECT_FULL);
  g_autofree char *t2 = msgtk_inspection_text (html);
  g_assert_cmpstr (t2, ==, "one & two\n\nthree!\n\n");
}

static JsonObject *
child (JsonObject *part, guint i)
{
  return json_array_get_object_element (json_object_get_array_member (part, "children"), i);
}

static void
test_json (void)
{
  g_autoptr (MsgtkInspection) in = inspect (NESTED, MSGTK_INSPECT_FULL);
  g_autoptr (JsonNode) node = msgtk_inspection_to_json (in);
  JsonObject *o = json_node_get_object (node);
  g_assert_cmpstr (json_object_get_string_member (o, "subject"), ==, "Árvíztűrő tükörfúrógép");
  g_assert_cmpstr (json_object_get_string_member (o, "date"), ==, "2024-01-01T10:30:00+02:00");
  g_assert_cmpstr (json_object_get_string_member (o, "message_id"), ==, "nested@example.org");
  JsonObject *from = json_array_get_object_element (json_object_get_array_member (o, "from"), 0);
  g_assert_cmpstr (json_object_get_string_member (from, "name"), ==, "Jörg");
  g_assert_cmpstr (json_object_get_string_member (from, "address"), ==, "jorg@example.org");
  /* a group's members are listed flat, in place of the group */
  JsonArray *to = json_object_get_array_member (o, "to");
  g_assert_cmpuint (json_array_get_length (to), ==, 3);
  for (guint i = 0; i < 3; i++)
    g_assert_true (JSON_NODE_HOLDS_OBJECT (json_array_get_element (to, i)));
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (to, 1), "name"),
                   ==, "B");
  g_assert_true (json_object_get_null_member (json_array_get_object_element (to, 0), "name"));
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (o, "cc")), ==, 0);
  JsonArray *headers = json_object_get_array_member (o, "headers");
  g_assert_cmpuint (json_array_get_length (headers), ==, 7);
  JsonObject *tree = json_object_get_object_member (o, "tree");
  g_assert_cmpstr (json_object_get_string_member (tree, "part"), ==, "1");
  g_assert_false (json_object_has_member (tree, "sha256"));
  JsonObject *pdf = child (tree, 1);
  g_assert_cmpstr (json_object_get_string_member (pdf, "part"), ==, "1.2");
  g_assert_cmpstr (json_object_get_string_member (pdf, "type"), ==, "application/pdf");
  g_assert_cmpstr (json_object_get_string_member (pdf, "encoding"), ==, "base64");
  g_assert_cmpstr (json_object_get_string_member (pdf, "disposition"), ==, "attachment");
  g_assert_cmpstr (json_object_get_string_member (pdf, "filename"), ==, "résumé.pdf");
  g_assert_true (json_object_get_null_member (pdf, "charset"));
  g_assert_cmpint (json_object_get_int_member (pdf, "size"), ==, 9);
  g_autofree char *sha = g_compute_checksum_for_string (G_CHECKSUM_SHA256, "%PDF-1.4\n", -1);
  g_assert_cmpstr (json_object_get_string_member (pdf, "sha256"), ==, sha);
  JsonObject *inner = child (child (tree, 2), 0);
  g_assert_cmpstr (json_object_get_string_member (inner, "part"), ==, "1.3.1");
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (o, "defects")), ==, 0);
}

static void
test_part_content (void)
{
  g_autoptr (MsgtkInspection) in = inspect (NESTED, MSGTK_INSPECT_FULL);
  GError *e = NULL;
  g_autoptr (GBytes) raw = msgtk_inspection_part_content (in, "1.1.1", FALSE, &e);
  g_assert_no_error (e);
  g_assert_cmpmem (g_bytes_get_data (raw, NULL), g_bytes_get_size (raw), "caf\xe9", 4);
  g_autoptr (GBytes) utf8 = msgtk_inspection_part_content (in, "1.1.1", TRUE, &e);
  g_assert_no_error (e);
  g_assert_cmpmem (g_bytes_get_data (utf8, NULL), g_bytes_get_size (utf8), "café", 5);
  g_assert_null (msgtk_inspection_part_content (in, "1.1", FALSE, &e));
  g_assert_error (e, MSGTK_ERROR, MSGTK_ERROR_USAGE);
  g_clear_error (&e);
  g_assert_null (msgtk_inspection_part_content (in, "7", FALSE, &e));
  g_assert_error (e, MSGTK_ERROR, MSGTK_ERROR_USAGE);
  g_clear_error (&e);
}

static gboolean
has_finding (GPtrArray *list, const char *code, MsgtkSeverity severity, const char *location)
{
  for (guint i = 0; i < list->len; i++) {
    MsgtkFinding *f = list->pdata[i];
    if (strcmp (f->code, code) == 0 && f->severity == severity
        && (location == NULL || strcmp (f->location, location) == 0)) {
      g_assert_true (g_utf8_validate (f->message, -1, NULL));
      return TRUE;
    }
  }
  return FALSE;
}

static void
test_lint (void)
{
  g_autoptr (MsgtkInspection) clean = inspect (NESTED, MSGTK_INSPECT_FULL);
  g_autoptr (GPtrArray) none = msgtk_inspection_check (clean);
  g_assert_cmpuint (none->len, ==, 0);

  g_autofree char *long_line = g_strnfill (1000, 'x');
  g_autofree char *bad = g_strconcat (
      "From: a@example.org\r\nFrom: b@example.org\r\nSubject: =?utf-8?Q?open\r\n"
      "Comment: =?x-unknown-cs?Q?abc?= =?utf-8?X?bad?=\r\nX-8bit: caf\xe9\r\n"
      "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
      "Content-Type: text/plain; charset=x-nope\r\nContent-Transfer-Encoding: base64\r\n\r\n"
      "abc!\r\n--b\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n=G1 bare\rcr\n",
      long_line, "\r\n", NULL);
  g_autoptr (MsgtkInspection) in = inspect (bad, MSGTK_INSPECT_FULL);
  g_autoptr (GPtrArray) f = msgtk_inspection_check (in);
  g_assert_true (has_finding (f, "MISSING_DATE", MSGTK_SEVERITY_ERROR, "header"));
  g_assert_true (has_finding (f, "MISSING_MESSAGE_ID", MSGTK_SEVERITY_WARNING, "header"));
  g_assert_false (has_finding (f, "MISSING_FROM", MSGTK_SEVERITY_ERROR, NULL));
  g_assert_true (has_finding (f, "HEADER_DUPLICATE", MSGTK_SEVERITY_WARNING, "header From"));
  g_assert_true (
      has_finding (f, "ENCODED_WORD_UNCLOSED", MSGTK_SEVERITY_WARNING, "header Subject"));
  g_assert_true (has_finding (f, "CHARSET_UNKNOWN", MSGTK_SEVERITY_WARNING, "header Comment"));
  g_assert_true (has_finding (f, "ENCODED_WORD_INVALID", MSGTK_SEVERITY_WARNING, "header Comment"));
  g_assert_true (has_finding (f, "HEADER_8BIT", MSGTK_SEVERITY_WARNING, "header X-8bit"));
  g_assert_true (has_finding (f, "CHARSET_UNKNOWN", MSGTK_SEVERITY_WARNING, "part 1.1"));
  g_assert_true (has_finding (f, "BASE64_INVALID", MSGTK_SEVERITY_WARNING, "part 1.1"));
  g_assert_true (has_finding (f, "QP_INVALID", MSGTK_SEVERITY_WARNING, "part 1.2"));
  g_assert_true (has_finding (f, "BOUNDARY_UNCLOSED", MSGTK_SEVERITY_WARNING, "part 1"));
  g_assert_true (has_finding (f, "BARE_CR", MSGTK_SEVERITY_WARNING, NULL));
  g_assert_true (has_finding (f, "BARE_LF", MSGTK_SEVERITY_WARNING, NULL));
  g_assert_true (has_finding (f, "LINE_TOO_LONG", MSGTK_SEVERITY_WARNING, NULL));

  g_autoptr (MsgtkInspection) nob
      = inspect ("From: a@b\nContent-Type: multipart/mixed\n\nx\n", MSGTK_INSPECT_FULL);
  g_autoptr (GPtrArray) f2 = msgtk_inspection_check (nob);
  g_assert_true (has_finding (f2, "BOUNDARY_MISSING", MSGTK_SEVERITY_ERROR, NULL));
  /* the lint's own finding on the part, not a made-up boundary never closed */
  g_assert_true (has_finding (f2, "BOUNDARY_MISSING", MSGTK_SEVERITY_ERROR, "part 1"));
  g_assert_false (has_finding (f2, "BOUNDARY_UNCLOSED", MSGTK_SEVERITY_WARNING, NULL));

  g_autoptr (GString) many = g_string_new (NULL);
  for (guint i = 0; i < 20; i++)
    g_string_append_printf (many, "X-H%u: v\n", i);
  g_string_append (many, "\nbody\n");
  MsgtkInspectOptions opts = { NULL, 10, 50 };
  g_string_append (many, long_line);
  g_autoptr (GBytes) raw = g_bytes_new (many->str, many->len);
  GError *e = NULL;
  g_autoptr (MsgtkInspection) lim = msgtk_inspection_new (raw, &opts, MSGTK_INSPECT_FULL, &e);
  g_assert_no_error (e);
  g_autoptr (GPtrArray) f3 = msgtk_inspection_check (lim);
  g_assert_true (has_finding (f3, "LIMIT_HEADER_COUNT", MSGTK_SEVERITY_WARNING, NULL));
  g_assert_true (has_finding (f3, "LIMIT_LINE_LENGTH", MSGTK_SEVERITY_WARNING, NULL));
  /* a part's Content-Type with 5,000 parameters: read up to the 1000th */
  g_autoptr (GString) params = g_string_new ("From: a@example.org\nMIME-Version: 1.0\n"
                                             "Content-Type: multipart/mixed; boundary=b\n\n--b\n"
                                             "Content-Type: text/plain; charset=utf-8");
  for (guint i = 0; i < 5000; i++)
    g_string_append_printf (params, ";\n p%u=v", i);
  g_string_append (params, "\n\nhello\n--b--\n");
  g_autoptr (GBytes) praw = g_bytes_new (params->str, params->len);
  gint64 t0 = g_get_monotonic_time ();
  g_autoptr (MsgtkInspection) pin = msgtk_inspection_new (praw, NULL, MSGTK_INSPECT_FULL, &e);
  g_assert_no_error (e);
  g_assert_cmpint (g_get_monotonic_time () - t0, <, 2 * G_USEC_PER_SEC);
  g_autoptr (GPtrArray) f4 = msgtk_inspection_check (pin);
  g_assert_true (has_finding (f4, "LIMIT_PARAMETERS", MSGTK_SEVERITY_WARNING, NULL));
  g_autofree char *ptext = msgtk_inspection_text (pin);
  g_assert_nonnull (strstr (ptext, "hello"));
  /* only the first 10 fields are shown */
  g_autofree char *h = msgtk_inspection_headers (lim, FALSE);
  g_auto (GStrv) lines = g_strsplit (h, "\n", -1);
  g_assert_cmpuint (g_strv_length (lines), ==, 11);
  g_assert_cmpstr (lines[9], ==, "X-H9: v");
}

static void
test_nesting_limit (void)
{
  g_autoptr (GString) m
      = g_string_new ("From: a@b\nContent-Type: multipart/mixed; boundary=b0\n\n");
  for (guint i = 1; i < 40; i++)
    g_string_append_printf (m, "--b%u\nContent-Type: multipart/mixed; boundary=b%u\n\n", i - 1, i);
  g_string_append (m, "--b39\nContent-Type: text/plain\n\ndeep\n");
  g_autoptr (MsgtkInspection) in = inspect (m->str, MSGTK_INSPECT_FULL);
  g_autoptr (GPtrArray) f = msgtk_inspection_check (in);
  g_assert_true (has_finding (f, "LIMIT_NESTING_DEPTH", MSGTK_SEVERITY_ERROR, NULL));
  /* the tree stops at depth 32: 33 lines, the deepest shown part is a multipart */
  g_autofree char *tree = msgtk_inspection_tree (in);
  g_auto (GStrv) lines = g_strsplit (tree, "\n", -1);
  g_assert_cmpuint (g_strv_length (lines), ==, 34);
  g_assert_true (g_str_has_suffix (lines[32], " multipart/mixed"));
}

static void
test_severity_names (void)
{
  MsgtkSeverity s;
  g_assert_true (msgtk_severity_from_name ("WARNING", &s));
  g_assert_cmpint (s, ==, MSGTK_SEVERITY_WARNING);
  g_assert_cmpstr (msgtk_severity_name (MSGTK_SEVERITY_ERROR), ==, "error");
  g_assert_false (msgtk_severity_from_name ("fatal", &s));
}

static void
test_not_a_message (void)
{
  g_autoptr (GBytes) raw = g_bytes_new_static ("just text\nno header\n", 20);
  GError *e = NULL;
  g_assert_null (msgtk_inspection_new (raw, NULL, MSGTK_INSPECT_FULL, &e));
  g_assert_error (e, MSGTK_ERROR, MSGTK_ERROR_DATA);
  g_clear_error (&e);
}

static void
test_to_utf8 (void)
{
  gboolean replaced = TRUE;
  g_autofree char *a = msgtk_charset_to_utf8 ("caf\xe9", -1, "iso-8859-1", NULL, &replaced);
  g_assert_cmpstr (a, ==, "café");
  g_assert_false (replaced);
  /* a lying charset: not valid UTF-8, falls back to windows-1252 */
  g_autofree char *b = msgtk_charset_to_utf8 ("caf\xe9 \x80", -1, "utf-8", NULL, &replaced);
  g_assert_cmpstr (b, ==, "café €");
  g_assert_false (replaced);
  const char *const only_utf8[] = { "UTF-8", NULL };
  g_autofree char *c = msgtk_charset_to_utf8 ("a\xff"
                                              "b",
                                              3, NULL, only_utf8, &replaced);
  g_assert_cmpstr (c, ==,
                   "a\xEF\xBF\xBD"
                   "b");
  g_assert_true (replaced);
  g_autofree char *d = msgtk_charset_to_utf8 ("a\0b", 3, "utf-8", NULL, &replaced);
  g_assert_cmpstr (d, ==,
                   "a\xEF\xBF\xBD"
                   "b");
  g_assert_true (replaced);
  const char *const koi8[] = { "koi8-r", NULL };
  g_autofree char *k = msgtk_charset_to_utf8 ("\xf0\xd2\xc9", -1, "x-unknown", koi8, &replaced);
  g_assert_cmpstr (k, ==, "При");
}

static void
test_safe_name (void)
{
  static const struct {
    const char *in, *type, *number, *want;
  } cases[] = {
    { "../../etc/passwd", NULL, "1", "_._etc_passwd" },
    { "/abs/name.txt", NULL, "1", "_abs_name.txt" },
    { "CON", NULL, "1", "_CON" },
    { "nul.txt", NULL, "1", "_nul.txt" },
    { "a\x01"
      "b\x7f"
      "c.bin",
      NULL, "1", "a_b_c.bin" },
    { "C:\\dir\\x.exe", NULL, "1", "C__dir_x.exe" },
    { "..", NULL, "1.2", "part-1.2.bin" },
    { " .hidden. ", NULL, "1", "hidden" },
    { "what?<>|*\".txt", NULL, "1", "what______.txt" },
    { NULL, "application/pdf", "1.2", "part-1.2.pdf" },
    { "", "image/png", "3", "part-3.png" },
    { NULL, "application/x-unknown", "2", "part-2.bin" },
    { "résumé.pdf", NULL, "1", "résumé.pdf" },
    { "bad\xff.txt", NULL, "1", "bad_.txt" },
    { "\xe2\x80\xae"
      "exe.txt",
      NULL, "1", "_exe.txt" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autofree char *s = msgtk_inspect_safe_name (cases[i].in, cases[i].type, cases[i].number);
    g_assert_cmpstr (s, ==, cases[i].want);
  }
  /* 4000 characters: cut to at most 200 bytes at a character boundary, extension kept */
  g_autoptr (GString) big = g_string_new (NULL);
  for (guint i = 0; i < 2000; i++)
    g_string_append (big, "é");
  g_string_append (big, ".pdf");
  g_autofree char *s = msgtk_inspect_safe_name (big->str, NULL, "1");
  g_assert_cmpuint (strlen (s), <=, 200);
  g_assert_true (g_str_has_suffix (s, ".pdf"));
  g_assert_true (g_utf8_validate (s, -1, NULL));
}

static void
rm_rf (const char *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *n;
  while (d != NULL && (n = g_dir_read_name (d)) != NULL) {
    g_autofree char *p = g_build_filename (dir, n, NULL);
    g_unlink (p);
  }
  g_rmdir (dir);
}

static void
test_extract (void)
{
  GError *e = NULL;
  g_autofree char *dir = g_dir_make_tmp ("msgtk-inspect-XXXXXX", &e);
  g_assert_no_error (e);
  g_autoptr (MsgtkInspection) in = inspect (NESTED, MSGTK_INSPECT_FULL);
  g_auto (GStrv) first = msgtk_inspection_extract (in, dir, FALSE, &e);
  g_assert_no_error (e);
  /* the readable body (1.1.1) stays; the html alternative, the pdf and the
   * attached message's text are written */
  g_assert_cmpuint (g_strv_length (first), ==, 3);
  g_autofree char *html = g_build_filename (dir, "part-1.1.2.html", NULL);
  g_autofree char *pdf = g_build_filename (dir, "résumé.pdf", NULL);
  g_autofree char *inner = g_build_filename (dir, "part-1.3.1.txt", NULL);
  g_assert_cmpstr (first[0], ==, html);
  g_assert_cmpstr (first[1], ==, pdf);
  g_assert_cmpstr (first[2], ==, inner);
  g_autofree char *content = NULL;
  gsize len;
  g_assert_true (g_file_get_contents (pdf, &content, &len, NULL));
  g_assert_cmpmem (content, len, "%PDF-1.4\n", 9);
  /* again: nothing overwritten, numbered names */
  g_auto (GStrv) second = msgtk_inspection_extract (in, dir, FALSE, &e);
  g_assert_no_error (e);
  g_autofree char *pdf1 = g_build_filename (dir, "résumé (1).pdf", NULL);
  g_assert_cmpstr (second[1], ==, pdf1);
  rm_rf (dir);
}

/* The tree counts decoded sizes without decoding: for base64 and
 * quoted-printable bodies of every shape (line lengths, CRLF, characters
 * that are not base64, '=' early, missing padding, broken escapes, soft
 * breaks), and for 8bit ones, the count is the length GMime's decoder gives. */
static void
test_decoded_sizes (void)
{
  g_autoptr (GRand) rnd = g_rand_new_with_seed (2026);
  for (guint round = 0; round < 600; round++) {
    gboolean b64 = round % 3 == 0, qp = round % 3 == 1;
    gboolean crlf = g_rand_int_range (rnd, 0, 4) == 0;
    GString *body = g_string_new (NULL);
    if (b64) {
      gsize n = (gsize)g_rand_int_range (rnd, 0, 3000);
      g_autofree guchar *data = g_malloc (n + 1);
      for (gsize i = 0; i < n; i++)
        data[i] = (guchar)g_rand_int_range (rnd, 0, 256);
      g_autofree char *enc = g_base64_encode (data, n);
      gsize width = (gsize)g_rand_int_range (rnd, 4, 120);
      for (const char *c = enc; *c; c++) {
        int r = g_rand_int_range (rnd, 0, 400);
        if (r == 0)
          g_string_append_c (body, " *\x80\t-"[g_rand_int_range (rnd, 0, 5)]);
        else if (r == 1 && round % 8 == 0)
          g_string_append_c (body, '='); /* ends the data early */
        g_string_append_c (body, *c);
        if ((gsize)(c - enc) % width == width - 1)
          g_string_append (body, crlf ? "\r\n" : "\n");
      }
      if (round % 6 == 2) /* padding lost */
        while (body->len > 0 && body->str[body->len - 1] == '=')
          g_string_truncate (body, body->len - 1);
    } else {
      gsize n = (gsize)g_rand_int_range (rnd, 0, 2000);
      /* quoted-printable, or the same bytes as 8bit (counted as they are) */
      static const char *const bits[] = { "=3D", "=C3=A9", "=\n",  "=\r\n", "=",  "=G1", "=4",
                                          "=a9", "==",     "= \n", "\r",    "\n", "\r\n" };
      while (body->len < n) {
        if (g_rand_int_range (rnd, 0, 6) == 0)
          g_string_append (body, bits[g_rand_int_range (rnd, 0, G_N_ELEMENTS (bits))]);
        else
          g_string_append_c (body, (char)g_rand_int_range (rnd, 32, 127));
      }
    }
    g_autofree char *raw = g_strdup_printf (
        "Content-Type: application/octet-stream\nContent-Transfer-Encoding: %s\n\n%s",
        b64  ? "base64"
        : qp ? "quoted-printable"
             : "8bit",
        body->str);
    g_string_free (body, TRUE);
    g_autoptr (GBytes) bytes = g_bytes_new (raw, strlen (raw));
    g_autoptr (GError) e = NULL;
    g_autoptr (MsgtkInspection) in = msgtk_inspection_new (bytes, NULL, MSGTK_INSPECT_FULL, &e);
    g_assert_no_error (e);
    g_autofree char *tree = msgtk_inspection_tree (in);
    const char *at = strstr (tree, " size=");
    g_assert_nonnull (at);
    g_autoptr (GBytes) content = msgtk_inspection_part_content (in, "1", FALSE, &e);
    g_assert_no_error (e);
    if (g_ascii_strtoull (at + 6, NULL, 10) != g_bytes_get_size (content))
      g_test_message ("round %u: %s", round, raw);
    g_assert_cmpuint (g_ascii_strtoull (at + 6, NULL, 10), ==, g_bytes_get_size (content));
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_mime_init ();
  g_test_add_func ("/inspect/summary", test_summary);
  g_test_add_func ("/inspect/headers", test_headers);
  g_test_add_func ("/inspect/tree", test_tree);
  g_test_add_func ("/inspect/decoded-sizes", test_decoded_sizes);
  g_test_add_func ("/inspect/text", test_text);
  g_test_add_func ("/inspect/json", test_json);
  g_test_add_func ("/inspect/part-content", test_part_content);
  g_test_add_func ("/inspect/lint", test_lint);
  g_test_add_func ("/inspect/nesting-limit", test_nesting_limit);
  g_test_add_func ("/inspect/severity-names", test_severity_names);
  g_test_add_func ("/inspect/not-a-message", test_not_a_message);
  g_test_add_func ("/inspect/to-utf8", test_to_utf8);
  g_test_add_func ("/inspect/safe-name", test_safe_name);
  g_test_add_func ("/inspect/extract", test_extract);
  int rc = g_test_run ();
  g_mime_shutdown ();
  return rc;
}
