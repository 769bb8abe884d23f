/* A program that never calls g_mime_init() nor msgtk_init(): every entry
 * point that needs GMime initialises it (each case runs in a fresh process,
 * so that no other case did it first). */
#include <msgtk/msgtk.h>
#include <string.h>

static const char message[]
    = "From: =?utf-8?q?Zo=C3=AB?= <z@example.org>\n"
      "To: b@example.org\nSubject: hi\nDate: Mon, 3 Jan 2005 04:05:06 +0000\n"
      "Content-Type: text/plain; charset=iso-8859-1\n\ncaf\xe9\n";

static void
inspect (void)
{
  g_autoptr (GBytes) raw = g_bytes_new_static (message, strlen (message));
  g_autoptr (MsgtkInspection) in = msgtk_inspection_new (raw, NULL, MSGTK_INSPECT_FULL, NULL);
  g_assert_nonnull (in);
  g_autofree char *text = msgtk_inspection_text (in);
  g_assert_cmpstr (text, ==, "café\n");
}

static void
summary (void)
{
  g_autoptr (GBytes) raw = g_bytes_new_static (message, strlen (message));
  g_autofree char *line = msgtk_inspect_summary (raw, 100, NULL, NULL);
  g_assert_nonnull (strstr (line, "Zoë"));
}

static void
draft (void)
{
  g_autoptr (MsgtkDraft) d = msgtk_draft_new ();
  g_assert_true (msgtk_draft_set (d, "from", "Zoë <z@example.org>", NULL));
  g_assert_true (msgtk_draft_set (d, "charset", "iso-8859-1", NULL));
  GMimeMessage *m = msgtk_draft_build (d, NULL);
  g_assert_nonnull (m);
  g_object_unref (m);
}

static void
envelope (void)
{
  g_autoptr (GBytes) raw = g_bytes_new_static (message, strlen (message));
  g_autofree char *sender = NULL;
  g_autoptr (GPtrArray) rcpts = g_ptr_array_new_with_free_func (g_free);
  g_assert_true (msgtk_message_envelope (raw, &sender, rcpts, NULL));
  g_assert_cmpstr (sender, ==, "z@example.org");
  g_autoptr (GDateTime) date = msgtk_message_get_date (raw);
  g_assert_nonnull (date);
}

static void
charset (void)
{
  g_autofree char *s = msgtk_charset_to_utf8 ("caf\xe9", -1, "latin1", NULL, NULL);
  g_assert_cmpstr (s, ==, "café");
  g_autofree char *h = msgtk_encode_header ("Subject", "café", NULL, NULL);
  g_assert_nonnull (h);
}

static void
run_alone (gconstpointer data)
{
  if (g_test_subprocess ()) {
    ((void (*) (void))data) ();
    return;
  }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_data_func ("/init/inspect", inspect, run_alone);
  g_test_add_data_func ("/init/summary", summary, run_alone);
  g_test_add_data_func ("/init/draft", draft, run_alone);
  g_test_add_data_func ("/init/envelope", envelope, run_alone);
  g_test_add_data_func ("/init/charset", charset, run_alone);
  return g_test_run ();
}
