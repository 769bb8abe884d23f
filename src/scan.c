/* msgtk — scans: a source's messages through a view, in parallel and in order. */
#include <msgtk/json.h>
#include <msgtk/lint.h>
#include <msgtk/scan.h>
#include <msgtk/summary.h>
#include <msgtk/view.h>

#include "extract-private.h"
#include "jobs-private.h"

/* Messages go to the workers in batches: one hand-over per batch, not per
 * message, which matters for small messages and the summary. */
#define BATCH_MESSAGES 64
#define BATCH_BYTES (256 * 1024)
#define INFLIGHT_BYTES (16 * 1024 * 1024)

typedef struct {
  MsgtkItem *item; /* NULL: the entry could not be read */
  GBytes *raw;
  char *label;
  char *text;
  GBytes *content;
  ExtractPlan *plan;
  char **paths;
  GPtrArray *findings;
  GError *error;
} Job;

typedef struct {
  GPtrArray *jobs; /* Job*, in order */
  gsize bytes;
} Batch;

typedef struct {
  const MsgtkScanOptions *o;
  MsgtkScanFunc func;
  gpointer data;
  gboolean stopped;
  ExtractNames *names; /* extraction: the names given out */
} Scan;

static void
job_free (Job *j)
{
  msgtk_item_free (j->item);
  g_clear_pointer (&j->raw, g_bytes_unref);
  g_free (j->label);
  g_free (j->text);
  g_clear_pointer (&j->content, g_bytes_unref);
  extract_plan_free (j->plan);
  g_strfreev (j->paths);
  g_clear_pointer (&j->findings, g_ptr_array_unref);
  g_clear_error (&j->error);
  g_free (j);
}

static void
view_job (const MsgtkScanOptions *o, Job *j)
{
  if (o->view == MSGTK_SCAN_SUMMARY) {
    j->text = msgtk_inspect_summary (j->raw, j->item->size, &o->inspect, &j->error);
    return;
  }
  /* only JSON and lint need the message's own fields decoded */
  MsgtkInspectFlags flags = o->view == MSGTK_SCAN_JSON || o->view == MSGTK_SCAN_CHECK
                                ? MSGTK_INSPECT_FULL
                                : MSGTK_INSPECT_STRUCTURE;
  g_autoptr (MsgtkInspection) in
      = msgtk_inspection_new_for_headers (j->raw, j->item->size, &o->inspect, flags, &j->error);
  if (in == NULL)
    return;
  switch (o->view) {
  case MSGTK_SCAN_HEADERS: j->text = msgtk_inspection_headers (in, o->raw); break;
  case MSGTK_SCAN_TREE: j->text = msgtk_inspection_tree (in); break;
  case MSGTK_SCAN_TEXT: j->text = msgtk_inspection_text (in); break;
  case MSGTK_SCAN_JSON: {
    g_autoptr (JsonNode) node = msgtk_inspection_to_json (in);
    msgtk_json_add_source (node, j->item);
    j->text = json_to_string (node, FALSE);
    break;
  }
  case MSGTK_SCAN_PART:
    j->content = msgtk_inspection_part_content (in, o->part, o->text_to_utf8, &j->error);
    break;
  case MSGTK_SCAN_EXTRACT: j->plan = extract_plan (in, o->text_to_utf8, &j->error); break;
  case MSGTK_SCAN_CHECK: j->findings = msgtk_inspection_check (in); break;
  case MSGTK_SCAN_SUMMARY:
  default: g_assert_not_reached ();
  }
}

static void
work (gpointer job, gpointer worker, gpointer data)
{
  Scan *scan = data;
  Batch *b = job;
  for (guint i = 0; i < b->jobs->len; i++) {
    Job *j = b->jobs->pdata[i];
    if (j->item != NULL && j->error == NULL)
      view_job (scan->o, j);
  }
}

/* On the calling thread, in order: extraction's files, then the result. */
static void
finish (gpointer job, gpointer data)
{
  Scan *scan = data;
  Batch *b = job;
  for (guint i = 0; i < b->jobs->len; i++) {
    Job *j = b->jobs->pdata[i];
    if (j->plan != NULL)
      j->paths = extract_write (j->plan, scan->o->extract_dir, scan->names, &j->error);
    MsgtkScanResult r = { j->item, j->label, j->text, j->content, j->paths, j->findings, j->error };
    if (!scan->stopped && !scan->func (&r, scan->data))
      scan->stopped = TRUE;
    job_free (j);
  }
  g_ptr_array_unref (b->jobs);
  g_free (b);
}

gboolean
msgtk_scan_source (MsgtkSource *source, const MsgtkScanOptions *o, MsgtkScanFunc func,
                   gpointer data)
{
  Scan scan = { o, func, data, FALSE, extract_names_new () };
  guint threads = o->jobs ? o->jobs : g_get_num_processors ();
  JobsConfig c = { .threads = threads,
                   .window = threads * 8 + 8,
                   .max_bytes = INFLIGHT_BYTES,
                   .work = work,
                   .finish = finish,
                   .data = &scan };
  Jobs *jobs = jobs_new (&c);
  MsgtkSourceFormat format = msgtk_source_get_format (source);
  gboolean archive = format != MSGTK_SOURCE_FORMAT_MESSAGE;
  /* the summary needs only the header fields (and each message's size) */
  msgtk_source_set_headers_only (source, o->view == MSGTK_SCAN_SUMMARY);
  Batch *batch = NULL;
  while (!scan.stopped) {
    GError *error = NULL;
    MsgtkItem *item = msgtk_source_next (source, &error);
    if (item == NULL && error == NULL)
      break;
    if (item != NULL && o->select != NULL && !o->select (item->index, o->select_data)) {
      msgtk_item_free (item);
      continue;
    }
    Job *j = g_new0 (Job, 1);
    j->item = item;
    j->error = error;
    if (item != NULL) {
      /* valid UTF-8 like everything reported: paths may hold any bytes */
      g_autofree char *label
          = archive ? g_strdup_printf ("%s#%u", item->path, item->index) : g_strdup (item->path);
      j->label = g_utf8_make_valid (label, -1);
      j->raw = msgtk_item_read_bytes (item, &j->error);
    } else {
      j->label = g_utf8_make_valid (msgtk_source_get_path (source), -1);
    }
    if (batch == NULL) {
      batch = g_new0 (Batch, 1);
      batch->jobs = g_ptr_array_new ();
    }
    g_ptr_array_add (batch->jobs, j);
    gsize bytes = j->raw != NULL ? g_bytes_get_size (j->raw) : 0;
    batch->bytes += bytes;
    gboolean stop
        = item == NULL
          && (format == MSGTK_SOURCE_FORMAT_MBOX || format == MSGTK_SOURCE_FORMAT_MESSAGE);
    if (stop || batch->jobs->len >= BATCH_MESSAGES || batch->bytes >= BATCH_BYTES) {
      gsize b = batch->bytes;
      jobs_push (jobs, g_steal_pointer (&batch), b);
    }
    if (stop)
      break; /* a read error in a stream: nothing more can be read */
  }
  if (batch != NULL) {
    gsize b = batch->bytes;
    jobs_push (jobs, g_steal_pointer (&batch), b);
  }
  jobs_free (jobs);
  extract_names_free (scan.names);
  return !scan.stopped;
}
