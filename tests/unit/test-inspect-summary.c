/* The fast paths show what a full inspection shows. The summary from a
 * headers-only inspection (MSGTK_INSPECT_SUMMARY on the header block) and
 * from msgtk_inspect_summary(), which decodes plain fields without parsing a
 * message: for awkward header blocks, every message of the project's fixtures
 * (tests/data) and every message of the external corpus where it is present.
 * The tree, text, header fields and part content of an inspection of the
 * MIME structure only (MSGTK_INSPECT_STRUCTURE): for the same messages. */
#include <msgtk/msgtk.h>
#include <string.h>

static const char *const messages[] = {
  "From: =?utf-8?Q?Zo=C3=AB?= <zoe@example.org>\n"
  "Received: from a by b\n"
  "Subject: =?iso-8859-1?Q?Gr=FC=DFe?=\n"
  " folded on\n"
  "Date: Mon, 2 Feb 2026 10:00:00 +0100\n"
  "Content-Type: multipart/mixed; boundary=x\n"
  "\n"
  "--x\nContent-Type: text/plain\n\nhi\n--x--\n",
  "Subject: first\nSubject: second\nFrom: a@example.org, b@example.org\n\nbody\n",
  /* only Content-* fields: no field of the message's own */
  "MIME-Version: 1.0\nContent-Type: text/html\n\n<p>x</p>\n",
  "Content-Type: text/plain\n\nno message fields at all\n",
  /* not well-formed: seen as it is */
  " leading space\nFrom: x@example.org\n\nbody\n",
  "From: x@example.org\nno colon here\nSubject: after\n\nbody\n",
  "From: y@example.org\r\nSubject: crlf\r\n\r\nbody\r\n",
  "Subject: no blank line and no body",
  "just text, no header at all\n",
  /* repeated fields: the last Date and Subject, the From fields together */
  "Date: Mon, 2 Feb 2026 10:00:00 +0100\nDate: not a date\nFrom: first@example.org\n"
  "Subject: a\nSubject: =?utf-8?B?w6k=?=\n\nbody\n",
  "Date: garbage\nDate: Tue, 03 Feb 2026 23:59:59 -0800\n\n",
  "From: undisclosed-recipients:;\nFrom: later@example.org\n\n",
  "From:\nFrom: \"Second, Person\" <second@example.org>\n\n",
  "From: Group: a@example.org, b@example.org;\n\n",
  "Content-Type: text/plain\nContent-Type: multipart/mixed; boundary=x\nFrom: two@example.org\n\n",
  "Content-Type: multipart/mixed\nContent-Type: text/plain\n\n",
  "Content-Type: Multipart/MIXED (a comment); boundary=\"b\"\n\n--b\n\n--b--\n",
  "Content-Type: multipart/alternative; boundary=b\nFrom: x@example.org\n\n",
  "Content-Type: multipart\nFrom: x@example.org\n\n",
  "Content-Type: ;;;\nFrom: x@example.org\n\n",
  /* GMime's type comes from the decoded, unfolded value */
  "Subject: s\nContent-Type: =?us-ascii?q?multipart/mixed?=\n\n",
  "Content-Type: multipart/mi\rxed\n\n",
  "Content-Type: multipart/mixed=?utf-8?q?x?=\n\n",
  "Content-Type: multipart/mixed\x90\x90; boundary=b\n\n",
  /* an address list with an error after its first address */
  "From: Alice <alice@example.org> (unclosed comment\nSubject: s\n\n",
  "From: Alice <alice@example.org> (x\nFrom: bob@example.org\n\n",
  /* CRLF, folding, tabs, control characters */
  "From: =?utf-8?Q?Zo=C3=AB?=\r\n <zoe@example.org>\r\nSubject: one\r\n\ttwo\r\n three\r\n"
  "Date: Mon, 2 Feb 2026\r\n 10:00:00 +0100\r\n\r\nbody\r\n",
  "Subject: tab\there and \x01 control \x7f\nFrom: a@example.org\n\n",
  "Subject:\nFrom: a@example.org\n\n",
  "Subject:    \n\n",
  /* 8-bit and encoded words in any charset, broken ones, unknown ones */
  "Subject: Gr\xfc\xdf"
  "e aus K\xf6ln\nFrom: J\xf6rg <j@example.org>\n\n",
  "Subject: \xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82 \xff\xfe\n\n",
  "Subject: =?koi8-r?B?8NLJ18XU?= =?windows-1251?Q?=CF=F0=E8?=\n\n",
  "Subject: =?x-unknown?Q?abc?= and =?utf-8?Q?unclosed\n\n",
  "Subject: =?utf-8?B?not*base64?=\nFrom: =?iso-2022-jp?B?GyRCJUYlOSVIGyhC?= <j@example.jp>\n\n",
  "Subject: =?utf-8?q?a?==?utf-8?q?b?=\n\n",
  "From: \"Quoted \\\"Name\\\"\" <q@example.org> (comment)\n\n",
  "From: <@route.example:odd@example.org>\n\n",
  "From: no-domain\n\n",
  "From: a@example.org (Name In Comment)\n\n",
  /* dates */
  "Date: 2 Feb 2026 10:00 GMT\n\n",
  "Date: Mon, 2 Feb 26 10:00:00 EST\n\n",
  "Date: Mon, 31 Feb 2026 25:61:61 +9999\n\n",
  "Date: =?utf-8?Q?Mon,_2_Feb_2026_10:00:00_+0000?=\n\n",
  /* more summary fields than the fast path keeps */
  "From: a@example.org\nFrom: b@example.org\nFrom: c@example.org\nFrom: d@example.org\n"
  "From: e@example.org\nFrom: f@example.org\nFrom: g@example.org\nFrom: h@example.org\n"
  "From: i@example.org\nFrom: j@example.org\nFrom: k@example.org\nFrom: l@example.org\n"
  "From: m@example.org\nFrom: n@example.org\nFrom: o@example.org\nFrom: p@example.org\n"
  "Subject: seventeen fields\n\n",
};

