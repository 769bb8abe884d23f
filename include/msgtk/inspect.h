/* msgtk — inspect: a message parsed into its parts, with the findings of the
 * parse; the views of it are view.h's, json.h's, summary.h's, extract.h's
 * and lint.h's.
 *
 * Parsing is GMime's. Everything returned as text is valid UTF-8: declared
 * charsets are converted through GMime's iconv wrappers, unknown or lying
 * ones fall back through a list (default UTF-8, then windows-1252), and bytes
 * nothing can decode are replaced with U+FFFD and recorded as a defect. */
#pragma once

#include <gio/gio.h>
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

/* Parser defects (including charset replacements and limits), in order. */
const GPtrArray *msgtk_inspection_defects (MsgtkInspection *inspection);

G_END_DECLS
