/* msgtk — sources: a message file, an mbox, a maildir, standard input, and
 * directory trees in every layout mail programs leave (read into entries by
 * source-tree.c), plain or compressed; here each file is told by its
 * content and read, and the items come out in order. */
#include <msgtk/error.h>
#include <msgtk/source.h>

#include "decompress-private.h"
#include "header-private.h"
#include "mbox-lock-private.h"
#include "mbox-reader-private.h"
#include "source-private.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gfiledescriptorbased.h>
#include <glib/gstdio.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- items ---- */

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
  g_strfreev (item->keywords);
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

/* ---- what a file holds ---- */

typedef enum {
  CONTENT_EMPTY,
  CONTENT_COMPRESSED, /* gzip, xz or zstd data */
  CONTENT_MBOX,       /* a From_ line, then a header block */
  CONTENT_EMLX,       /* Apple Mail: a line with a byte count, then a header block */
  CONTENT_MESSAGE,    /* a header block */
  CONTENT_TEXT,
  CONTENT_BINARY,
} Content;

/* How much of a file's start is looked at to tell what it holds. */
#define PEEK_BYTES 16384

/* Fields that messages have and other "name: value" files do not. */
static const char *const message_fields[]
    = { /* RFC 5322 */
        "From", "Sender", "Reply-To", "To", "Cc", "Subject", "Date", "Message-ID", "In-Reply-To",
        "References", "Received", "Return-Path",
        /* MIME, delivery, news, Thunderbird */
        "MIME-Version", "Content-Type", "Delivered-To", "Newsgroups", "X-Mozilla-Status", NULL
      };

/* Does @data start with a header block: a field first, and among the fields
 * of the block one that messages have? */
static gboolean
starts_with_header (const guint8 *data, gsize len)
{
  HeaderIter it;
  HeaderField f;
  header_iter_init (&it, (const char *)data, len);
  if (!header_iter_next (&it, &f) || f.name == NULL)
    return FALSE;
  do {
    for (guint i = 0; message_fields[i] != NULL; i++)
      if (header_field_is (&f, message_fields[i]))
        return TRUE;
  } while (header_iter_next (&it, &f));
  return FALSE;
}

/* The byte count on the first line of an Apple Mail .emlx file (digits,
 * blanks around them), and in @skip that line's length; 0 when @data does
 * not start with such a line. */
static guint64
emlx_count (const guint8 *data, gsize len, gsize *skip)
{
  gsize i = 0;
  while (i < len && (data[i] == ' ' || data[i] == '\t'))
    i++;
  gsize start = i;
  guint64 n = 0;
  while (i < len && g_ascii_isdigit (data[i]) && i - start < 15)
    n = n * 10 + (guint64)(data[i++] - '0');
  if (i == start)
    return 0;
  while (i < len && (data[i] == ' ' || data[i] == '\t' || data[i] == '\r'))
    i++;
  if (i >= len || data[i] != '\n')
    return 0;
  *skip = i + 1;
  return n;
}

/* What the @len bytes at the start of a file say it holds; for an .emlx file
 * @skip gets the length of its first line. */
