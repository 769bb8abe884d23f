/* msgtk — atomic writes and maildir delivery. */
#include <msgtk/error.h>

#include "delivery-private.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static gboolean
errno_error (GError **error, int err, MsgtkError code, const char *what, const char *path)
{
  g_set_error (error, MSGTK_ERROR, code, "%s '%s': %s", what, path, g_strerror (err));
  return FALSE;
}

/* ---- one file ---- */

AtomicFile *
atomic_file_new (const char *path, int mode, GError **error)
{
  g_autofree char *dir = g_path_get_dirname (path);
  g_autofree char *base = g_path_get_basename (path);
  g_autofree char *tmpl = g_strdup_printf (".%s.XXXXXX", base);
  AtomicFile *f = g_new0 (AtomicFile, 1);
  f->path = g_strdup (path);
  f->tmp_path = g_build_filename (dir, tmpl, NULL);
  f->fd = g_mkstemp_full (f->tmp_path, O_WRONLY | O_CLOEXEC, mode);
  if (f->fd < 0) {
    errno_error (error, errno, MSGTK_ERROR_CANT_CREATE, "cannot create", path);
    g_free (f->tmp_path);
    g_free (f->path);
    g_free (f);
    return NULL;
  }
  return f;
}

static void
atomic_file_free (AtomicFile *f)
{
  g_free (f->path);
  g_free (f->tmp_path);
  g_free (f);
}

gboolean
atomic_file_commit (AtomicFile *f, GError **error)
{
  gboolean ok = TRUE;
  if (fsync (f->fd) != 0)
    ok = errno_error (error, errno, MSGTK_ERROR_IO, "cannot sync", f->tmp_path);
  if (close (f->fd) != 0 && ok)
    ok = errno_error (error, errno, MSGTK_ERROR_IO, "cannot close", f->tmp_path);
  f->fd = -1;
  if (ok && g_rename (f->tmp_path, f->path) != 0)
    ok = errno_error (error, errno, MSGTK_ERROR_CANT_CREATE, "cannot rename into place", f->path);
  if (!ok)
    g_unlink (f->tmp_path);
  atomic_file_free (f);
  return ok;
}

void
atomic_file_abort (AtomicFile *f)
{
  if (f == NULL)
    return;
  if (f->fd >= 0)
    close (f->fd);
  g_unlink (f->tmp_path);
  atomic_file_free (f);
}

gboolean
atomic_write (const char *path, const void *data, gsize len, int mode, GError **error)
{
  AtomicFile *f = atomic_file_new (path, mode, error);
  if (f == NULL)
    return FALSE;
  const char *p = data;
  while (len > 0) {
    ssize_t n = write (f->fd, p, len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      errno_error (error, errno, MSGTK_ERROR_IO, "cannot write", path);
      atomic_file_abort (f);
      return FALSE;
    }
    p += n;
    len -= (gsize)n;
  }
  return atomic_file_commit (f, error);
}

/* ---- maildir ---- */

char *
maildir_unique_name (void)
{
  static gint counter;
  static char *host;
  if (g_once_init_enter (&host)) {
    /* maildir names may not hold '/' or ':' */
    char *h = g_strdup (g_get_host_name ());
    g_strdelimit (h, "/:", '_');
    g_once_init_leave (&host, h);
  }
  gint64 us = g_get_real_time ();
  guint q = (guint)g_atomic_int_add (&counter, 1) + 1;
  return g_strdup_printf ("%" G_GINT64_FORMAT ".M%06dP%dQ%u.%s", us / G_USEC_PER_SEC,
                          (int)(us % G_USEC_PER_SEC), (int)getpid (), q, host);
}

typedef struct {
  char *tmp;
  char *final;
  gint64 mtime; /* -1: leave it */
} Pending;

struct _MaildirDelivery {
  char *root;
  guint batch;
  GMutex lock;
  GArray *pending;    /* Pending: written to tmp/, not yet durable and moved */
  GPtrArray *written; /* files moved into place */
};

static void
pending_clear (gpointer data)
{
  Pending *p = data;
  g_free (p->tmp);
  g_free (p->final);
}

gboolean
delivery_sync_tree (const char *dir, GError **error)
{
  int fd = g_open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
  if (fd < 0)
    return errno_error (error, errno, MSGTK_ERROR_IO, "cannot open", dir);
  int rc = syncfs (fd);
  int err = errno;
  close (fd);
  if (rc != 0)
    return errno_error (error, err, MSGTK_ERROR_IO, "cannot sync", dir);
  return TRUE;
}

MaildirDelivery *
maildir_delivery_new (const char *root, guint batch, GError **error)
{
  const char *subs[] = { "tmp", "new", "cur" };
  for (guint i = 0; i < G_N_ELEMENTS (subs); i++) {
    g_autofree char *d = g_build_filename (root, subs[i], NULL);
    if (g_mkdir_with_parents (d, 0700) != 0) {
      errno_error (error, errno, MSGTK_ERROR_CANT_CREATE, "cannot create directory", d);
      return NULL;
    }
  }
  MaildirDelivery *d = g_new0 (MaildirDelivery, 1);
  d->root = g_strdup (root);
  d->batch = MAX (batch, 1);
  g_mutex_init (&d->lock);
  d->pending = g_array_new (FALSE, FALSE, sizeof (Pending));
  g_array_set_clear_func (d->pending, pending_clear);
  d->written = g_ptr_array_new_with_free_func (g_free);
  return d;
}

