/* msgtk — text made safe to show on a terminal. */
#include <msgtk/terminal.h>

#include <string.h>

/* Whether @text (valid UTF-8) holds nothing a terminal would obey. */
static gboolean
harmless (const char *text, gsize len, gboolean keep_newlines)
{
  for (gsize i = 0; i < len; i++) {
    guchar c = (guchar)text[i];
    if ((c < 0x20 && c != '\t' && !(keep_newlines && c == '\n')) || c == 0x7f
        || (c == 0xc2 && i + 1 < len && (guchar)text[i + 1] < 0xa0))
      return FALSE;
  }
  return TRUE;
}

char *
msgtk_terminal_text (const char *text, gssize len, gboolean keep_newlines)
{
  gsize n = len < 0 ? strlen (text) : (gsize)len;
  /* most text: one look, one copy */
  if (g_utf8_validate_len (text, n, NULL) && harmless (text, n, keep_newlines))
    return g_strndup (text, n);
  char *valid = g_utf8_make_valid (text, len);
  /* what is replaced takes as many bytes as its '?', or more (C1: two) */
  char *w = valid;
  for (const char *p = valid; *p != '\0';) {
    gunichar c = g_utf8_get_char (p);
    const char *next = g_utf8_next_char (p);
    gboolean obeyed = (c < 0x20 && c != '\t' && !(keep_newlines && c == '\n')) || c == 0x7f
                      || (c >= 0x80 && c < 0xa0);
    if (obeyed) {
      *w++ = '?';
    } else {
      memmove (w, p, next - p);
      w += next - p;
    }
    p = next;
  }
  *w = '\0';
  return valid;
}
