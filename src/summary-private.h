/* msgtk — the summary module's scan of header fields, for the inspection's
 * summary-only parse (MSGTK_INSPECT_SUMMARY). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The fields the summary shows (Date, From, Subject, Content-Type) of the
 * header block at @data as a header block of their own, then a blank line;
 * NULL when the block has none, too many, or a line that is not a field
 * (GMime then sees the block as it is). */
GByteArray *summary_header_subset (const char *data, gsize len);

G_END_DECLS
