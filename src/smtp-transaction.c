/* msgtk — one SMTP mail transaction over a session, in phases as RFC 5321
 * (and msmtp) see it: the checks, the envelope (MAIL, RCPT), the data (DATA
 * with dot-stuffing, or BDAT), and the end (the final reply, now or, when
 * pipelining across messages, with the next message's commands). */
#include <msgtk/error.h>
#include <msgtk/message.h>
#include <msgtk/smtp-transaction.h>

#include "smtp-private.h"
#include "wire-private.h"

#include <string.h>

typedef struct {
  MsgtkSmtp *s;
  const char *sender;
  GPtrArray *recipients;
  const guint8 *data;
  gsize len;
  guint64 size; /* on the wire (RFC 1870) */
  const MsgtkSmtpSendOptions *opts;
  GPtrArray *results; /* MsgtkSmtpRecipient */
  gboolean pipelining, chunking, dsn, eight, utf8_addr;
  GByteArray *body; /* the encoded message */
} Transaction;

static void
recipient_free (gpointer p)
{
  MsgtkSmtpRecipient *r = p;
  g_free (r->address);
  g_free (r->reply);
  g_free (r);
}

static gboolean
is_ascii (const char *s)
{
  for (; *s; s++)
    if ((guchar)*s & 0x80)
      return FALSE;
  return TRUE;
}

/* Nothing in an address may end the command early or start another one. */
static gboolean
address_ok (const char *a)
{
  for (; *a; a++)
    if ((guchar)*a < 0x20 || *a == 0x7f || *a == '<' || *a == '>')
      return FALSE;
  return TRUE;
}

static guint
count_accepted (GPtrArray *results, MsgtkSmtpRecipient **first_bad)
{
  guint accepted = 0;
  *first_bad = NULL;
  for (guint i = 0; i < results->len; i++) {
    MsgtkSmtpRecipient *rc = g_ptr_array_index (results, i);
    if (rc->accepted)
      accepted++;
    else if (*first_bad == NULL)
      *first_bad = rc;
  }
  return accepted;
}

/* No recipient was accepted: nothing to send the message to. */
static gboolean
refuse_all (Transaction *t, GError **error)
{
  MsgtkSmtpRecipient *bad;
  count_accepted (t->results, &bad);
  smtp_rset (t->s);
  g_set_error (error, MSGTK_ERROR, msgtk_smtp_reply_error (bad->code, "RCPT"),
               "SMTP server %s accepted no recipient (first refusal: <%s>: %d %s)",
               smtp_host (t->s), bad->address, bad->code, bad->reply ? bad->reply : "");
  return FALSE;
}

/* The server refused @command: RSET, and say so. */
static gboolean
refused (Transaction *t, SmtpReply *r, const char *command, const char *what, GError **error)
{
  smtp_reply_set_error (t->s, error, r, command, what);
  smtp_reply_clear (r);
  smtp_rset (t->s);
  return FALSE;
}

/* ---- the checks: nothing is sent for a transaction that cannot succeed ---- */

static gboolean
tx_check (Transaction *t, GError **error)
{
  MsgtkSmtp *s = t->s;
  const char *host = smtp_host (s);
  if (!msgtk_smtp_is_usable (s)) {
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_TEMP_FAIL, "the SMTP session with %s is closed",
                 host);
    return FALSE;
  }
  if (t->recipients->len == 0) {
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_USAGE, "no recipients");
    return FALSE;
  }
  guint64 limit = msgtk_smtp_get_size_limit (s);
  if (limit && t->size > limit) {
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_DATA,
                 "message of %" G_GUINT64_FORMAT
                 " bytes exceeds the SIZE limit of %" G_GUINT64_FORMAT
                 " bytes of SMTP server %s; nothing was sent",
                 t->size, limit, host);
    return FALSE;
  }
  t->utf8_addr = !is_ascii (t->sender);
  for (guint i = 0; i <= t->recipients->len; i++) {
    const char *a = i < t->recipients->len ? g_ptr_array_index (t->recipients, i) : t->sender;
    if (!address_ok (a)) {
      g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_USAGE,
                   "<%s> cannot be used as an SMTP address: it has a control character or an "
                   "angle bracket",
                   a);
      return FALSE;
    }
    t->utf8_addr = t->utf8_addr || !is_ascii (a);
  }
  if (t->utf8_addr && !msgtk_smtp_has_extension (s, "SMTPUTF8")) {
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_UNAVAILABLE,
                 "an address is not ASCII but SMTP server %s does not offer SMTPUTF8", host);
    return FALSE;
  }
  if (t->eight && !msgtk_smtp_has_extension (s, "8BITMIME")
      && !msgtk_smtp_has_extension (s, "SMTPUTF8")) {
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_DATA,
                 "the message has 8-bit bytes but SMTP server %s offers neither 8BITMIME nor "
                 "SMTPUTF8 (encode it as quoted-printable or base64 first)",
                 host);
    return FALSE;
  }
  return TRUE;
}

