/**
 * SECTION:msgtk-scan
 * @title: Scans
 * @short_description: every message of a source through one view, parsed on
 *   several threads
 *
 * A scan takes every message of a #MsgtkSource through one view (summary,
 * header fields, tree, text, JSON, a part, extraction or lint), parsing them
 * on several threads with bounded memory, and hands the results to the
 * caller in the order of the source.
 */
#pragma once

#include <msgtk/inspect.h>
#include <msgtk/source.h>

G_BEGIN_DECLS

/**
 * MsgtkScanView:
 * @MSGTK_SCAN_SUMMARY: the summary line (msgtk_inspect_summary())
 * @MSGTK_SCAN_HEADERS: the header fields (msgtk_inspection_headers())
 * @MSGTK_SCAN_TREE: the MIME tree (msgtk_inspection_tree())
 * @MSGTK_SCAN_TEXT: the readable text (msgtk_inspection_text())
 * @MSGTK_SCAN_JSON: the JSON object, with its "source" member
 * @MSGTK_SCAN_PART: the decoded content of one part
 * @MSGTK_SCAN_EXTRACT: the attachments written into a directory
 * @MSGTK_SCAN_CHECK: the lint findings (msgtk_inspection_check())
 *
 * The view a scan takes of each message.
 */
typedef enum {
  MSGTK_SCAN_SUMMARY,
  MSGTK_SCAN_HEADERS,
  MSGTK_SCAN_TREE,
  MSGTK_SCAN_TEXT,
  MSGTK_SCAN_JSON,
  MSGTK_SCAN_PART,
  MSGTK_SCAN_EXTRACT,
  MSGTK_SCAN_CHECK,
} MsgtkScanView;

/**
 * MsgtkScanOptions:
 * @view: the view
 * @raw: %MSGTK_SCAN_HEADERS: the fields as sent
 * @part: %MSGTK_SCAN_PART: the part number
 * @extract_dir: %MSGTK_SCAN_EXTRACT: where the attachments go
 * @text_to_utf8: %MSGTK_SCAN_PART, %MSGTK_SCAN_EXTRACT: text parts as UTF-8
 * @inspect: how messages are parsed
 * @jobs: threads to parse on; 0: one per core
 * @select: (nullable): which messages of the source (by their 1-based
 *   index) are scanned; %NULL: all
 * @select_data: for @select
 *
 * What a scan does.
 */
typedef struct {
  MsgtkScanView view;
  gboolean raw;
  const char *part;
  const char *extract_dir;
  gboolean text_to_utf8;
  MsgtkInspectOptions inspect;
  guint jobs;
  gboolean (*select) (guint index, gpointer data);
  gpointer select_data;
} MsgtkScanOptions;

/**
 * MsgtkScanResult:
 * @item: (nullable): the message's item; %NULL for an entry of the source
 *   that could not be read at all (then @error says why)
 * @label: the message as reports name it ("path", or "path#index" in an
 *   archive), valid UTF-8
 * @text: (nullable): the view as text (the summary line, header fields,
 *   tree, readable text, or the JSON object on one line)
 * @content: (nullable): %MSGTK_SCAN_PART: the part's content
 * @paths: (nullable): %MSGTK_SCAN_EXTRACT: the files written
 * @findings: (nullable) (element-type MsgtkFinding): %MSGTK_SCAN_CHECK
 * @error: (nullable): why the message could not be read or viewed
 *
 * One message's result; valid during the callback only.
 */
typedef struct {
  const MsgtkItem *item;
  const char *label;
  const char *text;
  GBytes *content;
  char **paths;
  GPtrArray *findings;
  const GError *error;
} MsgtkScanResult;

/**
 * MsgtkScanFunc:
 * @result: one message's result
 * @data: the caller's
 *
 * Takes one message's result of msgtk_scan_source().
 *
 * Returns: %FALSE to stop the scan (e.g. the output failed).
 */
typedef gboolean (*MsgtkScanFunc) (const MsgtkScanResult *result, gpointer data);

/**
 * msgtk_scan_source:
 * @source: the messages
 * @options: the view and how to run it
 * @func: (scope call): called for every message, in the order of @source, on
 *   the calling thread
 * @data: (closure func): for @func
 *
 * Takes @view of every selected message of @source, parsing up to @jobs
 * messages at once with bounded memory. A message that cannot be read or
 * viewed gets a result with its error; in an mbox or a stream, which cannot
 * be read past a read error, that is the last result. Extracted files are
 * created in the order of the messages, so that the names they get ("name
 * (1).pdf") do not depend on thread timing.
 *
 * Returns: %FALSE when @func stopped the scan.
 */
gboolean msgtk_scan_source (MsgtkSource *source, const MsgtkScanOptions *options,
                            MsgtkScanFunc func, gpointer data);

G_END_DECLS
