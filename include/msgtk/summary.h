/**
 * SECTION:msgtk-summary
 * @title: Summaries
 * @short_description: the summary line of a message (date, author, size,
 *   subject)
 *
 * The one line per message that msgparse(1) prints by default, from a parsed
 * inspection or straight from a header block: the header block of a plain
 * message need not be parsed into a message for it.
 */
#pragma once

#include <msgtk/inspect.h>

G_BEGIN_DECLS

/**
 * msgtk_inspection_summary:
 * @inspection: an inspection parsed with its message's own fields (not
 *   %MSGTK_INSPECT_STRUCTURE)
 *
 * The summary line of the message: its date ("YYYY-MM-DD HH:MM"), its first
 * author, "@" when it is multipart/mixed (has attachments), its size and its
 * subject, in aligned columns.
 *
 * Returns: (transfer full): the line, valid UTF-8, without a newline.
 */
char *msgtk_inspection_summary (MsgtkInspection *inspection);

/**
 * msgtk_inspect_summary:
 * @header_block: the header block of a message, or the whole message
 * @message_size: the size of the whole message
 * @options: (nullable): how to parse; %NULL: the defaults
 * @error: return location for an error
 *
 * The line msgtk_inspection_summary() gives, for a message of which
 * @header_block is the header block, without parsing it into a message when
 * its summary fields are plain: they are decoded by the GMime functions the
 * parsed message would use.
 *
 * Returns: (transfer full): the line, or %NULL with the errors of
 *   msgtk_inspection_new_for_headers() (%MSGTK_ERROR_DATA: not a message).
 */
char *msgtk_inspect_summary (GBytes *header_block, goffset message_size,
                             const MsgtkInspectOptions *options, GError **error);

G_END_DECLS