static Content
content_of (const guint8 *data, gsize len, gsize *skip)
{
  *skip = 0;
  if (len == 0)
    return CONTENT_EMPTY;
  if (decompress_sniff (data, len) != COMPRESSION_NONE)
    return CONTENT_COMPRESSED;
  gsize bom = len >= 3 && memcmp (data, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
  const guint8 *nl = memchr (data + bom, '\n', len - bom);
  if (len - bom >= 5 && memcmp (data + bom, "From ", 5) == 0 && nl != NULL
      && starts_with_header (nl + 1, (gsize)(data + len - nl - 1)))
    return CONTENT_MBOX;
  gsize first = 0;
  if (emlx_count (data, len, &first) > 0 && starts_with_header (data + first, len - first)) {
    *skip = first;
    return CONTENT_EMLX;
  }
  if (starts_with_header (data + bom, len - bom))
    return CONTENT_MESSAGE;
  for (gsize i = 0; i < MIN (len, (gsize)4096); i++)
    if (data[i] < 0x20 && !strchr ("\t\n\r\f\033", data[i]))
      return CONTENT_BINARY;
  return CONTENT_TEXT;
}

/* What Apple Mail keeps of an .emlx message in the property list after it:
 * the "flags" integer (bit 0 read, 1 deleted, 2 answered, 4 flagged, 6
 * draft) and "date-received" (seconds since 1970), when they are there. */
static gboolean
plist_integer (const char *plist, const char *key, guint64 *value)
{
  g_autofree char *k = g_strdup_printf ("<key>%s</key>", key);
  const char *p = strstr (plist, k);
  if (p == NULL)
    return FALSE;
  p += strlen (k);
  while (g_ascii_isspace (*p))
    p++;
  if (!g_str_has_prefix (p, "<integer>"))
    return FALSE;
  p += strlen ("<integer>");
  char *end = NULL;
  *value = g_ascii_strtoull (p, &end, 10);
  return end != p;
}

static MsgtkFlags
emlx_plist (const guint8 *data, gsize len, GDateTime **date)
{
  g_autofree char *plist = g_strndup ((const char *)data, len);
  MsgtkFlags flags = MSGTK_FLAG_NONE;
  guint64 v;
  if (plist_integer (plist, "flags", &v)) {
    static const struct {
      guint bit;
      MsgtkFlags flag;
    } bits[] = { { 0, MSGTK_FLAG_SEEN },
                 { 1, MSGTK_FLAG_DELETED },
                 { 2, MSGTK_FLAG_ANSWERED },
                 { 4, MSGTK_FLAG_FLAGGED },
                 { 6, MSGTK_FLAG_DRAFT } };
    for (guint i = 0; i < G_N_ELEMENTS (bits); i++)
      if (v & ((guint64)1 << bits[i].bit))
        flags |= bits[i].flag;
  }
  if (plist_integer (plist, "date-received", &v) && v > 0 && v < G_MAXINT32)
    *date = g_date_time_new_from_unix_utc ((gint64)v);
  return flags;
}

/* ---- the source ---- */

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

const char *
msgtk_source_get_path (MsgtkSource *source)
{
  return source->path;
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
  if (source->mbox != NULL)
    mbox_reader_set_headers_only (source->mbox, headers_only);
}

void
msgtk_source_free (MsgtkSource *source)
{
  if (source == NULL)
    return;
  mbox_reader_free (source->mbox);
  if (source->entries != NULL)
    g_array_unref (source->entries);
  if (source->dirs != NULL)
    g_ptr_array_unref (source->dirs);
  g_queue_clear_full (&source->told, (GDestroyNotify)g_error_free);
  g_free (source->mbox_folder);
  g_free (source->path);
  g_free (source->abs_path);
  g_free (source);
}

static char *
absolute (const char *path)
{
  if (strcmp (path, "-") == 0 || g_path_is_absolute (path))
    return g_strdup (path);
  g_autofree char *cwd = g_get_current_dir ();
  return g_build_filename (cwd, path, NULL);
}

static MsgtkSource *
source_new (const char *path)
{
  MsgtkSource *s = g_new0 (MsgtkSource, 1);
  s->path = g_strdup (path);
  s->abs_path = absolute (path);
  g_queue_init (&s->told);
  return s;
}

/* ---- files ---- */

/* A file open to be made an item: its status and the bytes of its start
 * read so far. */
typedef struct {
  int fd;
  GStatBuf st;
  GByteArray *head;
  gboolean eof; /* @head holds all of the file */
} OpenFile;

static void
open_file_close (OpenFile *f)
{
  if (f->fd >= 0)
    close (f->fd);
  f->fd = -1;
  g_clear_pointer (&f->head, g_byte_array_unref);
}

/* Read on until @f->head holds @want bytes or the whole file; FALSE with
 * errno set when a read fails. */
static gboolean
read_more (OpenFile *f, gsize want)
{
  while (!f->eof && f->head->len < want) {
    guint old = f->head->len;
    g_byte_array_set_size (f->head, (guint)want);
    gssize n = read (f->fd, f->head->data + old, want - old);
    int e = errno;
    g_byte_array_set_size (f->head, old + (guint)MAX (n, 0));
    if (n < 0 && e == EINTR)
      continue;
    if (n < 0) {
      errno = e;
      return FALSE;
    }
    if (n == 0)
      f->eof = TRUE;
  }
  return TRUE;
}

/* Open @path and read its first @peek bytes; FALSE with errno set. */
static gboolean
open_file (const char *path, OpenFile *f, gsize peek)
{
  memset (f, 0, sizeof *f);
  f->fd = g_open (path, O_RDONLY | O_CLOEXEC, 0);
  if (f->fd < 0)
    return FALSE;
  f->head = g_byte_array_sized_new ((guint)MAX (peek, (gsize)1));
  if (fstat (f->fd, &f->st) != 0 || !read_more (f, peek)) {
    int e = errno;
    open_file_close (f);
    errno = e;
    return FALSE;
  }
  return TRUE;
}

/* The length of the header block that starts @skip bytes into the file,
 * reading on as far as it goes (all of the rest when it has no blank line);
 * FALSE with errno set when a read fails. */
static gboolean
read_header (OpenFile *f, gsize skip, gsize *len)
{
  gsize scanned = 0;
  for (;;) {
    const char *d = (const char *)f->head->data + skip;
    gsize have = f->head->len > skip ? f->head->len - skip : 0;
    gsize end = header_block_end (d, have, &scanned);
    if (end > 0 || f->eof) {
      *len = end > 0 ? end : have;
      return TRUE;
    }
    if (!read_more (f, MAX (2 * (gsize)f->head->len, (gsize)4096)))
      return FALSE;
  }
}

/* Files up to this size are read whole when an item is made (they would be
 * read whole anyway); bigger ones are streamed. */
#define WHOLE_FILE_MAX (1024 * 1024)

typedef enum {
  FILE_MESSAGE, /* a message as it is */
  FILE_MAILDIR, /* a maildir's: flags from its name */
  FILE_EMLX,    /* Apple Mail's: the message between a count and a plist */
} FileKind;

/* The keywords the letters a-z of a maildir file's info (@letters) stand
 * for in its directory @d; NULL for none. */
static char **
maildir_letter_keywords (const Dir *d, const char *letters)
{
  GPtrArray *kw = NULL;
  for (const char *c = letters; d != NULL && *c != '\0'; c++)
    if (*c >= 'a' && *c <= 'z' && d->keywords[*c - 'a'] != NULL) {
      if (kw == NULL)
        kw = g_ptr_array_new ();
      g_ptr_array_add (kw, g_strdup (d->keywords[*c - 'a']));
    }
  if (kw == NULL)
    return NULL;
  g_ptr_array_add (kw, NULL);
  return (char **)g_ptr_array_free (kw, FALSE);
}

/* MH (a directory with .mh_sequences): messages are read but those of the
 * unseen sequence; ",N" and "#N" are messages nmh's rmm removed. */
static MsgtkFlags
mh_flags (const Dir *d, const char *path, MsgtkFlags flags)
{
  if (d == NULL || d->unseen == NULL)
    return flags;
  g_autofree char *base = g_path_get_basename (path);
  if ((base[0] == ',' || base[0] == '#') && source_all_digits (base + 1))
    return flags | MSGTK_FLAG_DELETED;
  if (!source_all_digits (base))
    return flags;
  guint64 n = g_ascii_strtoull (base, NULL, 10);
  for (guint i = 0; i + 1 < d->unseen->len; i += 2)
    if (n >= g_array_index (d->unseen, guint64, i)
        && n <= g_array_index (d->unseen, guint64, i + 1))
      return flags & ~MSGTK_FLAG_SEEN;
  return flags | MSGTK_FLAG_SEEN;
}

G_GNUC_PRINTF (4, 5)
static MsgtkItem *
file_failed (MsgtkSource *s, GError **error, MsgtkError code, const char *format, ...)
{
  va_list ap;
  va_start (ap, format);
  g_propagate_error (error, g_error_new_valist (MSGTK_ERROR, (gint)code, format, ap));
  va_end (ap);
  s->index++; /* it holds its place */
  return NULL;
}

/* The item of the file @path, open in @f (closed here), of @kind, in the
 * directory @d (NULL for a file given alone). */
static MsgtkItem *
file_item (MsgtkSource *s, const char *path, const Dir *d, FileKind kind, OpenFile *f,
           GError **error)
{
  gsize skip = 0;
  goffset size = f->st.st_size;
  if (kind == FILE_EMLX) {
    guint64 count = emlx_count (f->head->data, f->head->len, &skip);
    if ((guint64)size < skip || count > (guint64)size - skip) {
      open_file_close (f);
      return file_failed (s, error, MSGTK_ERROR_DATA,
                          "%s: Apple Mail message cut short: its first line says %" G_GUINT64_FORMAT
                          " bytes, the file holds %" G_GINT64_FORMAT " after it",
                          path, count, (gint64)(size - (goffset)skip));
    }
    size = (goffset)count;
  }
  GBytes *bytes = NULL;
  g_autoptr (GBytes) whole = NULL; /* all of the file, when read whole */
  g_autoptr (GInputStream) stream = NULL;
  gboolean ok = TRUE;
  if (s->headers_only) {
    /* the header block only: plain reads, no stream object per file */
    gsize len = 0;
    ok = read_header (f, skip, &len);
    if (ok)
      bytes = g_bytes_new (f->head->data + skip, MIN (len, (gsize)size));
  } else if (kind == FILE_EMLX || size <= WHOLE_FILE_MAX) {
    ok = read_more (f, (gsize)f->st.st_size + 1); /* one more: the end shows at once */
    while (ok && !f->eof)
      ok = read_more (f, 2 * (gsize)f->head->len);
    if (ok) {
      whole = mbox_bytes_fitted (g_steal_pointer (&f->head));
      if (kind != FILE_EMLX)
        size = (goffset)g_bytes_get_size (whole); /* read to its end, whatever that is by now */
      bytes = g_bytes_new_from_bytes (whole, skip, (gsize)size);
    }
  } else {
    g_autoptr (GFile) file = g_file_new_for_path (path);
    GError *local = NULL;
    stream = G_INPUT_STREAM (g_file_read (file, NULL, &local));
    if (stream == NULL) {
      open_file_close (f);
      MsgtkItem *none = file_failed (s, error, MSGTK_ERROR_NO_INPUT, "cannot read '%s': %s", path,
                                     local->message);
      g_error_free (local);
      return none;
    }
  }
  if (!ok) {
    int e = errno;
    open_file_close (f);
    return file_failed (s, error, MSGTK_ERROR_NO_INPUT, "cannot read '%s': %s", path,
                        g_strerror (e));
  }
  /* what was read of the file's start */
  gsize have;
  const guint8 *head = whole != NULL ? g_bytes_get_data (whole, &have) : f->head->data;
  if (whole == NULL)
    have = f->head->len;
  MsgtkItem *item = g_new0 (MsgtkItem, 1);
  item->index = ++s->index;
  item->path = g_strdup (path);
  item->size = size;
  item->bytes = bytes;
  item->stream
      = bytes != NULL ? g_memory_input_stream_new_from_bytes (bytes) : g_steal_pointer (&stream);
  item->folder = d != NULL ? g_strdup (d->folder) : NULL;
  if (kind == FILE_MAILDIR) {
    g_autofree char *base = g_path_get_basename (path);
    char *info = strstr (base, ":2,");
    if (info == NULL)
      info = strstr (base, "!2,");
    if (info != NULL) {
      item->flags = msgtk_flags_from_maildir (info + 3);
      item->keywords = maildir_letter_keywords (d, info + 3);
      *info = '\0';
    }
    item->internal_date = g_date_time_new_from_unix_utc (f->st.st_mtime);
    item->identity = g_strdup_printf ("maildir:%s:%s/%s", s->abs_path,
                                      item->folder != NULL ? item->folder : "", base);
  } else {
    g_autofree char *abs = absolute (path);
    item->identity = g_strdup_printf ("file:%s", abs);
    /* flags from the Status fields, at the start of the file */
    item->flags = mh_flags (d, path, mbox_header_info (head, have, NULL));
  }
  if (kind == FILE_EMLX) {
    /* flags and date from the property list after the message */
    gsize at = skip + (gsize)size, n = MIN ((gsize)f->st.st_size - at, (gsize)65536);
    g_autofree guint8 *plist = NULL;
    if (at + n > have) {
      plist = g_malloc (n);
      gssize got = pread (f->fd, plist, n, (off_t)at);
      n = got > 0 ? (gsize)got : 0;
    }
    item->flags = emlx_plist (plist != NULL ? plist : head + at, n, &item->internal_date);
  }
  open_file_close (f);
  return item;
}

/* ---- streams and compressed data ---- */

/* The compression of the data @*in holds, its first bytes left to read: a
 * stream that can seek is put back where it started, another one is
 * replaced with a buffered stream over it. */
static Compression
sniff_stream (GInputStream **in, GError **error)
{
  guint8 magic[DECOMPRESS_MAGIC_MAX];
  gsize n = 0;
  if (G_IS_SEEKABLE (*in) && g_seekable_can_seek (G_SEEKABLE (*in))
      && g_seekable_tell (G_SEEKABLE (*in)) == 0) {
    if (!g_input_stream_read_all (*in, magic, sizeof magic, &n, NULL, error)
        || !g_seekable_seek (G_SEEKABLE (*in), 0, G_SEEK_SET, NULL, error))
      return COMPRESSION_NONE;
    return decompress_sniff (magic, n);
  }
  GBufferedInputStream *b = G_BUFFERED_INPUT_STREAM (g_buffered_input_stream_new (*in));
  g_object_unref (*in);
  *in = G_INPUT_STREAM (b);
  while (g_buffered_input_stream_get_available (b) < sizeof magic) {
    gssize k = g_buffered_input_stream_fill (b, (gssize)sizeof magic, NULL, error);
    if (k < 0)
      return COMPRESSION_NONE;
    if (k == 0)
      break;
  }
  const guint8 *head = g_buffered_input_stream_peek_buffer (b, &n);
  return decompress_sniff (head, n);
}

/* @error, a failure to read compressed data, said as what it is. */
static void
compressed_error (const char *path, Compression compression, GError **error)
{
  if (error == NULL || *error == NULL || compression == COMPRESSION_NONE
      || (*error)->domain == MSGTK_ERROR)
    return;
  gboolean cut = g_error_matches (*error, G_IO_ERROR, G_IO_ERROR_PARTIAL_INPUT); /* gzip's */
  GError *e
      = g_error_new (MSGTK_ERROR, MSGTK_ERROR_DATA, "%s: %s data that cannot be read: %s", path,
                     decompress_name (compression), cut ? "cut short" : (*error)->message);
  g_clear_error (error);
  g_propagate_error (error, e);
}

/* how long reading a file waits while another program writes it */
#define READ_LOCK_TIMEOUT_MS 30000

/* @in, a file just opened, read only when no other program writes it (an
 * MDA delivering into an mbox holds its locks): shared-locked as long as
 * it is open. */
static gboolean
lock_for_reading (GFileInputStream *in, const char *path, GError **error)
{
  if (!G_IS_FILE_DESCRIPTOR_BASED (in))
    return TRUE;
  return mbox_lock_shared (g_file_descriptor_based_get_fd (G_FILE_DESCRIPTOR_BASED (in)), path,
                           READ_LOCK_TIMEOUT_MS, error);
}

/* A reader of @in, decompressed when it is gzip, xz or zstd data; NULL when
 * it cannot be read. */
static MboxReader *
reader_new (MsgtkSource *s, GInputStream *in, const char *path, const char *abs, GError **error)
{
  g_autoptr (GInputStream) raw = g_object_ref (in);
  GError *local = NULL;
  s->compression = sniff_stream (&raw, &local);
  if (local != NULL) {
    g_propagate_prefixed_error (error, local, "cannot read '%s': ", path);
    return NULL;
  }
  g_autoptr (GInputStream) data = s->compression != COMPRESSION_NONE
                                      ? decompress_stream (raw, s->compression)
                                      : g_object_ref (raw);
  MboxReader *r = mbox_reader_new (data, path, abs);
  mbox_reader_set_headers_only (r, s->headers_only);
  return r;
}

/* A stream's whole rest as one message; the header block only when that is
 * what items hold. */
static MsgtkItem *
take_all (MsgtkSource *s, const char *path, GError **error)
{
  MsgtkItem *item = mbox_reader_take_all (s->mbox, error);
  compressed_error (path, s->compression, error);
  if (item != NULL && s->headers_only) {
    gsize n;
    const char *d = g_bytes_get_data (item->bytes, &n);
    GBytes *block = g_bytes_new_from_bytes (item->bytes, 0, header_block_length (d, n));
    g_bytes_unref (item->bytes);
    g_object_unref (item->stream);
    item->bytes = block;
    item->stream = g_memory_input_stream_new_from_bytes (block);
  }
  return item;
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
  s->mbox = reader_new (s, stream, s->path, s->abs_path, error);
  if (s->mbox == NULL)
    return NULL;
  GError *local = NULL;
  gboolean from = mbox_reader_starts_with_from (s->mbox, &local);
  if (local != NULL) {
    compressed_error (name, s->compression, &local);
    if (local->domain != MSGTK_ERROR)
      g_prefix_error (&local, "cannot read '%s': ", name);
    g_propagate_error (error, local);
    return NULL;
  }
  if (format == MSGTK_SOURCE_FORMAT_AUTO)
    format = from ? MSGTK_SOURCE_FORMAT_MBOX : MSGTK_SOURCE_FORMAT_MESSAGE;
  s->format = format;
  if (format == MSGTK_SOURCE_FORMAT_MBOX && !mbox_reader_start (s->mbox, error))
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
    g_autofree char *base = g_path_get_basename (path);
    if (format == MSGTK_SOURCE_FORMAT_AUTO)
      format = source_is_maildir (path) || strcmp (base, "cur") == 0 || strcmp (base, "new") == 0
                   ? MSGTK_SOURCE_FORMAT_MAILDIR
                   : MSGTK_SOURCE_FORMAT_DIR;
    s->format = format;
    if (format != MSGTK_SOURCE_FORMAT_MAILDIR && format != MSGTK_SOURCE_FORMAT_DIR) {
      g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_USAGE,
                   "'%s' is a directory, not a %s; give a file", path,
                   msgtk_source_format_name (format));
      return NULL;
    }
    source_collect_tree (s, path);
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
  if (!lock_for_reading (in, path, error))
    return NULL;
  if (format == MSGTK_SOURCE_FORMAT_DIR || format == MSGTK_SOURCE_FORMAT_MAILDIR) {
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_USAGE, "'%s' is a file, not a %s", path,
                 msgtk_source_format_name (format));
    return NULL;
  }
  MsgtkSource *s = msgtk_source_new_for_stream (G_INPUT_STREAM (in), path, format, error);
  if (s != NULL && s->format == MSGTK_SOURCE_FORMAT_MESSAGE && s->compression == COMPRESSION_NONE) {
    /* a plain file: read as a file, an .emlx one told by its content */
    gsize n = 0, skip;
    const guint8 *head = mbox_reader_peek (s->mbox, PEEK_BYTES, &n, NULL);
    s->single_emlx = head != NULL && content_of (head, n, &skip) == CONTENT_EMLX;
    g_clear_pointer (&s->mbox, mbox_reader_free);
    s->single_file = TRUE;
  }
  return s;
}

