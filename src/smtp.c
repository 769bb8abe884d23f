/* msgtk — SMTP/ESMTP client session. */
#include "msgtk/smtp.h"

#include "msgtk/connection.h"
#include "msgtk/error.h"
#include "sasl-private.h"

#include <errno.h>
#include <fcntl.h>
#include "gmime-autoptr-private.h"
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

/* SMTP AUTH as a SASL profile (RFC 4954): "AUTH mech [initial-response]",
 * 334 challenges, responses on lines of their own, "*" to cancel. */
static void
auth_start (gpointer session, const char *mech, const char *initial)
{
  MsgtkSmtp *s = session;
  g_autofree char *cmd = g_strdup_printf ("AUTH %s", mech);
  if (initial == NULL) {
    msgtk_connection_queue_line (s->conn, cmd);
    return;
  }
  char *line = g_strdup_printf ("%s %s", cmd, initial);
  msgtk_connection_queue_secret_line (s->conn, line, strlen (cmd));
  msgtk_secret_free (line);
}

static void
auth_respond (gpointer session, const char *response)
{
  MsgtkSmtp *s = session;
  msgtk_connection_queue_secret_line (s->conn, response, 0);
}

static void
auth_cancel (gpointer session)
{
  MsgtkSmtp *s = session;
  msgtk_connection_queue_line (s->conn, "*");
}

/* 334: a challenge; 235: success (its text is for people, RFC 4954 has no
 * additional data with success); anything else: a refusal. */
static gboolean
auth_read (gpointer session, MsgtkSaslReply *reply, GError **error)
{
  MsgtkSmtp *s = session;
  Reply r = { 0 };
  if (!flush (s, error) || !read_reply (s, &r, error)) {
    reply_clear (&r);
    return FALSE;
  }
  if (r.code == 334) {
    reply->outcome = MSGTK_SASL_CHALLENGE;
    reply->data = g_strdup (r.text->str);
  } else if (r.code == 235) {
    reply->outcome = MSGTK_SASL_SUCCESS;
  } else {
    reply->outcome = MSGTK_SASL_FAILURE;
    reply->code = msgtk_smtp_reply_error (r.code, "AUTH");
    reply->hint = r.code == 535 ? MSGTK_ERROR_HINT_CHECK_CREDENTIALS : MSGTK_ERROR_HINT_NONE;
    reply->text = g_strdup_printf ("%d %s", r.code, r.text->str);
  }
  if (r.text != NULL) /* a challenge can hold secrets */
    memset (r.text->str, 0, r.text->len);
  reply_clear (&r);
  return TRUE;
}

gboolean
msgtk_smtp_authenticate (MsgtkSmtp *s, MsgtkAccount *account, GError **error)
{
  if (!msgtk_account_has_credentials (account))
    return TRUE;
  if (!msgtk_sasl_check_secure (account, msgtk_connection_is_tls (s->conn), "SMTP", s->host, error))
    return FALSE;
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
  const char *mech = msgtk_sasl_choose (offered, account->auth, token != NULL, error);
  g_autoptr (MsgtkSasl) sasl
      = mech ? msgtk_sasl_new (mech, account->user, password, token, "smtp", s->host, error) : NULL;
  msgtk_secret_free (password);
  msgtk_secret_free (token);
  if (sasl == NULL)
    return FALSE;
  const MsgtkSaslProfile profile = {
    .protocol = "SMTP",
    .connection = s->conn,
    .initial_response = TRUE,
    .start = auth_start,
    .respond = auth_respond,
    .cancel = auth_cancel,
    .read = auth_read,
  };
  if (!msgtk_sasl_exchange (sasl, &profile, s, error))
    return FALSE;
  g_free (s->auth_mech);
  s->auth_mech = g_strdup (mech);
  return TRUE;
}

static void
recipient_free (gpointer p)
{
  MsgtkSmtpRecipient *r = p;
  g_free (r->address);
  g_free (r->reply);
  g_free (r);
}

