/* msgtk — SMTP/ESMTP client session. */
#include "msgtk/smtp.h"

#include "msgtk/connection.h"
#include "msgtk/error.h"
#include "msgtk/sasl.h"
#include <msgtk/message.h>

#include "gmime-autoptr-private.h"
#include "wire-private.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

struct _MsgtkSmtp {
  MsgtkConnection *conn;
  char *host;
  char *helo;
  GHashTable *ext; /* upper-case keyword → parameters */
  guint64 size_limit;
  char *auth_mech;
  gboolean usable;
  GByteArray *body; /* the encoded message, reused from one message to the next */
  /* The message sent last, whose final reply has not been read yet. */
  struct {
    MsgtkSmtpDoneFunc done; /* NULL: none pending */
    gpointer data;
    GPtrArray *results;
  } pending;
};

typedef struct {
  int code;
  GString *text; /* all lines' text joined with "\n" */
} Reply;

static void
reply_clear (Reply *r)
{
  if (r->text)
    g_string_free (r->text, TRUE);
  r->text = NULL;
  r->code = 0;
}

/* Send what is queued; a session that cannot be written to is over. */
static gboolean
flush (MsgtkSmtp *s, GError **error)
{
  if (msgtk_connection_flush (s->conn, error))
    return TRUE;
  s->usable = FALSE;
  return FALSE;
}

static gboolean
read_reply (MsgtkSmtp *s, Reply *r, GError **error)
{
  reply_clear (r);
  r->text = g_string_new (NULL);
  for (guint lines = 0;; lines++) {
    g_autofree char *line = msgtk_connection_read_line (s->conn, error);
    if (line == NULL) {
      s->usable = FALSE;
      return FALSE;
    }
    if (strlen (line) < 3 || !g_ascii_isdigit (line[0]) || !g_ascii_isdigit (line[1])
        || !g_ascii_isdigit (line[2]) || (line[3] != '\0' && line[3] != ' ' && line[3] != '-')
        || lines > 1000) {
      g_autofree char *shown = g_strndup (line, 80);
      for (char *p = shown; *p; p++)
        if ((guchar)*p < 0x20 || (guchar)*p > 0x7e)
          *p = '?';
      g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_PROTOCOL,
                   "SMTP server %s sent a malformed reply: \"%s\"", s->host, shown);
      s->usable = FALSE;
      return FALSE;
    }
    int code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
    if (lines > 0 && code != r->code) {
      g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_PROTOCOL,
                   "SMTP server %s changed the reply code inside a multi-line reply", s->host);
      s->usable = FALSE;
      return FALSE;
    }
    r->code = code;
    if (lines > 0)
      g_string_append_c (r->text, '\n');
    g_string_append (r->text, line[3] ? line + 4 : "");
    if (line[3] != '-')
      return TRUE;
  }
}

int
msgtk_smtp_reply_error (int code, const char *command)
{
  if (code >= 400 && code < 500)
    return MSGTK_ERROR_TEMP_FAIL;
  if (code == 530 || code == 534 || code == 535 || code == 538)
    return MSGTK_ERROR_NO_PERM;
  if (command && !strcmp (command, "RCPT") && (code == 550 || code == 551 || code == 553))
    return MSGTK_ERROR_NO_USER;
  if (command && (!strcmp (command, "DATA") || !strcmp (command, "BDAT"))
      && (code == 552 || code == 554))
    return MSGTK_ERROR_DATA;
  if (code >= 500 && code < 600)
    return MSGTK_ERROR_UNAVAILABLE;
  return MSGTK_ERROR_PROTOCOL;
}

static void
set_reply_error (MsgtkSmtp *s, GError **error, const Reply *r, const char *command,
                 const char *what)
{
  g_set_error (error, MSGTK_ERROR, msgtk_smtp_reply_error (r->code, command),
               "SMTP server %s refused %s: %d %s", s->host, what, r->code, r->text->str);
}

