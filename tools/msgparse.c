/* msgparse — inspect, validate, convert and take apart messages and archives. */
#include "cli.h"

#include <gmime/gmime.h>
#include <msgtk/msgtk.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#define PROG "msgparse"

typedef enum {
  VIEW_SUMMARY,
  VIEW_HEADERS,
  VIEW_TREE,
  VIEW_TEXT,
  VIEW_JSON,
  VIEW_PART,
  VIEW_EXTRACT,
  VIEW_CHECK,
  VIEW_CONVERT,
} View;

static struct {
  char *select;
  gboolean headers, raw, tree, text, json, check, text_to_utf8;
  char *part, *extract, *fail_on, *fallback;
  char *to_mbox, *to_maildir, *to_dir;
  gboolean crlf, lf;
  int jobs;
} opt;

static MsgtkSink *sink; /* VIEW_CONVERT */

static View view;
static MsgtkSeverity fail_level = MSGTK_SEVERITY_ERROR;
static gboolean fail_never;
static MsgtkInspectOptions inspect_options;

typedef struct {
  guint first, last;
} Range;
static GArray *ranges;

typedef struct {
  GBytes *raw;
  char *label; /* "path" or "path#index" */
  MsgtkItem *item;
  GString *out;
  GError *error;
  gboolean failed_check;
  gboolean heading;
} Job;

/* Messages go to the thread pool in batches: one hand-over (and one wake-up)
 * per batch, not per message, which matters for small messages and the
 * summary. */
#define BATCH_MESSAGES 64
#define BATCH_BYTES (256 * 1024)

typedef struct {
  GPtrArray *jobs; /* Job*, in order */
  gsize bytes;     /* of their raw messages */
  gboolean done;
} Batch;

static GMutex job_lock;
static GCond job_cond;

static gboolean
parse_select (const char *spec, GError **error)
{
  ranges = g_array_new (FALSE, FALSE, sizeof (Range));
  g_auto (GStrv) parts = g_strsplit (spec, ",", -1);
  for (guint i = 0; parts[i] != NULL; i++) {
    Range r;
    char *end;
    const char *s = g_strstrip (parts[i]);
    r.first = (guint)g_ascii_strtoull (s, &end, 10);
    if (end == s || r.first == 0)
      goto bad;
    r.last = r.first;
    if (*end == '-') {
      const char *t = end + 1;
      if (*t == '\0') {
        r.last = G_MAXUINT;
        end = (char *)t;
      } else {
        r.last = (guint)g_ascii_strtoull (t, &end, 10);
        if (end == t || r.last < r.first)
          goto bad;
      }
    }
    if (*end != '\0')
      goto bad;
    g_array_append_val (ranges, r);
  }
  return TRUE;
bad:
  g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_USAGE,
               "--select '%s': give positions and ranges like 3,10-20,30-", spec);
  return FALSE;
}

static gboolean
selected (guint index)
{
  if (ranges == NULL)
    return TRUE;
  for (guint i = 0; i < ranges->len; i++) {
    Range *r = &g_array_index (ranges, Range, i);
    if (index >= r->first && index <= r->last)
      return TRUE;
  }
  return FALSE;
}

