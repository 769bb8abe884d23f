#include <glib/gstdio.h>
#include <msgtk/msgtk.h>
#include <string.h>

static char *
tmpdir (void)
{
  g_autoptr (GError) e = NULL;
  char *d = g_dir_make_tmp ("msgtk-source-XXXXXX", &e);
  g_assert_no_error (e);
  return d;
}

static void
rm_rf (const char *path)
{
  if (g_file_test (path, G_FILE_TEST_IS_DIR)) {
    GDir *d = g_dir_open (path, 0, NULL);
    const char *n;
    while ((n = g_dir_read_name (d)) != NULL) {
      g_autofree char *p = g_build_filename (path, n, NULL);
      rm_rf (p);
    }
    g_dir_close (d);
    g_rmdir (path);
  } else {
    g_unlink (path);
  }
}

static void
write_file (const char *path, const char *data)
{
  g_autoptr (GError) e = NULL;
  g_file_set_contents (path, data, -1, &e);
  g_assert_no_error (e);
}

static char *
item_text (MsgtkItem *item)
{
  g_autoptr (GError) e = NULL;
  g_autoptr (GBytes) b = msgtk_item_read_bytes (item, &e);
  g_assert_no_error (e);
  g_assert_cmpuint (g_bytes_get_size (b), ==, (gsize)item->size);
  return g_strndup (g_bytes_get_data (b, NULL), g_bytes_get_size (b));
}

static GPtrArray *
all_items (MsgtkSource *s)
{
  GPtrArray *a = g_ptr_array_new_with_free_func ((GDestroyNotify)msgtk_item_free);
  MsgtkItem *it;
  g_autoptr (GError) e = NULL;
  while ((it = msgtk_source_next (s, &e)) != NULL)
    g_ptr_array_add (a, it);
  g_assert_no_error (e);
  return a;
}

/* Every item of the source at @path, read whole or headers-only. */
static GPtrArray *
items_at (const char *path, gboolean headers_only)
{
  g_autoptr (GError) e = NULL;
  g_autoptr (MsgtkSource) s = msgtk_source_open (path, MSGTK_SOURCE_FORMAT_AUTO, &e);
  g_assert_no_error (e);
  msgtk_source_set_headers_only (s, headers_only);
  return all_items (s);
}

static const char mboxrd[] = "From alice@example.org Tue Nov 24 09:52:57 2026\n"
                             "From: alice@example.org\n"
                             "Status: RO\n"
                             "X-Status: AF\n"
                             "Subject: one\n"
                             "\n"
                             "Hello\n"
                             ">From the start\n"
                             ">>From deeper\n"
                             "From inside a paragraph is not a separator\n"
                             "\n"
                             "From bob@example.org Wed Jan  7 01:02:03 2015\n"
                             "Subject: two\n"
                             "\n"
                             "second\n"
                             "\n";

