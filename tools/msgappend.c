/* msgappend — upload messages and archives to an IMAP mailbox. */
#include <msgtk/msgtk.h>

#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <gmime/gmime.h>
#include <signal.h>
#include <sys/stat.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#define PROG "msgappend"
#define EXIT_PARTIAL 2

static CliAccountOptions acct_opts;
static char *opt_mailbox = NULL, *opt_journal, *opt_dedupe, *opt_date_from, *opt_flags,
            *opt_progress, *opt_labels, *opt_log;
static gboolean opt_create, opt_dry_run, opt_offline, opt_no_journal, opt_skip_deleted, opt_json,
    opt_verbose;
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
  { "dry-run", 'n', 0, G_OPTION_ARG_NONE, &opt_dry_run,
    "read everything, log in and look at the mailboxes, upload nothing", NULL },
  { "offline", 0, 0, G_OPTION_ARG_NONE, &opt_offline, "with --dry-run: connect to nothing", NULL },
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
  { "json", 0, 0, G_OPTION_ARG_NONE, &opt_json,
    "one JSON object per message on standard output (the summary goes to standard error)", NULL },
  { "verbose", 'v', 0, G_OPTION_ARG_NONE, &opt_verbose, "a line per message", NULL },
  { "log", 0, 0, G_OPTION_ARG_FILENAME, &opt_log,
    "append a line per message, notice and failure, and the summary, to FILE (made private)",
    "FILE" },
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
  /* the mailbox at work, as far as it went (as mbsync shows each box) */
  g_autofree char *box
      = c->mailbox == NULL ? g_strdup ("")
        : c->mailbox_planned > 0
            ? g_strdup_printf (" · %s %u/%u", c->mailbox, c->mailbox_done, c->mailbox_planned)
            : g_strdup_printf (" · %s %u", c->mailbox, c->mailbox_done);
  fprintf (stderr, "%s%u%s messages, %.1f MB, %.0f msg/s, %.1f MB/s, ETA %.*fs%s%s",
           log_lines ? PROG ": " : "\r", done, of, c->bytes_done / 1e6, rate, brate / 1e6,
           eta < 10 ? 1 : 0, eta, box, log_lines ? "\n" : "\033[K");
}

static FILE *log_file; /* --log */

/* A line of the log, with the time. */
static void log_line (const char *format, ...) G_GNUC_PRINTF (1, 2);

static void
log_line (const char *format, ...)
{
  if (log_file == NULL)
    return;
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *when = g_date_time_format (now, "%Y-%m-%dT%H:%M:%SZ");
  va_list ap;
  va_start (ap, format);
  g_autofree char *text = g_strdup_vprintf (format, ap);
  va_end (ap);
  fprintf (log_file, "%s %s\n", when, text);
  fflush (log_file);
}

/* --log FILE: appended to, private to the user. */
static gboolean
open_log (const char *path)
{
  int fd = open (path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0 || fchmod (fd, 0600) != 0 || (log_file = fdopen (fd, "a")) == NULL) {
    fprintf (stderr, "%s: cannot open the log '%s': %s\n", PROG, path, g_strerror (errno));
    if (fd >= 0)
      close (fd);
    return FALSE;
  }
  return TRUE;
}

/* What became of a message, in words. */
static char *
describe (const MsgtkUploadReport *r)
{
  switch (r->outcome) {
  case MSGTK_UPLOAD_UPLOADED:
    if (r->dry_run)
      return g_strdup_printf ("would upload %s (%" G_GUINT64_FORMAT " bytes) to %s", r->identity,
                              r->size, r->mailbox);
    if (r->uid != 0)
      return g_strdup_printf ("uploaded %s to %s (UID %u)", r->identity, r->mailbox, r->uid);
    return g_strdup_printf ("uploaded %s to %s", r->identity, r->mailbox);
  case MSGTK_UPLOAD_SKIPPED:
    return g_strdup_printf ("skipped %s for %s: %s", r->identity, r->mailbox, r->reason);
  case MSGTK_UPLOAD_DELETED: return g_strdup_printf ("left out %s: %s", r->identity, r->reason);
  case MSGTK_UPLOAD_FAILED:
  default:
    return g_strdup_printf ("not uploaded %s%s%s: %s", r->identity, r->mailbox ? " to " : "",
                            r->mailbox ? r->mailbox : "", r->reason);
  }
}

static void
show_report (const MsgtkUploadReport *r, gpointer data)
{
  if (opt_json) {
    g_autoptr (JsonNode) node = msgtk_upload_report_to_json (r);
    g_autofree char *text = json_to_string (node, FALSE);
    puts (text);
  }
  if (!opt_verbose && log_file == NULL)
    return;
  g_autofree char *said = describe (r);
  /* identities and the server's words, shown safely */
  g_autofree char *text = msgtk_terminal_text (said, -1, FALSE);
  if (opt_verbose && !opt_json)
    puts (text);
  log_line ("%s: %s", PROG, text);
}

