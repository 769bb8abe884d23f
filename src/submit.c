/* msgtk — submission of messages and of the spool over SMTP. */
#include <msgtk/error.h>
#include <msgtk/message.h>
#include <msgtk/source.h>
#include <msgtk/spool.h>
#include <msgtk/submit.h>

#include "error-private.h"

#include <string.h>
#include <sysexits.h>

struct _MsgtkSubmit {
  const MsgtkSubmitOptions *o;
  MsgtkSmtp *smtp;
  GError *session_error; /* a session could not be set up: no more attempts */
  MsgtkSubmitResult result;
};

gboolean
msgtk_submit_options_check (const MsgtkSubmitOptions *o, GError **error)
{
  MsgtkSmtpSendOptions so = { o->dsn_notify, o->dsn_return, o->envid };
  return (o->helo == NULL || msgtk_smtp_check_helo (o->helo, error))
         && msgtk_smtp_send_options_check (&so, error);
}

MsgtkSubmit *
msgtk_submit_new (const MsgtkSubmitOptions *options)
{
  MsgtkSubmit *s = g_new0 (MsgtkSubmit, 1);
  s->o = options;
  return s;
}

static void
note_failure (MsgtkSubmit *s, int code)
{
  /* a message lost (it could not be kept in the spool) says most; a
   * permanent failure more than a temporary one, and a refused recipient
   * less than a failed message */
  int *worst = &s->result.exit_code;
  if (*worst == EX_CANTCREAT)
    return;
  if (code == EX_CANTCREAT || *worst == EX_OK || (*worst == EX_TEMPFAIL && code != EX_TEMPFAIL)
      || (*worst == EX_NOUSER && code != EX_TEMPFAIL && code != EX_NOUSER))
    *worst = code;
}

static void
problem (MsgtkSubmit *s, const char *origin, const GError *error, int code)
{
  if (s->o->problem != NULL)
    s->o->problem (origin, error, s->o->data);
  note_failure (s, code);
}

static gboolean
ensure_session (MsgtkSubmit *s, GError **error)
{
  if (s->smtp && msgtk_smtp_is_usable (s->smtp))
    return TRUE;
  g_clear_pointer (&s->smtp, msgtk_smtp_free);
  if (s->session_error == NULL) {
    s->smtp = msgtk_smtp_connect (s->o->account, s->o->helo, s->o->trace, &s->session_error);
    if (s->smtp && !msgtk_smtp_authenticate (s->smtp, s->o->account, &s->session_error))
      g_clear_pointer (&s->smtp, msgtk_smtp_quit);
    if (s->smtp)
      return TRUE;
  }
  g_propagate_error (error, g_error_copy (s->session_error));
  return FALSE;
}

/* One message on its way. */
typedef struct {
  MsgtkSubmit *s;
  char *origin, *sender;
  GPtrArray *rcpts;
  GBytes *data;
  const char *spool; /* where to keep it when it cannot be sent */
  gboolean kept;     /* it was kept */
} Message;

static void
message_free (Message *m)
{
  g_free (m->origin);
  g_free (m->sender);
  g_ptr_array_unref (m->rcpts);
  g_clear_pointer (&m->data, g_bytes_unref);
  g_free (m);
}

/* Keep @m for @rcpts in the spool, if there is one. */
static void
keep (Message *m, GPtrArray *rcpts, const char *reason, MsgtkSubmitReport *r, GError **keep_error)
{
  MsgtkSubmit *s = m->s;
  if (m->spool == NULL || s->o->dry_run || rcpts->len == 0)
    return;
  if (msgtk_spool_put (m->spool, m->sender, rcpts, m->data, reason, NULL, keep_error)) {
    s->result.kept++;
    m->kept = TRUE;
    r->kept = m->spool;
  } else {
    r->keep_error = *keep_error;
    note_failure (s, EX_CANTCREAT);
  }
}