static void
test_mbox (void)
{
  g_autofree char *d = tmpdir ();
  g_autofree char *p = g_build_filename (d, "box", NULL);
  write_file (p, mboxrd);
  g_autoptr (GError) e = NULL;
  g_autoptr (MsgtkSource) s = msgtk_source_open (p, MSGTK_SOURCE_FORMAT_AUTO, &e);
  g_assert_no_error (e);
  g_assert_cmpint (msgtk_source_get_format (s), ==, MSGTK_SOURCE_FORMAT_MBOX);
  g_autoptr (GPtrArray) a = all_items (s);
  g_assert_cmpuint (a->len, ==, 2);
  MsgtkItem *one = a->pdata[0], *two = a->pdata[1];
  g_autofree char *t1 = item_text (one);
  g_assert_cmpstr (t1, ==,
                   "From: alice@example.org\nStatus: RO\nX-Status: AF\nSubject: one\n\nHello\n"
                   "From the start\n>From deeper\nFrom inside a paragraph is not a separator\n");
  g_assert_cmpint (one->flags, ==, MSGTK_FLAG_SEEN | MSGTK_FLAG_ANSWERED | MSGTK_FLAG_FLAGGED);
  g_assert_cmpint (one->offset, ==, 0);
  g_assert_cmpuint (one->index, ==, 1);
  g_assert_nonnull (one->internal_date);
  g_autofree char *iso = g_date_time_format_iso8601 (one->internal_date);
  g_assert_cmpstr (iso, ==, "2026-11-24T09:52:57Z");
  g_assert_cmpstr (one->envelope_sender, ==, "alice@example.org");
  g_assert_cmpstr (two->envelope_sender, ==, "bob@example.org");
  g_autofree char *t2 = item_text (two);
  g_assert_cmpstr (t2, ==, "Subject: two\n\nsecond\n");
  g_assert_cmpint (two->offset, ==, (goffset)(strstr (mboxrd, "From bob") - mboxrd));
  g_assert_cmpint (two->flags, ==, 0);
  g_assert_true (g_str_has_prefix (two->identity, "mbox:"));
  g_assert_cmpstr (one->identity, !=, two->identity);
  g_autofree char *iso2 = g_date_time_format_iso8601 (two->internal_date);
  g_assert_cmpstr (iso2, ==, "2015-01-07T01:02:03Z");
  rm_rf (d);
}

static const char mboxcl2[] = "From a Mon Jan  5 10:00:00 2015\n"
                              "Content-Length: 24\n"
                              "\n"
                              "x\n"
                              "\n"
                              "From not a separator\n"
                              "\n"
                              "From b Mon Jan  5 10:00:01 2015\n"
                              "Content-Length: 9999\n"
                              "\n"
                              "short\n"
                              "\n"
                              "From c Mon Jan  5 10:00:02 2015\n"
                              "Subject: c\n"
                              "\n"
                              "c\n";

static void
test_mbox_content_length (void)
{
  /* mboxcl2: unquoted "From " body lines counted by Content-Length, and a
   * lying Content-Length that falls back to From_ lines */
  const char *box = mboxcl2;
  g_autoptr (GInputStream) in = g_memory_input_stream_new_from_data (box, -1, NULL);
  g_autoptr (GError) e = NULL;
  g_autoptr (MsgtkSource) s = msgtk_source_new_for_stream (in, "cl", MSGTK_SOURCE_FORMAT_AUTO, &e);
  g_assert_no_error (e);
  g_autoptr (GPtrArray) a = all_items (s);
  g_assert_cmpuint (a->len, ==, 3);
  g_autofree char *t1 = item_text (a->pdata[0]);
  g_assert_cmpstr (t1, ==, "Content-Length: 24\n\nx\n\nFrom not a separator\n");
  g_autofree char *t2 = item_text (a->pdata[1]);
  g_assert_cmpstr (t2, ==, "Content-Length: 9999\n\nshort\n");
  g_autofree char *t3 = item_text (a->pdata[2]);
  g_assert_cmpstr (t3, ==, "Subject: c\n\nc\n");
}

static void
test_mbox_crlf_and_big (void)
{
  /* CRLF mbox, and a message bigger than the read buffer */
  GString *g = g_string_new ("From x Mon Jan  5 10:00:00 2015\r\nSubject: big\r\n\r\n");
  for (int i = 0; i < 40000; i++)
    g_string_append (g, "0123456789012345678901234567890123456789\r\n");
  g_string_append (g, "\r\nFrom y Mon Jan  5 10:00:00 2015\r\nSubject: y\r\n\r\ny\r\n");
  g_autoptr (GBytes) b = g_string_free_to_bytes (g);
  g_autoptr (GInputStream) in = g_memory_input_stream_new_from_bytes (b);
  g_autoptr (GError) e = NULL;
  g_autoptr (MsgtkSource) s
      = msgtk_source_new_for_stream (in, "crlf", MSGTK_SOURCE_FORMAT_AUTO, &e);
  g_assert_no_error (e);
  g_autoptr (GPtrArray) a = all_items (s);
  g_assert_cmpuint (a->len, ==, 2);
  MsgtkItem *one = a->pdata[0];
  g_assert_cmpint (one->size, ==, 16 + 40000 * 42);
  g_autofree char *t2 = item_text (a->pdata[1]);
  g_assert_cmpstr (t2, ==, "Subject: y\r\n\r\ny\r\n");
}

