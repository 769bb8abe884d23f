/**
 * SECTION:msgtk-journal
 * @title: Journal
 * @short_description: the resume journal of uploads
 *
 * The durable record of what the server confirmed, and of what was sent
 * without its outcome being known, and the decisions a re-run takes from it:
 * a message the journal holds is not uploaded again, and one an interrupted
 * run sent is looked for on the server before it is.
 */
#pragma once

#include <msgtk/imap.h>

G_BEGIN_DECLS

/**
 * MsgtkJournal:
 *
 * An append-only file of the messages already uploaded, one line each,
 * written only after the server confirmed the APPEND and fsync'ed by
 * msgtk_journal_sync(), and of the messages sent whose outcome is not known
 * yet. A torn last line (a kill during a write) is dropped when the journal
 * is opened. Thread-safe. Opaque; made with msgtk_journal_open(), freed with
 * msgtk_journal_free().
 */
typedef struct _MsgtkJournal MsgtkJournal;

/**
 * msgtk_journal_open:
 * @path: the journal file
 * @error: return location for an error
 *
 * Opens the journal at @path, creating it (mode 0600) and its directory
 * (0700) when missing, and reads what it records.
 *
 * Returns: (transfer full): the journal, or %NULL with
 *   %MSGTK_ERROR_CANT_CREATE when it or its directory cannot be created or
 *   opened, with a #GFileError when it cannot be read, or with
 *   %MSGTK_ERROR_IO when a torn last line cannot be cut off.
 */
MsgtkJournal *msgtk_journal_open (const char *path, GError **error);

/**
 * msgtk_journal_free:
 * @journal: (nullable) (transfer full): a journal
 *
 * Closes and frees @journal (what was written stays; msgtk_journal_sync()
 * first to make it durable).
 */
void msgtk_journal_free (MsgtkJournal *journal);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MsgtkJournal, msgtk_journal_free)

/**
 * msgtk_journal_key:
 * @identity: the message's identity in its source (#MsgtkItem's @identity)
 * @mailbox: the mailbox it goes to
 * @data: the message's bytes
 *
 * The key of a message in the journal: its content hash (SHA-256 of @data),
 * the target @mailbox and the source @identity.
 *
 * Returns: (transfer full): the key.
 */
char *msgtk_journal_key (const char *identity, const char *mailbox, GBytes *data);

/**
 * msgtk_journal_contains:
 * @journal: a journal
 * @key: a key of msgtk_journal_key()
 *
 * Whether a message was uploaded already.
 *
 * Returns: whether @key was recorded as uploaded.
 */
gboolean msgtk_journal_contains (MsgtkJournal *journal, const char *key);

/**
 * msgtk_journal_size:
 * @journal: a journal
 *
 * How many messages the journal records as uploaded.
 *
 * Returns: the number of keys recorded as uploaded.
 */
guint msgtk_journal_size (MsgtkJournal *journal);

/**
 * msgtk_journal_record:
 * @journal: a journal
 * @key: a key of msgtk_journal_key()
 * @uidvalidity: the UIDVALIDITY of the APPENDUID; 0 if unknown
 * @uid: the UID of the APPENDUID; 0 if unknown
 * @error: return location for an error
 *
 * Records @key as uploaded (it is then no longer pending). It is written at
 * once and made durable by msgtk_journal_sync().
 *
 * Returns: %FALSE with %MSGTK_ERROR_IO when the journal cannot be written.
 */
gboolean msgtk_journal_record (MsgtkJournal *journal, const char *key, guint32 uidvalidity,
                               guint32 uid, GError **error);

/**
 * msgtk_journal_record_pending:
 * @journal: a journal
 * @key: a key of msgtk_journal_key()
 * @error: return location for an error
 *
 * Notes @key as sent, outcome unknown (a "P" line). A pending key whose
 * APPEND was interrupted is checked against the server on the next run
 * (msgtk_journal_decide()); msgtk_journal_is_pending() says so only for keys
 * an earlier run noted.
 *
 * Returns: %FALSE with %MSGTK_ERROR_IO when the journal cannot be written.
 */
gboolean msgtk_journal_record_pending (MsgtkJournal *journal, const char *key, GError **error);

/**
 * msgtk_journal_is_pending:
 * @journal: a journal
 * @key: a key of msgtk_journal_key()
 *
 * Whether a message's upload was interrupted.
 *
 * Returns: whether @key was sent by an earlier run without its outcome being
 *   known (and has not been recorded as uploaded since).
 */
gboolean msgtk_journal_is_pending (MsgtkJournal *journal, const char *key);

/**
 * msgtk_journal_pending_count:
 * @journal: a journal
 *
 * How many messages an earlier run sent without learning the outcome.
 *
 * Returns: the number of keys msgtk_journal_is_pending() holds for.
 */
guint msgtk_journal_pending_count (MsgtkJournal *journal);

/**
 * msgtk_journal_sync:
 * @journal: a journal
 * @error: return location for an error
 *
 * Makes what was written to @journal durable (fsync).
 *
 * Returns: %FALSE with %MSGTK_ERROR_IO when fsync fails.
 */
gboolean msgtk_journal_sync (MsgtkJournal *journal, GError **error);

/**
 * msgtk_journal_default_path:
 *
 * Where the journal is by default.
 *
 * Returns: (transfer full): the default journal path:
 *   $XDG_STATE_HOME/msgtk/append-journal (~/.local/state/msgtk/append-journal).
 */
char *msgtk_journal_default_path (void);

/**
 * msgtk_journal_decide:
 * @journal: a journal
 * @session: (nullable): a session to the server, to check pending messages
 *   on; %NULL when nothing was in flight
 * @mailbox: the mailbox the message goes to
 * @key: the message's key (msgtk_journal_key())
 * @data: the message's bytes
 * @skip: (out): set when the message is uploaded already
 * @error: return location for an error
 *
 * The decision for the message of @key: @skip is set when it was uploaded
 * before. One an earlier run sent without learning the outcome counts as
 * uploaded when the server holds it (its SHA-256 as stored among the last
 * messages of @mailbox, as many as were in flight, fetched once per mailbox
 * over @session), and is then recorded.
 *
 * Returns: %FALSE with the session's error when the server cannot be
 *   asked, or with %MSGTK_ERROR_IO when the journal cannot be written.
 */
gboolean msgtk_journal_decide (MsgtkJournal *journal, MsgtkImapSession *session,
                               const char *mailbox, const char *key, GBytes *data, gboolean *skip,
                               GError **error);

G_END_DECLS
