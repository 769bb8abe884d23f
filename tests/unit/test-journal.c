/* Unit tests of the resume journal: keys, targets, records, torn lines, the
 * lock, a mailbox made again, messages in flight looked for on a scripted
 * server, and the conversion of an older journal. */
#include "transcript.h"

#include <glib/gstdio.h>
#include <msgtk/msgtk.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <utime.h>

static char *
tmp_journal (char **dir)
{
  *dir = g_dir_make_tmp ("msgtk-journal-XXXXXX", NULL);
  return g_build_filename (*dir, "sub", "journal", NULL);
}

static void
remove_journal (char *dir, const char *path)
{
  g_remove (path);
  g_autofree char *sub = g_path_get_dirname (path);
  g_rmdir (sub);
  g_rmdir (dir);
  g_free (dir);
}

static GBytes *
bytes (const char *s)
{
  return g_bytes_new (s, strlen (s));
}

static void
test_keys (void)
{
  /* the content as the server stores it: LF and CRLF forms are one message;
   * copies of the same content in a folder are told apart */
  g_autoptr (GBytes) lf = bytes ("Subject: a\n\nbody\n");
  g_autoptr (GBytes) crlf = bytes ("Subject: a\r\n\r\nbody\r\n");
  g_autoptr (GBytes) other = bytes ("Subject: b\n\nbody\n");
  g_autofree char *k1 = msgtk_journal_message_key (lf, NULL);
  g_autofree char *k2 = msgtk_journal_message_key (crlf, NULL);
  g_autofree char *k3 = msgtk_journal_message_key (other, NULL);
  g_assert_cmpstr (k1, ==, k2);
  g_assert_cmpstr (k1, !=, k3);
  g_assert_cmpuint (strlen (k1), ==, 64);
  g_autoptr (GHashTable) copies = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autofree char *c1 = msgtk_journal_message_key (lf, copies);
  g_autofree char *c2 = msgtk_journal_message_key (crlf, copies);
  g_autofree char *c3 = msgtk_journal_message_key (other, copies);
  g_autofree char *c4 = msgtk_journal_message_key (lf, copies);
  g_assert_cmpstr (c1, ==, k1);
  g_autofree char *want2 = g_strconcat (k1, ".2", NULL);
  g_autofree char *want4 = g_strconcat (k1, ".3", NULL);
  g_assert_cmpstr (c2, ==, want2);
  g_assert_cmpstr (c3, ==, k3);
  g_assert_cmpstr (c4, ==, want4);

  g_autofree char *t1 = msgtk_journal_target ("IMAP.Example.ORG", 993, "tim@x", "Lists/é b");
  g_assert_cmpstr (t1, ==, "imap://tim%40x@imap.example.org:993/Lists/%C3%A9%20b");
  g_autofree char *t2 = msgtk_journal_target ("imap.example.org", 993, "tom", "Lists/é b");
  g_assert_cmpstr (t1, !=, t2);
  g_assert_null (strchr (t1, ' '));
}

static MsgtkImapMailboxStatus
status (guint32 uidvalidity, guint32 uidnext)
{
  MsgtkImapMailboxStatus st = { TRUE, uidvalidity, uidnext, uidnext - 1 };
  return st;
}

