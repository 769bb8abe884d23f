/* msgtk — IMAP APPEND: messages in batches (MULTIAPPEND), literals that need
 * no wait (LITERAL+, LITERAL-) with several commands in flight, TRYCREATE,
 * throttling, refusals singled out, UIDPLUS results. */
#include <msgtk/error.h>
#include <msgtk/utf7.h>

#include "date-private.h"
#include "error-private.h"
#include "imap-private.h"
#include "wire-private.h"

#include <string.h>

GArray *
imap_split_batches (const guint64 *sizes, guint n, guint max_count, guint64 max_bytes)
{
  GArray *batches = g_array_new (FALSE, FALSE, sizeof (guint));
  guint count = 0;
  guint64 bytes = 0;
  for (guint i = 0; i < n; i++) {
    if (count > 0 && (count >= max_count || bytes + sizes[i] > max_bytes)) {
      g_array_append_val (batches, count);
      count = 0;
      bytes = 0;
    }
    count++;
    bytes += sizes[i];
  }
  if (count > 0)
    g_array_append_val (batches, count);
  return batches;
}

gboolean
imap_parse_appenduid (const char *code, guint32 *uidvalidity, GArray *uids)
{
  if (code == NULL || g_ascii_strncasecmp (code, "APPENDUID ", 10) != 0)
    return FALSE;
  char *end;
  guint64 v = g_ascii_strtoull (code + 10, &end, 10);
  if (end == code + 10 || *end != ' ' || v == 0 || v > G_MAXUINT32)
    return FALSE;
  const char *p = end + 1;
  g_array_set_size (uids, 0);
  for (;;) {
    guint64 a = g_ascii_strtoull (p, &end, 10), b = a;
    if (end == p || a == 0 || a > G_MAXUINT32)
      return FALSE;
    p = end;
    if (*p == ':') {
      b = g_ascii_strtoull (p + 1, &end, 10);
      if (end == p + 1 || b == 0 || b > G_MAXUINT32)
        return FALSE;
      p = end;
    }
    guint64 lo = MIN (a, b), hi = MAX (a, b);
    if (hi - lo > 1000000)
      return FALSE;
    for (guint64 u = lo; u <= hi; u++) {
      guint32 x = (guint32)u;
      g_array_append_val (uids, x);
    }
    if (*p == ',') {
      p++;
      continue;
    }
    break;
  }
  *uidvalidity = (guint32)v;
  return *p == '\0';
}

void
msgtk_imap_message_clear (MsgtkImapMessage *m)
{
  g_clear_pointer (&m->data, g_bytes_unref);
  g_clear_pointer (&m->internal_date, g_date_time_unref);
  g_clear_pointer (&m->keywords, g_strfreev);
  g_clear_pointer (&m->text, g_free);
  g_clear_pointer (&m->code, g_free);
}

/* Send one APPEND command for @n messages. Returns its tag once it is all
 * queued (its completion still to be read), or NULL when it ended early: a
 * synchronising literal was answered with a completion (*@done), or the
 * connection failed (@error). */
static char *
append_send (MsgtkImapSession *s, const char *m, MsgtkImapMessage *msgs, guint n,
             const MsgtkImapAppendOptions *o, ImapResponse **done, GError **error)
{
  *done = NULL;
  if (o->sending != NULL && !o->sending (msgs, n, o->data, error))
    return NULL; /* not sent */
  g_autofree char *tag = imap_next_tag (s);
  g_autoptr (GString) cmd = g_string_new (tag);
  g_string_append (cmd, " APPEND ");
  if (!imap_cmd_string (s, cmd, tag, m, done, error))
    return NULL;
  for (guint i = 0; i < n; i++) {
    gsize len;
    const guint8 *p = g_bytes_get_data (msgs[i].data, &len);
    gsize size = wire_size (p, len, WIRE_CRLF);
    g_autofree char *flags
        = msgtk_flags_to_imap (msgs[i].flags, (const char *const *)msgs[i].keywords);
    g_string_append_printf (cmd, " %s", flags);
    if (msgs[i].internal_date != NULL) {
      g_autofree char *date = date_format_imap (msgs[i].internal_date);
      g_string_append_printf (cmd, " \"%s\"", date);
    }
    gboolean nonsync = imap_nonsync_ok (s, size);
    g_string_append_printf (cmd, " {%zu%s}", size, nonsync ? "+" : "");
    imap_queue_line (s, cmd);
    if (!nonsync && !imap_wait_continuation (s, tag, NULL, done, error))
      return NULL;
    if (!imap_queue_literal_data (s, msgs[i].data, error))
      return NULL;
  }
  imap_queue_line (s, cmd);
  return g_steal_pointer (&tag);
}

