/* msgappend — upload messages and archives to an IMAP mailbox. */
#include "cli.h"

#include <gmime/gmime.h>
#include <msgtk/msgtk.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#define PROG "msgappend"
#define EXIT_PARTIAL 2

typedef enum { DATE_SOURCE, DATE_HEADER, DATE_NOW } DateFrom;

static CliAccountOptions acct_opts;
static char *opt_mailbox = NULL, *opt_journal, *opt_dedupe, *opt_date_from;
static gboolean opt_create, opt_dry_run, opt_no_journal;
static int opt_jobs = 1;
static int opt_batch = 100;
static char **opt_paths;

static GOptionEntry entries[] = {
  { "mailbox", 'm', 0, G_OPTION_ARG_FILENAME, &opt_mailbox, "target mailbox (default INBOX)",
    "NAME" },
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
  { "date-from", 0, 0, G_OPTION_ARG_STRING, &opt_date_from,
    "internal date: source (default), header or now", "WHAT" },
  { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &opt_paths, NULL, "PATH..." },
  { NULL },
};

/* ---- one upload job: a batch of messages for one mailbox ---- */

typedef struct {
  char *mailbox;
  GPtrArray *keys;  /* journal keys */
  GPtrArray *names; /* identities, for reports */
  GArray *msgs;     /* MsgtkImapMessage */
  guint64 bytes;
} Batch;

static Batch *
batch_new (const char *mailbox)
{
  Batch *b = g_new0 (Batch, 1);
  b->mailbox = g_strdup (mailbox);
  b->keys = g_ptr_array_new_with_free_func (g_free);
  b->names = g_ptr_array_new_with_free_func (g_free);
  b->msgs = g_array_new (FALSE, TRUE, sizeof (MsgtkImapMessage));
  return b;
}

static void
batch_free (Batch *b)
{
  for (guint i = 0; i < b->msgs->len; i++)
    msgtk_imap_message_clear (&g_array_index (b->msgs, MsgtkImapMessage, i));
  g_array_unref (b->msgs);
  g_ptr_array_unref (b->keys);
  g_ptr_array_unref (b->names);
  g_free (b->mailbox);
  g_free (b);
}

typedef struct {
  MsgtkAccount *account;
  FILE *trace;
  MsgtkJournal *journal;
  GAsyncQueue *queue; /* Batch*, NULL ends */
  GMutex lock;
  GCond cond;
  guint queued; /* batches in the queue (bounded) */
  /* counters */
  guint uploaded, failed, skipped, total;
  guint64 bytes_done, bytes_total;
  GPtrArray *failures; /* "identity: reason" */
  GError *fatal;       /* first connection-level error */
  gint64 start;
} Run;

static void
add_failure (Run *run, const char *name, const char *why)
{
  g_mutex_lock (&run->lock);
  run->failed++;
  g_ptr_array_add (run->failures, g_strdup_printf ("%s: %s", name, why));
  g_mutex_unlock (&run->lock);
}

static MsgtkImapSession *
open_session (Run *run, GError **error)
{
  g_autoptr (MsgtkImapSession) s = msgtk_imap_session_connect (run->account, run->trace, error);
  if (s == NULL || !msgtk_imap_session_authenticate (s, run->account, error))
    return NULL;
  return g_steal_pointer (&s);
}

typedef struct {
  Run *run;
  Batch *batch;
} Settle;

/* Called by the imap module as soon as an APPEND command completes: the
 * journal gets the stored messages before anything else is sent. */
static void
settled (MsgtkImapMessage *m, guint n, gpointer data)
{
  Settle *st = data;
  Run *run = st->run;
  gboolean wrote = FALSE;
  for (guint i = 0; i < n; i++) {
    guint k = GPOINTER_TO_UINT (m[i].user_data);
    if (m[i].status == MSGTK_IMAP_APPEND_OK) {
      GError *jerr = NULL;
      if (run->journal != NULL
          && !msgtk_journal_record (run->journal, st->batch->keys->pdata[k], m[i].uidvalidity,
                                    m[i].uid, &jerr)) {
        g_printerr ("%s: %s\n", PROG, jerr->message);
        g_error_free (jerr);
      }
      wrote = TRUE;
      g_mutex_lock (&run->lock);
      run->uploaded++;
      run->bytes_done += g_bytes_get_size (m[i].data);
      g_mutex_unlock (&run->lock);
    } else {
      g_autofree char *why
          = g_strdup_printf ("refused by the server: %s%s%s%s", m[i].code ? "[" : "",
                             m[i].code ? m[i].code : "", m[i].code ? "] " : "", m[i].text);
      add_failure (run, st->batch->names->pdata[k], why);
    }
  }
  if (wrote && run->journal != NULL) {
    GError *jerr = NULL;
    if (!msgtk_journal_sync (run->journal, &jerr)) {
      g_printerr ("%s: %s\n", PROG, jerr->message);
      g_error_free (jerr);
    }
  }
}

