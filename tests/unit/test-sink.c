#include "gmime-autoptr-private.h"
#include <glib/gstdio.h>
#include <msgtk/msgtk.h>
#include <fcntl.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <utime.h>

static char *
tmpdir (void)
{
  GError *e = NULL;
  char *d = g_dir_make_tmp ("msgtk-sink-XXXXXX", &e);
  g_assert_no_error (e);
  return d;
}

static void
rm_rf (const char *path)
{
  g_autoptr (GFile) f = g_file_new_for_path (path);
  g_autoptr (GFileEnumerator) en
      = g_file_enumerate_children (f, "standard::name,standard::type", 0, NULL, NULL);
  if (en) {
    GFileInfo *info;
    while ((info = g_file_enumerator_next_file (en, NULL, NULL))) {
      g_autofree char *c = g_build_filename (path, g_file_info_get_name (info), NULL);
      if (g_file_info_get_file_type (info) == G_FILE_TYPE_DIRECTORY)
        rm_rf (c);
      else
        g_unlink (c);
      g_object_unref (info);
    }
  }
  g_rmdir (path);
}

static guint
count_entries (const char *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  guint n = 0;
  while (d && g_dir_read_name (d))
    n++;
  return n;
}

static GInputStream *
mem (const char *s)
{
  return g_memory_input_stream_new_from_data (g_strdup (s), (gssize)strlen (s), g_free);
}

static void
test_flags (void)
{
  MsgtkFlags all = MSGTK_FLAG_SEEN | MSGTK_FLAG_ANSWERED | MSGTK_FLAG_FLAGGED | MSGTK_FLAG_DELETED
                   | MSGTK_FLAG_DRAFT;
  g_autofree char *l = msgtk_flags_to_maildir (all);
  g_assert_cmpstr (l, ==, "DFRST");
  g_assert_cmpint (msgtk_flags_from_maildir (l), ==, all);
  g_autofree char *l2 = msgtk_flags_to_maildir (MSGTK_FLAG_SEEN | MSGTK_FLAG_ANSWERED);
  g_assert_cmpstr (l2, ==, "RS");
  g_assert_cmpint (msgtk_flags_from_maildir_name ("cur/123.M1P2.host:2,FS"), ==,
                   MSGTK_FLAG_FLAGGED | MSGTK_FLAG_SEEN);
  g_assert_cmpint (msgtk_flags_from_maildir_name ("new/123.M1P2.host"), ==, 0);
  g_autofree char *st = NULL, *xst = NULL;
  msgtk_flags_to_mbox_status (all, &st, &xst);
  g_assert_cmpstr (st, ==, "RO");
  g_assert_cmpstr (xst, ==, "AFTD");
  g_assert_cmpint (msgtk_flags_from_mbox_status (st, xst), ==, all);
  g_assert_cmpint (msgtk_flags_from_mbox_status ("O", NULL), ==, 0);
}

static void
test_file_atomic (void)
{
  g_autofree char *d = tmpdir ();
  g_autofree char *out = g_build_filename (d, "m.eml", NULL);
  GError *e = NULL;
  /* Aborted: nothing left. */
  MsgtkSink *s = msgtk_sink_new (MSGTK_SINK_FILE, out, &e);
  g_assert_no_error (e);
  g_autoptr (GInputStream) in1 = mem ("Subject: a\n\nbody\n");
  g_assert_true (msgtk_sink_write_stream (s, in1, 0, NULL, NULL, NULL, &e));
  g_assert_cmpuint (count_entries (d), ==, 1); /* the temp file */
  msgtk_sink_free (s);
  g_assert_cmpuint (count_entries (d), ==, 0);
  /* Committed, with CRLF line endings; a second message is refused. */
  s = msgtk_sink_new (MSGTK_SINK_FILE, out, &e);
  msgtk_sink_set_eol (s, MSGTK_EOL_CRLF);
  g_autoptr (GInputStream) in2 = mem ("Subject: a\n\nbody\r\nmore\n");
  g_assert_true (msgtk_sink_write_stream (s, in2, 0, NULL, NULL, NULL, &e));
  g_autoptr (GInputStream) in3 = mem ("x\n");
  g_assert_false (msgtk_sink_write_stream (s, in3, 0, NULL, NULL, NULL, &e));
  g_assert_error (e, MSGTK_ERROR, MSGTK_ERROR_USAGE);
  g_clear_error (&e);
  g_assert_true (msgtk_sink_commit (s, &e));
  msgtk_sink_free (s);
  g_autofree char *got = NULL;
  g_assert_true (g_file_get_contents (out, &got, NULL, NULL));
  g_assert_cmpstr (got, ==, "Subject: a\r\n\r\nbody\r\nmore\r\n");
  g_assert_cmpuint (count_entries (d), ==, 1);
  /* Unwritable directory: CANT_CREATE. */
  s = msgtk_sink_new (MSGTK_SINK_FILE, "/nonexistent-dir/x.eml", &e);
  g_autoptr (GInputStream) in4 = mem ("x\n");
  g_assert_false (msgtk_sink_write_stream (s, in4, 0, NULL, NULL, NULL, &e));
  g_assert_error (e, MSGTK_ERROR, MSGTK_ERROR_CANT_CREATE);
  g_clear_error (&e);
  msgtk_sink_free (s);
  rm_rf (d);
}

