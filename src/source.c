/* msgtk — sources: .eml files, directories, mbox, maildir, stdin. */
#include <msgtk/error.h>
#include <msgtk/source.h>

#include <errno.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define READ_CHUNK (256 * 1024)

/* ---- a buffered line reader over a GInputStream ---- */

/* The reader's buffer. Messages read out of it are handed out as slices
 * that share it (msgtk_item_read_bytes() then copies nothing); a buffer with
 * slices out is never written where they are: it is left to them and the
 * unread bytes move to a fresh one. */
typedef struct {
  gint refs;
  guint8 data[];
} Chunk;

static Chunk *
chunk_new (gsize cap)
{
  Chunk *c = g_malloc (sizeof (Chunk) + cap);
  c->refs = 1;
  return c;
}

static void
chunk_unref (gpointer chunk)
{
  Chunk *c = chunk;
  if (g_atomic_int_dec_and_test (&c->refs))
    g_free (c);
}

typedef struct {
  GInputStream *in;
  Chunk *chunk;
  guint8 *buf; /* chunk->data */
  gsize cap, pos, len;
  gboolean eof;
  goffset offset; /* absolute offset of buf[pos] */
} Reader;

static void
reader_init (Reader *r, GInputStream *in)
{
  memset (r, 0, sizeof *r);
  r->in = g_object_ref (in);
  r->cap = READ_CHUNK * 2;
  r->chunk = chunk_new (r->cap);
  r->buf = r->chunk->data;
}

static void
reader_clear (Reader *r)
{
  g_clear_object (&r->in);
  g_clear_pointer (&r->chunk, chunk_unref);
  r->buf = NULL;
}

/* @n bytes at @data (in the reader's buffer) as bytes sharing the buffer. */
static GBytes *
reader_slice (Reader *r, const guint8 *data, gsize n)
{
  g_atomic_int_inc (&r->chunk->refs);
  return g_bytes_new_with_free_func (data, n, chunk_unref, r->chunk);
}

/* Make at least @want unread bytes available (fewer only at EOF). The
 * unread bytes stay unread (their offsets from r->pos do not change). */
static gboolean
reader_fill (Reader *r, gsize want, GError **error)
{
  while (r->len - r->pos < want && !r->eof) {
    if (r->cap - r->len < READ_CHUNK) {
      /* room for a read: move the unread bytes to the front, into a fresh
       * (or larger) buffer when slices are out or they do not fit */
      gsize unread = r->len - r->pos;
      gboolean fits = unread + READ_CHUNK <= r->cap;
      if (!fits || g_atomic_int_get (&r->chunk->refs) > 1) {
        /* grown for a big message, a fresh buffer is of the usual size again */
        gsize cap = fits ? MAX (READ_CHUNK * 2, unread + READ_CHUNK)
                         : MAX (r->cap * 2, unread + READ_CHUNK);
        Chunk *c = chunk_new (cap);
        memcpy (c->data, r->buf + r->pos, unread);
        chunk_unref (r->chunk);
        r->chunk = c;
        r->buf = c->data;
        r->cap = cap;
      } else
        memmove (r->buf, r->buf + r->pos, unread);
      r->len = unread;
      r->pos = 0;
    }
    gssize n = g_input_stream_read (r->in, r->buf + r->len, r->cap - r->len, NULL, error);
    if (n < 0)
      return FALSE;
    if (n == 0)
      r->eof = TRUE;
    r->len += (gsize)n;
  }
  return TRUE;
}

/* The line that starts @held bytes after r->pos (with its newline, if any)
 * in line and n, without consuming anything; n is 0 at EOF. The pointer is
 * valid until the next reader call. */
static gboolean
reader_peek_line (Reader *r, gsize held, const guint8 **line, gsize *n, GError **error)
{
  gsize scanned = 0;
  for (;;) {
    const guint8 *start = r->buf + r->pos + held;
    gsize avail = r->len - r->pos - held;
    const guint8 *nl = avail > scanned ? memchr (start + scanned, '\n', avail - scanned) : NULL;
    if (nl != NULL || r->eof) {
      *line = start;
      *n = nl != NULL ? (gsize)(nl - start) + 1 : avail;
      return TRUE;
    }
    scanned = avail;
    if (!reader_fill (r, held + avail + 1, error))
      return FALSE;
  }
}

/* The next line (with its newline, if any) in line and n; n is 0 at EOF. The
 * pointer is valid until the next reader call. */
static gboolean
reader_line (Reader *r, const guint8 **line, gsize *n, GError **error)
{
  if (!reader_peek_line (r, 0, line, n, error))
    return FALSE;
  r->pos += *n;
  r->offset += (goffset)*n;
  return TRUE;
}

