/* msgtk — the SMTP session's internal interface, for the transaction
 * module (smtp-transaction.c): replies, the command queue, and replies owed
 * to commands sent earlier (pipelining across messages). */
#pragma once

#include <msgtk/connection.h>
#include <msgtk/smtp.h>

G_BEGIN_DECLS

/* A session over an already connected @stream (for the tests): reads the
 * greeting and does EHLO (HELO if refused) as @helo (NULL: the local host
 * name), as msgtk_smtp_connect() does. The stream counts as plaintext. */
MsgtkSmtp *smtp_new_for_stream (GIOStream *stream, const char *helo, GError **error);

typedef struct {
  int code;
  GString *text; /* all lines' text joined with "\n" */
} SmtpReply;

void smtp_reply_clear (SmtpReply *reply);

/* Read one (multi-line) reply; FALSE (the session is over, @reply cleared)
 * when it cannot be read or is malformed. */
gboolean smtp_reply_read (MsgtkSmtp *s, SmtpReply *reply, GError **error);

/* An MSGTK_ERROR for a refusal @reply of @command, about @what. */
void smtp_reply_set_error (MsgtkSmtp *s, GError **error, const SmtpReply *reply,
                           const char *command, const char *what);

void smtp_queue_line (MsgtkSmtp *s, const char *line);
void smtp_queue_data (MsgtkSmtp *s, const void *data, gsize len);

/* Send what is queued; a session that cannot be written to is over. */
gboolean smtp_flush (MsgtkSmtp *s, GError **error);

/* RSET, reading its reply; FALSE (the session is over) when it fails. */
gboolean smtp_rset (MsgtkSmtp *s);

const char *smtp_host (MsgtkSmtp *s);

/* A buffer for the encoded message, kept from one message to the next. */
GByteArray *smtp_body_buffer (MsgtkSmtp *s);

/* A reply the server still owes for a command already sent: it is read
 * before the replies to the next commands (smtp_read_owed()) or at QUIT,
 * and handed to @func; when the session ends first, @func gets @reply NULL
 * and @lost (the reason, or NULL). @free (nullable) frees @data after. */
typedef void (*SmtpOwedFunc) (MsgtkSmtp *s, const SmtpReply *reply, const GError *lost,
                              gpointer data);
void smtp_owe_reply (MsgtkSmtp *s, SmtpOwedFunc func, gpointer data, GDestroyNotify free);

/* Read the owed reply, if any (its command is flushed). FALSE when it could
 * not be read: the session is over. */
gboolean smtp_read_owed (MsgtkSmtp *s, GError **error);

/* The session ended: the owed reply, if any, will not come. */
void smtp_owed_lost (MsgtkSmtp *s, const GError *why);

G_END_DECLS
