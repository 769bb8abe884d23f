/* libFuzzer target: SMTP server replies as the client reads them.
 *
 * The input is everything the server says, start to end: a session over a
 * stream that reads it (smtp_new_for_stream) reads the greeting and does
 * EHLO (HELO when refused; the capabilities come from the fuzzed reply),
 * authenticates (the SASL mechanism the fuzzed AUTH line offers), sends
 * three messages — with DSN options and the final reply deferred to the
 * next command (pipelining across messages), with DATA only, and as a dry
 * run; MAIL/RCPT/DATA or BDAT, pipelined or not as the fuzzed EHLO says —
 * and QUITs. Each message's outcome must come to its done function exactly
 * once when it was sent, never when it was not. */
#include "smtp-private.h"

#include "fuzz-common.h"

#include <msgtk/msgtk.h>
#include <string.h>

typedef struct {
  guint calls;
  gboolean ok;
} Outcome;

static void
done (gboolean ok, GPtrArray *results, const GError *error, gpointer data)
{
  Outcome *o = data;
  if ((ok != (error == NULL)) || results == NULL)
    __builtin_trap ();
  o->calls++;
  o->ok = ok;
}

static void
check_results (GPtrArray *results)
{
  for (guint i = 0; results != NULL && i < results->len; i++) {
    MsgtkSmtpRecipient *r = results->pdata[i];
    if (r->address == NULL || (r->accepted && r->code != 250 && r->code != 251))
      __builtin_trap ();
  }
}

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  static MsgtkAccount *account;
  if (account == NULL) {
    account = fuzz_account ();
    account->allow_plaintext_auth = TRUE; /* the stream is no TLS connection */
  }
  static const char eight[] = "From: a@example.org\nSubject: fuzz\n\n.leading dot\n"
                              "8-bit \xc3\xa9t\xc3\xa9\r\n.\r\nlast line without end";
  static const char seven[] = "From: a@example.org\r\n\r\n..\r\n.\r\n";
  static const char *const recipients[][3] = {
    { "b@example.org", "c@example.org", NULL },
    { "d@example.org", "z\xc3\xb6\x65@example.org", NULL }, /* SMTPUTF8 */
    { "e@example.org", NULL },
  };
  static const MsgtkSmtpSendOptions base[] = {
    { .dsn_notify = "SUCCESS,FAILURE", .dsn_return = "HDRS", .envid = "fuzz1" },
    { .no_chunking = TRUE },
    { .dry_run = TRUE },
  };
  g_autoptr (GBytes) body8 = g_bytes_new_static (eight, sizeof eight - 1);
  g_autoptr (GBytes) body7 = g_bytes_new_static (seven, sizeof seven - 1);

  GMemoryOutputStream *client;
  g_autoptr (GIOStream) stream = fuzz_server_stream (data, size, &client);
  g_autoptr (GError) error = NULL;
  MsgtkSmtp *s = smtp_new_for_stream (stream, "fuzz.example.org", &error);
  fuzz_report (client, "greeting", error);
  if ((s == NULL) == (error == NULL))
    __builtin_trap ();
  if (s == NULL)
    return 0;
  (void)msgtk_smtp_get_size_limit (s);
  gboolean ok = msgtk_smtp_authenticate (s, account, &error);
  if (ok == (error != NULL))
    __builtin_trap ();
  fuzz_report (client, "authenticate", error);
  Outcome outcome[G_N_ELEMENTS (base)] = { 0 };
  gboolean sent[G_N_ELEMENTS (base)] = { 0 };
  for (guint i = 0; i < G_N_ELEMENTS (base); i++) {
    g_clear_error (&error);
    MsgtkSmtpSendOptions o = base[i];
    o.done = done;
    o.done_data = &outcome[i];
    g_autoptr (GPtrArray) rcpts = g_ptr_array_new ();
    for (guint k = 0; recipients[i][k] != NULL; k++)
      g_ptr_array_add (rcpts, (gpointer)recipients[i][k]);
    g_autoptr (GPtrArray) results = NULL;
    sent[i] = msgtk_smtp_send (s, "sender@example.org", rcpts, i == 0 ? body8 : body7, &o, &results,
                               &error);
    if (sent[i] == (error != NULL) || results == NULL)
      __builtin_trap ();
    check_results (results);
    fuzz_report (client, "send", error);
  }
  msgtk_smtp_quit (s);
  fuzz_report (client, "quit", NULL);
  for (guint i = 0; i < G_N_ELEMENTS (base); i++)
    if (outcome[i].calls != (sent[i] ? 1u : 0u))
      __builtin_trap ();
  return 0;
}
