/* msgsend — submit messages over SMTP. */
#include "cli.h"

#include <locale.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdio.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

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

typedef struct {
  MsgtkAccount *account;
  MsgtkSmtp *smtp;
  FILE *trace;
  GError *session_error; /* set once a session could not be set up: no more attempts */
  int worst;             /* the most telling exit code so far */
  guint sent, failed, kept, partial;
} Run;

/* The error's message with the hint for msgsend's options. */
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
note_failure (Run *run, int code)
{
  /* A permanent failure says more than a temporary one, and a refused
   * recipient less than a failed message. */
  if (run->worst == EX_OK || (run->worst == EX_TEMPFAIL && code != EX_TEMPFAIL)
      || (run->worst == EX_NOUSER && code != EX_TEMPFAIL && code != EX_NOUSER))
    run->worst = code;
}

static gboolean
ensure_session (Run *run, GError **error)
{
  if (run->smtp && msgtk_smtp_is_usable (run->smtp))
    return TRUE;
  g_clear_pointer (&run->smtp, msgtk_smtp_free);
  if (run->session_error == NULL) {
    run->smtp = msgtk_smtp_connect (run->account, opt_helo, run->trace, &run->session_error);
    if (run->smtp && !msgtk_smtp_authenticate (run->smtp, run->account, &run->session_error))
      g_clear_pointer (&run->smtp, msgtk_smtp_quit);
    if (run->smtp)
      return TRUE;
  }
  g_propagate_error (error, g_error_copy (run->session_error));
  return FALSE;
}

static void
keep (Run *run, const char *origin, const char *sender, GPtrArray *rcpts, GBytes *data,
      const char *reason)
{
  if (opt_spool == NULL || opt_dry_run || rcpts->len == 0)
    return;
  g_autoptr (GError) error = NULL;
  g_autofree char *name = NULL;
  if (msgtk_spool_put (opt_spool, sender, rcpts, data, reason, &name, &error)) {
    run->kept++;
    if (!opt_quiet)
      fprintf (stderr, "%s: %s: kept in %s for a later --flush\n", prog, origin, opt_spool);
  } else {
    print_error (origin, "NOT kept: ", error);
    note_failure (run, EX_CANTCREAT);
  }
}

/* Report how a message went (and keep it in the spool when it should be).
 * Returns TRUE when it reached every recipient. */
static gboolean
report (Run *run, const char *origin, const char *sender, GPtrArray *rcpts, GBytes *data,
        gboolean ok, GPtrArray *results, const GError *error)
{
  g_autoptr (GPtrArray) retry = g_ptr_array_new_with_free_func (g_free);
  guint refused = 0, refused_for_good = 0;
  for (guint i = 0; i < rcpts->len; i++) {
    MsgtkSmtpRecipient *r = results && i < results->len ? g_ptr_array_index (results, i) : NULL;
    if (r && r->code && !r->accepted) {
      refused++;
      fprintf (stderr, "%s: %s: recipient <%s> %srefused: %d %s\n", prog, origin, r->address,
               opt_dry_run ? "would be " : "", r->code, r->reply ? r->reply : "");
      if (r->code >= 500)
        refused_for_good++;
      else
        g_ptr_array_add (retry, g_strdup (r->address));
    } else if (!ok) {
      g_ptr_array_add (retry, g_strdup (g_ptr_array_index (rcpts, i)));
    }
  }
  if (!ok) {
    run->failed++;
    print_error (origin, opt_dry_run ? "" : "not sent: ", error);
    note_failure (run, msgtk_error_exit_code (error));
    keep (run, origin, sender, retry, data, error->message);
    return FALSE;
  }
  if (refused) {
    run->partial++;
    note_failure (run, refused_for_good ? EX_NOUSER : EX_TEMPFAIL);
    keep (run, origin, sender, retry, data, "temporary recipient refusal");
  }
  run->sent++;
  if (!opt_quiet)
    fprintf (stderr, "%s: %s: %s %u of %u recipient%s\n", prog, origin,
             opt_dry_run ? "would be accepted for" : "sent to", rcpts->len - refused, rcpts->len,
             rcpts->len == 1 ? "" : "s");
  return refused == 0;
}

