/* msgappend — upload messages and archives to an IMAP mailbox. */
#include <msgtk/msgtk.h>

#include "cli.h"

#include <gmime/gmime.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#define PROG "msgappend"
#define EXIT_PARTIAL 2

static CliAccountOptions acct_opts;
static char *opt_mailbox = NULL, *opt_journal, *opt_dedupe, *opt_date_from, *opt_flags;
static gboolean opt_create, opt_dry_run, opt_no_journal, opt_skip_deleted;
static int opt_jobs = 1;
static int opt_batch = 100;
static char **opt_paths, **opt_map;

static GOptionEntry entries[] = {
  { "mailbox", 'm', 0, G_OPTION_ARG_FILENAME, &opt_mailbox,
    "the mailbox for the messages outside folders, and the parent of the folders' (\"\": the top "
    "level)",
    "NAME" },
  { "map", 0, 0, G_OPTION_ARG_STRING_ARRAY, &opt_map,
    "put FOLDER (and the folders under it) in MAILBOX (and under it); repeatable",
    "FOLDER=MAILBOX" },
  { "create", 0, 0, G_OPTION_ARG_NONE, &opt_create, "create missing mailboxes", NULL },
  { "journal", 0, 0, G_OPTION_ARG_FILENAME, &opt_journal, "resume journal file", "FILE" },
  { "no-journal", 0, 0, G_OPTION_ARG_NONE, &opt_no_journal, "neither read nor write a journal",
    NULL },
  { "jobs", 'j', 0, G_OPTION_ARG_INT, &opt_jobs, "parallel connections (default 1)", "N" },
  { "batch", 0, 0, G_OPTION_ARG_INT, &opt_batch, "messages per MULTIAPPEND command (default 100)",
    "N" },
  { "dry-run", 'n', 0, G_OPTION_ARG_NONE, &opt_dry_run, "read and check, upload nothing", NULL },
  { "dedupe", 0, 0, G_OPTION_ARG_STRING, &opt_dedupe, "skip messages the server has: message-id",
    "KEY" },
  { "flags", 0, 0, G_OPTION_ARG_STRING, &opt_flags,
    "flags and keywords every message gets, beside its own: \"\\Seen $Imported\"", "FLAGS" },
  { "skip-deleted", 0, 0, G_OPTION_ARG_NONE, &opt_skip_deleted,
    "leave out messages marked deleted (by default they go, with \\Deleted)", NULL },
  { "date-from", 0, 0, G_OPTION_ARG_STRING, &opt_date_from,
    "internal date: source (default), header or now", "WHAT" },
  { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &opt_paths, NULL, "PATH..." },
  { NULL },
};

static gboolean tty;

static void
show_progress (const MsgtkUploadCounts *c, gpointer data)
{
  guint done = c->uploaded + c->failed;
  double rate = c->seconds > 0 ? done / c->seconds : 0;
  double brate = c->seconds > 0 ? c->bytes_done / c->seconds : 0;
  guint64 left = c->bytes_total > c->bytes_done ? c->bytes_total - c->bytes_done : 0;
  double eta = brate > 0 ? left / brate : 0;
  fprintf (stderr, "\r%u/%u messages, %.1f MB, %.0f msg/s, %.1f MB/s, ETA %.0fs   ", done,
           c->read - c->skipped, c->bytes_done / 1e6, rate, brate / 1e6, eta);
}

static void
show_notice (const char *text, gpointer data)
{
  if (tty)
    fputc ('\n', stderr); /* after the progress line */
  fprintf (stderr, "%s: %s\n", PROG, text);
}

static void
show_planned (const char *identity, gsize size, const char *mailbox, gpointer data)
{
  g_print ("would upload %s (%" G_GSIZE_FORMAT " bytes) to %s\n", identity, size, mailbox);
}

static int
usage_error (const char *msg)
{
  fprintf (stderr, "%s: %s\n%s: try '%s --help'\n", PROG, msg, PROG, PROG);
  return EX_USAGE;
}