/* Append up to @want bytes to @out; returns how many were appended. */
static gboolean
reader_take (Reader *r, GByteArray *out, gsize want, gsize *got, GError **error)
{
  *got = 0;
  while (*got < want) {
    if (r->len == r->pos && !reader_fill (r, 1, error))
      return FALSE;
    gsize avail = r->len - r->pos;
    if (avail == 0)
      break;
    gsize k = MIN (avail, want - *got);
    g_byte_array_append (out, r->buf + r->pos, (guint)k);
    r->pos += k;
    r->offset += (goffset)k;
    *got += k;
  }
  return TRUE;
}

/* ---- items ---- */

/* @a as bytes, its spare capacity (up to as much again as its length, from
 * growing) given back: messages wait in memory while others are parsed. */
static GBytes *
bytes_fitted (GByteArray *a)
{
  gsize len = a->len;
  guint8 *data = g_byte_array_free (a, FALSE);
  return g_bytes_new_take (len > 0 ? g_realloc (data, len) : data, len);
}

void
msgtk_item_free (MsgtkItem *item)
{
  if (item == NULL)
    return;
  g_clear_object (&item->stream);
  g_clear_pointer (&item->internal_date, g_date_time_unref);
  g_free (item->path);
  g_free (item->identity);
  g_free (item->folder);
  g_clear_pointer (&item->bytes, g_bytes_unref);
  g_free (item);
}

GBytes *
msgtk_item_read_bytes (MsgtkItem *item, GError **error)
{
  if (item->bytes != NULL)
    return g_bytes_ref (item->bytes);
  gsize cap = item->size > 0 ? (gsize)item->size : 4096;
  GByteArray *a = g_byte_array_sized_new ((guint)cap);
  guint8 chunk[65536];
  for (;;) {
    gssize n = g_input_stream_read (item->stream, chunk, sizeof chunk, NULL, error);
    if (n < 0) {
      g_prefix_error (error, "cannot read message %u of '%s': ", item->index, item->path);
      g_byte_array_unref (a);
      return NULL;
    }
    if (n == 0)
      break;
    g_byte_array_append (a, chunk, (guint)n);
  }
  return g_byte_array_free_to_bytes (a);
}

/* ---- the source ---- */

struct _MsgtkSource {
  MsgtkSourceFormat format;
  gboolean headers_only; /* items hold their header block only */
  char *path;            /* as given, "-" for stdin */
  char *abs_path;        /* absolute, for identities */
  guint index;
  /* mbox / stream */
  gboolean have_reader;
  Reader reader;
  GByteArray *pending_from; /* From_ line of the next message, NULL at end */
  goffset pending_offset;
  /* single message from a stream */
  gboolean single_file;
  gboolean done;
  /* directory and maildir: the entries, in order */
  GPtrArray *files;   /* full paths */
  GPtrArray *folders; /* maildir: folder of each entry (NULL = top) */
  guint next_file;
};

const char *
msgtk_source_format_name (MsgtkSourceFormat format)
{
  switch (format) {
  case MSGTK_SOURCE_FORMAT_MESSAGE: return "message";
  case MSGTK_SOURCE_FORMAT_DIR: return "dir";
  case MSGTK_SOURCE_FORMAT_MBOX: return "mbox";
  case MSGTK_SOURCE_FORMAT_MAILDIR: return "maildir";
  case MSGTK_SOURCE_FORMAT_AUTO:
  default: return "auto";
  }
}

MsgtkSourceFormat
msgtk_source_get_format (MsgtkSource *source)
{
  return source->format;
}

void
msgtk_source_set_headers_only (MsgtkSource *source, gboolean headers_only)
{
  source->headers_only = headers_only;
}

void
msgtk_source_free (MsgtkSource *source)
{
  if (source == NULL)
    return;
  if (source->have_reader)
    reader_clear (&source->reader);
  if (source->pending_from != NULL)
    g_byte_array_unref (source->pending_from);
  if (source->files != NULL)
    g_ptr_array_unref (source->files);
  if (source->folders != NULL)
    g_ptr_array_unref (source->folders);
  g_free (source->path);
  g_free (source->abs_path);
  g_free (source);
}

static gboolean
is_dir (const char *path)
{
  return g_file_test (path, G_FILE_TEST_IS_DIR);
}

static gboolean
is_maildir (const char *dir)
{
  g_autofree char *cur = g_build_filename (dir, "cur", NULL);
  g_autofree char *new = g_build_filename (dir, "new", NULL);
  return is_dir (cur) || is_dir (new);
}

static int
cmp_str (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *)a, *(const char *const *)b);
}

/* Sorted names in @dir, without hidden ones unless @hidden. */
static GPtrArray *
list_dir (const char *dir, gboolean hidden, GError **error)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, error);
  if (d == NULL)
    return NULL;
  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);
  const char *name;
  while ((name = g_dir_read_name (d)) != NULL)
    if (hidden || name[0] != '.')
      g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, cmp_str);
  return names;
}