/* ---- the values of the options ---- */

/* Whether @value is a comma list of @words (case aside), each once. */
static gboolean
word_list (const char *value, const char *const *words)
{
  g_auto (GStrv) parts = g_strsplit (value, ",", -1);
  guint seen = 0;
  for (guint i = 0; parts[i] != NULL; i++) {
    guint k = 0;
    while (words[k] != NULL && g_ascii_strcasecmp (parts[i], words[k]) != 0)
      k++;
    if (words[k] == NULL || (seen & (1u << k)))
      return FALSE;
    seen |= 1u << k;
  }
  return parts[0] != NULL;
}

gboolean
msgtk_smtp_send_options_check (const MsgtkSmtpSendOptions *o, GError **error)
{
  static const char *const notify[] = { "SUCCESS", "FAILURE", "DELAY", NULL };
  static const char *const ret[] = { "FULL", "HDRS", NULL };
  if (o->dsn_notify != NULL && g_ascii_strcasecmp (o->dsn_notify, "NEVER") != 0
      && !word_list (o->dsn_notify, notify)) {
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_USAGE,
                 "DSN NOTIFY must be NEVER or a comma list of SUCCESS, FAILURE and DELAY");
    return FALSE;
  }
  if (o->dsn_return != NULL && (strchr (o->dsn_return, ',') || !word_list (o->dsn_return, ret))) {
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_USAGE, "DSN RET must be FULL or HDRS");
    return FALSE;
  }
  if (o->envid != NULL) {
    gsize n = strlen (o->envid);
    gboolean printable = n > 0 && n <= 100;
    for (const char *p = o->envid; printable && *p != '\0'; p++)
      printable = *p >= 0x20 && *p < 0x7f;
    if (!printable) {
      g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_USAGE,
                   "a DSN envelope identifier is 1 to 100 printable US-ASCII characters");
      return FALSE;
    }
  }
  return TRUE;
}

/* @s as RFC 3461 xtext: '+', '=' and what is not a visible character as
 * "+XX". */
static char *
xtext (const char *s)
{
  GString *out = g_string_new (NULL);
  for (const guchar *p = (const guchar *)s; *p != '\0'; p++)
    if (*p > 0x20 && *p < 0x7f && *p != '+' && *p != '=')
      g_string_append_c (out, (char)*p);
    else
      g_string_append_printf (out, "+%02X", *p);
  return g_string_free (out, FALSE);
}

/* ---- the envelope: MAIL and RCPT (replies read at once without pipelining) ---- */

static gboolean
tx_envelope (Transaction *t, GError **error)
{
  MsgtkSmtp *s = t->s;
  const MsgtkSmtpSendOptions *o = t->opts;
  g_autoptr (GString) mail = g_string_new (NULL);
  g_string_printf (mail, "MAIL FROM:<%s>", t->sender);
  if (msgtk_smtp_get_size_limit (s) || msgtk_smtp_has_extension (s, "SIZE"))
    g_string_append_printf (mail, " SIZE=%" G_GUINT64_FORMAT, t->size);
  if (t->eight && msgtk_smtp_has_extension (s, "8BITMIME"))
    g_string_append (mail, " BODY=8BITMIME");
  if (t->utf8_addr)
    g_string_append (mail, " SMTPUTF8");
  if (t->dsn && o->dsn_return)
    g_string_append_printf (mail, " RET=%s", o->dsn_return);
  if (t->dsn && o->envid) {
    g_autofree char *id = xtext (o->envid);
    g_string_append_printf (mail, " ENVID=%s", id);
  }
  smtp_queue_line (s, mail->str);
  SmtpReply r = { 0 };
  if (!t->pipelining) {
    if (!smtp_flush (s, error) || !smtp_reply_read (s, &r, error))
      return FALSE;
    if (r.code != 250)
      return refused (t, &r, "MAIL", "the sender", error);
    smtp_reply_clear (&r);
  }
  for (guint i = 0; i < t->recipients->len; i++) {
    MsgtkSmtpRecipient *rc = g_new0 (MsgtkSmtpRecipient, 1);
    rc->address = g_strdup (g_ptr_array_index (t->recipients, i));
    g_ptr_array_add (t->results, rc);
    g_autofree char *cmd = t->dsn && o->dsn_notify ? g_strdup_printf ("RCPT TO:<%s> NOTIFY=%s",
                                                                      rc->address, o->dsn_notify)
                                                   : g_strdup_printf ("RCPT TO:<%s>", rc->address);
    smtp_queue_line (s, cmd);
    if (!t->pipelining) {
      if (!smtp_flush (s, error) || !smtp_reply_read (s, &r, error))
        return FALSE;
      rc->code = r.code;
      rc->reply = g_strdup (r.text->str);
      rc->accepted = r.code == 250 || r.code == 251;
      smtp_reply_clear (&r);
    }
  }
  MsgtkSmtpRecipient *bad;
  if (!t->pipelining && !o->dry_run && count_accepted (t->results, &bad) == 0)
    return refuse_all (t, error); /* neither DATA nor BDAT */
  return TRUE;
}

