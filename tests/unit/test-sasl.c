/* Unit tests of the sasl module: mechanism choice, client steps against known
 * vectors (RFC 2195 CRAM-MD5, RFC 4954 LOGIN), whole exchanges against an
 * in-process libgsasl server session (PLAIN, LOGIN, CRAM-MD5, SCRAM-SHA-1,
 * SCRAM-SHA-256), the bearer-token formats (XOAUTH2, OAUTHBEARER), and the
 * protocol-neutral exchange loop (sasl_exchange) over a profile that
 * SMTP and IMAP do not have: POP3's 255-octet command line, and additional
 * data with success. (The SMTP and IMAP profiles are run by the transcripts,
 * tests/data/transcripts.) */
#include "sasl-private.h"

#include <gsasl.h>
#include <msgtk/msgtk.h>
#include <string.h>

/* ---- choice ---- */

static void
test_choose (void)
{
  g_autoptr (GError) error = NULL;
  const char *all = "PLAIN LOGIN CRAM-MD5 SCRAM-SHA-1 SCRAM-SHA-256";
  g_assert_cmpstr (msgtk_sasl_choose (all, NULL, FALSE, &error), ==, "SCRAM-SHA-256");
  g_assert_cmpstr (msgtk_sasl_choose ("PLAIN LOGIN CRAM-MD5 SCRAM-SHA-1", NULL, FALSE, &error), ==,
                   "SCRAM-SHA-1");
  g_assert_cmpstr (msgtk_sasl_choose ("login plain cram-md5", NULL, FALSE, &error), ==, "CRAM-MD5");
  g_assert_cmpstr (msgtk_sasl_choose (all, "plain,login", FALSE, &error), ==, "PLAIN");
  g_assert_cmpstr (msgtk_sasl_choose (all, "LOGIN", FALSE, &error), ==, "LOGIN");
  /* channel-binding variants are other mechanisms: not taken for the plain one */
  g_assert_cmpstr (msgtk_sasl_choose ("SCRAM-SHA-256-PLUS PLAIN", NULL, FALSE, &error), ==,
                   "PLAIN");
  g_assert_no_error (error);
  /* with a token: the bearer-token mechanisms only */
  g_assert_cmpstr (msgtk_sasl_choose ("PLAIN XOAUTH2 OAUTHBEARER", NULL, TRUE, &error), ==,
                   "OAUTHBEARER");
  g_assert_cmpstr (msgtk_sasl_choose ("PLAIN XOAUTH2", NULL, TRUE, &error), ==, "XOAUTH2");
  g_assert_no_error (error);
  g_assert_null (msgtk_sasl_choose ("PLAIN LOGIN", NULL, TRUE, &error));
  g_assert_error (error, MSGTK_ERROR, MSGTK_ERROR_UNAVAILABLE);
  g_clear_error (&error);
  g_assert_null (msgtk_sasl_choose ("LOGIN GSSAPI", "PLAIN", FALSE, &error));
  g_assert_error (error, MSGTK_ERROR, MSGTK_ERROR_UNAVAILABLE);
  g_assert_nonnull (strstr (error->message, "'LOGIN GSSAPI'"));
  g_assert_nonnull (strstr (error->message, "'PLAIN'"));
  g_clear_error (&error);
  g_assert_null (msgtk_sasl_choose ("", NULL, FALSE, &error));
  g_assert_error (error, MSGTK_ERROR, MSGTK_ERROR_UNAVAILABLE);
}

