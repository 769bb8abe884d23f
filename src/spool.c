/* msgtk — the spool of messages not sent yet. */
#include <msgtk/error.h>
#include <msgtk/spool.h>

#include "delivery-private.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

gboolean
msgtk_spool_put (const char *dir, const char *sender, GPtrArray *recipients, GBytes *message,
                 const char *reason, char **name_out, GError **error)
{
  g_autofree char *envdir = g_build_filename (dir, "env", NULL);
  if (g_mkdir_with_parents (envdir, 0700) != 0) {
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_CANT_CREATE, "cannot create spool %s: %s", envdir,
                 g_strerror (errno));
    return FALSE;
  }
  MaildirDelivery *d = maildir_delivery_new (dir, 1, error);
  if (d == NULL)
    return FALSE;
  g_autofree char *name = maildir_unique_name ();
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_key_file_set_string (kf, "envelope", "sender", sender ? sender : "");
  g_key_file_set_string_list (kf, "envelope", "recipients", (const char *const *)recipients->pdata,
                              recipients->len);
  if (reason)
    g_key_file_set_string (kf, "envelope", "reason", reason);
  gsize elen;
  g_autofree char *env = g_key_file_to_data (kf, &elen, NULL);
  g_autofree char *envpath = g_build_filename (envdir, name, NULL);
  gsize mlen;
  const char *m = g_bytes_get_data (message, &mlen);
  char *tmp = NULL;
  int fd = -1;
  /* the envelope first: a message in new/ always has its envelope */
  gboolean ok = atomic_write (envpath, env, elen, 0600, error)
                && (fd = maildir_delivery_create (d, name, &tmp, error)) >= 0;
  while (ok && mlen > 0) {
    ssize_t n = write (fd, m, mlen);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_CANT_CREATE, "cannot write %s: %s", tmp,
                   g_strerror (errno));
      ok = FALSE;
      break;
    }
    m += n;
    mlen -= (gsize)n;
  }
  if (fd >= 0 && close (fd) != 0 && ok) {
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_CANT_CREATE, "cannot write %s: %s", tmp,
                 g_strerror (errno));
    ok = FALSE;
  }
  if (ok)
    ok = maildir_delivery_add (d, g_steal_pointer (&tmp), name, 0, -1, NULL, error)
         && maildir_delivery_commit (d, error);
  if (!ok) {
    if (tmp != NULL)
      g_unlink (tmp);
    g_free (tmp);
    maildir_delivery_abort (d);
    g_unlink (envpath);
    if (error != NULL && *error != NULL && (*error)->code != MSGTK_ERROR_CANT_CREATE)
      (*error)->code = MSGTK_ERROR_CANT_CREATE;
  }
  maildir_delivery_free (d);
  if (ok && name_out)
    *name_out = g_steal_pointer (&name);
  return ok;
}

static gint
cmp_str (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *)a, *(const char *const *)b);
}

GPtrArray *
msgtk_spool_list (const char *dir, GError **error)
{
  g_autofree char *newdir = g_build_filename (dir, "new", NULL);
  g_autoptr (GError) local = NULL;
  GDir *d = g_dir_open (newdir, 0, &local);
  if (d == NULL) {
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_NO_INPUT, "cannot read spool %s: %s", dir,
                 local->message);
    return NULL;
  }
  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);
  const char *n;
  while ((n = g_dir_read_name (d)))
    if (n[0] != '.')
      g_ptr_array_add (names, g_strdup (n));
  g_dir_close (d);
  g_ptr_array_sort (names, cmp_str);
  return names;
}

gboolean
msgtk_spool_get (const char *dir, const char *name, char **sender, GPtrArray *recipients,
                 GBytes **message, GError **error)
{
  g_autofree char *envp = g_build_filename (dir, "env", name, NULL);
  g_autofree char *msgp = g_build_filename (dir, "new", name, NULL);
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autoptr (GError) local = NULL;
  char *data = NULL;
  gsize len = 0;
  if (!g_key_file_load_from_file (kf, envp, G_KEY_FILE_NONE, &local)
      || !g_file_get_contents (msgp, &data, &len, &local)) {
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_NO_INPUT, "spooled message %s is unreadable: %s",
                 name, local->message);
    return FALSE;
  }
  *sender = g_key_file_get_string (kf, "envelope", "sender", NULL);
  gsize n = 0;
  g_auto (GStrv) rcpts = g_key_file_get_string_list (kf, "envelope", "recipients", &n, NULL);
  for (gsize i = 0; i < n; i++)
    g_ptr_array_add (recipients, g_strdup (rcpts[i]));
  *message = g_bytes_new_take (data, len);
  return TRUE;
}

int
msgtk_spool_lock (const char *dir, GError **error)
{
  g_autofree char *path = g_build_filename (dir, "lock", NULL);
  int fd = open (path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    int e = errno;
    g_set_error (error, MSGTK_ERROR, e == ENOENT ? MSGTK_ERROR_NO_INPUT : MSGTK_ERROR_CANT_CREATE,
                 "cannot lock spool %s: %s", dir, g_strerror (e));
    return -1;
  }
  if (flock (fd, LOCK_EX | LOCK_NB) != 0) {
    int e = errno;
    close (fd);
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_TEMP_FAIL,
                 "spool %s is being flushed by another process (%s); try again later", dir,
                 g_strerror (e));
    return -1;
  }
  return fd;
}

gboolean
msgtk_spool_remove (const char *dir, const char *name, GError **error)
{
  g_autofree char *envp = g_build_filename (dir, "env", name, NULL);
  g_autofree char *msgp = g_build_filename (dir, "new", name, NULL);
  if (unlink (msgp) != 0 && errno != ENOENT) {
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_IO, "cannot remove %s: %s", msgp,
                 g_strerror (errno));
    return FALSE;
  }
  unlink (envp);
  return TRUE;
}
