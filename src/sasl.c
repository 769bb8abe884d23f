/* msgtk — SASL client exchanges over GNU SASL. */
#include "msgtk/sasl.h"

#include "msgtk/error.h"

#include <gsasl.h>
#include <string.h>

struct _MsgtkSasl {
  Gsasl *ctx;
  Gsasl_session *session;
  char *mechanism;
  char *token_message; /* XOAUTH2 / OAUTHBEARER: the one message */
  gboolean token_sent;
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
  if (g_strv_contains (token_mechs, s->mechanism)) {
    if (token == NULL || user == NULL) {
      g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_CONFIG,
                   "%s needs a user and an OAuth2 token (--token-command, token-file or "
                   "MSGTK_TOKEN)",
                   s->mechanism);
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
    return TRUE;
  }
  char *out = NULL;
  int rc = gsasl_step64 (s->session, challenge ? challenge : "", &out);
  if (rc != GSASL_OK && rc != GSASL_NEEDS_MORE) {
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_NO_PERM, "SASL %s failed: %s", s->mechanism,
                 gsasl_strerror (rc));
    return FALSE;
  }
  *response = g_strdup (out ? out : "");
  if (out) {
    memset (out, 0, strlen (out));
    gsasl_free (out);
  }
  *done = rc == GSASL_OK;
  return TRUE;
}