/* "new/NAME" and "cur/NAME" by NAME */
static int
cmp_base (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *)a + 4, *(const char *const *)b + 4);
}

static gboolean
has_eml_suffix (const char *name)
{
  gsize n = strlen (name);
  return n > 4 && g_ascii_strcasecmp (name + n - 4, ".eml") == 0;
}

static gboolean
collect_eml (MsgtkSource *s, const char *dir, guint depth, GError **error)
{
  if (depth > 64)
    return TRUE; /* a symlink loop: stop descending */
  g_autoptr (GPtrArray) names = list_dir (dir, FALSE, error);
  if (names == NULL) {
    g_prefix_error (error, "cannot list directory '%s': ", dir);
    return FALSE;
  }
  for (guint i = 0; i < names->len; i++) {
    g_autofree char *p = g_build_filename (dir, names->pdata[i], NULL);
    if (is_dir (p)) {
      if (!collect_eml (s, p, depth + 1, error))
        return FALSE;
    } else if (has_eml_suffix (names->pdata[i]) && g_file_test (p, G_FILE_TEST_IS_REGULAR)) {
      g_ptr_array_add (s->files, g_steal_pointer (&p));
    }
  }
  return TRUE;
}

static void
collect_maildir_folder (MsgtkSource *s, const char *dir, const char *folder)
{
  g_autoptr (GPtrArray) all = g_ptr_array_new_with_free_func (g_free);
  static const char *const subs[] = { "new", "cur" };
  for (guint k = 0; k < G_N_ELEMENTS (subs); k++) {
    g_autofree char *sub = g_build_filename (dir, subs[k], NULL);
    g_autoptr (GPtrArray) names = list_dir (sub, FALSE, NULL);
    if (names == NULL)
      continue;
    for (guint i = 0; i < names->len; i++)
      g_ptr_array_add (all, g_build_filename (subs[k], names->pdata[i], NULL));
  }
  /* Order by file name without the new/ or cur/ prefix: names start with the
   * delivery time, so this is delivery order wherever the file lives now. */
  g_ptr_array_sort (all, cmp_base);
  GPtrArray *sorted = all;
  for (guint i = 0; i < sorted->len; i++) {
    g_ptr_array_add (s->files, g_build_filename (dir, sorted->pdata[i], NULL));
    g_ptr_array_add (s->folders, g_strdup (folder));
  }
}

static void
collect_maildir (MsgtkSource *s, const char *root)
{
  collect_maildir_folder (s, root, NULL);
  g_autoptr (GPtrArray) names = list_dir (root, TRUE, NULL);
  if (names == NULL)
    return;
  for (guint i = 0; i < names->len; i++) {
    const char *name = names->pdata[i];
    if (name[0] != '.' || strcmp (name, ".") == 0 || strcmp (name, "..") == 0 || name[1] == '\0')
      continue;
    g_autofree char *p = g_build_filename (root, name, NULL);
    if (is_dir (p) && is_maildir (p))
      collect_maildir_folder (s, p, name + 1);
  }
}

static MsgtkSource *
source_new (const char *path)
{
  MsgtkSource *s = g_new0 (MsgtkSource, 1);
  s->path = g_strdup (path);
  if (strcmp (path, "-") == 0 || g_path_is_absolute (path)) {
    s->abs_path = g_strdup (path);
  } else {
    g_autofree char *cwd = g_get_current_dir ();
    s->abs_path = g_build_filename (cwd, path, NULL);
  }
  return s;
}

/* Set up mbox reading on s->reader: the first line must be a From_ line. */
static gboolean
mbox_start (MsgtkSource *s, GError **error)
{
  const guint8 *line;
  gsize n;
  if (!reader_line (&s->reader, &line, &n, error))
    return FALSE;
  if (n < 5 || memcmp (line, "From ", 5) != 0) {
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_DATA,
                 "'%s' is not an mbox: it does not start with a \"From \" line", s->path);
    return FALSE;
  }
  s->pending_from = g_byte_array_new ();
  g_byte_array_append (s->pending_from, line, (guint)n);
  s->pending_offset = 0;
  return TRUE;
}

static gboolean
starts_with_from (GInputStream *in, Reader *r, GError **error)
{
  (void)in;
  if (!reader_fill (r, 5, error))
    return FALSE;
  return r->len - r->pos >= 5 && memcmp (r->buf + r->pos, "From ", 5) == 0;
}

