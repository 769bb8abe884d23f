/**
 * SECTION:msgtk-terminal
 * @title: Text for terminals
 * @short_description: what a message says, shown without letting it steer
 *   the terminal
 *
 * A message, a server's reply or a file name may hold ESC, BEL, CR or C1
 * control characters: written to a terminal they clear the screen, set its
 * title or hide what came before. Human-readable output goes through
 * msgtk_terminal_text() first.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/**
 * msgtk_terminal_text:
 * @text: text, UTF-8 as far as it is valid
 * @len: its length in bytes, or -1 when NUL-terminated
 * @keep_newlines: keep line feeds (for a view of several lines)
 *
 * @text with every character a terminal would obey replaced by '?': the C0
 * controls but TAB (and LF, with @keep_newlines; CR is replaced: it would
 * write over the line), DEL and the C1 controls (U+0080 to U+009F); bytes
 * that are not UTF-8 (and NUL bytes within @len) become U+FFFD.
 *
 * Returns: (transfer full): the text to show.
 */
char *msgtk_terminal_text (const char *text, gssize len, gboolean keep_newlines);

G_END_DECLS