/* The dry run's table: a line per mailbox. */
static void
show_mailboxes (GPtrArray *mailboxes)
{
  for (guint i = 0; i < mailboxes->len; i++) {
    MsgtkUploadMailbox *m = mailboxes->pdata[i];
    g_autofree char *state
        = m->state == MSGTK_UPLOAD_MAILBOX_EXISTS    ? g_strdup_printf ("holds %u", m->held)
          : m->state == MSGTK_UPLOAD_MAILBOX_CREATED ? g_strdup ("to be created")
          : m->state == MSGTK_UPLOAD_MAILBOX_UNUSABLE
              ? g_strdup_printf ("cannot be used: %s", m->error ? m->error : "refused")
              : g_strdup ("not looked at (offline)");
    g_autofree char *skipped
        = m->skipped > 0 ? g_strdup_printf (", %u there already", m->skipped) : g_strdup ("");
    printf ("%6u to upload (%.1f MB)%s to %s: %s\n", m->uploaded, m->bytes / 1e6, skipped,
            m->mailbox, state);
  }
}

static void
show_notice (const char *text, gpointer data)
{
  if (tty)
    fputc ('\n', stderr); /* after the progress line */
  g_autofree char *shown = msgtk_terminal_text (text, -1, FALSE);
  fprintf (stderr, "%s: %s\n", PROG, shown);
  log_line ("%s: %s", PROG, shown);
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
      ctx, "PATH is a message, an mbox, a maildir or a tree of them in any mail program's layout "
           "(mutt, Thunderbird, Apple Mail, MH; gzip, xz or zstd compressed), each folder to its "
           "mailbox: see msgtk-archives(5); none or - reads standard input.");
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
  if (opt_offline && !opt_dry_run)
    return usage_error ("--offline goes with --dry-run");
  g_autoptr (GError) error = NULL;
  g_autoptr (MsgtkAccount) account = cli_account_resolve (&acct_opts, PROG, "imap", &error);
  if (account == NULL)
    return cli_report_error (PROG, error);
  /* a password command runs once, not once per connection */
  if (!opt_offline && !msgtk_account_cache_password (account, &error))
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
  if (opt_log != NULL && !open_log (opt_log))
    return EX_CANTCREAT;
  if (!opt_dry_run)
    catch_signals (journal != NULL);
  MsgtkUploadOptions uo
      = { .account = account,
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
          .offline = opt_offline,
          .journal = journal,
          .count_first = progress,
          .progress = progress ? show_progress : NULL,
          .reported = opt_json || opt_verbose || log_file != NULL ? show_report : NULL,
          .notice = show_notice };
  MsgtkUploadResult r;
  if (!msgtk_upload (opt_paths, &uo, &r, &error)) {
    log_line ("%s: %s", PROG, error->message);
    return cli_report_error (PROG, error);
  }
  if (tty)
    fputc ('\n', stderr);
  g_autofree char *deleted
      = r.counts.deleted > 0 ? g_strdup_printf (", %u left out (marked deleted)", r.counts.deleted)
                             : g_strdup ("");
  if (opt_dry_run && !opt_json)
    show_mailboxes (r.mailboxes);
  /* the summary after everything else, where it does not scroll away
   * (with --json, standard output holds only the JSON) */
  FILE *out = opt_json ? stderr : stdout;
  for (guint i = 0; i < r.failures->len; i++) {
    g_autofree char *shown = msgtk_terminal_text (r.failures->pdata[i], -1, FALSE);
    fprintf (out, "failed: %s\n", shown);
    log_line ("%s: failed: %s", PROG, shown);
  }
  g_autofree char *summary = g_strdup_printf (
      "%u %s, %u skipped (already uploaded)%s, %u failed; %.1f MB in %.1f s", r.counts.uploaded,
      opt_dry_run ? "to upload" : "uploaded", r.counts.skipped, deleted, r.counts.failed,
      r.counts.bytes_done / 1e6, r.counts.seconds);
  fprintf (out, "%s: %s\n", PROG, summary);
  log_line ("%s: %s", PROG, summary);
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
  if (code != 0 && r.fatal != NULL)
    log_line ("%s: %s", PROG, r.fatal->message);
  if (ferror (stdout) || (log_file != NULL && (fflush (log_file) != 0 || ferror (log_file)))) {
    /* what was said is not all there: the report or the log is short */
    fprintf (stderr, "%s: cannot write %s: %s\n", PROG,
             ferror (stdout) ? "to standard output" : "the log", g_strerror (errno ? errno : EIO));
    if (code == 0 || code == EXIT_PARTIAL)
      code = EX_IOERR;
  }
  msgtk_upload_result_clear (&r);
  return code;
}