static void
json_source (JsonObject *o, MsgtkItem *item)
{
  JsonObject *src = json_object_new ();
  g_autofree char *path = g_utf8_make_valid (item->path, -1);
  json_object_set_string_member (src, "path", path);
  json_object_set_int_member (src, "index", item->index);
  json_object_set_int_member (src, "offset", item->offset);
  json_object_set_int_member (src, "size", item->size);
  g_autofree char *id = g_utf8_make_valid (item->identity, -1);
  json_object_set_string_member (src, "identity", id);
  if (item->folder != NULL) {
    g_autofree char *f = g_utf8_make_valid (item->folder, -1);
    json_object_set_string_member (src, "folder", f);
  } else
    json_object_set_null_member (src, "folder");
  JsonArray *flags = json_array_new ();
  static const struct {
    MsgtkFlags flag;
    const char *name;
  } names[] = {
    { MSGTK_FLAG_SEEN, "seen" },       { MSGTK_FLAG_ANSWERED, "answered" },
    { MSGTK_FLAG_FLAGGED, "flagged" }, { MSGTK_FLAG_DELETED, "deleted" },
    { MSGTK_FLAG_DRAFT, "draft" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    if (item->flags & names[i].flag)
      json_array_add_string_element (flags, names[i].name);
  json_object_set_array_member (src, "flags", flags);
  if (item->internal_date != NULL) {
    g_autofree char *d = g_date_time_format_iso8601 (item->internal_date);
    json_object_set_string_member (src, "internal_date", d);
  } else
    json_object_set_null_member (src, "internal_date");
  json_object_set_object_member (o, "source", src);
}

static void
run_job (Job *job)
{
  job->out = g_string_new (NULL);
  if (job->heading) {
    g_string_append_printf (job->out, "==> %s <==\n", job->label);
  }
  if (view == VIEW_SUMMARY) {
    g_autofree char *s
        = msgtk_inspect_summary (job->raw, job->item->size, &inspect_options, &job->error);
    if (s != NULL)
      g_string_append_printf (job->out, "%5u  %s\n", job->item->index, s);
    return;
  }
  /* only JSON and lint need the message's own fields decoded */
  MsgtkInspectFlags flags
      = view == VIEW_JSON || view == VIEW_CHECK ? MSGTK_INSPECT_FULL : MSGTK_INSPECT_STRUCTURE;
  g_autoptr (MsgtkInspection) in = msgtk_inspection_new_for_headers (
      job->raw, job->item->size, &inspect_options, flags, &job->error);
  if (in == NULL)
    goto done;
  switch (view) {
  case VIEW_SUMMARY: g_assert_not_reached ();
  case VIEW_HEADERS: {
    g_autofree char *s = msgtk_inspection_headers (in, opt.raw);
    g_string_append (job->out, s);
    break;
  }
  case VIEW_TREE: {
    g_autofree char *s = msgtk_inspection_tree (in);
    g_string_append (job->out, s);
    break;
  }
  case VIEW_TEXT: {
    g_autofree char *s = msgtk_inspection_text (in);
    g_string_append (job->out, s);
    if (job->out->len > 0 && job->out->str[job->out->len - 1] != '\n')
      g_string_append_c (job->out, '\n');
    break;
  }
  case VIEW_JSON: {
    g_autoptr (JsonNode) node = msgtk_inspection_to_json (in);
    json_source (json_node_get_object (node), job->item);
    g_autofree char *s = json_to_string (node, FALSE);
    g_string_append (job->out, s);
    g_string_append_c (job->out, '\n');
    break;
  }
  case VIEW_PART: {
    g_autoptr (GBytes) b
        = msgtk_inspection_part_content (in, opt.part, opt.text_to_utf8, &job->error);
    if (b != NULL) {
      gsize n;
      const char *d = g_bytes_get_data (b, &n);
      g_string_append_len (job->out, d, (gssize)n);
    }
    break;
  }
  case VIEW_EXTRACT: {
    g_auto (GStrv) paths
        = msgtk_inspection_extract (in, opt.extract, opt.text_to_utf8, &job->error);
    for (guint i = 0; paths != NULL && paths[i] != NULL; i++) {
      g_autofree char *p = g_utf8_make_valid (paths[i], -1);
      g_string_append_printf (job->out, "%s\n", p);
    }
    break;
  }
  case VIEW_CONVERT: g_assert_not_reached ();
  case VIEW_CHECK: {
    g_autoptr (GPtrArray) findings = msgtk_inspection_check (in);
    for (guint i = 0; i < findings->len; i++) {
      MsgtkFinding *f = findings->pdata[i];
      g_string_append_printf (job->out, "%s: %s %s %s: %s\n", job->label,
                              msgtk_severity_name (f->severity), f->code, f->location, f->message);
      if (!fail_never && f->severity >= fail_level)
        job->failed_check = TRUE;
    }
    break;
  }
  }
done:
  return;
}

static void
run_batch (gpointer data, gpointer user_data)
{
  Batch *batch = data;
  for (guint i = 0; i < batch->jobs->len; i++)
    run_job (batch->jobs->pdata[i]);
  g_mutex_lock (&job_lock);
  batch->done = TRUE;
  g_cond_broadcast (&job_cond);
  g_mutex_unlock (&job_lock);
}

static int exit_code = EX_OK;
static gboolean check_failed;

static void
set_exit (int code)
{
  if (exit_code == EX_OK)
    exit_code = code;
}

/* Print a done job, free it. */
static void
finish_job (Job *job)
{
  fwrite (job->out->str, 1, job->out->len, stdout);
  if (job->error != NULL) {
    g_prefix_error (&job->error, "%s: ", job->label);
    set_exit (cli_report_error (PROG, job->error));
  }
  if (job->failed_check)
    check_failed = TRUE;
  g_bytes_unref (job->raw);
  g_free (job->label);
  msgtk_item_free (job->item);
  g_string_free (job->out, TRUE);
  g_clear_error (&job->error);
  g_free (job);
}

/* Wait for the oldest batch, print its jobs in order, free it. */
static void
finish_batch (GQueue *queue, gsize *inflight_bytes)
{
  Batch *batch = g_queue_pop_head (queue);
  g_mutex_lock (&job_lock);
  while (!batch->done)
    g_cond_wait (&job_cond, &job_lock);
  g_mutex_unlock (&job_lock);
  for (guint i = 0; i < batch->jobs->len; i++)
    finish_job (batch->jobs->pdata[i]);
  *inflight_bytes -= batch->bytes;
  g_ptr_array_unref (batch->jobs);
  g_free (batch);
}

/* Hand the batch being filled to the pool; wait for old ones while too many
 * are in flight. */
static void
push_batch (Batch **current, GThreadPool *pool, GQueue *queue, gsize *inflight, guint max_jobs)
{
  Batch *batch = *current;
  if (batch == NULL)
    return;
  *current = NULL;
  *inflight += batch->bytes;
  g_queue_push_tail (queue, batch);
  g_thread_pool_push (pool, batch, NULL);
  while (queue->length > max_jobs || (*inflight > 16 * 1024 * 1024 && queue->length > 1))
    finish_batch (queue, inflight);
}

/* FALSE when the output failed and nothing more should be done. */
static gboolean
process_path (const char *path, GThreadPool *pool, guint max_jobs, gboolean many_paths)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MsgtkSource) source = msgtk_source_open (path, MSGTK_SOURCE_FORMAT_AUTO, &error);
  if (source == NULL) {
    set_exit (cli_report_error (PROG, error));
    return TRUE;
  }
  gboolean archive = msgtk_source_get_format (source) != MSGTK_SOURCE_FORMAT_MESSAGE;
  /* the summary needs only the header fields (and each message's size) */
  msgtk_source_set_headers_only (source, view == VIEW_SUMMARY);
  GQueue queue = G_QUEUE_INIT;
  gsize inflight = 0;
  Batch *batch = NULL;
  for (;;) {
    g_clear_error (&error);
    MsgtkItem *item = msgtk_source_next (source, &error);
    if (item == NULL) {
      if (error == NULL)
        break;
      set_exit (cli_report_error (PROG, error));
      if (msgtk_source_get_format (source) == MSGTK_SOURCE_FORMAT_MBOX
          || msgtk_source_get_format (source) == MSGTK_SOURCE_FORMAT_MESSAGE)
        break; /* a read error in a stream: nothing more can be read */
      continue;
    }
    if (!selected (item->index)) {
      msgtk_item_free (item);
      continue;
    }
    if (view == VIEW_CONVERT) {
      /* byte for byte, in order, on this thread */
      gboolean ok = msgtk_sink_write_stream (sink, item->stream, item->flags, item->internal_date,
                                             item->envelope_sender, NULL, &error);
      guint index = item->index;
      msgtk_item_free (item);
      if (!ok) {
        g_prefix_error (&error, "%s#%u: ", path, index);
        set_exit (cli_report_error (PROG, error));
        return FALSE;
      }
      continue;
    }
    Job *job = g_new0 (Job, 1);
    job->item = item;
    /* valid UTF-8 like everything printed: paths may hold any bytes */
    g_autofree char *label
        = archive ? g_strdup_printf ("%s#%u", item->path, item->index) : g_strdup (item->path);
    job->label = g_utf8_make_valid (label, -1);
    job->raw = msgtk_item_read_bytes (item, &error);
    if (job->raw == NULL) {
      set_exit (cli_report_error (PROG, error));
      msgtk_item_free (item);
      g_free (job->label);
      g_free (job);
      continue;
    }
    /* several messages in a per-message text view: a heading before each */
    job->heading = (archive || many_paths)
                   && (view == VIEW_HEADERS || view == VIEW_TREE || view == VIEW_TEXT);
    if (batch == NULL) {
      batch = g_new0 (Batch, 1);
      batch->jobs = g_ptr_array_new ();
    }
    g_ptr_array_add (batch->jobs, job);
    batch->bytes += g_bytes_get_size (job->raw);
    if (batch->jobs->len >= BATCH_MESSAGES || batch->bytes >= BATCH_BYTES)
      push_batch (&batch, pool, &queue, &inflight, max_jobs);
  }
  push_batch (&batch, pool, &queue, &inflight, max_jobs);
  while (queue.length > 0)
    finish_batch (&queue, &inflight);
  return TRUE;
}

