/* msgtk — sinks: the one interface, and the standard output and file backends. */
#include <msgtk/error.h>
#include <msgtk/init.h>

#include "gmime-autoptr-private.h"
#include "message-private.h"
#include "sink-private.h"

#include <errno.h>
#include <unistd.h>

gboolean
sink_errno_error (GError **error, int err, MsgtkError code, const char *what, const char *path)
{
  g_set_error (error, MSGTK_ERROR, code, "%s '%s': %s", what, path, g_strerror (err));
  return FALSE;
}

gboolean
sink_write_all (int fd, const char *buf, gsize len, const char *path, GError **error)
{
  while (len > 0) {
    ssize_t n = write (fd, buf, len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return sink_errno_error (error, errno, MSGTK_ERROR_IO, "cannot write", path);
    buf += n;
    len -= (gsize)n;
  }
  return TRUE;
}

gboolean
sink_render (MsgtkSink *sink, int fd, const SinkPayload *p, GMimeFilter *extra, const char *path,
             GError **error)
{
  /* A pipe stream for files too: GMime's fs stream seeks before every write
   * and fsyncs on flush; the sink syncs once, where it must. */
  g_autoptr (GMimeStream) fs = g_mime_stream_pipe_new (fd);
  g_mime_stream_pipe_set_owner (GMIME_STREAM_PIPE (fs), FALSE);
  /* GMime writes in small pieces: buffer them into large write(2)s. */
  g_autoptr (GMimeStream) buffered = g_mime_stream_buffer_new (fs, GMIME_STREAM_BUFFER_BLOCK_WRITE);
  g_autoptr (GMimeStream) filtered = g_mime_stream_filter_new (buffered);
  if (extra != NULL)
    g_mime_stream_filter_add (GMIME_STREAM_FILTER (filtered), extra);
  MsgtkRenderOptions ro = { .eol = sink->eol,
                            .set_status = sink->kind == MSGTK_SINK_MBOX && p->data.message == NULL,
                            .flags = p->flags };
  gboolean ok = msgtk_message_render (&p->data, &ro, filtered, error);
  errno = 0;
  if (ok && (g_mime_stream_flush (filtered) < 0 || g_mime_stream_flush (buffered) < 0))
    ok = sink_errno_error (error, errno ? errno : EIO, MSGTK_ERROR_IO, "cannot write", path);
  else if (!ok)
    g_prefix_error (error, "'%s': ", path);
  return ok;
}

/* ---- the interface ---- */

static const SinkBackend *
backend_of (MsgtkSinkKind kind)
{
  switch (kind) {
  case MSGTK_SINK_STDOUT: return &sink_stdout_backend;
  case MSGTK_SINK_FILE: return &sink_file_backend;
  case MSGTK_SINK_MBOX: return &sink_mbox_backend;
  case MSGTK_SINK_MAILDIR: return &sink_maildir_backend;
  case MSGTK_SINK_DIR: return &sink_dir_backend;
  default: return NULL;
  }
}

MsgtkSink *
msgtk_sink_new (MsgtkSinkKind kind, const char *path, GError **error)
{
  msgtk_init ();
  const SinkBackend *backend = backend_of (kind);
  if (backend == NULL) {
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_USAGE, "unknown sink kind %d", (int)kind);
    return NULL;
  }
  MsgtkSink *sink = g_new0 (MsgtkSink, 1);
  sink->backend = backend;
  sink->kind = kind;
  sink->path = g_strdup (path ? path : "-");
  sink->fd = -1;
  sink->seq = 1;
  if (backend->open != NULL && !backend->open (sink, error)) {
    sink->done = TRUE;
    msgtk_sink_free (sink);
    return NULL;
  }
  return sink;
}

void
msgtk_sink_set_lock_timeout (MsgtkSink *sink, guint timeout_ms)
{
  sink->lock_timeout_ms = timeout_ms;
}

void
msgtk_sink_set_eol (MsgtkSink *sink, MsgtkEol eol)
{
  sink->eol = eol;
}

guint
msgtk_sink_count (MsgtkSink *sink)
{
  return (guint)g_atomic_int_get (&sink->count);
}

/* After msgtk_interrupt(), nothing more is written or committed. */
static gboolean
sink_interrupted (GError **error)
{
  if (!msgtk_interrupted ())
    return FALSE;
  g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_TEMP_FAIL, "interrupted");
  return TRUE;
}

static gboolean
sink_write (MsgtkSink *sink, const SinkPayload *p, GError **error)
{
  g_return_val_if_fail (!sink->done, FALSE);
  if (sink_interrupted (error) || !sink->backend->write (sink, p, error)
      || sink_interrupted (error))
    return FALSE;
  g_atomic_int_inc (&sink->count);
  return TRUE;
}

