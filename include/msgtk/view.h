/**
 * SECTION:msgtk-view
 * @title: Views
 * @short_description: header fields, MIME tree, readable text and part
 *   content of an inspected message
 *
 * The views of a #MsgtkInspection that msgparse(1) prints: its header fields
 * (decoded or as sent), its MIME tree with part numbers, its readable text,
 * and the decoded content of one part. All text is valid UTF-8.
 */
#pragma once

#include <msgtk/inspect.h>

G_BEGIN_DECLS

/**
 * msgtk_inspection_headers:
 * @inspection: an inspection
 * @raw: %FALSE: each value decoded to UTF-8 and unfolded; %TRUE: as sent
 *   (folding kept, 8-bit bytes made valid UTF-8 through the fallback
 *   charsets)
 *
 * All header fields of the message, in their order.
 *
 * Returns: (transfer full): the fields, "Name: value\n" each.
 */
char *msgtk_inspection_headers (MsgtkInspection *inspection, gboolean raw);

/**
 * msgtk_inspection_tree:
 * @inspection: an inspection
 *
 * The MIME tree, one part per line, indented by depth: its number and
 * content type, then its charset, transfer encoding, decoded size (leaves),
 * disposition and file name where it has them. Part numbers: the top part
 * is 1, the children of part N are N.1, N.2, …; an attached message/rfc822
 * part N has its message's top part as N.1.
 *
 * Returns: (transfer full): the tree, each line ending in "\n".
 */
char *msgtk_inspection_tree (MsgtkInspection *inspection);

/**
 * msgtk_inspection_text:
 * @inspection: an inspection
 *
 * The readable body as UTF-8: the first text/plain part that is not an
 * attachment, else the first text/html part rendered as plain text (tags
 * dropped, block ends as line breaks, entities decoded).
 *
 * Returns: (transfer full): the text; "" when the message has neither.
 */
char *msgtk_inspection_text (MsgtkInspection *inspection);

/**
 * msgtk_inspection_part_content:
 * @inspection: an inspection
 * @number: a part number, as msgtk_inspection_tree() shows them ("1.2")
 * @to_utf8: convert a text part to UTF-8 from its charset
 * @error: return location for an error
 *
 * The decoded content of part @number (its transfer encoding undone).
 *
 * Returns: (transfer full): the content, or %NULL with %MSGTK_ERROR_USAGE
 *   (hint %MSGTK_ERROR_HINT_LIST_PARTS) when the message has no leaf part
 *   @number.
 */
GBytes *msgtk_inspection_part_content (MsgtkInspection *inspection, const char *number,
                                       gboolean to_utf8, GError **error);

G_END_DECLS