static void
test_mbox (void)
{
  g_autofree char *d = tmpdir ();
  g_autofree char *mbox = g_build_filename (d, "box", NULL);
  g_assert_true (
      g_file_set_contents (mbox, "From a@b Mon Jan  1 00:00:00 2024\nX: 1\n\nold\n\n", -1, NULL));
  GError *e = NULL;
  MsgtkSink *s = msgtk_sink_new (MSGTK_SINK_MBOX, mbox, &e);
  g_assert_no_error (e);
  g_autoptr (GDateTime) when = g_date_time_new_utc (2024, 3, 5, 6, 7, 8);
  g_autoptr (GInputStream) in = mem ("Subject: q\n\nFrom here\n>From there\nFrom");
  g_assert_true (msgtk_sink_write_stream (s, in, 0, when, "x y@z", NULL, &e));
  g_assert_no_error (e);
  g_assert_true (msgtk_sink_commit (s, &e));
  msgtk_sink_free (s);
  g_autofree char *got = NULL;
  g_assert_true (g_file_get_contents (mbox, &got, NULL, NULL));
  g_assert_cmpstr (got, ==,
                   "From a@b Mon Jan  1 00:00:00 2024\nX: 1\n\nold\n\n"
                   "From x_y@z Tue Mar  5 06:07:08 2024\nSubject: q\n\n>From here\n>>From "
                   "there\nFrom\n\n");
  /* Aborted: truncated back to the original length. */
  s = msgtk_sink_new (MSGTK_SINK_MBOX, mbox, &e);
  g_autoptr (GInputStream) in2 = mem ("Subject: r\n\nbody\n");
  g_assert_true (msgtk_sink_write_stream (s, in2, 0, NULL, NULL, NULL, &e));
  msgtk_sink_abort (s);
  msgtk_sink_free (s);
  g_autofree char *got2 = NULL;
  g_assert_true (g_file_get_contents (mbox, &got2, NULL, NULL));
  g_assert_cmpstr (got2, ==, got);
  rm_rf (d);
}

/* One message written to a new sink on @mbox: TRUE, or FALSE with @error. */
static gboolean
write_one (const char *mbox, guint timeout_ms, GError **error)
{
  MsgtkSink *s = msgtk_sink_new (MSGTK_SINK_MBOX, mbox, error);
  if (s == NULL)
    return FALSE;
  msgtk_sink_set_lock_timeout (s, timeout_ms);
  g_autoptr (GInputStream) in = mem ("Subject: new\n\nnew\n");
  gboolean ok
      = msgtk_sink_write_stream (s, in, 0, NULL, NULL, NULL, error) && msgtk_sink_commit (s, error);
  msgtk_sink_free (s);
  return ok;
}

/* The mbox locks of mutt, procmail and Dovecot: a dotlock and an fcntl
 * lock, waited for, stale dotlocks removed. */
