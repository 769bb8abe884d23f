/* msgtk — uploads of sources into IMAP mailboxes. */
#include <msgtk/error.h>
#include <msgtk/labels.h>
#include <msgtk/message.h>
#include <msgtk/source.h>
#include <msgtk/upload.h>

#include "error-private.h"
#include "jobs-private.h"
#include "json-private.h"
#include "wire-private.h"

#include <string.h>

/* A batch in one APPEND command at most this big (messages: options->batch). */
#define BATCH_BYTES (4 * 1024 * 1024)
/* progress is told at most this often (microseconds) */
#define PROGRESS_EVERY 200000

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

static void
report_clear (gpointer p)
{
  Report *r = p;
  g_free (r->identity);
  g_free (r->reason);
}

static Batch *
batch_new (Target *target)
{
  Batch *b = g_new0 (Batch, 1);
  b->target = target;
  b->keys = g_ptr_array_new_with_free_func (g_free);
  b->names = g_ptr_array_new_with_free_func (g_free);
  b->sizes = g_array_new (FALSE, FALSE, sizeof (guint64));
  b->msgs = g_array_new (FALSE, TRUE, sizeof (MsgtkImapMessage));
  b->failures = g_ptr_array_new_with_free_func (g_free);
  b->reports = g_array_new (FALSE, TRUE, sizeof (Report));
  g_array_set_clear_func (b->reports, report_clear);
  return b;
}

static void
batch_free (Batch *b)
{
  for (guint i = 0; i < b->msgs->len; i++)
    msgtk_imap_message_clear (&g_array_index (b->msgs, MsgtkImapMessage, i));
  g_array_unref (b->msgs);
  g_array_unref (b->sizes);
  g_ptr_array_unref (b->keys);
  g_ptr_array_unref (b->names);
  g_ptr_array_unref (b->failures);
  g_array_unref (b->reports);
  g_clear_error (&b->fatal);
  g_free (b);
}

static void
target_free (gpointer p)
{
  Target *t = p;
  g_mutex_clear (&t->lock);
  g_free (t->folder);
  g_free (t->mailbox);
  g_clear_pointer (&t->ids, g_hash_table_unref);
  g_clear_pointer (&t->copies, g_hash_table_unref);
  g_clear_error (&t->error);
  if (t->tally != NULL)
    msgtk_upload_mailbox_free (t->tally);
  g_free (t);
}

/* @bytes of messages not uploaded after all (skipped or failed): for the
 * progress's estimate of what is left. */
static void
left_out (Upload *up, guint64 bytes)
{
  g_mutex_lock (&up->lock);
  up->result->counts.bytes_left_out += bytes;
  g_mutex_unlock (&up->lock);
}

/* What became of message @name, for @t's mailbox, told with @b. */
static void
report_for (Batch *b, Target *t, MsgtkUploadOutcome outcome, const char *name, const char *reason,
            guint64 size, guint32 uid)
{
  Report r = { t, outcome, g_strdup (name), g_strdup (reason), size, uid };
  g_array_append_val (b->reports, r);
}

/* What became of message @name of @b. */
static void
report (Batch *b, MsgtkUploadOutcome outcome, const char *name, const char *reason, guint64 size,
        guint32 uid)
{
  report_for (b, b->target, outcome, name, reason, size, uid);
}

/* Message @name failed: a line of the result and a report. */
static void
fail (Batch *b, const char *name, const char *why, guint64 size)
{
  g_ptr_array_add (b->failures, g_strdup_printf ("%s: %s", name, why));
  report (b, MSGTK_UPLOAD_FAILED, name, why, size, 0);
}

static MsgtkImapSession *
open_session (const MsgtkUploadOptions *o, GError **error)
{
  g_autoptr (MsgtkImapSession) s = msgtk_imap_session_connect (o->account, o->trace, error);
  if (s == NULL || !msgtk_imap_session_authenticate (s, o->account, error))
    return NULL;
  return g_steal_pointer (&s);
}

static void notice (Upload *up, const char *format, ...) G_GNUC_PRINTF (2, 3);

static void
notice (Upload *up, const char *format, ...)
{
  if (up->o->notice == NULL)
    return;
  va_list ap;
  va_start (ap, format);
  g_autofree char *text = g_strdup_vprintf (format, ap);
  va_end (ap);
  up->o->notice (text, up->o->data);
}

/* ---- the workers: one connection each ---- */

static void
journal_failed (Upload *up, GError *error)
{
  g_mutex_lock (&up->lock);
  if (up->journal_error == NULL)
    up->journal_error = error;
  else
    g_error_free (error);
  g_mutex_unlock (&up->lock);
  g_atomic_int_set (&up->journal_broken, 1);
}

static void
add_message_id (const MsgtkImapFetched *m, gpointer data)
{
  if (m->header == NULL)
    return;
  char *id = msgtk_message_get_header (m->header, "Message-ID");
  if (id != NULL)
    g_hash_table_add (data, id);
}

