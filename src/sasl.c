/* msgtk — SASL client exchanges over GNU SASL, and the one exchange loop
 * that every protocol runs (sasl-private.h). */
#include "sasl-private.h"

#include <gsasl.h>
#include <string.h>

/* Challenges answered before an exchange is given up as endless. */
#define MAX_ROUNDS 16

struct _MsgtkSasl {
  Gsasl *ctx;
  Gsasl_session *session;
  char *mechanism;
  char *user; /* for messages */
  char *host;
  char *token_message; /* XOAUTH2 / OAUTHBEARER: the one message */
  gboolean token_sent;
  /* Whether a success from the server may be believed now: the mechanism
   * has done all it does (libgsasl said so: for SCRAM, once the server's
   * signature verified; a bearer token went out). */
  gboolean finished;
};

static const char *const password_mechs[]
    = { "SCRAM-SHA-256", "SCRAM-SHA-1", "CRAM-MD5", "PLAIN", "LOGIN", NULL };
static const char *const token_mechs[] = { "OAUTHBEARER", "XOAUTH2", NULL };

static gboolean
in_list (const char *list, const char *word)
{
  if (list == NULL)
    return FALSE;
  g_auto (GStrv) parts = g_strsplit_set (list, " ,\t", -1);
  for (guint i = 0; parts[i]; i++)
    if (g_ascii_strcasecmp (parts[i], word) == 0)
      return TRUE;
  return FALSE;
}

const char *
msgtk_sasl_choose (const char *offered, const char *allowed, gboolean have_token, GError **error)
{
  const char *const *order = have_token ? token_mechs : password_mechs;
  for (guint i = 0; order[i]; i++)
    if (in_list (offered, order[i]) && (allowed == NULL || in_list (allowed, order[i])))
      return order[i];
  g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_UNAVAILABLE,
               "no usable authentication mechanism: the server offers '%s'%s%s%s",
               offered ? offered : "", allowed ? ", the account allows '" : "",
               allowed ? allowed : "", allowed ? "'" : "");
  return NULL;
}

MsgtkSasl *
msgtk_sasl_new (const char *mechanism, const char *user, const char *password, const char *token,
                const char *service, const char *host, GError **error)
{
  MsgtkSasl *s = g_new0 (MsgtkSasl, 1);
  s->mechanism = g_ascii_strup (mechanism, -1);
  s->user = g_strdup (user);
  s->host = g_strdup (host ? host : "localhost");
  if (g_strv_contains (token_mechs, s->mechanism)) {
    if (token == NULL || user == NULL) {
      error_set_hint (error,
                      token == NULL ? MSGTK_ERROR_HINT_GIVE_TOKEN : MSGTK_ERROR_HINT_GIVE_USER,
                      MSGTK_ERROR_CONFIG, "%s needs a user and an OAuth2 token", s->mechanism);
      msgtk_sasl_free (s);
      return NULL;
    }
    g_autofree char *raw = NULL;
    if (strcmp (s->mechanism, "XOAUTH2") == 0)
      raw = g_strdup_printf ("user=%s\001auth=Bearer %s\001\001", user, token);
    else
      raw = g_strdup_printf ("n,a=%s,\001auth=Bearer %s\001\001", user, token);
    s->token_message = g_base64_encode ((const guchar *)raw, strlen (raw));
    memset (raw, 0, strlen (raw));
    return s;
  }
  int rc = gsasl_init (&s->ctx);
  if (rc == GSASL_OK)
    rc = gsasl_client_start (s->ctx, s->mechanism, &s->session);
  if (rc != GSASL_OK) {
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_UNAVAILABLE, "SASL %s cannot start: %s",
                 s->mechanism, gsasl_strerror (rc));
    msgtk_sasl_free (s);
    return NULL;
  }
  if (user)
    gsasl_property_set (s->session, GSASL_AUTHID, user);
  if (password)
    gsasl_property_set (s->session, GSASL_PASSWORD, password);
  gsasl_property_set (s->session, GSASL_SERVICE, service ? service : "smtp");
  if (host)
    gsasl_property_set (s->session, GSASL_HOSTNAME, host);
  return s;
}

void
msgtk_sasl_free (MsgtkSasl *s)
{
  if (s == NULL)
    return;
  if (s->session)
    gsasl_finish (s->session);
  if (s->ctx)
    gsasl_done (s->ctx);
  if (s->token_message) {
    memset (s->token_message, 0, strlen (s->token_message));
    g_free (s->token_message);
  }
  g_free (s->mechanism);
  g_free (s->user);
  g_free (s->host);
  g_free (s);
}