/* The length of the header block of @m (through its blank line). */
static gsize
head_length (const char *m, gsize len)
{
  for (gsize i = 0; i + 1 < len; i++) {
    if (m[i] == '\n' && m[i + 1] == '\n')
      return i + 2;
    if (m[i] == '\n' && m[i + 1] == '\r' && i + 2 < len && m[i + 2] == '\n')
      return i + 3;
  }
  return len;
}

/* Every way of making the summary of @m gives the same line (or error). */
static void
assert_same_summary (const char *m, gsize len, const char *what)
{
  g_autoptr (GBytes) whole = g_bytes_new_static (m, len);
  g_autoptr (GBytes) block = g_bytes_new_static (m, head_length (m, len));
  g_autoptr (GError) e1 = NULL, e2 = NULL, e3 = NULL;
  g_autoptr (MsgtkInspection) full = msgtk_inspection_new (whole, NULL, MSGTK_INSPECT_FULL, &e1);
  g_autoptr (MsgtkInspection) fast
      = msgtk_inspection_new_for_headers (block, (goffset)len, NULL, MSGTK_INSPECT_SUMMARY, &e2);
  g_autofree char *line = msgtk_inspect_summary (block, (goffset)len, NULL, &e3);
  if (full == NULL) {
    g_assert_null (fast);
    g_assert_null (line);
    g_assert_cmpstr (e1->message, ==, e2->message);
    g_assert_cmpstr (e1->message, ==, e3->message);
    return;
  }
  g_autofree char *want = msgtk_inspection_summary (full);
  g_assert_nonnull (fast);
  g_autofree char *got = msgtk_inspection_summary (fast);
  if (g_strcmp0 (got, want) != 0 || g_strcmp0 (line, want) != 0)
    g_test_message ("%s", what);
  g_assert_cmpstr (got, ==, want);
  g_assert_cmpstr (line, ==, want);
  g_assert_true (g_utf8_validate (line, -1, NULL));
}

static void
test_same_summary (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (messages); i++) {
    g_autofree char *what = g_strdup_printf ("message %u", i);
    assert_same_summary (messages[i], strlen (messages[i]), what);
  }
  static const char nul[] = "Subject: nul \0 inside\nFrom: a@example.org\n\n";
  assert_same_summary (nul, sizeof nul - 1, "NUL byte");
}

/* What an inspection of the MIME structure only (MSGTK_INSPECT_STRUCTURE)
 * shows of @raw is what the full inspection @full shows. */
static void
assert_same_structure (MsgtkInspection *full, GBytes *raw)
{
  g_autoptr (GError) e = NULL;
  g_autoptr (MsgtkInspection) part = msgtk_inspection_new (raw, NULL, MSGTK_INSPECT_STRUCTURE, &e);
  g_assert_no_error (e);
  char *(*views[]) (MsgtkInspection *) = { msgtk_inspection_tree, msgtk_inspection_text };
  for (guint v = 0; v < G_N_ELEMENTS (views); v++) {
    g_autofree char *want = views[v](full);
    g_autofree char *got = views[v](part);
    g_assert_cmpstr (got, ==, want);
  }
  for (int raw_headers = 0; raw_headers <= 1; raw_headers++) {
    g_autofree char *want = msgtk_inspection_headers (full, raw_headers);
    g_autofree char *got = msgtk_inspection_headers (part, raw_headers);
    g_assert_cmpstr (got, ==, want);
  }
  g_autoptr (GBytes) want = msgtk_inspection_part_content (full, "1", TRUE, NULL);
  g_autoptr (GBytes) got = msgtk_inspection_part_content (part, "1", TRUE, NULL);
  g_assert_true ((want == NULL) == (got == NULL));
  if (want != NULL)
    g_assert_true (g_bytes_equal (got, want));
}