static void
parse_ehlo (MsgtkSmtp *s, const char *text)
{
  g_hash_table_remove_all (s->ext);
  s->size_limit = 0;
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  for (guint i = 1; lines[i]; i++) {
    char *line = g_strstrip (lines[i]);
    char *sp = strchr (line, ' ');
    g_autofree char *kw = g_ascii_strup (line, sp ? sp - line : -1);
    g_hash_table_replace (s->ext, g_strdup (kw), g_strdup (sp ? sp + 1 : ""));
    if (!strcmp (kw, "SIZE") && sp)
      s->size_limit = g_ascii_strtoull (sp + 1, NULL, 10);
  }
}

static gboolean
ehlo (MsgtkSmtp *s, GError **error)
{
  Reply r = { 0 };
  g_autofree char *cmd = g_strdup_printf ("EHLO %s", s->helo);
  msgtk_connection_queue_line (s->conn, cmd);
  if (!flush (s, error) || !read_reply (s, &r, error))
    return FALSE;
  if (r.code == 250) {
    parse_ehlo (s, r.text->str);
    reply_clear (&r);
    return TRUE;
  }
  /* Fall back to HELO (RFC 5321 3.2). */
  g_free (cmd);
  cmd = g_strdup_printf ("HELO %s", s->helo);
  msgtk_connection_queue_line (s->conn, cmd);
  if (!flush (s, error) || !read_reply (s, &r, error))
    return FALSE;
  if (r.code != 250) {
    set_reply_error (s, error, &r, "HELO", "EHLO and HELO");
    reply_clear (&r);
    return FALSE;
  }
  g_hash_table_remove_all (s->ext);
  reply_clear (&r);
  return TRUE;
}

gboolean
msgtk_smtp_has_extension (MsgtkSmtp *s, const char *ext)
{
  g_autofree char *kw = g_ascii_strup (ext, -1);
  return g_hash_table_contains (s->ext, kw);
}

guint64
msgtk_smtp_get_size_limit (MsgtkSmtp *s)
{
  return s->size_limit;
}

const char *
msgtk_smtp_get_auth_mechanism (MsgtkSmtp *s)
{
  return s->auth_mech;
}

gboolean
msgtk_smtp_is_usable (MsgtkSmtp *s)
{
  return s->usable;
}

/* Report the deferred message with @ok, @error and forget it. */
static void
pending_report (MsgtkSmtp *s, gboolean ok, const GError *error)
{
  MsgtkSmtpDoneFunc done = s->pending.done;
  GPtrArray *results = s->pending.results;
  gpointer data = s->pending.data;
  memset (&s->pending, 0, sizeof s->pending);
  done (ok, results, error, data);
  g_ptr_array_unref (results);
}

/* The session ended before the deferred message's final reply came. */
static void
pending_lost (MsgtkSmtp *s, const GError *why)
{
  if (s->pending.done == NULL)
    return;
  g_autoptr (GError) error
      = g_error_new (MSGTK_ERROR, MSGTK_ERROR_TEMP_FAIL,
                     "the SMTP session with %s ended before the server confirmed the message%s%s",
                     s->host, why ? ": " : "", why ? why->message : "");
  pending_report (s, FALSE, error);
}

/* Read the final reply of the deferred message (its commands are flushed)
 * and report it. FALSE when the reply could not be read: the session is over. */
static gboolean
pending_finish (MsgtkSmtp *s, GError **error)
{
  if (s->pending.done == NULL)
    return TRUE;
  Reply r = { 0 };
  g_autoptr (GError) local = NULL;
  if (!read_reply (s, &r, &local)) {
    reply_clear (&r);
    pending_lost (s, local);
    g_propagate_error (error, g_steal_pointer (&local));
    return FALSE;
  }
  if (r.code == 250) {
    pending_report (s, TRUE, NULL);
  } else {
    set_reply_error (s, &local, &r, "DATA", "the message");
    pending_report (s, FALSE, local);
  }
  reply_clear (&r);
  return TRUE;
}