const char *
msgtk_sasl_get_mechanism (MsgtkSasl *s)
{
  return s->mechanism;
}

gboolean
msgtk_sasl_client_first (MsgtkSasl *s)
{
  /* CRAM-MD5 waits for the server's challenge; LOGIN is answered prompt by
   * prompt as RFC 4954's exchange shows it. */
  return strcmp (s->mechanism, "CRAM-MD5") != 0 && strcmp (s->mechanism, "LOGIN") != 0;
}

/* Why the mechanism refused @challenge: for SCRAM's final message, in its
 * own terms (RFC 5802 7: "v=" the server's signature, "e=" its error). */
static void
step_error (MsgtkSasl *s, const char *challenge, int rc, GError **error)
{
  gsize n = 0;
  g_autofree char *raw = challenge && *challenge ? (char *)g_base64_decode (challenge, &n) : NULL;
  gboolean scram = g_str_has_prefix (s->mechanism, "SCRAM-");
  if (scram && raw != NULL && n > 2 && raw[0] == 'v' && raw[1] == '=') {
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_NO_PERM,
                 "SASL %s with %s: the server's signature is wrong, so it does not know the "
                 "password (or what answered is not the server)",
                 s->mechanism, s->host);
  } else if (scram && raw != NULL && n > 2 && raw[0] == 'e' && raw[1] == '=') {
    g_autofree char *what = g_strndup (raw + 2, MIN (n - 2, 80));
    for (char *p = what; *p; p++)
      if ((guchar)*p < 0x20 || (guchar)*p > 0x7e)
        *p = '?';
    error_set_hint (error, MSGTK_ERROR_HINT_CHECK_CREDENTIALS, MSGTK_ERROR_NO_PERM,
                    "SASL %s with %s: the server reports '%s'", s->mechanism, s->host, what);
  } else {
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_NO_PERM, "SASL %s with %s failed: %s",
                 s->mechanism, s->host, gsasl_strerror (rc));
  }
  if (raw != NULL)
    memset (raw, 0, n);
}

gboolean
msgtk_sasl_step (MsgtkSasl *s, const char *challenge, char **response, gboolean *done,
                 GError **error)
{
  *done = FALSE;
  if (s->token_message) {
    if (s->token_sent) {
      /* The server sent an error report as a challenge: answer empty to get
       * the final failure reply (RFC 7628 3.2.3). */
      *response = g_strdup ("");
      *done = TRUE;
      return TRUE;
    }
    *response = g_strdup (s->token_message);
    s->token_sent = TRUE;
    s->finished = TRUE; /* the server's success is all that can follow */
    return TRUE;
  }
  char *out = NULL;
  int rc = gsasl_step64 (s->session, challenge ? challenge : "", &out);
  if (rc != GSASL_OK && rc != GSASL_NEEDS_MORE) {
    step_error (s, challenge, rc, error);
    return FALSE;
  }
  s->finished = rc == GSASL_OK;
  *response = g_strdup (out ? out : "");
  if (out) {
    memset (out, 0, strlen (out));
    gsasl_free (out);
  }
  *done = rc == GSASL_OK;
  return TRUE;
}

/* ---- the exchange ---- */

void
sasl_reply_clear (MsgtkSaslReply *reply)
{
  msgtk_secret_free (reply->data);
  g_free (reply->text);
  memset (reply, 0, sizeof *reply);
}

void
sasl_set_refused (GError **error, const char *protocol, const char *host, const char *mechanism,
                  const char *user, const MsgtkSaslReply *reply)
{
  error_set_hint (error, reply->hint, reply->code,
                  "%s server %s refused authentication (%s as %s): %s", protocol, host, mechanism,
                  user ? user : "no user", reply->text ? reply->text : "");
}

gboolean
sasl_check_secure (MsgtkAccount *account, gboolean secure, const char *protocol, const char *host,
                   GError **error)
{
  if (secure || account->allow_plaintext_auth)
    return TRUE;
  error_set_hint (error, MSGTK_ERROR_HINT_TLS_FOR_CREDENTIALS, MSGTK_ERROR_NO_PERM,
                  "refusing to send the credentials for '%s' to the %s server %s without "
                  "TLS (allow-plaintext-auth = true in the account overrides this)",
                  account->user ? account->user : "the account", protocol, host);
  return FALSE;
}

