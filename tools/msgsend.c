/* msgsend — submit messages over SMTP. */
#include "cli.h"

#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdio.h>
#include <sysexits.h>

static const char *prog = "msgsend";

static CliAccountOptions acct_opts;
static char *opt_from, *opt_helo, *opt_dsn_notify, *opt_dsn_return, *opt_envid, *opt_spool,
    *opt_flush, **opt_inputs, **opt_rcpts;
static gboolean opt_read_rcpts, opt_add_missing, opt_dry_run, opt_no_chunking, opt_quiet;

static GOptionEntry entries[] = {
  { "from", 'f', 0, G_OPTION_ARG_STRING, &opt_from,
    "envelope sender (default: the account's from, else the From header)", "ADDRESS" },
  { "read-recipients", 't', 0, G_OPTION_ARG_NONE, &opt_read_rcpts,
    "add the recipients in To, Cc, Bcc (or Resent-*) headers", NULL },
  { "input", 'i', 0, G_OPTION_ARG_FILENAME_ARRAY, &opt_inputs,
    "read messages from PATH: a message, mbox, maildir or directory (default: stdin)", "PATH" },
  { "add-missing", 0, 0, G_OPTION_ARG_NONE, &opt_add_missing,
    "add Date and Message-ID headers when missing", NULL },
  { "helo", 0, 0, G_OPTION_ARG_STRING, &opt_helo, "name to give in EHLO (default: host name)",
    "NAME" },
  { "dsn-notify", 0, 0, G_OPTION_ARG_STRING, &opt_dsn_notify,
    "DSN NOTIFY: NEVER, or SUCCESS,FAILURE,DELAY", "WHEN" },
  { "dsn-return", 0, 0, G_OPTION_ARG_STRING, &opt_dsn_return, "DSN RET: FULL or HDRS", "WHAT" },
  { "envid", 0, 0, G_OPTION_ARG_STRING, &opt_envid, "DSN envelope identifier", "ID" },
  { "no-chunking", 0, 0, G_OPTION_ARG_NONE, &opt_no_chunking,
    "use DATA even when the server offers CHUNKING (BDAT)", NULL },
  { "dry-run", 'n', 0, G_OPTION_ARG_NONE, &opt_dry_run,
    "connect, authenticate and check every recipient, then send nothing", NULL },
  { "spool", 0, 0, G_OPTION_ARG_FILENAME, &opt_spool,
    "keep messages that could not be sent in the queue DIR", "DIR" },
  { "flush", 0, 0, G_OPTION_ARG_FILENAME, &opt_flush,
    "send the messages queued in DIR (removing those sent)", "DIR" },
  { "quiet", 'q', 0, G_OPTION_ARG_NONE, &opt_quiet, "print errors only", NULL },
  { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_STRING_ARRAY, &opt_rcpts, NULL, "RECIPIENT..." },
  { NULL },
};

/* "msgsend: ORIGIN: WHAT MESSAGE; HINT" on stderr (@origin nullable). */
static void
print_error (const char *origin, const char *what, const GError *error)
{
  g_autofree char *text = cli_error_text (error);
  if (origin != NULL)
    fprintf (stderr, "%s: %s: %s%s\n", prog, origin, what, text);
  else
    fprintf (stderr, "%s: %s%s\n", prog, what, text);
}

static void
print_problem (const char *origin, const GError *error, gpointer data)
{
  print_error (origin, "", error);
}

static void
print_report (const MsgtkSubmitReport *r, gpointer data)
{
  for (guint i = 0; r->results != NULL && i < r->results->len; i++) {
    MsgtkSmtpRecipient *rc = g_ptr_array_index (r->results, i);
    if (rc->code && !rc->accepted)
      fprintf (stderr, "%s: %s: recipient <%s> %srefused: %d %s\n", prog, r->origin, rc->address,
               opt_dry_run ? "would be " : "", rc->code, rc->reply ? rc->reply : "");
  }
  if (r->outcome == MSGTK_SUBMIT_FAILED)
    print_error (r->origin, opt_dry_run ? "" : "not sent: ", r->error);
  if (r->kept != NULL && !opt_quiet)
    fprintf (stderr, "%s: %s: kept in %s for a later --flush\n", prog, r->origin, r->kept);
  if (r->keep_error != NULL)
    print_error (r->origin, "NOT kept: ", r->keep_error);
  if (r->outcome != MSGTK_SUBMIT_FAILED && !opt_quiet)
    fprintf (stderr, "%s: %s: %s %u of %u recipient%s\n", prog, r->origin,
             opt_dry_run ? "would be accepted for" : "sent to", r->n_recipients - r->n_refused,
             r->n_recipients, r->n_recipients == 1 ? "" : "s");
}

int
main (int argc, char **argv)
{
#ifdef __GLIBC__
  /* Each message passes through buffers of its own size, freed before the
   * next: keep that memory in the process rather than handing it back to
   * the kernel and faulting it in again for every message. */
  mallopt (M_MMAP_THRESHOLD, 32 * 1024 * 1024);
  mallopt (M_TRIM_THRESHOLD, 64 * 1024 * 1024);
#endif
  g_autoptr (GOptionContext) ctx = g_option_context_new ("[RECIPIENT...]");
  g_option_context_set_summary (ctx, "Submit messages over SMTP (STARTTLS or implicit TLS, SASL, "
                                     "PIPELINING, DATA or BDAT).");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_add_group (ctx, cli_account_option_group (&acct_opts, "smtp"));
  if (!cli_parse (ctx, prog, &argc, &argv))
    return EX_USAGE;
  if (opt_flush && (opt_inputs || opt_rcpts || opt_read_rcpts)) {
    fprintf (stderr,
             "%s: --flush sends the queued messages to their queued recipients; give no "
             "input or recipients with it\n",
             prog);
    return EX_USAGE;
  }
  g_autoptr (GError) error = NULL;
  g_autoptr (MsgtkAccount) account = cli_account_resolve (&acct_opts, prog, "smtp", &error);
  if (account == NULL)
    return cli_report_error (prog, error);
  MsgtkSubmitOptions so = { .account = account,
                            .trace = acct_opts.trace ? stderr : NULL,
                            .helo = opt_helo,
                            .from = opt_from,
                            .recipients = opt_rcpts,
                            .read_recipients = opt_read_rcpts,
                            .add_missing = opt_add_missing,
                            .dsn_notify = opt_dsn_notify,
                            .dsn_return = opt_dsn_return,
                            .envid = opt_envid,
                            .dry_run = opt_dry_run,
                            .no_chunking = opt_no_chunking,
                            .spool = opt_spool,
                            .report = print_report,
                            .problem = print_problem };
  if (!msgtk_submit_options_check (&so, &error)) {
    fprintf (stderr, "%s: %s\n", prog, error->message);
    return EX_USAGE;
  }
  MsgtkSubmit *submit = msgtk_submit_new (&so);
  if (opt_flush)
    msgtk_submit_flush (submit, opt_flush);
  else if (opt_inputs)
    for (guint i = 0; opt_inputs[i]; i++)
      msgtk_submit_path (submit, opt_inputs[i]);
  else
    msgtk_submit_path (submit, "-");
  MsgtkSubmitResult r;
  msgtk_submit_finish (submit, &r);
  if (!opt_quiet && r.sent + r.failed > 1)
    fprintf (stderr, "%s: %u sent%s, %u failed, %u partial, %u kept in the spool\n", prog, r.sent,
             opt_dry_run ? " (dry run)" : "", r.failed, r.partial, r.kept);
  return r.exit_code;
}