void
msgtk_smtp_free (MsgtkSmtp *s)
{
  if (s == NULL)
    return;
  pending_lost (s, NULL);
  msgtk_connection_free (s->conn);
  g_hash_table_unref (s->ext);
  g_free (s->host);
  g_free (s->helo);
  g_free (s->auth_mech);
  g_byte_array_unref (s->body);
  g_free (s);
}

MsgtkSmtp *
msgtk_smtp_connect (MsgtkAccount *account, const char *helo, FILE *trace, GError **error)
{
  MsgtkConnectionConfig cfg = { 0 };
  msgtk_account_connection_config (account, &cfg);
  if (cfg.host == NULL) {
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_USAGE,
                 "no SMTP server given: use --host or an account with a host");
    return NULL;
  }
  if (cfg.port == 0)
    cfg.port = cfg.tls == MSGTK_TLS_IMPLICIT ? 465 : cfg.tls == MSGTK_TLS_STARTTLS ? 587 : 25;
  cfg.protocol = "SMTP";
  cfg.max_line = 8192;
  g_autoptr (MsgtkSmtp) s = g_new0 (MsgtkSmtp, 1);
  s->ext = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  s->body = g_byte_array_new ();
  s->host = g_strdup (cfg.host);
  s->helo = g_strdup (helo ? helo : g_get_host_name ());
  s->conn = msgtk_connection_open (&cfg, error);
  if (s->conn == NULL)
    return NULL;
  s->usable = TRUE;
  msgtk_connection_set_trace (s->conn, trace);
  Reply r = { 0 };
  if (!read_reply (s, &r, error))
    return NULL;
  if (r.code != 220) {
    g_set_error (error, MSGTK_ERROR,
                 r.code >= 400 && r.code < 500 ? MSGTK_ERROR_TEMP_FAIL : MSGTK_ERROR_UNAVAILABLE,
                 "SMTP server %s does not accept mail now: %d %s", s->host, r.code, r.text->str);
    reply_clear (&r);
    return NULL;
  }
  reply_clear (&r);
  if (!ehlo (s, error))
    return NULL;
  if (cfg.tls == MSGTK_TLS_STARTTLS) {
    if (!msgtk_smtp_has_extension (s, "STARTTLS")) {
      g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_UNAVAILABLE,
                   "SMTP server %s does not offer STARTTLS, which this account requires; "
                   "nothing was sent (use --tls implicit for a TLS port, or --tls none only on "
                   "a trusted network)",
                   s->host);
      return NULL;
    }
    msgtk_connection_queue_line (s->conn, "STARTTLS");
    if (!flush (s, error) || !read_reply (s, &r, error))
      return NULL;
    if (r.code != 220) {
      set_reply_error (s, error, &r, "STARTTLS", "STARTTLS");
      reply_clear (&r);
      return NULL;
    }
    reply_clear (&r);
    if (!msgtk_connection_starttls (s->conn, error) || !ehlo (s, error))
      return NULL;
  }
  return g_steal_pointer (&s);
}