static void
test_mbox_locks (void)
{
  g_autofree char *d = tmpdir ();
  g_autofree char *mbox = g_build_filename (d, "box", NULL);
  g_autofree char *dotlock = g_build_filename (d, "box.lock", NULL);
  g_assert_true (g_file_set_contents (mbox, "", 0, NULL));
  GError *e = NULL;

  /* another holds an fcntl lock (an open file description of its own) */
  int other = g_open (mbox, O_RDWR, 0);
  struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
  g_assert_cmpint (fcntl (other, F_OFD_SETLK, &fl), ==, 0);
  gint64 t0 = g_get_monotonic_time ();
  g_assert_false (write_one (mbox, 300, &e));
  g_assert_error (e, MSGTK_ERROR, MSGTK_ERROR_TEMP_FAIL);
  g_assert_nonnull (strstr (e->message, "locked by another program"));
  g_assert_cmpint (g_get_monotonic_time () - t0, >=, 300000);
  g_clear_error (&e);
  g_assert_false (g_file_test (dotlock, G_FILE_TEST_EXISTS)); /* ours went */
  fl.l_type = F_UNLCK;
  g_assert_cmpint (fcntl (other, F_OFD_SETLK, &fl), ==, 0);
  close (other);

  /* a dotlock of a live process (this one) */
  g_autofree char *pid = g_strdup_printf ("%d\n", (int)getpid ());
  g_assert_true (g_file_set_contents (dotlock, pid, -1, NULL));
  g_assert_false (write_one (mbox, 200, &e));
  g_assert_error (e, MSGTK_ERROR, MSGTK_ERROR_TEMP_FAIL);
  g_assert_nonnull (strstr (e->message, "box.lock"));
  g_clear_error (&e);
  g_assert_true (g_file_test (dotlock, G_FILE_TEST_EXISTS)); /* not ours to remove */

  /* a dotlock of a process gone: stale, removed */
  pid_t child = fork ();
  if (child == 0)
    _exit (0);
  waitpid (child, NULL, 0);
  g_autofree char *dead = g_strdup_printf ("%d\n", (int)child);
  g_assert_true (g_file_set_contents (dotlock, dead, -1, NULL));
  g_assert_true (write_one (mbox, 2000, &e));
  g_assert_no_error (e);
  g_assert_false (g_file_test (dotlock, G_FILE_TEST_EXISTS));

  /* an old one with nothing in it (procmail's): stale after 5 minutes */
  g_assert_true (g_file_set_contents (dotlock, "", 0, NULL));
  struct utimbuf old = { time (NULL) - 600, time (NULL) - 600 };
  g_assert_cmpint (utime (dotlock, &old), ==, 0);
  g_assert_true (write_one (mbox, 2000, &e));
  g_assert_no_error (e);

  g_autofree char *got = NULL;
  g_assert_true (g_file_get_contents (mbox, &got, NULL, NULL));
  g_assert_nonnull (g_strrstr (got, "Subject: new"));
  rm_rf (d);
}

/* An mbox whose last message lacks its final line end, or the empty line
 * after it: the next message is not swallowed. A symbolic link is refused. */
static void
test_mbox_separator (void)
{
  g_autofree char *d = tmpdir ();
  g_autofree char *mbox = g_build_filename (d, "box", NULL);
  static const char *const tails[] = { "body", "body\n", "body\n\n" };
  for (guint i = 0; i < G_N_ELEMENTS (tails); i++) {
    g_autofree char *old
        = g_strconcat ("From a@b Mon Jan  1 00:00:00 2024\nSubject: old\n\n", tails[i], NULL);
    g_assert_true (g_file_set_contents (mbox, old, -1, NULL));
    GError *e = NULL;
    g_assert_true (write_one (mbox, 1000, &e));
    g_assert_no_error (e);
    g_autofree char *got = NULL;
    g_assert_true (g_file_get_contents (mbox, &got, NULL, NULL));
    g_assert_true (
        g_str_has_prefix (got, "From a@b Mon Jan  1 00:00:00 2024\nSubject: old\n\nbody\n\nFrom "));
    g_autoptr (MsgtkSource) src = msgtk_source_open (mbox, MSGTK_SOURCE_FORMAT_MBOX, &e);
    g_assert_no_error (e);
    guint n = 0;
    for (MsgtkItem *item; (item = msgtk_source_next (src, &e)) != NULL; n++)
      msgtk_item_free (item);
    g_assert_no_error (e);
    g_assert_cmpuint (n, ==, 2);
  }
  g_autofree char *link = g_build_filename (d, "link", NULL);
  g_assert_cmpint (symlink (mbox, link), ==, 0);
  GError *e = NULL;
  g_assert_null (msgtk_sink_new (MSGTK_SINK_MBOX, link, &e));
  g_assert_error (e, MSGTK_ERROR, MSGTK_ERROR_CANT_CREATE);
  g_assert_nonnull (strstr (e->message, "symbolic link"));
  g_clear_error (&e);
  rm_rf (d);
}