/* With pipelining: the MAIL and RCPT replies, after the data command went
 * out (and any owed reply of the message before was read). */
static gboolean
tx_envelope_replies (Transaction *t, GError **error)
{
  MsgtkSmtp *s = t->s;
  SmtpReply r = { 0 };
  if (!smtp_reply_read (s, &r, error))
    return FALSE;
  int mail_code = r.code;
  g_autofree char *mail_text = g_strdup (r.text->str);
  for (guint i = 0; i < t->results->len; i++) {
    MsgtkSmtpRecipient *rc = g_ptr_array_index (t->results, i);
    if (!smtp_reply_read (s, &r, error))
      return FALSE;
    rc->code = r.code;
    rc->reply = g_strdup (r.text->str);
    rc->accepted = mail_code == 250 && (r.code == 250 || r.code == 251);
  }
  if (mail_code == 250) {
    smtp_reply_clear (&r);
    return TRUE;
  }
  /* the RCPT replies to a refused MAIL say nothing about the recipients */
  for (guint i = 0; i < t->results->len; i++) {
    MsgtkSmtpRecipient *rc = g_ptr_array_index (t->results, i);
    rc->code = 0;
    g_clear_pointer (&rc->reply, g_free);
  }
  if (!t->opts->dry_run) { /* the DATA/BDAT reply */
    if (!smtp_reply_read (s, &r, error))
      return FALSE;
    if (!t->chunking && r.code == 354) {
      /* a broken server accepted DATA without a transaction: end it */
      smtp_queue_line (s, ".");
      smtp_flush (s, NULL);
      smtp_reply_read (s, &r, NULL);
    }
  }
  g_set_error (error, MSGTK_ERROR, msgtk_smtp_reply_error (mail_code, "MAIL"),
               "SMTP server %s refused the sender <%s>: %d %s", smtp_host (s), t->sender, mail_code,
               mail_text);
  smtp_reply_clear (&r);
  smtp_rset (s);
  return FALSE;
}

/* ---- the data: BDAT with the message, or DATA (the message is encoded
 * before the 354 comes, not after) ---- */

static gboolean
tx_data (Transaction *t, GError **error)
{
  MsgtkSmtp *s = t->s;
  if (!t->opts->dry_run) {
    if (t->chunking) {
      wire_encode_all (t->data, t->len, WIRE_FINAL_CRLF, t->body);
      g_autofree char *bdat = g_strdup_printf ("BDAT %u LAST", t->body->len);
      smtp_queue_line (s, bdat);
      if (t->pipelining)
        smtp_queue_data (s, t->body->data, t->body->len);
    } else {
      smtp_queue_line (s, "DATA");
      wire_encode_all (t->data, t->len, WIRE_FINAL_CRLF | WIRE_DOT_STUFF, t->body);
    }
  }
  if (!smtp_flush (s, error) || !smtp_read_owed (s, error))
    return FALSE;
  return !t->pipelining || tx_envelope_replies (t, error);
}

/* ---- the end: the final reply ---- */

/* A message whose final reply comes with the next message's commands. */
typedef struct {
  MsgtkSmtpDoneFunc done;
  gpointer data;
  GPtrArray *results;
} Deferred;

static void
deferred_free (gpointer p)
{
  Deferred *d = p;
  g_ptr_array_unref (d->results);
  g_free (d);
}

static void
deferred_reply (MsgtkSmtp *s, const SmtpReply *reply, const GError *lost, gpointer data)
{
  Deferred *d = data;
  g_autoptr (GError) error = NULL;
  if (reply == NULL)
    error = g_error_new (MSGTK_ERROR, MSGTK_ERROR_TEMP_FAIL,
                         "the SMTP session with %s ended before the server confirmed the "
                         "message%s%s",
                         smtp_host (s), lost ? ": " : "", lost ? lost->message : "");
  else if (reply->code != 250)
    smtp_reply_set_error (s, &error, reply, "DATA", "the message");
  d->done (error == NULL, d->results, error, d->data);
}