gboolean
msgtk_smtp_needs_8bit (GBytes *data)
{
  gsize len;
  const guint8 *p = g_bytes_get_data (data, &len);
  gsize i = 0;
  /* Eight bytes at a time: any high bit set in the word. */
  for (; i + 8 <= len; i += 8) {
    guint64 w;
    memcpy (&w, p + i, 8);
    if (w & G_GUINT64_CONSTANT (0x8080808080808080))
      return TRUE;
  }
  for (; i < len; i++)
    if (p[i] & 0x80)
      return TRUE;
  return FALSE;
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

/* Append @len bytes of message data to @out with every line ending made
 * CRLF (a bare LF becomes CRLF, CRLF stays, a lone CR is kept as it is), a
 * final line ending added when missing, and for DATA every line that starts
 * with "." given another (RFC 5321 4.5.2). One pass over the bytes, line by
 * line with memchr; returns the number of bytes appended. */
gsize
msgtk_smtp_encode_data (const void *data, gsize len, gboolean dot_stuff, GByteArray *out)
{
  const char *in = data;
  guint start = out->len;
  /* Worst case: every byte a "\n" (2 bytes out) or ".\n" (4 out of 2). */
  g_byte_array_set_size (out, (guint)(start + 2 * len + 3));
  char *o = (char *)out->data + start;
  const char *p = in, *end = in + len;
  while (p < end) {
    if (dot_stuff && *p == '.')
      *o++ = '.';
    const char *nl = memchr (p, '\n', (gsize)(end - p));
    const char *stop = nl ? nl : end;
    gsize n = (gsize)(stop - p);
    if (nl && n > 0 && stop[-1] == '\r')
      n--;
    memcpy (o, p, n);
    o += n;
    *o++ = '\r';
    *o++ = '\n';
    p = nl ? nl + 1 : end;
  }
  g_byte_array_set_size (out, (guint)(o - (char *)out->data));
  return out->len - start;
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

/* The size of @data as transmitted: every line ending a CRLF (RFC 1870 SIZE). */
static gsize
wire_size (GBytes *data)
{
  gsize n;
  const char *d = g_bytes_get_data (data, &n);
  gsize size = n;
  for (const char *p = d, *end = d + n; (p = memchr (p, '\n', (gsize)(end - p))) != NULL; p++)
    if (p == d || p[-1] != '\r')
      size++;
  if (n > 0 && d[n - 1] != '\n')
    size += 2;
  return size;
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
  gsize size = wire_size (data);
  if (s->size_limit && size > s->size_limit) {
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_DATA,
                 "message of %zu bytes exceeds the SIZE limit of %" G_GUINT64_FORMAT
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
  gboolean eight = msgtk_smtp_needs_8bit (data);
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
    g_string_append_printf (mail, " SIZE=%zu", size);
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
      msgtk_smtp_encode_data (data_bytes, len, FALSE, body);
      g_autofree char *bdat = g_strdup_printf ("BDAT %u LAST", body->len);
      msgtk_connection_queue_line (s->conn, bdat);
      if (pipelining)
        msgtk_connection_queue_data (s->conn, body->data, body->len);
    } else {
      msgtk_connection_queue_line (s->conn, "DATA");
      /* Ready before the 354 comes, not after. */
      msgtk_smtp_encode_data (data_bytes, len, TRUE, body);
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

/* ---- message helpers ---- */

/* Length of the header block (up to and including the empty line). */
static gsize
header_length (const char *p, gsize len)
{
  /* A message that starts with the empty line has no header at all. */
  if (len >= 1 && p[0] == '\n')
    return 1;
  if (len >= 2 && p[0] == '\r' && p[1] == '\n')
    return 2;
  for (gsize i = 0; i < len; i++) {
    if (p[i] != '\n')
      continue;
    if (i + 1 < len && p[i + 1] == '\n')
      return i + 2;
    if (i + 2 < len && p[i + 1] == '\r' && p[i + 2] == '\n')
      return i + 3;
  }
  return len;
}

static gboolean
field_is (const char *line, gsize len, const char *name)
{
  gsize n = strlen (name);
  if (len <= n || g_ascii_strncasecmp (line, name, n) != 0)
    return FALSE;
  gsize i = n;
  while (i < len && (line[i] == ' ' || line[i] == '\t'))
    i++;
  return i < len && line[i] == ':';
}

GBytes *
msgtk_smtp_strip_bcc (GBytes *message)
{
  gsize len;
  const char *p = g_bytes_get_data (message, &len);
  gsize hlen = header_length (p, len);
  gboolean any = FALSE;
  for (gsize i = 0; i < hlen && !any;) {
    const char *nl = memchr (p + i, '\n', hlen - i);
    gsize end = nl ? (gsize)(nl - p) + 1 : hlen;
    any = field_is (p + i, end - i, "Bcc") || field_is (p + i, end - i, "Resent-Bcc");
    i = end;
  }
  if (!any)
    return g_bytes_ref (message);
  GByteArray *out = g_byte_array_sized_new ((guint)len);
  gboolean skipping = FALSE;
  gsize i = 0;
  while (i < hlen) {
    const char *nl = memchr (p + i, '\n', hlen - i);
    gsize end = nl ? (gsize)(nl - p) + 1 : hlen;
    const char *line = p + i;
    gsize llen = end - i;
    gboolean continuation = (line[0] == ' ' || line[0] == '\t');
    if (!continuation)
      skipping = field_is (line, llen, "Bcc") || field_is (line, llen, "Resent-Bcc");
    if (!skipping)
      g_byte_array_append (out, (const guint8 *)line, (guint)llen);
    i = end;
  }
  g_byte_array_append (out, (const guint8 *)p + hlen, (guint)(len - hlen));
  return g_byte_array_free_to_bytes (out);
}

static GMimeMessage *
parse_headers (GBytes *message)
{
  gsize len;
  const char *p = g_bytes_get_data (message, &len);
  gsize hlen = header_length (p, len);
  GMimeStream *ms = g_mime_stream_mem_new_with_buffer (p, hlen);
  GMimeParser *parser = g_mime_parser_new_with_stream (ms);
  GMimeMessage *msg = g_mime_parser_construct_message (parser, NULL);
  g_object_unref (parser);
  g_object_unref (ms);
  return msg;
}

static void
add_addresses (GMimeMessage *msg, const char *field, GPtrArray *out, GHashTable *seen)
{
  GMimeHeaderList *headers = g_mime_object_get_header_list (GMIME_OBJECT (msg));
  int n = g_mime_header_list_get_count (headers);
  for (int i = 0; i < n; i++) {
    GMimeHeader *h = g_mime_header_list_get_header_at (headers, i);
    if (g_ascii_strcasecmp (g_mime_header_get_name (h), field) != 0)
      continue;
    InternetAddressList *list = internet_address_list_parse (NULL, g_mime_header_get_raw_value (h));
    if (list == NULL)
      continue;
    for (int j = 0; j < internet_address_list_length (list); j++) {
      InternetAddress *ia = internet_address_list_get_address (list, j);
      if (INTERNET_ADDRESS_IS_GROUP (ia)) {
        InternetAddressList *members
            = internet_address_group_get_members (INTERNET_ADDRESS_GROUP (ia));
        for (int k = 0; k < internet_address_list_length (members); k++) {
          InternetAddress *m = internet_address_list_get_address (members, k);
          if (INTERNET_ADDRESS_IS_MAILBOX (m)) {
            const char *a = internet_address_mailbox_get_addr (INTERNET_ADDRESS_MAILBOX (m));
            if (a && *a && g_hash_table_add (seen, g_ascii_strdown (a, -1)))
              g_ptr_array_add (out, g_strdup (a));
          }
        }
      } else {
        const char *a = internet_address_mailbox_get_addr (INTERNET_ADDRESS_MAILBOX (ia));
        if (a && *a && g_hash_table_add (seen, g_ascii_strdown (a, -1)))
          g_ptr_array_add (out, g_strdup (a));
      }
    }
    g_object_unref (list);
  }
}

static char *
first_address (GMimeMessage *msg, const char *field)
{
  const char *raw = g_mime_object_get_header (GMIME_OBJECT (msg), field);
  if (raw == NULL)
    return NULL;
  InternetAddressList *list = internet_address_list_parse (NULL, raw);
  char *res = NULL;
  if (list && internet_address_list_length (list) > 0) {
    InternetAddress *ia = internet_address_list_get_address (list, 0);
    if (INTERNET_ADDRESS_IS_MAILBOX (ia))
      res = g_strdup (internet_address_mailbox_get_addr (INTERNET_ADDRESS_MAILBOX (ia)));
  }
  if (list)
    g_object_unref (list);
  return res;
}

gboolean
msgtk_smtp_envelope_from_headers (GBytes *message, char **sender, GPtrArray *recipients,
                                  GError **error)
{
  g_mime_init ();
  GMimeMessage *msg = parse_headers (message);
  if (msg == NULL) {
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_DATA, "the message has no readable header");
    return FALSE;
  }
  gboolean resent = g_mime_object_get_header (GMIME_OBJECT (msg), "Resent-To")
                    || g_mime_object_get_header (GMIME_OBJECT (msg), "Resent-Cc")
                    || g_mime_object_get_header (GMIME_OBJECT (msg), "Resent-Bcc");
  g_autoptr (GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  const char *const plain[] = { "To", "Cc", "Bcc" };
  const char *const res[] = { "Resent-To", "Resent-Cc", "Resent-Bcc" };
  for (guint i = 0; i < 3; i++)
    add_addresses (msg, resent ? res[i] : plain[i], recipients, seen);
  if (sender && *sender == NULL) {
    if (resent)
      *sender = first_address (msg, "Resent-Sender");
    if (resent && *sender == NULL)
      *sender = first_address (msg, "Resent-From");
    if (*sender == NULL)
      *sender = first_address (msg, "Sender");
    if (*sender == NULL)
      *sender = first_address (msg, "From");
  }
  g_object_unref (msg);
  return TRUE;
}

GBytes *
msgtk_smtp_add_missing (GBytes *message, const char *domain)
{
  g_mime_init ();
  GMimeMessage *msg = parse_headers (message);
  gboolean has_date = msg && g_mime_object_get_header (GMIME_OBJECT (msg), "Date");
  gboolean has_id = msg && g_mime_object_get_header (GMIME_OBJECT (msg), "Message-ID");
  if (msg)
    g_object_unref (msg);
  if (has_date && has_id)
    return g_bytes_ref (message);
  gsize len;
  const char *p = g_bytes_get_data (message, &len);
  const char *eol = (len > 0 && memchr (p, '\r', MIN (len, 4096))) ? "\r\n" : "\n";
  GString *s = g_string_new (NULL);
  if (!has_date) {
    g_autoptr (GDateTime) now = g_date_time_new_now_local ();
    g_autofree char *d = g_mime_utils_header_format_date (now);
    g_string_append_printf (s, "Date: %s%s", d, eol);
  }
  if (!has_id) {
    g_autofree char *id = g_mime_utils_generate_message_id (domain ? domain : g_get_host_name ());
    g_string_append_printf (s, "Message-ID: <%s>%s", id, eol);
  }
  g_string_append_len (s, p, (gssize)len);
  gsize n = s->len;
  return g_bytes_new_take (g_string_free (s, FALSE), n);
}

/* ---- spool ---- */

static char *
spool_unique_name (void)
{
  static guint counter;
  gint64 now = g_get_real_time ();
  return g_strdup_printf ("%" G_GINT64_FORMAT ".%06d.P%dQ%u.%s", now / G_USEC_PER_SEC,
                          (int)(now % G_USEC_PER_SEC), (int)getpid (),
                          g_atomic_int_add (&counter, 1), g_get_host_name ());
}

static gboolean
write_atomic (const char *dir, const char *tmpdir, const char *name, const void *data, gsize len,
              GError **error)
{
  g_autofree char *tmp = g_build_filename (tmpdir, name, NULL);
  g_autofree char *dst = g_build_filename (dir, name, NULL);
  g_autoptr (GError) local = NULL;
  if (!g_file_set_contents_full (tmp, data, (gssize)len, G_FILE_SET_CONTENTS_DURABLE, 0600, &local)
      || rename (tmp, dst) != 0) {
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_CANT_CREATE, "cannot write %s: %s", dst,
                 local ? local->message : g_strerror (errno));
    unlink (tmp);
    return FALSE;
  }
  return TRUE;
}

gboolean
msgtk_smtp_spool_put (const char *dir, const char *sender, GPtrArray *recipients, GBytes *message,
                      const char *reason, char **name_out, GError **error)
{
  const char *subs[] = { "tmp", "new", "cur", "env" };
  for (guint i = 0; i < G_N_ELEMENTS (subs); i++) {
    g_autofree char *d = g_build_filename (dir, subs[i], NULL);
    if (g_mkdir_with_parents (d, 0700) != 0) {
      g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_CANT_CREATE, "cannot create spool %s: %s", d,
                   g_strerror (errno));
      return FALSE;
    }
  }
  g_autofree char *name = spool_unique_name ();
  g_autofree char *tmpdir = g_build_filename (dir, "tmp", NULL);
  g_autofree char *envdir = g_build_filename (dir, "env", NULL);
  g_autofree char *newdir = g_build_filename (dir, "new", NULL);
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_key_file_set_string (kf, "envelope", "sender", sender ? sender : "");
  g_key_file_set_string_list (kf, "envelope", "recipients", (const char *const *)recipients->pdata,
                              recipients->len);
  if (reason)
    g_key_file_set_string (kf, "envelope", "reason", reason);
  gsize elen;
  g_autofree char *env = g_key_file_to_data (kf, &elen, NULL);
  gsize mlen;
  const void *m = g_bytes_get_data (message, &mlen);
  /* Envelope first: a message in new/ always has its envelope. */
  if (!write_atomic (envdir, tmpdir, name, env, elen, error))
    return FALSE;
  if (!write_atomic (newdir, tmpdir, name, m, mlen, error)) {
    g_autofree char *e = g_build_filename (envdir, name, NULL);
    unlink (e);
    return FALSE;
  }
  if (name_out)
    *name_out = g_steal_pointer (&name);
  return TRUE;
}

static gint
cmp_str (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *)a, *(const char *const *)b);
}

