/* msgtk — IMAP APPEND over a session: messages in MULTIAPPEND batches, with
 * LITERAL+ / LITERAL- several commands in flight, synchronising literals
 * otherwise; TRYCREATE, throttling, refusals singled out, UIDPLUS results. */
#pragma once

#include <msgtk/imap.h>

G_BEGIN_DECLS

typedef enum {
  MSGTK_IMAP_APPEND_PENDING, /* not tried yet */
  MSGTK_IMAP_APPEND_OK,      /* stored (uid set when the server has UIDPLUS) */
  MSGTK_IMAP_APPEND_REFUSED, /* the server refused this message (text says why) */
} MsgtkImapAppendStatus;

typedef struct {
  GBytes *data;             /* the message bytes as in the source */
  MsgtkFlags flags;         /* sent as IMAP system flags (\Seen, \Answered, ...) */
  GDateTime *internal_date; /* NULL: the server's time */
  /* results */
  MsgtkImapAppendStatus status;
  char *text;          /* the server's words for a refusal (owned) */
  char *code;          /* its response code ("OVERQUOTA", "TOOBIG"), NULL if none */
  guint32 uidvalidity; /* from APPENDUID; 0 if unknown */
  guint32 uid;
  gpointer user_data; /* the caller's, untouched */
} MsgtkImapMessage;

void msgtk_imap_message_clear (MsgtkImapMessage *message);

typedef struct {
  guint max_count;   /* messages per MULTIAPPEND command; 0: 100 */
  guint64 max_bytes; /* bytes per MULTIAPPEND command; 0: 16 MiB */
  gboolean create;   /* on NO [TRYCREATE]: CREATE the mailbox and retry */
  /* on a throttling reply (NO [UNAVAILABLE], [INUSE], [THROTTLED]): wait this
   * many ms, then twice as long, ..., up to 4 tries in all; 0: 1000 */
  guint backoff_ms;
  /* APPEND commands sent before the first one's completion is read, when
   * none of their literals has to wait for '+' (LITERAL+, LITERAL-); 0: 8,
   * 1: one at a time */
  guint max_in_flight;
  /* called as soon as a command settles messages (stored or refused), before
   * the next command: the place to record them in a journal */
  void (*settled) (MsgtkImapMessage *messages, guint n, gpointer data);
  /* called just before a command carrying @messages is sent: the place to
   * note them as in flight */
  void (*sending) (MsgtkImapMessage *messages, guint n, gpointer data);
  gpointer data;
} MsgtkImapAppendOptions;

/* APPEND @messages (n of them) to @mailbox (UTF-8 name), as MULTIAPPEND
 * batches when offered, LITERAL+ / LITERAL- when offered (several commands
 * in flight then), synchronising literals otherwise. Each message gets its status: a batch refused
 * as a whole is retried one message at a time to single out the bad one. Returns FALSE (with
 * @error) only when the session cannot go on (connection lost, BYE, mailbox missing and not
 * created); messages not yet done then stay PENDING, and those done keep their status. */
gboolean msgtk_imap_session_append (MsgtkImapSession *session, const char *mailbox,
                                    MsgtkImapMessage *messages, guint n,
                                    const MsgtkImapAppendOptions *options, GError **error);

G_END_DECLS