/* @data as a stream that cannot seek (as a pipe): deflated, then read
 * through an inflating converter. */
static GInputStream *
unseekable_stream (const char *data, gsize len)
{
  g_autoptr (GError) e = NULL;
  g_autoptr (GZlibCompressor) c = g_zlib_compressor_new (G_ZLIB_COMPRESSOR_FORMAT_RAW, 1);
  g_autoptr (GInputStream) plain = g_memory_input_stream_new_from_data (data, (gssize)len, NULL);
  g_autoptr (GInputStream) deflate = g_converter_input_stream_new (plain, G_CONVERTER (c));
  g_autoptr (GOutputStream) out = g_memory_output_stream_new_resizable ();
  g_output_stream_splice (out, deflate, G_OUTPUT_STREAM_SPLICE_CLOSE_TARGET, NULL, &e);
  g_assert_no_error (e);
  g_autoptr (GBytes) packed = g_memory_output_stream_steal_as_bytes (G_MEMORY_OUTPUT_STREAM (out));
  g_autoptr (GZlibDecompressor) d = g_zlib_decompressor_new (G_ZLIB_COMPRESSOR_FORMAT_RAW);
  g_autoptr (GInputStream) src = g_memory_input_stream_new_from_bytes (packed);
  GInputStream *in = g_converter_input_stream_new (src, G_CONVERTER (d));
  g_assert_false (G_IS_SEEKABLE (in));
  return in;
}

/* The items of @box read from a stream, read from a file and from a stream
 * that cannot seek, and read headers-only from those two: the same
 * messages; headers-only items hold the header block and the whole size. */
static void
check_readers_agree (const char *box, gsize len)
{
  g_autofree char *d = tmpdir ();
  g_autofree char *path = g_build_filename (d, "box.mbox", NULL);
  g_autoptr (GError) e = NULL;
  g_file_set_contents (path, box, (gssize)len, &e);
  g_assert_no_error (e);
  g_autoptr (GInputStream) in = g_memory_input_stream_new_from_data (box, (gssize)len, NULL);
  g_autoptr (MsgtkSource) stream
      = msgtk_source_new_for_stream (in, "box", MSGTK_SOURCE_FORMAT_AUTO, &e);
  g_assert_no_error (e);
  g_autoptr (GPtrArray) full = all_items (stream);
  for (int round = 0; round < 4; round++) {
    gboolean headers_only = round % 2 == 1;
    g_autoptr (GInputStream) pipe = round >= 2 ? unseekable_stream (box, len) : NULL;
    g_autoptr (MsgtkSource) file
        = pipe != NULL ? msgtk_source_new_for_stream (pipe, "pipe", MSGTK_SOURCE_FORMAT_AUTO, &e)
                       : msgtk_source_open (path, MSGTK_SOURCE_FORMAT_AUTO, &e);
    g_assert_no_error (e);
    msgtk_source_set_headers_only (file, headers_only);
    g_autoptr (GPtrArray) a = all_items (file);
    g_assert_cmpuint (a->len, ==, full->len);
    for (guint i = 0; i < a->len; i++) {
      MsgtkItem *want = full->pdata[i], *got = a->pdata[i];
      g_assert_cmpint (got->size, ==, want->size);
      g_assert_cmpint (got->offset, ==, want->offset);
      g_assert_cmpint (got->flags, ==, want->flags);
      g_autoptr (GBytes) wb = msgtk_item_read_bytes (want, &e);
      g_assert_no_error (e);
      g_autoptr (GBytes) gb = msgtk_item_read_bytes (got, &e);
      g_assert_no_error (e);
      gsize wn, gn;
      const char *w = g_bytes_get_data (wb, &wn), *g = g_bytes_get_data (gb, &gn);
      if (headers_only) {
        /* through the first blank line, or all of it */
        gsize block = wn;
        for (gsize k = 0; k < wn; k++)
          if ((k == 0 || w[k - 1] == '\n')
              && (w[k] == '\n' || (w[k] == '\r' && k + 1 < wn && w[k + 1] == '\n'))) {
            block = k + (w[k] == '\n' ? 1 : 2);
            break;
          }
        wn = block;
      }
      g_assert_cmpmem (g, gn, w, wn);
    }
  }
  rm_rf (d);
}