GPtrArray *
msgtk_smtp_spool_list (const char *dir, GError **error)
{
  g_autofree char *newdir = g_build_filename (dir, "new", NULL);
  g_autoptr (GError) local = NULL;
  GDir *d = g_dir_open (newdir, 0, &local);
  if (d == NULL) {
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_NO_INPUT, "cannot read spool %s: %s", dir,
                 local->message);
    return NULL;
  }
  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);
  const char *n;
  while ((n = g_dir_read_name (d)))
    if (n[0] != '.')
      g_ptr_array_add (names, g_strdup (n));
  g_dir_close (d);
  g_ptr_array_sort (names, cmp_str);
  return names;
}

gboolean
msgtk_smtp_spool_get (const char *dir, const char *name, char **sender, GPtrArray *recipients,
                      GBytes **message, GError **error)
{
  g_autofree char *envp = g_build_filename (dir, "env", name, NULL);
  g_autofree char *msgp = g_build_filename (dir, "new", name, NULL);
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autoptr (GError) local = NULL;
  char *data = NULL;
  gsize len = 0;
  if (!g_key_file_load_from_file (kf, envp, G_KEY_FILE_NONE, &local)
      || !g_file_get_contents (msgp, &data, &len, &local)) {
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_NO_INPUT, "spooled message %s is unreadable: %s",
                 name, local->message);
    return FALSE;
  }
  *sender = g_key_file_get_string (kf, "envelope", "sender", NULL);
  gsize n = 0;
  g_auto (GStrv) rcpts = g_key_file_get_string_list (kf, "envelope", "recipients", &n, NULL);
  for (gsize i = 0; i < n; i++)
    g_ptr_array_add (recipients, g_strdup (rcpts[i]));
  *message = g_bytes_new_take (data, len);
  return TRUE;
}

int
msgtk_smtp_spool_lock (const char *dir, GError **error)
{
  g_autofree char *path = g_build_filename (dir, "lock", NULL);
  int fd = open (path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    int e = errno;
    g_set_error (error, MSGTK_ERROR, e == ENOENT ? MSGTK_ERROR_NO_INPUT : MSGTK_ERROR_CANT_CREATE,
                 "cannot lock spool %s: %s", dir, g_strerror (e));
    return -1;
  }
  if (flock (fd, LOCK_EX | LOCK_NB) != 0) {
    int e = errno;
    close (fd);
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_TEMP_FAIL,
                 "spool %s is being flushed by another process (%s); try again later", dir,
                 g_strerror (e));
    return -1;
  }
  return fd;
}

gboolean
msgtk_smtp_spool_remove (const char *dir, const char *name, GError **error)
{
  g_autofree char *envp = g_build_filename (dir, "env", name, NULL);
  g_autofree char *msgp = g_build_filename (dir, "new", name, NULL);
  if (unlink (msgp) != 0 && errno != ENOENT) {
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_IO, "cannot remove %s: %s", msgp,
                 g_strerror (errno));
    return FALSE;
  }
  unlink (envp);
  return TRUE;
}