/* Called before a command carrying @m is sent: note the messages as in
 * flight, so that a run interrupted before the answer checks the server. */
static void
sending (MsgtkImapMessage *m, guint n, gpointer data)
{
  Settle *st = data;
  if (st->run->journal == NULL)
    return;
  for (guint i = 0; i < n; i++) {
    g_autoptr (GError) jerr = NULL;
    guint k = GPOINTER_TO_UINT (m[i].user_data);
    if (!msgtk_journal_record_pending (st->run->journal, st->batch->keys->pdata[k], &jerr))
      g_printerr ("%s: %s\n", PROG, jerr->message);
  }
}

static void
upload_batch (Run *run, MsgtkImapSession **session, Batch *b)
{
  GError *error = NULL;
  if (*session == NULL)
    *session = open_session (run, &error);
  Settle st = { run, b };
  MsgtkImapAppendOptions o = { .create = opt_create,
                               .max_count = (guint)opt_batch,
                               .settled = settled,
                               .sending = sending,
                               .data = &st };
  MsgtkImapMessage *m = (MsgtkImapMessage *)b->msgs->data;
  for (guint i = 0; i < b->msgs->len; i++)
    m[i].user_data = GUINT_TO_POINTER (i);
  if (*session != NULL
      && !msgtk_imap_session_append (*session, b->mailbox, m, b->msgs->len, &o, &error))
    g_clear_pointer (session, msgtk_imap_session_free);
  for (guint i = 0; i < b->msgs->len; i++)
    if (m[i].status == MSGTK_IMAP_APPEND_PENDING)
      add_failure (run, b->names->pdata[i], error ? error->message : "not uploaded");
  if (error != NULL) {
    g_mutex_lock (&run->lock);
    if (run->fatal == NULL)
      run->fatal = g_error_copy (error);
    g_mutex_unlock (&run->lock);
    g_error_free (error);
  }
}

static gpointer
worker (gpointer data)
{
  Run *run = data;
  MsgtkImapSession *session = NULL;
  for (;;) {
    Batch *b = g_async_queue_pop (run->queue);
    g_mutex_lock (&run->lock);
    run->queued--;
    g_cond_broadcast (&run->cond);
    g_mutex_unlock (&run->lock);
    if (b->msgs == NULL) {
      g_free (b);
      break;
    }
    upload_batch (run, &session, b);
    batch_free (b);
  }
  if (session != NULL) {
    msgtk_imap_session_logout (session);
    msgtk_imap_session_free (session);
  }
  return NULL;
}

static void
enqueue (Run *run, Batch *b, guint limit)
{
  g_mutex_lock (&run->lock);
  while (run->queued >= limit)
    g_cond_wait (&run->cond, &run->lock);
  run->queued++;
  g_mutex_unlock (&run->lock);
  g_async_queue_push (run->queue, b);
}

/* ---- message helpers ---- */

static char *
target_mailbox (const char *base, const char *folder, char delim)
{
  if (folder == NULL || *folder == '\0')
    return g_strdup (base);
  g_autofree char *f = g_strdup (folder);
  if (delim != '\0')
    g_strdelimit (f, ".", delim);
  return g_strdup_printf ("%s%c%s", base, delim ? delim : '.', f);
}

static void
progress (Run *run, gboolean final)
{
  static gint64 last;
  gint64 now = g_get_monotonic_time ();
  if (!final && now - last < 200000)
    return;
  last = now;
  g_mutex_lock (&run->lock);
  double secs = (now - run->start) / 1e6;
  guint done = run->uploaded + run->failed;
  double rate = secs > 0 ? done / secs : 0;
  double brate = secs > 0 ? run->bytes_done / secs : 0;
  guint64 left = run->bytes_total > run->bytes_done ? run->bytes_total - run->bytes_done : 0;
  double eta = brate > 0 ? left / brate : 0;
  fprintf (stderr, "\r%u/%u messages, %.1f MB, %.0f msg/s, %.1f MB/s, ETA %.0fs   %s", done,
           run->total - run->skipped, run->bytes_done / 1e6, rate, brate / 1e6, eta,
           final ? "\n" : "");
  g_mutex_unlock (&run->lock);
}

/* Fetch the password once (a password command runs once, not once per
 * connection) and keep it in the account for every session. */
