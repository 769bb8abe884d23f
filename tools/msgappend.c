/* msgappend — upload messages and archives to an IMAP mailbox. */
#include <msgtk/msgtk.h>

#include "cli.h"

#include <gmime/gmime.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#define PROG "msgappend"
#define EXIT_PARTIAL 2

static CliAccountOptions acct_opts;
static char *opt_mailbox = NULL, *opt_journal, *opt_dedupe, *opt_date_from, *opt_flags,
            *opt_progress, *opt_labels;
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
  { "gmail-labels", 0, 0, G_OPTION_ARG_STRING, &opt_labels,
    "Gmail labels (Takeout's X-Gmail-Labels): folders (default: a copy in each), keywords or "
    "ignore",
    "AS" },
  { "progress", 0, 0, G_OPTION_ARG_STRING, &opt_progress,
    "auto (default: on a terminal), always (a line every 5 s when not a terminal) or never",
    "WHEN" },
  { "date-from", 0, 0, G_OPTION_ARG_STRING, &opt_date_from,
    "internal date: source (default), header or now", "WHAT" },
  { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &opt_paths, NULL, "PATH..." },
  { NULL },
};

static gboolean tty;       /* the progress line on a terminal */
static gboolean log_lines; /* the progress as lines, for a log */

/* An interrupted run: the journal holds what was stored (and what was in
 * flight), so the same command goes on from there. */
static const char *interrupted_text = PROG ": interrupted\n";

static void
on_signal (int sig)
{
  ssize_t n = write (2, interrupted_text, strlen (interrupted_text));
  (void)n; /* nothing more to do if stderr is gone */
  _exit (128 + sig);
}

static void
catch_signals (gboolean journal)
{
  if (journal)
    interrupted_text = "\n" PROG ": interrupted; the same command resumes the upload (the journal "
                       "holds what the server stored)\n";
  struct sigaction sa = { .sa_handler = on_signal };
  sigemptyset (&sa.sa_mask);
  sigaction (SIGINT, &sa, NULL);
  sigaction (SIGTERM, &sa, NULL);
  sigaction (SIGHUP, &sa, NULL);
}

/* The upload's recent rate (bytes/s): over the last three seconds or so of
 * uploading, so that neither the login nor the count beforehand, nor a
 * slow start, skews the estimate. */
static double
recent_rate (const MsgtkUploadCounts *c)
{
  enum { SAMPLES = 16 };
  static struct {
    double t;
    guint64 bytes;
  } ring[SAMPLES];
  static guint n, head;
  if (c->bytes_done == 0)
    return 0;
  ring[head].t = c->seconds;
  ring[head].bytes = c->bytes_done;
  head = (head + 1) % SAMPLES;
  n = MIN (n + 1, SAMPLES);
  guint oldest = (head + SAMPLES - n) % SAMPLES, newest = (head + SAMPLES - 1) % SAMPLES;
  double dt = ring[newest].t - ring[oldest].t;
  if (n < 2 || dt <= 0)
    return c->seconds > 0 ? c->bytes_done / c->seconds : 0;
  return (ring[newest].bytes - ring[oldest].bytes) / dt;
}

static void
show_progress (const MsgtkUploadCounts *c, gpointer data)
{
  guint done = c->uploaded + c->failed + c->skipped + c->deleted;
  double rate = c->seconds > 0 ? c->uploaded / c->seconds : 0;
  double brate = recent_rate (c);
  /* what is left: the count's bytes (else those read so far) less those
   * handled */
  guint64 total = c->bytes_planned > 0 ? c->bytes_planned : c->bytes_total;
  guint64 handled = c->bytes_done + c->bytes_left_out;
  double eta = brate > 0 && total > handled ? (total - handled) / brate : 0;
  g_autofree char *of = c->planned > 0 ? g_strdup_printf ("/%u", c->planned) : g_strdup ("");
  if (log_lines) {
    static double last = -1;
    if (last >= 0 && c->seconds - last < 5)
      return;
    last = c->seconds;
  }
  fprintf (stderr, "%s%u%s messages, %.1f MB, %.0f msg/s, %.1f MB/s, ETA %.*fs%s",
           log_lines ? PROG ": " : "\r", done, of, c->bytes_done / 1e6, rate, brate / 1e6,
           eta < 10 ? 1 : 0, eta, log_lines ? "\n" : "   ");
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
  g_option_context_add_group (ctx, cli_account_option_group (&acct_opts, "imap"));
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
  MsgtkUploadLabels labels = MSGTK_UPLOAD_LABELS_FOLDERS;
  if (g_strcmp0 (opt_labels, "keywords") == 0)
    labels = MSGTK_UPLOAD_LABELS_KEYWORDS;
  else if (g_strcmp0 (opt_labels, "ignore") == 0)
    labels = MSGTK_UPLOAD_LABELS_IGNORE;
  else if (opt_labels != NULL && strcmp (opt_labels, "folders") != 0)
    return usage_error ("--gmail-labels takes folders, keywords or ignore");
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
  if (opt_progress != NULL && strcmp (opt_progress, "auto") != 0
      && strcmp (opt_progress, "always") != 0 && strcmp (opt_progress, "never") != 0)
    return usage_error ("--progress takes auto, always or never");
  gboolean progress = !opt_dry_run && g_strcmp0 (opt_progress, "never") != 0
                      && (isatty (2) || g_strcmp0 (opt_progress, "always") == 0);
  tty = progress && isatty (2);
  log_lines = progress && !tty;
  if (!opt_dry_run)
    catch_signals (journal != NULL);
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
                            .labels = labels,
                            .date_from = date_from,
                            .dry_run = opt_dry_run,
                            .journal = journal,
                            .count_first = progress,
                            .progress = progress ? show_progress : NULL,
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
  /* the summary after everything else, where it does not scroll away */
  for (guint i = 0; i < r.failures->len; i++)
    printf ("failed: %s\n", (char *)r.failures->pdata[i]);
  printf ("%s: %u %s, %u skipped (already uploaded)%s, %u failed; %.1f MB in %.1f s\n", PROG,
          r.counts.uploaded, opt_dry_run ? "to upload" : "uploaded", r.counts.skipped, deleted,
          r.counts.failed, r.counts.bytes_done / 1e6, r.counts.seconds);
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