gboolean
msgtk_sink_write_message (MsgtkSink *sink, GMimeMessage *message, MsgtkFlags flags,
                          GDateTime *internal_date, char **path_out, GError **error)
{
  SinkPayload p = { { message, NULL, NULL },
                    flags,
                    internal_date ? internal_date : g_mime_message_get_date (message),
                    message_object_sender (message),
                    path_out,
                    NULL };
  return sink_write (sink, &p, error);
}

gboolean
sink_takes_any_order (MsgtkSink *sink)
{
  return sink->kind == MSGTK_SINK_MAILDIR;
}

char *
sink_reserve_name (MsgtkSink *sink)
{
  return sink->kind == MSGTK_SINK_MAILDIR ? maildir_unique_name () : NULL;
}

gboolean
sink_write_message_named (MsgtkSink *sink, const char *name, GMimeMessage *message, GError **error)
{
  SinkPayload p = { { message, NULL, NULL },         0,    g_mime_message_get_date (message),
                    message_object_sender (message), NULL, name };
  return sink_write (sink, &p, error);
}

gboolean
msgtk_sink_write_stream (MsgtkSink *sink, GInputStream *input, MsgtkFlags flags,
                         GDateTime *internal_date, const char *envelope_sender, char **path_out,
                         GError **error)
{
  g_autoptr (GBytes) head = NULL;
  g_autofree char *return_path = NULL;
  if (sink->kind == MSGTK_SINK_MBOX && !sink->done) {
    /* the From_ line wants the Return-Path, which is in the header block */
    head = message_read_head (input, error);
    if (head == NULL) {
      g_prefix_error (error, "cannot read message for '%s': ", sink->path);
      return FALSE;
    }
    if (envelope_sender == NULL)
      return_path = message_return_path (head);
  } else {
    head = g_bytes_new_static ("", 0);
  }
  SinkPayload p = { { NULL, head, input },
                    flags,
                    internal_date,
                    envelope_sender != NULL ? envelope_sender : return_path,
                    path_out,
                    NULL };
  return sink_write (sink, &p, error);
}

gboolean
msgtk_sink_write_item (MsgtkSink *sink, MsgtkItem *item, GError **error)
{
  if (msgtk_sink_write_stream (sink, item->stream, item->flags, item->internal_date,
                               item->envelope_sender, NULL, error))
    return TRUE;
  g_prefix_error (error, "%s#%u: ", item->path, item->index);
  return FALSE;
}

gboolean
msgtk_sink_commit (MsgtkSink *sink, GError **error)
{
  if (sink->done)
    return TRUE;
  if (sink_interrupted (error))
    return FALSE;
  if (sink->backend->commit != NULL && !sink->backend->commit (sink, error))
    return FALSE;
  sink->done = TRUE;
  return TRUE;
}

void
msgtk_sink_abort (MsgtkSink *sink)
{
  if (sink->done)
    return;
  sink->done = TRUE;
  if (sink->backend->abort != NULL)
    sink->backend->abort (sink);
}

void
msgtk_sink_free (MsgtkSink *sink)
{
  if (!sink)
    return;
  msgtk_sink_abort (sink);
  if (sink->backend->close != NULL)
    sink->backend->close (sink);
  g_free (sink->path);
  g_free (sink);
}

/* ---- standard output ---- */

static gboolean
stdout_write (MsgtkSink *sink, const SinkPayload *p, GError **error)
{
  return sink_render (sink, STDOUT_FILENO, p, NULL, "standard output", error);
}

const SinkBackend sink_stdout_backend = { NULL, stdout_write, NULL, NULL, NULL };

/* ---- one message to a file, atomically ---- */

static gboolean
file_write (MsgtkSink *sink, const SinkPayload *p, GError **error)
{
  if (sink->file != NULL || msgtk_sink_count (sink) > 0) {
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_USAGE,
                 "'%s' holds one message; write several to an mbox, maildir or directory",
                 sink->path);
    return FALSE;
  }
  sink->file = atomic_file_new (sink->path, 0644, error);
  if (sink->file == NULL)
    return FALSE;
  if (!sink_render (sink, sink->file->fd, p, NULL, sink->path, error))
    return FALSE;
  if (p->path_out)
    *p->path_out = g_strdup (sink->path);
  return TRUE;
}

static gboolean
file_commit (MsgtkSink *sink, GError **error)
{
  AtomicFile *f = g_steal_pointer (&sink->file);
  return f == NULL || atomic_file_commit (f, error);
}

static void
file_abort (MsgtkSink *sink)
{
  g_clear_pointer (&sink->file, atomic_file_abort);
}

const SinkBackend sink_file_backend = { NULL, file_write, file_commit, file_abort, NULL };
