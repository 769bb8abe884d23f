/**
 * SECTION:msgtk-upload
 * @title: Uploads
 * @short_description: messages and whole archives into IMAP mailboxes
 *
 * msgtk_upload() reads message files, directories, mboxes and maildirs and
 * uploads exactly what the resume journal says is missing, over one or
 * several connections, in batches, with flags and internal dates.
 */
#pragma once

#include <msgtk/folder-map.h>
#include <msgtk/imap-append.h>
#include <msgtk/journal.h>
#include <stdio.h>

G_BEGIN_DECLS

/**
 * MsgtkUploadDate:
 * @MSGTK_UPLOAD_DATE_SOURCE: the source's date (From_ line, file time), else the Date field
 * @MSGTK_UPLOAD_DATE_HEADER: the Date field, else the source's date
 * @MSGTK_UPLOAD_DATE_NOW: no date: the server's time of the upload
 *
 * Where a message's internal date comes from.
 */
typedef enum {
  MSGTK_UPLOAD_DATE_SOURCE,
  MSGTK_UPLOAD_DATE_HEADER,
  MSGTK_UPLOAD_DATE_NOW,
} MsgtkUploadDate;

/**
 * MsgtkUploadLabels:
 * @MSGTK_UPLOAD_LABELS_FOLDERS: a message with Gmail labels (X-Gmail-Labels,
 *   Google Takeout) goes to each folder they name, one copy each, as Gmail
 *   shows it over IMAP
 * @MSGTK_UPLOAD_LABELS_KEYWORDS: one copy, in the first of Inbox, Sent,
 *   Drafts, Spam and Trash it was in (else Archive), its other labels as
 *   keywords
 * @MSGTK_UPLOAD_LABELS_IGNORE: labels ignored
 *
 * What becomes of Gmail labels (see msgtk_labels_parse()); either way
 * Opened, Unread and Starred set the flags.
 */
typedef enum {
  MSGTK_UPLOAD_LABELS_FOLDERS,
  MSGTK_UPLOAD_LABELS_KEYWORDS,
  MSGTK_UPLOAD_LABELS_IGNORE,
} MsgtkUploadLabels;

/**
 * MsgtkUploadCounts:
 * @read: messages read from the sources so far
 * @uploaded: messages the server stored (dry run: that would be uploaded)
 * @skipped: messages left out because the server has them
 * @deleted: messages left out because they are marked deleted
 *   (@skip_deleted)
 * @failed: messages that could not be uploaded
 * @bytes_done: bytes of the messages uploaded (dry run: that would be)
 * @bytes_total: bytes of the messages read so far that are to be uploaded
 * @planned: with @count_first, the messages the sources hold (0: not
 *   known, as for standard input)
 * @bytes_planned: with @count_first, their bytes
 * @bytes_left_out: bytes of the messages skipped or failed so far
 * @seconds: since the upload started
 *
 * How far an upload is.
 */
typedef struct {
  guint read, uploaded, skipped, deleted, failed;
  guint64 bytes_done, bytes_total;
  guint planned;
  guint64 bytes_planned, bytes_left_out;
  double seconds;
} MsgtkUploadCounts;

/**
 * MsgtkUploadOptions:
 * @account: the server and credentials (its password, if any, fetched once)
 * @trace: (nullable): where the protocol dialogue goes, secrets redacted
 * @mailbox: (nullable): where the sources' own messages go, and under which
 *   their folders go ("": the top level); %NULL: INBOX, the folders at the
 *   top level and those of a special use to the server's (see
 *   msgtk_folder_map_new())
 * @map: (nullable) (array zero-terminated=1): folder rules "FOLDER=MAILBOX"
 *   (msgtk_folder_map_add_rule())
 * @create: create missing mailboxes
 * @jobs: connections in parallel; 0: 1
 * @batch: messages per APPEND command at most; 0: 100
 * @dedupe: leave out messages whose Message-ID the mailbox holds already
 * @flags: system flags every message gets, beside its own
 * @keywords: (nullable) (array zero-terminated=1): keywords every message
 *   gets, beside its own (the X-Keywords and X-Mozilla-Keys fields)
 * @skip_deleted: leave out messages marked deleted (maildir T, mbox
 *   X-Status D); without it they go, with \Deleted
 * @labels: what becomes of Gmail labels
 * @date_from: where internal dates come from
 * @dry_run: read and check everything, connect to nothing
 * @journal: (nullable): the resume journal
 * @count_first: before uploading, read the sources once to count their
 *   messages and bytes (only their header blocks are parsed), for an honest
 *   total in the progress (not for standard input)
 * @progress: (nullable): called from time to time on the calling thread
 * @planned: (nullable): dry run: called for each message that would go,
 *   with its identity, size and mailbox
 * @notice: (nullable): called, from any thread, with what a user should
 *   know of the journal's decisions (a mailbox made again, what an
 *   interrupted run left, an older journal carried over), one line each
 * @data: for the callbacks
 *
 * What to upload where, and how.
 */