static void
test_new_errors (void)
{
  g_autoptr (GError) error = NULL;
  g_assert_null (msgtk_sasl_new ("NO-SUCH-MECH", "u", "p", NULL, "smtp", "h", &error));
  g_assert_error (error, MSGTK_ERROR, MSGTK_ERROR_UNAVAILABLE);
  g_clear_error (&error);
  g_assert_null (msgtk_sasl_new ("XOAUTH2", "u", "p", NULL, "smtp", "h", &error));
  g_assert_error (error, MSGTK_ERROR, MSGTK_ERROR_CONFIG);
  g_clear_error (&error);
  g_autoptr (MsgtkSasl) s = msgtk_sasl_new ("plain", "u", "p", NULL, "smtp", "h", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (msgtk_sasl_get_mechanism (s), ==, "PLAIN");
}

/* ---- client steps against known vectors ---- */

static char *
decode (const char *b64, gsize *len)
{
  return (char *)g_base64_decode (b64, len);
}

static void
test_plain (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MsgtkSasl) s = msgtk_sasl_new ("PLAIN", "tim", "tanstaaf", NULL, "smtp", "h", &error);
  g_assert_no_error (error);
  g_assert_true (msgtk_sasl_client_first (s));
  g_autofree char *resp = NULL;
  gboolean done = FALSE;
  g_assert_true (msgtk_sasl_step (s, NULL, &resp, &done, &error));
  gsize n;
  g_autofree char *raw = decode (resp, &n);
  g_assert_cmpmem (raw, n, "\0tim\0tanstaaf", 13);
  g_assert_true (done);
}

static void
test_login_rfc4954 (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MsgtkSasl) s = msgtk_sasl_new ("LOGIN", "tim", "tanstaaf", NULL, "smtp", "h", &error);
  g_assert_no_error (error);
  g_assert_false (msgtk_sasl_client_first (s)); /* answered prompt by prompt */
  g_autofree char *r1 = NULL, *r2 = NULL;
  gboolean done = FALSE;
  g_assert_true (msgtk_sasl_step (s, "VXNlcm5hbWU6", &r1, &done, &error)); /* "Username:" */
  g_assert_cmpstr (r1, ==, "dGlt");                                        /* "tim" */
  g_assert_false (done);
  g_assert_true (msgtk_sasl_step (s, "UGFzc3dvcmQ6", &r2, &done, &error)); /* "Password:" */
  g_assert_cmpstr (r2, ==, "dGFuc3RhYWY=");                                /* "tanstaaf" */
  g_assert_no_error (error);
}

static void
test_cram_md5_rfc2195 (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MsgtkSasl) s
      = msgtk_sasl_new ("CRAM-MD5", "tim", "tanstaaftanstaaf", NULL, "smtp", "h", &error);
  g_assert_no_error (error);
  g_assert_false (msgtk_sasl_client_first (s));
  g_autofree char *resp = NULL;
  gboolean done = FALSE;
  g_assert_true (msgtk_sasl_step (s, "PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+",
                                  &resp, &done, &error));
  g_assert_no_error (error);
  gsize n;
  g_autofree char *raw = decode (resp, &n);
  g_assert_cmpmem (raw, n, "tim b913a602c7eda7a495b4e6e7334d3890", 36);
  g_assert_true (done);
}

/* ---- whole exchanges against a libgsasl server session ---- */

#define SERVER_USER "user@example.org"
#define SERVER_PASSWORD "pencil \xe2\x9c\x8e"

static int
server_callback (Gsasl *ctx, Gsasl_session *sctx, Gsasl_property prop)
{
  const char *authid = gsasl_property_fast (sctx, GSASL_AUTHID);
  switch (prop) {
  case GSASL_PASSWORD:
    if (g_strcmp0 (authid, SERVER_USER) != 0)
      return GSASL_NO_CALLBACK;
    gsasl_property_set (sctx, GSASL_PASSWORD, SERVER_PASSWORD);
    return GSASL_OK;
  case GSASL_VALIDATE_SIMPLE:
    return g_strcmp0 (authid, SERVER_USER) == 0
                   && g_strcmp0 (gsasl_property_fast (sctx, GSASL_PASSWORD), SERVER_PASSWORD) == 0
               ? GSASL_OK
               : GSASL_AUTHENTICATION_ERROR;
  default: return GSASL_NO_CALLBACK;
  }
}

typedef enum { SERVER_ACCEPTS, SERVER_REFUSES, CLIENT_REFUSES } Outcome;

/* Run @mech between our client and a libgsasl server; with @tamper, the
 * server's final message (SCRAM's signature) is changed on the way. */
