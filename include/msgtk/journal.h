/* msgtk — the resume journal of uploads: the durable record of what the
 * server confirmed, and of what was sent without its outcome being known,
 * and the decisions a re-run takes from it. */
#pragma once

#include <msgtk/imap.h>

G_BEGIN_DECLS

/*  * An append-only file of the messages already uploaded, one line each,
 * written only after the server confirmed the APPEND and fsync'ed by
 * msgtk_journal_sync(). A torn last line (a kill during a write) is
 * dropped when the journal is opened. Thread-safe. */
typedef struct _MsgtkJournal MsgtkJournal;

/* Open (creating it and its directory) the journal at @path. */
MsgtkJournal *msgtk_journal_open (const char *path, GError **error);
void msgtk_journal_free (MsgtkJournal *journal);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MsgtkJournal, msgtk_journal_free)

/* The key of a message: its content hash (SHA-256 of @data), the target
 * @mailbox and the source @identity. */
char *msgtk_journal_key (const char *identity, const char *mailbox, GBytes *data);

/* Whether @key was recorded. */
gboolean msgtk_journal_contains (MsgtkJournal *journal, const char *key);

/* Number of keys recorded. */
guint msgtk_journal_size (MsgtkJournal *journal);

/* Record @key (with the APPENDUID, 0 if unknown); written at once, made
 * durable by msgtk_journal_sync(). */
gboolean msgtk_journal_record (MsgtkJournal *journal, const char *key, guint32 uidvalidity,
                               guint32 uid, GError **error);

/* Note @key as sent, outcome unknown (a "P" line). A pending key whose
 * APPEND was interrupted is checked against the server on the next run. */
gboolean msgtk_journal_record_pending (MsgtkJournal *journal, const char *key, GError **error);

/* Whether @key was sent by an earlier run without its outcome being known. */
gboolean msgtk_journal_is_pending (MsgtkJournal *journal, const char *key);
guint msgtk_journal_pending_count (MsgtkJournal *journal);

/* fsync the journal. */
gboolean msgtk_journal_sync (MsgtkJournal *journal, GError **error);

/* The default journal path: $XDG_STATE_HOME/msgtk/append-journal
 * (~/.local/state/msgtk/append-journal). */
char *msgtk_journal_default_path (void);

/* The decision for @key of a message bound for @mailbox whose bytes are
 * @data: *@skip is set when it was uploaded before; one an earlier run sent
 * without learning the outcome counts as uploaded when the server holds it
 * (its SHA-256 as stored among the last messages of @mailbox, as many as
 * were in flight, fetched once per mailbox over @session), and is then
 * recorded. @session may be NULL when nothing was in flight. */
gboolean msgtk_journal_decide (MsgtkJournal *journal, MsgtkImapSession *session,
                               const char *mailbox, const char *key, GBytes *data, gboolean *skip,
                               GError **error);

G_END_DECLS