/* A message whose outcome comes later (pipelined with the next one). */
typedef struct {
  Run *run;
  char *origin, *sender;
  GPtrArray *rcpts;
  GBytes *data;
} Outcome;

static void
outcome_free (Outcome *o)
{
  g_free (o->origin);
  g_free (o->sender);
  g_ptr_array_unref (o->rcpts);
  g_bytes_unref (o->data);
  g_free (o);
}

static void
outcome_done (gboolean ok, GPtrArray *results, const GError *error, gpointer data)
{
  Outcome *o = data;
  report (o->run, o->origin, o->sender, o->rcpts, o->data, ok, results, error);
  outcome_free (o);
}

/* Send one message. With @pipelined, the outcome of a message that went out
 * may be reported later, while the next one is sent (or at QUIT). */
static void
send_one (Run *run, const char *origin, const char *sender, GPtrArray *rcpts, GBytes *data,
          gboolean pipelined)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) results = NULL;
  MsgtkSmtpSendOptions so
      = { opt_dsn_notify, opt_dsn_return, opt_envid, opt_dry_run, opt_no_chunking, NULL, NULL };
  gboolean ok = FALSE;
  for (int attempt = 0; attempt < 2; attempt++) {
    g_clear_error (&error);
    g_clear_pointer (&results, g_ptr_array_unref);
    if (!ensure_session (run, &error))
      break;
    if (pipelined) {
      Outcome *o = g_new0 (Outcome, 1);
      *o = (Outcome){ run, g_strdup (origin), g_strdup (sender), g_ptr_array_ref (rcpts),
                      g_bytes_ref (data) };
      so.done = outcome_done;
      so.done_data = o;
    }
    ok = msgtk_smtp_send (run->smtp, sender, rcpts, data, &so, &results, &error);
    if (ok && pipelined)
      return; /* outcome_done reports it */
    g_clear_pointer ((Outcome **)&so.done_data, outcome_free);
    /* A session that broke before this message got anywhere: one new session. */
    if (ok || msgtk_smtp_is_usable (run->smtp) || attempt > 0)
      break;
    gboolean reached = FALSE;
    for (guint i = 0; results && i < results->len; i++)
      reached |= ((MsgtkSmtpRecipient *)g_ptr_array_index (results, i))->code != 0;
    if (reached)
      break;
  }
  report (run, origin, sender, rcpts, data, ok, results, error);
}

static gboolean
prepare (Run *run, GBytes *raw, const char *origin, char **sender, GPtrArray *rcpts, GBytes **data)
{
  g_autoptr (GError) error = NULL;
  for (guint i = 0; opt_rcpts && opt_rcpts[i]; i++)
    g_ptr_array_add (rcpts, g_strdup (opt_rcpts[i]));
  *sender = g_strdup (opt_from ? opt_from : run->account->from);
  if (opt_read_rcpts || *sender == NULL) {
    g_autoptr (GPtrArray) hdr = g_ptr_array_new_with_free_func (g_free);
    if (!msgtk_message_envelope (raw, sender, hdr, &error)) {
      print_error (origin, "", error);
      note_failure (run, EX_DATAERR);
      return FALSE;
    }
    for (guint i = 0; opt_read_rcpts && i < hdr->len; i++) {
      const char *a = g_ptr_array_index (hdr, i);
      gboolean dup = FALSE;
      for (guint j = 0; j < rcpts->len && !dup; j++)
        dup = g_ascii_strcasecmp (a, g_ptr_array_index (rcpts, j)) == 0;
      if (!dup) /* also given as an argument */
        g_ptr_array_add (rcpts, g_strdup (a));
    }
  }
  if (rcpts->len == 0) {
    fprintf (stderr, "%s: %s: no recipients (give them as arguments, or use -t)\n", prog, origin);
    note_failure (run, EX_USAGE);
    return FALSE;
  }
  if (*sender == NULL) {
    fprintf (stderr, "%s: %s: no envelope sender (use --from, an account from, or a From header)\n",
             prog, origin);
    note_failure (run, EX_USAGE);
    return FALSE;
  }
  const char *at = strrchr (*sender, '@');
  MsgtkRenderOptions ro
      = { .strip_bcc = TRUE, .add_missing = opt_add_missing, .id_domain = at ? at + 1 : NULL };
  *data = msgtk_message_render_bytes (raw, &ro, &error);
  return *data != NULL;
}