MsgtkSource *
msgtk_source_new_for_stream (GInputStream *stream, const char *name, MsgtkSourceFormat format,
                             GError **error)
{
  g_autoptr (MsgtkSource) s = source_new (name);
  if (format == MSGTK_SOURCE_FORMAT_DIR || format == MSGTK_SOURCE_FORMAT_MAILDIR) {
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_USAGE,
                 "a stream ('%s') can only hold a message or an mbox, not a %s", name,
                 msgtk_source_format_name (format));
    return NULL;
  }
  reader_init (&s->reader, stream);
  s->have_reader = TRUE;
  GError *local = NULL;
  gboolean from = starts_with_from (stream, &s->reader, &local);
  if (local != NULL) {
    g_propagate_prefixed_error (error, local, "cannot read '%s': ", name);
    return NULL;
  }
  if (format == MSGTK_SOURCE_FORMAT_AUTO)
    format = from ? MSGTK_SOURCE_FORMAT_MBOX : MSGTK_SOURCE_FORMAT_MESSAGE;
  s->format = format;
  if (format == MSGTK_SOURCE_FORMAT_MBOX && !mbox_start (s, error))
    return NULL;
  return g_steal_pointer (&s);
}

MsgtkSource *
msgtk_source_open (const char *path, MsgtkSourceFormat format, GError **error)
{
  if (strcmp (path, "-") == 0) {
    g_autoptr (GFile) f = g_file_new_for_path ("/dev/stdin");
    g_autoptr (GFileInputStream) in = g_file_read (f, NULL, error);
    if (in == NULL) {
      g_prefix_error (error, "cannot read standard input: ");
      return NULL;
    }
    return msgtk_source_new_for_stream (G_INPUT_STREAM (in), "-", format, error);
  }
  GStatBuf st;
  if (g_stat (path, &st) != 0) {
    int e = errno;
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_NO_INPUT, "cannot open '%s': %s; check the path",
                 path, g_strerror (e));
    return NULL;
  }
  if (S_ISDIR (st.st_mode)) {
    g_autoptr (MsgtkSource) s = source_new (path);
    s->files = g_ptr_array_new_with_free_func (g_free);
    if (format == MSGTK_SOURCE_FORMAT_AUTO)
      format = is_maildir (path) ? MSGTK_SOURCE_FORMAT_MAILDIR : MSGTK_SOURCE_FORMAT_DIR;
    s->format = format;
    if (format == MSGTK_SOURCE_FORMAT_MAILDIR) {
      s->folders = g_ptr_array_new_with_free_func (g_free);
      collect_maildir (s, path);
    } else if (format == MSGTK_SOURCE_FORMAT_DIR) {
      GError *local = NULL;
      if (!collect_eml (s, path, 0, &local)) {
        g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_NO_INPUT, "%s", local->message);
        g_error_free (local);
        return NULL;
      }
    } else {
      g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_USAGE,
                   "'%s' is a directory, not a %s; give a file", path,
                   msgtk_source_format_name (format));
      return NULL;
    }
    return g_steal_pointer (&s);
  }
  g_autoptr (GFile) file = g_file_new_for_path (path);
  GError *local = NULL;
  g_autoptr (GFileInputStream) in = g_file_read (file, NULL, &local);
  if (in == NULL) {
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_NO_INPUT, "cannot open '%s': %s", path,
                 local->message);
    g_error_free (local);
    return NULL;
  }
  if (format == MSGTK_SOURCE_FORMAT_DIR || format == MSGTK_SOURCE_FORMAT_MAILDIR) {
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_USAGE, "'%s' is a file, not a %s", path,
                 msgtk_source_format_name (format));
    return NULL;
  }
  MsgtkSource *s = msgtk_source_new_for_stream (G_INPUT_STREAM (in), path, format, error);
  if (s != NULL && s->format == MSGTK_SOURCE_FORMAT_MESSAGE) {
    /* a plain file: hand out a fresh stream with its size */
    reader_clear (&s->reader);
    s->have_reader = FALSE;
    s->single_file = TRUE;
  }
  return s;
}

/* ---- mbox ---- */

static const char *const months[]
    = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

/* The date of a From_ line ("From sender Tue Nov 24 09:52:57 2026", an
 * optional zone before or after the year), read as UTC; NULL if none. */
static GDateTime *
parse_from_date (const guint8 *line, gsize n)
{
  g_autofree char *s = g_strndup ((const char *)line, n);
  g_strchomp (s);
  g_auto (GStrv) tok = g_strsplit_set (s, " \t", -1);
  guint nt = g_strv_length (tok);
  /* find "Mon DD HH:MM[:SS]" after the sender */
  for (guint i = 2; i + 2 < nt; i++) {
    int mon = -1;
    for (int m = 0; m < 12; m++)
      if (g_ascii_strcasecmp (tok[i], months[m]) == 0)
        mon = m + 1;
    if (mon < 0)
      continue;
    guint j = i + 1;
    while (j < nt && tok[j][0] == '\0')
      j++;
    if (j + 1 >= nt)
      return NULL;
    int day = atoi (tok[j]);
    int hh = 0, mm = 0, ss = 0;
    if (sscanf (tok[j + 1], "%d:%d:%d", &hh, &mm, &ss) < 2)
      return NULL;
    int year = -1;
    for (guint k = j + 2; k < nt && k < j + 5; k++)
      if (g_ascii_isdigit (tok[k][0]) && strlen (tok[k]) == 4)
        year = atoi (tok[k]);
    if (year < 1900 || day < 1 || day > 31)
      return NULL;
    return g_date_time_new_utc (year, mon, day, hh, mm, ss);
  }
  return NULL;
}

