/**
 * SECTION:msgtk-extract
 * @title: Extraction
 * @short_description: attachments written into a directory under safe,
 *   unique names
 *
 * Takes the attachments out of an inspected message: every part but the
 * readable body is written into a directory, under a name that is safe in
 * any directory and never overwrites a file that is there.
 */
#pragma once

#include <msgtk/inspect.h>

G_BEGIN_DECLS

/**
 * msgtk_inspection_extract:
 * @inspection: an inspection
 * @dir: the directory (created when missing)
 * @to_utf8: convert text parts to UTF-8 from their charsets
 * @error: return location for an error
 *
 * Writes every attachment (every leaf part but the readable body that
 * msgtk_inspection_text() shows) into @dir under a safe, unique name
 * (msgtk_inspect_safe_name(), never overwriting: "name (1).pdf", "name
 * (2).pdf", ... however many there are). On a failure none of the files
 * stays: neither those written before it nor one cut short.
 *
 * Returns: (transfer full) (array zero-terminated=1): the paths written, in
 *   the order of the parts; or %NULL with %MSGTK_ERROR_CANT_CREATE when @dir
 *   or a file cannot be created, or with %MSGTK_ERROR_IO when a file cannot
 *   be written.
 */
char **msgtk_inspection_extract (MsgtkInspection *inspection, const char *dir, gboolean to_utf8,
                                 GError **error);

/**
 * msgtk_inspect_safe_name:
 * @name: (nullable): a file name as a message gives it
 * @mime_type: (nullable): the part's content type, for the extension of a
 *   name made up (".bin" when it is %NULL or not a known type)
 * @number: (nullable): the part's number, for a name made up; %NULL: "1"
 *
 * A file name that is safe in any directory: no path separators, no "..",
 * no control characters, not a reserved device name, at most 200 bytes (the
 * extension kept), valid UTF-8. For a %NULL @name, or one with nothing left
 * once made safe, a name is made from @mime_type and @number
 * ("part-1.2.pdf").
 *
 * Returns: (transfer full): the name.
 */
char *msgtk_inspect_safe_name (const char *name, const char *mime_type, const char *number);

G_END_DECLS