/* ---- reading a tree ---- */

static char *
mbox_folder (const Dir *d, const char *path, Compression compression)
{
  g_autofree char *name = g_path_get_basename (path);
  const char *suffix = decompress_suffix (compression, name);
  if (suffix != NULL)
    name[suffix - name] = '\0';
  /* Apple Mail's bundle X.mbox holds its messages in a file named mbox */
  if (d->bundle && strcmp (name, "mbox") == 0)
    return g_strdup (d->folder);
  if (source_has_suffix (name, ".mbox"))
    name[strlen (name) - 5] = '\0';
  else if (source_has_suffix (name, ".mbx"))
    name[strlen (name) - 4] = '\0';
  return source_folder_join (d->folder, name);
}

G_GNUC_PRINTF (3, 4)
static void
junk_add (Dir *d, MsgtkError code, const char *format, ...)
{
  va_list ap;
  va_start (ap, format);
  if (d->junk == NULL)
    d->junk = g_ptr_array_new_with_free_func ((GDestroyNotify)g_error_free);
  g_ptr_array_add (d->junk, g_error_new_valist (MSGTK_ERROR, (gint)code, format, ap));
  va_end (ap);
}

/* An empty file beside its Thunderbird index (NAME.msf) is an empty
 * folder. */
static gboolean
empty_folder (const char *path)
{
  g_autofree char *msf = g_strconcat (path, ".msf", NULL);
  return g_file_test (msf, G_FILE_TEST_IS_REGULAR);
}

