#include <errno.h>
#include <glib/gstdio.h>
#include <grp.h>
#include <lzma.h>
#include <msgtk/msgtk.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

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

/* The bytes an item holds (headers-only: fewer than its size). */
static char *
item_held (MsgtkItem *item)
{
  g_autoptr (GError) e = NULL;
  g_autoptr (GBytes) b = msgtk_item_read_bytes (item, &e);
  g_assert_no_error (e);
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

/* Every item of @s, and in @errors the errors it gave on the way (each
 * "CODE MESSAGE"). */
static GPtrArray *
items_and_errors (MsgtkSource *s, GPtrArray **errors)
{
  GPtrArray *a = g_ptr_array_new_with_free_func ((GDestroyNotify)msgtk_item_free);
  *errors = g_ptr_array_new_with_free_func (g_free);
  for (;;) {
    g_autoptr (GError) e = NULL;
    MsgtkItem *it = msgtk_source_next (s, &e);
    if (it != NULL) {
      g_assert_no_error (e);
      g_ptr_array_add (a, it);
      continue;
    }
    if (e == NULL)
      break;
    g_assert_true (e->domain == MSGTK_ERROR);
    g_ptr_array_add (*errors, g_strdup_printf ("%d %s", e->code, e->message));
  }
  return a;
}

/* The items and errors of the source at @path (read whole, or
 * headers-only). */
static GPtrArray *
read_tree (const char *path, gboolean headers_only, GPtrArray **errors)
{
  g_autoptr (GError) e = NULL;
  g_autoptr (MsgtkSource) s = msgtk_source_open (path, MSGTK_SOURCE_FORMAT_AUTO, &e);
  g_assert_no_error (e);
  msgtk_source_set_headers_only (s, headers_only);
  return items_and_errors (s, errors);
}

/* @errors are, in order, the messages given (NULL-terminated), each @root
 * then the text; those that name no code are MSGTK_ERROR_DATA ones ("66 "
 * in front: MSGTK_ERROR_NO_INPUT). */
static void
check_errors (GPtrArray *errors, const char *root, ...)
{
  va_list ap;
  va_start (ap, root);
  guint i = 0;
  for (const char *m; (m = va_arg (ap, const char *)) != NULL; i++) {
    int code = MSGTK_ERROR_DATA;
    if (g_str_has_prefix (m, "66 ")) {
      code = MSGTK_ERROR_NO_INPUT;
      m += 3;
    }
    g_autofree char *want = g_strdup_printf ("%d %s%s", code, root, m);
    g_assert_cmpuint (i, <, errors->len);
    g_assert_cmpstr (errors->pdata[i], ==, want);
  }
  va_end (ap);
  g_assert_cmpuint (errors->len, ==, i);
}

static void
mkdirs (const char *root, const char *sub)
{
  g_autofree char *p = g_build_filename (root, sub, NULL);
  g_assert_cmpint (g_mkdir_with_parents (p, 0755), ==, 0);
}

/* @data (@len bytes; -1: a string) written at @root/@sub. */
static void
put (const char *root, const char *sub, const char *data, gssize len)
{
  g_autofree char *p = g_build_filename (root, sub, NULL);
  g_autofree char *dir = g_path_get_dirname (p);
  g_mkdir_with_parents (dir, 0755);
  g_autoptr (GError) e = NULL;
  g_file_set_contents (p, data, len, &e);
  g_assert_no_error (e);
}

/* Files to make: a path under the root, and the text in it. */
typedef struct {
  const char *path, *text;
} File;

static void
put_all (const char *root, const File *files, guint n)
{
  for (guint i = 0; i < n; i++)
    put (root, files[i].path, files[i].text, -1);
}

#define PUT_FILES(root, ...)                                                                       \
  do {                                                                                             \
    const File files_[] = { __VA_ARGS__ };                                                         \
    put_all (root, files_, G_N_ELEMENTS (files_));                                                 \
  } while (0)

static MsgtkItem *
nth (GPtrArray *items, guint i)
{
  g_assert_cmpuint (i, <, items->len);
  return items->pdata[i];
}

/* What an item should be: its folder, its text (headers-only: its size,
 * and its header block held), its flags. */
typedef struct {
  const char *folder;
  const char *text;
  MsgtkFlags flags;
} Want;

/* The length of the header block of @text, its blank line included. */
static gsize
block_of (const char *text)
{
  for (const char *p = text; *p; p++)
    if ((p == text || p[-1] == '\n') && (p[0] == '\n' || (p[0] == '\r' && p[1] == '\n')))
      return (gsize)(p - text) + (p[0] == '\n' ? 1 : 2);
  return strlen (text);
}

/* @items are, in order, @n items numbered from 1 as @want says. */
static void
check_items (GPtrArray *items, const Want *want, guint n)
{
  g_assert_cmpuint (items->len, ==, n);
  for (guint i = 0; i < n; i++) {
    MsgtkItem *item = items->pdata[i];
    g_assert_cmpuint (item->index, ==, i + 1);
    g_assert_cmpstr (item->folder, ==, want[i].folder);
    g_assert_cmpint (item->flags, ==, want[i].flags);
    g_assert_cmpint (item->size, ==, (goffset)strlen (want[i].text));
    g_autofree char *held = item_held (item);
    if (strlen (held) != strlen (want[i].text)) /* headers-only */
      g_assert_cmpmem (held, strlen (held), want[i].text, block_of (want[i].text));
    else
      g_assert_cmpstr (held, ==, want[i].text);
  }
}

#define CHECK_ITEMS(items, ...)                                                                    \
  do {                                                                                             \
    const Want want_[] = { __VA_ARGS__ };                                                          \
    check_items (items, want_, G_N_ELEMENTS (want_));                                              \
  } while (0)

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

/* @data compressed by zlib in @format. */
static GBytes *
zlib_bytes (GZlibCompressorFormat format, const char *data, gsize len)
{
  g_autoptr (GError) e = NULL;
  g_autoptr (GZlibCompressor) c = g_zlib_compressor_new (format, 6);
  g_autoptr (GInputStream) plain = g_memory_input_stream_new_from_data (data, (gssize)len, NULL);
  g_autoptr (GInputStream) packed = g_converter_input_stream_new (plain, G_CONVERTER (c));
  g_autoptr (GOutputStream) out = g_memory_output_stream_new_resizable ();
  g_output_stream_splice (out, packed, G_OUTPUT_STREAM_SPLICE_CLOSE_TARGET, NULL, &e);
  g_assert_no_error (e);
  return g_memory_output_stream_steal_as_bytes (G_MEMORY_OUTPUT_STREAM (out));
}

/* @data as a stream that cannot seek (as a pipe): deflated, then read
 * through an inflating converter. */
static GInputStream *
unseekable_stream (const char *data, gsize len)
{
  g_autoptr (GBytes) packed = zlib_bytes (G_ZLIB_COMPRESSOR_FORMAT_RAW, data, len);
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
  /* Dovecot's keywords: the letters a-z of a file's info */
  g_autofree char *kwfile = g_build_filename (d, "dovecot-keywords", NULL);
  write_file (kwfile, "0 $Label1\n1 work\n3 to do\n");
  g_autofree char *m1 = g_build_filename (d, "cur", "100.a.host:2,FRSbad", NULL);
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
  g_assert_cmpuint (g_strv_length (i1->keywords), ==, 3);
  g_assert_cmpstr (i1->keywords[0], ==, "work");
  g_assert_cmpstr (i1->keywords[1], ==, "$Label1");
  g_assert_cmpstr (i1->keywords[2], ==, "to_do");
  g_assert_null (i3->keywords); /* another folder: its own dovecot-keywords */
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
  g_autoptr (GPtrArray) errors = NULL;
  g_autoptr (GPtrArray) items = items_and_errors (s, &errors);
  g_assert_cmpuint (items->len, ==, 2);
  g_assert_cmpstr (((MsgtkItem *)items->pdata[0])->path, ==, a);
  g_assert_null (((MsgtkItem *)items->pdata[0])->folder);
  g_assert_cmpstr (((MsgtkItem *)items->pdata[1])->path, ==, b);
  g_assert_cmpstr (((MsgtkItem *)items->pdata[1])->folder, ==, "sub"); /* the tree's folders */
  /* a file that is no message is named, and the rest still read */
  check_errors (errors, d, "/notes.txt: text, not a message", NULL);

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

/* ---- layouts ---- */

#define MSG(subject) "From: a@example.org\nSubject: " subject "\n\n" subject " body\n"
#define FROM_LINE "From a@example.org Mon Jan  1 10:00:00 2024\n"

/* mutt's and pine's ~/Mail: a directory of mbox files, each a folder named
 * after the file (a hierarchy in directories), whatever the names. */
static void
test_dir_of_mboxes (void)
{
  g_autofree char *d = tmpdir ();
  PUT_FILES (d, { "inbox", FROM_LINE MSG ("one") "\n" FROM_LINE "Status: RO\n" MSG ("two") },
             { "sent", FROM_LINE MSG ("three") }, { "saved.mbox", FROM_LINE MSG ("four") },
             { "lists/gtk-devel", FROM_LINE MSG ("five") },
             /* hidden: a program's own */
             { ".mutt_cache/x", "not read" });
  for (int headers_only = 0; headers_only <= 1; headers_only++) {
    g_autoptr (GPtrArray) errors = NULL;
    g_autoptr (GPtrArray) a = read_tree (d, headers_only, &errors);
    check_errors (errors, d, NULL);
    CHECK_ITEMS (a, { "inbox", MSG ("one") },
                 { "inbox", "Status: RO\n" MSG ("two"), MSGTK_FLAG_SEEN },
                 { "saved", MSG ("four") }, /* ".mbox" is not in the name */
                 { "sent", MSG ("three") }, { "lists/gtk-devel", MSG ("five") });
    g_assert_cmpstr (nth (a, 1)->envelope_sender, ==, "a@example.org");
    g_assert_true (g_str_has_prefix (nth (a, 1)->identity, "mbox:"));
  }
  rm_rf (d);
}

/* Thunderbird's Local Folders: mbox files, subfolders in NAME.sbd, the
 * .msf indexes and the account's own files passed over, an empty folder
 * (a file of 0 bytes beside its .msf) is no problem; X-Mozilla-Status
 * says the flags. */
static void
test_thunderbird (void)
{
  g_autofree char *d = tmpdir ();
  const char *mork = "// <!-- <mdb:mork:z v=\"1.4\"/> -->\n";
  PUT_FILES (
      d, { "Inbox", FROM_LINE MSG ("in") "\n" FROM_LINE "X-Mozilla-Status: 0005\n" MSG ("in2") },
      { "Inbox.msf", mork }, { "Trash", "" }, { "Trash.msf", mork },
      { "Archives", FROM_LINE "X-Mozilla-Status: 0009\n" MSG ("archived") },
      { "Archives.msf", mork }, { "Archives.sbd/2024", FROM_LINE MSG ("old") },
      { "Archives.sbd/2024.msf", mork }, { "Archives.sbd/2024.sbd/Q1", FROM_LINE MSG ("older") },
      { "msgFilterRules.dat", "version=\"9\"\nlogging=\"no\"\n" },
      { "popstate.dat", "# POP3 State File\n" });
  g_autoptr (GPtrArray) errors = NULL;
  g_autoptr (GPtrArray) a = read_tree (d, FALSE, &errors);
  check_errors (errors, d, NULL);
  /* 0x1 read, 0x4 marked, 0x8 expunged (not compacted away yet) */
  CHECK_ITEMS (
      a,
      { "Archives", "X-Mozilla-Status: 0009\n" MSG ("archived"),
        MSGTK_FLAG_SEEN | MSGTK_FLAG_DELETED },
      { "Inbox", MSG ("in") },
      { "Inbox", "X-Mozilla-Status: 0005\n" MSG ("in2"), MSGTK_FLAG_SEEN | MSGTK_FLAG_FLAGGED },
      { "Archives/2024", MSG ("old") }, { "Archives/2024/Q1", MSG ("older") });
  rm_rf (d);
}

static char *
emlx (const char *message, guint64 flags, gboolean with_date)
{
  return g_strdup_printf (
      "%zu\n%s<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<plist version=\"1.0\">\n<dict>\n%s"
      "\t<key>flags</key>\n\t<integer>%" G_GUINT64_FORMAT "</integer>\n"
      "</dict>\n</plist>\n",
      strlen (message), message,
      with_date ? "\t<key>date-received</key>\n\t<integer>1700000000</integer>\n" : "", flags);
}

#define PARTIAL "Subject: partial\r\nFrom: b@example.org\r\n\r\nsee part 2\r\n"

/* Apple Mail: NAME.mbox bundles holding an mbox file, or .emlx files in
 * Messages/ (deep in Data/ in newer versions); the message between the
 * byte count and the property list, flags and date from that. */
static void
test_apple_mail (void)
{
  g_autofree char *d = tmpdir ();
  put (d, "INBOX.mbox/mbox", FROM_LINE MSG ("bundled"), -1);
  put (d, "INBOX.mbox/Info.plist", "<?xml version=\"1.0\"?>\n<plist/>\n", -1);
  put (d, "INBOX.mbox/table_of_contents", "\x01\x02\x03", 3);
  /* read (1), answered (4), flagged (16), and an attachment count */
  g_autofree char *e1 = emlx (MSG ("emlx one"), 1 | 4 | 16 | (2 << 10), TRUE);
  g_autofree char *e2 = emlx (PARTIAL, 0, FALSE);
  g_autofree char *e3 = emlx (MSG ("deep"), 2 | 64, FALSE); /* deleted, draft */
  PUT_FILES (d, { "Sent Messages.mbox/Messages/10.emlx", e1 },
             { "Sent Messages.mbox/Messages/11.partial.emlx", e2 },
             { "Sent Messages.mbox/Messages/11.2.emlxpart", "%PDF-1.4\n" },
             { "Work.mbox/Projects.mbox/0D5B-44C1/Data/3/Messages/3.emlx", e3 },
             { "Work.mbox/Projects.mbox/0D5B-44C1/Data/3/Attachments/3/2/a.pdf", "%PDF\n" });
  for (int headers_only = 0; headers_only <= 1; headers_only++) {
    g_autoptr (GPtrArray) errors = NULL;
    g_autoptr (GPtrArray) a = read_tree (d, headers_only, &errors);
    check_errors (errors, d, NULL);
    CHECK_ITEMS (a, { "INBOX", MSG ("bundled") },
                 { "Sent Messages", MSG ("emlx one"),
                   MSGTK_FLAG_SEEN | MSGTK_FLAG_ANSWERED | MSGTK_FLAG_FLAGGED },
                 { "Sent Messages", PARTIAL },
                 { "Work/Projects", MSG ("deep"), MSGTK_FLAG_DELETED | MSGTK_FLAG_DRAFT });
    g_assert_nonnull (nth (a, 1)->internal_date);
    g_assert_cmpint (g_date_time_to_unix (nth (a, 1)->internal_date), ==, 1700000000);
  }
  /* a bundle given alone: its messages at the top; an .emlx file alone */
  g_autofree char *bundle = g_build_filename (d, "Sent Messages.mbox", NULL);
  g_autoptr (GPtrArray) errors = NULL;
  g_autoptr (GPtrArray) b = read_tree (bundle, FALSE, &errors);
  check_errors (errors, bundle, NULL);
  CHECK_ITEMS (
      b, { NULL, MSG ("emlx one"), MSGTK_FLAG_SEEN | MSGTK_FLAG_ANSWERED | MSGTK_FLAG_FLAGGED },
      { NULL, PARTIAL });
  g_autofree char *one = g_build_filename (bundle, "Messages", "10.emlx", NULL);
  g_autoptr (GPtrArray) c = items_at (one, FALSE);
  CHECK_ITEMS (
      c, { NULL, MSG ("emlx one"), MSGTK_FLAG_SEEN | MSGTK_FLAG_ANSWERED | MSGTK_FLAG_FLAGGED });
  /* an .emlx whose count says more than it holds */
  put (d, "Cut.mbox/Messages/1.emlx", "9999\nSubject: cut\n\nshort\n", -1);
  g_autofree char *cut = g_build_filename (d, "Cut.mbox", NULL);
  g_autoptr (GPtrArray) errors2 = NULL;
  g_autoptr (GPtrArray) none = read_tree (cut, FALSE, &errors2);
  g_assert_cmpuint (none->len, ==, 0);
  check_errors (errors2, cut,
                "/Messages/1.emlx: Apple Mail message cut short: its first line says 9999 bytes, "
                "the file holds 20 after it",
                NULL);
  rm_rf (d);
}

/* MH: messages in files named by numbers, in numeric order; with
 * .mh_sequences, those of the unseen sequence unread and the others read
 * (as nmh shows them); ",N" a message rmm removed. */
static void
test_mh (void)
{
  g_autofree char *d = tmpdir ();
  PUT_FILES (d, { "inbox/1", MSG ("1") }, { "inbox/2", MSG ("2") }, { "inbox/10", MSG ("10") },
             { "inbox/3", "Status: RO\n" MSG ("3") }, { "inbox/,4", MSG ("4") },
             { "inbox/.mh_sequences", "cur: 10\nunseen: 2-3\n 11\n" },
             /* nested, no sequences: no flags; an empty MH folder */
             { "inbox/lists/1", MSG ("lists 1") }, { "drafts/.mh_sequences", "cur: 1\n" });
  g_autoptr (GPtrArray) errors = NULL;
  g_autoptr (GPtrArray) a = read_tree (d, FALSE, &errors);
  check_errors (errors, d, NULL);
  CHECK_ITEMS (a, { "inbox", MSG ("1"), MSGTK_FLAG_SEEN }, { "inbox", MSG ("2") },
               { "inbox", "Status: RO\n" MSG ("3") }, { "inbox", MSG ("10"), MSGTK_FLAG_SEEN },
               { "inbox", MSG ("4"), MSGTK_FLAG_DELETED }, { "inbox/lists", MSG ("lists 1") });
  rm_rf (d);
}

/* A maildir's cur/ or new/ given alone: its messages, flags from their
 * names; maildirs in a tree (mbsync's Verbatim layout, KMail's
 * .NAME.directory) are folders of it, with their maildir++ folders. */
static void
test_maildir_parts (void)
{
  g_autofree char *d = tmpdir ();
  PUT_FILES (d, { "Maildir/cur/1700000001.a.host:2,RS", MSG ("cur") },
             { "Maildir/cur/1700000003.c.host:2,", MSG ("cur 2") },
             { "Maildir/new/1700000002.b.host", MSG ("new") });
  mkdirs (d, "Maildir/tmp");
  g_autofree char *cur = g_build_filename (d, "Maildir", "cur", NULL);
  g_autoptr (GError) e = NULL;
  g_autoptr (MsgtkSource) s = msgtk_source_open (cur, MSGTK_SOURCE_FORMAT_AUTO, &e);
  g_assert_no_error (e);
  g_assert_cmpint (msgtk_source_get_format (s), ==, MSGTK_SOURCE_FORMAT_MAILDIR);
  g_autoptr (GPtrArray) errors = NULL;
  g_autoptr (GPtrArray) a = items_and_errors (s, &errors);
  check_errors (errors, d, NULL);
  CHECK_ITEMS (a, { NULL, MSG ("cur"), MSGTK_FLAG_SEEN | MSGTK_FLAG_ANSWERED },
               { NULL, MSG ("cur 2") });
  g_assert_nonnull (nth (a, 0)->internal_date);
  g_autofree char *new = g_build_filename (d, "Maildir", "new", NULL);
  g_autoptr (GPtrArray) b = items_at (new, FALSE);
  CHECK_ITEMS (b, { NULL, MSG ("new") });

  /* maildirs as folders of a tree */
  PUT_FILES (d, { "Mail/Inbox/cur/1.x.h:2,S", MSG ("inbox") },
             { "Mail/Inbox/dovecot-uidlist", "3 V1 N2\n" },
             { "Mail/Inbox/.Sub/cur/2.x.h:2,F", MSG ("inbox sub") },
             { "Mail/Archive/2023/new/3.x.h", MSG ("archive 2023") },
             { "Mail/kmail/cur/4.x.h", MSG ("kmail") },
             { "Mail/.kmail.directory/child/cur/5.x.h", MSG ("kmail child") });
  g_autofree char *mail = g_build_filename (d, "Mail", NULL);
  g_autoptr (GPtrArray) errors2 = NULL;
  g_autoptr (GPtrArray) c = read_tree (mail, FALSE, &errors2);
  check_errors (errors2, mail, NULL);
  CHECK_ITEMS (c, { "kmail/child", MSG ("kmail child") }, { "Archive/2023", MSG ("archive 2023") },
               { "Inbox", MSG ("inbox"), MSGTK_FLAG_SEEN },
               { "Inbox/Sub", MSG ("inbox sub"), MSGTK_FLAG_FLAGGED }, { "kmail", MSG ("kmail") });
  rm_rf (d);
}

#define RECEIVED "Received: from x\nFrom: a@example.org\nSubject: s\n\nbody\n"

/* Messages under any name, told by their content; the .eml trees' folders. */
static void
test_any_names (void)
{
  g_autofree char *d = tmpdir ();
  put (d, "saved message", RECEIVED, -1);
  put (d, "x.eml", MSG ("eml"), -1);
  put (d, "photo.jpg", "\xff\xd8\xff\xe0\0\x10JFIF\0", 11);
  put (d, "notes.md", "title: a note\nauthor: me\n\ntext\n", -1); /* fields, but no message's */
  put (d, "empty", "", 0);
  put (d, "work/2024/a", MSG ("deep"), -1);
  g_autoptr (GPtrArray) errors = NULL;
  g_autoptr (GPtrArray) a = read_tree (d, FALSE, &errors);
  CHECK_ITEMS (a, { NULL, RECEIVED }, { NULL, MSG ("eml") }, { "work/2024", MSG ("deep") });
  /* each file that is no message, once its directory was read */
  check_errors (errors, d, "/empty: empty file, no message", "/notes.md: text, not a message",
                "/photo.jpg: binary data, not a message", NULL);
  rm_rf (d);
}

static GBytes *
xz_bytes (const char *data, gsize len)
{
  gsize cap = lzma_stream_buffer_bound (len), pos = 0;
  guint8 *out = g_malloc (cap);
  g_assert_cmpint (lzma_easy_buffer_encode (6, LZMA_CHECK_CRC64, NULL, (const guint8 *)data, len,
                                            out, &pos, cap),
                   ==, LZMA_OK);
  return g_bytes_new_take (out, pos);
}

static GBytes *
zstd_bytes (const char *data, gsize len)
{
  gsize cap = ZSTD_compressBound (len);
  guint8 *out = g_malloc (cap);
  gsize n = ZSTD_compress (out, cap, data, len, 3);
  g_assert_false (ZSTD_isError (n));
  return g_bytes_new_take (out, n);
}

static void
put_bytes (const char *root, const char *sub, GBytes *b, gsize len)
{
  put (root, sub, g_bytes_get_data (b, NULL), (gssize)MIN (len, g_bytes_get_size (b)));
}

/* gzip, xz and zstd compressed mbox files and messages, told by their
 * magic bytes, read as they are decompressed (a big mbox through many
 * buffers), their folders named without the compression's suffix; data
 * cut short is said to be, after what could be read. */
static void
test_compressed (void)
{
  g_autofree char *d = tmpdir ();
  GString *big = g_string_new (NULL);
  for (int i = 0; i < 3000; i++)
    g_string_append_printf (big, FROM_LINE "Subject: m%d\n\n%d %s\n\n", i, i,
                            "0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuv");
  const char *box = FROM_LINE MSG ("gz one") "\n" FROM_LINE MSG ("gz two");
  g_autoptr (GBytes) gz = zlib_bytes (G_ZLIB_COMPRESSOR_FORMAT_GZIP, box, strlen (box));
  g_autoptr (GBytes) xz = xz_bytes (big->str, big->len);
  g_autoptr (GBytes) zst = zstd_bytes (big->str, big->len);
  g_autoptr (GBytes) eml = zstd_bytes (MSG ("zstd eml"), strlen (MSG ("zstd eml")));
  g_autoptr (GBytes) junk = zlib_bytes (G_ZLIB_COMPRESSOR_FORMAT_GZIP, "just some text\n", 15);
  put_bytes (d, "tree/inbox.gz", gz, G_MAXSIZE);
  put_bytes (d, "tree/lists/big.mbox.xz", xz, G_MAXSIZE);
  put_bytes (d, "tree/lists/big2.zst", zst, G_MAXSIZE);
  put_bytes (d, "tree/msg.eml.zst", eml, G_MAXSIZE);
  put_bytes (d, "tree/x.gz", junk, G_MAXSIZE);
  g_autofree char *tree = g_build_filename (d, "tree", NULL);
  for (int headers_only = 0; headers_only <= 1; headers_only++) {
    g_autoptr (GPtrArray) errors = NULL;
    g_autoptr (GPtrArray) a = read_tree (tree, headers_only, &errors);
    check_errors (errors, tree, "/x.gz: gzip data holding no message", NULL);
    g_assert_cmpuint (a->len, ==, 3 + 2 * 3000);
    g_autoptr (GPtrArray) head = g_ptr_array_new ();
    for (guint i = 0; i < 3; i++)
      g_ptr_array_add (head, a->pdata[i]);
    CHECK_ITEMS (head, { "inbox", MSG ("gz one") }, { "inbox", MSG ("gz two") },
                 { NULL, MSG ("zstd eml") });
    g_assert_cmpstr (nth (a, 3)->folder, ==, "lists/big");
    g_assert_cmpstr (nth (a, 3 + 3000)->folder, ==, "lists/big2");
    g_autofree char *last = item_held (nth (a, a->len - 1));
    g_assert_true (g_str_has_prefix (last, "Subject: m2999\n\n"));
    g_assert_true (headers_only || g_str_has_prefix (last, "Subject: m2999\n\n2999 0123"));
  }
  /* given alone: an mbox, a message; a stream too */
  g_autofree char *gzpath = g_build_filename (tree, "inbox.gz", NULL);
  g_autoptr (GError) e = NULL;
  g_autoptr (MsgtkSource) s = msgtk_source_open (gzpath, MSGTK_SOURCE_FORMAT_AUTO, &e);
  g_assert_no_error (e);
  g_assert_cmpint (msgtk_source_get_format (s), ==, MSGTK_SOURCE_FORMAT_MBOX);
  g_autoptr (GPtrArray) b = all_items (s);
  CHECK_ITEMS (b, { NULL, MSG ("gz one") }, { NULL, MSG ("gz two") });
  g_autofree char *emlpath = g_build_filename (tree, "msg.eml.zst", NULL);
  g_autoptr (MsgtkSource) m = msgtk_source_open (emlpath, MSGTK_SOURCE_FORMAT_AUTO, &e);
  g_assert_no_error (e);
  g_assert_cmpint (msgtk_source_get_format (m), ==, MSGTK_SOURCE_FORMAT_MESSAGE);
  g_autoptr (GPtrArray) c = all_items (m);
  CHECK_ITEMS (c, { NULL, MSG ("zstd eml") });
  /* gzip members one after the other (cat a.gz b.gz): one mbox, as zcat reads it */
  const char *more = "\n" FROM_LINE MSG ("gz three");
  g_autoptr (GBytes) second = zlib_bytes (G_ZLIB_COMPRESSOR_FORMAT_GZIP, more, strlen (more));
  GByteArray *cat = g_byte_array_new ();
  g_byte_array_append (cat, g_bytes_get_data (gz, NULL), (guint)g_bytes_get_size (gz));
  g_byte_array_append (cat, g_bytes_get_data (second, NULL), (guint)g_bytes_get_size (second));
  g_autoptr (GBytes) members = g_byte_array_free_to_bytes (cat);
  g_autoptr (GInputStream) both = g_memory_input_stream_new_from_bytes (members);
  g_autoptr (MsgtkSource) mm
      = msgtk_source_new_for_stream (both, "-", MSGTK_SOURCE_FORMAT_AUTO, &e);
  g_assert_no_error (e);
  g_autoptr (GPtrArray) three = all_items (mm);
  CHECK_ITEMS (three, { NULL, MSG ("gz one") }, { NULL, MSG ("gz two") },
               { NULL, MSG ("gz three") });
  g_autoptr (GInputStream) in = g_memory_input_stream_new_from_bytes (xz);
  g_autoptr (MsgtkSource) st = msgtk_source_new_for_stream (in, "-", MSGTK_SOURCE_FORMAT_AUTO, &e);
  g_assert_no_error (e);
  g_autoptr (GPtrArray) x = all_items (st);
  g_assert_cmpuint (x->len, ==, 3000);
  /* cut short: what could be read, then the error, then the rest of the
   * tree */
  static const char *const names[] = { "0.gz", "1.xz", "2.zst" }, *const kinds[]
                                                                  = { "gzip", "xz", "zstd" };
  GBytes *packed[] = { gz, xz, zst };
  for (guint k = 0; k < 3; k++) {
    g_autofree char *name = g_strdup_printf ("bad/%s", names[k]);
    gsize n = g_bytes_get_size (packed[k]);
    put_bytes (d, name, packed[k], k == 0 ? n - 12 : n / 2);
  }
  put (d, "bad/z", MSG ("after"), -1);
  g_autofree char *bad = g_build_filename (d, "bad", NULL);
  g_autoptr (GPtrArray) errors = NULL;
  g_autoptr (GPtrArray) y = read_tree (bad, FALSE, &errors);
  g_assert_cmpuint (errors->len, ==, 3);
  for (guint k = 0; k < 3; k++) {
    g_autofree char *want = g_strdup_printf ("%d %s/%s: %s data that cannot be read: cut short",
                                             MSGTK_ERROR_DATA, bad, names[k], kinds[k]);
    g_assert_cmpstr (errors->pdata[k], ==, want);
  }
  g_assert_cmpuint (y->len, >=, 1);
  g_assert_cmpstr (nth (y, y->len - 1)->path + strlen (bad), ==, "/z");
  g_string_free (big, TRUE);
  rm_rf (d);
}

/* Never silent: what holds no message or cannot be read is named with what
 * was found there, and the rest of the tree is still read. */
static void
test_named_not_mail (void)
{
  g_autofree char *d = tmpdir ();
  put (d, "Mail/inbox", FROM_LINE MSG ("kept"), -1);
  mkdirs (d, "Mail/empty");
  put (d, "Mail/junk/a.jpg", "\xff\xd8\xff", 3);
  put (d, "Mail/junk/b.txt", "hello\n", -1);
  put (d, "Mail/junk/c", "", 0);
  put (d, "Mail/only-dotfiles/.DS_Store", "\0\0\0\1Bud1", 9);
  put (d, "Mail/tb/Trash.msf", "", 0); /* only an index: quiet */
  g_autofree char *mail = g_build_filename (d, "Mail", NULL);
  g_autofree char *link = g_build_filename (mail, "link", NULL);
  g_assert_cmpint (symlink ("nowhere/x", link), ==, 0);
  g_autofree char *loop = g_build_filename (mail, "junk", "back", NULL);
  g_assert_cmpint (symlink ("..", loop), ==, 0);
  g_autofree char *fifo = g_build_filename (mail, "fifo", NULL);
  g_assert_cmpint (mkfifo (fifo, 0600), ==, 0);
  g_autoptr (GPtrArray) errors = NULL;
  g_autoptr (GPtrArray) a = read_tree (mail, FALSE, &errors);
  CHECK_ITEMS (a, { "inbox", MSG ("kept") });
  g_autofree char *again
      = g_strdup_printf ("/junk/back: the directory %s again (a link): read once", mail);
  check_errors (errors, mail, "/fifo: a named pipe, not a file: not read",
                "66 /link: dangling symbolic link (to nowhere/x)",
                "/empty: directory of 0 files, no message",
                "/junk: directory of 3 files, none a message", again,
                "/only-dotfiles: directory of 0 files, no message", NULL);
  /* given alone: a directory, a maildir that hold nothing at all */
  static const char *const nothing[] = { "empty", "only-dotfiles", "tb" };
  const char *what[] = { ": directory of 0 files, no message", ": directory of 0 files, no message",
                         ": directory holding no message" };
  for (guint i = 0; i < G_N_ELEMENTS (nothing); i++) {
    g_autofree char *p = g_build_filename (mail, nothing[i], NULL);
    g_autoptr (GPtrArray) errs = NULL;
    g_autoptr (GPtrArray) none = read_tree (p, FALSE, &errs);
    g_assert_cmpuint (none->len, ==, 0);
    check_errors (errs, p, what[i], NULL);
  }
  mkdirs (d, "Maildir/cur");
  mkdirs (d, "Maildir/.Trash/cur");
  g_autofree char *md = g_build_filename (d, "Maildir", NULL);
  g_autoptr (GPtrArray) errs = NULL;
  g_autoptr (GPtrArray) none = read_tree (md, FALSE, &errs);
  g_assert_cmpuint (none->len, ==, 0);
  check_errors (errs, md, ": maildir holding no message", NULL);
  rm_rf (d);
}

/* Unreadable files and directories are named (permission denied) and the
 * rest of the tree is read. Root may read anything: the reading runs in a
 * child process that gives up root first. */
static void
test_unreadable (void)
{
  if (g_test_subprocess ()) {
    const char *mail = g_getenv ("MSGTK_TEST_TREE");
    if (geteuid () == 0
        && (setgroups (0, NULL) != 0 || setgid (65534) != 0 || setuid (65534) != 0)) {
      g_test_skip ("cannot give up root");
      return;
    }
    g_autoptr (GPtrArray) errors = NULL;
    g_autoptr (GPtrArray) a = read_tree (mail, FALSE, &errors);
    g_assert_cmpuint (a->len, ==, 2);
    g_assert_cmpstr (nth (a, 0)->folder, ==, "inbox");
    /* the unreadable file keeps its place among the messages */
    g_assert_cmpuint (nth (a, 1)->index, ==, 3);
    g_assert_cmpstr (nth (a, 1)->folder, ==, "open");
    g_assert_cmpuint (errors->len, ==, 2);
    g_autofree char *secret = g_strdup_printf ("%d cannot read '%s/secret': %s",
                                               MSGTK_ERROR_NO_INPUT, mail, g_strerror (EACCES));
    g_autofree char *locked = g_strdup_printf ("%d %s/locked: cannot read the directory: %s",
                                               MSGTK_ERROR_NO_INPUT, mail, g_strerror (EACCES));
    g_assert_cmpstr (errors->pdata[0], ==, secret);
    g_assert_cmpstr (errors->pdata[1], ==, locked);
    return;
  }
  g_autofree char *d = tmpdir ();
  g_chmod (d, 0755);
  PUT_FILES (d, { "Mail/inbox", FROM_LINE MSG ("in") }, { "Mail/secret", FROM_LINE MSG ("secret") },
             { "Mail/locked/x", FROM_LINE MSG ("locked") }, { "Mail/open/1", MSG ("open") });
  g_autofree char *mail = g_build_filename (d, "Mail", NULL);
  g_autofree char *secret = g_build_filename (mail, "secret", NULL);
  g_autofree char *locked = g_build_filename (mail, "locked", NULL);
  g_chmod (secret, 0);
  g_chmod (locked, 0);
  g_setenv ("MSGTK_TEST_TREE", mail, TRUE);
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_chmod (locked, 0755);
  g_test_trap_assert_passed ();
  rm_rf (d);
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
  g_test_add_func ("/source/dir-of-mboxes", test_dir_of_mboxes);
  g_test_add_func ("/source/thunderbird", test_thunderbird);
  g_test_add_func ("/source/apple-mail", test_apple_mail);
  g_test_add_func ("/source/mh", test_mh);
  g_test_add_func ("/source/maildir-parts", test_maildir_parts);
  g_test_add_func ("/source/any-names", test_any_names);
  g_test_add_func ("/source/compressed", test_compressed);
  g_test_add_func ("/source/named-not-mail", test_named_not_mail);
  g_test_add_func ("/source/unreadable", test_unreadable);
  return g_test_run ();
}