static void
tell_bind (Upload *up, Target *t, guint32 uidvalidity, const MsgtkJournalBindReport *r)
{
  if (r->old_uidvalidity != 0)
    notice (up,
            "mailbox '%s' was made again since the journal's last run (UIDVALIDITY %u, now %u): "
            "the %u messages recorded there are uploaded again",
            t->mailbox, r->old_uidvalidity, uidvalidity, r->voided);
  if (r->found + r->lost > 0)
    notice (up,
            "%u messages an interrupted run sent to '%s': %u found there, %u not (uploaded again)",
            r->found + r->lost, t->mailbox, r->found, r->lost);
  if (r->migrated + r->unverified > 0)
    notice (up, "%u entries of an older journal for '%s': %u found there, %u not (uploaded again)",
            r->migrated + r->unverified, t->mailbox, r->migrated, r->unverified);
}

/* Look at @t's mailbox: its state (created if missing and asked to), what
 * the journal knows of it, and with --dedupe the Message-IDs it holds. A
 * missing mailbox sets @t->error. */
static gboolean
look_at_target (Upload *up, MsgtkImapSession *s, Target *t, GError **error)
{
  const MsgtkUploadOptions *o = up->o;
  MsgtkImapMailboxStatus st;
  if (!msgtk_imap_session_status (s, t->mailbox, &st, error))
    return FALSE;
  t->tally->state = st.exists ? MSGTK_UPLOAD_MAILBOX_EXISTS : MSGTK_UPLOAD_MAILBOX_CREATED;
  t->tally->held = st.exists ? st.messages : 0;
  t->uidvalidity = st.uidvalidity;
  if (!st.exists && o->create && o->dry_run)
    return TRUE; /* it would be created */
  if (!st.exists && o->create
      && (!msgtk_imap_session_create (s, t->mailbox, error)
          || !msgtk_imap_session_status (s, t->mailbox, &st, error)))
    return FALSE;
  t->uidvalidity = st.uidvalidity;
  if (!st.exists) {
    t->tally->state = MSGTK_UPLOAD_MAILBOX_UNUSABLE;
    error_set_hint (&t->error, MSGTK_ERROR_HINT_CREATE_MAILBOX, MSGTK_ERROR_CANT_CREATE,
                    "mailbox '%s' does not exist on %s", t->mailbox,
                    msgtk_imap_session_get_host (s));
    return TRUE;
  }
  if (o->journal != NULL) {
    g_autofree char *target
        = msgtk_journal_target (msgtk_imap_session_get_host (s), msgtk_imap_session_get_port (s),
                                o->account->user, t->mailbox);
    MsgtkJournalBindReport r;
    t->box = msgtk_journal_bind (o->journal, s, target, t->mailbox, &st, &r, error);
    if (t->box == NULL) {
      if (g_error_matches (*error, MSGTK_ERROR, MSGTK_ERROR_IO))
        journal_failed (up, g_error_copy (*error)); /* nothing more is sent */
      return FALSE;
    }
    tell_bind (up, t, st.uidvalidity, &r);
  }
  if (o->dedupe) {
    t->ids = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
    if (!msgtk_imap_session_uid_fetch (s, t->mailbox, 1, 0, MSGTK_IMAP_FETCH_MESSAGE_ID,
                                       add_message_id, t->ids, error))
      return FALSE;
  }
  return TRUE;
}

/* Whether @error is the server's answer about a mailbox (which the next
 * session would get too), not the end of a session. */
static gboolean
refused (const GError *error)
{
  return error->domain == MSGTK_ERROR
         && (error->code == MSGTK_ERROR_PROTOCOL || error->code == MSGTK_ERROR_UNAVAILABLE
             || error->code == MSGTK_ERROR_CANT_CREATE || error->code == MSGTK_ERROR_USAGE);
}

/* Look at @t's mailbox before its first message goes: its state (created
 * if missing and asked to), what the journal knows of it, and with
 * --dedupe the Message-IDs it holds. FALSE when the session failed; a
 * mailbox that cannot be used (missing, or refused) sets @t->error. */
static gboolean
bind_target (Upload *up, MsgtkImapSession *s, Target *t, GError **error)
{
  GError *local = NULL;
  if (look_at_target (up, s, t, &local))
    return TRUE;
  if (refused (local)) {
    t->error = local;
    return TRUE;
  }
  g_propagate_error (error, local);
  return FALSE;
}

/* Leave out of @b what the mailbox has (the journal says so, or with
 * --dedupe it held the Message-ID when it was looked at). */
