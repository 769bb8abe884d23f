/* msgtk — inspect: a message → summary, headers, MIME tree, text, JSON,
 * part extraction and lint findings.
 *
 * Parsing is GMime's. Everything returned as text is valid UTF-8: declared
 * charsets are converted through GMime's iconv wrappers, unknown or lying
 * ones fall back through a list (default UTF-8, then windows-1252), and bytes
 * nothing can decode are replaced with U+FFFD and recorded as a defect. */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <msgtk/charset.h>

G_BEGIN_DECLS

typedef enum {
  MSGTK_SEVERITY_INFO,
  MSGTK_SEVERITY_WARNING,
  MSGTK_SEVERITY_ERROR,
} MsgtkSeverity;

/* "info", "warning", "error"; and back (FALSE for an unknown name). */
const char *msgtk_severity_name (MsgtkSeverity severity);
gboolean msgtk_severity_from_name (const char *name, MsgtkSeverity *severity);

/**
 * MsgtkFinding:
 * One defect or lint finding. @code is stable (documented in msgparse(1)),
 * @location says where ("header Subject", "line 12", "part 1.2"), @message
 * says what, in words. All strings are valid UTF-8.
 */
typedef struct {
  char *code;
  MsgtkSeverity severity;
  char *location;
  char *message;
} MsgtkFinding;

typedef struct {
  /* charsets to try, in order, for undeclared 8-bit text and where the
   * declared charset is unknown or wrong; NULL: UTF-8, windows-1252 */
  const char *const *fallback_charsets;
  guint max_headers; /* header fields per header block; 0: 1000 */
  guint max_line;    /* longest line accepted without a limit defect; 0: 65536 */
} MsgtkInspectOptions;

typedef enum {
  MSGTK_INSPECT_FULL = 0,
  MSGTK_INSPECT_HEADERS_ONLY = 1 << 0, /* parse only the top header block */
  MSGTK_INSPECT_SUMMARY = 1 << 1,      /* parse only the header fields the summary shows
                                        * (fastest; for msgtk_inspection_summary() only) */
  MSGTK_INSPECT_STRUCTURE = 1 << 2,    /* parse the MIME structure, not the message's own
                                        * fields (faster): for the header fields, tree,
                                        * text, part content and extraction, not for the
                                        * summary, JSON or lint */
} MsgtkInspectFlags;

typedef struct _MsgtkInspection MsgtkInspection;

/* Parse @raw (one message's bytes). Data that holds no header field at all is
 * not a message: MSGTK_ERROR_DATA. @options may be NULL. */
MsgtkInspection *msgtk_inspection_new (GBytes *raw, const MsgtkInspectOptions *options,
                                       MsgtkInspectFlags flags, GError **error);
/* The same for a message of which @header_block is only the header block
 * (an item of a headers-only source, msgtk_source_set_headers_only()) and
 * @message_size the whole size, which the summary and errors show. */
MsgtkInspection *msgtk_inspection_new_for_headers (GBytes *header_block, goffset message_size,
                                                   const MsgtkInspectOptions *options,
                                                   MsgtkInspectFlags flags, GError **error);
void msgtk_inspection_free (MsgtkInspection *inspection);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MsgtkInspection, msgtk_inspection_free)

/* One line (no newline): date, from, subject, size, "@" when the message is
 * multipart/mixed (has attachments). */
char *msgtk_inspection_summary (MsgtkInspection *inspection);

/* The same line for a message of which @header_block is the header block (or
 * the whole message) and @message_size the whole size, without parsing it
 * into a message when its summary fields are plain: they are decoded by the
 * GMime functions the parsed message would use. Errors as
 * msgtk_inspection_new_for_headers(). */
char *msgtk_inspect_summary (GBytes *header_block, goffset message_size,
                             const MsgtkInspectOptions *options, GError **error);

/* All header fields, "Name: value\n" each; decoded to UTF-8 and unfolded, or
 * with @raw as sent (folding kept, 8-bit bytes made valid UTF-8). */
char *msgtk_inspection_headers (MsgtkInspection *inspection, gboolean raw);

/* The MIME tree, one part per line, indented by depth. Part numbers: the
 * top part is 1, the children of part N are N.1, N.2, …; an attached
 * message/rfc822 part N has its message's top part as N.1. */
char *msgtk_inspection_tree (MsgtkInspection *inspection);

/* The readable body as UTF-8: the first text/plain part that is not an
 * attachment, else the first text/html part rendered as plain text. */
char *msgtk_inspection_text (MsgtkInspection *inspection);

/* The JSON object described in msgparse(1) ("JSON SCHEMA"). */
JsonNode *msgtk_inspection_to_json (MsgtkInspection *inspection);

/* Decoded content of part @number (transfer encoding undone); with
 * @to_utf8, text parts are converted to UTF-8. Unknown number:
 * MSGTK_ERROR_USAGE. */
GBytes *msgtk_inspection_part_content (MsgtkInspection *inspection, const char *number,
                                       gboolean to_utf8, GError **error);

/* Write every attachment (every leaf part but the readable body) into
 * @dir under a safe, unique name (msgtk_inspect_safe_name(); never
 * overwriting: "name (1).pdf"). Returns the paths written (NULL-terminated). */
char **msgtk_inspection_extract (MsgtkInspection *inspection, const char *dir, gboolean to_utf8,
                                 GError **error);

/* Parser defects (including charset replacements and limits), in order. */
const GPtrArray *msgtk_inspection_defects (MsgtkInspection *inspection);

/* Lint: the defects plus RFC 5322/2045/2047/2231 checks; MsgtkFinding array
 * (owned by the caller). */
GPtrArray *msgtk_inspection_check (MsgtkInspection *inspection);

/* A file name that is safe in any directory: no path separators, no "..",
 * no control characters, not a reserved device name, at most 200 bytes (the
 * extension kept), valid UTF-8. A NULL or empty @name is made from
 * @mime_type and @number ("part-1.2.pdf"). */
char *msgtk_inspect_safe_name (const char *name, const char *mime_type, const char *number);

G_END_DECLS