gboolean
msgtk_smtp_authenticate (MsgtkSmtp *s, MsgtkAccount *account, GError **error)
{
  if (!msgtk_account_has_credentials (account))
    return TRUE;
  if (!msgtk_connection_is_tls (s->conn) && !account->allow_plaintext_auth) {
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_NO_PERM,
                 "refusing to send credentials to %s without TLS (use --tls starttls or "
                 "implicit; allow-plaintext-auth = true in the account overrides this)",
                 s->host);
    return FALSE;
  }
  const char *offered = g_hash_table_lookup (s->ext, "AUTH");
  if (offered == NULL) {
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_UNAVAILABLE,
                 "SMTP server %s does not offer AUTH, but credentials are configured", s->host);
    return FALSE;
  }
  char *password = NULL, *token = NULL;
  if (!msgtk_account_get_secret (account, &password, &token, error))
    return FALSE;
  msgtk_connection_add_secret (s->conn, password);
  msgtk_connection_add_secret (s->conn, token);
  gboolean ok = FALSE;
  const char *mech = msgtk_sasl_choose (offered, account->auth, token != NULL, error);
  g_autoptr (MsgtkSasl) sasl
      = mech ? msgtk_sasl_new (mech, account->user, password, token, "smtp", s->host, error) : NULL;
  msgtk_secret_free (password);
  msgtk_secret_free (token);
  if (sasl == NULL)
    return FALSE;
  char *resp = NULL;
  gboolean done = FALSE;
  g_autofree char *cmd = g_strdup_printf ("AUTH %s", mech);
  if (msgtk_sasl_client_first (sasl)) {
    if (!msgtk_sasl_step (sasl, NULL, &resp, &done, error))
      return FALSE;
    char *line = g_strdup_printf ("%s %s", cmd, *resp ? resp : "=");
    msgtk_connection_queue_secret_line (s->conn, line, strlen (cmd));
    msgtk_secret_free (line);
    msgtk_secret_free (resp);
  } else {
    msgtk_connection_queue_line (s->conn, cmd);
  }
  msgtk_connection_redact_server (s->conn, TRUE);
  Reply r = { 0 };
  for (guint round = 0; round < 16; round++) {
    if (!flush (s, error) || !read_reply (s, &r, error))
      goto out;
    if (r.code == 235) {
      ok = TRUE;
      goto out;
    }
    if (r.code != 334) {
      g_set_error (error, MSGTK_ERROR, msgtk_smtp_reply_error (r.code, "AUTH"),
                   "SMTP server %s refused authentication (%s as %s): %d %s", s->host, mech,
                   account->user, r.code, r.text->str);
      goto out;
    }
    if (!msgtk_sasl_step (sasl, r.text->str, &resp, &done, error)) {
      msgtk_connection_queue_line (s->conn, "*"); /* cancel the exchange */
      flush (s, NULL);
      read_reply (s, &r, NULL);
      goto out;
    }
    msgtk_connection_queue_secret_line (s->conn, resp, 0);
    msgtk_secret_free (resp);
  }
  g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_PROTOCOL, "SMTP AUTH %s with %s did not finish",
               mech, s->host);
out:
  msgtk_connection_redact_server (s->conn, FALSE);
  reply_clear (&r);
  if (ok) {
    g_free (s->auth_mech);
    s->auth_mech = g_strdup (mech);
  }
  return ok;
}

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

