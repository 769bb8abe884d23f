/* msgtk — sinks: stdout, atomic file, mbox (mboxrd), maildir, .eml directory. */

#include <msgtk/error.h>
#include <msgtk/sink.h>

#include "date-private.h"
#include "gmime-autoptr-private.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- mboxrd quoting filter: ">*From " at a line start gets one more '>' -- */

typedef struct {
  GMimeFilter parent;
  gboolean midline; /* inside a line (not at its start) */
  gboolean last_nl; /* the last byte passed through was '\n' */
  gboolean any;     /* anything passed through */
} MboxrdFilter;

typedef struct {
  GMimeFilterClass parent_class;
} MboxrdFilterClass;

static GType mboxrd_filter_get_type (void);
G_DEFINE_TYPE (MboxrdFilter, mboxrd_filter, GMIME_TYPE_FILTER)

static GMimeFilter *
mboxrd_filter_copy (GMimeFilter *filter)
{
  (void)filter;
  return g_object_new (mboxrd_filter_get_type (), NULL);
}

static void
mboxrd_filter_run (GMimeFilter *filter, char *in, size_t len, size_t prespace, char **out,
                   size_t *outlen, size_t *outprespace, gboolean flush)
{
  MboxrdFilter *self = (MboxrdFilter *)filter;
  g_mime_filter_set_size (filter, len * 2 + 1, FALSE);
  char *o = filter->outbuf;
  size_t i = 0;
  while (i < len) {
    if (!self->midline) {
      size_t j = i;
      while (j < len && in[j] == '>')
        j++;
      size_t have = len - j;
      if (!flush && have < 5 && memchr (in + i, '\n', len - i) == NULL) {
        /* Not enough bytes to decide: keep them for the next call. */
        g_mime_filter_backup (filter, in + i, len - i);
        break;
      }
      if (have >= 5 && memcmp (in + j, "From ", 5) == 0)
        *o++ = '>';
      self->midline = TRUE;
    }
    char *nl = memchr (in + i, '\n', len - i);
    size_t n = nl ? (size_t)(nl - (in + i)) + 1 : len - i;
    memcpy (o, in + i, n);
    o += n;
    i += n;
    self->any = TRUE;
    self->last_nl = nl != NULL;
    if (nl)
      self->midline = FALSE;
  }
  (void)prespace;
  *out = filter->outbuf;
  *outlen = (size_t)(o - filter->outbuf);
  *outprespace = filter->outpre;
}

static void
mboxrd_filter_filter (GMimeFilter *filter, char *in, size_t len, size_t prespace, char **out,
                      size_t *outlen, size_t *outprespace)
{
  mboxrd_filter_run (filter, in, len, prespace, out, outlen, outprespace, FALSE);
}

static void
mboxrd_filter_complete (GMimeFilter *filter, char *in, size_t len, size_t prespace, char **out,
                        size_t *outlen, size_t *outprespace)
{
  mboxrd_filter_run (filter, in, len, prespace, out, outlen, outprespace, TRUE);
}

static void
mboxrd_filter_reset (GMimeFilter *filter)
{
  MboxrdFilter *self = (MboxrdFilter *)filter;
  self->midline = FALSE;
  self->last_nl = FALSE;
  self->any = FALSE;
}

static void
mboxrd_filter_class_init (MboxrdFilterClass *klass)
{
  GMimeFilterClass *fc = GMIME_FILTER_CLASS (klass);
  fc->copy = mboxrd_filter_copy;
  fc->filter = mboxrd_filter_filter;
  fc->complete = mboxrd_filter_complete;
  fc->reset = mboxrd_filter_reset;
}

static void
mboxrd_filter_init (MboxrdFilter *self)
{
  (void)self;
}

/* ---- sink -------------------------------------------------------------- */

struct _MsgtkSink {
  MsgtkSinkKind kind;
  char *path;
  MsgtkEol eol;
  int fd;             /* FILE: temp fd; MBOX: the mbox; STDOUT: 1 */
  char *tmp_path;     /* FILE: temp file */
  off_t orig_length;  /* MBOX: length before we started */
  GPtrArray *written; /* MAILDIR/DIR: files delivered (removed on abort) */
  GArray *pending;    /* MAILDIR: Pending files in tmp/ waiting for one sync */
  GMutex lock;        /* MAILDIR: guards pending, written and count across threads */
  guint count;
  guint seq;     /* DIR: next number to try */
  gboolean done; /* committed or aborted */
  char *hostname;
};

