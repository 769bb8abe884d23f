/* Unit tests of the spool: queued messages with their envelopes, private
 * files, oldest first. */
#include <glib/gstdio.h>
#include <msgtk/msgtk.h>
#include <string.h>

static GBytes *
bytes (const char *s)
{
  return g_bytes_new (s, strlen (s));
}

static GPtrArray *
strv_array (const char *first, ...)
{
  GPtrArray *a = g_ptr_array_new_with_free_func (g_free);
  va_list ap;
  va_start (ap, first);
  for (const char *s = first; s; s = va_arg (ap, const char *))
    g_ptr_array_add (a, g_strdup (s));
  va_end (ap);
  return a;
}

static void
assert_strv (GPtrArray *a, const char *const *expect)
{
  guint n = g_strv_length ((char **)expect);
  g_assert_cmpuint (a->len, ==, n);
  for (guint i = 0; i < n; i++)
    g_assert_cmpstr (g_ptr_array_index (a, i), ==, expect[i]);
}

static void
test_spool (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("msgtk-spool-XXXXXX", &error);
  g_assert_no_error (error);
  g_autofree char *spool = g_build_filename (dir, "queue", NULL);
  g_autoptr (GPtrArray) rcpts = strv_array ("b@example.net", "c;d@example.net", NULL);
  g_autoptr (GBytes) m1 = bytes ("Subject: one\n\nbody\n");
  g_autoptr (GBytes) m2 = bytes ("Subject: two\n\nbody\n");
  g_autofree char *n1 = NULL, *n2 = NULL;
  g_assert_true (msgtk_spool_put (spool, "a@example.org", rcpts, m1, "451 later", &n1, &error));
  g_assert_true (msgtk_spool_put (spool, "", rcpts, m2, NULL, &n2, &error));
  g_assert_no_error (error);
  g_autofree char *msgpath = g_build_filename (spool, "new", n1, NULL);
  GStatBuf st;
  g_assert_cmpint (g_stat (msgpath, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);

  g_autoptr (GPtrArray) names = msgtk_spool_list (spool, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (names->len, ==, 2);
  g_assert_cmpstr (g_ptr_array_index (names, 0), ==, n1); /* oldest first */
  g_assert_cmpstr (g_ptr_array_index (names, 1), ==, n2);

  g_autofree char *sender = NULL;
  g_autoptr (GPtrArray) got = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GBytes) back = NULL;
  g_assert_true (msgtk_spool_get (spool, n1, &sender, got, &back, &error));
  g_assert_cmpstr (sender, ==, "a@example.org");
  const char *const want[] = { "b@example.net", "c;d@example.net", NULL };
  assert_strv (got, want);
  g_assert_true (g_bytes_equal (back, m1));

  g_assert_true (msgtk_spool_remove (spool, n1, &error));
  g_autoptr (GPtrArray) left = msgtk_spool_list (spool, &error);
  g_assert_cmpuint (left->len, ==, 1);
  g_autofree char *envpath = g_build_filename (spool, "env", n1, NULL);
  g_assert_false (g_file_test (envpath, G_FILE_TEST_EXISTS));

  g_autoptr (GPtrArray) none = msgtk_spool_list (dir, &error); /* not a spool */
  g_assert_null (none);
  g_assert_error (error, MSGTK_ERROR, MSGTK_ERROR_NO_INPUT);
  g_clear_error (&error);

  g_assert_true (msgtk_spool_remove (spool, n2, &error));
  const char *subs[] = { "tmp", "new", "cur", "env" };
  for (guint i = 0; i < G_N_ELEMENTS (subs); i++) {
    g_autofree char *d = g_build_filename (spool, subs[i], NULL);
    g_assert_cmpint (g_rmdir (d), ==, 0);
  }
  g_assert_cmpint (g_rmdir (spool), ==, 0);
  g_assert_cmpint (g_rmdir (dir), ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/spool/put-list-get", test_spool);
  return g_test_run ();
}
