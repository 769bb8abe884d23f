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
#include <json-glib/json-glib.h>
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
 * @mailbox: (nullable): in the progress, the mailbox a message was last
 *   handled for; %NULL in the result
 * @mailbox_done: its messages handled so far
 * @mailbox_planned: with @count_first, the messages for it in the sources
 *
 * How far an upload is.
 */
typedef struct {
  guint read, uploaded, skipped, deleted, failed;
  guint64 bytes_done, bytes_total;
  guint planned;
  guint64 bytes_planned, bytes_left_out;
  double seconds;
  const char *mailbox;
  guint mailbox_done, mailbox_planned;
} MsgtkUploadCounts;

/**
 * MsgtkUploadOutcome:
 * @MSGTK_UPLOAD_UPLOADED: stored (dry run: it would be uploaded)
 * @MSGTK_UPLOAD_SKIPPED: not sent: the mailbox holds it already (the journal
 *   says so, or with dedupe its Message-ID is there)
 * @MSGTK_UPLOAD_DELETED: left out: marked deleted (skip_deleted)
 * @MSGTK_UPLOAD_FAILED: not uploaded (the reason says why)
 *
 * What became of one message (one copy of it, for one mailbox).
 */
typedef enum {
  MSGTK_UPLOAD_UPLOADED,
  MSGTK_UPLOAD_SKIPPED,
  MSGTK_UPLOAD_DELETED,
  MSGTK_UPLOAD_FAILED,
} MsgtkUploadOutcome;

/**
 * MsgtkUploadReport:
 * @identity: the message's identity in its source (for an input that could
 *   not be read: its path)
 * @mailbox: (nullable): the mailbox it was for; %NULL for an input that
 *   could not be read
 * @outcome: what became of it
 * @reason: (nullable): why it was skipped or failed
 * @size: its size in bytes (0 when not known)
 * @uidvalidity: the mailbox's UIDVALIDITY when it was looked at (0: not
 *   looked at)
 * @uid: its UID there, when the server said (UIDPLUS); else 0
 * @dry_run: from a dry run: uploaded means it would be
 *
 * What became of one message, as msgtk_upload() tells it.
 */
typedef struct {
  const char *identity;
  const char *mailbox;
  MsgtkUploadOutcome outcome;
  const char *reason;
  guint64 size;
  guint32 uidvalidity;
  guint32 uid;
  gboolean dry_run;
} MsgtkUploadReport;

/**
 * msgtk_upload_report_to_json:
 * @report: a report
 *
 * @report as one JSON object, for scripts: "source" (the identity),
 * "mailbox" (null for an input that could not be read), "status"
 * ("uploaded", "planned" in a dry run, "skipped", "deleted" or "failed"),
 * "reason" (null unless skipped or failed), "size", "uidvalidity" and
 * "uid" (null when not known).
 *
 * Returns: (transfer full): a node holding the object.
 */
JsonNode *msgtk_upload_report_to_json (const MsgtkUploadReport *report);

/**
 * MsgtkUploadMailboxState:
 * @MSGTK_UPLOAD_MAILBOX_UNKNOWN: not looked at (a dry run offline, or no
 *   session reached it)
 * @MSGTK_UPLOAD_MAILBOX_EXISTS: it was there
 * @MSGTK_UPLOAD_MAILBOX_CREATED: it was created (dry run: it would be)
 * @MSGTK_UPLOAD_MAILBOX_UNUSABLE: it could not be used (see its error)
 *
 * What a mailbox was like when the upload looked at it.
 */
typedef enum {
  MSGTK_UPLOAD_MAILBOX_UNKNOWN,
  MSGTK_UPLOAD_MAILBOX_EXISTS,
  MSGTK_UPLOAD_MAILBOX_CREATED,
  MSGTK_UPLOAD_MAILBOX_UNUSABLE,
} MsgtkUploadMailboxState;

/**
 * MsgtkUploadMailbox:
 * @folder: the sources' folder ('/' between names, "" for their own
 *   messages)
 * @mailbox: the mailbox it went to
 * @state: what the mailbox was like
 * @held: the messages it held when looked at
 * @uploaded: messages uploaded there (dry run: that would be)
 * @skipped: messages it held already
 * @deleted: messages left out as marked deleted
 * @failed: messages not uploaded
 * @bytes: bytes uploaded (dry run: that would be)
 * @error: (nullable): why it could not be used
 *
 * One mailbox of an upload, for a table per folder.
 */
typedef struct {
  char *folder;
  char *mailbox;
  MsgtkUploadMailboxState state;
  guint held;
  guint uploaded, skipped, deleted, failed;
  guint64 bytes;
  char *error;
} MsgtkUploadMailbox;

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
 * @dry_run: read and check everything, upload nothing: log in, look at
 *   each mailbox (STATUS; missing ones are not created), with @dedupe fetch
 *   their Message-IDs; the journal is not consulted
 * @offline: with @dry_run, connect to nothing (mailbox names by the
 *   defaults, not the server's namespace)
 * @journal: (nullable): the resume journal
 * @count_first: before uploading, read the sources once to count their
 *   messages and bytes (only their header blocks are parsed), for an honest
 *   total in the progress (not for standard input)
 * @progress: (nullable): called from time to time on the calling thread
 * @reported: (nullable): called on the calling thread with what became of
 *   each message (dry run: what would), in the order of the sources within
 *   each batch
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
  gboolean offline;
  MsgtkJournal *journal;
  gboolean count_first;
  void (*progress) (const MsgtkUploadCounts *counts, gpointer data);
  void (*reported) (const MsgtkUploadReport *report, gpointer data);
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
 * @mailboxes: (element-type MsgtkUploadMailbox): the mailboxes messages
 *   were for, in the order first met
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
  GPtrArray *mailboxes;
  gboolean stopped;
} MsgtkUploadResult;

/**
 * msgtk_upload_mailbox_free:
 * @mailbox: (transfer full): a mailbox of a result
 *
 * Frees @mailbox.
 */
void msgtk_upload_mailbox_free (MsgtkUploadMailbox *mailbox);

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