static char *far_content_length_box (gsize *first_size);

static void
test_readers_agree (void)
{
  check_readers_agree (mboxrd, strlen (mboxrd));
  check_readers_agree (mboxcl2, strlen (mboxcl2));
  const char *odd = "From a Mon Jan  5 10:00:00 2015\n"
                    ">From quoted in the header\n"
                    "Content-Length: 3\n"
                    "\n"
                    ">From quoted in a body whose length lies\n"
                    "\n"
                    "From empty Mon Jan  5 10:00:02 2015\n"
                    "From c Mon Jan  5 10:00:03 2015\n"
                    "Subject: no blank line after me\n";
  check_readers_agree (odd, strlen (odd));
  /* CRLF, messages bigger than the read buffer, no final newline */
  GString *g = g_string_new (NULL);
  for (int m = 0; m < 3; m++) {
    g_string_append (g, "From x Mon Jan  5 10:00:00 2015\r\nSubject: big\r\n\r\n");
    for (int i = 0; i < 20000 * (m + 1); i++)
      g_string_append (g, i % 1000 == 0 ? ">From here\r\n" : "0123456789012345678901234567\r\n");
    g_string_append (g, "\r\n");
  }
  g_string_append (g, "From y Mon Jan  5 10:00:00 2015\nSubject: y\n\ny");
  check_readers_agree (g->str, g->len);
  g_string_free (g, TRUE);
  g_autofree char *far = far_content_length_box (NULL);
  check_readers_agree (far, strlen (far));
}

/* Content-Length bodies far beyond the read buffer: a true one whose body
 * holds unquoted From_ lines, one past the end of the data, one that lands
 * inside the next message's body; then plain messages. */
static char *
far_content_length_box (gsize *first_size)
{
  GString *body = g_string_new (NULL);
  while (body->len < 2 * 1024 * 1024)
    g_string_append (body,
                     body->len % 50000 == 0 ? "\nFrom inside a body\n" : "0123456789abcdef\n");
  GString *g = g_string_new (NULL);
  g_string_append_printf (g, "From a Mon Jan  5 10:00:00 2015\nContent-Length: %zu\n\n%s\n",
                          body->len, body->str);
  if (first_size != NULL)
    *first_size
        = strlen ("Content-Length: \n\n") + (gsize)snprintf (NULL, 0, "%zu", body->len) + body->len;
  g_string_append (g, "From b Mon Jan  5 10:00:01 2015\nContent-Length: 4000000000\n\nb\n\n");
  g_string_append (g, "From c Mon Jan  5 10:00:02 2015\nContent-Length: 1500000\n\nc\n\n");
  g_string_append (g, "From d Mon Jan  5 10:00:03 2015\nSubject: d\n\n");
  for (gsize i = 0; i < 100000; i++)
    g_string_append (g, "0123456789abcdef0123456789\n");
  g_string_append (g, "\nFrom e Mon Jan  5 10:00:04 2015\nSubject: e\n\ne\n");
  g_string_free (body, TRUE);
  return g_string_free (g, FALSE);
}

/* Messages taken whole are slices of the reader's buffer: reading on (here
 * headers-only, past a long Content-Length body by seeking) never writes
 * where they are. */
