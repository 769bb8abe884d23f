/* msgtk — the one reader of raw header blocks. */
#include "header-private.h"

#include <gmime/gmime.h>
#include <string.h>

/* Is the line at @pos empty? 1 or 2 (the bytes of its "\n" or "\r\n"), 0
 * when it is not, -1 when @data ends before that can be told. */
static int
line_empty_at (const char *data, gsize len, gsize pos)
{
  if (pos >= len)
    return -1;
  if (data[pos] == '\n')
    return 1;
  if (data[pos] != '\r')
    return 0;
  if (pos + 1 >= len)
    return -1;
  return data[pos + 1] == '\n' ? 2 : 0;
}

gsize
header_block_end (const char *data, gsize len, gsize *scanned)
{
  gsize i = *scanned;
  if (i == 0) {
    /* a message that starts with the empty line has no header at all */
    int e = line_empty_at (data, len, 0);
    if (e > 0)
      return (gsize)e;
    if (e < 0)
      return 0;
  }
  for (;;) {
    const char *nl = i < len ? memchr (data + i, '\n', len - i) : NULL;
    if (nl == NULL) {
      *scanned = len;
      return 0;
    }
    gsize at = (gsize)(nl - data);
    int e = line_empty_at (data, len, at + 1);
    if (e > 0)
      return at + 1 + (gsize)e;
    if (e < 0) {
      *scanned = at; /* look at this newline again when more has come */
      return 0;
    }
    i = at + 1;
  }
}

gsize
header_block_length (const char *data, gsize len)
{
  gsize scanned = 0;
  gsize n = header_block_end (data, len, &scanned);
  return n > 0 ? n : len;
}

void
header_iter_init (HeaderIter *iter, const char *data, gsize len)
{
  iter->p = data;
  iter->end = len > 0 ? data + header_block_length (data, len) : data;
}

/* One past the newline of the line at @p (or @end). */
static const char *
line_end (const char *p, const char *end)
{
  const char *nl = memchr (p, '\n', (gsize)(end - p));
  return nl != NULL ? nl + 1 : end;
}

gboolean
header_iter_next (HeaderIter *iter, HeaderField *f)
{
  const char *p = iter->p, *end = iter->end;
  if (p >= end || *p == '\n' || (*p == '\r' && p + 1 < end && p[1] == '\n'))
    return FALSE; /* the blank line, or the end */
  memset (f, 0, sizeof *f);
  f->start = p;
  const char *next = line_end (p, end);
  if (*p != ' ' && *p != '\t') {
    const char *colon = memchr (p, ':', (gsize)(next - p));
    if (colon != NULL) {
      const char *ne = colon;
      while (ne > p && (ne[-1] == ' ' || ne[-1] == '\t'))
        ne--;
      gboolean ok = ne > p;
      for (const char *c = p; ok && c < ne; c++)
        ok = (guchar)*c > ' ' && (guchar)*c < 0x7f;
      if (ok) {
        f->name = p;
        f->name_len = (gsize)(ne - p);
        f->value = colon + 1;
      }
    }
  }
  while (next < end && (*next == ' ' || *next == '\t'))
    next = line_end (next, end);
  f->end = next;
  if (f->name != NULL) {
    const char *ve = next;
    if (ve > f->value && ve[-1] == '\n')
      ve--;
    if (ve > f->value && ve[-1] == '\r')
      ve--;
    f->value_len = (gsize)(ve - f->value);
  }
  iter->p = next;
  return TRUE;
}

gboolean
header_field_is (const HeaderField *f, const char *name)
{
  gsize n = strlen (name);
  return f->name != NULL && f->name_len == n && g_ascii_strncasecmp (f->name, name, n) == 0;
}

char *
header_field_unfold (const HeaderField *f)
{
  g_autofree char *raw = g_strndup (f->value, f->value_len);
  return g_mime_utils_header_unfold (raw);
}

char *
header_find (const char *data, gsize len, const char *name)
{
  HeaderIter it;
  HeaderField f;
  header_iter_init (&it, data, len);
  while (header_iter_next (&it, &f))
    if (header_field_is (&f, name))
      return header_field_unfold (&f);
  return NULL;
}

GByteArray *
header_cap_parameters (const char *data, gsize len, guint max, guint *most)
{
  *most = 0;
  if (len == 0)
    return NULL;
  /* a message with no more semicolons than that has no field with more
   * parameters: one quick count, and most messages are done */
  guint semicolons = 0;
  for (const char *p = data; p < data + len && semicolons <= max; p++) {
    p = memchr (p, ';', (gsize)(data + len - p));
    if (p == NULL)
      break;
    semicolons++;
  }
  if (semicolons <= max)
    return NULL;
  GByteArray *out = NULL;
  const char *end = data + len, *copied = data;
  for (const char *p = data; p < end;) {
    const char *nl = memchr (p, '\n', (gsize)(end - p));
    const char *next = nl != NULL ? nl + 1 : end;
    if ((*p == 'C' || *p == 'c')
        && (g_ascii_strncasecmp (p, "Content-Type", 12) == 0
            || g_ascii_strncasecmp (p, "Content-Disposition", 19) == 0)) {
      HeaderIter it;
      HeaderField f;
      header_iter_init (&it, p, (gsize)(end - p));
      if (header_iter_next (&it, &f) && f.name != NULL
          && (header_field_is (&f, "Content-Type")
              || header_field_is (&f, "Content-Disposition"))) {
        guint n = 0;
        const char *cut = NULL;
        for (const char *c = f.value; c < f.value + f.value_len; c++)
          if (*c == ';' && ++n == max + 1)
            cut = c;
        *most = MAX (*most, n);
        if (cut != NULL) {
          /* the field up to its max-th parameter, then its line end */
          if (out == NULL)
            out = g_byte_array_sized_new ((guint)len);
          g_byte_array_append (out, (const guint8 *)copied, (guint)(cut - copied));
          g_byte_array_append (out, (const guint8 *)"\n", 1);
          copied = f.end;
        }
        next = f.end;
      }
    }
    p = next;
  }
  if (out != NULL)
    g_byte_array_append (out, (const guint8 *)copied, (guint)(end - copied));
  return out;
}

GByteArray *
header_cap_fields (const char *data, gsize len, gsize max, gsize *longest)
{
  *longest = 0;
  GByteArray *out = NULL;
  const char *copied = data;
  HeaderIter it;
  HeaderField f;
  header_iter_init (&it, data, len);
  while (header_iter_next (&it, &f)) {
    gsize n = (gsize)(f.end - f.start);
    *longest = MAX (*longest, n);
    if (n <= max)
      continue;
    if (out == NULL)
      out = g_byte_array_sized_new ((guint)MIN (len, G_MAXUINT));
    g_byte_array_append (out, (const guint8 *)copied, (guint)(f.start + max - copied));
    if (f.start[max - 1] != '\n') /* a line end, not an empty line */
      g_byte_array_append (out, (const guint8 *)"\n", 1);
    copied = f.end;
  }
  if (out != NULL)
    g_byte_array_append (out, (const guint8 *)copied, (guint)(data + len - copied));
  return out;
}