static void
leave_out_stored (Upload *up, Batch *b)
{
  Target *t = b->target;
  guint kept = 0;
  for (guint i = 0; i < b->msgs->len; i++) {
    MsgtkImapMessage *m = &g_array_index (b->msgs, MsgtkImapMessage, i);
    const char *why = NULL;
    if (t->box != NULL && msgtk_journal_box_contains (t->box, b->keys->pdata[i]))
      why = "the journal shows it uploaded";
    if (why == NULL && t->ids != NULL) {
      g_autofree char *id = msgtk_message_get_header (m->data, "Message-ID");
      if (id != NULL && g_hash_table_contains (t->ids, id))
        why = "its Message-ID is in the mailbox";
    }
    if (why != NULL) {
      report (b, MSGTK_UPLOAD_SKIPPED, b->names->pdata[i], why, g_bytes_get_size (m->data), 0);
      g_mutex_lock (&up->lock);
      up->result->counts.skipped++;
      up->result->counts.bytes_total -= g_bytes_get_size (m->data);
      up->result->counts.bytes_left_out += g_bytes_get_size (m->data);
      g_mutex_unlock (&up->lock);
      msgtk_imap_message_clear (m);
      continue;
    }
    /* the kept ones to the front, the others (cleared) to the back */
    MsgtkImapMessage *to = &g_array_index (b->msgs, MsgtkImapMessage, kept);
    MsgtkImapMessage tmp = *to;
    *to = *m;
    *m = tmp;
    g_array_index (b->sizes, guint64, kept) = g_array_index (b->sizes, guint64, i);
    GPtrArray *arrays[] = { b->keys, b->names };
    for (guint a = 0; a < G_N_ELEMENTS (arrays); a++) {
      gpointer p = arrays[a]->pdata[kept];
      arrays[a]->pdata[kept] = arrays[a]->pdata[i];
      arrays[a]->pdata[i] = p;
    }
    kept++;
  }
  g_array_set_size (b->msgs, kept);
  g_array_set_size (b->sizes, kept);
  g_ptr_array_set_size (b->keys, kept);
  g_ptr_array_set_size (b->names, kept);
}

typedef struct {
  Upload *up;
  Batch *batch;
} Settle;

/* Whether the refusal of @m says the whole mailbox takes nothing more (it
 * is over quota, or the user may not add to it): then it is said once for
 * the mailbox, the messages after it are not sent, and @t counts them. */
static gboolean
mailbox_refused (Batch *b, const char *name, const MsgtkImapMessage *m, const char *why)
{
  Target *t = b->target;
  if (m->code == NULL
      || (g_ascii_strcasecmp (m->code, "OVERQUOTA") != 0
          && g_ascii_strcasecmp (m->code, "NOPERM") != 0))
    return FALSE;
  g_mutex_lock (&t->lock);
  if (t->error == NULL)
    g_set_error (&t->error, MSGTK_ERROR, MSGTK_ERROR_UNAVAILABLE, "mailbox '%s' %s", t->mailbox,
                 why);
  t->failed++;
  g_mutex_unlock (&t->lock);
  report (b, MSGTK_UPLOAD_FAILED, name, why, g_bytes_get_size (m->data), 0);
  return TRUE;
}

/* As soon as an APPEND completes: the journal gets the outcome before
 * anything else is sent. */
static void
settled (MsgtkImapMessage *m, guint n, gpointer data)
{
  Settle *st = data;
  Upload *up = st->up;
  MsgtkJournalBox *box = st->batch->target->box;
  gboolean wrote = FALSE;
  for (guint i = 0; i < n; i++) {
    guint k = GPOINTER_TO_UINT (m[i].user_data);
    const char *key = st->batch->keys->pdata[k];
    GError *jerr = NULL;
    if (m[i].status == MSGTK_IMAP_APPEND_OK) {
      if (box != NULL && !msgtk_journal_box_stored (box, key, m[i].uid, &jerr))
        journal_failed (up, jerr);
      g_mutex_lock (&up->lock);
      up->result->counts.uploaded++;
      up->result->counts.bytes_done += g_bytes_get_size (m[i].data);
      g_mutex_unlock (&up->lock);
      report (st->batch, MSGTK_UPLOAD_UPLOADED, st->batch->names->pdata[k], NULL,
              g_bytes_get_size (m[i].data), m[i].uid);
    } else {
      if (box != NULL && !msgtk_journal_box_refused (box, key, &jerr))
        journal_failed (up, jerr);
      g_autofree char *why
          = g_strdup_printf ("refused by the server: %s%s%s%s", m[i].code ? "[" : "",
                             m[i].code ? m[i].code : "", m[i].code ? "] " : "", m[i].text);
      if (!mailbox_refused (st->batch, st->batch->names->pdata[k], &m[i], why))
        fail (st->batch, st->batch->names->pdata[k], why, g_bytes_get_size (m[i].data));
      left_out (up, g_bytes_get_size (m[i].data));
    }
    wrote = TRUE;
  }
  GError *jerr = NULL;
  if (wrote && box != NULL && !msgtk_journal_sync (up->o->journal, &jerr))
    journal_failed (up, jerr);
}