/* Every file under @dir, read as the tool reads it: each file as a message
 * or an archive, the summary from a headers-only source, the structure-only
 * views. Returns how many messages it compared. */
static guint
check_fast_paths_under (const char *dir)
{
  GPtrArray *unvisited = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (unvisited, g_strdup (dir));
  guint messages_seen = 0;
  while (unvisited->len > 0) {
    g_autofree char *path = g_ptr_array_steal_index (unvisited, unvisited->len - 1);
    if (g_file_test (path, G_FILE_TEST_IS_DIR)) {
      g_autoptr (GDir) d = g_dir_open (path, 0, NULL);
      g_assert_nonnull (d);
      for (const char *name; (name = g_dir_read_name (d)) != NULL;)
        g_ptr_array_add (unvisited, g_build_filename (path, name, NULL));
      continue;
    }
    if (g_str_has_suffix (path, ".md") || g_str_has_suffix (path, "MANIFEST"))
      continue; /* SOURCES.md, tests/data/README.md and MANIFEST */
    g_autoptr (GError) error = NULL;
    g_autoptr (MsgtkSource) source = msgtk_source_open (path, MSGTK_SOURCE_FORMAT_AUTO, &error);
    if (source == NULL)
      continue; /* not a message or an archive at all */
    msgtk_source_set_headers_only (source, TRUE);
    g_autoptr (MsgtkSource) whole = msgtk_source_open (path, MSGTK_SOURCE_FORMAT_AUTO, &error);
    g_assert_no_error (error);
    for (;;) {
      g_autoptr (GError) e1 = NULL, e2 = NULL;
      MsgtkItem *head = msgtk_source_next (source, &e1);
      MsgtkItem *item = msgtk_source_next (whole, &e2);
      g_assert_true ((head == NULL) == (item == NULL));
      if (item == NULL)
        break;
      g_autoptr (GBytes) block = msgtk_item_read_bytes (head, NULL);
      g_autoptr (GBytes) raw = msgtk_item_read_bytes (item, NULL);
      g_assert_nonnull (block);
      g_assert_nonnull (raw);
      g_autoptr (GError) e3 = NULL, e4 = NULL;
      g_autoptr (MsgtkInspection) full = msgtk_inspection_new (raw, NULL, MSGTK_INSPECT_FULL, &e3);
      g_autofree char *line = msgtk_inspect_summary (block, head->size, NULL, &e4);
      g_assert_true ((full == NULL) == (line == NULL));
      if (full != NULL) {
        g_test_message ("%s#%u", path, item->index);
        g_autofree char *want = msgtk_inspection_summary (full);
        g_assert_cmpstr (line, ==, want);
        assert_same_structure (full, raw);
        messages_seen++;
      }
      msgtk_item_free (head);
      msgtk_item_free (item);
    }
  }
  g_ptr_array_unref (unvisited);
  return messages_seen;
}

/* The project's fixtures: there in every checkout. */
static void
test_fixtures (void)
{
  const char *src = g_getenv ("MSGTK_SOURCE_DIR");
  g_assert_nonnull (src);
  g_autofree char *dir = g_build_filename (src, "tests", "data", NULL);
  g_assert_true (g_file_test (dir, G_FILE_TEST_IS_DIR));
  guint messages_seen = check_fast_paths_under (dir);
  g_test_message ("%u fixture messages", messages_seen);
  g_assert_cmpuint (messages_seen, >=, 60);
}

/* The external corpus: MSGTK_CORPUS names it, else MSGTK_CORPUS_DIR
 * (tests/meson.build). Where it is not, the case is skipped; but under
 * CI=true, or when MSGTK_CORPUS names a folder that is not there, that is a
 * failure. */
static void
test_corpus (void)
{
  const char *named = g_getenv ("MSGTK_CORPUS");
  const char *dir = named != NULL && *named != '\0' ? named : g_getenv ("MSGTK_CORPUS_DIR");
  if (dir == NULL || !g_file_test (dir, G_FILE_TEST_IS_DIR)) {
    if (g_strcmp0 (g_getenv ("CI"), "true") == 0 || (named != NULL && *named != '\0'))
      g_test_fail_printf ("corpus not found at %s: %s",
                          dir != NULL ? dir : "(MSGTK_CORPUS_DIR unset)",
                          named != NULL && *named != '\0' ? "MSGTK_CORPUS names it"
                                                          : "CI=true needs it (set MSGTK_CORPUS)");
    else
      g_test_skip ("corpus not found");
    return;
  }
  guint messages_seen = check_fast_paths_under (dir);
  g_test_message ("%u corpus messages", messages_seen);
  g_assert_cmpuint (messages_seen, >=, 250);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_mime_init ();
  g_test_add_func ("/inspect/summary-headers-only", test_same_summary);
  g_test_add_func ("/inspect/fixtures-fast-paths", test_fixtures);
  g_test_add_func ("/inspect/corpus-fast-paths", test_corpus);
  int rc = g_test_run ();
  g_mime_shutdown ();
  return rc;
}
