/* msgtk — sources: .eml files, directories, mbox, maildir, stdin. */
#include <msgtk/error.h>
#include <msgtk/source.h>

#include "date-private.h"
#include "header-private.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define READ_CHUNK (256 * 1024)

/* ---- a buffered line reader with push-back over a GInputStream ---- */

typedef struct {
  GInputStream *in;
  guint8 *buf;
  gsize cap, pos, len;
  gboolean eof;
  goffset offset; /* absolute offset of buf[pos] */
  gsize keep;     /* bytes from here on are kept even when read; G_MAXSIZE: none */
  GBytes *shared; /* owns buf once slices of it were handed out: the bytes
                   * read so far are then never moved or written again */
} Reader;

static void
reader_init (Reader *r, GInputStream *in)
{
  memset (r, 0, sizeof *r);
  r->in = g_object_ref (in);
  r->cap = READ_CHUNK * 2;
  r->buf = g_malloc (r->cap);
  r->keep = G_MAXSIZE;
}

static void
reader_clear (Reader *r)
{
  g_clear_object (&r->in);
  if (r->shared != NULL)
    g_clear_pointer (&r->shared, g_bytes_unref);
  else
    g_free (r->buf);
  r->buf = NULL;
}

/* Bytes [@from, len) of the buffer moved to the start of a buffer with room
 * for @room more: the same one, or a new one when the old is shared. */
static void
reader_compact (Reader *r, gsize from, gsize room)
{
  gsize n = r->len - from;
  if (r->shared != NULL) {
    gsize cap = MAX (READ_CHUNK * 2, n + room);
    guint8 *fresh = g_malloc (cap);
    memcpy (fresh, r->buf + from, n);
    g_clear_pointer (&r->shared, g_bytes_unref); /* the slices keep it */
    r->buf = fresh;
    r->cap = cap;
  } else {
    if (from > 0)
      memmove (r->buf, r->buf + from, n);
    if (r->cap - n < room) {
      r->cap = MAX (r->cap * 2, n + room);
      r->buf = g_realloc (r->buf, r->cap);
    }
  }
  r->len = n;
  r->pos -= from;
  if (r->keep != G_MAXSIZE)
    r->keep = r->keep > from ? r->keep - from : 0;
}

/* @n bytes at @at of the buffer as bytes that stay valid (no copy). */
static GBytes *
reader_slice (Reader *r, gsize at, gsize n)
{
  if (r->shared == NULL)
    r->shared = g_bytes_new_take (r->buf, r->cap);
  return g_bytes_new_from_bytes (r->shared, at, n);
}

/* Make at least @want unread bytes available (fewer only at EOF). */
static gboolean
reader_fill (Reader *r, gsize want, GError **error)
{
  while (r->len - r->pos < want && !r->eof) {
    gsize from = MIN (r->keep, r->pos);
    if (from > 0 || r->cap - r->len < READ_CHUNK)
      reader_compact (r, from, READ_CHUNK);
    gssize n = g_input_stream_read (r->in, r->buf + r->len, r->cap - r->len, NULL, error);
    if (n < 0)
      return FALSE;
    if (n == 0)
      r->eof = TRUE;
    r->len += (gsize)n;
  }
  return TRUE;
}

/* The next line (with its newline, if any) in line and n; n is 0 at EOF. The
 * pointer is valid until the next reader call. */
static gboolean
reader_line (Reader *r, const guint8 **line, gsize *n, GError **error)
{
  gsize scanned = 0;
  for (;;) {
    const guint8 *start = r->buf + r->pos;
    gsize avail = r->len - r->pos;
    const guint8 *nl = avail > scanned ? memchr (start + scanned, '\n', avail - scanned) : NULL;
    if (nl != NULL || r->eof) {
      *line = start;
      *n = nl != NULL ? (gsize)(nl - start) + 1 : avail;
      r->pos += *n;
      r->offset += (goffset)*n;
      return TRUE;
    }
    scanned = avail;
    if (!reader_fill (r, avail + 1, error))
      return FALSE;
  }
}

