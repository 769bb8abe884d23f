/* Unit tests of text for terminals: what a terminal would obey replaced,
 * the rest kept. */
#include <msgtk/msgtk.h>

static void
expect (const char *in, gssize len, gboolean keep_newlines, const char *want)
{
  g_autofree char *got = msgtk_terminal_text (in, len, keep_newlines);
  g_assert_cmpstr (got, ==, want);
}

static void
test_controls (void)
{
  /* ESC sequences (clear the screen, set the title), BEL, CR, DEL */
  expect ("a\x1b[2Jb", -1, FALSE, "a?[2Jb");
  expect ("\x1b]0;owned\x07title", -1, FALSE, "?]0;owned?title");
  expect ("safe\rfake", -1, FALSE, "safe?fake");
  expect ("del\x7f", -1, FALSE, "del?");
  /* C1 controls as UTF-8 (U+009B is CSI on some terminals) */
  expect ("x\xc2\x9b"
          "31my",
          -1, FALSE, "x?31my");
  /* tabs stay; line feeds only when asked */
  expect ("a\tb\nc", -1, FALSE, "a\tb?c");
  expect ("a\tb\nc\r\n", -1, TRUE, "a\tb\nc?\n");
}

static void
test_kept (void)
{
  expect ("Grüße, Привет, 日本語 ✓", -1, FALSE, "Grüße, Привет, 日本語 ✓");
  expect ("", -1, FALSE, "");
  /* U+00A0 and above are text, not controls */
  expect ("a\xc2\xa0"
          "b",
          -1, FALSE,
          "a\xc2\xa0"
          "b");
}

static void
test_invalid (void)
{
  /* bytes that are not UTF-8: U+FFFD; a length that cuts inside the text */
  expect ("caf\xe9", -1, FALSE, "caf\xef\xbf\xbd");
  expect ("ab\x1b"
          "cd",
          3, FALSE, "ab?");
  /* a NUL inside the given length is not text either */
  expect ("a\0b", 3, FALSE,
          "a\xef\xbf\xbd"
          "b");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/terminal/controls", test_controls);
  g_test_add_func ("/terminal/kept", test_kept);
  g_test_add_func ("/terminal/invalid", test_invalid);
  return g_test_run ();
}