static gboolean
rset (MsgtkSmtp *s)
{
  Reply r = { 0 };
  if (!s->usable)
    return FALSE;
  msgtk_connection_queue_line (s->conn, "RSET");
  gboolean ok = flush (s, NULL) && read_reply (s, &r, NULL) && r.code == 250;
  reply_clear (&r);
  if (!ok)
    s->usable = FALSE;
  return ok;
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

static gboolean
refuse_all (MsgtkSmtp *s, MsgtkSmtpRecipient *first_bad, GError **error)
{
  g_set_error (error, MSGTK_ERROR, msgtk_smtp_reply_error (first_bad->code, "RCPT"),
               "SMTP server %s accepted no recipient (first refusal: <%s>: %d %s)", s->host,
               first_bad->address, first_bad->code, first_bad->reply ? first_bad->reply : "");
  return FALSE;
}

/* The message is out; its final reply will be read with the next commands. */
static gboolean
defer (MsgtkSmtp *s, const MsgtkSmtpSendOptions *opts, GPtrArray *results, gboolean *deferred)
{
  s->pending.done = opts->done;
  s->pending.data = opts->done_data;
  s->pending.results = g_ptr_array_ref (results);
  *deferred = TRUE;
  return TRUE;
}

static gboolean
send_message (MsgtkSmtp *s, const char *sender, GPtrArray *recipients, GBytes *data,
              const MsgtkSmtpSendOptions *opts, GPtrArray **results, gboolean *deferred,
              GError **error)
{
  GPtrArray *res = g_ptr_array_new_with_free_func (recipient_free);
  *results = res;
  if (!s->usable) {
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_TEMP_FAIL, "the SMTP session with %s is closed",
                 s->host);
    return FALSE;
  }
  if (recipients->len == 0) {
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_USAGE, "no recipients");
    return FALSE;
  }
  gsize len;
  const void *data_bytes = g_bytes_get_data (data, &len);
  guint64 size = wire_size (data_bytes, len, WIRE_FINAL_CRLF);
  if (s->size_limit && size > s->size_limit) {
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_DATA,
                 "message of %" G_GUINT64_FORMAT
                 " bytes exceeds the SIZE limit of %" G_GUINT64_FORMAT
                 " bytes of SMTP server %s; nothing was sent",
                 size, s->size_limit, s->host);
    return FALSE;
  }
  for (guint i = 0; i <= recipients->len; i++) {
    const char *a = i < recipients->len ? g_ptr_array_index (recipients, i) : sender;
    if (!address_ok (a)) {
      g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_USAGE,
                   "<%s> cannot be used as an SMTP address: it has a control character or an "
                   "angle bracket",
                   a);
      return FALSE;
    }
  }
  gboolean utf8_addr = !is_ascii (sender);
  for (guint i = 0; i < recipients->len; i++)
    utf8_addr = utf8_addr || !is_ascii (g_ptr_array_index (recipients, i));
  gboolean eight = msgtk_message_needs_8bit (data);
  if (utf8_addr && !msgtk_smtp_has_extension (s, "SMTPUTF8")) {
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_UNAVAILABLE,
                 "an address is not ASCII but SMTP server %s does not offer SMTPUTF8", s->host);
    return FALSE;
  }
  if (eight && !msgtk_smtp_has_extension (s, "8BITMIME")
      && !msgtk_smtp_has_extension (s, "SMTPUTF8")) {
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_DATA,
                 "the message has 8-bit bytes but SMTP server %s offers neither 8BITMIME nor "
                 "SMTPUTF8 (encode it as quoted-printable or base64 first, e.g. with msgbuild)",
                 s->host);
    return FALSE;
  }
  gboolean dsn = msgtk_smtp_has_extension (s, "DSN");
  gboolean pipelining = msgtk_smtp_has_extension (s, "PIPELINING");
  gboolean chunking
      = msgtk_smtp_has_extension (s, "CHUNKING") && !opts->no_chunking && !opts->dry_run;
  g_autoptr (GString) mail = g_string_new (NULL);
  g_string_printf (mail, "MAIL FROM:<%s>", sender);
  if (s->size_limit || msgtk_smtp_has_extension (s, "SIZE"))
    g_string_append_printf (mail, " SIZE=%" G_GUINT64_FORMAT, size);
  if (eight && msgtk_smtp_has_extension (s, "8BITMIME"))
    g_string_append (mail, " BODY=8BITMIME");
  if (utf8_addr)
    g_string_append (mail, " SMTPUTF8");
  if (dsn && opts->dsn_return)
    g_string_append_printf (mail, " RET=%s", opts->dsn_return);
  if (dsn && opts->envid)
    g_string_append_printf (mail, " ENVID=%s", opts->envid);
  msgtk_connection_queue_line (s->conn, mail->str);
  if (!pipelining) {
    Reply r = { 0 };
    if (!flush (s, error) || !read_reply (s, &r, error))
      return FALSE;
    if (r.code != 250) {
      set_reply_error (s, error, &r, "MAIL", "the sender");
      reply_clear (&r);
      rset (s);
      return FALSE;
    }
    reply_clear (&r);
  }
  for (guint i = 0; i < recipients->len; i++) {
    MsgtkSmtpRecipient *rc = g_new0 (MsgtkSmtpRecipient, 1);
    rc->address = g_strdup (g_ptr_array_index (recipients, i));
    g_ptr_array_add (res, rc);
    g_autofree char *cmd = NULL;
    if (dsn && opts->dsn_notify)
      cmd = g_strdup_printf ("RCPT TO:<%s> NOTIFY=%s", rc->address, opts->dsn_notify);
    else
      cmd = g_strdup_printf ("RCPT TO:<%s>", rc->address);
    msgtk_connection_queue_line (s->conn, cmd);
    if (!pipelining) {
      Reply r = { 0 };
      if (!flush (s, error) || !read_reply (s, &r, error))
        return FALSE;
      rc->code = r.code;
      rc->reply = g_strdup (r.text->str);
      rc->accepted = r.code == 250 || r.code == 251;
      reply_clear (&r);
    }
  }
  if (!pipelining && !opts->dry_run) {
    MsgtkSmtpRecipient *bad = NULL;
    if (count_accepted (res, &bad) == 0) {
      /* Nobody to send the message to: neither DATA nor BDAT. */
      rset (s);
      return refuse_all (s, bad, error);
    }
  }
  /* Keep the buffer between messages, but not the room a huge one took. */
  if (s->body->len > 8 * 1024 * 1024) {
    g_byte_array_unref (s->body);
    s->body = g_byte_array_new ();
  }
  GByteArray *body = s->body;
  g_byte_array_set_size (body, 0);
  if (!opts->dry_run) {
    if (chunking) {
      wire_encode_all (data_bytes, len, WIRE_FINAL_CRLF, body);
      g_autofree char *bdat = g_strdup_printf ("BDAT %u LAST", body->len);
      msgtk_connection_queue_line (s->conn, bdat);
      if (pipelining)
        msgtk_connection_queue_data (s->conn, body->data, body->len);
    } else {
      msgtk_connection_queue_line (s->conn, "DATA");
      /* Ready before the 354 comes, not after. */
      wire_encode_all (data_bytes, len, WIRE_FINAL_CRLF | WIRE_DOT_STUFF, body);
    }
  }
  if (!flush (s, error) || !pending_finish (s, error))
    return FALSE;
  Reply r = { 0 };
  if (pipelining) {
    if (!read_reply (s, &r, error))
      return FALSE;
    int mail_code = r.code;
    g_autofree char *mail_text = g_strdup (r.text->str);
    for (guint i = 0; i < res->len; i++) {
      MsgtkSmtpRecipient *rc = g_ptr_array_index (res, i);
      if (!read_reply (s, &r, error))
        return FALSE;
      rc->code = r.code;
      rc->reply = g_strdup (r.text->str);
      rc->accepted = mail_code == 250 && (r.code == 250 || r.code == 251);
    }
    if (mail_code != 250) {
      /* The RCPT replies to a refused MAIL say nothing about the recipients. */
      for (guint i = 0; i < res->len; i++) {
        MsgtkSmtpRecipient *rc = g_ptr_array_index (res, i);
        rc->code = 0;
        g_clear_pointer (&rc->reply, g_free);
      }
      if (!opts->dry_run) { /* the DATA/BDAT reply */
        if (!read_reply (s, &r, error))
          return FALSE;
        if (!chunking && r.code == 354) {
          /* A broken server accepted DATA without a transaction: end it. */
          msgtk_connection_queue_line (s->conn, ".");
          flush (s, NULL);
          read_reply (s, &r, NULL);
        }
      }
      g_set_error (error, MSGTK_ERROR, msgtk_smtp_reply_error (mail_code, "MAIL"),
                   "SMTP server %s refused the sender <%s>: %d %s", s->host, sender, mail_code,
                   mail_text);
      reply_clear (&r);
      rset (s);
      return FALSE;
    }
  }
  MsgtkSmtpRecipient *first_bad = NULL;
  guint accepted = count_accepted (res, &first_bad);
  if (opts->dry_run) {
    reply_clear (&r);
    rset (s);
    if (first_bad) {
      g_set_error (error, MSGTK_ERROR, msgtk_smtp_reply_error (first_bad->code, "RCPT"),
                   "SMTP server %s would refuse <%s>: %d %s", s->host, first_bad->address,
                   first_bad->code, first_bad->reply ? first_bad->reply : "");
      return FALSE;
    }
    return TRUE;
  }
  if (chunking) {
    if (!pipelining) {
      msgtk_connection_queue_data (s->conn, body->data, body->len);
      if (!flush (s, error))
        return FALSE;
    }
    if (!read_reply (s, &r, error))
      return FALSE;
    if (accepted == 0)
      goto none_accepted;
    if (r.code != 250) {
      set_reply_error (s, error, &r, "BDAT", "the message");
      reply_clear (&r);
      rset (s);
      return FALSE;
    }
    reply_clear (&r);
    return TRUE;
  }
  /* DATA: the 354 (or refusal) reply. */
  if (!read_reply (s, &r, error))
    return FALSE;
  if (accepted == 0) {
    if (r.code == 354) {
      msgtk_connection_queue_line (s->conn, ".");
      flush (s, NULL);
      read_reply (s, &r, NULL);
    }
    goto none_accepted;
  }
  if (r.code != 354) {
    set_reply_error (s, error, &r, "DATA", "DATA");
    reply_clear (&r);
    rset (s);
    return FALSE;
  }
  msgtk_connection_queue_data (s->conn, body->data, body->len);
  if (pipelining && opts->done) {
    /* The text goes now, so the server takes it in while the next message
     * is read; the final "." waits to go in one write with the next
     * message's commands (RFC 2920), whose replies then come back together
     * with the one for this message. */
    if (!flush (s, error))
      return FALSE;
    msgtk_connection_queue_line (s->conn, ".");
    return defer (s, opts, res, deferred);
  }
  msgtk_connection_queue_line (s->conn, ".");
  if (!flush (s, error) || !read_reply (s, &r, error))
    return FALSE;
  if (r.code != 250) {
    set_reply_error (s, error, &r, "DATA", "the message");
    reply_clear (&r);
    rset (s);
    return FALSE;
  }
  reply_clear (&r);
  return TRUE;

