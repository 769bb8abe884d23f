/* msgtk — views of an inspected message: header fields, MIME tree, readable
 * text, the decoded content of a part. */
#pragma once

#include <msgtk/inspect.h>

G_BEGIN_DECLS

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

/* Decoded content of part @number (transfer encoding undone); with
 * @to_utf8, text parts are converted to UTF-8. Unknown number:
 * MSGTK_ERROR_USAGE. */
GBytes *msgtk_inspection_part_content (MsgtkInspection *inspection, const char *number,
                                       gboolean to_utf8, GError **error);

G_END_DECLS
