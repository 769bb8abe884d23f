/* msgtk — uploads: the workers, one IMAP session each; a mailbox bound
 * (STATUS, created, the journal's view of it, --dedupe's Message-IDs) before
 * its first batch, batches sent with the journal told before and after. */
#include <msgtk/error.h>
#include <msgtk/message.h>
#include <msgtk/upload.h>

#include "error-private.h"
#include "upload-private.h"

#include <string.h>

MsgtkImapSession *
upload_open_session (const MsgtkUploadOptions *o, GError **error)
{
  g_autoptr (MsgtkImapSession) s = msgtk_imap_session_connect (o->account, o->trace, error);
  if (s == NULL || !msgtk_imap_session_authenticate (s, o->account, error))
    return NULL;
  return g_steal_pointer (&s);
}

void
upload_notice (Upload *up, const char *format, ...)
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

void
upload_journal_failed (Upload *up, GError *error)
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
    upload_notice (
        up,
        "mailbox '%s' was made again since the journal's last run (UIDVALIDITY %u, now %u): "
        "the %u messages recorded there are uploaded again",
        t->mailbox, r->old_uidvalidity, uidvalidity, r->voided);
  if (r->found + r->lost > 0)
    upload_notice (
        up, "%u messages an interrupted run sent to '%s': %u found there, %u not (uploaded again)",
        r->found + r->lost, t->mailbox, r->found, r->lost);
  if (r->migrated + r->unverified > 0)
    upload_notice (
        up, "%u entries of an older journal for '%s': %u found there, %u not (uploaded again)",
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
        upload_journal_failed (up, g_error_copy (*error)); /* nothing more is sent */
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
      upload_report (b, MSGTK_UPLOAD_SKIPPED, b->names->pdata[i], why, g_bytes_get_size (m->data),
                     0);
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
  upload_report (b, MSGTK_UPLOAD_FAILED, name, why, g_bytes_get_size (m->data), 0);
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
        upload_journal_failed (up, jerr);
      g_mutex_lock (&up->lock);
      up->result->counts.uploaded++;
      up->result->counts.bytes_done += g_bytes_get_size (m[i].data);
      g_mutex_unlock (&up->lock);
      upload_report (st->batch, MSGTK_UPLOAD_UPLOADED, st->batch->names->pdata[k], NULL,
                     g_bytes_get_size (m[i].data), m[i].uid);
    } else {
      if (box != NULL && !msgtk_journal_box_refused (box, key, &jerr))
        upload_journal_failed (up, jerr);
      g_autofree char *why
          = g_strdup_printf ("refused by the server: %s%s%s%s", m[i].code ? "[" : "",
                             m[i].code ? m[i].code : "", m[i].code ? "] " : "", m[i].text);
      if (!mailbox_refused (st->batch, st->batch->names->pdata[k], &m[i], why))
        upload_fail (st->batch, st->batch->names->pdata[k], why, g_bytes_get_size (m[i].data));
      upload_left_out (up, g_bytes_get_size (m[i].data));
    }
    wrote = TRUE;
  }
  GError *jerr = NULL;
  if (wrote && box != NULL && !msgtk_journal_sync (up->o->journal, &jerr))
    upload_journal_failed (up, jerr);
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
      upload_journal_failed (st->up, g_error_copy (*error));
      return FALSE;
    }
  }
  return TRUE;
}

typedef struct {
  MsgtkImapSession *session;
} Worker;

gpointer
upload_worker_new (gpointer data)
{
  Upload *up = data;
  Worker *w = g_new0 (Worker, 1);
  w->session = g_atomic_pointer_exchange (&up->spare, NULL);
  return w;
}

void
upload_worker_free (gpointer worker, gpointer data)
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
    upload_report (b, MSGTK_UPLOAD_FAILED, b->names->pdata[i], why,
                   g_bytes_get_size (g_array_index (b->msgs, MsgtkImapMessage, i).data), 0);
}

/* A dry run: what would go. */
static void
plan (Upload *up, Batch *b)
{
  for (guint i = 0; i < b->msgs->len; i++) {
    gsize len = g_bytes_get_size (g_array_index (b->msgs, MsgtkImapMessage, i).data);
    upload_report (b, MSGTK_UPLOAD_UPLOADED, b->names->pdata[i], NULL, len, 0);
    g_mutex_lock (&up->lock);
    up->result->counts.uploaded++;
    up->result->counts.bytes_done += len;
    g_mutex_unlock (&up->lock);
  }
}

void
upload_work (gpointer job, gpointer worker, gpointer data)
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
    upload_left_out (up, b->bytes);
    return;
  }
  if (up->o->dry_run && up->o->offline) {
    plan (up, b);
    return;
  }
  GError *error = NULL;
  if (w->session == NULL)
    w->session = upload_open_session (up->o, &error);
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
    upload_left_out (up, b->bytes);
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
      upload_fail (b, b->names->pdata[i], error ? error->message : "not uploaded",
                   g_bytes_get_size (m[i].data));
      upload_left_out (up, g_bytes_get_size (m[i].data));
    }
  b->fatal = error;
}