static void
send_source (Run *run, const char *path)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MsgtkSource) src = msgtk_source_open (path, MSGTK_SOURCE_FORMAT_AUTO, &error);
  if (src == NULL) {
    print_error (NULL, "", error);
    note_failure (run, msgtk_error_exit_code (error));
    return;
  }
  for (;;) {
    g_clear_error (&error);
    g_autoptr (MsgtkItem) item = msgtk_source_next (src, &error);
    if (item == NULL) {
      if (error == NULL)
        break;
      print_error (NULL, "", error);
      note_failure (run, msgtk_error_exit_code (error));
      continue;
    }
    g_autofree char *origin = msgtk_source_get_format (src) == MSGTK_SOURCE_FORMAT_MESSAGE
                                  ? g_strdup (item->path)
                                  : g_strdup_printf ("%s#%u", item->path, item->index);
    g_autoptr (GBytes) raw = msgtk_item_read_bytes (item, &error);
    if (raw == NULL) {
      print_error (origin, "", error);
      note_failure (run, msgtk_error_exit_code (error));
      continue;
    }
    g_autofree char *sender = NULL;
    g_autoptr (GPtrArray) rcpts = g_ptr_array_new_with_free_func (g_free);
    g_autoptr (GBytes) data = NULL;
    if (!prepare (run, raw, origin, &sender, rcpts, &data)) {
      run->failed++;
      continue;
    }
    send_one (run, origin, sender, rcpts, data, !opt_dry_run);
  }
}

static void
flush_spool (Run *run, const char *dir)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) names = msgtk_spool_list (dir, &error);
  int lock = names ? msgtk_spool_lock (dir, &error) : -1;
  if (lock < 0) {
    print_error (NULL, "", error);
    note_failure (run, msgtk_error_exit_code (error));
    return;
  }
  for (guint i = 0; i < names->len; i++) {
    const char *name = g_ptr_array_index (names, i);
    g_autofree char *sender = NULL;
    g_autoptr (GPtrArray) rcpts = g_ptr_array_new_with_free_func (g_free);
    g_autoptr (GBytes) data = NULL;
    g_clear_error (&error);
    if (!msgtk_spool_get (dir, name, &sender, rcpts, &data, &error)) {
      print_error (NULL, "", error);
      note_failure (run, EX_DATAERR);
      continue;
    }
    g_autofree char *origin = g_build_filename (dir, "new", name, NULL);
    /* A temporary refusal goes back into the queue as a new entry; the old
     * entry goes once the message is sent or safely queued again. A
     * permanent refusal leaves it where it is, reported. */
    char *saved_spool = opt_spool;
    opt_spool = (char *)dir;
    guint kept_before = run->kept, sent_before = run->sent;
    send_one (run, origin, sender, rcpts, data, FALSE);
    opt_spool = saved_spool;
    gboolean done = run->sent > sent_before; /* delivered, if only to some */
    if (run->kept > kept_before) {
      run->kept = kept_before; /* the same message, still queued */
      done = TRUE;
    }
    if (done)
      msgtk_spool_remove (dir, name, NULL);
  }
  close (lock);
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
  g_option_context_add_group (ctx, cli_account_option_group (&acct_opts));
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
  Run run = { account, NULL, acct_opts.trace ? stderr : NULL, NULL, EX_OK, 0, 0, 0, 0 };
  if (opt_flush) {
    flush_spool (&run, opt_flush);
  } else if (opt_inputs) {
    for (guint i = 0; opt_inputs[i]; i++)
      send_source (&run, opt_inputs[i]);
  } else {
    send_source (&run, "-");
  }
  if (run.smtp)
    msgtk_smtp_quit (g_steal_pointer (&run.smtp));
  g_clear_error (&run.session_error);
  if (!opt_quiet && run.sent + run.failed > 1)
    fprintf (stderr, "%s: %u sent%s, %u failed, %u partial, %u kept in the spool\n", prog, run.sent,
             opt_dry_run ? " (dry run)" : "", run.failed, run.partial, run.kept);
  return run.worst;
}