/* Whether an APPEND of @msgs to @m goes out without waiting for any '+'. */
static gboolean
append_nonsync (MsgtkImapSession *s, const char *m, MsgtkImapMessage *msgs, guint n)
{
  g_autoptr (GString) q = g_string_new (NULL);
  if (!imap_quote (q, m, msgtk_imap_session_is_utf8 (s)) && !imap_nonsync_ok (s, strlen (m)))
    return FALSE;
  for (guint i = 0; i < n; i++) {
    gsize len;
    const guint8 *p = g_bytes_get_data (msgs[i].data, &len);
    if (!imap_nonsync_ok (s, wire_size (p, len, WIRE_CRLF)))
      return FALSE;
  }
  return TRUE;
}

/* One APPEND command for @n messages. Returns the completion (NULL + error when the
 * connection failed). */
static ImapResponse *
append_command (MsgtkImapSession *s, const char *m, MsgtkImapMessage *msgs, guint n,
                const MsgtkImapAppendOptions *o, GError **error)
{
  ImapResponse *done = NULL;
  g_autofree char *tag = append_send (s, m, msgs, n, o, &done, error);
  if (tag == NULL)
    return done;
  return imap_wait_tagged (s, tag, NULL, error);
}

static void
refuse (MsgtkImapMessage *msg, const char *code, const char *text)
{
  msg->status = MSGTK_IMAP_APPEND_REFUSED;
  g_free (msg->code);
  g_free (msg->text);
  msg->code = imap_code_word (code);
  msg->text = g_strdup (text);
}

/* Carry an APPEND of @msgs through to a settled state: @first is the
 * completion of a command already sent (taken over; NULL: send it now), sent
 * when *@created was @first_created.
 * TRYCREATE creates the mailbox (once) and retries, a throttling reply backs
 * off and retries, a refused batch is retried one message at a time. */
static gboolean
append_batch (MsgtkImapSession *s, const char *mailbox, const char *m, MsgtkImapMessage *msgs,
              guint n, const MsgtkImapAppendOptions *o, gboolean *created, ImapResponse *first,
              gboolean first_created, GError **error)
{
  g_autoptr (ImapResponse) r = first;
  /* a command sent before the mailbox was created may still say TRYCREATE */
  gboolean created_before = first != NULL ? first_created : *created;
  for (guint attempt = 0;; attempt++) {
    if (r == NULL) {
      created_before = *created;
      r = append_command (s, m, msgs, n, o, error);
      if (r == NULL)
        return FALSE;
    }
    if (strcmp (r->status, "OK") == 0) {
      g_autoptr (GArray) uids = g_array_new (FALSE, FALSE, sizeof (guint32));
      guint32 validity = 0;
      gboolean have = imap_parse_appenduid (r->code, &validity, uids) && uids->len == n;
      for (guint i = 0; i < n; i++) {
        msgs[i].status = MSGTK_IMAP_APPEND_OK;
        msgs[i].uidvalidity = have ? validity : 0;
        msgs[i].uid = have ? g_array_index (uids, guint32, i) : 0;
      }
      if (o->settled != NULL)
        o->settled (msgs, n, o->data);
      return TRUE;
    }
    g_autofree char *word = imap_code_word (r->code);
    if (word != NULL && g_ascii_strcasecmp (word, "TRYCREATE") == 0) {
      if (*created && !created_before) {
        g_clear_pointer (&r, imap_response_free);
        continue;
      }
      if (!o->create || *created) {
        error_set_hint (error, MSGTK_ERROR_HINT_CREATE_MAILBOX, MSGTK_ERROR_CANT_CREATE,
                        "mailbox '%s' does not exist on the server (%s)", mailbox, r->text);
        return FALSE;
      }
      if (!msgtk_imap_session_create (s, mailbox, error))
        return FALSE;
      *created = TRUE;
      g_clear_pointer (&r, imap_response_free);
      continue;
    }
    if (word != NULL && attempt < 3
        && (g_ascii_strcasecmp (word, "UNAVAILABLE") == 0 || g_ascii_strcasecmp (word, "INUSE") == 0
            || g_ascii_strcasecmp (word, "THROTTLED") == 0)) {
      /* the server is busy or throttling us: back off and try again */
      guint backoff = o->backoff_ms ? o->backoff_ms : 1000;
      g_usleep ((gulong)(backoff << attempt) * 1000);
      g_clear_pointer (&r, imap_response_free);
      continue;
    }
    if (n > 1) {
      /* MULTIAPPEND is atomic: find the bad one(s) one at a time */
      for (guint i = 0; i < n; i++)
        if (!append_batch (s, mailbox, m, msgs + i, 1, o, created, NULL, FALSE, error))
          return FALSE;
      return TRUE;
    }
    refuse (msgs, r->code, r->text);
    if (o->settled != NULL)
      o->settled (msgs, 1, o->data);
    return TRUE;
  }
}

/* An APPEND command sent, its completion not read yet. */
typedef struct {
  char *tag;
  MsgtkImapMessage *msgs; /* copies of the caller's, copied back when settled */
  guint n;
  guint at;         /* where its messages are in the batch order */
  gboolean created; /* whether the mailbox had been created when it was sent */
} Flight;