/* A new mbox with the messages @in written to it (@flags and
 * @envelope_senders, each nullable, say what for each; dated 2024-01-01),
 * read back. */
static char *
mbox_of (guint n, const char *const *in, const MsgtkFlags *flags,
         const char *const *envelope_senders)
{
  g_autofree char *d = tmpdir ();
  g_autofree char *mbox = g_build_filename (d, "box", NULL);
  GError *e = NULL;
  MsgtkSink *s = msgtk_sink_new (MSGTK_SINK_MBOX, mbox, &e);
  g_assert_no_error (e);
  g_autoptr (GDateTime) when = g_date_time_new_utc (2024, 1, 1, 0, 0, 0);
  for (guint i = 0; i < n; i++) {
    g_autoptr (GInputStream) m = mem (in[i]);
    g_assert_true (msgtk_sink_write_stream (s, m, flags != NULL ? flags[i] : 0, when,
                                            envelope_senders != NULL ? envelope_senders[i] : NULL,
                                            NULL, &e));
    g_assert_no_error (e);
  }
  g_assert_true (msgtk_sink_commit (s, &e));
  msgtk_sink_free (s);
  char *got = NULL;
  g_assert_true (g_file_get_contents (mbox, &got, NULL, NULL));
  rm_rf (d);
  return got;
}

/* Without an envelope sender the From_ line takes the Return-Path; the null
 * path and odd ones give MAILER-DAEMON. */
static void
test_mbox_return_path (void)
{
  static const char *const in[] = {
    "Received: by x\nReturn-Path: <bounce+1@example.org>\nSubject: a\n\nbody\n",
    "return-path:bare@example.org\r\n\r\nbody\r\n",
    "Return-Path: <>\nSubject: null path\n\nbody\n",
    "Return-Path: <two words@example.org>\n\nbody\n",
    "Subject: none\n\nReturn-Path: <in-the-body@example.org>\n",
    "Return-Path: <bounce@example.org>\n\nbody\n",
  };
  static const char *const senders[] = { NULL, NULL, NULL, NULL, NULL, "envelope@example.org" };
  g_autofree char *got = mbox_of (G_N_ELEMENTS (in), in, NULL, senders);
  g_auto (GStrv) lines = g_strsplit (got, "\n", -1);
  GString *from = g_string_new (NULL);
  for (guint i = 0; lines[i] != NULL; i++)
    if (g_str_has_prefix (lines[i], "From "))
      g_string_append_printf (from, "%s;", strchr (lines[i], ' ') + 1);
  g_assert_cmpstr (from->str, ==,
                   "bounce+1@example.org Mon Jan  1 00:00:00 2024;"
                   "bare@example.org Mon Jan  1 00:00:00 2024;"
                   "MAILER-DAEMON Mon Jan  1 00:00:00 2024;MAILER-DAEMON Mon Jan  1 00:00:00 2024;"
                   "MAILER-DAEMON Mon Jan  1 00:00:00 2024;"
                   "envelope@example.org Mon Jan  1 00:00:00 2024;");
  g_string_free (from, TRUE);
}

/* Flags go into an mbox as Status/X-Status; a message whose own fields
 * already say its flags is copied unchanged. */
static void
test_mbox_status (void)
{
  static const char *const in[] = {
    "Subject: a\nStatus: RO\nX-Status: F\n\nbody\n",
    "Subject: b\n\nbody\n",
    "Subject: c\nStatus: RO\nX-Status: AF\n  folded\nTo: x\n\nStatus: body\n",
    "Subject: d\r\n\r\nbody\r\n",
    "Subject: e\nStatus: RO\n\nbody\n",
  };
  static const MsgtkFlags flags[] = {
    MSGTK_FLAG_SEEN | MSGTK_FLAG_FLAGGED,
    MSGTK_FLAG_NONE,
    MSGTK_FLAG_ANSWERED | MSGTK_FLAG_DRAFT,
    MSGTK_FLAG_SEEN,
    MSGTK_FLAG_NONE,
  };
  g_autofree char *got = mbox_of (G_N_ELEMENTS (in), in, flags, NULL);
#define FROM_ "From MAILER-DAEMON Mon Jan  1 00:00:00 2024\n"
  g_assert_cmpstr (
      got, ==,
      FROM_ "Subject: a\nStatus: RO\nX-Status: F\n\nbody\n\n" FROM_ "Subject: b\n\nbody\n\n" FROM_
            "Subject: c\nTo: x\nStatus: O\nX-Status: AT\n\nStatus: body\n\n" FROM_
            "Subject: d\r\nStatus: RO\r\n\r\nbody\r\n\n" FROM_ "Subject: e\nStatus: O\n\nbody\n\n");
#undef FROM_
}

