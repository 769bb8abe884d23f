/* msgparse — inspect, validate, convert and take apart messages and archives. */
#include <msgtk/msgtk.h>

#include "cli.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <gmime/gmime.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

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

static int exit_code = EX_OK;
static gboolean check_failed;

static void
set_exit (int code)
{
  if (exit_code == EX_OK)
    exit_code = code;
}

static gboolean
selected_cb (guint index, gpointer data)
{
  return selected (index);
}

typedef struct {
  gboolean headings; /* several messages in a per-message text view */
} Output;

static gboolean
out (const void *data, gsize len)
{
  return len == 0 || fwrite (data, 1, len, stdout) == len;
}

static gboolean terminal; /* standard output is one */

/* Text for people: on a terminal, without the control characters it would
 * obey (--raw and the bytes of --part aside). */
static gboolean
out_text (const char *text)
{
  if (!terminal)
    return out (text, strlen (text));
  g_autofree char *shown = msgtk_terminal_text (text, -1, TRUE);
  return out (shown, strlen (shown));
}

/* Print one message's result in order; FALSE when standard output failed. */
static gboolean
print_result (const MsgtkScanResult *r, gpointer data)
{
  Output *o = data;
  if (cli_interrupt_signal ())
    return FALSE; /* nothing more */
  gboolean ok = TRUE;
  if (r->error == NULL && o->headings) {
    g_autofree char *h = g_strdup_printf ("==> %s <==\n", r->label);
    ok = out_text (h);
  }
  if (r->text != NULL) {
    g_autofree char *line
        = view == VIEW_SUMMARY ? g_strdup_printf ("%5u  %s\n", r->item->index, r->text) : NULL;
    gsize n = strlen (r->text);
    gboolean nl = view == VIEW_JSON || (view == VIEW_TEXT && n > 0 && r->text[n - 1] != '\n');
    /* JSON escapes what it holds; --raw is the way to the bytes */
    gboolean bytes = view == VIEW_JSON || (view == VIEW_HEADERS && opt.raw);
    ok = ok
         && (line    ? out_text (line)
             : bytes ? out (r->text, n)
                     : out_text (r->text))
         && (!nl || out ("\n", 1));
  }
  if (r->content != NULL) {
    gsize n;
    const char *d = g_bytes_get_data (r->content, &n);
    ok = ok && out (d, n);
  }
  for (guint i = 0; r->paths != NULL && r->paths[i] != NULL; i++) {
    g_autofree char *p = g_utf8_make_valid (r->paths[i], -1);
    ok = ok && out_text (p) && out ("\n", 1);
  }
  for (guint i = 0; r->findings != NULL && i < r->findings->len; i++) {
    MsgtkFinding *f = r->findings->pdata[i];
    g_autofree char *line
        = g_strdup_printf ("%s: %s %s %s: %s\n", r->label, msgtk_severity_name (f->severity),
                           f->code, f->location, f->message);
    ok = ok && out_text (line);
    if (!fail_never && f->severity >= fail_level)
      check_failed = TRUE;
  }
  if (r->error != NULL) {
    fflush (stdout);
    g_autoptr (GError) e = g_error_copy (r->error);
    if (r->item != NULL)
      g_prefix_error (&e, "%s: ", r->label);
    set_exit (cli_report_error (PROG, e));
  }
  return ok;
}

/* FALSE when the output failed and nothing more should be done. */
static gboolean
process_path (const char *path, guint jobs, gboolean many_paths)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MsgtkSource) source = msgtk_source_open (path, MSGTK_SOURCE_FORMAT_AUTO, &error);
  if (source == NULL) {
    set_exit (cli_report_error (PROG, error));
    return TRUE;
  }
  if (view == VIEW_CONVERT) {
    /* byte for byte, in order */
    for (;;) {
      g_clear_error (&error);
      g_autoptr (MsgtkItem) item = msgtk_source_next (source, &error);
      if (item == NULL && error == NULL)
        break;
      if (item == NULL) {
        set_exit (cli_report_error (PROG, error));
        MsgtkSourceFormat f = msgtk_source_get_format (source);
        if (f == MSGTK_SOURCE_FORMAT_MBOX || f == MSGTK_SOURCE_FORMAT_MESSAGE)
          break; /* a read error in a stream: nothing more can be read */
        continue;
      }
      if (selected (item->index) && !msgtk_sink_write_item (sink, item, &error)) {
        if (!cli_interrupt_signal ())
          set_exit (cli_report_error (PROG, error));
        return FALSE;
      }
    }
    return TRUE;
  }
  static const MsgtkScanView views[] = {
    [VIEW_SUMMARY] = MSGTK_SCAN_SUMMARY, [VIEW_HEADERS] = MSGTK_SCAN_HEADERS,
    [VIEW_TREE] = MSGTK_SCAN_TREE,       [VIEW_TEXT] = MSGTK_SCAN_TEXT,
    [VIEW_JSON] = MSGTK_SCAN_JSON,       [VIEW_PART] = MSGTK_SCAN_PART,
    [VIEW_EXTRACT] = MSGTK_SCAN_EXTRACT, [VIEW_CHECK] = MSGTK_SCAN_CHECK,
  };
  MsgtkScanOptions so = { .view = views[view],
                          .raw = opt.raw,
                          .part = opt.part,
                          .extract_dir = opt.extract,
                          .text_to_utf8 = opt.text_to_utf8,
                          .inspect = inspect_options,
                          .jobs = jobs,
                          .select = ranges != NULL ? selected_cb : NULL };
  gboolean archive = msgtk_source_get_format (source) != MSGTK_SOURCE_FORMAT_MESSAGE;
  Output o = { (archive || many_paths)
               && (view == VIEW_HEADERS || view == VIEW_TREE || view == VIEW_TEXT) };
  return msgtk_scan_source (source, &so, print_result, &o);
}

