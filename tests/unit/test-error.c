#include <gio/gio.h>
#include <msgtk/msgtk.h>
#include <sysexits.h>

static void
test_msgtk_codes (void)
{
  g_autoptr (GError) e = g_error_new (MSGTK_ERROR, MSGTK_ERROR_DATA, "bad");
  g_assert_cmpint (msgtk_error_exit_code (e), ==, EX_DATAERR);
  g_assert_cmpint (msgtk_error_code_to_exit (MSGTK_ERROR_TEMP_FAIL), ==, EX_TEMPFAIL);
  g_assert_cmpint (msgtk_error_code_to_exit (MSGTK_ERROR_NO_PERM), ==, EX_NOPERM);
  g_assert_cmpint (msgtk_error_code_to_exit (MSGTK_ERROR_CONFIG), ==, EX_CONFIG);
  g_assert_cmpint (msgtk_error_code_to_exit (MSGTK_ERROR_FAILED), ==, EX_SOFTWARE);
  g_assert_cmpint (msgtk_error_exit_code (NULL), ==, EX_OK);
}

static void
test_foreign_domains (void)
{
  g_autoptr (GError) nf = g_error_new (G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "x");
  g_autoptr (GError) to = g_error_new (G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "x");
  g_autoptr (GError) fe = g_error_new (G_FILE_ERROR, G_FILE_ERROR_NOENT, "x");
  g_autoptr (GError) re = g_error_new (G_RESOLVER_ERROR, G_RESOLVER_ERROR_NOT_FOUND, "x");
  g_autoptr (GError) ke = g_error_new (G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_PARSE, "x");
  g_assert_cmpint (msgtk_error_exit_code (nf), ==, EX_NOINPUT);
  g_assert_cmpint (msgtk_error_exit_code (to), ==, EX_TEMPFAIL);
  g_assert_cmpint (msgtk_error_exit_code (fe), ==, EX_NOINPUT);
  g_assert_cmpint (msgtk_error_exit_code (re), ==, EX_NOHOST);
  g_assert_cmpint (msgtk_error_exit_code (ke), ==, EX_CONFIG);
}

static void
test_hints (void)
{
  g_autoptr (GError) e = g_error_new (MSGTK_ERROR, MSGTK_ERROR_CANT_CREATE, "no such mailbox");
  g_assert_cmpint (msgtk_error_get_hint (e), ==, MSGTK_ERROR_HINT_NONE);
  msgtk_error_set_hint (e, MSGTK_ERROR_HINT_CREATE_MAILBOX);
  g_assert_cmpint (msgtk_error_get_hint (e), ==, MSGTK_ERROR_HINT_CREATE_MAILBOX);
  /* copies and prefixes keep it */
  g_autoptr (GError) copy = g_error_copy (e);
  g_prefix_error (&copy, "upload: ");
  g_assert_cmpint (msgtk_error_get_hint (copy), ==, MSGTK_ERROR_HINT_CREATE_MAILBOX);
  g_assert_cmpstr (copy->message, ==, "upload: no such mailbox");
  g_assert_cmpint (msgtk_error_exit_code (copy), ==, EX_CANTCREAT);
  /* other domains carry none */
  g_autoptr (GError) io = g_error_new (G_IO_ERROR, G_IO_ERROR_FAILED, "x");
  msgtk_error_set_hint (io, MSGTK_ERROR_HINT_CREATE_MAILBOX);
  g_assert_cmpint (msgtk_error_get_hint (io), ==, MSGTK_ERROR_HINT_NONE);
  g_assert_cmpint (msgtk_error_get_hint (NULL), ==, MSGTK_ERROR_HINT_NONE);
}

static void
test_init (void)
{
  msgtk_init ();
  msgtk_init ();
  g_assert_cmpstr (msgtk_version (), !=, "");
}

static void
test_names (void)
{
  g_assert_cmpstr (msgtk_exit_code_name (EX_DATAERR), ==, "EX_DATAERR");
  g_assert_cmpstr (msgtk_exit_code_name (EX_OK), ==, "EX_OK");
  g_assert_cmpstr (msgtk_exit_code_name (12345), ==, "EX_UNKNOWN");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/error/msgtk-codes", test_msgtk_codes);
  g_test_add_func ("/error/foreign-domains", test_foreign_domains);
  g_test_add_func ("/error/names", test_names);
  g_test_add_func ("/error/hints", test_hints);
  g_test_add_func ("/error/init", test_init);
  return g_test_run ();
}