static void
test_mbox_slices_stay (void)
{
  GString *g = g_string_new ("From a Mon Jan  5 10:00:00 2015\nSubject: one\n\nfirst\n\n");
  GString *body = g_string_new (NULL);
  while (body->len < 1600 * 1024)
    g_string_append (body, "0123456789abcdef0123456789abcdef\n");
  g_string_append_printf (g, "From b Mon Jan  5 10:00:01 2015\nContent-Length: %zu\n\n%s\n",
                          body->len, body->str);
  g_string_append (g, "From c Mon Jan  5 10:00:02 2015\nSubject: three\n\nthird\n");
  g_string_free (body, TRUE);
  g_autofree char *d = tmpdir ();
  g_autofree char *path = g_build_filename (d, "box", NULL);
  write_file (path, g->str);
  g_string_free (g, TRUE);
  g_autoptr (GError) e = NULL;
  g_autoptr (MsgtkSource) s = msgtk_source_open (path, MSGTK_SOURCE_FORMAT_AUTO, &e);
  g_assert_no_error (e);
  g_autoptr (MsgtkItem) first = msgtk_source_next (s, &e);
  g_assert_no_error (e);
  g_autoptr (GBytes) bytes = msgtk_item_read_bytes (first, &e);
  g_assert_cmpmem (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes),
                   "Subject: one\n\nfirst\n", 20);
  msgtk_source_set_headers_only (s, TRUE);
  g_autoptr (GPtrArray) rest = all_items (s);
  g_assert_cmpuint (rest->len, ==, 2);
  g_assert_cmpmem (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes),
                   "Subject: one\n\nfirst\n", 20);
  rm_rf (d);
}

static void
test_mbox_content_length_far (void)
{
  gsize first_size;
  g_autofree char *box = far_content_length_box (&first_size);
  g_autofree char *d = tmpdir ();
  g_autofree char *path = g_build_filename (d, "far.mbox", NULL);
  write_file (path, box);
  for (int headers_only = 0; headers_only <= 1; headers_only++) {
    g_autoptr (GError) e = NULL;
    g_autoptr (GPtrArray) a = items_at (path, headers_only);
    g_assert_cmpuint (a->len, ==, 5);
    MsgtkItem *first = a->pdata[0];
    g_assert_cmpint (first->size, ==, (goffset)first_size);
    static const char *const want[]
        = { NULL, "Content-Length: 4000000000\n\nb\n", "Content-Length: 1500000\n\nc\n", NULL,
            "Subject: e\n\ne\n" };
    for (guint i = 0; i < G_N_ELEMENTS (want); i++) {
      if (want[i] == NULL)
        continue;
      MsgtkItem *item = a->pdata[i];
      g_assert_cmpint (item->size, ==, (goffset)strlen (want[i]));
      g_autoptr (GBytes) b = msgtk_item_read_bytes (item, &e);
      g_assert_no_error (e);
      gsize n = headers_only ? (gsize)(strstr (want[i], "\n\n") + 2 - want[i]) : strlen (want[i]);
      g_assert_cmpmem (g_bytes_get_data (b, NULL), g_bytes_get_size (b), want[i], n);
    }
  }
  rm_rf (d);
}

static void
test_maildir_headers_only (void)
{
  g_autofree char *d = tmpdir ();
  g_autofree char *cur = g_build_filename (d, "cur", NULL);
  g_mkdir_with_parents (cur, 0700);
  g_autofree char *m1 = g_build_filename (cur, "1.a.host:2,S", NULL);
  g_autofree char *m2 = g_build_filename (cur, "2.b.host:2,S", NULL);
  GString *big = g_string_new ("Subject: 1\r\nX-Long: ");
  for (int i = 0; i < 5000; i++) /* a header block longer than one read */
    g_string_append (big, "0123456789");
  g_string_append (big, "\r\n\r\nbody\r\n");
  write_file (m1, big->str);
  write_file (m2, "Subject: 2\nno blank line, no body");
  g_autoptr (GError) e = NULL;
  g_autoptr (GPtrArray) a = items_at (d, TRUE);
  g_assert_cmpuint (a->len, ==, 2);
  MsgtkItem *i1 = a->pdata[0], *i2 = a->pdata[1];
  g_assert_cmpint (i1->size, ==, (goffset)big->len);
  g_autoptr (GBytes) b1 = msgtk_item_read_bytes (i1, &e);
  g_assert_no_error (e);
  g_assert_cmpmem (g_bytes_get_data (b1, NULL), g_bytes_get_size (b1), big->str, big->len - 6);
  g_autoptr (GBytes) b2 = msgtk_item_read_bytes (i2, &e);
  g_assert_no_error (e);
  g_assert_cmpuint (g_bytes_get_size (b2), ==, (gsize)i2->size);
  g_string_free (big, TRUE);
  rm_rf (d);
}

