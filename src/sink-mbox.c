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

static gboolean
mbox_open (MsgtkSink *sink, GError **error)
{
  struct stat st;
  sink->fd = g_open (sink->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (sink->fd < 0 || fstat (sink->fd, &st) != 0)
    return sink_errno_error (error, errno, MSGTK_ERROR_CANT_CREATE, "cannot open mbox", sink->path);
  sink->orig_length = st.st_size;
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
  g_autofree char *from = from_line (sink, p->sender, p->date);
  struct stat st;
  off_t before = fstat (sink->fd, &st) == 0 ? st.st_size : sink->orig_length;
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
  if (!ok) {
    /* leave the mbox as it was before this message */
    (void)!ftruncate (sink->fd, before);
    return FALSE;
  }
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
  if (sink->fd >= 0)
    (void)!ftruncate (sink->fd, sink->orig_length);
}

static void
mbox_close (MsgtkSink *sink)
{
  if (sink->fd >= 0)
    close (sink->fd);
  sink->fd = -1;
}

const SinkBackend sink_mbox_backend
    = { mbox_open, mbox_write, mbox_commit, mbox_abort, mbox_close };
