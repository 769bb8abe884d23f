/* msgtk — the maildir sink and the .eml directory sink. */
#include <msgtk/error.h>

#include "sink-private.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <unistd.h>

/* Messages written to tmp/ are made durable in batches of this many (one
 * syncfs(2)), then renamed into new/ or cur/. */
#define MAILDIR_BATCH 256

/* ---- maildir ---- */

static gboolean
maildir_open (MsgtkSink *sink, GError **error)
{
  sink->maildir = maildir_delivery_new (sink->path, MAILDIR_BATCH, error);
  return sink->maildir != NULL;
}

static gboolean
maildir_write (MsgtkSink *sink, const SinkPayload *p, GError **error)
{
  g_autofree char *name = p->name != NULL ? g_strdup (p->name) : maildir_unique_name ();
  char *tmp = NULL;
  int fd = maildir_delivery_create (sink->maildir, name, &tmp, error);
  if (fd < 0)
    return FALSE;
  if (!sink_render (sink, fd, p, NULL, tmp, error)) {
    close (fd);
    g_unlink (tmp);
    g_free (tmp);
    return FALSE;
  }
  if (close (fd) != 0) {
    int err = errno;
    g_unlink (tmp);
    sink_errno_error (error, err, MSGTK_ERROR_IO, "cannot close", tmp);
    g_free (tmp);
    return FALSE;
  }
  return maildir_delivery_add (sink->maildir, tmp, name, p->flags,
                               p->date ? g_date_time_to_unix (p->date) : -1, p->path_out, error);
}

static gboolean
maildir_commit (MsgtkSink *sink, GError **error)
{
  return maildir_delivery_commit (sink->maildir, error);
}

static void
maildir_abort (MsgtkSink *sink)
{
  maildir_delivery_abort (sink->maildir);
}

static void
maildir_close (MsgtkSink *sink)
{
  g_clear_pointer (&sink->maildir, maildir_delivery_free);
}

const SinkBackend sink_maildir_backend
    = { maildir_open, maildir_write, maildir_commit, maildir_abort, maildir_close };

/* ---- a directory of numbered .eml files ---- */

static gboolean
dir_open (MsgtkSink *sink, GError **error)
{
  sink->written = g_ptr_array_new_with_free_func (g_free);
  if (g_mkdir_with_parents (sink->path, 0700) != 0)
    return sink_errno_error (error, errno, MSGTK_ERROR_CANT_CREATE, "cannot create directory",
                             sink->path);
  return TRUE;
}

static void
set_mtime (const char *path, GDateTime *date)
{
  if (date == NULL)
    return;
  gint64 t = g_date_time_to_unix (date);
  struct timespec ts[2] = { { t, 0 }, { t, 0 } };
  (void)utimensat (AT_FDCWD, path, ts, 0);
}

static gboolean
dir_write (MsgtkSink *sink, const SinkPayload *p, GError **error)
{
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
    return sink_errno_error (error, errno, MSGTK_ERROR_CANT_CREATE, "cannot create", file);
  if (!sink_render (sink, fd, p, NULL, file, error)) {
    close (fd);
    g_unlink (file);
    return FALSE;
  }
  if (close (fd) != 0) {
    int err = errno;
    g_unlink (file);
    return sink_errno_error (error, err, MSGTK_ERROR_IO, "cannot close", file);
  }
  set_mtime (file, p->date);
  if (p->path_out)
    *p->path_out = g_strdup (file);
  g_ptr_array_add (sink->written, g_steal_pointer (&file));
  return TRUE;
}

static gboolean
dir_commit (MsgtkSink *sink, GError **error)
{
  return delivery_sync_tree (sink->path, error);
}

static void
dir_abort (MsgtkSink *sink)
{
  for (guint i = 0; i < sink->written->len; i++)
    g_unlink (g_ptr_array_index (sink->written, i));
  g_ptr_array_set_size (sink->written, 0);
}

static void
dir_close (MsgtkSink *sink)
{
  g_clear_pointer (&sink->written, g_ptr_array_unref);
}

const SinkBackend sink_dir_backend = { dir_open, dir_write, dir_commit, dir_abort, dir_close };
