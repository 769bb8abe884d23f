/**
 * SECTION:msgtk-encode
 * @title: Header encoding
 * @short_description: header values encoded for the wire (RFC 2047 encoded
 *   words, folding at 78 columns)
 *
 * Plain UTF-8 header values made into what may go on the wire: ASCII words
 * as they are, other runs as RFC 2047 encoded words in the smallest charset
 * that holds them, folded at 78 columns.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/**
 * msgtk_encode_header:
 * @field: the field name (its length counts on the first line)
 * @text: the value, plain UTF-8 on one line
 * @charset: (nullable): the charset of encoded words; %NULL: the smallest
 *   that holds each run of text
 * @error: return location for an error
 *
 * Encodes @text as the unstructured value of field @field: ASCII words as
 * they are, runs of other words as encoded words of at most 75 characters,
 * folded into lines of at most 78.
 *
 * Returns: (transfer full): the folded value (without "Field: "), or %NULL
 *   with %MSGTK_ERROR_DATA when @text holds a line break or is not UTF-8,
 *   or when @charset is unknown or cannot hold the text.
 */
char *msgtk_encode_header (const char *field, const char *text, const char *charset,
                           GError **error);

G_END_DECLS