/* Cancel the exchange after a failure on our side, and take the server's
 * answer to that (a refusal: SMTP 501, IMAP BAD/NO, POP3 -ERR) off the wire. */
static void
cancel (const MsgtkSaslProfile *p, gpointer session)
{
  MsgtkSaslReply answer = { 0 };
  p->cancel (session);
  p->read (session, &answer, NULL);
  sasl_reply_clear (&answer);
}

/* The server says success: believe it only once the mechanism is done with
 * the server's last word (@data, additional data with success). */
static gboolean
accept_success (MsgtkSasl *s, const MsgtkSaslProfile *p, const char *data, GError **error)
{
  if (data != NULL) {
    char *resp = NULL;
    gboolean done;
    /* the exchange is over: a refusal here has nothing left to cancel */
    if (!msgtk_sasl_step (s, data, &resp, &done, error))
      return FALSE;
    msgtk_secret_free (resp);
  }
  if (s->finished)
    return TRUE;
  if (g_str_has_prefix (s->mechanism, "SCRAM-"))
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_NO_PERM,
                 "the %s server %s accepted %s without proving that it knows the password (no "
                 "server signature); refusing to go on",
                 p->protocol, s->host, s->mechanism);
  else
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_NO_PERM,
                 "the %s server %s accepted %s before the exchange was complete; refusing to go "
                 "on",
                 p->protocol, s->host, s->mechanism);
  return FALSE;
}

/* Queue the command that starts the exchange; an initial response that it
 * may not carry is kept in *@pending for the server's empty challenge. */
static gboolean
start (MsgtkSasl *s, const MsgtkSaslProfile *p, gpointer session, char **pending, GError **error)
{
  *pending = NULL;
  if (!msgtk_sasl_client_first (s)) {
    p->start (session, s->mechanism, NULL);
    return TRUE;
  }
  char *initial = NULL;
  gboolean done;
  if (!msgtk_sasl_step (s, NULL, &initial, &done, error))
    return FALSE;
  /* an empty initial response goes as "=" (RFC 4954 4, RFC 4959 3, RFC 5034 4) */
  gsize len = strlen (s->mechanism) + MAX (strlen (initial), 1);
  if (p->initial_response && (p->max_initial == 0 || len <= p->max_initial)) {
    p->start (session, s->mechanism, *initial ? initial : "=");
    msgtk_secret_free (initial);
  } else {
    p->start (session, s->mechanism, NULL);
    *pending = initial;
  }
  return TRUE;
}

gboolean
sasl_exchange (MsgtkSasl *s, const MsgtkSaslProfile *p, gpointer session, GError **error)
{
  char *pending = NULL;
  if (!start (s, p, session, &pending, error))
    return FALSE;
  if (p->connection != NULL)
    msgtk_connection_redact_server (p->connection, TRUE);
  gboolean ok = FALSE;
  MsgtkSaslReply reply = { 0 };
  for (guint round = 0;; round++) {
    sasl_reply_clear (&reply);
    if (!p->read (session, &reply, error))
      break;
    if (reply.outcome == MSGTK_SASL_FAILURE) {
      sasl_set_refused (error, p->protocol, s->host, s->mechanism, s->user, &reply);
      break;
    }
    if (reply.outcome == MSGTK_SASL_SUCCESS) {
      ok = accept_success (s, p, reply.data, error);
      break;
    }
    if (round == MAX_ROUNDS) {
      g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_PROTOCOL,
                   "%s authentication (%s) with %s did not finish after %u challenges", p->protocol,
                   s->mechanism, s->host, MAX_ROUNDS);
      cancel (p, session);
      break;
    }
    char *resp = NULL;
    gboolean done;
    if (pending != NULL) {
      /* the empty challenge that asks for the initial response (RFC 4422 5) */
      resp = g_steal_pointer (&pending);
    } else if (!msgtk_sasl_step (s, reply.data, &resp, &done, error)) {
      cancel (p, session);
      break;
    }
    p->respond (session, resp);
    msgtk_secret_free (resp);
  }
  if (p->connection != NULL)
    msgtk_connection_redact_server (p->connection, FALSE);
  sasl_reply_clear (&reply);
  msgtk_secret_free (pending);
  return ok;
}