/* The entry @i (a file) read as an mbox, or as compressed data: that holds
 * an mbox (then read as the source's current one), a message (returned) or
 * nothing of the kind (noted). */
static MsgtkItem *
open_mbox (MsgtkSource *s, guint i, GError **error)
{
  Entry *e = &g_array_index (s->entries, Entry, i);
  Dir *d = s->dirs->pdata[e->dir];
  g_autoptr (GFile) file = g_file_new_for_path (e->path);
  GError *local = NULL;
  g_autoptr (GFileInputStream) in = g_file_read (file, NULL, &local);
  if (in == NULL) {
    MsgtkItem *none = file_failed (s, error, MSGTK_ERROR_NO_INPUT, "cannot read '%s': %s", e->path,
                                   local->message);
    g_error_free (local);
    return none;
  }
  if (!lock_for_reading (in, e->path, &local)) {
    s->index++; /* it holds its place, as a file that cannot be read */
    g_propagate_error (error, local);
    return NULL;
  }
  g_autofree char *abs = absolute (e->path);
  s->mbox = reader_new (s, G_INPUT_STREAM (in), e->path, abs, error);
  if (s->mbox == NULL)
    return NULL;
  gsize n = 0, skip;
  const guint8 *head = mbox_reader_peek (s->mbox, PEEK_BYTES, &n, &local);
  Content c = head != NULL ? content_of (head, n, &skip) : CONTENT_EMPTY;
  if (local != NULL) {
    compressed_error (e->path, s->compression, &local);
    g_propagate_error (error, local);
  } else if (c == CONTENT_MBOX) {
    mbox_reader_starts_with_from (s->mbox, NULL); /* passes over a byte order mark */
    if (mbox_reader_start (s->mbox, error)) {
      s->mbox_entry = i;
      s->mbox_folder = mbox_folder (d, e->path, s->compression);
      return NULL;
    }
  } else if (c == CONTENT_MESSAGE && s->compression != COMPRESSION_NONE) {
    MsgtkItem *item = take_all (s, e->path, error);
    if (item != NULL) {
      item->index = ++s->index;
      item->folder = g_strdup (d->folder);
      item->flags = mh_flags (d, e->path, item->flags);
    }
    g_clear_pointer (&s->mbox, mbox_reader_free);
    return item;
  } else if (s->compression != COMPRESSION_NONE) {
    junk_add (d, MSGTK_ERROR_DATA, "%s: %s data holding no message", e->path,
              decompress_name (s->compression));
  } else { /* it was an mbox a moment ago */
    junk_add (d, MSGTK_ERROR_DATA, "%s: changed while it was read: no mbox any more", e->path);
  }
  g_clear_pointer (&s->mbox, mbox_reader_free);
  return NULL;
}