static void
flight_free (Flight *f)
{
  g_free (f->tag);
  g_free (f->msgs);
  g_free (f);
}

static Flight *
flight_new (MsgtkImapMessage *msgs, const guint *idx, guint at, guint n)
{
  Flight *f = g_new0 (Flight, 1);
  f->msgs = g_new (MsgtkImapMessage, n);
  f->n = n;
  f->at = at;
  /* the batch's messages are contiguous unless APPENDLIMIT removed some */
  for (guint j = 0; j < n; j++)
    f->msgs[j] = msgs[idx[at + j]];
  return f;
}

static void
flight_copy_back (Flight *f, MsgtkImapMessage *msgs, const guint *idx)
{
  for (guint j = 0; j < f->n; j++)
    msgs[idx[f->at + j]] = f->msgs[j];
}

gboolean
msgtk_imap_session_append (MsgtkImapSession *s, const char *mailbox, MsgtkImapMessage *msgs,
                           guint n, const MsgtkImapAppendOptions *o, GError **error)
{
  static const MsgtkImapAppendOptions defaults = { 0 };
  if (o == NULL)
    o = &defaults;
  g_autofree char *m = imap_encode_mailbox (s, mailbox, error);
  if (m == NULL)
    return FALSE;
  gboolean multi = msgtk_imap_session_has_capability (s, "MULTIAPPEND");
  guint max_count = multi ? (o->max_count ? o->max_count : 100) : 1;
  guint64 max_bytes = o->max_bytes ? o->max_bytes : 16 * 1024 * 1024;
  guint depth = o->max_in_flight ? o->max_in_flight : 8;
  /* messages over APPENDLIMIT are refused here, the rest go in batches */
  g_autofree guint64 *sizes = g_new (guint64, n);
  g_autofree guint *idx = g_new (guint, n);
  guint k = 0;
  for (guint i = 0; i < n; i++) {
    gsize len;
    const guint8 *p = g_bytes_get_data (msgs[i].data, &len);
    guint64 size = wire_size (p, len, WIRE_CRLF);
    guint64 limit = msgtk_imap_session_get_append_limit (s);
    if (limit > 0 && size > limit) {
      g_autofree char *text
          = g_strdup_printf ("message of %" G_GUINT64_FORMAT
                             " bytes is larger than the server's APPENDLIMIT of %" G_GUINT64_FORMAT,
                             size, limit);
      refuse (&msgs[i], "TOOBIG", text);
      if (o->settled != NULL)
        o->settled (&msgs[i], 1, o->data);
      continue;
    }
    sizes[k] = size;
    idx[k++] = i;
  }
  g_autoptr (GArray) batches = imap_split_batches (sizes, k, max_count, max_bytes);
  gboolean created = FALSE, ok = TRUE;
  /* commands whose literals need no '+' go out without waiting for the
   * completion of those before them, up to @depth in flight; completions
   * are taken in order (wait_tagged keeps those that come early) */
  GQueue flights = G_QUEUE_INIT;
  guint at = 0;
  for (guint b = 0; ok && b <= batches->len; b++) {
    Flight *next = NULL;
    if (b < batches->len) {
      next = flight_new (msgs, idx, at, g_array_index (batches, guint, b));
      at += next->n;
    }
    gboolean pipeline = next != NULL && depth > 1 && append_nonsync (s, m, next->msgs, next->n);
    if (pipeline) {
      ImapResponse *done = NULL;
      next->created = created;
      next->tag = append_send (s, m, next->msgs, next->n, o, &done, error);
      imap_response_free (done); /* never set: no literal waits for '+' */
      g_queue_push_tail (&flights, next);
      if (next->tag == NULL) {
        ok = FALSE;
        break;
      }
    }
    /* settle the oldest while too many are in flight, or all of them before
     * a command that must wait for '+', and at the end */
    while (ok && !g_queue_is_empty (&flights) && (!pipeline || flights.length >= depth)) {
      Flight *f = g_queue_peek_head (&flights);
      ImapResponse *r = imap_wait_tagged (s, f->tag, NULL, error);
      ok = r != NULL
           && append_batch (s, mailbox, m, f->msgs, f->n, o, &created, r, f->created, error);
      flight_copy_back (f, msgs, idx);
      flight_free (g_queue_pop_head (&flights));
    }
    if (ok && next != NULL && !pipeline) {
      ok = append_batch (s, mailbox, m, next->msgs, next->n, o, &created, NULL, FALSE, error);
      flight_copy_back (next, msgs, idx);
    }
    if (!pipeline && next != NULL)
      flight_free (next);
  }
  /* after a failure: what was in flight stays PENDING */
  for (Flight *f; (f = g_queue_pop_head (&flights)) != NULL;) {
    flight_copy_back (f, msgs, idx);
    flight_free (f);
  }
  return ok;
}