static Outcome
exchange (const char *mech, const char *password, gboolean tamper, guint *rounds)
{
  Gsasl *ctx = NULL;
  Gsasl_session *server = NULL;
  g_assert_cmpint (gsasl_init (&ctx), ==, GSASL_OK);
  gsasl_callback_set (ctx, server_callback);
  g_assert_cmpint (gsasl_server_start (ctx, mech, &server), ==, GSASL_OK);
  gsasl_property_set (server, GSASL_SERVICE, "smtp");
  gsasl_property_set (server, GSASL_HOSTNAME, "mx.test");
  g_autoptr (GError) error = NULL;
  g_autoptr (MsgtkSasl) client
      = msgtk_sasl_new (mech, SERVER_USER, password, NULL, "smtp", "mx.test", &error);
  g_assert_no_error (error);

  Outcome outcome = SERVER_REFUSES;
  gboolean done = FALSE;
  char *to_server = NULL, *to_client = NULL;
  if (msgtk_sasl_client_first (client))
    g_assert_true (msgtk_sasl_step (client, NULL, &to_server, &done, &error));
  else
    g_assert_cmpint (gsasl_step64 (server, "", &to_client), ==, GSASL_NEEDS_MORE);
  for (*rounds = 0; *rounds < 10; (*rounds)++) {
    if (to_client) {
      g_free (to_server);
      to_server = NULL;
      if (!msgtk_sasl_step (client, to_client, &to_server, &done, &error)) {
        outcome = CLIENT_REFUSES;
        break;
      }
      gsasl_free (to_client);
      to_client = NULL;
    }
    int rc = gsasl_step64 (server, to_server, &to_client);
    if (rc == GSASL_NEEDS_MORE)
      continue;
    if (rc != GSASL_OK)
      break;
    /* The server is satisfied; a final message (SCRAM's v=) must satisfy the client. */
    outcome = SERVER_ACCEPTS;
    if (to_client && *to_client) {
      if (tamper) {
        gsize n;
        g_autofree guchar *raw = g_base64_decode (to_client, &n);
        g_assert_true (n > 3 && raw[0] == 'v' && raw[1] == '=');
        raw[2] = raw[2] == 'A' ? 'B' : 'A'; /* the first 6 bits of the signature */
        gsasl_free (to_client);
        to_client = g_base64_encode (raw, n);
      }
      g_free (to_server);
      to_server = NULL;
      if (!msgtk_sasl_step (client, to_client, &to_server, &done, &error))
        outcome = CLIENT_REFUSES;
    }
    if (outcome == SERVER_ACCEPTS)
      g_assert_true (done);
    break;
  }
  if (outcome == CLIENT_REFUSES)
    g_assert_error (error, MSGTK_ERROR, MSGTK_ERROR_NO_PERM);
  g_free (to_server);
  g_free (to_client);
  gsasl_finish (server);
  gsasl_done (ctx);
  return outcome;
}

static void
test_exchange (gconstpointer data)
{
  const char *mech = data;
  guint rounds = 0;
  g_assert_cmpint (exchange (mech, SERVER_PASSWORD, FALSE, &rounds), ==, SERVER_ACCEPTS);
  g_assert_cmpint (exchange (mech, "wrong", FALSE, &rounds), ==, SERVER_REFUSES);
}

static void
test_scram_server_signature (void)
{
  guint rounds = 0;
  g_assert_cmpint (exchange ("SCRAM-SHA-256", SERVER_PASSWORD, FALSE, &rounds), ==, SERVER_ACCEPTS);
  g_assert_cmpuint (rounds, ==, 1); /* client-first, server-first, client-final, server-final */
  /* a server that does not know the password cannot forge its signature */
  g_assert_cmpint (exchange ("SCRAM-SHA-256", SERVER_PASSWORD, TRUE, &rounds), ==, CLIENT_REFUSES);
  g_assert_cmpint (exchange ("SCRAM-SHA-1", SERVER_PASSWORD, TRUE, &rounds), ==, CLIENT_REFUSES);
}

/* ---- bearer tokens ---- */