/* How @m went: counted, kept where it should be, reported. */
static void
settle (Message *m, gboolean ok, GPtrArray *results, const GError *error)
{
  MsgtkSubmit *s = m->s;
  g_autoptr (GPtrArray) retry = g_ptr_array_new_with_free_func (g_free);
  guint refused = 0, refused_for_good = 0;
  for (guint i = 0; i < m->rcpts->len; i++) {
    MsgtkSmtpRecipient *r = results && i < results->len ? g_ptr_array_index (results, i) : NULL;
    if (r && r->code && !r->accepted) {
      refused++;
      if (r->code >= 500)
        refused_for_good++;
      else
        g_ptr_array_add (retry, g_strdup (r->address));
    } else if (!ok) {
      g_ptr_array_add (retry, g_strdup (g_ptr_array_index (m->rcpts, i)));
    }
  }
  MsgtkSubmitReport r
      = { m->origin, !ok ? MSGTK_SUBMIT_FAILED : refused ? MSGTK_SUBMIT_PARTIAL : MSGTK_SUBMIT_SENT,
          results,   m->rcpts->len,
          refused,   ok ? NULL : error,
          NULL,      NULL };
  g_autoptr (GError) keep_error = NULL;
  if (!ok) {
    s->result.failed++;
    note_failure (s, msgtk_error_exit_code (error));
    keep (m, retry, error->message, &r, &keep_error);
  } else {
    if (refused) {
      s->result.partial++;
      note_failure (s, refused_for_good ? EX_NOUSER : EX_TEMPFAIL);
      keep (m, retry, "temporary recipient refusal", &r, &keep_error);
    }
    s->result.sent++;
  }
  if (s->o->report != NULL)
    s->o->report (&r, s->o->data);
}

/* The outcome of a message sent pipelined with the next one. */
static void
deferred_done (gboolean ok, GPtrArray *results, const GError *error, gpointer data)
{
  Message *m = data;
  settle (m, ok, results, error);
  message_free (m);
}

/* Send @m (taken). With @pipelined, its outcome may come later, while the
 * next message is sent (or at QUIT). */
static void
send_message (Message *m, gboolean pipelined)
{
  MsgtkSubmit *s = m->s;
  const MsgtkSubmitOptions *o = s->o;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) results = NULL;
  MsgtkSmtpSendOptions so
      = { o->dsn_notify, o->dsn_return, o->envid, o->dry_run, o->no_chunking, NULL, NULL };
  gboolean ok = FALSE;
  for (int attempt = 0; attempt < 2; attempt++) {
    g_clear_error (&error);
    g_clear_pointer (&results, g_ptr_array_unref);
    if (!ensure_session (s, &error))
      break;
    if (pipelined) {
      so.done = deferred_done;
      so.done_data = m;
    }
    ok = msgtk_smtp_send (s->smtp, m->sender, m->rcpts, m->data, &so, &results, &error);
    if (ok && pipelined)
      return; /* deferred_done settles it */
    /* a session that broke before this message got anywhere: one new session */
    if (ok || msgtk_smtp_is_usable (s->smtp) || attempt > 0)
      break;
    gboolean reached = FALSE;
    for (guint i = 0; results && i < results->len; i++)
      reached |= ((MsgtkSmtpRecipient *)g_ptr_array_index (results, i))->code != 0;
    if (reached)
      break;
  }
  settle (m, ok, results, error);
  message_free (m);
}

/* The envelope and bytes of @raw, as the options say; NULL when it cannot
 * be sent (reported). */
