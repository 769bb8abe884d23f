/* msgtk — the one atomic-write and maildir delivery of the library (private):
 * used by the sinks, the spool and every state file. A file is written under
 * a temporary name beside its final one, made durable, then renamed into
 * place, so that a reader never sees it half-written; maildir messages are
 * written to tmp/ and renamed into new/ or cur/ (with their flags) once
 * durable, in batches that share one sync. */
#pragma once

#include <msgtk/flags.h>

G_BEGIN_DECLS

/* ---- one file, written atomically ---- */

typedef struct {
  int fd;         /* write the contents here */
  char *path;     /* the final name */
  char *tmp_path; /* the temporary one, beside it */
} AtomicFile;

/* Create a temporary file beside @path (mode @mode) to be renamed to @path. */
AtomicFile *atomic_file_new (const char *path, int mode, GError **error);
/* fsync, close, rename into place; the AtomicFile is freed either way. */
gboolean atomic_file_commit (AtomicFile *file, GError **error);
/* Close and remove the temporary file; frees. */
void atomic_file_abort (AtomicFile *file);

/* The whole of @data as @path, atomically and durably. */
gboolean atomic_write (const char *path, const void *data, gsize len, int mode, GError **error);

/* ---- maildir ---- */

/* A name no other delivery uses: "SECONDS.MMICROSECONDSPPIDQN.HOST". */
char *maildir_unique_name (void);

typedef struct _MaildirDelivery MaildirDelivery;

/* Deliver into the maildir @root (tmp/, new/ and cur/ created, mode 0700,
 * when missing). Messages become durable @batch at a time (one syncfs(2)
 * for all of them; 1: each one fsync'ed on its own). Thread-safe. */
MaildirDelivery *maildir_delivery_new (const char *root, guint batch, GError **error);

/* A new file tmp/@name (created exclusively, mode 0600): its descriptor, or
 * -1; *@tmp_path gets its path. */
int maildir_delivery_create (MaildirDelivery *d, const char *name, char **tmp_path, GError **error);

/* The file written at @tmp_path (closed) goes into new/, or into cur/ with
 * @flags as its ":2," suffix when there are some, once durable (this call,
 * or a later one). @mtime (-1: leave it) dates it. *@final_path (nullable)
 * gets where it goes. Takes @tmp_path. */
gboolean maildir_delivery_add (MaildirDelivery *d, char *tmp_path, const char *name,
                               MsgtkFlags flags, gint64 mtime, char **final_path, GError **error);

/* Everything added so far durable and in place. */
gboolean maildir_delivery_commit (MaildirDelivery *d, GError **error);

/* Remove everything added since the start (in tmp/ or moved into place). */
void maildir_delivery_abort (MaildirDelivery *d);

void maildir_delivery_free (MaildirDelivery *d);

/* Make everything written under @dir durable (syncfs(2) of its file system). */
gboolean delivery_sync_tree (const char *dir, GError **error);

G_END_DECLS
