/* msgtk — locking an mbox for writing: a dotlock and an fcntl lock. */
#include <msgtk/error.h>

#include "mbox-lock-private.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* a dotlock this old is left over, whoever made it (as procmail has it) */
#define STALE_SECONDS 300
#define POLL_MS 50

/* Whether the dotlock @path is left over: the process it names is gone, or
 * it is older than STALE_SECONDS. */
static gboolean
stale (const char *path)
{
  g_autofree char *text = NULL;
  if (g_file_get_contents (path, &text, NULL, NULL)) {
    char *end;
    long pid = strtol (text, &end, 10);
    if (end != text && pid > 0 && kill ((pid_t)pid, 0) != 0 && errno == ESRCH)
      return TRUE;
  }
  GStatBuf st;
  return g_stat (path, &st) == 0 && time (NULL) - st.st_mtime > STALE_SECONDS;
}

/* One try at PATH.lock: TRUE when made (or when none can be made there:
 * @lock->dotlock stays NULL), FALSE when another holds it. */
static gboolean
try_dotlock (MboxLock *lock, const char *dotlock)
{
  int fd = g_open (dotlock, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd >= 0) {
    g_autofree char *pid = g_strdup_printf ("%ld\n", (long)getpid ());
    (void)!write (fd, pid, strlen (pid));
    close (fd);
    lock->dotlock = g_strdup (dotlock);
    return TRUE;
  }
  if (errno == EEXIST) {
    if (stale (dotlock))
      g_unlink (dotlock); /* the next try takes it */
    return FALSE;
  }
  return TRUE; /* a directory we may not write: the fcntl lock alone, as mutt does */
}

static gboolean
try_fcntl (int fd)
{
  struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
#ifdef F_OFD_SETLK
  /* an open file description's lock: closing another descriptor of the
   * same file in this process does not drop it */
  return fcntl (fd, F_OFD_SETLK, &fl) == 0;
#else
  return fcntl (fd, F_SETLK, &fl) == 0;
#endif
}

gboolean
mbox_lock (MboxLock *lock, int fd, const char *path, guint timeout_ms, GError **error)
{
  lock->dotlock = NULL;
  lock->fd = -1;
  g_autofree char *dotlock = g_strconcat (path, ".lock", NULL);
  gint64 deadline = g_get_monotonic_time () + (gint64)timeout_ms * 1000;
  gboolean dotted = FALSE;
  for (;;) {
    if (!dotted)
      dotted = try_dotlock (lock, dotlock);
    if (dotted && try_fcntl (fd)) {
      lock->fd = fd;
      return TRUE;
    }
    if (g_get_monotonic_time () >= deadline)
      break;
    g_usleep (POLL_MS * 1000);
  }
  g_autofree char *holder = NULL;
  if (!dotted && g_file_get_contents (dotlock, &holder, NULL, NULL))
    g_strstrip (holder);
  g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_TEMP_FAIL,
               "mbox '%s' is locked by another program (%s%s%s) after waiting %u s; try again "
               "later",
               path, dotted ? "an fcntl lock" : dotlock,
               holder != NULL && *holder ? ", process " : "", holder != NULL ? holder : "",
               timeout_ms / 1000);
  mbox_unlock (lock);
  return FALSE;
}

gboolean
mbox_lock_shared (int fd, const char *path, guint timeout_ms, GError **error)
{
  g_autofree char *dotlock = g_strconcat (path, ".lock", NULL);
  gint64 deadline = g_get_monotonic_time () + (gint64)timeout_ms * 1000;
  for (;;) {
    gboolean dotted = g_file_test (dotlock, G_FILE_TEST_EXISTS) && !stale (dotlock);
    struct flock fl = { .l_type = F_RDLCK, .l_whence = SEEK_SET };
#ifdef F_OFD_SETLK
    int r = dotted ? -1 : fcntl (fd, F_OFD_SETLK, &fl);
#else
    int r = dotted ? -1 : fcntl (fd, F_SETLK, &fl);
#endif
    if (r == 0 || (!dotted && errno != EAGAIN && errno != EACCES))
      return TRUE; /* locked, or not a file that takes locks */
    if (g_get_monotonic_time () >= deadline)
      break;
    g_usleep (POLL_MS * 1000);
  }
  g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_TEMP_FAIL,
               "'%s' is being written by another program (it holds %s) after waiting %u s; try "
               "again later",
               path, g_file_test (dotlock, G_FILE_TEST_EXISTS) ? dotlock : "an fcntl lock",
               timeout_ms / 1000);
  return FALSE;
}

void
mbox_unlock (MboxLock *lock)
{
  if (lock->fd >= 0) {
    struct flock fl = { .l_type = F_UNLCK, .l_whence = SEEK_SET };
#ifdef F_OFD_SETLK
    (void)fcntl (lock->fd, F_OFD_SETLK, &fl);
#else
    (void)fcntl (lock->fd, F_SETLK, &fl);
#endif
    lock->fd = -1;
  }
  if (lock->dotlock != NULL) {
    g_unlink (lock->dotlock);
    g_clear_pointer (&lock->dotlock, g_free);
  }
}
