/* Unit tests of folder maps: the defaults, special uses in many languages,
 * namespaces and delimiters, rules, and names holding the delimiter. */
#include <msgtk/msgtk.h>
#include <string.h>

static MsgtkImapMailboxInfo *
info (const char *name, MsgtkImapMailboxAttributes attributes)
{
  MsgtkImapMailboxInfo *i = g_new0 (MsgtkImapMailboxInfo, 1);
  i->name = g_strdup (name);
  i->delimiter = '.';
  i->attributes = attributes;
  return i;
}

static void
info_free (gpointer p)
{
  MsgtkImapMailboxInfo *i = p;
  g_free (i->name);
  g_free (i);
}

/* A German Dovecot with a "INBOX." namespace (as Courier has it). */
static GPtrArray *
german_server (void)
{
  GPtrArray *a = g_ptr_array_new_with_free_func (info_free);
  g_ptr_array_add (a, info ("INBOX", 0));
  g_ptr_array_add (a, info ("INBOX.Gesendet", MSGTK_IMAP_MAILBOX_SENT));
  g_ptr_array_add (a, info ("INBOX.Papierkorb", MSGTK_IMAP_MAILBOX_TRASH));
  g_ptr_array_add (a, info ("INBOX.Entwürfe", MSGTK_IMAP_MAILBOX_DRAFTS));
  g_ptr_array_add (a, info ("INBOX.Spam", MSGTK_IMAP_MAILBOX_JUNK));
  g_ptr_array_add (a,
                   info ("INBOX.Gone", MSGTK_IMAP_MAILBOX_ARCHIVE | MSGTK_IMAP_MAILBOX_NOSELECT));
  return a;
}

static void
expect (const MsgtkFolderMap *m, const char *folder, const char *mailbox)
{
  g_autofree char *got = msgtk_folder_map_mailbox (m, folder);
  g_assert_cmpstr (got, ==, mailbox);
}

static void
test_special_use_names (void)
{
  g_assert_cmpuint (msgtk_folder_special_use ("Sent Items"), ==, MSGTK_IMAP_MAILBOX_SENT);
  g_assert_cmpuint (msgtk_folder_special_use ("sent"), ==, MSGTK_IMAP_MAILBOX_SENT);
  g_assert_cmpuint (msgtk_folder_special_use ("ÉLÉMENTS ENVOYÉS"), ==, MSGTK_IMAP_MAILBOX_SENT);
  g_assert_cmpuint (msgtk_folder_special_use ("Отправленные"), ==, MSGTK_IMAP_MAILBOX_SENT);
  g_assert_cmpuint (msgtk_folder_special_use ("Papierkorb"), ==, MSGTK_IMAP_MAILBOX_TRASH);
  g_assert_cmpuint (msgtk_folder_special_use ("Deleted Items"), ==, MSGTK_IMAP_MAILBOX_TRASH);
  g_assert_cmpuint (msgtk_folder_special_use ("Entwürfe"), ==, MSGTK_IMAP_MAILBOX_DRAFTS);
  g_assert_cmpuint (msgtk_folder_special_use ("Junk E-mail"), ==, MSGTK_IMAP_MAILBOX_JUNK);
  g_assert_cmpuint (msgtk_folder_special_use ("Archives"), ==, MSGTK_IMAP_MAILBOX_ARCHIVE);
  g_assert_cmpuint (msgtk_folder_special_use ("ごみ箱"), ==, MSGTK_IMAP_MAILBOX_TRASH);
  g_assert_cmpuint (msgtk_folder_special_use ("Lists"), ==, 0);
  g_assert_cmpuint (msgtk_folder_special_use ("\xff"), ==, 0);
}

static void
test_defaults (void)
{
  /* like mbsync: the archive's own messages to INBOX, its folders at the top */
  g_autoptr (MsgtkFolderMap) m = msgtk_folder_map_new (NULL);
  msgtk_folder_map_set_server (m, "", '/', NULL);
  expect (m, NULL, "INBOX");
  expect (m, "", "INBOX");
  expect (m, "Lists/dev", "Lists/dev");
  expect (m, "/Lists/dev/", "Lists/dev");
  expect (m, "inbox", "INBOX");
  expect (m, "Inbox/Receipts", "INBOX/Receipts");
  expect (m, "Sent", "Sent"); /* no special-use mailbox on this server: as it is */
  expect (m, "a/b.c", "a/b.c");
  msgtk_folder_map_set_server (m, "", '.', NULL);
  expect (m, "Lists/dev", "Lists.dev");
  expect (m, "v1.2/notes", "v1_2.notes"); /* no hierarchy the archive did not have */
  msgtk_folder_map_set_server (m, "", '\0', NULL);
  expect (m, "Lists/dev", "Lists_dev");
}