static void
test_records (void)
{
  char *dir;
  g_autofree char *path = tmp_journal (&dir);
  g_autoptr (GError) error = NULL;
  g_autofree char *target = msgtk_journal_target ("h", 993, "u", "INBOX");
  g_autofree char *other = msgtk_journal_target ("h2", 993, "u", "INBOX");
  MsgtkImapMailboxStatus st = status (7, 10);
  MsgtkJournalBindReport r;
  {
    g_autoptr (MsgtkJournal) j = msgtk_journal_open (path, &error);
    g_assert_no_error (error);
    /* a second run on the same journal stops at once */
    g_autoptr (GError) busy = NULL;
    g_assert_null (msgtk_journal_open (path, &busy));
    g_assert_error (busy, MSGTK_ERROR, MSGTK_ERROR_TEMP_FAIL);
    g_assert_nonnull (strstr (busy->message, "in use by another run"));
    MsgtkJournalBox *b = msgtk_journal_bind (j, NULL, target, "INBOX", &st, &r, &error);
    g_assert_nonnull (b);
    g_assert_true (b == msgtk_journal_bind (j, NULL, target, "INBOX", &st, &r, &error));
    g_assert_true (msgtk_journal_box_sending (b, "k1", 10, &error));
    g_assert_true (msgtk_journal_box_stored (b, "k1", 10, &error));
    g_assert_true (msgtk_journal_box_sending (b, "k2", 10, &error));
    g_assert_true (msgtk_journal_box_refused (b, "k2", &error));
    g_assert_true (msgtk_journal_box_sending (b, "k3", 10, &error));
    g_assert_true (msgtk_journal_sync (j, &error));
    g_assert_true (msgtk_journal_box_contains (b, "k1"));
    g_assert_false (msgtk_journal_box_contains (b, "k2"));
  }
  /* a torn line, as left by kill -9 in the middle of a write */
  FILE *f = fopen (path, "a");
  fputs ("S 1 12 k", f);
  fclose (f);
  {
    g_autoptr (MsgtkJournal) j = msgtk_journal_open (path, &error);
    g_assert_no_error (error);
    /* the same content on another server: not there */
    MsgtkJournalBox *o = msgtk_journal_bind (j, NULL, other, "INBOX", &st, &r, &error);
    g_assert_false (msgtk_journal_box_contains (o, "k1"));
    g_assert_cmpuint (r.old_uidvalidity, ==, 0);
    /* k3 was in flight: with no session to look, it counts as not stored */
    MsgtkJournalBox *b = msgtk_journal_bind (j, NULL, target, "INBOX", &st, &r, &error);
    g_assert_no_error (error);
    g_assert_true (msgtk_journal_box_contains (b, "k1"));
    g_assert_false (msgtk_journal_box_contains (b, "k3"));
    g_assert_cmpuint (r.found, ==, 0);
    g_assert_cmpuint (r.lost, ==, 1);
    g_assert_cmpuint (msgtk_journal_box_size (b), ==, 1);
  }
  {
    /* the mailbox made again: what the journal held of it is void */
    g_autoptr (MsgtkJournal) j = msgtk_journal_open (path, &error);
    MsgtkImapMailboxStatus again = status (8, 1);
    MsgtkJournalBox *b = msgtk_journal_bind (j, NULL, target, "INBOX", &again, &r, &error);
    g_assert_nonnull (b);
    g_assert_cmpuint (r.old_uidvalidity, ==, 7);
    g_assert_cmpuint (r.voided, ==, 1);
    g_assert_cmpuint (r.lost, ==, 0);
    g_assert_false (msgtk_journal_box_contains (b, "k1"));
  }
  g_autofree char *contents = NULL;
  g_assert_true (g_file_get_contents (path, &contents, NULL, NULL));
  g_assert_true (g_str_has_prefix (contents, "msgtk-journal 2\n"));
  g_assert_null (strstr (contents, "S 1 12 k\n"));
  g_assert_nonnull (strstr (contents, "\nX 1 k3\n"));
  GStatBuf sb;
  g_assert_cmpint (g_stat (path, &sb), ==, 0);
  g_assert_cmpint (sb.st_mode & 0777, ==, 0600);
  remove_journal (dir, path);
}

static void
test_damaged (void)
{
  char *dir;
  g_autofree char *path = tmp_journal (&dir);
  g_autofree char *sub = g_path_get_dirname (path);
  g_mkdir_with_parents (sub, 0700);
  static const char *const bad[] = {
    "msgtk-journal 2\nS 1 5 k\n",                 /* a box never declared */
    "msgtk-journal 2\nM 2 5 imap://x\n",          /* boxes numbered from 1 */
    "msgtk-journal 2\nQ what\n",                  /* not a record */
    "msgtk-journal 3\n",                          /* a newer journal */
    "not a journal at all\n",                     /* nor an older one */
    "msgtk-journal 2\nM 1 5 imap://x\nP 1 5 k\n", /* a record short of a field */
  };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
    g_assert_true (g_file_set_contents (path, bad[i], -1, NULL));
    g_autoptr (GError) error = NULL;
    g_assert_null (msgtk_journal_open (path, &error));
    g_assert_error (error, MSGTK_ERROR, MSGTK_ERROR_DATA);
    g_assert_nonnull (strstr (error->message, path));
    /* left as it was */
    g_autofree char *after = NULL;
    g_assert_true (g_file_get_contents (path, &after, NULL, NULL));
    g_assert_cmpstr (after, ==, bad[i]);
  }
  remove_journal (dir, path);
}