none_accepted:
  reply_clear (&r);
  rset (s);
  return refuse_all (s, first_bad, error);
}

gboolean
msgtk_smtp_send (MsgtkSmtp *s, const char *sender, GPtrArray *recipients, GBytes *data,
                 const MsgtkSmtpSendOptions *opts, GPtrArray **results, GError **error)
{
  static const MsgtkSmtpSendOptions defaults = { 0 };
  if (opts == NULL)
    opts = &defaults;
  g_autoptr (GError) local = NULL;
  gboolean deferred = FALSE;
  gboolean ok = send_message (s, sender, recipients, data, opts, results, &deferred, &local);
  if (!s->usable)
    pending_lost (s, local);
  if (ok && opts->done && !deferred)
    opts->done (TRUE, *results, NULL, opts->done_data);
  if (local)
    g_propagate_error (error, g_steal_pointer (&local));
  return ok;
}

void
msgtk_smtp_quit (MsgtkSmtp *s)
{
  if (s == NULL)
    return;
  if (s->usable) {
    Reply r = { 0 };
    msgtk_connection_queue_line (s->conn, "QUIT");
    if (flush (s, NULL) && pending_finish (s, NULL))
      read_reply (s, &r, NULL);
    reply_clear (&r);
    msgtk_connection_close (s->conn);
  }
  msgtk_smtp_free (s);
}