int
main (int argc, char **argv)
{
  terminal = isatty (1);
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
      ctx,
      "PATH is a message file, an mbox, a maildir or a directory tree of them in any layout "
      "(Thunderbird, Apple Mail, MH, ...; gzip, xz or zstd too), each file told by its content; "
      "none or \"-\" reads standard input.\nSee msgtk-archives(5) for the layouts, msgparse(1) "
      "for the JSON schema and the check codes.");
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
  msgtk_init ();
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

  if (view == VIEW_CONVERT && opt.to_mbox != NULL) {
    /* an mbox read and appended to at once would never end */
    GStatBuf out_st, in_st;
    for (int i = 1; i < argc && g_stat (opt.to_mbox, &out_st) == 0; i++)
      if (g_stat (argv[i], &in_st) == 0 && in_st.st_dev == out_st.st_dev
          && in_st.st_ino == out_st.st_ino) {
        g_set_error (&error, MSGTK_ERROR, MSGTK_ERROR_USAGE,
                     "'%s' is both an input and the --to-mbox output; convert into another file",
                     argv[i]);
        return cli_report_error (PROG, error);
      }
  }
  if (view == VIEW_CONVERT) {
    sink = opt.to_mbox      ? msgtk_sink_new (MSGTK_SINK_MBOX, opt.to_mbox, &error)
           : opt.to_maildir ? msgtk_sink_new (MSGTK_SINK_MAILDIR, opt.to_maildir, &error)
                            : msgtk_sink_new (MSGTK_SINK_DIR, opt.to_dir, &error);
    if (sink == NULL)
      return cli_report_error (PROG, error);
    msgtk_sink_set_eol (sink, opt.crlf ? MSGTK_EOL_CRLF : opt.lf ? MSGTK_EOL_LF : MSGTK_EOL_KEEP);
  }
  guint threads = opt.jobs > 0 ? (guint)opt.jobs : 0;
  gboolean output_ok = TRUE;
  cli_catch_interrupts ();
  if (argc < 2)
    output_ok = process_path ("-", threads, FALSE);
  for (int i = 1; i < argc && output_ok; i++)
    output_ok = process_path (argv[i], threads, argc > 2);
  int sig = cli_interrupt_signal ();
  if (sig != 0) {
    /* what was converted goes: the output is complete or absent */
    if (sink != NULL) {
      msgtk_sink_abort (sink);
      fprintf (stderr, "%s: interrupted; '%s' is as it was before\n", PROG,
               opt.to_mbox      ? opt.to_mbox
               : opt.to_maildir ? opt.to_maildir
                                : opt.to_dir);
      msgtk_sink_free (sink);
    } else {
      fprintf (stderr, "%s: interrupted\n", PROG);
    }
    return 128 + sig;
  }
  if (fflush (stdout) != 0 || ferror (stdout) || (view != VIEW_CONVERT && !output_ok)) {
    g_set_error (&error, MSGTK_ERROR, MSGTK_ERROR_IO, "cannot write to standard output: %s",
                 g_strerror (errno ? errno : EIO));
    set_exit (cli_report_error (PROG, error));
    g_clear_error (&error);
  }
  if (sink != NULL) {
    /* the converted output is complete or absent */
    if (output_ok && !msgtk_sink_commit (sink, &error))
      set_exit (cli_report_error (PROG, error));
    msgtk_sink_free (sink);
  }
  if (ranges != NULL)
    g_array_unref (ranges);
  if (exit_code == EX_OK && check_failed)
    exit_code = 1;
  return exit_code;
}