int
maildir_delivery_create (MaildirDelivery *d, const char *name, char **tmp_path, GError **error)
{
  char *tmp = g_build_filename (d->root, "tmp", name, NULL);
  int fd = g_open (tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    errno_error (error, errno, MSGTK_ERROR_CANT_CREATE, "cannot create", tmp);
    g_free (tmp);
    return -1;
  }
  *tmp_path = tmp;
  return fd;
}

static void
set_mtime (const char *path, gint64 mtime)
{
  if (mtime < 0)
    return;
  struct timespec ts[2] = { { mtime, 0 }, { mtime, 0 } };
  (void)utimensat (AT_FDCWD, path, ts, 0);
}

/* Make the pending messages durable and move them into place (lock held). */
static gboolean
flush_pending (MaildirDelivery *d, GError **error)
{
  if (d->pending->len == 0)
    return TRUE;
  if (d->batch == 1) {
    for (guint i = 0; i < d->pending->len; i++) {
      Pending *p = &g_array_index (d->pending, Pending, i);
      int fd = g_open (p->tmp, O_RDONLY | O_CLOEXEC, 0);
      gboolean synced = fd >= 0 && fsync (fd) == 0;
      int err = errno;
      if (fd >= 0)
        close (fd);
      if (!synced)
        return errno_error (error, err, MSGTK_ERROR_IO, "cannot sync", p->tmp);
    }
  } else if (!delivery_sync_tree (d->root, error))
    return FALSE;
  for (guint i = 0; i < d->pending->len; i++) {
    Pending *p = &g_array_index (d->pending, Pending, i);
    set_mtime (p->tmp, p->mtime);
    if (g_rename (p->tmp, p->final) != 0)
      return errno_error (error, errno, MSGTK_ERROR_CANT_CREATE, "cannot deliver", p->final);
    g_ptr_array_add (d->written, g_steal_pointer (&p->final));
    g_clear_pointer (&p->tmp, g_free);
  }
  g_array_set_size (d->pending, 0);
  return TRUE;
}

gboolean
maildir_delivery_add (MaildirDelivery *d, char *tmp_path, const char *name, MsgtkFlags flags,
                      gint64 mtime, char **final_path, GError **error)
{
  g_autofree char *letters = msgtk_flags_to_maildir (flags);
  Pending p = { tmp_path,
                flags ? g_strdup_printf ("%s/cur/%s:2,%s", d->root, name, letters)
                      : g_strdup_printf ("%s/new/%s", d->root, name),
                mtime };
  if (final_path != NULL)
    *final_path = g_strdup (p.final);
  g_mutex_lock (&d->lock);
  g_array_append_val (d->pending, p);
  gboolean ok = d->pending->len < d->batch || flush_pending (d, error);
  g_mutex_unlock (&d->lock);
  return ok;
}

gboolean
maildir_delivery_commit (MaildirDelivery *d, GError **error)
{
  g_mutex_lock (&d->lock);
  /* the renames become durable with a second sync */
  gboolean ok = flush_pending (d, error) && (d->batch == 1 || delivery_sync_tree (d->root, error));
  if (ok && d->batch == 1) {
    /* the new directory entries, one fsync each of new/ and cur/ */
    const char *subs[] = { "new", "cur" };
    for (guint i = 0; ok && i < G_N_ELEMENTS (subs); i++) {
      g_autofree char *dir = g_build_filename (d->root, subs[i], NULL);
      int fd = g_open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
      if (fd < 0 || fsync (fd) != 0)
        ok = errno_error (error, errno, MSGTK_ERROR_IO, "cannot sync", dir);
      if (fd >= 0)
        close (fd);
    }
  }
  g_mutex_unlock (&d->lock);
  return ok;
}

void
maildir_delivery_abort (MaildirDelivery *d)
{
  g_mutex_lock (&d->lock);
  for (guint i = 0; i < d->pending->len; i++) {
    const char *tmp = g_array_index (d->pending, Pending, i).tmp;
    if (tmp != NULL) /* NULL: moved into place before a batch failed */
      g_unlink (tmp);
  }
  g_array_set_size (d->pending, 0);
  for (guint i = 0; i < d->written->len; i++)
    g_unlink (g_ptr_array_index (d->written, i));
  g_ptr_array_set_size (d->written, 0);
  g_mutex_unlock (&d->lock);
}

void
maildir_delivery_free (MaildirDelivery *d)
{
  if (d == NULL)
    return;
  g_array_unref (d->pending);
  g_ptr_array_unref (d->written);
  g_mutex_clear (&d->lock);
  g_free (d->root);
  g_free (d);
}