/* Put @n bytes back in front of the unread data. */
static void
reader_unread (Reader *r, const guint8 *data, gsize n)
{
  if (r->shared != NULL)
    reader_compact (r, r->pos, n); /* the data is not written where slices are */
  if (n <= r->pos) {
    r->pos -= n;
    memmove (r->buf + r->pos, data, n);
  } else {
    gsize unread = r->len - r->pos;
    if (r->cap < unread + n) {
      r->cap = unread + n + READ_CHUNK;
      r->buf = g_realloc (r->buf, r->cap);
    }
    memmove (r->buf + n, r->buf + r->pos, unread);
    memcpy (r->buf, data, n);
    r->pos = 0;
    r->len = unread + n;
  }
  r->offset -= (goffset)n;
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
  g_free (item->envelope_sender);
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
  if (!reader_fill (r, 8, error))
    return FALSE;
  /* an mbox saved with a UTF-8 byte order mark: skip the mark */
  if (r->len - r->pos >= 8
      && memcmp (r->buf + r->pos,
                 "\xEF\xBB\xBF"
                 "From ",
                 8)
             == 0) {
    r->pos += 3;
    r->offset += 3;
  }
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
    int mon = date_month_from_name (tok[i], strlen (tok[i]));
    if (mon == 0)
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

/* The address of a From_ line ("From sender date"); NULL when it has none. */
static char *
from_line_sender (const guint8 *line, gsize n)
{
  gsize i = 5, start;
  while (i < n && line[i] == ' ')
    i++;
  start = i;
  while (i < n && line[i] > ' ' && line[i] != 0x7f)
    i++;
  return i > start ? g_strndup ((const char *)line + start, i - start) : NULL;
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

/* What an mbox needs of a header block: the flags its Status and X-Status
 * fields say, and its Content-Length. */
static MsgtkFlags
header_block_info (const guint8 *data, gsize len, char **content_length)
{
  g_autofree char *status = NULL, *x_status = NULL;
  HeaderIter it;
  HeaderField f;
  header_iter_init (&it, (const char *)data, len);
  while (header_iter_next (&it, &f)) {
    if (status == NULL && header_field_is (&f, "Status"))
      status = header_field_unfold (&f);
    else if (x_status == NULL && header_field_is (&f, "X-Status"))
      x_status = header_field_unfold (&f);
    else if (content_length != NULL && *content_length == NULL
             && header_field_is (&f, "Content-Length"))
      *content_length = header_field_unfold (&f);
  }
  return msgtk_flags_from_mbox_status (status, x_status);
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
  gboolean may_slice; /* the message starts at the reader's keep mark */
  GBytes *slice;      /* set instead of @data: the message where it lies in the buffer */
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

/* Is @p (the @avail bytes after a Content-Length body, up to 8192 of them)
 * the end, a From_ line, or a blank line and then one of those? */
static gboolean
boundary_at (const guint8 *p, gsize avail)
{
  if (avail == 0)
    return TRUE;
  if (is_from_line (p, avail))
    return TRUE;
  gsize skip = 0;
  if (p[0] == '\n')
    skip = 1;
  else if (avail >= 2 && p[0] == '\r' && p[1] == '\n')
    skip = 2;
  if (skip == 0)
    return FALSE;
  return avail == skip || is_from_line (p + skip, avail - skip);
}

/* A Content-Length the reader checks by reading up to it; beyond this, on a
 * stream that cannot seek, the field is not trusted (it would be held in
 * memory only to find out). */
#define MAX_UNSEEKABLE_LENGTH (64 * 1024 * 1024)

typedef enum { AHEAD_NO, AHEAD_YES, AHEAD_UNKNOWN } Ahead;

/* Does a boundary (boundary_at()) come @distance bytes into the unread data?
 * Within reach of the buffer it is read; further on, a stream that can seek
 * is looked at there and put back, so that a body need not be read to check
 * its length. AHEAD_UNKNOWN: the stream cannot seek. */
static Ahead
reader_boundary_ahead (Reader *r, gsize distance, GError **error)
{
  gsize buffered = r->len - r->pos;
  if (distance <= buffered + READ_CHUNK || !G_IS_SEEKABLE (r->in)
      || !g_seekable_can_seek (G_SEEKABLE (r->in))) {
    if (distance > buffered + READ_CHUNK)
      return AHEAD_UNKNOWN;
    if (!reader_fill (r, distance + 8192, error))
      return AHEAD_NO;
    if (r->len - r->pos < distance)
      return AHEAD_NO; /* the data ends before that */
    return boundary_at (r->buf + r->pos + distance, MIN (r->len - r->pos - distance, (gsize)8192))
               ? AHEAD_YES
               : AHEAD_NO;
  }
  GSeekable *sk = G_SEEKABLE (r->in);
  goffset here = g_seekable_tell (sk); /* the end of the buffered data */
  goffset target = here - (goffset)buffered + (goffset)distance;
  guint8 peek[8192];
  gsize got = 0;
  Ahead verdict = AHEAD_NO;
  if (g_seekable_seek (sk, 0, G_SEEK_END, NULL, error)) {
    if (target <= g_seekable_tell (sk) && g_seekable_seek (sk, target, G_SEEK_SET, NULL, error)
        && g_input_stream_read_all (r->in, peek, sizeof peek, &got, NULL, error))
      verdict = boundary_at (peek, got) ? AHEAD_YES : AHEAD_NO;
    if (!g_seekable_seek (sk, here, G_SEEK_SET, NULL, error && *error ? NULL : error))
      verdict = AHEAD_NO;
  }
  return verdict;
}

/* Pass over @n unread bytes (there are that many: reader_boundary_ahead()
 * said so), seeking past those not buffered. */
static gboolean
reader_skip (Reader *r, gsize n, GError **error)
{
  gsize buffered = r->len - r->pos;
  if (n > buffered) {
    if (!g_seekable_seek (G_SEEKABLE (r->in), (goffset)(n - buffered), G_SEEK_CUR, NULL, error))
      return FALSE;
    if (r->shared != NULL) { /* slices of it are out: read on in a new one */
      g_clear_pointer (&r->shared, g_bytes_unref);
      r->cap = READ_CHUNK * 2;
      r->buf = g_malloc (r->cap);
    }
    r->pos = r->len = 0;
    r->eof = FALSE;
  } else
    r->pos += n;
  r->offset += (goffset)n;
  return TRUE;
}

typedef guint8 Bytes16 __attribute__ ((vector_size (16)));

/* The first newline in [@p, @end - 1) followed by 'F' or '>' (the line after
 * it may be a From_ line or a quoted one), or NULL: 16 bytes at a time with
 * vector compares (GCC/clang vector extensions). */
static const guint8 *
next_from_candidate (const guint8 *p, const guint8 *end)
{
  for (; end - p >= 17; p += 16) {
    Bytes16 x, y;
    memcpy (&x, p, 16);
    memcpy (&y, p + 1, 16);
    Bytes16 hit = (Bytes16)((x == '\n') & ((y == 'F') | (y == '>')));
    guint64 half[2];
    memcpy (half, &hit, sizeof half);
    if ((half[0] | half[1]) != 0)
      for (int k = 0; k < 16; k++)
        if (hit[k])
          return p + k;
  }
  for (; end - p >= 2; p++)
    if (*p == '\n' && (p[1] == 'F' || p[1] == '>'))
      return p;
  return NULL;
}

/* The body up to the next From_ line that follows a blank line (taken as the
 * pending From_ line) or the end, ">From " quoting undone, the separating
 * blank line dropped. Only lines that start with "From " or ">" need a
 * closer look. The body stays in the reader's buffer until its end is
 * found, then is copied once into the message, at its final size. */
static gboolean
mbox_body (MsgtkSource *s, MboxMessage *msg, GError **error)
{
  Reader *r = &s->reader;
  gboolean prev_blank = TRUE, found_next = FALSE;
  gsize held = 0;                   /* bytes of the body scanned, at r->pos (copying) */
  g_autoptr (GArray) quoted = NULL; /* their offsets of a quoting '>' to drop */
  for (;;) {
    const guint8 *start = r->buf + r->pos + held, *end = r->buf + r->len;
    const guint8 *p = start, *span = start, *nl;
    while (p < end) {
      if (*p != 'F' && *p != '>') {
        /* pass over the lines that can be neither a From_ line nor a
         * quoted one, up to the next that may be (or the last whole one) */
        nl = next_from_candidate (p, end);
        if (nl == NULL)
          nl = memrchr (p, '\n', (gsize)(end - p));
        if (nl != NULL) {
          prev_blank = nl == p || (nl[-1] == '\n' && nl - 1 >= p)
                       || (nl[-1] == '\r' && (nl - 1 == p || (nl - 2 >= p && nl[-2] == '\n')));
          p = nl + 1;
          continue;
        }
      }
      nl = memchr (p, '\n', (gsize)(end - p));
      if (nl == NULL) {
        if (!r->eof)
          break;      /* an incomplete line: read more first */
        nl = end - 1; /* the last line, without a newline */
      }
      gsize n = (gsize)(nl + 1 - p);
      if (*p == 'F' && prev_blank && is_from_line (p, n)) {
        found_next = TRUE;
        break;
      }
      if (*p == '>' && is_quoted_from (p, n)) {
        if (msg->count_only) {
          mbox_message_add (msg, span, (gsize)(p - span));
          span = p + 1;
        } else {
          if (quoted == NULL)
            quoted = g_array_new (FALSE, FALSE, sizeof (gsize));
          gsize at = (gsize)(p - (r->buf + r->pos));
          g_array_append_val (quoted, at);
        }
      }
      prev_blank = is_blank (p, n);
      p = nl + 1;
    }
    if (msg->count_only) { /* nothing kept: consume as we go */
      mbox_message_add (msg, span, (gsize)(p - span));
      r->pos += (gsize)(p - start);
      r->offset += (goffset)(p - start);
    } else
      held += (gsize)(p - start);
    if (found_next || (r->eof && r->pos + held == r->len))
      break;
    /* keeps the unread bytes, held ones included, at r->pos */
    if (!reader_fill (r, r->len - r->pos + 1, error))
      return FALSE;
  }
  gsize start = r->keep;
  if (held > 0 && msg->may_slice && quoted == NULL && start <= r->pos
      && r->pos - start == msg->data->len) {
    /* nothing unquoted, the header block as read: the message is the bytes
     * in the buffer, header block and body, taken as they are */
    gsize len = r->pos + held - start;
    gsize k = trailing_blank (r->buf + start + len - MIN (len, 4), len);
    msg->slice = reader_slice (r, start, len - k);
    r->pos += held;
    r->offset += (goffset)held;
    held = 0;
  }
  if (held > 0) {
    guint nquoted = quoted != NULL ? quoted->len : 0;
    gsize at = msg->data->len, from = 0;
    g_byte_array_set_size (msg->data, (guint)(at + held - nquoted));
    guint8 *dst = msg->data->data + at;
    const guint8 *src = r->buf + r->pos;
    for (guint i = 0; i < nquoted; i++) {
      gsize q = g_array_index (quoted, gsize, i);
      memcpy (dst, src + from, q - from);
      dst += q - from;
      from = q + 1;
    }
    memcpy (dst, src + from, held - from);
    r->pos += held;
    r->offset += (goffset)held;
  }
  if (found_next) {
    const guint8 *line;
    gsize n;
    if (!reader_line (r, &line, &n, error))
      return FALSE;
    s->pending_from = g_byte_array_new ();
    g_byte_array_append (s->pending_from, line, (guint)n);
    s->pending_offset = r->offset - (goffset)n;
  }
  if (msg->slice == NULL)
    mbox_message_strip (msg);
  return TRUE;
}

static MsgtkItem *
mbox_next (MsgtkSource *s, GError **error)
{
  if (s->pending_from == NULL)
    return NULL;
  Reader *r = &s->reader;
  g_autoptr (GByteArray) from = g_steal_pointer (&s->pending_from);
  goffset from_offset = s->pending_offset;
  g_autoptr (GByteArray) msg = g_byte_array_new ();
  g_autofree char *clen = NULL;
  const guint8 *line;
  gsize n;
  gboolean found_next = FALSE;
  /* a whole message stays in the buffer from its start, to be taken
   * without a copy (mbox_body()) */
  r->keep = s->headers_only ? G_MAXSIZE : r->pos;

  /* header block */
  for (;;) {
    if (!reader_line (r, &line, &n, error))
      return NULL;
    if (n == 0)
      break;
    if (is_blank (line, n)) {
      g_byte_array_append (msg, line, (guint)n);
      break;
    }
    if (msg->len == 0 && is_from_line (line, n)) {
      /* an empty message: the next From_ line came at once */
      found_next = TRUE;
      s->pending_from = g_byte_array_new ();
      g_byte_array_append (s->pending_from, line, (guint)n);
      s->pending_offset = r->offset - (goffset)n;
      break;
    }
    if (is_quoted_from (line, n))
      g_byte_array_append (msg, line + 1, (guint)n - 1);
    else
      g_byte_array_append (msg, line, (guint)n);
  }

  MsgtkFlags flags = header_block_info (msg->data, msg->len, &clen);
  gboolean body_done = found_next || n == 0;
  gsize body_size = 0; /* headers-only: the body's bytes (not in @msg) */
  if (clen != NULL)
    r->keep = G_MAXSIZE; /* its body is copied (and its checks read ahead): nothing to keep */
  if (!body_done && clen != NULL) {
    char *end = NULL;
    guint64 want = g_ascii_strtoull (clen, &end, 10);
    GError *local = NULL;
    Ahead ahead = end != clen && *end == '\0' && want < G_MAXUINT32
                      ? reader_boundary_ahead (r, (gsize)want, &local)
                      : AHEAD_NO;
    if (local != NULL) {
      g_propagate_error (error, local);
      return NULL;
    }
    if (ahead == AHEAD_UNKNOWN && want <= MAX_UNSEEKABLE_LENGTH) {
      /* read it, then look */
      gsize before = msg->len, got = 0;
      if (!reader_take (r, msg, (gsize)want, &got, error))
        return NULL;
      ahead = got == want ? reader_boundary_ahead (r, 0, &local) : AHEAD_NO;
      if (local != NULL) {
        g_propagate_error (error, local);
        return NULL;
      }
      reader_unread (r, msg->data + before, msg->len - before);
      g_byte_array_set_size (msg, (guint)before);
    }
    /* otherwise Content-Length lied (or cannot be checked): the body is
     * read by From_ lines instead */
    if (ahead == AHEAD_YES) {
      body_done = TRUE;
      if (s->headers_only) {
        body_size = (gsize)want;
        if (!reader_skip (r, (gsize)want, error))
          return NULL;
      } else {
        gsize got = 0;
        if (!reader_take (r, msg, (gsize)want, &got, error))
          return NULL;
        if (got != want) {
          g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_IO,
                       "'%s' changed while it was read: message %u is cut short", s->path,
                       s->index + 1);
          return NULL;
        }
      }
      /* skip the separating blank line, take the next From_ line */
      if (!reader_line (r, &line, &n, error))
        return NULL;
      if (is_blank (line, n) && !reader_line (r, &line, &n, error))
        return NULL;
      if (n > 0) {
        s->pending_from = g_byte_array_new ();
        g_byte_array_append (s->pending_from, line, (guint)n);
        s->pending_offset = r->offset - (goffset)n;
      }
    }
  }
  g_autoptr (GBytes) slice = NULL;
  if (!body_done) {
    MboxMessage m
        = { .data = msg, .count_only = s->headers_only, .may_slice = r->keep != G_MAXSIZE };
    gboolean ok = mbox_body (s, &m, error);
    slice = m.slice;
    if (!ok)
      return NULL;
    body_size = m.counted;
  }
  r->keep = G_MAXSIZE;

  MsgtkItem *item = g_new0 (MsgtkItem, 1);
  item->index = ++s->index;
  item->path = g_strdup (s->path);
  item->offset = from_offset;
  item->identity = g_strdup_printf ("mbox:%s@%" G_GINT64_FORMAT, s->abs_path, (gint64)from_offset);
  item->flags = flags;
  item->internal_date = parse_from_date (from->data, from->len);
  item->envelope_sender = from_line_sender (from->data, from->len);
  item->size = slice != NULL ? (goffset)g_bytes_get_size (slice) : (goffset)(msg->len + body_size);
  item->bytes = slice != NULL ? g_steal_pointer (&slice) : bytes_fitted (g_steal_pointer (&msg));
  item->stream = g_memory_input_stream_new_from_bytes (item->bytes);
  return item;
}

/* ---- files ---- */

/* The header block at the start of the file open on @fd, through its blank
 * line (all of it when there is none); NULL with errno set when a read
 * fails. Most header blocks fit the first read, on the stack. */
static GBytes *
read_header_block (int fd)
{
  guint8 first[4096];
  g_autoptr (GByteArray) a = NULL; /* when the block is longer */
  guint8 *d = first;
  gsize len = 0, cap = sizeof first, scanned = 0;
  for (;;) {
    if (len == cap) {
      if (a == NULL) {
        a = g_byte_array_sized_new ((guint)(2 * cap));
        g_byte_array_append (a, first, (guint)len);
      }
      cap *= 2;
      g_byte_array_set_size (a, (guint)cap);
      d = a->data;
    }
    gssize n = read (fd, d + len, cap - len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return NULL;
    len += (gsize)n;
    gsize end = header_block_end ((const char *)d, len, &scanned);
    if (end > 0)
      return g_bytes_new (d, end);
    if (n == 0)
      return g_bytes_new (d, len);
  }
}

/* Files up to this size are read whole when an item is made (they would be
 * read whole anyway); bigger ones are streamed. */
#define WHOLE_FILE_MAX (1024 * 1024)

/* All of the file open on @fd, of @size bytes by its fstat() (read to its
 * end, whatever that is by now); NULL with errno set when a read fails. */
static GBytes *
read_whole_file (int fd, gsize size)
{
  g_autoptr (GByteArray) a = g_byte_array_sized_new ((guint)size + 1);
  g_byte_array_set_size (a, (guint)size + 1); /* one more: the end shows at once */
  gsize len = 0;
  for (;;) {
    if (len == a->len)
      g_byte_array_set_size (a, 2 * a->len);
    gssize n = read (fd, a->data + len, a->len - len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return NULL;
    if (n == 0)
      break;
    len += (gsize)n;
  }
  g_byte_array_set_size (a, (guint)len);
  return g_byte_array_free_to_bytes (g_steal_pointer (&a));
}

static MsgtkItem *
file_item (MsgtkSource *s, const char *path, const char *folder, GError **error)
{
  GStatBuf st;
  GBytes *block = NULL;
  gboolean whole = FALSE;
  /* the header block only, or a file that is not big: plain reads, no
   * stream object per file */
  int fd = g_open (path, O_RDONLY | O_CLOEXEC, 0);
  int e = errno;
  if (fd >= 0) {
    if (fstat (fd, &st) == 0) {
      whole = !s->headers_only && S_ISREG (st.st_mode) && st.st_size <= WHOLE_FILE_MAX;
      if (s->headers_only)
        block = read_header_block (fd);
      else if (whole)
        block = read_whole_file (fd, (gsize)st.st_size);
    }
    e = errno;
    close (fd);
  }
  if (block == NULL && (s->headers_only || whole || fd < 0)) {
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_NO_INPUT, "cannot read '%s': %s", path,
                 g_strerror (e));
    s->index++;
    return NULL;
  }
  g_autoptr (GFileInputStream) in = NULL;
  GError *local = NULL;
  if (block == NULL) {
    g_autoptr (GFile) file = g_file_new_for_path (path);
    in = g_file_read (file, NULL, &local);
  }
  if (block == NULL && (in == NULL || g_stat (path, &st) != 0)) {
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_NO_INPUT, "cannot read '%s': %s", path,
                 local != NULL ? local->message : g_strerror (errno));
    g_clear_error (&local);
    s->index++;
    return NULL;
  }
  MsgtkItem *item = g_new0 (MsgtkItem, 1);
  item->index = ++s->index;
  item->path = g_strdup (path);
  item->size = whole ? (goffset)g_bytes_get_size (block) : st.st_size;
  if (block != NULL) {
    item->bytes = block;
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
  } else {
    if (g_path_is_absolute (path))
      item->identity = g_strdup_printf ("file:%s", path);
    else {
      g_autofree char *cwd = g_get_current_dir ();
      g_autofree char *abs = g_build_filename (cwd, path, NULL);
      item->identity = g_strdup_printf ("file:%s", abs);
    }
    /* flags from the Status fields: peek at the start of the file */
    if (item->bytes != NULL) {
      gsize n;
      const guint8 *head = g_bytes_get_data (item->bytes, &n);
      item->flags = header_block_info (head, n, NULL);
      return item;
    }
    GInputStream *buffered = g_buffered_input_stream_new_sized (item->stream, 16384);
    g_object_unref (item->stream);
    item->stream = buffered;
    if (g_buffered_input_stream_fill (G_BUFFERED_INPUT_STREAM (buffered), 16384, NULL, NULL) > 0) {
      gsize n;
      const void *head
          = g_buffered_input_stream_peek_buffer (G_BUFFERED_INPUT_STREAM (buffered), &n);
      item->flags = header_block_info (head, n, NULL);
    }
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
      item->flags = header_block_info (msg->data, msg->len, NULL);
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