static gboolean
resolve_password (MsgtkAccount *account, GError **error)
{
  if (!msgtk_account_has_credentials (account) || account->token_command || account->token_file
      || g_getenv ("MSGTK_TOKEN"))
    return TRUE;
  GError *local = NULL;
  char *password = msgtk_account_get_password (account, &local);
  if (local != NULL) {
    g_propagate_error (error, local);
    return FALSE;
  }
  if (password != NULL) {
    g_clear_pointer (&account->password_command, g_free);
    g_clear_pointer (&account->password_file, g_free);
    msgtk_secret_free (account->password);
    account->password = password;
  }
  return TRUE;
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
  g_mime_init ();
  g_autoptr (GOptionContext) ctx
      = g_option_context_new ("[PATH...] - upload messages to an IMAP mailbox");
  g_option_context_set_summary (
      ctx, "PATH is a message file, a directory of .eml files, an mbox or a "
           "maildir (with maildir++ folders); none or - reads standard input.");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_add_group (ctx, cli_account_option_group (&acct_opts));
  if (!cli_parse (ctx, PROG, &argc, &argv))
    return EX_USAGE;
  DateFrom date_from = DATE_SOURCE;
  if (opt_date_from != NULL) {
    if (strcmp (opt_date_from, "header") == 0)
      date_from = DATE_HEADER;
    else if (strcmp (opt_date_from, "now") == 0)
      date_from = DATE_NOW;
    else if (strcmp (opt_date_from, "source") != 0)
      return usage_error ("--date-from takes source, header or now");
  }
  if (opt_dedupe != NULL && g_ascii_strcasecmp (opt_dedupe, "message-id") != 0)
    return usage_error ("--dedupe takes message-id");
  if (opt_jobs < 1 || opt_jobs > 64)
    return usage_error ("-j takes 1 to 64");
  if (opt_batch < 1 || opt_batch > 1000)
    return usage_error ("--batch takes 1 to 1000");
  const char *base = opt_mailbox ? opt_mailbox : "INBOX";
  if (!g_utf8_validate (base, -1, NULL) || *base == '\0')
    return usage_error ("--mailbox takes a non-empty UTF-8 name");
  g_autoptr (GError) error = NULL;
  g_autoptr (MsgtkAccount) account = cli_account_resolve (&acct_opts, "imap", &error);
  if (account == NULL)
    return cli_report_error (PROG, error);
  if (!opt_dry_run && !resolve_password (account, &error))
    return cli_report_error (PROG, error);
  Run run = { 0 };
  run.account = account;
  run.trace = acct_opts.trace ? stderr : NULL;
  g_autoptr (MsgtkJournal) journal = NULL;
  if (!opt_no_journal) {
    g_autofree char *jpath = opt_journal ? g_strdup (opt_journal) : msgtk_journal_default_path ();
    journal = msgtk_journal_open (jpath, &error);
    if (journal == NULL)
      return cli_report_error (PROG, error);
  }
  run.journal = opt_dry_run ? NULL : journal;
  /* a control session: hierarchy delimiter, --dedupe searches */
  g_autoptr (MsgtkImapSession) control = NULL;
  char delim = '.';
  if (!opt_dry_run) {
    control = open_session (&run, &error);
    if (control == NULL || !msgtk_imap_session_get_delimiter (control, &delim, &error))
      return cli_report_error (PROG, error);
    if (opt_dedupe == NULL && (journal == NULL || msgtk_journal_pending_count (journal) == 0)) {
      msgtk_imap_session_logout (control);
      g_clear_pointer (&control, msgtk_imap_session_free);
    }
  }
  run.failures = g_ptr_array_new_with_free_func (g_free);
  g_mutex_init (&run.lock);
  g_cond_init (&run.cond);
  run.queue = g_async_queue_new ();
  run.start = g_get_monotonic_time ();
  guint pending = journal != NULL && !opt_dry_run ? msgtk_journal_pending_count (journal) : 0;
  g_autoptr (GPtrArray) threads = g_ptr_array_new ();
  if (!opt_dry_run)
    for (int i = 0; i < opt_jobs; i++)
      g_ptr_array_add (threads, g_thread_new ("append", worker, &run));
  gboolean tty = isatty (2) && !opt_dry_run;
  const char *stdin_paths[] = { "-", NULL };
  char **paths = opt_paths ? opt_paths : (char **)stdin_paths;
  Batch *cur = NULL;
  guint64 max_bytes = 4 * 1024 * 1024;
  int read_errors = 0;
  for (guint p = 0; paths[p]; p++) {
    g_autoptr (GError) serr = NULL;
    g_autoptr (MsgtkSource) src = msgtk_source_open (paths[p], MSGTK_SOURCE_FORMAT_AUTO, &serr);
    if (src == NULL) {
      cli_report_error (PROG, serr);
      read_errors++;
      add_failure (&run, paths[p], serr->message);
      continue;
    }
    for (;;) {
      g_autoptr (GError) ierr = NULL;
      g_autoptr (MsgtkItem) item = msgtk_source_next (src, &ierr);
      if (item == NULL) {
        if (ierr == NULL)
          break;
        add_failure (&run, paths[p], ierr->message);
        continue;
      }
      g_autoptr (GBytes) data = msgtk_item_read_bytes (item, &ierr);
      if (data == NULL) {
        add_failure (&run, item->identity, ierr->message);
        continue;
      }
      run.total++;
      g_autofree char *mailbox = target_mailbox (base, item->folder, delim);
      g_autofree char *key = msgtk_journal_key (item->identity, mailbox, data);
      if (g_bytes_get_size (data) == 0) {
        add_failure (&run, item->identity, "empty message");
        continue;
      }
      gboolean skip = FALSE;
      g_autoptr (GError) jerr = NULL;
      if (journal != NULL
          && !msgtk_journal_decide (journal, pending > 0 ? control : NULL, mailbox, key, data,
                                    &skip, &jerr))
        g_printerr ("%s: %s\n", PROG, jerr->message);
      if (skip) {
        run.skipped++;
        continue;
      }
      if (opt_dedupe != NULL && control != NULL) {
        g_autofree char *mid = msgtk_message_get_header (data, "Message-ID");
        gboolean found = FALSE;
        g_autoptr (GError) derr = NULL;
        if (mid != NULL
            && !msgtk_imap_session_search_message_id (control, mailbox, mid, &found, &derr)) {
          add_failure (&run, item->identity, derr->message);
          continue;
        }
        if (found) {
          run.skipped++;
          continue;
        }
      }
      g_mutex_lock (&run.lock);
      run.bytes_total += g_bytes_get_size (data);
      g_mutex_unlock (&run.lock);
      if (opt_dry_run) {
        g_print ("would upload %s (%" G_GSIZE_FORMAT " bytes) to %s\n", item->identity,
                 g_bytes_get_size (data), mailbox);
        run.uploaded++;
        continue;
      }
      if (cur != NULL
          && (strcmp (cur->mailbox, mailbox) != 0 || cur->msgs->len >= (guint)opt_batch
              || cur->bytes + g_bytes_get_size (data) > max_bytes)) {
        enqueue (&run, cur, 2 * opt_jobs);
        cur = NULL;
      }
      if (cur == NULL)
        cur = batch_new (mailbox);
      MsgtkImapMessage m = { 0 };
      m.data = g_bytes_ref (data);
      m.flags = item->flags;
      if (date_from == DATE_SOURCE)
        m.internal_date = item->internal_date ? g_date_time_ref (item->internal_date)
                                              : msgtk_message_get_date (data);
      else if (date_from == DATE_HEADER) {
        m.internal_date = msgtk_message_get_date (data);
        if (m.internal_date == NULL && item->internal_date != NULL)
          m.internal_date = g_date_time_ref (item->internal_date);
      }
      cur->bytes += g_bytes_get_size (data);
      g_array_append_val (cur->msgs, m);
      g_ptr_array_add (cur->keys, g_steal_pointer (&key));
      g_ptr_array_add (cur->names, g_strdup (item->identity));
      if (tty)
        progress (&run, FALSE);
    }
  }
  if (cur != NULL)
    enqueue (&run, cur, 2 * opt_jobs);
  for (guint i = 0; i < threads->len; i++)
    enqueue (&run, g_new0 (Batch, 1), G_MAXUINT); /* counted, as workers count every pop */
  for (guint i = 0; i < threads->len; i++) {
    while (tty && run.queued > 0) {
      progress (&run, FALSE);
      g_usleep (100000);
    }
    g_thread_join (threads->pdata[i]);
  }
  if (tty)
    progress (&run, TRUE);
  if (control != NULL)
    msgtk_imap_session_logout (control);

  double secs = (g_get_monotonic_time () - run.start) / 1e6;
  printf ("%s: %u %s, %u skipped (already uploaded), %u failed; %.1f MB in %.1f s\n", PROG,
          run.uploaded, opt_dry_run ? "to upload" : "uploaded", run.skipped, run.failed,
          run.bytes_done / 1e6, secs);
  for (guint i = 0; i < run.failures->len; i++)
    printf ("failed: %s\n", (char *)run.failures->pdata[i]);
  fflush (stdout);
  int code = 0;
  if (run.failed > 0) {
    if (run.uploaded > 0)
      code = EXIT_PARTIAL;
    else if (run.fatal != NULL)
      code = cli_report_error (PROG, run.fatal);
    else
      code = read_errors > 0 ? EX_NOINPUT : EX_UNAVAILABLE;
  }
  g_clear_error (&run.fatal);
  g_ptr_array_unref (run.failures);
  g_async_queue_unref (run.queue);
  g_mutex_clear (&run.lock);
  g_cond_clear (&run.cond);
  return code;
}