static gboolean
is_blank (const guint8 *line, gsize n)
{
  return (n == 1 && line[0] == '\n') || (n == 2 && line[0] == '\r' && line[1] == '\n');
}

static gboolean
is_from_line (const guint8 *line, gsize n)
{
  return n >= 5 && memcmp (line, "From ", 5) == 0;
}

/* ">From ", ">>From " …: a quoted From line (mboxrd; mboxo's ">From " too). */
static gboolean
is_quoted_from (const guint8 *line, gsize n)
{
  gsize i = 0;
  while (i < n && line[i] == '>')
    i++;
  return i > 0 && n - i >= 5 && memcmp (line + i, "From ", 5) == 0;
}

/* Value of header @name in @line, if it is that header. */
static char *
header_value (const guint8 *line, gsize n, const char *name)
{
  gsize k = strlen (name);
  if (n <= k || g_ascii_strncasecmp ((const char *)line, name, k) != 0 || line[k] != ':')
    return NULL;
  char *v = g_strndup ((const char *)line + k + 1, n - k - 1);
  return g_strstrip (v);
}

/* How many bytes at the end of a message of @size bytes, whose last
 * MIN (@size, 4) bytes are @tail, are the blank line that separates it from
 * the next From_ line (or the end): that line belongs to the mbox, not to
 * the message. */
static gsize
trailing_blank (const guint8 *tail, gsize size)
{
  gsize t = MIN (size, 4);
  const guint8 *e = tail + t; /* one past the last byte */
  if (size >= 4 && memcmp (e - 4, "\r\n\r\n", 4) == 0)
    return 2;
  if (size >= 2 && e[-1] == '\n' && e[-2] == '\n')
    return 1;
  if (size == 1 && e[-1] == '\n')
    return 1;
  if (size == 2 && e[-1] == '\n' && e[-2] == '\r')
    return 2;
  return 0;
}

/* The message being read out of an mbox: its bytes, or (headers-only) its
 * header block and the count of the body's bytes with the last four of
 * them. */
typedef struct {
  GByteArray *data;
  gboolean count_only;
  gsize counted;
  guint8 tail[4];
} MboxMessage;

static void
mbox_message_add (MboxMessage *m, const guint8 *data, gsize n)
{
  if (!m->count_only) {
    g_byte_array_append (m->data, data, (guint)n);
    return;
  }
  if (n >= 4)
    memcpy (m->tail, data + n - 4, 4);
  else if (n > 0) {
    memmove (m->tail, m->tail + n, 4 - n);
    memcpy (m->tail + 4 - n, data, n);
  }
  m->counted += n;
}

static gsize
mbox_message_size (MboxMessage *m)
{
  return m->data->len + m->counted;
}

/* Drop the blank line before the next From_ line (or the end). */
static void
mbox_message_strip (MboxMessage *m)
{
  GByteArray *d = m->data;
  if (!m->count_only || m->counted == 0) {
    gsize k = trailing_blank (d->data + d->len - MIN (d->len, 4), d->len);
    g_byte_array_set_size (d, (guint)(d->len - k));
    return;
  }
  /* the last four bytes of header block + body */
  guint8 tail[4];
  gsize body_bytes = MIN (m->counted, 4), head_bytes = MIN (d->len, 4 - body_bytes);
  memcpy (tail, d->data + d->len - head_bytes, head_bytes);
  memcpy (tail + head_bytes, m->tail + 4 - body_bytes, body_bytes);
  gsize k = trailing_blank (tail, mbox_message_size (m));
  gsize from_body = MIN (k, m->counted);
  m->counted -= from_body;
  g_byte_array_set_size (d, (guint)(d->len - (k - from_body)));
}

/* Is the next thing @at bytes after r->pos (after a Content-Length body) the
 * end, a From_ line or a blank line and then one of those? Consumes
 * nothing. */
static gboolean
mbox_boundary_follows (Reader *r, gsize at, GError **error)
{
  if (!reader_fill (r, at + 8192, error))
    return FALSE;
  const guint8 *p = r->buf + r->pos + at;
  gsize avail = r->len - r->pos - at;
  if (avail == 0)
    return TRUE;
  if (is_from_line (p, avail))
    return TRUE;
  gsize skip = 0;
  if (avail >= 1 && p[0] == '\n')
    skip = 1;
  else if (avail >= 2 && p[0] == '\r' && p[1] == '\n')
    skip = 2;
  if (skip == 0)
    return FALSE;
  return avail == skip || is_from_line (p + skip, avail - skip);
}