static void
test_maildir (void)
{
  g_autofree char *d = tmpdir ();
  const char *dirs[]
      = { "cur", "new", "tmp", ".Lists.gtk/cur", ".Lists.gtk/new", ".Lists.gtk/tmp" };
  for (guint i = 0; i < G_N_ELEMENTS (dirs); i++) {
    g_autofree char *p = g_build_filename (d, dirs[i], NULL);
    g_mkdir_with_parents (p, 0700);
  }
  g_autofree char *m1 = g_build_filename (d, "cur", "100.a.host:2,FRS", NULL);
  g_autofree char *m2 = g_build_filename (d, "new", "200.b.host", NULL);
  g_autofree char *m3 = g_build_filename (d, ".Lists.gtk", "cur", "300.c.host:2,T", NULL);
  g_autofree char *junk = g_build_filename (d, "tmp", "400.d.host", NULL);
  write_file (m1, "Subject: 1\n\none\n");
  write_file (m2, "Subject: 2\n\ntwo\n");
  write_file (m3, "Subject: 3\n\nthree\n");
  write_file (junk, "Subject: tmp\n\n");
  g_autoptr (GError) e = NULL;
  g_autoptr (MsgtkSource) s = msgtk_source_open (d, MSGTK_SOURCE_FORMAT_AUTO, &e);
  g_assert_no_error (e);
  g_assert_cmpint (msgtk_source_get_format (s), ==, MSGTK_SOURCE_FORMAT_MAILDIR);
  g_autoptr (GPtrArray) a = all_items (s);
  g_assert_cmpuint (a->len, ==, 3);
  MsgtkItem *i1 = a->pdata[0], *i2 = a->pdata[1], *i3 = a->pdata[2];
  g_assert_cmpint (i1->flags, ==, MSGTK_FLAG_SEEN | MSGTK_FLAG_ANSWERED | MSGTK_FLAG_FLAGGED);
  g_assert_null (i1->folder);
  g_assert_cmpint (i2->flags, ==, 0);
  g_assert_cmpstr (i3->folder, ==, "Lists/gtk");
  g_assert_cmpint (i3->flags, ==, MSGTK_FLAG_DELETED);
  g_assert_nonnull (i1->internal_date);
  g_assert_true (g_str_has_suffix (i1->identity, "/100.a.host"));
  g_autofree char *t3 = item_text (i3);
  g_assert_cmpstr (t3, ==, "Subject: 3\n\nthree\n");
  rm_rf (d);
}