static Message *
prepare (MsgtkSubmit *s, GBytes *raw, const char *origin)
{
  const MsgtkSubmitOptions *o = s->o;
  g_autoptr (GError) error = NULL;
  Message *m = g_new0 (Message, 1);
  m->s = s;
  m->origin = g_strdup (origin);
  m->spool = o->spool;
  m->rcpts = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; o->recipients && o->recipients[i]; i++)
    g_ptr_array_add (m->rcpts, g_strdup (o->recipients[i]));
  m->sender = g_strdup (o->from ? o->from : o->account->from);
  int code = EX_OK;
  if (o->read_recipients || m->sender == NULL) {
    g_autoptr (GPtrArray) hdr = g_ptr_array_new_with_free_func (g_free);
    if (!msgtk_message_envelope (raw, &m->sender, hdr, &error))
      code = EX_DATAERR;
    for (guint i = 0; o->read_recipients && i < hdr->len; i++) {
      const char *a = g_ptr_array_index (hdr, i);
      gboolean dup = FALSE;
      for (guint j = 0; j < m->rcpts->len && !dup; j++)
        dup = g_ascii_strcasecmp (a, g_ptr_array_index (m->rcpts, j)) == 0;
      if (!dup) /* also given as an argument */
        g_ptr_array_add (m->rcpts, g_strdup (a));
    }
  }
  if (code == EX_OK && m->rcpts->len == 0) {
    error_set_hint (&error, MSGTK_ERROR_HINT_GIVE_RECIPIENTS, MSGTK_ERROR_USAGE, "no recipients");
    code = EX_USAGE;
  } else if (code == EX_OK && m->sender == NULL) {
    error_set_hint (&error, MSGTK_ERROR_HINT_GIVE_SENDER, MSGTK_ERROR_USAGE, "no envelope sender");
    code = EX_USAGE;
  }
  if (code == EX_OK) {
    const char *at = strrchr (m->sender, '@');
    MsgtkRenderOptions ro
        = { .strip_bcc = TRUE, .add_missing = o->add_missing, .id_domain = at ? at + 1 : NULL };
    m->data = msgtk_message_render_bytes (raw, &ro, &error);
    if (m->data == NULL)
      code = msgtk_error_exit_code (error);
  }
  if (code == EX_OK)
    return m;
  s->result.failed++;
  problem (s, origin, error, code);
  message_free (m);
  return NULL;
}

void
msgtk_submit_path (MsgtkSubmit *s, const char *path)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MsgtkSource) src = msgtk_source_open (path, MSGTK_SOURCE_FORMAT_AUTO, &error);
  if (src == NULL) {
    problem (s, NULL, error, msgtk_error_exit_code (error));
    return;
  }
  for (;;) {
    g_clear_error (&error);
    g_autoptr (MsgtkItem) item = msgtk_source_next (src, &error);
    if (item == NULL) {
      if (error == NULL)
        break;
      problem (s, NULL, error, msgtk_error_exit_code (error));
      continue;
    }
    g_autofree char *origin = msgtk_source_get_format (src) == MSGTK_SOURCE_FORMAT_MESSAGE
                                  ? g_strdup (item->path)
                                  : g_strdup_printf ("%s#%u", item->path, item->index);
    g_autoptr (GBytes) raw = msgtk_item_read_bytes (item, &error);
    if (raw == NULL) {
      problem (s, origin, error, msgtk_error_exit_code (error));
      continue;
    }
    Message *m = prepare (s, raw, origin);
    if (m != NULL)
      send_message (m, !s->o->dry_run);
  }
}

void
msgtk_submit_flush (MsgtkSubmit *s, const char *dir)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) names = msgtk_spool_list (dir, &error);
  int lock = names ? msgtk_spool_lock (dir, &error) : -1;
  if (lock < 0) {
    problem (s, NULL, error, msgtk_error_exit_code (error));
    return;
  }
  for (guint i = 0; i < names->len; i++) {
    const char *name = g_ptr_array_index (names, i);
    Message *m = g_new0 (Message, 1);
    m->s = s;
    m->rcpts = g_ptr_array_new_with_free_func (g_free);
    g_clear_error (&error);
    if (!msgtk_spool_get (dir, name, &m->sender, m->rcpts, &m->data, &error)) {
      problem (s, NULL, error, EX_DATAERR);
      message_free (m);
      continue;
    }
    m->origin = g_build_filename (dir, "new", name, NULL);
    /* a temporary refusal goes back into the queue as a new entry; the old
     * entry goes once the message is sent or safely queued again; a
     * permanent refusal leaves it where it is, reported */
    m->spool = dir;
    guint kept_before = s->result.kept, sent_before = s->result.sent;
    send_message (m, FALSE);
    gboolean done = s->result.sent > sent_before; /* delivered, if only to some */
    if (s->result.kept > kept_before) {
      s->result.kept = kept_before; /* the same message, still queued */
      done = TRUE;
    }
    if (done)
      msgtk_spool_remove (dir, name, NULL);
  }
  close (lock);
}

void
msgtk_submit_finish (MsgtkSubmit *s, MsgtkSubmitResult *result)
{
  if (s->smtp)
    msgtk_smtp_quit (g_steal_pointer (&s->smtp));
  g_clear_error (&s->session_error);
  *result = s->result;
  g_free (s);
}