static void
test_maildir_and_dir (void)
{
  g_autofree char *d = tmpdir ();
  g_autofree char *md = g_build_filename (d, "Maildir", NULL);
  GError *e = NULL;
  MsgtkSink *s = msgtk_sink_new (MSGTK_SINK_MAILDIR, md, &e);
  g_assert_no_error (e);
  g_autoptr (GMimeMessage) m = g_mime_message_new (TRUE);
  g_mime_message_set_subject (m, "hi", NULL);
  g_autofree char *p1 = NULL, *p2 = NULL;
  g_assert_true (msgtk_sink_write_message (s, m, 0, NULL, &p1, &e));
  g_assert_true (
      msgtk_sink_write_message (s, m, MSGTK_FLAG_SEEN | MSGTK_FLAG_FLAGGED, NULL, &p2, &e));
  g_assert_no_error (e);
  g_assert_true (msgtk_sink_commit (s, &e));
  msgtk_sink_free (s);
  g_assert_nonnull (strstr (p1, "/new/"));
  g_assert_nonnull (strstr (p2, "/cur/"));
  g_assert_true (g_str_has_suffix (p2, ":2,FS"));
  g_assert_cmpint (msgtk_flags_from_maildir_name (p2), ==, MSGTK_FLAG_SEEN | MSGTK_FLAG_FLAGGED);
  g_assert_true (g_file_test (p1, G_FILE_TEST_IS_REGULAR));
  g_autofree char *tmp = g_build_filename (md, "tmp", NULL);
  g_assert_cmpuint (count_entries (tmp), ==, 0);
  g_autofree char *body = NULL;
  g_assert_true (g_file_get_contents (p1, &body, NULL, NULL));
  g_assert_nonnull (strstr (body, "Subject: hi\n"));

  /* Aborted maildir delivery removes what this sink delivered. */
  s = msgtk_sink_new (MSGTK_SINK_MAILDIR, md, &e);
  g_assert_true (msgtk_sink_write_message (s, m, 0, NULL, NULL, &e));
  msgtk_sink_free (s);
  g_autofree char *newdir = g_build_filename (md, "new", NULL);
  g_assert_cmpuint (count_entries (newdir), ==, 1);

  g_autofree char *od = g_build_filename (d, "out", NULL);
  s = msgtk_sink_new (MSGTK_SINK_DIR, od, &e);
  g_autofree char *q1 = NULL, *q2 = NULL;
  g_assert_true (msgtk_sink_write_message (s, m, 0, NULL, &q1, &e));
  g_assert_true (msgtk_sink_write_message (s, m, 0, NULL, &q2, &e));
  g_assert_true (msgtk_sink_commit (s, &e));
  g_assert_cmpuint (msgtk_sink_count (s), ==, 2);
  msgtk_sink_free (s);
  g_assert_true (g_str_has_suffix (q1, "/000001.eml"));
  g_assert_true (g_str_has_suffix (q2, "/000002.eml"));
  rm_rf (d);
}

int
main (int argc, char **argv)
{
  g_mime_init ();
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/sink/flags", test_flags);
  g_test_add_func ("/sink/file-atomic", test_file_atomic);
  g_test_add_func ("/sink/mbox", test_mbox);
  g_test_add_func ("/sink/mbox-return-path", test_mbox_return_path);
  g_test_add_func ("/sink/mbox-status", test_mbox_status);
  g_test_add_func ("/sink/mbox-locks", test_mbox_locks);
  g_test_add_func ("/sink/mbox-separator", test_mbox_separator);
  g_test_add_func ("/sink/maildir-and-dir", test_maildir_and_dir);
  int r = g_test_run ();
  g_mime_shutdown ();
  return r;
}
