/* msgtk — the resume journal of uploads. */
#include <msgtk/error.h>
#include <msgtk/journal.h>

#include "wire-private.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

struct _MsgtkJournal {
  GMutex lock;
  int fd;
  char *path;
  GHashTable *keys;
  GHashTable *pending; /* keys sent but not confirmed */
  GHashTable *stored;  /* mailbox → set of the SHA-256 of its last messages */
};

char *
msgtk_journal_default_path (void)
{
  return g_build_filename (g_get_user_state_dir (), "msgtk", "append-journal", NULL);
}

char *
msgtk_journal_key (const char *identity, const char *mailbox, GBytes *data)
{
  g_autofree char *hash = g_compute_checksum_for_bytes (G_CHECKSUM_SHA256, data);
  g_autofree char *m = g_strescape (mailbox, NULL);
  g_autofree char *id = g_strescape (identity, NULL);
  return g_strdup_printf ("%s\t%s\t%s", hash, m, id);
}

MsgtkJournal *
msgtk_journal_open (const char *path, GError **error)
{
  g_autofree char *dir = g_path_get_dirname (path);
  if (g_mkdir_with_parents (dir, 0700) != 0) {
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_CANT_CREATE,
                 "cannot create the journal directory '%s': %s", dir, g_strerror (errno));
    return NULL;
  }
  int fd = g_open (path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) {
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_CANT_CREATE, "cannot open the journal '%s': %s",
                 path, g_strerror (errno));
    return NULL;
  }
  MsgtkJournal *j = g_new0 (MsgtkJournal, 1);
  g_mutex_init (&j->lock);
  j->fd = fd;
  j->path = g_strdup (path);
  j->keys = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  j->pending = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  j->stored
      = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify)g_hash_table_unref);
  g_autofree char *contents = NULL;
  gsize len = 0;
  if (!g_file_get_contents (path, &contents, &len, error)) {
    msgtk_journal_free (j);
    return NULL;
  }
  gsize start = 0, good = 0;
  for (gsize i = 0; i < len; i++) {
    if (contents[i] != '\n')
      continue;
    contents[i] = '\0';
    char *line = contents + start;
    if (g_str_has_prefix (line, "P\t")) {
      /* P \t key: sent, outcome unknown */
      if (!g_hash_table_contains (j->keys, line + 2))
        g_hash_table_add (j->pending, g_strdup (line + 2));
      start = good = i + 1;
      continue;
    }
    /* key \t uidvalidity \t uid */
    char *t2 = strrchr (line, '\t');
    if (t2 != NULL) {
      *t2 = '\0';
      char *t1 = strrchr (line, '\t');
      if (t1 != NULL) {
        *t1 = '\0';
        g_hash_table_add (j->keys, g_strdup (line));
        g_hash_table_remove (j->pending, line);
      }
    }
    start = i + 1;
    good = i + 1;
  }
  if (good < len && ftruncate (fd, (off_t)good) != 0) {
    /* a torn last line from an interrupted run: drop it */
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_IO, "cannot repair the journal '%s': %s", path,
                 g_strerror (errno));
    msgtk_journal_free (j);
    return NULL;
  }
  return j;
}

void
msgtk_journal_free (MsgtkJournal *j)
{
  if (j == NULL)
    return;
  if (j->fd >= 0)
    close (j->fd);
  g_hash_table_unref (j->keys);
  g_hash_table_unref (j->pending);
  g_hash_table_unref (j->stored);
  g_mutex_clear (&j->lock);
  g_free (j->path);
  g_free (j);
}

gboolean
msgtk_journal_contains (MsgtkJournal *j, const char *key)
{
  g_mutex_lock (&j->lock);
  gboolean r = g_hash_table_contains (j->keys, key);
  g_mutex_unlock (&j->lock);
  return r;
}

guint
msgtk_journal_size (MsgtkJournal *j)
{
  g_mutex_lock (&j->lock);
  guint r = g_hash_table_size (j->keys);
  g_mutex_unlock (&j->lock);
  return r;
}

/* Append @line to the journal (lock held); a short write is an error. */
static gboolean
append_line (MsgtkJournal *j, const char *line, GError **error)
{
  gsize len = strlen (line);
  errno = 0;
  if (write (j->fd, line, len) == (ssize_t)len)
    return TRUE;
  g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_IO, "cannot write to the journal '%s': %s", j->path,
               g_strerror (errno ? errno : ENOSPC));
  return FALSE;
}

gboolean
msgtk_journal_record (MsgtkJournal *j, const char *key, guint32 uidvalidity, guint32 uid,
                      GError **error)
{
  g_autofree char *line = g_strdup_printf ("%s\t%u\t%u\n", key, uidvalidity, uid);
  g_mutex_lock (&j->lock);
  gboolean ok = append_line (j, line, error);
  if (ok) {
    g_hash_table_add (j->keys, g_strdup (key));
    g_hash_table_remove (j->pending, key);
  }
  g_mutex_unlock (&j->lock);
  return ok;
}

gboolean
msgtk_journal_sync (MsgtkJournal *j, GError **error)
{
  if (fsync (j->fd) != 0) {
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_IO, "cannot sync the journal '%s': %s", j->path,
                 g_strerror (errno));
    return FALSE;
  }
  return TRUE;
}

gboolean
msgtk_journal_record_pending (MsgtkJournal *j, const char *key, GError **error)
{
  g_autofree char *line = g_strdup_printf ("P\t%s\n", key);
  g_mutex_lock (&j->lock);
  gboolean ok = append_line (j, line, error);
  g_mutex_unlock (&j->lock);
  return ok;
}

gboolean
msgtk_journal_is_pending (MsgtkJournal *j, const char *key)
{
  g_mutex_lock (&j->lock);
  gboolean r = g_hash_table_contains (j->pending, key);
  g_mutex_unlock (&j->lock);
  return r;
}

guint
msgtk_journal_pending_count (MsgtkJournal *j)
{
  g_mutex_lock (&j->lock);
  guint r = g_hash_table_size (j->pending);
  g_mutex_unlock (&j->lock);
  return r;
}

gboolean
msgtk_journal_decide (MsgtkJournal *j, MsgtkImapSession *session, const char *mailbox,
                      const char *key, GBytes *data, gboolean *skip, GError **error)
{
  *skip = msgtk_journal_contains (j, key);
  if (*skip || session == NULL || !msgtk_journal_is_pending (j, key))
    return TRUE;
  GHashTable *digests = g_hash_table_lookup (j->stored, mailbox);
  if (digests == NULL) {
    digests = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
    g_hash_table_insert (j->stored, g_strdup (mailbox), digests);
    guint count = MIN (msgtk_journal_pending_count (j), 100000);
    g_autoptr (GError) local = NULL;
    if (!msgtk_imap_session_fetch_last_digests (session, mailbox, count, digests, &local)) {
      g_propagate_prefixed_error (error, g_steal_pointer (&local),
                                  "cannot check what an interrupted run stored: ");
      return FALSE;
    }
  }
  gsize len;
  const guint8 *p = g_bytes_get_data (data, &len);
  g_autofree char *digest = wire_sha256 (p, len, WIRE_CRLF);
  if (!g_hash_table_remove (digests, digest))
    return TRUE;
  *skip = TRUE;
  return msgtk_journal_record (j, key, 0, 0, error);
}
