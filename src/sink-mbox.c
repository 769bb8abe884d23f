/* msgtk — the mbox sink: From_ lines, mboxrd quoting, appends rolled back on failure. */
#include <msgtk/error.h>

#include "date-private.h"
#include "sink-private.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
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

/* ---- the backend ---- */

/* how long a sink waits for an mbox another program has locked */
#define LOCK_TIMEOUT_MS 30000

static gboolean
mbox_open (MsgtkSink *sink, GError **error)
{
  struct stat st;
  /* not through a symbolic link: it could point at any file of the user's */
  sink->fd = g_open (sink->path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (sink->fd < 0 && errno == ELOOP) {
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_CANT_CREATE,
                 "cannot open mbox '%s': it is a symbolic link; give the file itself", sink->path);
    return FALSE;
  }
  if (sink->fd < 0 || fstat (sink->fd, &st) != 0)
    return sink_errno_error (error, errno, MSGTK_ERROR_CANT_CREATE, "cannot open mbox", sink->path);
  if (!S_ISREG (st.st_mode)) {
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_CANT_CREATE,
                 "cannot open mbox '%s': not a regular file", sink->path);
    return FALSE;
  }
  sink->orig_length = sink->end = st.st_size;
  if (sink->lock_timeout_ms == 0)
    sink->lock_timeout_ms = LOCK_TIMEOUT_MS;
  return TRUE;
}

/* Before the first message: the mbox locked, its length then, and the
 * empty line that separates a message from the one before (an mbox whose
 * last message lacks it would swallow ours). */
static gboolean
mbox_begin (MsgtkSink *sink, GError **error)
{
  if (!mbox_lock (&sink->lock, sink->fd, sink->path, sink->lock_timeout_ms, error))
    return FALSE;
  sink->locked = TRUE;
  struct stat st;
  if (fstat (sink->fd, &st) != 0)
    return sink_errno_error (error, errno, MSGTK_ERROR_IO, "cannot read mbox", sink->path);
  sink->orig_length = sink->end = st.st_size;
  if (st.st_size == 0)
    return TRUE;
  char tail[3] = { 0, 0, 0 };
  gsize n = MIN ((gsize)st.st_size, sizeof tail);
  if (pread (sink->fd, tail + sizeof tail - n, n, st.st_size - (off_t)n) != (ssize_t)n)
    return sink_errno_error (error, errno, MSGTK_ERROR_IO, "cannot read mbox", sink->path);
  /* ends "\n\n" or "\n\r\n": separated; "\n": one line end more; else two */
  gboolean crlf = tail[1] == '\r' && tail[2] == '\n';
  guint more = tail[2] != '\n' ? 2 : tail[1] == '\n' || (crlf && tail[0] == '\n') ? 0 : 1;
  const char *nl = crlf || sink->eol == MSGTK_EOL_CRLF ? "\r\n" : "\n";
  if (more == 0)
    return TRUE;
  g_autofree char *missing = more == 2 ? g_strconcat (nl, nl, NULL) : g_strdup (nl);
  if (!sink_write_all (sink->fd, missing, strlen (missing), sink->path, error))
    return FALSE;
  sink->end += (off_t)strlen (missing);
  return TRUE;
}

static char *
from_line (MsgtkSink *sink, const char *sender, GDateTime *date)
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
mbox_write (MsgtkSink *sink, const SinkPayload *p, GError **error)
{
  if (!sink->locked && !mbox_begin (sink, error))
    return FALSE;
  g_autofree char *from = from_line (sink, p->sender, p->date);
  off_t before = sink->end;
  MboxrdFilter *quote = g_object_new (mboxrd_filter_get_type (), NULL);
  gboolean ok = sink_write_all (sink->fd, from, strlen (from), sink->path, error)
                && sink_render (sink, sink->fd, p, GMIME_FILTER (quote), sink->path, error);
  if (ok) {
    /* the message ends with a newline, then one empty line separates */
    const char *nl = sink->eol == MSGTK_EOL_CRLF ? "\r\n" : "\n";
    if (quote->any && !quote->last_nl)
      ok = sink_write_all (sink->fd, nl, strlen (nl), sink->path, error);
    if (ok)
      ok = sink_write_all (sink->fd, nl, strlen (nl), sink->path, error);
  }
  g_object_unref (quote);
  struct stat st;
  if (!ok) {
    /* leave the mbox as it was before this message: only what we wrote goes */
    if (fstat (sink->fd, &st) == 0 && st.st_size >= before)
      (void)!ftruncate (sink->fd, before);
    return FALSE;
  }
  sink->end = fstat (sink->fd, &st) == 0 ? st.st_size : sink->end;
  if (p->path_out)
    *p->path_out = g_strdup (sink->path);
  return TRUE;
}

static gboolean
mbox_commit (MsgtkSink *sink, GError **error)
{
  if (fsync (sink->fd) != 0)
    return sink_errno_error (error, errno, MSGTK_ERROR_IO, "cannot sync", sink->path);
  return TRUE;
}

static void
mbox_abort (MsgtkSink *sink)
{
  /* what we appended goes, under the lock that kept others from appending
   * after it (and not if somebody did all the same) */
  struct stat st;
  if (sink->fd >= 0 && sink->locked && fstat (sink->fd, &st) == 0 && st.st_size == sink->end)
    (void)!ftruncate (sink->fd, sink->orig_length);
}

static void
mbox_close (MsgtkSink *sink)
{
  if (sink->locked)
    mbox_unlock (&sink->lock);
  sink->locked = FALSE;
  if (sink->fd >= 0)
    close (sink->fd);
  sink->fd = -1;
}

const SinkBackend sink_mbox_backend
    = { mbox_open, mbox_write, mbox_commit, mbox_abort, mbox_close };