/* Before a command carrying @m is sent: the messages noted as in flight, so
 * that a run interrupted before the answer looks for them on the server; a
 * message that cannot be noted is not sent. */
static gboolean
sending (MsgtkImapMessage *m, guint n, gpointer data, GError **error)
{
  Settle *st = data;
  MsgtkJournalBox *box = st->batch->target->box;
  for (guint i = 0; box != NULL && i < n; i++) {
    guint k = GPOINTER_TO_UINT (m[i].user_data);
    if (!msgtk_journal_box_sending (box, st->batch->keys->pdata[k],
                                    g_array_index (st->batch->sizes, guint64, k), error)) {
      journal_failed (st->up, g_error_copy (*error));
      return FALSE;
    }
  }
  return TRUE;
}

typedef struct {
  MsgtkImapSession *session;
} Worker;

static gpointer
worker_new (gpointer data)
{
  Upload *up = data;
  Worker *w = g_new0 (Worker, 1);
  w->session = g_atomic_pointer_exchange (&up->spare, NULL);
  return w;
}

static void
worker_free (gpointer worker, gpointer data)
{
  Worker *w = worker;
  if (w->session != NULL) {
    msgtk_imap_session_logout (w->session);
    msgtk_imap_session_free (w->session);
  }
  g_free (w);
}

/* Whether @t can take messages, binding it first (on @w's session). */
static gboolean
target_ready (Upload *up, Worker *w, Target *t, GError **error)
{
  g_mutex_lock (&t->lock);
  gboolean ok = TRUE;
  if (!t->bound) {
    ok = bind_target (up, w->session, t, error);
    t->bound = ok;
  }
  g_mutex_unlock (&t->lock);
  return ok;
}

/* Every message of @b reported as not uploaded for @why (counted elsewhere). */
static void
report_all (Batch *b, const char *why)
{
  for (guint i = 0; i < b->msgs->len; i++)
    report (b, MSGTK_UPLOAD_FAILED, b->names->pdata[i], why,
            g_bytes_get_size (g_array_index (b->msgs, MsgtkImapMessage, i).data), 0);
}

/* A dry run: what would go. */
static void
plan (Upload *up, Batch *b)
{
  for (guint i = 0; i < b->msgs->len; i++) {
    gsize len = g_bytes_get_size (g_array_index (b->msgs, MsgtkImapMessage, i).data);
    report (b, MSGTK_UPLOAD_UPLOADED, b->names->pdata[i], NULL, len, 0);
    g_mutex_lock (&up->lock);
    up->result->counts.uploaded++;
    up->result->counts.bytes_done += len;
    g_mutex_unlock (&up->lock);
  }
}

static void
work (gpointer job, gpointer worker, gpointer data)
{
  Upload *up = data;
  Worker *w = worker;
  Batch *b = job;
  if (b->msgs->len == 0)
    return;
  if (g_atomic_int_get (&up->journal_broken)) {
    g_mutex_lock (&up->lock);
    up->not_sent += b->msgs->len;
    g_mutex_unlock (&up->lock);
    report_all (b, "not uploaded: the run stopped");
    left_out (up, b->bytes);
    return;
  }
  if (up->o->dry_run && up->o->offline) {
    plan (up, b);
    return;
  }
  GError *error = NULL;
  if (w->session == NULL)
    w->session = open_session (up->o, &error);
  Target *t = b->target;
  if (w->session != NULL && !target_ready (up, w, t, &error))
    g_clear_pointer (&w->session, msgtk_imap_session_free);
  g_mutex_lock (&t->lock);
  gboolean unusable = w->session != NULL && t->error != NULL;
  if (unusable) {
    t->failed += b->msgs->len;
    report_all (b, t->error->message);
  }
  g_mutex_unlock (&t->lock);
  if (unusable) {
    left_out (up, b->bytes);
    return;
  }
  if (w->session != NULL)
    leave_out_stored (up, b);
  if (w->session != NULL && up->o->dry_run) {
    plan (up, b);
    return;
  }
  MsgtkImapMessage *m = (MsgtkImapMessage *)b->msgs->data;
  Settle st = { up, b };
  MsgtkImapAppendOptions ao = { .max_count = up->o->batch ? up->o->batch : 100,
                                .settled = settled,
                                .sending = sending,
                                .data = &st };
  for (guint i = 0; i < b->msgs->len; i++)
    m[i].user_data = GUINT_TO_POINTER (i);
  if (w->session != NULL && b->msgs->len > 0
      && !msgtk_imap_session_append (w->session, t->mailbox, m, b->msgs->len, &ao, &error))
    g_clear_pointer (&w->session, msgtk_imap_session_free);
  for (guint i = 0; i < b->msgs->len; i++)
    if (m[i].status == MSGTK_IMAP_APPEND_PENDING) {
      fail (b, b->names->pdata[i], error ? error->message : "not uploaded",
            g_bytes_get_size (m[i].data));
      left_out (up, g_bytes_get_size (m[i].data));
    }
  b->fatal = error;
}