static void
test_tokens (void)
{
  static const struct {
    const char *mech, *raw;
  } cases[] = {
    { "XOAUTH2", "user=someuser@example.com\001auth=Bearer "
                 "ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg\001\001" },
    { "OAUTHBEARER", "n,a=someuser@example.com,\001auth=Bearer "
                     "ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg\001\001" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autoptr (GError) error = NULL;
    g_autoptr (MsgtkSasl) s
        = msgtk_sasl_new (cases[i].mech, "someuser@example.com", NULL,
                          "ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg", "imap", "h", &error);
    g_assert_no_error (error);
    g_assert_true (msgtk_sasl_client_first (s));
    g_autofree char *resp = NULL, *again = NULL;
    gboolean done = TRUE;
    g_assert_true (msgtk_sasl_step (s, NULL, &resp, &done, &error));
    g_assert_false (done);
    gsize n;
    g_autofree char *raw = decode (resp, &n);
    g_assert_cmpmem (raw, n, cases[i].raw, strlen (cases[i].raw));
    /* an error report from the server: an empty answer ends the exchange */
    g_assert_true (msgtk_sasl_step (s,
                                    "eyJzdGF0dXMiOiI0MDEiLCJzY2hlbWVzIjoiYmVhcmVyIiwic2NvcGUiOiJodH"
                                    "RwczovL21haWwuZ29vZ2xlLmNvbS8ifQ==",
                                    &again, &done, &error));
    g_assert_cmpstr (again, ==, "");
    g_assert_true (done);
  }
}

/* ---- the exchange loop over a test profile ---- */

typedef enum {
  FINAL_AS_CHALLENGE,        /* SCRAM's v= as a challenge, then success (SMTP, IMAP) */
  FINAL_WITH_SUCCESS,        /* v= as additional data with success */
  FINAL_MISSING,             /* success without v= */
  FINAL_FORGED,              /* v= with a wrong signature, as additional data with success */
  FINAL_FORGED_AS_CHALLENGE, /* v= with a wrong signature, as a challenge */
} Final;

typedef struct {
  Gsasl *ctx;
  Gsasl_session *server;
  Final final;
  GString *wire;   /* what the client queued, one line each: "AUTH PLAIN xyz", "xyz", "*" */
  char *to_server; /* the client's last message, not yet given to the server */
  gboolean asked;  /* the server's empty challenge for the initial response went out */
  char *held;      /* a server-final message to send as a challenge next */
  guint reads;
} Peer;

static void
peer_start (gpointer data, const char *mech, const char *initial)
{
  Peer *p = data;
  g_string_append_printf (p->wire, "AUTH %s%s%s\n", mech, initial ? " " : "",
                          initial ? initial : "");
  p->to_server = initial ? g_strdup (strcmp (initial, "=") == 0 ? "" : initial) : NULL;
}

static void
peer_respond (gpointer data, const char *response)
{
  Peer *p = data;
  g_string_append_printf (p->wire, "%s\n", response);
  g_free (p->to_server);
  p->to_server = g_strdup (response);
}

static void
peer_cancel (gpointer data)
{
  Peer *p = data;
  g_string_append (p->wire, "*\n");
  g_clear_pointer (&p->to_server, g_free);
}

static gboolean
peer_read (gpointer data, MsgtkSaslReply *reply, GError **error)
{
  Peer *p = data;
  p->reads++;
  if (g_str_has_suffix (p->wire->str, "*\n")) {
    reply->outcome = MSGTK_SASL_FAILURE;
    reply->code = MSGTK_ERROR_UNAVAILABLE;
    reply->text = g_strdup ("-ERR cancelled");
    return TRUE;
  }
  if (p->held != NULL) { /* after v= as a challenge, the empty response */
    g_assert_cmpstr (p->to_server, ==, "");
    g_clear_pointer (&p->held, g_free);
    reply->outcome = MSGTK_SASL_SUCCESS;
    return TRUE;
  }
  if (p->to_server == NULL) {
    /* no initial response came with the command: the empty challenge */
    g_assert_false (p->asked);
    p->asked = TRUE;
    reply->outcome = MSGTK_SASL_CHALLENGE;
    reply->data = g_strdup ("");
    return TRUE;
  }
  char *out = NULL;
  int rc = gsasl_step64 (p->server, p->to_server, &out);
  g_clear_pointer (&p->to_server, g_free);
  if (rc == GSASL_NEEDS_MORE) {
    reply->outcome = MSGTK_SASL_CHALLENGE;
    reply->data = g_strdup (out);
  } else if (rc != GSASL_OK) {
    reply->outcome = MSGTK_SASL_FAILURE;
    reply->code = MSGTK_ERROR_NO_PERM;
    reply->text = g_strdup ("-ERR authentication failed");
  } else if (out == NULL || *out == '\0' || p->final == FINAL_MISSING) {
    reply->outcome = MSGTK_SASL_SUCCESS;
  } else if (p->final == FINAL_AS_CHALLENGE) {
    reply->outcome = MSGTK_SASL_CHALLENGE;
    reply->data = g_strdup (out);
    p->held = g_strdup (out);
  } else {
    reply->outcome
        = p->final == FINAL_FORGED_AS_CHALLENGE ? MSGTK_SASL_CHALLENGE : MSGTK_SASL_SUCCESS;
    reply->data = g_strdup (out);
    if (p->final != FINAL_WITH_SUCCESS) {
      gsize n;
      g_autofree guchar *raw = g_base64_decode (out, &n);
      raw[2] = raw[2] == 'A' ? 'B' : 'A';
      g_free (reply->data);
      reply->data = g_base64_encode (raw, n);
    }
  }
  gsasl_free (out);
  return TRUE;
}

/* Run @mech with the given user and password through sasl_exchange
 * over a POP3-like profile (initial responses within 247 octets, RFC 5034 4)
 * whose server is libgsasl's. Returns what the client sent, one line each. */
static char *
profile_exchange (const char *mech, const char *user, const char *password, Final final,
                  gboolean *ok, GError **error)
{
  Peer p = { .final = final, .wire = g_string_new (NULL) };
  g_assert_cmpint (gsasl_init (&p.ctx), ==, GSASL_OK);
  gsasl_callback_set (p.ctx, server_callback);
  g_assert_cmpint (gsasl_server_start (p.ctx, mech, &p.server), ==, GSASL_OK);
  g_autoptr (MsgtkSasl) sasl = msgtk_sasl_new (mech, user, password, NULL, "pop", "pop.test", NULL);
  const MsgtkSaslProfile profile = {
    .protocol = "POP3",
    .initial_response = TRUE,
    .max_initial = 255 - 8,
    .start = peer_start,
    .respond = peer_respond,
    .cancel = peer_cancel,
    .read = peer_read,
  };
  *ok = sasl_exchange (sasl, &profile, &p, error);
  g_free (p.to_server);
  g_free (p.held);
  gsasl_finish (p.server);
  gsasl_done (p.ctx);
  return g_string_free (p.wire, FALSE);
}

/* A password that makes PLAIN's message for SERVER_USER @len octets long;
 * *@b64 gets that message in base64. */
static char *
plain_password (gsize len, char **b64)
{
  char *password = g_strnfill (len - strlen (SERVER_USER) - 2, 'p');
  g_autofree char *raw = g_strdup_printf ("%c%s%c%s", 0, SERVER_USER, 0, password);
  *b64 = g_base64_encode ((const guchar *)raw, len);
  return password;
}

static void
test_profile_initial_limit (void)
{
  static const struct {
    gsize octets;   /* of the PLAIN message */
    gsize line;     /* the AUTH command with it, CRLF included */
    gboolean in_it; /* whether it goes in the command */
  } cases[] = {
    { 180, 253, TRUE },  /* "AUTH PLAIN " + 240 base64 octets + CRLF */
    { 181, 257, FALSE }, /* one octet more: after the empty challenge */
  };
  g_autoptr (GError) error = NULL;
  gboolean ok = FALSE;
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autofree char *b64 = NULL;
    g_autofree char *password = plain_password (cases[i].octets, &b64);
    g_assert_cmpuint (strlen ("AUTH PLAIN ") + strlen (b64) + 2, ==, cases[i].line);
    g_autofree char *wire
        = profile_exchange ("PLAIN", SERVER_USER, password, FINAL_AS_CHALLENGE, &ok, &error);
    g_autofree char *want = g_strdup_printf ("AUTH PLAIN%s%s\n", cases[i].in_it ? " " : "\n", b64);
    g_assert_cmpstr (wire, ==, want);
    /* the server does not know that password: its refusal is the error */
    g_assert_false (ok);
    g_assert_error (error, MSGTK_ERROR, MSGTK_ERROR_NO_PERM);
    g_assert_nonnull (
        strstr (error->message, "POP3 server pop.test refused authentication (PLAIN"));
    g_clear_error (&error);
  }

  /* and a right password either way */
  g_autofree char *wire3
      = profile_exchange ("PLAIN", SERVER_USER, SERVER_PASSWORD, FINAL_AS_CHALLENGE, &ok, &error);
  g_assert_no_error (error);
  g_assert_true (ok);
  g_assert_true (g_str_has_prefix (wire3, "AUTH PLAIN AHVzZXJAZXhhbXBsZS5vcmcAcGVuY2ls"));
}