static void
test_dir_and_file (void)
{
  g_autofree char *d = tmpdir ();
  g_autofree char *sub = g_build_filename (d, "sub", NULL);
  g_mkdir (sub, 0700);
  g_autofree char *a = g_build_filename (d, "b.eml", NULL);
  g_autofree char *b = g_build_filename (sub, "a.EML", NULL);
  g_autofree char *c = g_build_filename (d, "notes.txt", NULL);
  write_file (a, "Subject: a\n\n");
  write_file (b, "Subject: b\n\n");
  write_file (c, "not mail");
  g_autoptr (GError) e = NULL;
  g_autoptr (MsgtkSource) s = msgtk_source_open (d, MSGTK_SOURCE_FORMAT_AUTO, &e);
  g_assert_no_error (e);
  g_assert_cmpint (msgtk_source_get_format (s), ==, MSGTK_SOURCE_FORMAT_DIR);
  g_autoptr (GPtrArray) items = all_items (s);
  g_assert_cmpuint (items->len, ==, 2);
  g_assert_cmpstr (((MsgtkItem *)items->pdata[0])->path, ==, a);
  g_assert_cmpstr (((MsgtkItem *)items->pdata[1])->path, ==, b);

  g_autoptr (MsgtkSource) one = msgtk_source_open (a, MSGTK_SOURCE_FORMAT_AUTO, &e);
  g_assert_no_error (e);
  g_assert_cmpint (msgtk_source_get_format (one), ==, MSGTK_SOURCE_FORMAT_MESSAGE);
  g_autoptr (GPtrArray) x = all_items (one);
  g_assert_cmpuint (x->len, ==, 1);
  g_autofree char *t = item_text (x->pdata[0]);
  g_assert_cmpstr (t, ==, "Subject: a\n\n");
  g_assert_null (((MsgtkItem *)x->pdata[0])->internal_date);
  rm_rf (d);
}

/* A .eml file's flags come from its own Status/X-Status fields (as in an
 * mbox); an mbox with a UTF-8 byte order mark is still an mbox. */
static void
test_eml_flags_and_bom (void)
{
  g_autofree char *d = tmpdir ();
  g_autofree char *a = g_build_filename (d, "a.eml", NULL);
  g_autofree char *b = g_build_filename (d, "b.eml", NULL);
  write_file (a, "Subject: a\nStatus: RO\nX-Status: FA\n\nStatus: body only\n");
  write_file (b, "Subject: b\n\nX-Status: F\n");
  g_autoptr (GError) e = NULL;
  g_autoptr (MsgtkSource) s = msgtk_source_open (d, MSGTK_SOURCE_FORMAT_AUTO, &e);
  g_assert_no_error (e);
  g_autoptr (GPtrArray) items = all_items (s);
  g_assert_cmpuint (items->len, ==, 2);
  g_assert_cmpint (((MsgtkItem *)items->pdata[0])->flags, ==,
                   MSGTK_FLAG_SEEN | MSGTK_FLAG_FLAGGED | MSGTK_FLAG_ANSWERED);
  g_assert_cmpint (((MsgtkItem *)items->pdata[1])->flags, ==, MSGTK_FLAG_NONE);
  g_autofree char *t = item_text (items->pdata[0]);
  g_assert_cmpstr (t, ==, "Subject: a\nStatus: RO\nX-Status: FA\n\nStatus: body only\n");

  g_autofree char *box = g_build_filename (d, "bom.mbox", NULL);
  write_file (box, "\xEF\xBB\xBF"
                   "From a Mon Jan  1 00:00:00 2024\nSubject: 1\n\none\n\n"
                   "From b Mon Jan  1 00:00:00 2024\nSubject: 2\n\ntwo\n");
  g_autoptr (MsgtkSource) m = msgtk_source_open (box, MSGTK_SOURCE_FORMAT_AUTO, &e);
  g_assert_no_error (e);
  g_assert_cmpint (msgtk_source_get_format (m), ==, MSGTK_SOURCE_FORMAT_MBOX);
  g_autoptr (GPtrArray) msgs = all_items (m);
  g_assert_cmpuint (msgs->len, ==, 2);
  g_autofree char *t1 = item_text (msgs->pdata[0]);
  g_assert_cmpstr (t1, ==, "Subject: 1\n\none\n");
  rm_rf (d);
}

/* "Status : RO" is a Status field, as GMime reads it (blanks before the
 * colon); and a folded X-Status is read whole. */