static void
add_quoted (GArray **quoted, gsize at)
{
  if (*quoted == NULL)
    *quoted = g_array_new (FALSE, FALSE, sizeof (gsize));
  g_array_append_val (*quoted, at);
}

/* Scan the body that starts *@held bytes after r->pos up to the next From_
 * line that follows a blank line (*@found_next) or the end. Only lines that
 * start with "From " or ">" need a closer look. With @count NULL nothing is
 * consumed: *@held grows over the body and the offsets (from r->pos) of the
 * '>' quoting ">From " lines go to @quoted. With @count the body is counted
 * into it, quoting undone, and consumed as it goes (nothing is kept). */
static gboolean
mbox_scan_body (Reader *r, gsize *held, GArray **quoted, MboxMessage *count, gboolean *found_next,
                GError **error)
{
  gboolean prev_blank = TRUE;
  for (;;) {
    const guint8 *start = r->buf + r->pos + *held, *end = r->buf + r->len;
    const guint8 *p = start, *span = start, *nl;
    while (p < end) {
      nl = memchr (p, '\n', (gsize)(end - p));
      if (nl == NULL) {
        if (!r->eof)
          break;      /* an incomplete line: read more first */
        nl = end - 1; /* the last line, without a newline */
      }
      gsize n = (gsize)(nl + 1 - p);
      if (*p == 'F' && prev_blank && is_from_line (p, n)) {
        *found_next = TRUE;
        break;
      }
      if (*p == '>' && is_quoted_from (p, n)) {
        if (count != NULL) {
          mbox_message_add (count, span, (gsize)(p - span));
          span = p + 1;
        } else
          add_quoted (quoted, (gsize)(p - (r->buf + r->pos)));
      }
      prev_blank = is_blank (p, n);
      p = nl + 1;
    }
    if (count != NULL) {
      mbox_message_add (count, span, (gsize)(p - span));
      r->pos += (gsize)(p - start);
      r->offset += (goffset)(p - start);
    } else
      *held += (gsize)(p - start);
    if (*found_next || (r->eof && r->pos + *held == r->len))
      return TRUE;
    /* keeps the unread bytes, held ones included, at r->pos */
    if (!reader_fill (r, r->len - r->pos + 1, error))
      return FALSE;
  }
}

/* The first @len bytes of the message held at r->pos, without the quoting
 * '>'s at @quoted: a slice of the reader's buffer (no copy) when there are
 * none. */
static GBytes *
held_bytes (Reader *r, GArray *quoted, gsize len)
{
  if (quoted == NULL || quoted->len == 0)
    return reader_slice (r, r->buf + r->pos, len);
  guint8 *out = g_malloc (MAX (len, 1));
  const guint8 *src = r->buf + r->pos;
  gsize o = 0, from = 0;
  for (guint i = 0; i < quoted->len && o < len; i++) {
    gsize q = g_array_index (quoted, gsize, i);
    gsize k = MIN (q - from, len - o);
    memcpy (out + o, src + from, k);
    o += k;
    from = q + 1;
  }
  memcpy (out + o, src + from, len - o);
  return g_bytes_new_take (out, len);
}

static void
consume (Reader *r, gsize n)
{
  r->pos += n;
  r->offset += (goffset)n;
}

static gboolean
take_pending_from (MsgtkSource *s, GError **error)
{
  const guint8 *line;
  gsize n;
  if (!reader_line (&s->reader, &line, &n, error))
    return FALSE;
  if (n > 0) {
    s->pending_from = g_byte_array_new ();
    g_byte_array_append (s->pending_from, line, (guint)n);
    s->pending_offset = s->reader.offset - (goffset)n;
  }
  return TRUE;
}

/* The next message. It is scanned where it lies in the reader's buffer and
 * handed out as a slice of it; only messages with ">From " quoting to undo
 * are copied. Headers-only: the header block is kept, the body counted. */
