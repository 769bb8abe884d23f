/* msgtk — uploads of sources into IMAP mailboxes. */
#include <msgtk/error.h>
#include <msgtk/message.h>
#include <msgtk/source.h>
#include <msgtk/upload.h>

#include "jobs-private.h"

#include <string.h>

/* A batch in one APPEND command at most this big (messages: options->batch). */
#define BATCH_BYTES (4 * 1024 * 1024)
/* progress is told at most this often (microseconds) */
#define PROGRESS_EVERY 200000

/* One job: messages for one mailbox, or only failures to report in order. */
typedef struct {
  char *mailbox;
  GPtrArray *keys;  /* journal keys */
  GPtrArray *names; /* identities, for reports */
  GArray *msgs;     /* MsgtkImapMessage */
  guint64 bytes;
  GPtrArray *failures; /* "identity: reason", reported in order */
  GError *fatal;       /* the session ended during this batch */
} Batch;

typedef struct {
  const MsgtkUploadOptions *o;
  MsgtkUploadResult *result;
  GMutex lock; /* counts: workers add to them */
  gint64 start, last_progress;
  gint journal_broken; /* atomic */
  GError *journal_error;
} Upload;

static Batch *
batch_new (const char *mailbox)
{
  Batch *b = g_new0 (Batch, 1);
  b->mailbox = g_strdup (mailbox);
  b->keys = g_ptr_array_new_with_free_func (g_free);
  b->names = g_ptr_array_new_with_free_func (g_free);
  b->msgs = g_array_new (FALSE, TRUE, sizeof (MsgtkImapMessage));
  b->failures = g_ptr_array_new_with_free_func (g_free);
  return b;
}

static void
batch_free (Batch *b)
{
  for (guint i = 0; i < b->msgs->len; i++)
    msgtk_imap_message_clear (&g_array_index (b->msgs, MsgtkImapMessage, i));
  g_array_unref (b->msgs);
  g_ptr_array_unref (b->keys);
  g_ptr_array_unref (b->names);
  g_ptr_array_unref (b->failures);
  g_clear_error (&b->fatal);
  g_free (b->mailbox);
  g_free (b);
}

static void
fail (Batch *b, const char *name, const char *why)
{
  g_ptr_array_add (b->failures, g_strdup_printf ("%s: %s", name, why));
}

static MsgtkImapSession *
open_session (const MsgtkUploadOptions *o, GError **error)
{
  g_autoptr (MsgtkImapSession) s = msgtk_imap_session_connect (o->account, o->trace, error);
  if (s == NULL || !msgtk_imap_session_authenticate (s, o->account, error))
    return NULL;
  return g_steal_pointer (&s);
}

/* ---- the workers: one connection each ---- */

typedef struct {
  Upload *up;
  Batch *batch;
} Settle;

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

/* As soon as an APPEND completes: the journal gets the stored messages
 * before anything else is sent. */
static void
settled (MsgtkImapMessage *m, guint n, gpointer data)
{
  Settle *st = data;
  Upload *up = st->up;
  MsgtkJournal *journal = up->o->journal;
  gboolean wrote = FALSE;
  for (guint i = 0; i < n; i++) {
    guint k = GPOINTER_TO_UINT (m[i].user_data);
    if (m[i].status == MSGTK_IMAP_APPEND_OK) {
      GError *jerr = NULL;
      if (journal != NULL
          && !msgtk_journal_record (journal, st->batch->keys->pdata[k], m[i].uidvalidity, m[i].uid,
                                    &jerr))
        journal_failed (up, jerr);
      wrote = TRUE;
      g_mutex_lock (&up->lock);
      up->result->counts.uploaded++;
      up->result->counts.bytes_done += g_bytes_get_size (m[i].data);
      g_mutex_unlock (&up->lock);
    } else {
      g_autofree char *why
          = g_strdup_printf ("refused by the server: %s%s%s%s", m[i].code ? "[" : "",
                             m[i].code ? m[i].code : "", m[i].code ? "] " : "", m[i].text);
      fail (st->batch, st->batch->names->pdata[k], why);
    }
  }
  GError *jerr = NULL;
  if (wrote && journal != NULL && !msgtk_journal_sync (journal, &jerr))
    journal_failed (up, jerr);
}

