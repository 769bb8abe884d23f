/**
 * SECTION:msgtk-inspect
 * @title: Inspection
 * @short_description: a message parsed into its parts, with the findings of
 *   the parse
 *
 * A #MsgtkInspection is one message parsed (by GMime) into its header fields
 * and MIME parts, with the defects the parser found; the views of it are
 * view.h's, json.h's, summary.h's, extract.h's and lint.h's.
 *
 * Everything returned as text is valid UTF-8: declared charsets are
 * converted through GMime's iconv wrappers, unknown or lying ones fall back
 * through a list (default UTF-8, then windows-1252), and bytes nothing can
 * decode are replaced with U+FFFD and recorded as a defect.
 */
#pragma once

#include <gio/gio.h>
#include <msgtk/charset.h>

G_BEGIN_DECLS

/**
 * MsgtkSeverity:
 * @MSGTK_SEVERITY_INFO: for information, the lowest
 * @MSGTK_SEVERITY_WARNING: a warning
 * @MSGTK_SEVERITY_ERROR: an error, the highest
 *
 * How much a finding matters; the values are in increasing order.
 */
typedef enum {
  MSGTK_SEVERITY_INFO,
  MSGTK_SEVERITY_WARNING,
  MSGTK_SEVERITY_ERROR,
} MsgtkSeverity;

/**
 * msgtk_severity_name:
 * @severity: a severity
 *
 * The name of a severity.
 *
 * Returns: (transfer none): its name: "info", "warning" or "error".
 */
const char *msgtk_severity_name (MsgtkSeverity severity);

/**
 * msgtk_severity_from_name:
 * @name: "info", "warning" or "error", in any case
 * @severity: (out): set to the severity of that name
 *
 * The severity of a name, the reverse of msgtk_severity_name().
 *
 * Returns: %FALSE (and @severity untouched) for an unknown name.
 */
gboolean msgtk_severity_from_name (const char *name, MsgtkSeverity *severity);

/**
 * MsgtkFinding:
 * @code: the stable code ("MISSING_FROM", documented in msgparse(1) and
 *   listed by msgtk_lint_codes())
 * @severity: how much it matters
 * @location: where it is: "header Subject", "line 12", "part 1.2", "offset 120"
 * @message: what, in words
 *
 * One defect or lint finding. All strings are valid UTF-8.
 */
typedef struct {
  char *code;
  MsgtkSeverity severity;
  char *location;
  char *message;
} MsgtkFinding;

/**
 * MsgtkInspectOptions:
 * @fallback_charsets: (nullable) (array zero-terminated=1): charsets to try,
 *   in order, for undeclared 8-bit text and where the declared charset is
 *   unknown or wrong; %NULL: UTF-8, then windows-1252. The array is not
 *   copied: it must outlive the inspections made with it
 * @max_headers: header fields per header block; 0: 1000
 * @max_line: the longest line accepted without a limit defect; 0: 65536
 *
 * How messages are parsed; all zero: the defaults.
 */
typedef struct {
  const char *const *fallback_charsets;
  guint max_headers;
  guint max_line;
} MsgtkInspectOptions;

/**
 * MsgtkInspectFlags:
 * @MSGTK_INSPECT_FULL: parse everything
 * @MSGTK_INSPECT_HEADERS_ONLY: parse only the top header block
 * @MSGTK_INSPECT_SUMMARY: parse only the header fields the summary shows
 *   (fastest; for msgtk_inspection_summary() only)
 * @MSGTK_INSPECT_STRUCTURE: parse the MIME structure, not the message's own
 *   fields (faster): for the header fields, tree, text, part content and
 *   extraction, not for the summary, JSON or lint
 *
 * How much of a message an inspection parses.
 */
typedef enum {
  MSGTK_INSPECT_FULL = 0,
  MSGTK_INSPECT_HEADERS_ONLY = 1 << 0,
  MSGTK_INSPECT_SUMMARY = 1 << 1,
  MSGTK_INSPECT_STRUCTURE = 1 << 2,
} MsgtkInspectFlags;

/**
 * MsgtkInspection:
 *
 * A parsed message. Opaque; made with msgtk_inspection_new(), freed with
 * msgtk_inspection_free().
 */
typedef struct _MsgtkInspection MsgtkInspection;

/**
 * msgtk_inspection_new:
 * @raw: one message's bytes (a reference is kept; GMime reads them in place)
 * @options: (nullable): how to parse; %NULL: the defaults
 * @flags: how much to parse
 * @error: return location for an error
 *
 * Parses @raw.
 *
 * Returns: (transfer full): the inspection, or %NULL with %MSGTK_ERROR_DATA
 *   when the data holds no header field at all (it is not a message).
 */
MsgtkInspection *msgtk_inspection_new (GBytes *raw, const MsgtkInspectOptions *options,
                                       MsgtkInspectFlags flags, GError **error);

/**
 * msgtk_inspection_new_for_headers:
 * @header_block: the header block of a message (an item of a headers-only
 *   source, msgtk_source_set_headers_only()), or the whole message
 * @message_size: the size of the whole message, which the summary and errors
 *   show
 * @options: (nullable): how to parse; %NULL: the defaults
 * @flags: how much to parse
 * @error: return location for an error
 *
 * msgtk_inspection_new() for a message of which only the header block is at
 * hand.
 *
 * Returns: (transfer full): the inspection, or %NULL with %MSGTK_ERROR_DATA
 *   when the data holds no header field at all.
 */
MsgtkInspection *msgtk_inspection_new_for_headers (GBytes *header_block, goffset message_size,
                                                   const MsgtkInspectOptions *options,
                                                   MsgtkInspectFlags flags, GError **error);

/**
 * msgtk_inspection_free:
 * @inspection: (nullable) (transfer full): an inspection
 *
 * Frees @inspection and its reference to the message's bytes.
 */
void msgtk_inspection_free (MsgtkInspection *inspection);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MsgtkInspection, msgtk_inspection_free)

/**
 * msgtk_inspection_defects:
 * @inspection: an inspection
 *
 * The parser's defects, including charset replacements and limits, in the
 * order they were found. Views that decode text (header fields, the
 * readable text) add the replacements they make.
 *
 * Returns: (transfer none) (element-type MsgtkFinding): the defects, owned by
 *   @inspection.
 */
const GPtrArray *msgtk_inspection_defects (MsgtkInspection *inspection);

G_END_DECLS
