/* msgtk — the summary line of a message (date, author, size, subject), from a
 * parsed inspection or straight from a header block. */
#pragma once

#include <msgtk/inspect.h>

G_BEGIN_DECLS

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

G_END_DECLS
