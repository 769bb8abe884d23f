/* msgtk — sources: .eml files, directories, mbox, maildir, stdin. */
#include <msgtk/error.h>
#include <msgtk/source.h>
#include <msgtk/utf7.h>

#include "header-private.h"
#include "mbox-reader-private.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
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
  MboxReader *mbox;
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

/* The folder of the maildir++ directory ".@name": '/' between the names of
 * its hierarchy, decoded from modified UTF-7 (as Dovecot and Courier store
 * them) when it is that; else as it is, made valid UTF-8. */
static char *
maildirpp_folder (const char *name)
{
  char *folder = msgtk_utf7_decode (name);
  if (folder == NULL)
    folder = g_utf8_make_valid (name, -1);
  return g_strdelimit (folder, ".", '/');
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
    if (is_dir (p) && is_maildir (p)) {
      g_autofree char *folder = maildirpp_folder (name + 1);
      collect_maildir_folder (s, p, folder);
    }
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
  s->mbox = mbox_reader_new (stream, s->path, s->abs_path);
  GError *local = NULL;
  gboolean from = mbox_reader_starts_with_from (s->mbox, &local);
  if (local != NULL) {
    g_propagate_prefixed_error (error, local, "cannot read '%s': ", name);
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
    g_clear_pointer (&s->mbox, mbox_reader_free);
    s->single_file = TRUE;
  }
  return s;
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
      item->flags = mbox_header_info (head, n, NULL);
      return item;
    }
    GInputStream *buffered = g_buffered_input_stream_new_sized (item->stream, 16384);
    g_object_unref (item->stream);
    item->stream = buffered;
    if (g_buffered_input_stream_fill (G_BUFFERED_INPUT_STREAM (buffered), 16384, NULL, NULL) > 0) {
      gsize n;
      const void *head
          = g_buffered_input_stream_peek_buffer (G_BUFFERED_INPUT_STREAM (buffered), &n);
      item->flags = mbox_header_info (head, n, NULL);
    }
  }
  return item;
}

MsgtkItem *
msgtk_source_next (MsgtkSource *source, GError **error)
{
  switch (source->format) {
  case MSGTK_SOURCE_FORMAT_MBOX: return mbox_reader_next (source->mbox, error);
  case MSGTK_SOURCE_FORMAT_MESSAGE:
    if (source->done)
      return NULL;
    source->done = TRUE;
    if (source->single_file) {
      MsgtkItem *item = file_item (source, source->path, NULL, error);
      return item;
    } else {
      /* a stream: take it whole (one message) */
      return mbox_reader_take_all (source->mbox, error);
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
