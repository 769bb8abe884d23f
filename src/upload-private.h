/* msgtk — the upload module's inside: one upload's state (upload.c: the
 * run, its reports and progress, on the calling thread; upload-feed.c: the
 * sources read into batches, a target per folder; upload-session.c: the
 * workers, one IMAP session each, binding mailboxes and sending batches). */
#pragma once

#include <msgtk/upload.h>

#include "jobs-private.h"

G_BEGIN_DECLS

/* A folder of the sources and the mailbox it goes to, looked at (bound)
 * by the first worker with messages for it. */
typedef struct {
  GMutex lock;
  char *folder;  /* '/' between names, "" for the sources' own messages */
  char *mailbox; /* on the server */
  gboolean bound;
  MsgtkJournalBox *box;      /* (nullable) */
  GHashTable *ids;           /* --dedupe: the Message-IDs it holds */
  GError *error;             /* it cannot be used: every message fails */
  guint failed;              /* messages failed for @error */
  GHashTable *copies;        /* contents seen in the folder (the feed's) */
  struct _Batch *cur;        /* the batch being filled (the feed's) */
  guint32 uidvalidity;       /* when it was looked at */
  guint planned;             /* messages for it in the sources (count_first) */
  MsgtkUploadMailbox *tally; /* the calling thread's */
} Target;

/* What became of one message, told on the calling thread. */
typedef struct {
  Target *target; /* NULL: an input that could not be read */
  MsgtkUploadOutcome outcome;
  char *identity;
  char *reason;
  guint64 size;
  guint32 uid;
} Report;

/* One job: messages for one target, or only failures to report in order. */
typedef struct _Batch {
  Target *target;
  GPtrArray *keys;  /* journal keys */
  GPtrArray *names; /* identities, for reports */
  GArray *sizes;    /* guint64 wire sizes */
  GArray *msgs;     /* MsgtkImapMessage */
  guint64 bytes;
  GPtrArray *failures; /* "identity: reason", reported in order */
  GArray *reports;     /* Report: what became of each message */
  GError *fatal;       /* the session ended during this batch */
} Batch;

typedef struct {
  const MsgtkUploadOptions *o;
  MsgtkUploadResult *result;
  GMutex lock; /* counts: workers add to them */
  gint64 start, last_progress;
  gint journal_broken; /* atomic: the run stops */
  GError *journal_error;
  guint not_sent;          /* messages left when it stopped */
  MsgtkImapSession *spare; /* the first session, for the first worker (atomic) */
  MsgtkFolderMap *map;
  GHashTable *targets; /* folder → Target */
  GPtrArray *order;    /* the targets as first met */
  Target *current;     /* the one last reported on */
} Upload;

/* ---- upload.c ---- */

Batch *upload_batch_new (Target *target);
void upload_batch_free (Batch *b);
/* @bytes of messages not uploaded after all (skipped or failed): for the
 * progress's estimate of what is left. */
void upload_left_out (Upload *up, guint64 bytes);
/* What became of message @name, for @t's mailbox, told with @b. */
void upload_report_for (Batch *b, Target *t, MsgtkUploadOutcome outcome, const char *name,
                        const char *reason, guint64 size, guint32 uid);
/* What became of message @name of @b. */
void upload_report (Batch *b, MsgtkUploadOutcome outcome, const char *name, const char *reason,
                    guint64 size, guint32 uid);
/* Message @name failed: a line of the result and a report. */
void upload_fail (Batch *b, const char *name, const char *why, guint64 size);
/* The progress, at most every 200 ms unless @now. */
void upload_tell_progress (Upload *up, gboolean now);

/* ---- upload-session.c ---- */

/* A session logged in to the account. */
MsgtkImapSession *upload_open_session (const MsgtkUploadOptions *o, GError **error);
/* What a user should know (the journal's decisions), one line. */
void upload_notice (Upload *up, const char *format, ...) G_GNUC_PRINTF (2, 3);
/* The journal could not be written: the run stops. */
void upload_journal_failed (Upload *up, GError *error);
/* The jobs' worker: a session each (the first takes up->spare). */
gpointer upload_worker_new (gpointer data);
void upload_worker_free (gpointer worker, gpointer data);
/* Send a batch (bind its target first). */
void upload_work (gpointer job, gpointer worker, gpointer data);

/* ---- upload-feed.c ---- */

/* Read @paths (NULL: standard input) into batches for @jobs, a target per
 * folder (with count_first, counted first). */
void upload_feed (Upload *up, Jobs *jobs, char **paths);

G_END_DECLS