/* The file of entry @i, told by its content: a message is returned; an mbox
 * (or compressed data) becomes the source's current reader; what holds no
 * message is noted in its directory, to be told once all of it was read. */
static MsgtkItem *
read_entry (MsgtkSource *s, guint i, GError **error)
{
  Entry *e = &g_array_index (s->entries, Entry, i);
  Dir *d = s->dirs->pdata[e->dir];
  OpenFile f;
  if (!open_file (e->path, &f, PEEK_BYTES)) {
    int err = errno;
    return file_failed (s, error, MSGTK_ERROR_NO_INPUT, "cannot read '%s': %s", e->path,
                        g_strerror (err));
  }
  gsize skip;
  Content c = content_of (f.head->data, f.head->len, &skip);
  if (c == CONTENT_MESSAGE || c == CONTENT_EMLX)
    return file_item (s, e->path, d, c == CONTENT_EMLX ? FILE_EMLX : FILE_MESSAGE, &f, error);
  open_file_close (&f);
  switch (c) {
  case CONTENT_MBOX:
  case CONTENT_COMPRESSED: return open_mbox (s, i, error);
  case CONTENT_EMPTY:
    if (!empty_folder (e->path))
      junk_add (d, MSGTK_ERROR_DATA, "%s: empty file, no message", e->path);
    break;
  case CONTENT_BINARY:
    junk_add (d, MSGTK_ERROR_DATA, "%s: binary data, not a message", e->path);
    break;
  case CONTENT_TEXT:
  default: junk_add (d, MSGTK_ERROR_DATA, "%s: text, not a message", e->path); break;
  }
  return NULL;
}

