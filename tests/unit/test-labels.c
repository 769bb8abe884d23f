/* Unit tests of Gmail labels: folders, flags and keywords out of the
 * X-Gmail-Labels fields Google Takeout writes. */
#include <msgtk/msgtk.h>

static void
expect_strv (GPtrArray *got, const char *const *want)
{
  guint n = g_strv_length ((char **)want);
  for (guint i = 0; i < MIN (n, got->len); i++)
    g_assert_cmpstr (got->pdata[i], ==, want[i]);
  g_assert_cmpuint (got->len, ==, n);
}

static void
test_folders (void)
{
  MsgtkLabels l;
  msgtk_labels_parse ("Important,Opened,Inbox,Work/Projects,Category Updates", FALSE, &l);
  expect_strv (l.folders, (const char *const[]){ "Inbox", "Work/Projects", NULL });
  expect_strv (l.keywords, (const char *const[]){ "$Important", NULL });
  g_assert_cmpuint (l.set, ==, MSGTK_FLAG_SEEN);
  g_assert_cmpuint (l.clear, ==, 0);
  msgtk_labels_clear (&l);
  g_assert_null (l.folders);

  /* Takeout's spellings: Sent, Drafts (also "Draft"), Spam, Trash */
  msgtk_labels_parse ("Sent,Opened,Draft,Drafts", FALSE, &l);
  expect_strv (l.folders, (const char *const[]){ "Sent", "Drafts", NULL });
  msgtk_labels_clear (&l);
}

static void
test_archived (void)
{
  /* in All Mail only: archived */
  MsgtkLabels l;
  msgtk_labels_parse ("Archived,Unread,Category Social", FALSE, &l);
  expect_strv (l.folders, (const char *const[]){ "Archive", NULL });
  g_assert_cmpuint (l.keywords->len, ==, 0);
  g_assert_cmpuint (l.set, ==, 0);
  g_assert_cmpuint (l.clear, ==, MSGTK_FLAG_SEEN);
  msgtk_labels_clear (&l);

  msgtk_labels_parse ("", FALSE, &l);
  expect_strv (l.folders, (const char *const[]){ "Archive", NULL });
  msgtk_labels_clear (&l);

  /* chats are no folder either */
  msgtk_labels_parse ("Chat,Opened", FALSE, &l);
  expect_strv (l.folders, (const char *const[]){ "Archive", NULL });
  msgtk_labels_clear (&l);
}

static void
test_flags (void)
{
  MsgtkLabels l;
  msgtk_labels_parse ("Starred, Unread ,Inbox", FALSE, &l);
  g_assert_cmpuint (l.set, ==, MSGTK_FLAG_FLAGGED);
  g_assert_cmpuint (l.clear, ==, MSGTK_FLAG_SEEN);
  expect_strv (l.folders, (const char *const[]){ "Inbox", NULL });
  msgtk_labels_clear (&l);

  /* Opened wins over Unread: the message was read */
  msgtk_labels_parse ("Unread,Opened", FALSE, &l);
  g_assert_cmpuint (l.set, ==, MSGTK_FLAG_SEEN);
  g_assert_cmpuint (l.clear, ==, 0);
  msgtk_labels_clear (&l);
}

static void
test_quoted (void)
{
  /* a label with a comma is quoted; labels repeat only once */
  MsgtkLabels l;
  msgtk_labels_parse ("\"Clients, 2024\",Inbox,Inbox,\"Clients, 2024\"", FALSE, &l);
  expect_strv (l.folders, (const char *const[]){ "Clients, 2024", "Inbox", NULL });
  msgtk_labels_clear (&l);
}

static void
test_keywords (void)
{
  /* one copy, in the first system folder by Inbox, Sent, Drafts, Spam,
   * Trash; user labels become keywords */
  MsgtkLabels l;
  msgtk_labels_parse ("Work/Projects,Sent,Inbox,Important,Opened", TRUE, &l);
  expect_strv (l.folders, (const char *const[]){ "Inbox", NULL });
  expect_strv (l.keywords, (const char *const[]){ "Work/Projects", "$Important", NULL });
  msgtk_labels_clear (&l);

  /* made valid IMAP atoms, each once whatever its case */
  msgtk_labels_parse ("\"Clients (2024)\",clients_(2024),Inbox", TRUE, &l);
  expect_strv (l.keywords, (const char *const[]){ "Clients__2024_", NULL });
  msgtk_labels_clear (&l);

  msgtk_labels_parse ("Trash,Spam", TRUE, &l);
  expect_strv (l.folders, (const char *const[]){ "Spam", NULL });
  msgtk_labels_clear (&l);

  msgtk_labels_parse ("Receipts", TRUE, &l);
  expect_strv (l.folders, (const char *const[]){ "Archive", NULL });
  g_assert_cmpuint (l.keywords->len, ==, 1);
  msgtk_labels_clear (&l);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/labels/folders", test_folders);
  g_test_add_func ("/labels/archived", test_archived);
  g_test_add_func ("/labels/flags", test_flags);
  g_test_add_func ("/labels/quoted", test_quoted);
  g_test_add_func ("/labels/keywords", test_keywords);
  return g_test_run ();
}