static void
test_server (void)
{
  g_autoptr (GPtrArray) server = german_server ();
  g_autoptr (MsgtkFolderMap) m = msgtk_folder_map_new (NULL);
  msgtk_folder_map_set_server (m, "INBOX.", '.', server);
  expect (m, NULL, "INBOX");
  expect (m, "Lists/dev", "INBOX.Lists.dev");
  /* the archive's Sent, Trash, Drafts, Junk, whatever their names, to the
   * server's, whatever theirs */
  expect (m, "Sent", "INBOX.Gesendet");
  expect (m, "Sent Items", "INBOX.Gesendet");
  expect (m, "Sent/2024", "INBOX.Gesendet.2024");
  expect (m, "INBOX/Sent", "INBOX.Gesendet");
  expect (m, "[Gmail]/Sent Mail", "INBOX.Gesendet");
  expect (m, "Deleted Messages", "INBOX.Papierkorb");
  expect (m, "Drafts", "INBOX.Entwürfe");
  expect (m, "Spam", "INBOX.Spam");
  /* the server's Archive holds no messages: a folder of that name as it is */
  expect (m, "Archive", "INBOX.Archive");
  /* under a base, nothing is moved to the server's special folders */
  g_autoptr (MsgtkFolderMap) b = msgtk_folder_map_new ("Import");
  msgtk_folder_map_set_server (b, "INBOX.", '.', server);
  expect (b, NULL, "Import");
  expect (b, "Sent", "Import.Sent");
  expect (b, "Lists/dev", "Import.Lists.dev");
  /* an empty base: the top level, without the namespace */
  g_autoptr (MsgtkFolderMap) top = msgtk_folder_map_new ("");
  msgtk_folder_map_set_server (top, "INBOX.", '.', server);
  expect (top, NULL, "INBOX");
  expect (top, "Lists/dev", "Lists.dev");
}

static void
test_rules (void)
{
  g_autoptr (GError) e = NULL;
  g_autoptr (GPtrArray) server = german_server ();
  g_autoptr (MsgtkFolderMap) m = msgtk_folder_map_new (NULL);
  msgtk_folder_map_set_server (m, "INBOX.", '.', server);
  g_assert_true (msgtk_folder_map_add_rule (m, "Lists=INBOX/Mailing lists", &e));
  g_assert_true (msgtk_folder_map_add_rule (m, "Lists/gtk/=Old/GTK", &e));
  g_assert_true (msgtk_folder_map_add_rule (m, "=INBOX/Imported", &e));
  g_assert_true (msgtk_folder_map_add_rule (m, "Sent=Sent", &e));
  g_assert_no_error (e);
  expect (m, NULL, "INBOX.Imported");
  expect (m, "Lists", "INBOX.Mailing lists");
  expect (m, "Lists/dev", "INBOX.Mailing lists.dev");
  expect (m, "Lists/gtk/3", "Old.GTK.3");   /* the longest rule */
  expect (m, "Listserv", "INBOX.Listserv"); /* a name that starts the same */
  expect (m, "Sent", "Sent");               /* a rule before the special uses */
  static const char *const bad[] = { "no equals sign", "Lists=", "Lists=/", "\xff=x" };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
    g_clear_error (&e);
    g_assert_false (msgtk_folder_map_add_rule (m, bad[i], &e));
    g_assert_error (e, MSGTK_ERROR, MSGTK_ERROR_USAGE);
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/folder-map/special-use-names", test_special_use_names);
  g_test_add_func ("/folder-map/defaults", test_defaults);
  g_test_add_func ("/folder-map/server", test_server);
  g_test_add_func ("/folder-map/rules", test_rules);
  return g_test_run ();
}