static gboolean
tx_end (Transaction *t, gboolean *deferred, GError **error)
{
  MsgtkSmtp *s = t->s;
  const MsgtkSmtpSendOptions *o = t->opts;
  MsgtkSmtpRecipient *first_bad = NULL;
  guint accepted = count_accepted (t->results, &first_bad);
  SmtpReply r = { 0 };
  if (o->dry_run) {
    smtp_rset (s);
    if (first_bad) {
      g_set_error (error, MSGTK_ERROR, msgtk_smtp_reply_error (first_bad->code, "RCPT"),
                   "SMTP server %s would refuse <%s>: %d %s", smtp_host (s), first_bad->address,
                   first_bad->code, first_bad->reply ? first_bad->reply : "");
      return FALSE;
    }
    return TRUE;
  }
  if (t->chunking) {
    if (!t->pipelining) {
      smtp_queue_data (s, t->body->data, t->body->len);
      if (!smtp_flush (s, error))
        return FALSE;
    }
    if (!smtp_reply_read (s, &r, error))
      return FALSE;
    if (accepted == 0) {
      smtp_reply_clear (&r);
      return refuse_all (t, error);
    }
    if (r.code != 250)
      return refused (t, &r, "BDAT", "the message", error);
    smtp_reply_clear (&r);
    return TRUE;
  }
  /* DATA: the 354 (or refusal) reply */
  if (!smtp_reply_read (s, &r, error))
    return FALSE;
  if (accepted == 0) {
    if (r.code == 354) {
      smtp_queue_line (s, ".");
      smtp_flush (s, NULL);
      smtp_reply_read (s, &r, NULL);
    }
    smtp_reply_clear (&r);
    return refuse_all (t, error);
  }
  if (r.code != 354)
    return refused (t, &r, "DATA", "DATA", error);
  smtp_reply_clear (&r);
  smtp_queue_data (s, t->body->data, t->body->len);
  if (t->pipelining && o->done) {
    /* The text goes now, so the server takes it in while the next message
     * is read; the final "." waits to go in one write with the next
     * message's commands (RFC 2920), whose replies then come back together
     * with the one for this message. */
    if (!smtp_flush (s, error))
      return FALSE;
    smtp_queue_line (s, ".");
    Deferred *d = g_new0 (Deferred, 1);
    *d = (Deferred){ o->done, o->done_data, g_ptr_array_ref (t->results) };
    smtp_owe_reply (s, deferred_reply, d, deferred_free);
    *deferred = TRUE;
    return TRUE;
  }
  smtp_queue_line (s, ".");
  if (!smtp_flush (s, error) || !smtp_reply_read (s, &r, error))
    return FALSE;
  if (r.code != 250)
    return refused (t, &r, "DATA", "the message", error);
  smtp_reply_clear (&r);
  return TRUE;
}

gboolean
msgtk_smtp_send (MsgtkSmtp *s, const char *sender, GPtrArray *recipients, GBytes *data,
                 const MsgtkSmtpSendOptions *opts, GPtrArray **results, GError **error)
{
  static const MsgtkSmtpSendOptions defaults = { 0 };
  if (opts == NULL)
    opts = &defaults;
  Transaction t = { .s = s, .sender = sender, .recipients = recipients, .opts = opts };
  t.data = g_bytes_get_data (data, &t.len);
  t.size = wire_size (t.data, t.len, WIRE_FINAL_CRLF);
  t.eight = msgtk_message_needs_8bit (data);
  t.results = g_ptr_array_new_with_free_func (recipient_free);
  *results = t.results;
  g_autoptr (GError) local = NULL;
  gboolean deferred = FALSE;
  gboolean ok = msgtk_smtp_send_options_check (opts, &local) && tx_check (&t, &local);
  if (ok) {
    t.dsn = msgtk_smtp_has_extension (s, "DSN");
    t.pipelining = msgtk_smtp_has_extension (s, "PIPELINING");
    t.chunking = msgtk_smtp_has_extension (s, "CHUNKING") && !opts->no_chunking && !opts->dry_run;
    t.body = smtp_body_buffer (s);
    ok = tx_envelope (&t, &local) && tx_data (&t, &local) && tx_end (&t, &deferred, &local);
  }
  if (!msgtk_smtp_is_usable (s))
    smtp_owed_lost (s, local);
  if (ok && opts->done && !deferred)
    opts->done (TRUE, *results, NULL, opts->done_data);
  if (local)
    g_propagate_error (error, g_steal_pointer (&local));
  return ok;
}
