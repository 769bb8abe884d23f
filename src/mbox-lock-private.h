/* msgtk — mbox locking as mutt, procmail and Dovecot do it: a dotlock
 * (PATH.lock) and an fcntl lock on the file, taken with a bounded wait. */
#pragma once

#include <glib.h>

typedef struct {
  char *dotlock; /* the PATH.lock we made; NULL when none (not allowed there) */
  int fd;        /* the file the fcntl lock is on */
} MboxLock;

/* Lock the mbox @path, open as @fd (for writing): make PATH.lock (a stale
 * one, of a process gone or older than 5 minutes, is removed first; where
 * the directory does not let us make one, the fcntl lock alone) and take an
 * exclusive fcntl lock, waiting @timeout_ms at most. MSGTK_ERROR_TEMP_FAIL
 * naming the holder when it stays locked. */
gboolean mbox_lock (MboxLock *lock, int fd, const char *path, guint timeout_ms, GError **error);

/* Lock the file @path, open as @fd, for reading: wait (@timeout_ms at
 * most) while another program holds PATH.lock (not a stale one) or an
 * exclusive fcntl lock, then take a shared fcntl lock, held until @fd is
 * closed. A file that cannot be locked (a pipe, a file system without
 * locks) is read as it is. MSGTK_ERROR_TEMP_FAIL when it stays locked. */
gboolean mbox_lock_shared (int fd, const char *path, guint timeout_ms, GError **error);

/* Release what mbox_lock() took (nothing when it took nothing). */
void mbox_unlock (MboxLock *lock);