int
main (int argc, char **argv)
{
  GOptionEntry entries[] = {
    { "select", 0, 0, G_OPTION_ARG_STRING, &opt.select,
      "Only messages at these positions of an archive (3,10-20,30-)", "LIST" },
    { "headers", 0, 0, G_OPTION_ARG_NONE, &opt.headers, "Print the header fields, decoded to UTF-8",
      NULL },
    { "raw", 0, 0, G_OPTION_ARG_NONE, &opt.raw, "With --headers: print them as sent", NULL },
    { "tree", 0, 0, G_OPTION_ARG_NONE, &opt.tree, "Print the MIME tree with part numbers", NULL },
    { "text", 0, 0, G_OPTION_ARG_NONE, &opt.text, "Print the readable body as UTF-8", NULL },
    { "json", 0, 0, G_OPTION_ARG_NONE, &opt.json, "Print one JSON object per message (JSON Lines)",
      NULL },
    { "part", 0, 0, G_OPTION_ARG_STRING, &opt.part, "Write part N's decoded content to stdout",
      "N" },
    { "extract", 0, 0, G_OPTION_ARG_FILENAME, &opt.extract,
      "Write every attachment into DIR under safe, unique names", "DIR" },
    { "text-to-utf8", 0, 0, G_OPTION_ARG_NONE, &opt.text_to_utf8,
      "With --part/--extract: convert text parts to UTF-8", NULL },
    { "check", 0, 0, G_OPTION_ARG_NONE, &opt.check, "Lint: list RFC 5322/2045/2047/2231 problems",
      NULL },
    { "fail-on", 0, 0, G_OPTION_ARG_STRING, &opt.fail_on,
      "With --check: exit 1 on a finding at LEVEL or above (info, warning, error, none; default "
      "error)",
      "LEVEL" },
    { "to-mbox", 0, 0, G_OPTION_ARG_FILENAME, &opt.to_mbox,
      "Append every message to the mbox FILE (mboxrd, flags as Status/X-Status)", "FILE" },
    { "to-maildir", 0, 0, G_OPTION_ARG_FILENAME, &opt.to_maildir,
      "Deliver every message into the maildir DIR (flags as the :2, suffix)", "DIR" },
    { "to-dir", 0, 0, G_OPTION_ARG_FILENAME, &opt.to_dir,
      "Write every message to DIR as numbered .eml files", "DIR" },
    { "crlf", 0, 0, G_OPTION_ARG_NONE, &opt.crlf, "With --to-*: end every line with CRLF", NULL },
    { "lf", 0, 0, G_OPTION_ARG_NONE, &opt.lf, "With --to-*: end every line with LF", NULL },
    { "fallback-charsets", 0, 0, G_OPTION_ARG_STRING, &opt.fallback,
      "Charsets to try for undeclared or wrong 8-bit text (default UTF-8,windows-1252)", "LIST" },
    { "jobs", 'j', 0, G_OPTION_ARG_INT, &opt.jobs, "Parse on N threads (default: one per core)",
      "N" },
    { NULL },
  };
  g_autoptr (GOptionContext) ctx
      = g_option_context_new ("[PATH…] — inspect, check and take apart messages");
  g_option_context_set_description (
      ctx, "PATH is a message file, a directory of .eml files, an mbox or a maildir; none or \"-\" "
           "reads standard input.\nSee msgparse(1) for the JSON schema and the check codes.");
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!cli_parse (ctx, PROG, &argc, &argv))
    return EX_USAGE;

  g_autoptr (GError) error = NULL;
  int nviews = opt.headers + opt.tree + opt.text + opt.json + (opt.part != NULL)
               + (opt.extract != NULL) + opt.check + (opt.to_mbox != NULL)
               + (opt.to_maildir != NULL) + (opt.to_dir != NULL);
  if (nviews > 1) {
    g_set_error (&error, MSGTK_ERROR, MSGTK_ERROR_USAGE,
                 "choose one of --headers, --tree, --text, --json, --part, --extract, --check, "
                 "--to-mbox, --to-maildir, --to-dir");
    return cli_report_error (PROG, error);
  }
  gboolean convert = opt.to_mbox != NULL || opt.to_maildir != NULL || opt.to_dir != NULL;
  view = opt.headers   ? VIEW_HEADERS
         : opt.tree    ? VIEW_TREE
         : opt.text    ? VIEW_TEXT
         : opt.json    ? VIEW_JSON
         : opt.part    ? VIEW_PART
         : opt.extract ? VIEW_EXTRACT
         : opt.check   ? VIEW_CHECK
         : convert     ? VIEW_CONVERT
                       : VIEW_SUMMARY;
  if (opt.raw && view != VIEW_HEADERS) {
    g_set_error (&error, MSGTK_ERROR, MSGTK_ERROR_USAGE, "--raw goes with --headers");
    return cli_report_error (PROG, error);
  }
  if (opt.text_to_utf8 && view != VIEW_PART && view != VIEW_EXTRACT) {
    g_set_error (&error, MSGTK_ERROR, MSGTK_ERROR_USAGE,
                 "--text-to-utf8 goes with --part or --extract");
    return cli_report_error (PROG, error);
  }
  if ((opt.crlf || opt.lf) && view != VIEW_CONVERT) {
    g_set_error (&error, MSGTK_ERROR, MSGTK_ERROR_USAGE,
                 "--crlf and --lf go with --to-mbox, --to-maildir or --to-dir");
    return cli_report_error (PROG, error);
  }
  if (opt.crlf && opt.lf) {
    g_set_error (&error, MSGTK_ERROR, MSGTK_ERROR_USAGE, "choose one of --crlf and --lf");
    return cli_report_error (PROG, error);
  }
  if (opt.fail_on != NULL) {
    if (view != VIEW_CHECK) {
      g_set_error (&error, MSGTK_ERROR, MSGTK_ERROR_USAGE, "--fail-on goes with --check");
      return cli_report_error (PROG, error);
    }
    if (g_ascii_strcasecmp (opt.fail_on, "none") == 0)
      fail_never = TRUE;
    else if (!msgtk_severity_from_name (opt.fail_on, &fail_level)) {
      g_set_error (&error, MSGTK_ERROR, MSGTK_ERROR_USAGE,
                   "--fail-on '%s': use info, warning, error or none", opt.fail_on);
      return cli_report_error (PROG, error);
    }
  }
  if (opt.select != NULL && !parse_select (opt.select, &error))
    return cli_report_error (PROG, error);
  g_mime_init ();
  g_auto (GStrv) fallbacks = NULL;
  if (opt.fallback != NULL) {
    fallbacks = g_strsplit (opt.fallback, ",", -1);
    for (guint i = 0; fallbacks[i] != NULL; i++) {
      g_strstrip (fallbacks[i]);
      iconv_t cd = g_mime_iconv_open ("UTF-8", g_mime_charset_iconv_name (fallbacks[i]));
      if (cd == (iconv_t)-1) {
        g_set_error (&error, MSGTK_ERROR, MSGTK_ERROR_USAGE,
                     "--fallback-charsets: unknown charset '%s'", fallbacks[i]);
        return cli_report_error (PROG, error);
      }
      g_mime_iconv_close (cd);
    }
    inspect_options.fallback_charsets = (const char *const *)fallbacks;
  }

  if (view == VIEW_CONVERT) {
    sink = opt.to_mbox      ? msgtk_sink_new (MSGTK_SINK_MBOX, opt.to_mbox, &error)
           : opt.to_maildir ? msgtk_sink_new (MSGTK_SINK_MAILDIR, opt.to_maildir, &error)
                            : msgtk_sink_new (MSGTK_SINK_DIR, opt.to_dir, &error);
    if (sink == NULL)
      return cli_report_error (PROG, error);
    msgtk_sink_set_eol (sink, opt.crlf ? MSGTK_EOL_CRLF : opt.lf ? MSGTK_EOL_LF : MSGTK_EOL_KEEP);
  }
  guint threads = opt.jobs > 0 ? (guint)opt.jobs : g_get_num_processors ();
  GThreadPool *pool = g_thread_pool_new (run_batch, NULL, (int)threads, FALSE, NULL);
  gboolean output_ok = TRUE;
  if (argc < 2)
    output_ok = process_path ("-", pool, threads * 8 + 8, FALSE);
  for (int i = 1; i < argc && output_ok; i++)
    output_ok = process_path (argv[i], pool, threads * 8 + 8, argc > 2);
  g_thread_pool_free (pool, FALSE, TRUE);
  fflush (stdout);
  if (sink != NULL) {
    /* the converted output is complete or absent */
    if (output_ok && !msgtk_sink_commit (sink, &error))
      set_exit (cli_report_error (PROG, error));
    msgtk_sink_free (sink);
  }
  g_mime_shutdown ();
  if (ranges != NULL)
    g_array_unref (ranges);
  if (exit_code == EX_OK && check_failed)
    exit_code = 1;
  return exit_code;
}
