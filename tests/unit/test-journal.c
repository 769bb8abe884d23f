/* Unit tests of the resume journal: records, torn lines, messages in flight. */
#include <glib/gstdio.h>
#include <msgtk/msgtk.h>
#include <stdio.h>

static void
test_journal (void)
{
  g_autofree char *dir = g_dir_make_tmp ("msgtk-journal-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "sub", "journal", NULL);
  g_autoptr (GBytes) d1 = g_bytes_new_static ("one", 3);
  g_autoptr (GBytes) d2 = g_bytes_new_static ("two", 3);
  g_autofree char *k1 = msgtk_journal_key ("file:/a\tb", "INBOX", d1);
  g_autofree char *k2 = msgtk_journal_key ("file:/c", "INBOX", d2);
  g_autofree char *k3 = msgtk_journal_key ("file:/c", "Other", d2);
  g_assert_cmpstr (k2, !=, k3);
  g_autoptr (GError) error = NULL;
  {
    g_autoptr (MsgtkJournal) j = msgtk_journal_open (path, &error);
    g_assert_no_error (error);
    g_assert_true (msgtk_journal_record (j, k1, 5, 17, &error));
    g_assert_true (msgtk_journal_sync (j, &error));
  }
  /* a torn line, as left by kill -9 in the middle of a write */
  FILE *f = fopen (path, "a");
  fputs (k2, f);
  fputs ("\t5", f);
  fclose (f);
  {
    g_autoptr (MsgtkJournal) j = msgtk_journal_open (path, &error);
    g_assert_no_error (error);
    g_assert_true (msgtk_journal_contains (j, k1));
    g_assert_false (msgtk_journal_contains (j, k2));
    g_assert_cmpuint (msgtk_journal_size (j), ==, 1);
    g_assert_true (msgtk_journal_record (j, k2, 5, 18, &error));
  }
  {
    g_autoptr (MsgtkJournal) j = msgtk_journal_open (path, &error);
    g_assert_true (msgtk_journal_contains (j, k1));
    g_assert_true (msgtk_journal_contains (j, k2));
    g_assert_false (msgtk_journal_contains (j, k3));
    /* sent, outcome unknown */
    g_assert_true (msgtk_journal_record_pending (j, k3, &error));
  }
  {
    g_autoptr (MsgtkJournal) j = msgtk_journal_open (path, &error);
    g_assert_true (msgtk_journal_is_pending (j, k3));
    g_assert_false (msgtk_journal_contains (j, k3));
    g_assert_false (msgtk_journal_is_pending (j, k1));
    g_assert_cmpuint (msgtk_journal_pending_count (j), ==, 1);
    g_assert_true (msgtk_journal_record (j, k3, 5, 19, &error));
  }
  {
    g_autoptr (MsgtkJournal) j = msgtk_journal_open (path, &error);
    g_assert_false (msgtk_journal_is_pending (j, k3));
    g_assert_true (msgtk_journal_contains (j, k3));
  }
  g_autofree char *contents = NULL;
  g_assert_true (g_file_get_contents (path, &contents, NULL, NULL));
  g_assert_true (g_str_has_suffix (contents, "\t5\t19\n"));
  g_remove (path);
  g_autofree char *sub = g_path_get_dirname (path);
  g_rmdir (sub);
  g_rmdir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/journal/records", test_journal);
  return g_test_run ();
}
