/* msgtk — uploads of sources into IMAP mailboxes: the run, its reports
 * and progress (upload-feed.c reads the sources, upload-session.c sends). */
#include <msgtk/error.h>
#include <msgtk/upload.h>

#include "json-private.h"
#include "upload-private.h"

#include <string.h>

/* progress is told at most this often (microseconds) */
#define PROGRESS_EVERY 200000

static void
report_clear (gpointer p)
{
  Report *r = p;
  g_free (r->identity);
  g_free (r->reason);
}

Batch *
upload_batch_new (Target *target)
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

void
upload_batch_free (Batch *b)
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
void
upload_left_out (Upload *up, guint64 bytes)
{
  g_mutex_lock (&up->lock);
  up->result->counts.bytes_left_out += bytes;
  g_mutex_unlock (&up->lock);
}

/* What became of message @name, for @t's mailbox, told with @b. */
void
upload_report_for (Batch *b, Target *t, MsgtkUploadOutcome outcome, const char *name,
                   const char *reason, guint64 size, guint32 uid)
{
  Report r = { t, outcome, g_strdup (name), g_strdup (reason), size, uid };
  g_array_append_val (b->reports, r);
}

/* What became of message @name of @b. */
void
upload_report (Batch *b, MsgtkUploadOutcome outcome, const char *name, const char *reason,
               guint64 size, guint32 uid)
{
  upload_report_for (b, b->target, outcome, name, reason, size, uid);
}

/* Message @name failed: a line of the result and a report. */
void
upload_fail (Batch *b, const char *name, const char *why, guint64 size)
{
  /* the sources' errors name what they are about themselves */
  g_ptr_array_add (b->failures, strstr (why, name) != NULL ? g_strdup (why)
                                                           : g_strdup_printf ("%s: %s", name, why));
  upload_report (b, MSGTK_UPLOAD_FAILED, name, why, size, 0);
}

/* ---- on the calling thread ---- */

void
upload_tell_progress (Upload *up, gboolean now)
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
  upload_tell_progress (up, FALSE);
  upload_batch_free (b);
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
    up.spare = upload_open_session (o, error);
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
                   .work = upload_work,
                   .finish = finish,
                   .worker_new = upload_worker_new,
                   .worker_free = upload_worker_free,
                   .data = &up };
  Jobs *queue = jobs_new (&c);
  upload_feed (&up, queue, paths);
  jobs_free (queue);
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
  upload_tell_progress (&up, TRUE);
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
