/**
 * SECTION:msgtk-journal
 * @title: Journal
 * @short_description: the resume journal of uploads
 *
 * The durable record of what a server confirmed it stored, and of what was
 * sent without its outcome being known, for each mailbox of each server and
 * account (its "target") under the mailbox's UIDVALIDITY; and the decisions
 * a re-run takes from it. A message is known by its content (the SHA-256 of
 * the bytes the server stores) and by which copy of that content it is in
 * its folder, not by where its archive lies. A message the journal holds for
 * the mailbox as it is now is not uploaded again; one sent by a run that was
 * interrupted is looked for on the server (among the messages stored since
 * it was sent) before it is; a mailbox deleted and made again (another
 * UIDVALIDITY) voids what the journal held of it.
 */
#pragma once

#include <msgtk/imap-mailbox.h>

G_BEGIN_DECLS

/**
 * MsgtkJournal:
 *
 * An append-only file of lines, locked against a second run for as long as
 * it is open. It says which targets it knows (each with its UIDVALIDITY),
 * which messages each holds (written once the server confirmed the APPEND,
 * fsync'ed by msgtk_journal_sync()), and which were sent with their outcome
 * unknown (written before the command is). A torn last line (a kill during
 * a write) is dropped when the journal is opened; a journal written by an
 * older msgtk (one line per message, no server named) is converted, its
 * entries kept aside until a server proves it holds them. Thread-safe.
 * Opaque; made with msgtk_journal_open(), freed with msgtk_journal_free().
 */
typedef struct _MsgtkJournal MsgtkJournal;

/**
 * MsgtkJournalBox:
 *
 * What a journal knows of one target (a mailbox of a server and account)
 * as it is now (its current UIDVALIDITY). Owned by its journal; made by
 * msgtk_journal_bind().
 */
typedef struct _MsgtkJournalBox MsgtkJournalBox;

/**
 * msgtk_journal_open:
 * @path: the journal file
 * @error: return location for an error
 *
 * Opens the journal at @path, creating it (mode 0600) and its directory
 * (0700) when missing, locks it, and reads what it records.
 *
 * Returns: (transfer full): the journal, or %NULL with
 *   %MSGTK_ERROR_TEMP_FAIL when another run holds it, with
 *   %MSGTK_ERROR_CANT_CREATE when it or its directory cannot be created or
 *   opened, with %MSGTK_ERROR_DATA when it is not a journal, or with
 *   %MSGTK_ERROR_IO when it cannot be read, repaired or converted.
 */
MsgtkJournal *msgtk_journal_open (const char *path, GError **error);

/**
 * msgtk_journal_free:
 * @journal: (nullable): a journal
 *
 * Closes @journal (which releases its lock) and frees it and its boxes.
 */
void msgtk_journal_free (MsgtkJournal *journal);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MsgtkJournal, msgtk_journal_free)

/**
 * msgtk_journal_default_path:
 *
 * Returns: (transfer full): the journal msgappend uses by default,
 *   `$XDG_STATE_HOME/msgtk/append-journal`.
 */
char *msgtk_journal_default_path (void);

/**
 * msgtk_journal_target:
 * @host: the server's host name (compared without case)
 * @port: its port
 * @user: (nullable): the account's user name
 * @mailbox: the mailbox name, UTF-8
 *
 * Returns: (transfer full): the name of a target in a journal,
 *   "imap://USER@HOST:PORT/MAILBOX" (percent-escaped).
 */
char *msgtk_journal_target (const char *host, guint16 port, const char *user, const char *mailbox);

/**
 * msgtk_journal_message_key:
 * @data: a message as in its source (bare LF line ends or CRLF)
 * @copies: (nullable) (element-type utf8 guint): the contents seen so far in
 *   the message's folder, counted: a table the caller keeps for the folder
 *   (g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL));
 *   %NULL: the first copy
 *
 * The identity of a message in a journal: the lower-case hex SHA-256 of
 * @data as the server stores it (CRLF line ends), and ".N" after it for the
 * Nth copy (N > 1) of the same content in the same folder.
 *
 * Returns: (transfer full): the key.
 */
char *msgtk_journal_message_key (GBytes *data, GHashTable *copies);

