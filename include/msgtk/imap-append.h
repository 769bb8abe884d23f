/**
 * SECTION:msgtk-imap-append
 * @title: IMAP APPEND
 * @short_description: uploading messages over an IMAP session
 *
 * APPEND over a #MsgtkImapSession: messages in MULTIAPPEND batches (RFC
 * 3502), several commands in flight with LITERAL+ / LITERAL- (RFC 7888),
 * synchronising literals otherwise; TRYCREATE, throttling replies backed
 * off, refusals singled out, and UIDPLUS results (RFC 4315).
 */
#pragma once

#include <msgtk/flags.h>
#include <msgtk/imap.h>

G_BEGIN_DECLS

/**
 * MsgtkImapAppendStatus:
 * @MSGTK_IMAP_APPEND_PENDING: not tried yet
 * @MSGTK_IMAP_APPEND_OK: stored (its uid set when the server has UIDPLUS)
 * @MSGTK_IMAP_APPEND_REFUSED: the server refused this message (its text says why)
 *
 * What became of a message given to msgtk_imap_session_append().
 */
typedef enum {
  MSGTK_IMAP_APPEND_PENDING,
  MSGTK_IMAP_APPEND_OK,
  MSGTK_IMAP_APPEND_REFUSED,
} MsgtkImapAppendStatus;

/**
 * MsgtkImapMessage:
 * @data: the message bytes as in the source (owned: a reference)
 * @flags: sent as IMAP system flags (\Seen, \Answered, ...)
 * @internal_date: (nullable): its internal date (owned: a reference); %NULL:
 *   the server's time
 * @keywords: (nullable) (array zero-terminated=1): keywords sent with its
 *   flags (owned)
 * @status: the result: what became of it
 * @text: (nullable): the result: the server's words for a refusal (owned)
 * @code: (nullable): the result: the refusal's response code ("OVERQUOTA",
 *   "TOOBIG"; owned); %NULL if none
 * @uidvalidity: the result: the UIDVALIDITY of its APPENDUID; 0 if unknown
 * @uid: the result: its UID from APPENDUID; 0 if unknown
 * @user_data: the caller's, untouched
 *
 * One message to APPEND, and its result. Clear it with
 * msgtk_imap_message_clear().
 */
typedef struct {
  GBytes *data;
  MsgtkFlags flags;
  GDateTime *internal_date;
  char **keywords;
  /* results */
  MsgtkImapAppendStatus status;
  char *text;
  char *code;
  guint32 uidvalidity;
  guint32 uid;
  gpointer user_data;
} MsgtkImapMessage;

/**
 * msgtk_imap_message_clear:
 * @message: a message
 *
 * Releases what @message owns (@data, @internal_date, @keywords, @text,
 * @code) and sets those members to %NULL; @message itself is the caller's.
 */
void msgtk_imap_message_clear (MsgtkImapMessage *message);

/**
 * MsgtkImapAppendOptions:
 * @max_count: messages per MULTIAPPEND command; 0: 100
 * @max_bytes: bytes per MULTIAPPEND command; 0: 16 MiB
 * @create: on NO [TRYCREATE]: CREATE the mailbox and retry
 * @backoff_ms: on a throttling reply (NO [UNAVAILABLE], [INUSE],
 *   [THROTTLED]): wait this many ms, then twice as long, ..., up to 4 tries
 *   in all; 0: 1000
 * @max_in_flight: APPEND commands sent before the first one's completion is
 *   read, when none of their literals has to wait for '+' (LITERAL+,
 *   LITERAL-); 0: 8, 1: one at a time
 * @settled: (nullable): called as soon as a command settles messages (stored
 *   or refused), before the next command: the place to record them in a
 *   journal
 * @sending: (nullable): called just before a command carrying @messages is
 *   sent: the place to note them as in flight; returning %FALSE (with its
 *   error) keeps the command from being sent, and the append ends with that
 *   error, the messages still %MSGTK_IMAP_APPEND_PENDING
 * @data: (closure): for @settled and @sending
 *
 * How msgtk_imap_session_append() batches and sends; all zero: the
 * defaults.
 */
typedef struct {
  guint max_count;
  guint64 max_bytes;
  gboolean create;
  guint backoff_ms;
  guint max_in_flight;
  void (*settled) (MsgtkImapMessage *messages, guint n, gpointer data);
  gboolean (*sending) (MsgtkImapMessage *messages, guint n, gpointer data, GError **error);
  gpointer data;
} MsgtkImapAppendOptions;

/**
 * msgtk_imap_session_append:
 * @session: an authenticated session
 * @mailbox: the mailbox name, UTF-8
 * @messages: (array length=n): the messages; each gets its result
 * @n: the number of @messages
 * @options: (nullable): how to batch and send; %NULL: the defaults
 * @error: return location for an error
 *
 * APPENDs @messages to @mailbox, as MULTIAPPEND batches when offered,
 * LITERAL+ / LITERAL- when offered (several commands in flight then),
 * synchronising literals otherwise. Each message gets its status: a message
 * over the server's APPENDLIMIT is refused here ("TOOBIG"), and a batch
 * refused as a whole is retried one message at a time to single out the bad
 * one.
 *
 * Returns: %FALSE (with @error) only when the session cannot go on: the
 *   connection lost or a BYE (connection errors), the mailbox missing and
 *   not created (%MSGTK_ERROR_CANT_CREATE, hint
 *   %MSGTK_ERROR_HINT_CREATE_MAILBOX), @mailbox not UTF-8
 *   (%MSGTK_ERROR_USAGE); messages not yet done then stay
 *   %MSGTK_IMAP_APPEND_PENDING, and those done keep their status.
 */
gboolean msgtk_imap_session_append (MsgtkImapSession *session, const char *mailbox,
                                    MsgtkImapMessage *messages, guint n,
                                    const MsgtkImapAppendOptions *options, GError **error);

G_END_DECLS