static MsgtkItem *
mbox_next (MsgtkSource *s, GError **error)
{
  if (s->pending_from == NULL)
    return NULL;
  Reader *r = &s->reader;
  g_autoptr (GByteArray) from = g_steal_pointer (&s->pending_from);
  goffset from_offset = s->pending_offset;
  g_autofree char *status = NULL, *x_status = NULL, *clen = NULL;
  g_autoptr (GArray) quoted = NULL;
  const guint8 *line;
  gsize n, held = 0;
  gboolean found_next = FALSE, at_end = FALSE;

  /* header block */
  for (;;) {
    if (!reader_peek_line (r, held, &line, &n, error))
      return NULL;
    if (n == 0) {
      at_end = TRUE;
      break;
    }
    if (held == 0 && is_from_line (line, n)) {
      found_next = TRUE; /* an empty message: the next From_ line came at once */
      break;
    }
    held += n;
    if (is_blank (line, n))
      break;
    char *v;
    if (status == NULL && (v = header_value (line, n, "Status")) != NULL)
      status = v;
    else if (x_status == NULL && (v = header_value (line, n, "X-Status")) != NULL)
      x_status = v;
    else if (clen == NULL && (v = header_value (line, n, "Content-Length")) != NULL)
      clen = v;
    if (is_quoted_from (line, n))
      add_quoted (&quoted, held - n);
  }
  gsize header_len = held, header_size = held - (quoted != NULL ? quoted->len : 0);

  /* a Content-Length that leads exactly to the next message is believed */
  gsize cl_body = 0;
  gboolean cl_done = FALSE;
  if (!found_next && !at_end && clen != NULL) {
    char *end = NULL;
    guint64 want = g_ascii_strtoull (clen, &end, 10);
    if (end != clen && *end == '\0' && want < G_MAXUINT32) {
      if (!reader_fill (r, held + (gsize)want, error))
        return NULL;
      GError *local = NULL;
      cl_done = r->len - r->pos - held >= want && mbox_boundary_follows (r, held + want, &local);
      if (local != NULL) {
        g_propagate_error (error, local);
        return NULL;
      }
      if (cl_done)
        cl_body = (gsize)want;
    }
  }

  GBytes *bytes;
  goffset size;
  if (found_next || at_end || cl_done) {
    /* the whole message is held: no separating blank line to drop */
    held += cl_body;
    size = (goffset)(held - (quoted != NULL ? quoted->len : 0));
    bytes = held_bytes (r, quoted, s->headers_only ? header_size : (gsize)size);
    consume (r, held);
    if (cl_done) { /* skip the separating blank line, take the next From_ line */
      if (!reader_peek_line (r, 0, &line, &n, error))
        return NULL;
      if (is_blank (line, n))
        consume (r, n);
      if (!take_pending_from (s, error))
        return NULL;
    }
  } else if (s->headers_only) {
    /* keep the header block, count the body as it goes by */
    GBytes *head = held_bytes (r, quoted, header_size);
    consume (r, header_len);
    MboxMessage m = { .data = g_bytes_unref_to_array (head), .count_only = TRUE };
    gsize none = 0;
    if (!mbox_scan_body (r, &none, NULL, &m, &found_next, error)) {
      g_byte_array_unref (m.data);
      return NULL;
    }
    mbox_message_strip (&m);
    size = (goffset)mbox_message_size (&m);
    bytes = bytes_fitted (m.data);
  } else {
    if (!mbox_scan_body (r, &held, &quoted, NULL, &found_next, error))
      return NULL;
    /* the blank line before the next From_ line (or the end) is the mbox's */
    gsize whole = held - (quoted != NULL ? quoted->len : 0);
    size = (goffset)(whole - trailing_blank (r->buf + r->pos + held - MIN (whole, 4), whole));
    bytes = held_bytes (r, quoted, (gsize)size);
    consume (r, held);
  }
  if (found_next && !take_pending_from (s, error)) {
    g_bytes_unref (bytes);
    return NULL;
  }

  MsgtkItem *item = g_new0 (MsgtkItem, 1);
  item->index = ++s->index;
  item->path = g_strdup (s->path);
  item->offset = from_offset;
  item->identity = g_strdup_printf ("mbox:%s@%" G_GINT64_FORMAT, s->abs_path, (gint64)from_offset);
  item->flags = msgtk_flags_from_mbox_status (status, x_status);
  item->internal_date = parse_from_date (from->data, from->len);
  item->size = size;
  item->bytes = bytes;
  item->stream = g_memory_input_stream_new_from_bytes (item->bytes);
  return item;
}

/* ---- files ---- */

/* The header block at the start of @in, through its blank line (all of it
 * when there is none). */