/* A maildir message written to tmp/ but not yet synced and moved to new/ or
 * cur/: files are synced in batches (one syncfs(2) for many messages) rather
 * than one fsync(2) each, then renamed into place. */
typedef struct {
  char *tmp;
  char *final;
  gint64 mtime; /* -1: leave it */
} Pending;

#define PENDING_BATCH 256

static void
pending_clear (gpointer data)
{
  Pending *p = data;
  g_free (p->tmp);
  g_free (p->final);
}

static gboolean
set_errno_error (GError **error, int err, MsgtkError code, const char *what, const char *path)
{
  g_set_error (error, MSGTK_ERROR, code, "%s '%s': %s", what, path, g_strerror (err));
  return FALSE;
}

/* Make everything written under the sink's directory durable. */
static gboolean
sync_tree (MsgtkSink *sink, GError **error)
{
  int fd = g_open (sink->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
  if (fd < 0)
    return set_errno_error (error, errno, MSGTK_ERROR_IO, "cannot open", sink->path);
  int rc = syncfs (fd);
  int err = errno;
  close (fd);
  if (rc != 0)
    return set_errno_error (error, err, MSGTK_ERROR_IO, "cannot sync", sink->path);
  return TRUE;
}

static void
set_mtime (const char *path, gint64 mtime)
{
  if (mtime < 0)
    return;
  struct timespec ts[2] = { { mtime, 0 }, { mtime, 0 } };
  (void)utimensat (AT_FDCWD, path, ts, 0);
}

/* Sync the pending maildir messages and move them into place. */
static gboolean
flush_pending (MsgtkSink *sink, GError **error)
{
  if (sink->pending == NULL || sink->pending->len == 0)
    return TRUE;
  if (!sync_tree (sink, error))
    return FALSE;
  for (guint i = 0; i < sink->pending->len; i++) {
    Pending *p = &g_array_index (sink->pending, Pending, i);
    set_mtime (p->tmp, p->mtime);
    if (g_rename (p->tmp, p->final) != 0)
      return set_errno_error (error, errno, MSGTK_ERROR_CANT_CREATE, "cannot deliver", p->final);
    g_ptr_array_add (sink->written, g_steal_pointer (&p->final));
    g_clear_pointer (&p->tmp, g_free);
  }
  g_array_set_size (sink->pending, 0);
  return TRUE;
}

static gboolean
ensure_dir (const char *path, GError **error)
{
  if (g_mkdir_with_parents (path, 0700) != 0)
    return set_errno_error (error, errno, MSGTK_ERROR_CANT_CREATE, "cannot create directory", path);
  return TRUE;
}

MsgtkSink *
msgtk_sink_new (MsgtkSinkKind kind, const char *path, GError **error)
{
  g_autoptr (GString) host = NULL;
  MsgtkSink *sink = g_new0 (MsgtkSink, 1);
  g_mutex_init (&sink->lock);
  sink->kind = kind;
  sink->path = g_strdup (path ? path : "-");
  sink->fd = -1;
  sink->written = g_ptr_array_new_with_free_func (g_free);
  sink->pending = g_array_new (FALSE, FALSE, sizeof (Pending));
  g_array_set_clear_func (sink->pending, pending_clear);
  sink->seq = 1;
  host = g_string_new (g_get_host_name ());
  /* Maildir names must not contain '/' or ':'. */
  for (gsize i = 0; i < host->len; i++)
    if (host->str[i] == '/' || host->str[i] == ':')
      host->str[i] = '_';
  sink->hostname = g_strdup (host->str);

  switch (kind) {
  case MSGTK_SINK_STDOUT: sink->fd = STDOUT_FILENO; break;
  case MSGTK_SINK_FILE: break; /* the temp file is made on the first write */
  case MSGTK_SINK_MBOX: {
    struct stat st;
    sink->fd = g_open (path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (sink->fd < 0 || fstat (sink->fd, &st) != 0) {
      set_errno_error (error, errno, MSGTK_ERROR_CANT_CREATE, "cannot open mbox", path);
      goto fail;
    }
    sink->orig_length = st.st_size;
    break;
  }
  case MSGTK_SINK_MAILDIR: {
    const char *subs[] = { "tmp", "new", "cur" };
    for (guint i = 0; i < G_N_ELEMENTS (subs); i++) {
      g_autofree char *d = g_build_filename (path, subs[i], NULL);
      if (!ensure_dir (d, error))
        goto fail;
    }
    break;
  }
  case MSGTK_SINK_DIR:
    if (!ensure_dir (path, error))
      goto fail;
    break;
  default:
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_USAGE, "unknown sink kind %d", (int)kind);
    goto fail;
  }
  return sink;
fail:
  sink->done = TRUE;
  msgtk_sink_free (sink);
  return NULL;
}

void
msgtk_sink_set_eol (MsgtkSink *sink, MsgtkEol eol)
{
  sink->eol = eol;
}

guint
msgtk_sink_count (MsgtkSink *sink)
{
  return sink->count;
}

/* What the body writer pushes into: either a GMimeMessage or a GInputStream. */
typedef struct {
  GMimeMessage *message;
  GInputStream *input;
  GBytes *head; /* with @input: bytes to write before the rest of @input */
} Payload;

#define MBOX_MAX_HEAD (1024 * 1024)

static gboolean
is_status_field (const char *line, gsize n)
{
  return (n >= 7 && g_ascii_strncasecmp (line, "Status:", 7) == 0)
         || (n >= 9 && g_ascii_strncasecmp (line, "X-Status:", 9) == 0);
}

/* The address of a Return-Path field's line (@n bytes, name included) as a
 * From_ line can hold it; NULL for the null path "<>" or anything odd. */
static char *
return_path_address (const char *line, gsize n)
{
  if (n < 12 || g_ascii_strncasecmp (line, "Return-Path:", 12) != 0)
    return NULL;
  g_autofree char *v = g_strstrip (g_strndup (line + 12, n - 12));
  char *a = v, *lt = strchr (v, '<');
  if (lt != NULL) {
    a = lt + 1;
    char *gt = strchr (a, '>');
    if (gt == NULL)
      return NULL;
    *gt = '\0';
  }
  if (*a == '\0')
    return NULL;
  for (const char *c = a; *c; c++)
    if ((guchar)*c <= ' ' || *c == 0x7f || *c == '<' || *c == '>')
      return NULL;
  return g_strdup (a);
}

/* mbox: the message's own Status/X-Status fields must say @flags. Reads the
 * header block of @input (at most MBOX_MAX_HEAD bytes) and returns what to
 * write before the rest of @input: the bytes read, unchanged when the fields
 * already say @flags, else with Status/X-Status replaced at the end of the
 * header block. *@return_path gets the address of its Return-Path field,
 * if any (for the From_ line). */
static GBytes *
mbox_status_head (GInputStream *input, MsgtkFlags flags, char **return_path, GError **error)
{
  g_autoptr (GByteArray) buf = g_byte_array_new ();
  gsize end = 0; /* header block length, blank line excluded; 0: not found yet */
  gsize scanned = 0;
  gboolean at_eof = FALSE;
  while (end == 0 && !at_eof && buf->len < MBOX_MAX_HEAD) {
    guint8 chunk[8192];
    gssize n = g_input_stream_read (input, chunk, sizeof chunk, NULL, error);
    if (n < 0)
      return NULL;
    at_eof = n == 0;
    g_byte_array_append (buf, chunk, (guint)n);
    /* find a line that is empty (LF or CRLF) */
    for (gsize i = scanned; i < buf->len; i++) {
      if (buf->data[i] != '\n')
        continue;
      gsize start = i;
      while (start > 0 && buf->data[start - 1] != '\n')
        start--;
      if (i == start || (i == start + 1 && buf->data[start] == '\r')) {
        end = start;
        break;
      }
      scanned = i + 1;
    }
  }
  if (end == 0 && !at_eof)
    return g_byte_array_free_to_bytes (g_steal_pointer (&buf)); /* no header block to edit */
  if (end == 0)
    end = buf->len;
  const char *data = (const char *)buf->data;
  g_autofree char *status = NULL, *x_status = NULL;
  for (gsize p = 0; p < end;) {
    const char *nl = memchr (data + p, '\n', end - p);
    gsize n = nl != NULL ? (gsize)(nl - (data + p)) : end - p;
    if (*return_path == NULL)
      *return_path = return_path_address (data + p, n);
    if (is_status_field (data + p, n)) {
      gboolean x = g_ascii_tolower (data[p]) == 'x';
      const char *colon = memchr (data + p, ':', n);
      char **slot = x ? &x_status : &status;
      if (*slot == NULL)
        *slot = g_strstrip (g_strndup (colon + 1, n - (gsize)(colon + 1 - (data + p))));
    }
    p += n + 1;
  }
  if (msgtk_flags_from_mbox_status (status, x_status) == flags)
    return g_byte_array_free_to_bytes (g_steal_pointer (&buf));
  /* rewrite: every line but Status/X-Status (and their continuations), then the new ones */
  const char *eol = end < buf->len && data[end] == '\r' ? "\r\n" : "\n";
  GString *out = g_string_sized_new (buf->len + 32);
  gboolean dropping = FALSE;
  for (gsize p = 0; p < end;) {
    const char *nl = memchr (data + p, '\n', end - p);
    gsize n = nl != NULL ? (gsize)(nl - (data + p)) + 1 : end - p;
    gboolean continuation = data[p] == ' ' || data[p] == '\t';
    if (!continuation)
      dropping = is_status_field (data + p, n);
    if (!dropping)
      g_string_append_len (out, data + p, (gssize)n);
    p += n;
  }
  if (out->len > 0 && out->str[out->len - 1] != '\n')
    g_string_append (out, eol);
  g_autofree char *st = NULL, *xst = NULL;
  msgtk_flags_to_mbox_status (flags, &st, &xst);
  g_string_append_printf (out, "Status: %s%s", st, eol);
  if (*xst != '\0')
    g_string_append_printf (out, "X-Status: %s%s", xst, eol);
  g_string_append_len (out, data + end, (gssize)(buf->len - end));
  return g_string_free_to_bytes (out);
}

static gboolean
write_all (int fd, const char *buf, size_t len, const char *path, GError **error)
{
  while (len > 0) {
    ssize_t n = write (fd, buf, len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return set_errno_error (error, errno, MSGTK_ERROR_IO, "cannot write", path);
    buf += n;
    len -= (size_t)n;
  }
  return TRUE;
}

/* Write @p to @fd through the line-ending (and mbox quoting) filters. */
static gboolean
write_payload (MsgtkSink *sink, int fd, const Payload *p, const char *path, GError **error)
{
  /* A pipe stream for files too: GMime's fs stream seeks before every write
   * and fsyncs on flush; the sink syncs once, where it must. */
  g_autoptr (GMimeStream) fs = g_mime_stream_pipe_new (fd);
  g_mime_stream_pipe_set_owner (GMIME_STREAM_PIPE (fs), FALSE);
  /* GMime writes in small pieces: buffer them into large write(2)s. */
  g_autoptr (GMimeStream) buffered = g_mime_stream_buffer_new (fs, GMIME_STREAM_BUFFER_BLOCK_WRITE);
  g_autoptr (GMimeStream) filtered = g_mime_stream_filter_new (buffered);
  MboxrdFilter *quote = NULL;
  if (sink->eol == MSGTK_EOL_CRLF) {
    g_autoptr (GMimeFilter) f = g_mime_filter_unix2dos_new (FALSE);
    g_mime_stream_filter_add (GMIME_STREAM_FILTER (filtered), f);
  } else if (sink->eol == MSGTK_EOL_LF) {
    g_autoptr (GMimeFilter) f = g_mime_filter_dos2unix_new (FALSE);
    g_mime_stream_filter_add (GMIME_STREAM_FILTER (filtered), f);
  }
  if (sink->kind == MSGTK_SINK_MBOX) {
    quote = g_object_new (mboxrd_filter_get_type (), NULL);
    g_mime_stream_filter_add (GMIME_STREAM_FILTER (filtered), GMIME_FILTER (quote));
  }
  errno = 0;
  gboolean ok = TRUE;
  if (p->head != NULL) {
    gsize n;
    const char *d = g_bytes_get_data (p->head, &n);
    if (n > 0 && g_mime_stream_write (filtered, d, n) < 0)
      ok = set_errno_error (error, errno ? errno : EIO, MSGTK_ERROR_IO, "cannot write", path);
  }
  if (!ok) {
  } else if (p->message) {
    g_autoptr (GMimeFormatOptions) fo = g_mime_format_options_new ();
    if (sink->eol == MSGTK_EOL_CRLF)
      g_mime_format_options_set_newline_format (fo, GMIME_NEWLINE_FORMAT_DOS);
    if (g_mime_object_write_to_stream (GMIME_OBJECT (p->message), fo, filtered) < 0)
      ok = set_errno_error (error, errno ? errno : EIO, MSGTK_ERROR_IO, "cannot write message to",
                            path);
  } else {
    char buf[65536];
    for (;;) {
      gssize n = g_input_stream_read (p->input, buf, sizeof buf, NULL, error);
      if (n < 0) {
        g_prefix_error (error, "cannot read message for '%s': ", path);
        ok = FALSE;
        break;
      }
      if (n == 0)
        break;
      if (g_mime_stream_write (filtered, buf, (size_t)n) < 0) {
        ok = set_errno_error (error, errno ? errno : EIO, MSGTK_ERROR_IO, "cannot write", path);
        break;
      }
    }
  }
  if (ok && (g_mime_stream_flush (filtered) < 0 || g_mime_stream_flush (buffered) < 0))
    ok = set_errno_error (error, errno ? errno : EIO, MSGTK_ERROR_IO, "cannot write", path);
  if (ok && quote) {
    /* mbox: the message ends with a newline, then one empty line separates. */
    const char *nl = sink->eol == MSGTK_EOL_CRLF ? "\r\n" : "\n";
    if (quote->any && !quote->last_nl)
      ok = write_all (fd, nl, strlen (nl), path, error);
    if (ok)
      ok = write_all (fd, nl, strlen (nl), path, error);
  }
  if (quote)
    g_object_unref (quote);
  return ok;
}

static gboolean
sync_close (int fd, const char *path, GError **error)
{
  if (fsync (fd) != 0) {
    int err = errno;
    close (fd);
    return set_errno_error (error, err, MSGTK_ERROR_IO, "cannot sync", path);
  }
  if (close (fd) != 0)
    return set_errno_error (error, errno, MSGTK_ERROR_IO, "cannot close", path);
  return TRUE;
}

static char *
mbox_from_line (MsgtkSink *sink, const char *sender, GDateTime *date)
{
  g_autoptr (GDateTime) now = NULL;
  if (!date)
    date = now = g_date_time_new_now_utc ();
  g_autofree char *when = date_format_asctime (date);
  /* A From_ address may not contain spaces: the line is split on the first. */
  g_autofree char *who = g_strdup (sender && *sender ? sender : "MAILER-DAEMON");
  for (char *c = who; *c; c++)
    if (g_ascii_isspace (*c))
      *c = '_';
  return g_strdup_printf ("From %s %s%s", who, when, sink->eol == MSGTK_EOL_CRLF ? "\r\n" : "\n");
}

static gboolean
sink_write (MsgtkSink *sink, const Payload *p, MsgtkFlags flags, GDateTime *date,
            const char *sender, char **path_out, GError **error)
{
  g_return_val_if_fail (!sink->done, FALSE);
  switch (sink->kind) {
  case MSGTK_SINK_STDOUT:
    if (!write_payload (sink, STDOUT_FILENO, p, "standard output", error))
      return FALSE;
    break;
  case MSGTK_SINK_FILE: {
    if (sink->count > 0) {
      g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_USAGE,
                   "'%s' holds one message; write several to an mbox, maildir or directory",
                   sink->path);
      return FALSE;
    }
    g_autofree char *dir = g_path_get_dirname (sink->path);
    g_autofree char *base = g_path_get_basename (sink->path);
    g_autofree char *tmpl = g_strdup_printf (".%s.XXXXXX", base);
    sink->tmp_path = g_build_filename (dir, tmpl, NULL);
    sink->fd = g_mkstemp_full (sink->tmp_path, O_WRONLY | O_CLOEXEC, 0644);
    if (sink->fd < 0) {
      g_clear_pointer (&sink->tmp_path, g_free);
      return set_errno_error (error, errno, MSGTK_ERROR_CANT_CREATE, "cannot create output",
                              sink->path);
    }
    if (!write_payload (sink, sink->fd, p, sink->path, error))
      return FALSE;
    if (path_out)
      *path_out = g_strdup (sink->path);
    break;
  }
  case MSGTK_SINK_MBOX: {
    g_autofree char *from = mbox_from_line (sink, sender, date);
    struct stat st;
    off_t before = fstat (sink->fd, &st) == 0 ? st.st_size : sink->orig_length;
    if (!write_all (sink->fd, from, strlen (from), sink->path, error)
        || !write_payload (sink, sink->fd, p, sink->path, error)) {
      /* Leave the mbox as it was before this message. */
      (void)!ftruncate (sink->fd, before);
      return FALSE;
    }
    if (path_out)
      *path_out = g_strdup (sink->path);
    break;
  }
  case MSGTK_SINK_MAILDIR: {
    static gint counter;
    gint64 us = g_get_real_time ();
    guint q = (guint)g_atomic_int_add (&counter, 1) + 1;
    g_autofree char *name
        = g_strdup_printf ("%" G_GINT64_FORMAT ".M%06dP%dQ%u.%s", us / G_USEC_PER_SEC,
                           (int)(us % G_USEC_PER_SEC), (int)getpid (), q, sink->hostname);
    g_autofree char *tmp = g_build_filename (sink->path, "tmp", name, NULL);
    int fd = g_open (tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
      return set_errno_error (error, errno, MSGTK_ERROR_CANT_CREATE, "cannot create", tmp);
    if (!write_payload (sink, fd, p, tmp, error)) {
      close (fd);
      g_unlink (tmp);
      return FALSE;
    }
    if (close (fd) != 0) {
      int err = errno;
      g_unlink (tmp);
      return set_errno_error (error, err, MSGTK_ERROR_IO, "cannot close", tmp);
    }
    g_autofree char *letters = msgtk_flags_to_maildir (flags);
    Pending pend = { g_steal_pointer (&tmp),
                     flags ? g_strdup_printf ("%s/cur/%s:2,%s", sink->path, name, letters)
                           : g_strdup_printf ("%s/new/%s", sink->path, name),
                     date ? g_date_time_to_unix (date) : -1 };
    if (path_out)
      *path_out = g_strdup (pend.final);
    g_mutex_lock (&sink->lock);
    g_array_append_val (sink->pending, pend);
    gboolean ok = sink->pending->len < PENDING_BATCH || flush_pending (sink, error);
    sink->count += ok;
    g_mutex_unlock (&sink->lock);
    return ok;
  }
  case MSGTK_SINK_DIR: {
    int fd = -1;
    g_autofree char *file = NULL;
    for (;;) {
      g_free (file);
      file = g_strdup_printf ("%s/%06u.eml", sink->path, sink->seq++);
      fd = g_open (file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
      if (fd >= 0 || errno != EEXIST)
        break;
    }
    if (fd < 0)
      return set_errno_error (error, errno, MSGTK_ERROR_CANT_CREATE, "cannot create", file);
    if (!write_payload (sink, fd, p, file, error)) {
      close (fd);
      g_unlink (file);
      return FALSE;
    }
    if (close (fd) != 0) {
      int err = errno;
      g_unlink (file);
      return set_errno_error (error, err, MSGTK_ERROR_IO, "cannot close", file);
    }
    set_mtime (file, date ? g_date_time_to_unix (date) : -1);
    if (path_out)
      *path_out = g_strdup (file);
    g_ptr_array_add (sink->written, g_steal_pointer (&file));
    break;
  }
  }
  sink->count++;
  return TRUE;
}

static const char *
message_sender (GMimeMessage *m)
{
  InternetAddressList *lists[] = { g_mime_message_get_sender (m), g_mime_message_get_from (m) };
  for (guint i = 0; i < G_N_ELEMENTS (lists); i++) {
    if (lists[i] && internet_address_list_length (lists[i]) > 0) {
      InternetAddress *a = internet_address_list_get_address (lists[i], 0);
      if (INTERNET_ADDRESS_IS_MAILBOX (a))
        return internet_address_mailbox_get_addr (INTERNET_ADDRESS_MAILBOX (a));
    }
  }
  return NULL;
}

gboolean
msgtk_sink_write_message (MsgtkSink *sink, GMimeMessage *message, MsgtkFlags flags,
                          GDateTime *internal_date, char **path_out, GError **error)
{
  Payload p = { message, NULL, NULL };
  GDateTime *date = internal_date ? internal_date : g_mime_message_get_date (message);
  return sink_write (sink, &p, flags, date, message_sender (message), path_out, error);
}

gboolean
msgtk_sink_write_stream (MsgtkSink *sink, GInputStream *input, MsgtkFlags flags,
                         GDateTime *internal_date, const char *envelope_sender, char **path_out,
                         GError **error)
{
  Payload p = { NULL, input, NULL };
  g_autofree char *return_path = NULL;
  if (sink->kind == MSGTK_SINK_MBOX && !sink->done) {
    p.head = mbox_status_head (input, flags, &return_path, error);
    if (p.head == NULL) {
      g_prefix_error (error, "cannot read message for '%s': ", sink->path);
      return FALSE;
    }
  }
  gboolean ok
      = sink_write (sink, &p, flags, internal_date,
                    envelope_sender != NULL ? envelope_sender : return_path, path_out, error);
  if (p.head != NULL)
    g_bytes_unref (p.head);
  return ok;
}

gboolean
msgtk_sink_commit (MsgtkSink *sink, GError **error)
{
  if (sink->done)
    return TRUE;
  switch (sink->kind) {
  case MSGTK_SINK_FILE:
    if (sink->fd >= 0) {
      int fd = sink->fd;
      sink->fd = -1;
      if (!sync_close (fd, sink->tmp_path, error))
        return FALSE;
      if (g_rename (sink->tmp_path, sink->path) != 0)
        return set_errno_error (error, errno, MSGTK_ERROR_CANT_CREATE, "cannot rename output to",
                                sink->path);
      g_clear_pointer (&sink->tmp_path, g_free);
    }
    break;
  case MSGTK_SINK_MBOX:
    if (fsync (sink->fd) != 0)
      return set_errno_error (error, errno, MSGTK_ERROR_IO, "cannot sync", sink->path);
    break;
  case MSGTK_SINK_MAILDIR:
    /* the renames become durable with the second sync */
    if (!flush_pending (sink, error) || !sync_tree (sink, error))
      return FALSE;
    break;
  case MSGTK_SINK_DIR:
    if (!sync_tree (sink, error))
      return FALSE;
    break;
  default: break;
  }
  sink->done = TRUE;
  return TRUE;
}

void
msgtk_sink_abort (MsgtkSink *sink)
{
  if (sink->done)
    return;
  sink->done = TRUE;
  switch (sink->kind) {
  case MSGTK_SINK_FILE:
    if (sink->fd >= 0) {
      close (sink->fd);
      sink->fd = -1;
    }
    if (sink->tmp_path)
      g_unlink (sink->tmp_path);
    g_clear_pointer (&sink->tmp_path, g_free);
    break;
  case MSGTK_SINK_MBOX:
    if (sink->fd >= 0)
      (void)!ftruncate (sink->fd, sink->orig_length);
    break;
  case MSGTK_SINK_MAILDIR:
  case MSGTK_SINK_DIR:
    for (guint i = 0; i < sink->pending->len; i++) {
      const char *tmp = g_array_index (sink->pending, Pending, i).tmp;
      if (tmp != NULL) /* NULL: moved into place before a batch failed */
        g_unlink (tmp);
    }
    g_array_set_size (sink->pending, 0);
    for (guint i = 0; i < sink->written->len; i++)
      g_unlink (g_ptr_array_index (sink->written, i));
    break;
  default: break;
  }
}

void
msgtk_sink_free (MsgtkSink *sink)
{
  if (!sink)
    return;
  msgtk_sink_abort (sink);
  if (sink->fd >= 0 && sink->fd != STDOUT_FILENO)
    close (sink->fd);
  g_free (sink->tmp_path);
  g_free (sink->path);
  g_free (sink->hostname);
  g_ptr_array_unref (sink->written);
  g_array_unref (sink->pending);
  g_mutex_clear (&sink->lock);
  g_free (sink);
}
