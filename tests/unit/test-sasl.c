/* Unit tests of the sasl module: mechanism choice, client steps against known
 * vectors (RFC 2195 CRAM-MD5, RFC 4954 LOGIN), whole exchanges against an
 * in-process libgsasl server session (PLAIN, LOGIN, CRAM-MD5, SCRAM-SHA-1,
 * SCRAM-SHA-256), and the bearer-token formats (XOAUTH2, OAUTHBEARER). */
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
  return g_test_run ();
}
