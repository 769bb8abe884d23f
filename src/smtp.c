/* msgtk — SMTP/ESMTP client session. */
#include <msgtk/connection.h>
#include <msgtk/error.h>

#include "error-private.h"
#include "gmime-autoptr-private.h"
#include "sasl-private.h"
#include "smtp-private.h"

#include <string.h>

struct _MsgtkSmtp {
  MsgtkConnection *conn;
  char *host;
  char *helo;
  GHashTable *ext; /* upper-case keyword → parameters */
  guint64 size_limit;
  char *auth_mech;
  gboolean usable;
  GByteArray *body; /* the encoded message, reused from one message to the next */
  /* a reply owed to a command sent earlier */
  struct {
    SmtpOwedFunc func; /* NULL: none */
    gpointer data;
    GDestroyNotify free;
  } owed;
};

void
smtp_reply_clear (SmtpReply *r)
{
  if (r->text)
    g_string_free (r->text, TRUE);
  r->text = NULL;
  r->code = 0;
}

gboolean
smtp_flush (MsgtkSmtp *s, GError **error)
{
  if (msgtk_connection_flush (s->conn, error))
    return TRUE;
  s->usable = FALSE;
  return FALSE;
}

gboolean
smtp_reply_read (MsgtkSmtp *s, SmtpReply *r, GError **error)
{
  smtp_reply_clear (r);
  r->text = g_string_new (NULL);
  for (guint lines = 0;; lines++) {
    g_autofree char *line = msgtk_connection_read_line (s->conn, error);
    if (line == NULL) {
      s->usable = FALSE;
      smtp_reply_clear (r);
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
      smtp_reply_clear (r);
      return FALSE;
    }
    int code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
    if (lines > 0 && code != r->code) {
      g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_PROTOCOL,
                   "SMTP server %s changed the reply code inside a multi-line reply", s->host);
      s->usable = FALSE;
      smtp_reply_clear (r);
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

MsgtkError
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

void
smtp_reply_set_error (MsgtkSmtp *s, GError **error, const SmtpReply *r, const char *command,
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
  /* a bare "250" has no text: no line at all, not even the first */
  for (guint i = 1; lines[0] != NULL && lines[i] != NULL; i++) {
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
  SmtpReply r = { 0 };
  g_autofree char *cmd = g_strdup_printf ("EHLO %s", s->helo);
  msgtk_connection_queue_line (s->conn, cmd);
  if (!smtp_flush (s, error) || !smtp_reply_read (s, &r, error))
    return FALSE;
  if (r.code == 250) {
    parse_ehlo (s, r.text->str);
    smtp_reply_clear (&r);
    return TRUE;
  }
  /* Fall back to HELO (RFC 5321 3.2). */
  g_free (cmd);
  cmd = g_strdup_printf ("HELO %s", s->helo);
  msgtk_connection_queue_line (s->conn, cmd);
  if (!smtp_flush (s, error) || !smtp_reply_read (s, &r, error))
    return FALSE;
  if (r.code != 250) {
    smtp_reply_set_error (s, error, &r, "HELO", "EHLO and HELO");
    smtp_reply_clear (&r);
    return FALSE;
  }
  g_hash_table_remove_all (s->ext);
  smtp_reply_clear (&r);
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

void
smtp_owe_reply (MsgtkSmtp *s, SmtpOwedFunc func, gpointer data, GDestroyNotify free)
{
  g_assert (s->owed.func == NULL);
  s->owed.func = func;
  s->owed.data = data;
  s->owed.free = free;
}

/* Hand the owed reply (or its loss) over and forget it. */
static void
owed_report (MsgtkSmtp *s, const SmtpReply *reply, const GError *lost)
{
  SmtpOwedFunc func = s->owed.func;
  gpointer data = s->owed.data;
  GDestroyNotify free = s->owed.free;
  memset (&s->owed, 0, sizeof s->owed);
  func (s, reply, lost, data);
  if (free != NULL)
    free (data);
}

void
smtp_owed_lost (MsgtkSmtp *s, const GError *why)
{
  if (s->owed.func != NULL)
    owed_report (s, NULL, why);
}

gboolean
smtp_read_owed (MsgtkSmtp *s, GError **error)
{
  if (s->owed.func == NULL)
    return TRUE;
  SmtpReply r = { 0 };
  g_autoptr (GError) local = NULL;
  gboolean ok = smtp_reply_read (s, &r, &local);
  owed_report (s, ok ? &r : NULL, local);
  smtp_reply_clear (&r);
  if (!ok)
    g_propagate_error (error, g_steal_pointer (&local));
  return ok;
}

void
smtp_queue_line (MsgtkSmtp *s, const char *line)
{
  msgtk_connection_queue_line (s->conn, line);
}

void
smtp_queue_data (MsgtkSmtp *s, const void *data, gsize len)
{
  msgtk_connection_queue_data (s->conn, data, len);
}

const char *
smtp_host (MsgtkSmtp *s)
{
  return s->host;
}

GByteArray *
smtp_body_buffer (MsgtkSmtp *s)
{
  /* keep the buffer between messages, but not the room a huge one took */
  if (s->body->len > 8 * 1024 * 1024) {
    g_byte_array_unref (s->body);
    s->body = g_byte_array_new ();
  }
  g_byte_array_set_size (s->body, 0);
  return s->body;
}

gboolean
smtp_rset (MsgtkSmtp *s)
{
  SmtpReply r = { 0 };
  if (!s->usable)
    return FALSE;
  msgtk_connection_queue_line (s->conn, "RSET");
  gboolean ok = smtp_flush (s, NULL) && smtp_reply_read (s, &r, NULL) && r.code == 250;
  smtp_reply_clear (&r);
  if (!ok)
    s->usable = FALSE;
  return ok;
}

void
msgtk_smtp_free (MsgtkSmtp *s)
{
  if (s == NULL)
    return;
  smtp_owed_lost (s, NULL);
  msgtk_connection_free (s->conn);
  g_hash_table_unref (s->ext);
  g_free (s->host);
  g_free (s->helo);
  g_free (s->auth_mech);
  g_byte_array_unref (s->body);
  g_free (s);
}

static MsgtkSmtp *
session_new (const char *host, const char *helo)
{
  MsgtkSmtp *s = g_new0 (MsgtkSmtp, 1);
  s->ext = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  s->body = g_byte_array_new ();
  s->host = g_strdup (host);
  s->helo = g_strdup (helo ? helo : g_get_host_name ());
  return s;
}

/* Read the greeting (220) and EHLO (HELO when refused). */
static gboolean
greet (MsgtkSmtp *s, GError **error)
{
  SmtpReply r = { 0 };
  if (!smtp_reply_read (s, &r, error))
    return FALSE;
  if (r.code != 220) {
    g_set_error (error, MSGTK_ERROR,
                 r.code >= 400 && r.code < 500 ? MSGTK_ERROR_TEMP_FAIL : MSGTK_ERROR_UNAVAILABLE,
                 "SMTP server %s does not accept mail now: %d %s", s->host, r.code, r.text->str);
    smtp_reply_clear (&r);
    return FALSE;
  }
  smtp_reply_clear (&r);
  return ehlo (s, error);
}

static void
smtp_connection_config (MsgtkConnectionConfig *cfg)
{
  cfg->protocol = "SMTP";
  cfg->max_line = 8192;
}

MsgtkSmtp *
smtp_new_for_stream (GIOStream *stream, const char *helo, GError **error)
{
  MsgtkConnectionConfig cfg = { .host = "localhost" };
  smtp_connection_config (&cfg);
  g_autoptr (MsgtkSmtp) s = session_new (cfg.host, helo);
  s->conn = msgtk_connection_new_for_stream (stream, &cfg);
  s->usable = TRUE;
  if (!greet (s, error))
    return NULL;
  return g_steal_pointer (&s);
}

gboolean
msgtk_smtp_check_helo (const char *name, GError **error)
{
  gsize n = strlen (name);
  gboolean ok = n > 0 && n <= 255;
  if (ok && name[0] == '[')
    for (gsize i = 1; ok && i < n; i++)
      ok = i == n - 1 ? name[i] == ']'
                      : name[i] > 0x20 && name[i] < 0x7f && strchr ("[]\\", name[i]) == NULL;
  else
    for (gsize i = 0; ok && i < n; i++)
      ok = g_ascii_isalnum (name[i]) || name[i] == '-' || name[i] == '.' || name[i] == '_';
  if (!ok) {
    g_autofree char *shown = g_strescape (name, NULL);
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_USAGE,
                 "'%s' is no name to give in EHLO: a domain or an address literal in brackets",
                 shown);
  }
  return ok;
}

MsgtkSmtp *
msgtk_smtp_connect (MsgtkAccount *account, const char *helo, FILE *trace, GError **error)
{
  MsgtkConnectionConfig cfg = { 0 };
  msgtk_account_connection_config (account, &cfg);
  if (cfg.host == NULL) {
    error_set_hint (error, MSGTK_ERROR_HINT_NO_HOST_GIVEN, MSGTK_ERROR_USAGE,
                    "no SMTP server given");
    return NULL;
  }
  if (helo != NULL && !msgtk_smtp_check_helo (helo, error))
    return NULL;
  if (cfg.port == 0)
    cfg.port = cfg.tls == MSGTK_TLS_IMPLICIT ? 465 : cfg.tls == MSGTK_TLS_STARTTLS ? 587 : 25;
  smtp_connection_config (&cfg);
  g_autoptr (MsgtkSmtp) s = session_new (cfg.host, helo);
  s->conn = msgtk_connection_open (&cfg, error);
  if (s->conn == NULL)
    return NULL;
  s->usable = TRUE;
  msgtk_connection_set_trace (s->conn, trace);
  if (!greet (s, error))
    return NULL;
  SmtpReply r = { 0 };
  if (cfg.tls == MSGTK_TLS_STARTTLS) {
    if (!msgtk_smtp_has_extension (s, "STARTTLS")) {
      error_set_hint (error, MSGTK_ERROR_HINT_STARTTLS_NOT_OFFERED, MSGTK_ERROR_UNAVAILABLE,
                      "SMTP server %s does not offer STARTTLS, which this account "
                      "requires; nothing was sent",
                      s->host);
      return NULL;
    }
    msgtk_connection_queue_line (s->conn, "STARTTLS");
    if (!smtp_flush (s, error) || !smtp_reply_read (s, &r, error))
      return NULL;
    if (r.code != 220) {
      smtp_reply_set_error (s, error, &r, "STARTTLS", "STARTTLS");
      smtp_reply_clear (&r);
      return NULL;
    }
    smtp_reply_clear (&r);
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
  SmtpReply r = { 0 };
  if (!smtp_flush (s, error) || !smtp_reply_read (s, &r, error)) {
    smtp_reply_clear (&r);
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
  smtp_reply_clear (&r);
  return TRUE;
}

gboolean
msgtk_smtp_authenticate (MsgtkSmtp *s, MsgtkAccount *account, GError **error)
{
  if (!msgtk_account_has_credentials (account))
    return TRUE;
  if (!sasl_check_secure (account, msgtk_connection_is_tls (s->conn), "SMTP", s->host, error))
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
  if (!sasl_exchange (sasl, &profile, s, error))
    return FALSE;
  g_free (s->auth_mech);
  s->auth_mech = g_strdup (mech);
  return TRUE;
}

void
msgtk_smtp_quit (MsgtkSmtp *s)
{
  if (s == NULL)
    return;
  if (s->usable) {
    SmtpReply r = { 0 };
    msgtk_connection_queue_line (s->conn, "QUIT");
    if (smtp_flush (s, NULL) && smtp_read_owed (s, NULL))
      smtp_reply_read (s, &r, NULL);
    smtp_reply_clear (&r);
    msgtk_connection_close (s->conn);
  }
  msgtk_smtp_free (s);
}