static void
test_in_flight (void)
{
  /* three messages were in flight when a run was killed; the server holds
   * one of them (UID 12: same size, same content), and a message of the
   * same size that is not ours (UID 13) */
  const char *m1 = "Subject: one\r\n\r\nbody 1\r\n";
  const char *m2 = "Subject: two\r\n\r\nbody 2\r\n";
  const char *m3 = "Subject: three\r\n\r\nbody three\r\n";
  g_autoptr (GBytes) b1 = bytes (m1), b2 = bytes (m2), b3 = bytes (m3);
  g_autofree char *k1 = msgtk_journal_message_key (b1, NULL);
  g_autofree char *k2 = msgtk_journal_message_key (b2, NULL);
  g_autofree char *k3 = msgtk_journal_message_key (b3, NULL);
  char *dir;
  g_autofree char *path = tmp_journal (&dir);
  g_autoptr (GError) error = NULL;
  g_autofree char *target = msgtk_journal_target ("h", 993, "u", "INBOX");
  MsgtkJournalBindReport r;
  MsgtkImapMailboxStatus st = status (7, 12);
  {
    g_autoptr (MsgtkJournal) j = msgtk_journal_open (path, &error);
    MsgtkJournalBox *b = msgtk_journal_bind (j, NULL, target, "INBOX", &st, &r, &error);
    g_assert_true (msgtk_journal_box_sending (b, k1, strlen (m1), &error));
    g_assert_true (msgtk_journal_box_sending (b, k2, strlen (m2), &error));
    g_assert_true (msgtk_journal_box_sending (b, k3, strlen (m3), &error));
  }
  /* the run was killed a while ago: the server has long finished (a journal
   * written a moment ago would have its mailbox watched until it settles) */
  struct utimbuf past = { time (NULL) - 60, time (NULL) - 60 };
  g_assert_cmpint (g_utime (path, &past), ==, 0);
  g_autofree char *dialogue
      = g_strdup_printf ("S: * PREAUTH [CAPABILITY IMAP4rev1] hi\n"
                         "C: A0001 EXAMINE \"INBOX\"\n"
                         "S: A0001 OK [READ-ONLY] examined\n"
                         /* from the first UID they could have: 12 (UIDNEXT then) */
                         "C: A0002 UID FETCH 12:* (UID RFC822.SIZE)\n"
                         "S: * 11 FETCH (UID 12 RFC822.SIZE %zu)\n"
                         "S: * 12 FETCH (UID 13 RFC822.SIZE %zu)\n"
                         "S: * 13 FETCH (UID 14 RFC822.SIZE 99999)\n"
                         "S: A0002 OK fetched\n"
                         "C: A0003 UID FETCH 12:13 (UID BODY.PEEK[])\n"
                         "S: * 11 FETCH (UID 12 BODY[] {%zu}\n"
                         "S: Subject: one\n"
                         "S:\n"
                         "S: body 1\n"
                         "S: )\n"
                         "S: * 12 FETCH (UID 13 BODY[] {%zu}\n"
                         "S: Subject: two\n"
                         "S: \n"
                         "S: body X\n"
                         "S: )\n"
                         "S: A0003 OK fetched\n",
                         strlen (m1), strlen (m2), strlen (m1), strlen (m2));
  TranscriptPeer *peer = transcript_start_text ("in-flight", dialogue);
  {
    g_autoptr (GIOStream) stream = transcript_peer_connect (peer);
    g_autoptr (MsgtkImapSession) s = msgtk_imap_session_new_for_stream (stream, FALSE, &error);
    g_autoptr (MsgtkJournal) j = msgtk_journal_open (path, &error);
    MsgtkImapMailboxStatus now = status (7, 15);
    MsgtkJournalBox *b = msgtk_journal_bind (j, s, target, "INBOX", &now, &r, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (r.found, ==, 1);
    g_assert_cmpuint (r.lost, ==, 2);
    g_assert_true (msgtk_journal_box_contains (b, k1));
    g_assert_false (msgtk_journal_box_contains (b, k2));
    g_assert_false (msgtk_journal_box_contains (b, k3));
    /* what is sent now can only get UIDs after those seen */
    g_assert_true (msgtk_journal_box_sending (b, k2, strlen (m2), &error));
  }
  transcript_assert_finish (peer);
  g_autofree char *contents = NULL;
  g_assert_true (g_file_get_contents (path, &contents, NULL, NULL));
  g_autofree char *stored = g_strdup_printf ("\nS 1 12 %s\n", k1);
  g_autofree char *resent = g_strdup_printf ("\nP 1 15 %zu %s\n", strlen (m2), k2);
  g_assert_nonnull (strstr (contents, stored));
  g_assert_nonnull (strstr (contents, resent));
  remove_journal (dir, path);
}

static void
test_older_journal (void)
{
  /* msgtk 0.1's journal: no server; each stored message with its mailbox,
   * UIDVALIDITY and UID. Converted when opened; an entry is carried over
   * once the server shows a message with its UID under the same
   * UIDVALIDITY; one without a UID, or whose UID is gone, is not */
  const char *m1 = "Subject: one\r\n\r\nbody 1\r\n";
  g_autoptr (GBytes) b1 = bytes (m1);
  g_autofree char *k1 = msgtk_journal_message_key (b1, NULL);
  char *dir;
  g_autofree char *path = tmp_journal (&dir);
  g_autofree char *sub = g_path_get_dirname (path);
  g_mkdir_with_parents (sub, 0700);
  const char *h = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
  g_autofree char *v1 = g_strdup_printf ("%s\tINBOX\tfile:/a/1.eml\t7\t3\n"
                                         "%s\tINBOX\tfile:/a/2.eml\t7\t4\n"
                                         "%s\tINBOX\tfile:/a/3.eml\t0\t0\n"
                                         "%s\tOther\tfile:/a/4.eml\t7\t3\n"
                                         "P\t%s\tINBOX\tfile:/a/5.eml\n",
                                         h, h, h, h, h);
  g_assert_true (g_file_set_contents (path, v1, -1, NULL));
  g_autoptr (GError) error = NULL;
  TranscriptPeer *peer
      = transcript_start_text ("older", "S: * PREAUTH [CAPABILITY IMAP4rev1] hi\n"
                                        "C: A0001 EXAMINE \"INBOX\"\n"
                                        "S: A0001 OK [READ-ONLY] examined\n"
                                        "C: A0002 UID FETCH 3:* (UID RFC822.SIZE)\n"
                                        "S: * 1 FETCH (UID 3 RFC822.SIZE 24)\n"
                                        "S: * 2 FETCH (UID 9 RFC822.SIZE 24)\n"
                                        "S: A0002 OK fetched\n"
                                        "C: A0003 UID FETCH 3:9 (UID BODY.PEEK[])\n"
                                        "S: * 1 FETCH (UID 3 BODY[] {24}\n"
                                        "S: Subject: one\n"
                                        "S: \n"
                                        "S: body 1\n"
                                        "S: )\n"
                                        "S: A0003 OK fetched\n");
  g_autofree char *target = msgtk_journal_target ("h", 993, "u", "INBOX");
  {
    g_autoptr (GIOStream) stream = transcript_peer_connect (peer);
    g_autoptr (MsgtkImapSession) s = msgtk_imap_session_new_for_stream (stream, FALSE, &error);
    g_autoptr (MsgtkJournal) j = msgtk_journal_open (path, &error);
    g_assert_no_error (error);
    MsgtkJournalBindReport r;
    MsgtkImapMailboxStatus st = status (7, 10);
    MsgtkJournalBox *b = msgtk_journal_bind (j, s, target, "INBOX", &st, &r, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (r.migrated, ==, 1);
    g_assert_cmpuint (r.unverified, ==, 2); /* UID 4 is gone; UID 0 cannot be checked */
    g_assert_true (msgtk_journal_box_contains (b, k1));
  }
  transcript_assert_finish (peer);
  g_autofree char *contents = NULL;
  g_assert_true (g_file_get_contents (path, &contents, NULL, NULL));
  g_assert_true (g_str_has_prefix (contents, "msgtk-journal 2\nL 7 3 "));
  g_assert_nonnull (strstr (contents, "\nD 7 INBOX\n"));
  {
    /* checked once: a re-run does not ask the server again */
    g_autoptr (MsgtkJournal) j = msgtk_journal_open (path, &error);
    MsgtkJournalBindReport r;
    MsgtkImapMailboxStatus st = status (7, 10);
    MsgtkJournalBox *b = msgtk_journal_bind (j, NULL, target, "INBOX", &st, &r, &error);
    g_assert_true (msgtk_journal_box_contains (b, k1));
    g_assert_cmpuint (r.migrated + r.unverified, ==, 0);
  }
  remove_journal (dir, path);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/journal/keys", test_keys);
  g_test_add_func ("/journal/records", test_records);
  g_test_add_func ("/journal/damaged", test_damaged);
  g_test_add_func ("/journal/in-flight", test_in_flight);
  g_test_add_func ("/journal/older-journal", test_older_journal);
  return g_test_run ();
}