/* ---- on the calling thread ---- */

static void
tell_progress (Upload *up, gboolean now)
{
  if (up->o->progress == NULL)
    return;
  gint64 t = g_get_monotonic_time ();
  if (!now && t - up->last_progress < PROGRESS_EVERY)
    return;
  up->last_progress = t;
  g_mutex_lock (&up->lock);
  MsgtkUploadCounts c = up->result->counts;
  g_mutex_unlock (&up->lock);
  c.seconds = (t - up->start) / 1e6;
  if (up->current != NULL && up->current->tally != NULL) {
    MsgtkUploadMailbox *m = up->current->tally;
    c.mailbox = m->mailbox;
    c.mailbox_done = m->uploaded + m->skipped + m->deleted + m->failed;
    c.mailbox_planned = up->current->planned;
  }
  up->o->progress (&c, up->o->data);
}

/* What became of a message: counted for its mailbox, told to the caller. */
static void
tell_report (Upload *up, const Report *r)
{
  MsgtkUploadReport out = { .identity = r->identity,
                            .outcome = r->outcome,
                            .reason = r->reason,
                            .size = r->size,
                            .uid = r->uid,
                            .dry_run = up->o->dry_run };
  if (r->target != NULL) {
    MsgtkUploadMailbox *m = r->target->tally;
    switch (r->outcome) {
    case MSGTK_UPLOAD_UPLOADED:
      m->uploaded++;
      m->bytes += r->size;
      break;
    case MSGTK_UPLOAD_SKIPPED: m->skipped++; break;
    case MSGTK_UPLOAD_DELETED: m->deleted++; break;
    case MSGTK_UPLOAD_FAILED: m->failed++; break;
    }
    out.mailbox = m->mailbox;
    out.uidvalidity = r->target->uidvalidity;
    up->current = r->target;
  }
  if (up->o->reported != NULL)
    up->o->reported (&out, up->o->data);
}

static void
finish (gpointer job, gpointer data)
{
  Upload *up = data;
  Batch *b = job;
  MsgtkUploadResult *r = up->result;
  for (guint i = 0; i < b->reports->len; i++)
    tell_report (up, &g_array_index (b->reports, Report, i));
  g_mutex_lock (&up->lock);
  r->counts.failed += b->failures->len;
  for (guint i = 0; i < b->failures->len; i++)
    g_ptr_array_add (r->failures, g_steal_pointer (&b->failures->pdata[i]));
  if (b->fatal != NULL && r->fatal == NULL)
    r->fatal = g_steal_pointer (&b->fatal);
  g_mutex_unlock (&up->lock);
  tell_progress (up, FALSE);
  batch_free (b);
}

static GDateTime *
internal_date (MsgtkUploadDate from, MsgtkItem *item, GBytes *data)
{
  switch (from) {
  case MSGTK_UPLOAD_DATE_SOURCE:
    return item->internal_date ? g_date_time_ref (item->internal_date)
                               : msgtk_message_get_date (data);
  case MSGTK_UPLOAD_DATE_HEADER: {
    GDateTime *d = msgtk_message_get_date (data);
    return d != NULL || item->internal_date == NULL ? d : g_date_time_ref (item->internal_date);
  }
  case MSGTK_UPLOAD_DATE_NOW:
  default: return NULL;
  }
}

/* batches being filled at once at the most (a message with several Gmail
 * labels goes to several mailboxes) */
#define OPEN_BATCHES 8

typedef struct {
  Upload *up;
  Jobs *jobs;
  GPtrArray *open; /* the targets whose batch is being filled, oldest first */
  Batch *loose;    /* reports of messages in no batch since the last batch went */
} Feed;

static void
push (Feed *f, Batch **b)
{
  if (*b == NULL)
    return;
  guint64 bytes = (*b)->bytes;
  jobs_push (f->jobs, g_steal_pointer (b), (gsize)bytes);
}

/* Send @t's batch being filled. */
static void
push_target (Feed *f, Target *t)
{
  if (t->cur == NULL)
    return;
  g_ptr_array_remove (f->open, t);
  push (f, &t->cur);
}

/* Send every batch being filled, oldest first. */
static void
push_open (Feed *f)
{
  while (f->open->len > 0)
    push_target (f, f->open->pdata[0]);
}

/* The batch of reports of messages in no batch. */
static Batch *
loose (Feed *f)
{
  if (f->loose == NULL)
    f->loose = batch_new (NULL);
  return f->loose;
}