/* Once the last entry of a directory was read: its files that held no
 * message, each, or the directory in one line when none of them did. */
static void
entry_done (MsgtkSource *s, guint i)
{
  Dir *d = s->dirs->pdata[g_array_index (s->entries, Entry, i).dir];
  if (d->files == 0 || d->last != i || d->junk == NULL)
    return;
  if (d->messages == 0 && d->junk->len >= 2 && d->junk->len == d->files) {
    g_queue_push_tail (&s->told, g_error_new (MSGTK_ERROR, MSGTK_ERROR_DATA,
                                              "%s: directory of %u files, none a message", d->path,
                                              d->files));
  } else {
    g_ptr_array_set_free_func (d->junk, NULL); /* the queue has them */
    for (guint k = 0; k < d->junk->len; k++)
      g_queue_push_tail (&s->told, d->junk->pdata[k]);
  }
  g_clear_pointer (&d->junk, g_ptr_array_unref);
}

static MsgtkItem *
tree_next (MsgtkSource *s, GError **error)
{
  for (;;) {
    GError *local = g_queue_pop_head (&s->told);
    MsgtkItem *item = NULL;
    if (local == NULL && s->mbox != NULL) {
      Entry *e = &g_array_index (s->entries, Entry, s->mbox_entry);
      item = mbox_reader_next (s->mbox, &local);
      if (item != NULL) {
        item->index = ++s->index;
        item->folder = g_strdup (s->mbox_folder);
        ((Dir *)s->dirs->pdata[e->dir])->messages++;
      } else {
        /* its end, or a failure that ends it */
        compressed_error (e->path, s->compression, &local);
        g_clear_pointer (&s->mbox, mbox_reader_free);
        g_clear_pointer (&s->mbox_folder, g_free);
        entry_done (s, s->mbox_entry);
        if (local == NULL)
          continue;
      }
    } else if (local == NULL) {
      if (s->next_entry >= s->entries->len) {
        if (s->items > 0 || s->errors > 0 || s->told_nothing)
          return NULL;
        /* never silent: a tree that holds nothing says so */
        s->told_nothing = TRUE;
        local = g_error_new (MSGTK_ERROR, MSGTK_ERROR_DATA, "%s: %s holding no message", s->path,
                             s->format == MSGTK_SOURCE_FORMAT_MAILDIR ? "maildir" : "directory");
      } else {
        guint i = s->next_entry++;
        Entry *e = &g_array_index (s->entries, Entry, i);
        Dir *d = s->dirs->pdata[e->dir];
        if (e->kind == ENTRY_PROBLEM) {
          local = g_steal_pointer (&e->problem);
        } else if (e->kind == ENTRY_MAILDIR) {
          OpenFile f;
          if (open_file (e->path, &f, 0))
            item = file_item (s, e->path, d, FILE_MAILDIR, &f, &local);
          else
            item = file_failed (s, &local, MSGTK_ERROR_NO_INPUT, "cannot read '%s': %s", e->path,
                                g_strerror (errno));
        } else {
          item = read_entry (s, i, &local);
        }
        if (item != NULL)
          d->messages++;
        if (s->mbox == NULL)
          entry_done (s, i);
        if (item == NULL && local == NULL)
          continue; /* an mbox to read, or a file noted */
      }
    }
    if (item != NULL) {
      s->items++;
      return item;
    }
    s->errors++;
    g_propagate_error (error, local);
    return NULL;
  }
}

MsgtkItem *
msgtk_source_next (MsgtkSource *source, GError **error)
{
  switch (source->format) {
  case MSGTK_SOURCE_FORMAT_MBOX: {
    MsgtkItem *item = mbox_reader_next (source->mbox, error);
    compressed_error (source->path, source->compression, error);
    return item;
  }
  case MSGTK_SOURCE_FORMAT_MESSAGE:
    if (source->done)
      return NULL;
    source->done = TRUE;
    if (source->single_file) {
      OpenFile f;
      if (!open_file (source->path, &f, PEEK_BYTES))
        return file_failed (source, error, MSGTK_ERROR_NO_INPUT, "cannot read '%s': %s",
                            source->path, g_strerror (errno));
      return file_item (source, source->path, NULL, source->single_emlx ? FILE_EMLX : FILE_MESSAGE,
                        &f, error);
    }
    /* a stream: take it whole (one message) */
    return take_all (source, source->path, error);
  case MSGTK_SOURCE_FORMAT_DIR:
  case MSGTK_SOURCE_FORMAT_MAILDIR: return tree_next (source, error);
  case MSGTK_SOURCE_FORMAT_AUTO:
  default: return NULL;
  }
}