static void
test_profile_final_message (void)
{
  static const struct {
    Final final;
    gboolean ok;
    const char *says;
  } cases[] = {
    { FINAL_AS_CHALLENGE, TRUE, NULL },
    { FINAL_WITH_SUCCESS, TRUE, NULL },
    { FINAL_MISSING, FALSE, "accepted SCRAM-SHA-256 without proving that it knows the password" },
    { FINAL_FORGED, FALSE, "the server's signature is wrong" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autoptr (GError) error = NULL;
    gboolean ok = !cases[i].ok;
    g_autofree char *wire = profile_exchange ("SCRAM-SHA-256", SERVER_USER, SERVER_PASSWORD,
                                              cases[i].final, &ok, &error);
    g_assert_cmpint (ok, ==, cases[i].ok);
    /* client-first, client-final, and the empty answer to v= as a challenge */
    g_auto (GStrv) lines = g_strsplit (wire, "\n", -1);
    g_assert_cmpuint (g_strv_length (lines), ==, cases[i].final == FINAL_AS_CHALLENGE ? 4 : 3);
    g_assert_true (g_str_has_prefix (lines[0], "AUTH SCRAM-SHA-256 "));
    if (cases[i].ok) {
      g_assert_no_error (error);
    } else {
      /* the server ended the exchange: nothing is cancelled */
      g_assert_error (error, MSGTK_ERROR, MSGTK_ERROR_NO_PERM);
      g_assert_nonnull (strstr (error->message, cases[i].says));
      g_assert_null (strstr (wire, "*"));
    }
  }
}

static void
test_profile_cancel (void)
{
  /* a forged v= as a challenge: the client's mechanism refuses it, so the
   * client cancels ("*"), takes the server's answer to that, and the error
   * is the client's */
  g_autoptr (GError) error = NULL;
  gboolean ok = TRUE;
  g_autofree char *wire = profile_exchange ("SCRAM-SHA-1", SERVER_USER, SERVER_PASSWORD,
                                            FINAL_FORGED_AS_CHALLENGE, &ok, &error);
  g_assert_false (ok);
  g_assert_error (error, MSGTK_ERROR, MSGTK_ERROR_NO_PERM);
  g_assert_nonnull (strstr (error->message, "the server's signature is wrong"));
  g_auto (GStrv) lines = g_strsplit (wire, "\n", -1);
  g_assert_cmpuint (g_strv_length (lines), ==, 4);
  g_assert_cmpstr (lines[2], ==, "*");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/sasl/choose", test_choose);
  g_test_add_func ("/sasl/new-errors", test_new_errors);
  g_test_add_func ("/sasl/plain", test_plain);
  g_test_add_func ("/sasl/login-rfc4954", test_login_rfc4954);
  g_test_add_func ("/sasl/cram-md5-rfc2195", test_cram_md5_rfc2195);
  const char *mechs[] = { "PLAIN", "LOGIN", "CRAM-MD5", "SCRAM-SHA-1", "SCRAM-SHA-256" };
  for (guint i = 0; i < G_N_ELEMENTS (mechs); i++) {
    g_autofree char *path = g_strdup_printf ("/sasl/exchange/%s", mechs[i]);
    g_test_add_data_func (path, mechs[i], test_exchange);
  }
  g_test_add_func ("/sasl/scram-server-signature", test_scram_server_signature);
  g_test_add_func ("/sasl/tokens", test_tokens);
  g_test_add_func ("/sasl/profile/initial-response-limit", test_profile_initial_limit);
  g_test_add_func ("/sasl/profile/final-message", test_profile_final_message);
  g_test_add_func ("/sasl/profile/cancel", test_profile_cancel);
  return g_test_run ();
}