/* A failure to report in its place among the batches. */
static void
feed_fail (Feed *f, const char *name, const char *why)
{
  push_open (f); /* what came before goes first */
  fail (loose (f), name, why, 0);
}

static Target *
target_for (Upload *up, const char *folder)
{
  Target *t = g_hash_table_lookup (up->targets, folder);
  if (t == NULL) {
    t = g_new0 (Target, 1);
    g_mutex_init (&t->lock);
    t->folder = g_strdup (folder);
    t->copies = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
    t->mailbox = msgtk_folder_map_mailbox (up->map, folder);
    t->tally = g_new0 (MsgtkUploadMailbox, 1);
    t->tally->folder = g_strdup (folder);
    t->tally->mailbox = g_strdup (t->mailbox);
    g_hash_table_insert (up->targets, t->folder, t);
    g_ptr_array_add (up->order, t);
  }
  return t;
}

/* The keywords of a message: @more (its Gmail labels'), those of its
 * X-Keywords and X-Mozilla-Keys fields (Thunderbird's tags), then the
 * options'; NULL for none. */
static char **
message_keywords (const MsgtkUploadOptions *o, GBytes *data, GPtrArray *more)
{
  g_autoptr (GPtrArray) kw = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; more != NULL && i < more->len; i++)
    msgtk_flags_add_keyword (kw, more->pdata[i]);
  static const char *const fields[] = { "X-Keywords", "X-Mozilla-Keys" };
  for (guint i = 0; i < G_N_ELEMENTS (fields); i++) {
    g_autofree char *v = msgtk_message_get_header (data, fields[i]);
    if (v != NULL)
      msgtk_flags_parse_keywords (v, kw);
  }
  for (char **k = o->keywords; k != NULL && *k != NULL; k++)
    msgtk_flags_parse_keywords (*k, kw);
  if (kw->len == 0)
    return NULL;
  g_ptr_array_add (kw, NULL);
  g_ptr_array_set_free_func (kw, NULL);
  return (char **)g_ptr_array_free (g_steal_pointer (&kw), FALSE);
}

/* Add one copy of a message to @t's batch. */
static void
add_copy (Feed *f, Target *t, MsgtkItem *item, GBytes *data, MsgtkFlags flags, char **keywords)
{
  const MsgtkUploadOptions *o = f->up->o;
  gsize len = g_bytes_get_size (data);
  guint max_count = o->batch ? o->batch : 100;
  if (t->cur != NULL && (t->cur->msgs->len >= max_count || t->cur->bytes + len > BATCH_BYTES))
    push_target (f, t);
  push (f, &f->loose);
  if (t->cur == NULL) {
    if (f->open->len >= OPEN_BATCHES)
      push_target (f, f->open->pdata[0]);
    t->cur = batch_new (t);
    g_ptr_array_add (f->open, t);
  }
  MsgtkImapMessage m = { 0 };
  m.data = g_bytes_ref (data);
  m.flags = flags;
  m.keywords = keywords;
  m.internal_date = internal_date (o->date_from, item, data);
  t->cur->bytes += len;
  g_array_append_val (t->cur->msgs, m);
  guint64 size = wire_size (g_bytes_get_data (data, NULL), len, WIRE_CRLF);
  g_array_append_val (t->cur->sizes, size);
  /* the content's identity, for the journal only */
  g_ptr_array_add (t->cur->keys,
                   o->journal != NULL ? msgtk_journal_message_key (data, t->copies) : NULL);
  g_ptr_array_add (t->cur->names, g_strdup (item->identity));
}

/* Whether the message has Gmail labels that say where it goes (@labels
 * filled then; clear it). */
static gboolean
gmail_labels (const MsgtkUploadOptions *o, GBytes *data, MsgtkLabels *labels)
{
  if (o->labels == MSGTK_UPLOAD_LABELS_IGNORE)
    return FALSE;
  g_autofree char *value = msgtk_message_get_header (data, "X-Gmail-Labels");
  if (value == NULL)
    return FALSE;
  msgtk_labels_parse (value, o->labels == MSGTK_UPLOAD_LABELS_KEYWORDS, labels);
  return TRUE;
}

/* The folder of copy @i of @item: that of its label, or its own. */
static const char *
copy_folder (MsgtkItem *item, const MsgtkLabels *labels, guint i)
{
  if (labels->folders != NULL)
    return labels->folders->pdata[i];
  return item->folder != NULL ? item->folder : "";
}

/* Add one message to the batches being filled: one copy, or with Gmail
 * labels one for each folder they name (the labels say where it was in the
 * account, in place of the name of Takeout's mbox file). */