/**
 * MsgtkJournalBindReport:
 * @old_uidvalidity: non-zero when the journal knew the target under this
 *   other UIDVALIDITY: the mailbox was deleted and made again since
 * @voided: how many messages the journal held under an old UIDVALIDITY
 *   (uploaded again)
 * @found: messages an interrupted run had sent, found on the server
 * @lost: messages an interrupted run had sent, not on the server (uploaded
 *   again)
 * @migrated: entries of an older journal (without a server) that the
 *   server proved to hold (a message with the UID recorded, under the same
 *   UIDVALIDITY): carried over
 * @unverified: entries of an older journal for the same mailbox name and
 *   UIDVALIDITY that the server did not prove to hold (no UID recorded, or
 *   no message with it): uploaded again
 *
 * What msgtk_journal_bind() found out.
 */
typedef struct {
  guint32 old_uidvalidity;
  guint voided;
  guint found;
  guint lost;
  guint migrated;
  guint unverified;
} MsgtkJournalBindReport;

/**
 * msgtk_journal_bind:
 * @journal: a journal
 * @session: (nullable): a session to the target's server, authenticated,
 *   to look there for the messages sent by an interrupted run (and those
 *   of an older journal); %NULL: they count as not stored
 * @target: the target, from msgtk_journal_target()
 * @mailbox: the target's mailbox name on the server
 * @status: the mailbox as the server has it now (which must exist)
 * @report: (out caller-allocates): what was found out
 * @error: return location for an error
 *
 * The journal's knowledge of @target under the UIDVALIDITY of @status:
 * what it held under another is void; messages an interrupted run sent
 * there are looked for among those stored since (UID FETCH from the UID
 * the first of them could have got: sizes and contents) and recorded as
 * stored or not; entries of an older journal for the same mailbox name and
 * UIDVALIDITY are checked the same way. Binding a target again gives the
 * same box.
 *
 * Returns: (transfer none): the box, or %NULL with the session's errors or
 *   %MSGTK_ERROR_IO when the journal cannot be written.
 */
MsgtkJournalBox *msgtk_journal_bind (MsgtkJournal *journal, MsgtkImapSession *session,
                                     const char *target, const char *mailbox,
                                     const MsgtkImapMailboxStatus *status,
                                     MsgtkJournalBindReport *report, GError **error);

/**
 * msgtk_journal_box_contains:
 * @box: a box
 * @key: a message key
 *
 * Returns: whether the server confirmed it stored the message @key in
 *   @box's mailbox as it is now.
 */
gboolean msgtk_journal_box_contains (MsgtkJournalBox *box, const char *key);

/**
 * msgtk_journal_box_size:
 * @box: a box
 *
 * Returns: how many messages @box holds.
 */
guint msgtk_journal_box_size (MsgtkJournalBox *box);

/**
 * msgtk_journal_box_sending:
 * @box: a box
 * @key: a message key
 * @size: its size on the wire (CRLF line ends)
 * @error: return location for an error
 *
 * Records that the message @key is about to be sent, its outcome unknown
 * until msgtk_journal_box_stored() or msgtk_journal_box_refused(), with
 * the lowest UID it can get (one more than the highest this box has seen).
 *
 * Returns: %FALSE with %MSGTK_ERROR_IO when the journal cannot be written:
 *   the message must not be sent.
 */
gboolean msgtk_journal_box_sending (MsgtkJournalBox *box, const char *key, guint64 size,
                                    GError **error);

/**
 * msgtk_journal_box_stored:
 * @box: a box
 * @key: a message key
 * @uid: its UID (APPENDUID), 0 if the server does not say
 * @error: return location for an error
 *
 * Records that the server stored the message @key.
 *
 * Returns: %FALSE with %MSGTK_ERROR_IO when the journal cannot be written.
 */
gboolean msgtk_journal_box_stored (MsgtkJournalBox *box, const char *key, guint32 uid,
                                   GError **error);

/**
 * msgtk_journal_box_refused:
 * @box: a box
 * @key: a message key
 * @error: return location for an error
 *
 * Records that the server refused the message @key (it was not stored).
 *
 * Returns: %FALSE with %MSGTK_ERROR_IO when the journal cannot be written.
 */
gboolean msgtk_journal_box_refused (MsgtkJournalBox *box, const char *key, GError **error);

/**
 * msgtk_journal_sync:
 * @journal: a journal
 * @error: return location for an error
 *
 * Flushes what was recorded to the disk (fsync).
 *
 * Returns: %FALSE with %MSGTK_ERROR_IO when it fails.
 */
gboolean msgtk_journal_sync (MsgtkJournal *journal, GError **error);

G_END_DECLS