typedef struct {
  MsgtkAccount *account;
  FILE *trace;
  const char *mailbox;
  char **map;
  gboolean create;
  guint jobs;
  guint batch;
  gboolean dedupe;
  MsgtkFlags flags;
  char **keywords;
  gboolean skip_deleted;
  MsgtkUploadLabels labels;
  MsgtkUploadDate date_from;
  gboolean dry_run;
  MsgtkJournal *journal;
  gboolean count_first;
  void (*progress) (const MsgtkUploadCounts *counts, gpointer data);
  void (*planned) (const char *identity, gsize size, const char *mailbox, gpointer data);
  void (*notice) (const char *text, gpointer data);
  gpointer data;
} MsgtkUploadOptions;

/**
 * MsgtkUploadResult:
 * @counts: the final counts
 * @failures: (element-type utf8): "identity: reason" for every message, or
 *   input, that could not be uploaded, in the order of the sources
 * @fatal: (nullable): the first error that ended a connection or the run
 * @unreadable: inputs (paths, entries of them) that could not be read
 * @stopped: the run stopped before the end because the journal could not
 *   be written (@fatal says why): what was not read yet was not uploaded,
 *   and a re-run resumes
 *
 * How an upload went. Clear with msgtk_upload_result_clear().
 */
typedef struct {
  MsgtkUploadCounts counts;
  GPtrArray *failures;
  GError *fatal;
  guint unreadable;
  gboolean stopped;
} MsgtkUploadResult;

/**
 * msgtk_upload:
 * @paths: (array zero-terminated=1): what to upload: message files,
 *   directories, mboxes, maildirs (with maildir++ folders, each to the
 *   mailbox of its name under @mailbox), "-" for standard input
 * @options: where and how
 * @result: (out caller-allocates): how it went
 * @error: return location for an error
 *
 * Uploads every message of @paths that the journal (and, with @dedupe, the
 * mailbox) does not show as uploaded already to that mailbox of that
 * server and account. Each mailbox is looked at (STATUS: its UIDVALIDITY;
 * created first with @create) before the first message goes there; with
 * @dedupe, the Message-IDs it holds are fetched once. Each connection keeps
 * several APPEND commands in flight when the server allows it; the journal
 * notes each message before it is sent and records it as soon as the server
 * confirmed it, and a later run looks for what was in flight on the server.
 * The first connection is made before anything is read and is the one the
 * first worker uses. Messages that cannot be uploaded are counted and listed
 * in @result (a mailbox that cannot be used: one line for all its
 * messages); the upload goes on with the others.
 *
 * Returns: %FALSE (with @error) only when nothing could be uploaded at all:
 *   a folder rule that is not one (%MSGTK_ERROR_USAGE), the login failed, or
 *   the server's namespace or mailboxes could not be listed.
 */
gboolean msgtk_upload (char **paths, const MsgtkUploadOptions *options, MsgtkUploadResult *result,
                       GError **error);

/**
 * msgtk_upload_result_clear:
 * @result: a result filled by msgtk_upload()
 *
 * Frees what @result holds.
 */
void msgtk_upload_result_clear (MsgtkUploadResult *result);

G_END_DECLS