static void
feed_item (Feed *f, MsgtkItem *item, GBytes *data)
{
  Upload *up = f->up;
  const MsgtkUploadOptions *o = up->o;
  gsize len = g_bytes_get_size (data);
  if (len == 0) {
    feed_fail (f, item->identity, "empty message");
    return;
  }
  MsgtkFlags flags = item->flags | o->flags;
  MsgtkLabels labels = { 0 };
  gboolean labelled = gmail_labels (o, data, &labels);
  if (labelled)
    flags = (flags | labels.set) & ~labels.clear;
  guint copies = labelled ? labels.folders->len : 1;
  if (o->skip_deleted && (flags & MSGTK_FLAG_DELETED)) {
    g_mutex_lock (&up->lock);
    up->result->counts.deleted += copies;
    g_mutex_unlock (&up->lock);
    for (guint i = 0; i < copies; i++)
      report_for (loose (f), target_for (up, copy_folder (item, &labels, i)), MSGTK_UPLOAD_DELETED,
                  item->identity, "marked deleted", len, 0);
    msgtk_labels_clear (&labels);
    return;
  }
  for (guint i = 0; i < copies; i++) {
    Target *t = target_for (up, copy_folder (item, &labels, i));
    g_mutex_lock (&up->lock);
    up->result->counts.bytes_total += len;
    g_mutex_unlock (&up->lock);
    char **keywords = message_keywords (o, data, labels.keywords);
    add_copy (f, t, item, data, flags, keywords);
  }
  msgtk_labels_clear (&labels);
}

/* Count the messages and bytes of @paths (header blocks only: sizes come
 * from the source); standard input cannot be read twice: unknown. */
static void
count_first (Upload *up, char **paths)
{
  guint n = 0;
  guint64 bytes = 0;
  for (char **p = paths; p != NULL && *p != NULL; p++) {
    if (strcmp (*p, "-") == 0)
      return;
    g_autoptr (MsgtkSource) src = msgtk_source_open (*p, MSGTK_SOURCE_FORMAT_AUTO, NULL);
    if (src == NULL)
      continue; /* the upload reports it */
    msgtk_source_set_headers_only (src, TRUE);
    for (;;) {
      g_autoptr (GError) error = NULL;
      g_autoptr (MsgtkItem) item = msgtk_source_next (src, &error);
      if (item == NULL && error == NULL)
        break;
      if (item == NULL)
        continue;
      /* a copy for each folder of its labels */
      g_autoptr (GBytes) head
          = up->o->labels != MSGTK_UPLOAD_LABELS_IGNORE ? msgtk_item_read_bytes (item, NULL) : NULL;
      MsgtkLabels labels = { 0 };
      guint copies = head != NULL && gmail_labels (up->o, head, &labels) ? labels.folders->len : 1;
      for (guint i = 0; i < copies; i++)
        target_for (up, copy_folder (item, &labels, i))->planned++;
      msgtk_labels_clear (&labels);
      n += copies;
      bytes += (guint64)item->size * copies;
    }
  }
  up->result->counts.planned = n;
  up->result->counts.bytes_planned = bytes;
}

static void
feed_path (Feed *f, const char *path)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MsgtkSource) src = msgtk_source_open (path, MSGTK_SOURCE_FORMAT_AUTO, &error);
  if (src == NULL) {
    f->up->result->unreadable++;
    feed_fail (f, path, error->message);
    return;
  }
  while (!g_atomic_int_get (&f->up->journal_broken)) {
    g_clear_error (&error);
    g_autoptr (MsgtkItem) item = msgtk_source_next (src, &error);
    if (item == NULL) {
      if (error == NULL)
        break;
      f->up->result->unreadable++;
      feed_fail (f, path, error->message);
      continue;
    }
    g_autoptr (GBytes) data = msgtk_item_read_bytes (item, &error);
    g_mutex_lock (&f->up->lock);
    f->up->result->counts.read++;
    g_mutex_unlock (&f->up->lock);
    if (data == NULL) {
      f->up->result->unreadable++;
      feed_fail (f, item->identity, error->message);
      continue;
    }
    feed_item (f, item, data);
    tell_progress (f->up, FALSE);
  }
}

/* A mailbox that could not be used: one line for all its messages. */
static void
report_targets (Upload *up)
{
  MsgtkUploadResult *r = up->result;
  for (guint i = 0; i < up->order->len; i++) {
    Target *t = up->order->pdata[i];
    if (t->error != NULL) {
      t->tally->state = MSGTK_UPLOAD_MAILBOX_UNUSABLE;
      t->tally->error = g_strdup (t->error->message);
    }
    MsgtkUploadMailbox *m = t->tally;
    if (m->uploaded + m->skipped + m->deleted + m->failed > 0)
      g_ptr_array_add (r->mailboxes, g_steal_pointer (&t->tally));
    if (t->error == NULL || t->failed == 0)
      continue;
    r->counts.failed += t->failed;
    g_ptr_array_add (r->failures, g_strdup_printf ("%s (%u messages not uploaded)",
                                                   t->error->message, t->failed));
    if (r->fatal == NULL)
      r->fatal = g_error_copy (t->error);
  }
}