static void
test_status_spelling (void)
{
  g_autofree char *d = tmpdir ();
  g_autofree char *box = g_build_filename (d, "s.mbox", NULL);
  write_file (box, "From a Mon Jan  1 00:00:00 2024\nStatus : RO\nSubject: 1\n\none\n\n"
                   "From b Mon Jan  1 00:00:00 2024\nX-Status:\n F\nSubject: 2\n\ntwo\n");
  g_autofree char *eml = g_build_filename (d, "a.eml", NULL);
  write_file (eml, "Status\t: RO\nSubject: a\n\nbody\n");
  g_autoptr (GError) e = NULL;
  g_autoptr (MsgtkSource) m = msgtk_source_open (box, MSGTK_SOURCE_FORMAT_AUTO, &e);
  g_assert_no_error (e);
  g_autoptr (GPtrArray) msgs = all_items (m);
  g_assert_cmpuint (msgs->len, ==, 2);
  g_assert_cmpint (((MsgtkItem *)msgs->pdata[0])->flags, ==, MSGTK_FLAG_SEEN);
  g_assert_cmpint (((MsgtkItem *)msgs->pdata[1])->flags, ==, MSGTK_FLAG_FLAGGED);
  g_autoptr (MsgtkSource) f = msgtk_source_open (eml, MSGTK_SOURCE_FORMAT_AUTO, &e);
  g_assert_no_error (e);
  g_autoptr (GPtrArray) one = all_items (f);
  g_assert_cmpint (((MsgtkItem *)one->pdata[0])->flags, ==, MSGTK_FLAG_SEEN);
  /* Thunderbird writes no Status field: its X-Mozilla-Status flags (hex:
   * 0x1 read, 0x2 replied, 0x4 marked, 0x8 expunged) */
  g_autofree char *tb = g_build_filename (d, "Inbox", NULL);
  write_file (tb, "From - Mon Jan  1 00:00:00 2024\nX-Mozilla-Status: 0003\nSubject: 1\n\none\n\n"
                  "From - Mon Jan  1 00:00:00 2024\nX-Mozilla-Status: 000c\nSubject: 2\n\ntwo\n");
  g_autoptr (MsgtkSource) t = msgtk_source_open (tb, MSGTK_SOURCE_FORMAT_AUTO, &e);
  g_assert_no_error (e);
  g_autoptr (GPtrArray) two = all_items (t);
  g_assert_cmpint (((MsgtkItem *)two->pdata[0])->flags, ==, MSGTK_FLAG_SEEN | MSGTK_FLAG_ANSWERED);
  g_assert_cmpint (((MsgtkItem *)two->pdata[1])->flags, ==,
                   MSGTK_FLAG_FLAGGED | MSGTK_FLAG_DELETED);
  rm_rf (d);
}

static void
test_missing (void)
{
  g_autoptr (GError) e = NULL;
  g_autoptr (MsgtkSource) s = msgtk_source_open ("/nonexistent/box", MSGTK_SOURCE_FORMAT_AUTO, &e);
  g_assert_null (s);
  g_assert_error (e, MSGTK_ERROR, MSGTK_ERROR_NO_INPUT);
  g_assert_nonnull (strstr (e->message, "/nonexistent/box"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/source/mbox", test_mbox);
  g_test_add_func ("/source/mbox-content-length", test_mbox_content_length);
  g_test_add_func ("/source/mbox-content-length-far", test_mbox_content_length_far);
  g_test_add_func ("/source/mbox-slices-stay", test_mbox_slices_stay);
  g_test_add_func ("/source/mbox-crlf-big", test_mbox_crlf_and_big);
  g_test_add_func ("/source/readers-agree", test_readers_agree);
  g_test_add_func ("/source/maildir", test_maildir);
  g_test_add_func ("/source/maildir-headers-only", test_maildir_headers_only);
  g_test_add_func ("/source/dir-and-file", test_dir_and_file);
  g_test_add_func ("/source/eml-flags-bom", test_eml_flags_and_bom);
  g_test_add_func ("/source/missing", test_missing);
  g_test_add_func ("/source/status-spelling", test_status_spelling);
  return g_test_run ();
}
