/* Unit tests of the one header-block reader (src/header.c): what a field is
 * (as GMime's parser sees it), where the block ends, whole and in pieces. */
#include "header-private.h"

#include <gmime/gmime.h>
#include <string.h>

typedef struct {
  const char *name; /* NULL: a nameless line */
  const char *value;
} Want;

static void
check_fields (const char *block, const Want *want, guint n)
{
  HeaderIter it;
  HeaderField f;
  header_iter_init (&it, block, strlen (block));
  guint i = 0;
  const char *at = block;
  while (header_iter_next (&it, &f)) {
    g_assert_cmpuint (i, <, n);
    g_assert_true (f.start == at); /* fields follow each other, nothing skipped */
    at = f.end;
    if (want[i].name == NULL) {
      g_assert_null (f.name);
    } else {
      g_autofree char *name = g_strndup (f.name, f.name_len);
      g_assert_cmpstr (name, ==, want[i].name);
      g_autofree char *v = header_field_unfold (&f);
      g_assert_cmpstr (v, ==, want[i].value);
    }
    i++;
  }
  g_assert_cmpuint (i, ==, n);
}

static void
test_fields (void)
{
  const Want a[] = {
    { "From", "a@b.c" }, { "Status", "RO" }, { NULL, NULL }, { "X-A", "v  cont" }, { "To", "x" }
  };
  check_fields ("From : a@b.c\nStatus :RO\nSub ject: x\nX-A:\tv\n  cont\nTo: x\n\nbody\n", a,
                G_N_ELEMENTS (a));
  const Want b[] = { { NULL, NULL }, { "From", "a@b.c" } };
  check_fields (" lead: x\nFrom: a@b.c\n\nb\n", b, G_N_ELEMENTS (b));
  const Want c[] = { { "From", "a" }, { NULL, NULL }, { "To", "b" } };
  check_fields ("From:a\r\nnocolon line\r\nTo: b\r\n\r\nTo: not a field\r\n", c, G_N_ELEMENTS (c));
  const Want d[] = { { "Subject", "" }, { "X", "last, no newline" } };
  check_fields ("Subject:\nX: last, no newline", d, G_N_ELEMENTS (d));
  check_fields ("\nFrom: body\n", NULL, 0);
  check_fields ("\r\nFrom: body\n", NULL, 0);
  check_fields ("", NULL, 0);
}

/* The names the iterator gives are the ones GMime's parser gives. */
static void
test_like_gmime (void)
{
  const char *block = "From : a@b.c\nStatus : RO\nSub ject: x\nX-A:\tv\n  cont\nX-Y\t: z\n\n";
  g_mime_init ();
  GMimeStream *ms = g_mime_stream_mem_new_with_buffer (block, strlen (block));
  GMimeParser *parser = g_mime_parser_new_with_stream (ms);
  GMimeMessage *msg = g_mime_parser_construct_message (parser, NULL);
  GMimeHeaderList *hl = g_mime_object_get_header_list (GMIME_OBJECT (msg));
  HeaderIter it;
  HeaderField f;
  header_iter_init (&it, block, strlen (block));
  int k = 0;
  while (header_iter_next (&it, &f)) {
    if (f.name == NULL)
      continue;
    GMimeHeader *h = g_mime_header_list_get_header_at (hl, k++);
    g_assert_true (header_field_is (&f, g_mime_header_get_name (h)));
    g_autofree char *v = header_field_unfold (&f);
    g_assert_cmpstr (v, ==, g_mime_header_get_value (h));
  }
  g_assert_cmpint (k, ==, g_mime_header_list_get_count (hl));
  g_object_unref (msg);
  g_object_unref (parser);
  g_object_unref (ms);
}

static void
test_block_end (void)
{
  static const struct {
    const char *data;
    gsize length; /* 0: the whole */
  } cases[] = {
    { "A: 1\n\nbody", 6 },
    { "A: 1\r\n\r\nbody", 8 },
    { "A: 1\n\r\nbody", 7 },
    { "\nbody", 1 },
    { "\r\nbody", 2 },
    { "A: 1\nB: 2\n", 0 },
    { "A: 1\n \n\nb", 8 },
    { "A: 1\n\r", 0 },
    { "", 0 },
    { "A: 1\r\nB:\r\n\r\n", 12 },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    const char *d = cases[i].data;
    gsize len = strlen (d), want = cases[i].length ? cases[i].length : len;
    g_assert_cmpuint (header_block_length (d, len), ==, want);
    /* in pieces: the end is found once the blank line has come, never before */
    for (gsize cut = 0; cut <= len; cut++) {
      gsize scanned = 0;
      gsize first = header_block_end (d, cut, &scanned);
      gsize second = header_block_end (d, len, &scanned);
      if (first != 0)
        g_assert_cmpuint (first, ==, cases[i].length);
      else
        g_assert_cmpuint (second, ==, cases[i].length);
    }
  }
}

static void
test_find (void)
{
  const char *m = "Message-ID:\n <a@b>\nDate: x\nmessage-id: <second@b>\n\nMessage-ID: <body@b>\n";
  g_autofree char *id = header_find (m, strlen (m), "Message-Id");
  g_assert_cmpstr (id, ==, "<a@b>");
  g_autofree char *none = header_find (m, strlen (m), "Subject");
  g_assert_null (none);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/header/fields", test_fields);
  g_test_add_func ("/header/like-gmime", test_like_gmime);
  g_test_add_func ("/header/block-end", test_block_end);
  g_test_add_func ("/header/find", test_find);
  return g_test_run ();
}