gboolean
msgtk_upload (char **paths, const MsgtkUploadOptions *o, MsgtkUploadResult *result, GError **error)
{
  memset (result, 0, sizeof *result);
  result->failures = g_ptr_array_new_with_free_func (g_free);
  result->mailboxes = g_ptr_array_new_with_free_func ((GDestroyNotify)msgtk_upload_mailbox_free);
  Upload up = { .o = o, .result = result };
  up.map = msgtk_folder_map_new (o->mailbox);
  for (char **r = o->map; r != NULL && *r != NULL; r++)
    if (!msgtk_folder_map_add_rule (up.map, *r, error)) {
      msgtk_folder_map_free (up.map);
      msgtk_upload_result_clear (result);
      return FALSE;
    }
  g_mutex_init (&up.lock);
  up.start = g_get_monotonic_time ();
  up.targets = g_hash_table_new (g_str_hash, g_str_equal);
  up.order = g_ptr_array_new_with_free_func (target_free);
  if (!o->dry_run || !o->offline) {
    /* the first session, made before anything is read (a login that fails
     * fails the run at once); it tells what the server's mailboxes are like
     * (namespace, delimiter, special uses), then serves the first worker */
    up.spare = open_session (o, error);
    if (up.spare == NULL || !msgtk_folder_map_learn (up.map, up.spare, error)) {
      g_clear_pointer (&up.spare, msgtk_imap_session_free);
      msgtk_upload_result_clear (result); /* nothing for the caller to clear */
      g_hash_table_unref (up.targets);
      g_ptr_array_unref (up.order);
      msgtk_folder_map_free (up.map);
      g_mutex_clear (&up.lock);
      return FALSE;
    }
  }
  guint jobs = o->jobs ? o->jobs : 1;
  JobsConfig c = { .threads = jobs,
                   .background = TRUE,
                   .window = 2 * jobs,
                   .work = work,
                   .finish = finish,
                   .worker_new = worker_new,
                   .worker_free = worker_free,
                   .data = &up };
  Feed f = { .up = &up, .open = g_ptr_array_new () };
  f.jobs = jobs_new (&c);
  static const char *const stdin_paths[] = { "-", NULL };
  if (o->count_first && paths != NULL)
    count_first (&up, paths);
  for (char **p = paths != NULL ? paths : (char **)stdin_paths;
       *p != NULL && !g_atomic_int_get (&up.journal_broken); p++)
    feed_path (&f, *p);
  push_open (&f);
  push (&f, &f.loose);
  g_ptr_array_unref (f.open);
  jobs_free (f.jobs);
  if (up.spare != NULL) {
    /* no message needed it */
    msgtk_imap_session_logout (up.spare);
    msgtk_imap_session_free (up.spare);
  }
  report_targets (&up);
  if (up.journal_error != NULL) {
    /* nothing is certain after a journal write failed: it ends the run */
    g_clear_error (&result->fatal);
    result->fatal = g_steal_pointer (&up.journal_error);
    result->stopped = TRUE;
    if (up.not_sent > 0) {
      result->counts.failed += up.not_sent;
      g_ptr_array_add (
          result->failures,
          g_strdup_printf ("%u messages not uploaded: the run stopped there", up.not_sent));
    }
  }
  tell_progress (&up, TRUE);
  result->counts.seconds = (g_get_monotonic_time () - up.start) / 1e6;
  g_hash_table_unref (up.targets);
  g_ptr_array_unref (up.order);
  msgtk_folder_map_free (up.map);
  g_mutex_clear (&up.lock);
  return TRUE;
}

void
msgtk_upload_result_clear (MsgtkUploadResult *r)
{
  g_clear_pointer (&r->failures, g_ptr_array_unref);
  g_clear_pointer (&r->mailboxes, g_ptr_array_unref);
  g_clear_error (&r->fatal);
}

void
msgtk_upload_mailbox_free (MsgtkUploadMailbox *m)
{
  g_free (m->folder);
  g_free (m->mailbox);
  g_free (m->error);
  g_free (m);
}

JsonNode *
msgtk_upload_report_to_json (const MsgtkUploadReport *r)
{
  static const char *const status[] = { "uploaded", "skipped", "deleted", "failed" };
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "source");
  json_builder_add_string_value (b, r->identity);
  json_string_or_null (b, "mailbox", r->mailbox);
  json_builder_set_member_name (b, "status");
  json_builder_add_string_value (
      b, r->dry_run && r->outcome == MSGTK_UPLOAD_UPLOADED ? "planned" : status[r->outcome]);
  json_string_or_null (b, "reason", r->reason);
  json_builder_set_member_name (b, "size");
  json_builder_add_int_value (b, (gint64)r->size);
  json_int_or_null (b, "uidvalidity", r->uidvalidity);
  json_int_or_null (b, "uid", r->uid);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}
