/**
 * SECTION:msgtk-charset
 * @title: Charsets
 * @short_description: text in any charset mail uses, made UTF-8
 *
 * Text in a declared charset, or in none, decoded to valid UTF-8 through
 * GMime's iconv wrappers, with fallback charsets for undeclared or lying
 * text and U+FFFD for bytes nothing decodes.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/**
 * msgtk_charset_to_utf8:
 * @data: the bytes
 * @len: their length, or -1 when @data is NUL-terminated
 * @charset: (nullable): the charset they are declared in; %NULL: undeclared
 * @fallback_charsets: (nullable) (array zero-terminated=1): charsets to try,
 *   in order, when the declared one is unknown or does not decode the bytes;
 *   %NULL: UTF-8, then windows-1252
 * @replaced: (out) (optional): set to whether bytes had to be replaced
 *
 * Decodes @data as UTF-8 text: in the declared charset if it decodes every
 * byte, else in the first fallback that does, else as UTF-8 with each byte
 * that is not valid (and each NUL) replaced with U+FFFD. Converters are kept
 * open per thread (opening one loads an iconv module, which costs more than
 * converting a message).
 *
 * Returns: (transfer full): valid UTF-8 text.
 */
char *msgtk_charset_to_utf8 (const char *data, gssize len, const char *charset,
                             const char *const *fallback_charsets, gboolean *replaced);

/**
 * msgtk_charset_is_known:
 * @charset: a charset name
 *
 * Whether @charset can be decoded.
 *
 * Returns: whether iconv (through GMime's charset names) can convert from
 *   @charset.
 */
gboolean msgtk_charset_is_known (const char *charset);

G_END_DECLS