static GBytes *
read_header_block (GInputStream *in, GError **error)
{
  GByteArray *a = g_byte_array_new ();
  gsize scanned = 0;
  for (;;) {
    guint old = a->len;
    g_byte_array_set_size (a, old + 16384);
    gssize n = g_input_stream_read (in, a->data + old, 16384, NULL, error);
    if (n < 0) {
      g_byte_array_unref (a);
      return NULL;
    }
    g_byte_array_set_size (a, old + (guint)n);
    /* a blank line: one at the very start, or "\n\n" or "\n\r\n" */
    const guint8 *d = a->data;
    gsize end = 0;
    if (old == 0 && a->len > 0 && d[0] == '\n')
      end = 1;
    else if (old == 0 && a->len > 1 && d[0] == '\r' && d[1] == '\n')
      end = 2;
    for (gsize i = scanned; end == 0 && i < a->len; i++) {
      const guint8 *nl = memchr (d + i, '\n', a->len - i);
      if (nl == NULL)
        break;
      i = (gsize)(nl - d);
      if (i + 1 < a->len && d[i + 1] == '\n')
        end = i + 2;
      else if (i + 2 < a->len && d[i + 1] == '\r' && d[i + 2] == '\n')
        end = i + 3;
    }
    if (end > 0) {
      GBytes *block = g_bytes_new (a->data, end); /* not the 16 KiB reads */
      g_byte_array_unref (a);
      return block;
    }
    /* a blank line may straddle this read and the next */
    scanned = a->len > 2 ? a->len - 2 : 0;
    if (n == 0) {
      GBytes *block = g_bytes_new (a->data, a->len);
      g_byte_array_unref (a);
      return block;
    }
  }
}

static MsgtkItem *
file_item (MsgtkSource *s, const char *path, const char *folder, GError **error)
{
  g_autoptr (GFile) file = g_file_new_for_path (path);
  GError *local = NULL;
  g_autoptr (GFileInputStream) in = g_file_read (file, NULL, &local);
  GStatBuf st;
  if (in == NULL || g_stat (path, &st) != 0) {
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_NO_INPUT, "cannot read '%s': %s", path,
                 local != NULL ? local->message : g_strerror (errno));
    g_clear_error (&local);
    s->index++;
    return NULL;
  }
  MsgtkItem *item = g_new0 (MsgtkItem, 1);
  item->index = ++s->index;
  item->path = g_strdup (path);
  item->size = st.st_size;
  if (s->headers_only) {
    item->bytes = read_header_block (G_INPUT_STREAM (in), error);
    if (item->bytes == NULL) {
      g_prefix_error (error, "cannot read '%s': ", path);
      msgtk_item_free (item);
      return NULL;
    }
    item->stream = g_memory_input_stream_new_from_bytes (item->bytes);
  } else
    item->stream = G_INPUT_STREAM (g_steal_pointer (&in));
  item->folder = g_strdup (folder);
  if (s->format == MSGTK_SOURCE_FORMAT_MAILDIR) {
    g_autofree char *base = g_path_get_basename (path);
    char *info = strstr (base, ":2,");
    if (info == NULL)
      info = strstr (base, "!2,");
    if (info != NULL) {
      item->flags = msgtk_flags_from_maildir (info + 3);
      *info = '\0';
    }
    item->internal_date = g_date_time_new_from_unix_utc (st.st_mtime);
    item->identity = g_strdup_printf ("maildir:%s:%s/%s", s->abs_path, folder ? folder : "", base);
  } else if (g_path_is_absolute (path)) {
    item->identity = g_strdup_printf ("file:%s", path);
  } else {
    g_autofree char *cwd = g_get_current_dir ();
    g_autofree char *abs = g_build_filename (cwd, path, NULL);
    item->identity = g_strdup_printf ("file:%s", abs);
  }
  return item;
}

MsgtkItem *
msgtk_source_next (MsgtkSource *source, GError **error)
{
  switch (source->format) {
  case MSGTK_SOURCE_FORMAT_MBOX: return mbox_next (source, error);
  case MSGTK_SOURCE_FORMAT_MESSAGE:
    if (source->done)
      return NULL;
    source->done = TRUE;
    if (source->single_file) {
      MsgtkItem *item = file_item (source, source->path, NULL, error);
      return item;
    } else {
      /* a stream: take it whole (one message) */
      Reader *r = &source->reader;
      g_autoptr (GByteArray) msg = g_byte_array_new ();
      gsize got;
      if (!reader_take (r, msg, G_MAXSIZE, &got, error)) {
        g_prefix_error (error, "cannot read '%s': ", source->path);
        return NULL;
      }
      MsgtkItem *item = g_new0 (MsgtkItem, 1);
      item->index = ++source->index;
      item->path = g_strdup (source->path);
      item->identity = g_strdup_printf ("stream:%s", source->abs_path);
      item->size = msg->len;
      item->bytes = bytes_fitted (g_steal_pointer (&msg));
      item->stream = g_memory_input_stream_new_from_bytes (item->bytes);
      return item;
    }
  case MSGTK_SOURCE_FORMAT_DIR:
  case MSGTK_SOURCE_FORMAT_MAILDIR:
    if (source->next_file >= source->files->len)
      return NULL;
    {
      guint i = source->next_file++;
      return file_item (source, source->files->pdata[i],
                        source->folders != NULL ? source->folders->pdata[i] : NULL, error);
    }
  case MSGTK_SOURCE_FORMAT_AUTO:
  default: return NULL;
  }
}