/* Before a command carrying @m is sent: the messages noted as in flight, so
 * that a run interrupted before the answer checks the server. */
static void
sending (MsgtkImapMessage *m, guint n, gpointer data)
{
  Settle *st = data;
  MsgtkJournal *journal = st->up->o->journal;
  for (guint i = 0; journal != NULL && i < n; i++) {
    GError *jerr = NULL;
    guint k = GPOINTER_TO_UINT (m[i].user_data);
    if (!msgtk_journal_record_pending (journal, st->batch->keys->pdata[k], &jerr))
      journal_failed (st->up, jerr);
  }
}

typedef struct {
  MsgtkImapSession *session;
} Worker;

static gpointer
worker_new (gpointer data)
{
  return g_new0 (Worker, 1);
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

static void
work (gpointer job, gpointer worker, gpointer data)
{
  Upload *up = data;
  Worker *w = worker;
  Batch *b = job;
  MsgtkImapMessage *m = (MsgtkImapMessage *)b->msgs->data;
  if (b->msgs->len == 0)
    return;
  if (g_atomic_int_get (&up->journal_broken)) {
    for (guint i = 0; i < b->msgs->len; i++)
      fail (b, b->names->pdata[i], "not uploaded: the journal cannot be written");
    return;
  }
  GError *error = NULL;
  if (w->session == NULL)
    w->session = open_session (up->o, &error);
  Settle st = { up, b };
  MsgtkImapAppendOptions ao = { .create = up->o->create,
                                .max_count = up->o->batch ? up->o->batch : 100,
                                .settled = settled,
                                .sending = sending,
                                .data = &st };
  for (guint i = 0; i < b->msgs->len; i++)
    m[i].user_data = GUINT_TO_POINTER (i);
  if (w->session != NULL
      && !msgtk_imap_session_append (w->session, b->mailbox, m, b->msgs->len, &ao, &error))
    g_clear_pointer (&w->session, msgtk_imap_session_free);
  for (guint i = 0; i < b->msgs->len; i++)
    if (m[i].status == MSGTK_IMAP_APPEND_PENDING)
      fail (b, b->names->pdata[i], error ? error->message : "not uploaded");
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
  up->o->progress (&c, up->o->data);
}

static void
finish (gpointer job, gpointer data)
{
  Upload *up = data;
  Batch *b = job;
  MsgtkUploadResult *r = up->result;
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

/* The mailbox of a maildir++ @folder ("Lists.gtk") under @base. */
static char *
target_mailbox (const char *base, const char *folder, char delim)
{
  if (folder == NULL || *folder == '\0')
    return g_strdup (base);
  g_autofree char *f = g_strdup (folder);
  if (delim != '\0')
    g_strdelimit (f, ".", delim);
  return g_strdup_printf ("%s%c%s", base, delim ? delim : '.', f);
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

typedef struct {
  Upload *up;
  Jobs *jobs;
  MsgtkImapSession *control; /* dedupe searches, checks of messages in flight */
  char delim;
  const char *base;
  Batch *cur;
  Batch *failures; /* read failures since the last batch went */
} Feed;

static void
push (Feed *f, Batch **b)
{
  if (*b == NULL)
    return;
  guint64 bytes = (*b)->bytes;
  jobs_push (f->jobs, g_steal_pointer (b), (gsize)bytes);
}

/* A failure to report in its place among the batches. */
static void
feed_fail (Feed *f, const char *name, const char *why)
{
  push (f, &f->cur); /* what came before goes first */
  if (f->failures == NULL)
    f->failures = batch_new (NULL);
  fail (f->failures, name, why);
}

/* Decide about one message and add it to the batch being filled. */
static void
feed_item (Feed *f, MsgtkItem *item, GBytes *data)
{
  Upload *up = f->up;
  const MsgtkUploadOptions *o = up->o;
  g_autofree char *mailbox = target_mailbox (f->base, item->folder, f->delim);
  g_autofree char *key = msgtk_journal_key (item->identity, mailbox, data);
  if (g_bytes_get_size (data) == 0) {
    feed_fail (f, item->identity, "empty message");
    return;
  }
  gboolean skip = FALSE;
  g_autoptr (GError) error = NULL;
  if (o->journal != NULL && !o->dry_run
      && !msgtk_journal_decide (o->journal, f->control, mailbox, key, data, &skip, &error)) {
    g_autofree char *why = g_strdup_printf ("not uploaded: %s", error->message);
    feed_fail (f, item->identity, why);
    return;
  }
  if (!skip && o->dedupe && f->control != NULL) {
    g_autofree char *mid = msgtk_message_get_header (data, "Message-ID");
    if (mid != NULL
        && !msgtk_imap_session_search_message_id (f->control, mailbox, mid, &skip, &error)) {
      feed_fail (f, item->identity, error->message);
      return;
    }
  }
  g_mutex_lock (&up->lock);
  if (skip)
    up->result->counts.skipped++;
  else
    up->result->counts.bytes_total += g_bytes_get_size (data);
  g_mutex_unlock (&up->lock);
  if (skip)
    return;
  if (o->dry_run) {
    if (o->planned != NULL)
      o->planned (item->identity, g_bytes_get_size (data), mailbox, o->data);
    up->result->counts.uploaded++;
    return;
  }
  guint max_count = o->batch ? o->batch : 100;
  if (f->cur != NULL
      && (strcmp (f->cur->mailbox, mailbox) != 0 || f->cur->msgs->len >= max_count
          || f->cur->bytes + g_bytes_get_size (data) > BATCH_BYTES))
    push (f, &f->cur);
  push (f, &f->failures);
  if (f->cur == NULL)
    f->cur = batch_new (mailbox);
  MsgtkImapMessage m = { 0 };
  m.data = g_bytes_ref (data);
  m.flags = item->flags;
  m.internal_date = internal_date (o->date_from, item, data);
  f->cur->bytes += g_bytes_get_size (data);
  g_array_append_val (f->cur->msgs, m);
  g_ptr_array_add (f->cur->keys, g_steal_pointer (&key));
  g_ptr_array_add (f->cur->names, g_strdup (item->identity));
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
  for (;;) {
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

gboolean
msgtk_upload (char **paths, const MsgtkUploadOptions *o, MsgtkUploadResult *result, GError **error)
{
  memset (result, 0, sizeof *result);
  result->failures = g_ptr_array_new_with_free_func (g_free);
  Upload up = { .o = o, .result = result };
  g_mutex_init (&up.lock);
  up.start = g_get_monotonic_time ();
  Feed f = { .up = &up, .delim = '.', .base = o->mailbox ? o->mailbox : "INBOX" };
  if (!o->dry_run) {
    /* a control session: the hierarchy delimiter, --dedupe searches, and the
     * checks of what an interrupted run sent */
    f.control = open_session (o, error);
    if (f.control == NULL || !msgtk_imap_session_get_delimiter (f.control, &f.delim, error)) {
      g_clear_pointer (&f.control, msgtk_imap_session_free);
      g_mutex_clear (&up.lock);
      return FALSE;
    }
    if (!o->dedupe && (o->journal == NULL || msgtk_journal_pending_count (o->journal) == 0)) {
      msgtk_imap_session_logout (f.control);
      g_clear_pointer (&f.control, msgtk_imap_session_free);
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
  f.jobs = jobs_new (&c);
  static const char *const stdin_paths[] = { "-", NULL };
  for (char **p = paths != NULL ? paths : (char **)stdin_paths; *p != NULL; p++)
    feed_path (&f, *p);
  push (&f, &f.cur);
  push (&f, &f.failures);
  jobs_free (f.jobs);
  if (f.control != NULL) {
    msgtk_imap_session_logout (f.control);
    msgtk_imap_session_free (f.control);
  }
  if (up.journal_error != NULL) {
    /* nothing is certain after a journal write failed: it ends the run */
    g_clear_error (&result->fatal);
    result->fatal = g_steal_pointer (&up.journal_error);
  }
  tell_progress (&up, TRUE);
  result->counts.seconds = (g_get_monotonic_time () - up.start) / 1e6;
  g_mutex_clear (&up.lock);
  return TRUE;
}

void
msgtk_upload_result_clear (MsgtkUploadResult *r)
{
  g_clear_pointer (&r->failures, g_ptr_array_unref);
  g_clear_error (&r->fatal);
}