int
main (int argc, char **argv)
{
  msgtk_init ();
  g_autoptr (GOptionContext) ctx
      = g_option_context_new ("[PATH...] - upload messages to an IMAP mailbox");
  g_option_context_set_summary (
      ctx, "PATH is a message file, a directory of .eml files, an mbox or a "
           "maildir (with maildir++ folders); none or - reads standard input.");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_add_group (ctx, cli_account_option_group (&acct_opts));
  if (!cli_parse (ctx, PROG, &argc, &argv))
    return EX_USAGE;
  MsgtkUploadDate date_from = MSGTK_UPLOAD_DATE_SOURCE;
  if (opt_date_from != NULL) {
    if (strcmp (opt_date_from, "header") == 0)
      date_from = MSGTK_UPLOAD_DATE_HEADER;
    else if (strcmp (opt_date_from, "now") == 0)
      date_from = MSGTK_UPLOAD_DATE_NOW;
    else if (strcmp (opt_date_from, "source") != 0)
      return usage_error ("--date-from takes source, header or now");
  }
  MsgtkFlags add_flags = 0;
  g_autoptr (GPtrArray) add_keywords = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GError) flags_error = NULL;
  if (opt_flags != NULL && !msgtk_flags_parse (opt_flags, &add_flags, add_keywords, &flags_error))
    return usage_error (flags_error->message);
  g_ptr_array_add (add_keywords, NULL);
  if (opt_dedupe != NULL && g_ascii_strcasecmp (opt_dedupe, "message-id") != 0)
    return usage_error ("--dedupe takes message-id");
  if (opt_jobs < 1 || opt_jobs > 64)
    return usage_error ("-j takes 1 to 64");
  if (opt_batch < 1 || opt_batch > 1000)
    return usage_error ("--batch takes 1 to 1000");
  if (opt_mailbox != NULL && !g_utf8_validate (opt_mailbox, -1, NULL))
    return usage_error ("--mailbox takes a UTF-8 name");
  g_autoptr (GError) error = NULL;
  g_autoptr (MsgtkAccount) account = cli_account_resolve (&acct_opts, PROG, "imap", &error);
  if (account == NULL)
    return cli_report_error (PROG, error);
  /* a password command runs once, not once per connection */
  if (!opt_dry_run && !msgtk_account_cache_password (account, &error))
    return cli_report_error (PROG, error);
  g_autoptr (MsgtkJournal) journal = NULL;
  if (!opt_no_journal && !opt_dry_run) {
    g_autofree char *jpath = opt_journal ? g_strdup (opt_journal) : msgtk_journal_default_path ();
    journal = msgtk_journal_open (jpath, &error);
    if (journal == NULL)
      return cli_report_error (PROG, error);
  }
  tty = isatty (2) && !opt_dry_run;
  MsgtkUploadOptions uo = { .account = account,
                            .trace = acct_opts.trace ? stderr : NULL,
                            .mailbox = opt_mailbox,
                            .map = opt_map,
                            .create = opt_create,
                            .jobs = (guint)opt_jobs,
                            .batch = (guint)opt_batch,
                            .dedupe = opt_dedupe != NULL,
                            .flags = add_flags,
                            .keywords = (char **)add_keywords->pdata,
                            .skip_deleted = opt_skip_deleted,
                            .date_from = date_from,
                            .dry_run = opt_dry_run,
                            .journal = journal,
                            .progress = tty ? show_progress : NULL,
                            .planned = show_planned,
                            .notice = show_notice };
  MsgtkUploadResult r;
  if (!msgtk_upload (opt_paths, &uo, &r, &error))
    return cli_report_error (PROG, error);
  if (tty)
    fputc ('\n', stderr);
  g_autofree char *deleted
      = r.counts.deleted > 0 ? g_strdup_printf (", %u left out (marked deleted)", r.counts.deleted)
                             : g_strdup ("");
  printf ("%s: %u %s, %u skipped (already uploaded)%s, %u failed; %.1f MB in %.1f s\n", PROG,
          r.counts.uploaded, opt_dry_run ? "to upload" : "uploaded", r.counts.skipped, deleted,
          r.counts.failed, r.counts.bytes_done / 1e6, r.counts.seconds);
  for (guint i = 0; i < r.failures->len; i++)
    printf ("failed: %s\n", (char *)r.failures->pdata[i]);
  fflush (stdout);
  int code = 0;
  if (r.stopped) {
    code = cli_report_error (PROG, r.fatal);
    fprintf (stderr,
             "%s: the run stopped; once the journal can be written, the same command "
             "resumes it\n",
             PROG);
  } else if (r.fatal != NULL && r.counts.failed == 0)
    code = cli_report_error (PROG, r.fatal);
  else if (r.counts.failed > 0) {
    if (r.counts.uploaded > 0)
      code = EXIT_PARTIAL;
    else if (r.fatal != NULL)
      code = cli_report_error (PROG, r.fatal);
    else
      code = r.unreadable > 0 ? EX_NOINPUT : EX_UNAVAILABLE;
  }
  msgtk_upload_result_clear (&r);
  return code;
}
