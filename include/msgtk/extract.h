/* msgtk — attachments written into a directory under safe, unique names. */
#pragma once

#include <msgtk/inspect.h>

G_BEGIN_DECLS

/* Write every attachment (every leaf part but the readable body) into
 * @dir under a safe, unique name (msgtk_inspect_safe_name(); never
 * overwriting: "name (1).pdf"). Returns the paths written (NULL-terminated). */
char **msgtk_inspection_extract (MsgtkInspection *inspection, const char *dir, gboolean to_utf8,
                                 GError **error);

/* A file name that is safe in any directory: no path separators, no "..",
 * no control characters, not a reserved device name, at most 200 bytes (the
 * extension kept), valid UTF-8. A NULL or empty @name is made from
 * @mime_type and @number ("part-1.2.pdf"). */
char *msgtk_inspect_safe_name (const char *name, const char *mime_type, const char *number);

G_END_DECLS
