/**
 * SECTION:msgtk-smtp-transaction
 * @title: SMTP transactions
 * @short_description: one SMTP mail transaction over a session (MAIL, RCPT,
 *   DATA or BDAT)
 *
 * One mail transaction over a #MsgtkSmtp session: MAIL FROM, RCPT TO for
 * each recipient, then the message with DATA (dot-stuffed) or BDAT
 * (CHUNKING), with a result per recipient, DSN parameters, and pipelining
 * within and across messages (PIPELINING, RFC 2920). What a transaction
 * cannot do (too big for SIZE, 8-bit data without 8BITMIME, addresses that
 * are not ASCII without SMTPUTF8) is refused before anything is sent.
 */
#pragma once

#include <msgtk/smtp.h>

G_BEGIN_DECLS

/**
 * MsgtkSmtpRecipient:
 * @address: the recipient's address
 * @code: the RCPT reply code (0 when not reached)
 * @reply: (nullable): the server's words; %NULL when not reached
 * @accepted: whether the server accepted the recipient (250 or 251 to RCPT,
 *   the sender accepted too)
 *
 * What the server said to one recipient.
 */
typedef struct {
  char *address;
  int code;
  char *reply;
  gboolean accepted;
} MsgtkSmtpRecipient;

/**
 * MsgtkSmtpDoneFunc:
 * @ok: whether the server accepted the message (its final reply was 250)
 * @results: (element-type MsgtkSmtpRecipient): the recipients, as from
 *   msgtk_smtp_send(); valid during the call only
 * @error: (nullable): set when @ok is %FALSE; valid during the call only
 * @user_data: the @done_data of #MsgtkSmtpSendOptions
 *
 * The outcome of a message whose final reply was read after
 * msgtk_smtp_send() returned (see #MsgtkSmtpSendOptions's @done).
 */
typedef void (*MsgtkSmtpDoneFunc) (gboolean ok, GPtrArray *results, const GError *error,
                                   gpointer user_data);

/**
 * MsgtkSmtpSendOptions:
 * @dsn_notify: (nullable): DSN NOTIFY: "SUCCESS,FAILURE,DELAY" or "NEVER";
 *   %NULL: none (sent only when the server offers DSN, as the next two)
 * @dsn_return: (nullable): DSN RET: "FULL" or "HDRS"; %NULL: none
 * @envid: (nullable): DSN ENVID; %NULL: none
 * @dry_run: RCPT everyone, then RSET instead of sending
 * @no_chunking: use DATA even when CHUNKING is offered
 * @done: (nullable): pipelining across messages (RFC 2920): when set and the
 *   server offers PIPELINING, a message sent with DATA does not wait for the
 *   server's final reply: its closing "." goes out in one write with the
 *   next message's commands (or QUIT from msgtk_smtp_quit()), and the reply
 *   that then comes back is given to @done. (BDAT needs no such thing: a
 *   message takes one round trip.) Whenever msgtk_smtp_send() returns
 *   %TRUE, @done is called exactly once for the message (right away when
 *   nothing was deferred), with @done_data; when it returns %FALSE, never
 * @done_data: (closure): for @done
 *
 * How msgtk_smtp_send() sends; all zero: plainly.
 */
typedef struct {
  const char *dsn_notify;
  const char *dsn_return;
  const char *envid;
  gboolean dry_run;
  gboolean no_chunking;
  MsgtkSmtpDoneFunc done;
  gpointer done_data;
} MsgtkSmtpSendOptions;

/**
 * msgtk_smtp_send_options_check:
 * @options: how messages are to be sent
 * @error: return location for an error
 *
 * Whether every value of @options that goes on the wire is one SMTP allows
 * (RFC 3461): NOTIFY "NEVER" or a comma list of SUCCESS, FAILURE and
 * DELAY; RET "FULL" or "HDRS"; an ENVID of at most 100 printable US-ASCII
 * characters (sent as xtext). msgtk_smtp_send() refuses options that are
 * not.
 *
 * Returns: %TRUE if they are; else %FALSE with %MSGTK_ERROR_USAGE naming
 *   the value.
 */
gboolean msgtk_smtp_send_options_check (const MsgtkSmtpSendOptions *options, GError **error);

/**
 * msgtk_smtp_send:
 * @smtp: a session
 * @sender: the envelope sender ("" for the null sender)
 * @recipients: (element-type utf8): the envelope recipients
 * @data: the message, bytes as given: line endings are made CRLF and DATA is
 *   dot-stuffed on the way out; nothing else changes
 * @options: (nullable): how to send; %NULL: plainly
 * @results: (out) (transfer full) (element-type MsgtkSmtpRecipient): always
 *   set: a result for each recipient a RCPT TO was sent for, in order
 *   (free the array with g_ptr_array_unref())
 * @error: return location for an error
 *
 * One transaction: MAIL FROM @sender, RCPT TO each of @recipients, then the
 * message @data; pipelined when offered.
 *
 * On failure the session is reset and usable unless the error is a
 * connection error (msgtk_smtp_is_usable()).
 *
 * Returns: %TRUE when the message was accepted for at least one recipient
 *   (check @results for partial success; with @dry_run: when every
 *   recipient was accepted; with @done: when the message went out, its final
 *   outcome coming to @done). %FALSE with %MSGTK_ERROR_TEMP_FAIL when the
 *   session is closed; with %MSGTK_ERROR_USAGE for no recipients or an
 *   address holding a control character or an angle bracket; with
 *   %MSGTK_ERROR_DATA when the message exceeds the SIZE limit or has 8-bit
 *   bytes the server cannot take; with %MSGTK_ERROR_UNAVAILABLE for
 *   addresses that are not ASCII without SMTPUTF8; with the error of
 *   msgtk_smtp_reply_error() when the sender, every recipient, or the
 *   message is refused; or with a connection error.
 */
gboolean msgtk_smtp_send (MsgtkSmtp *smtp, const char *sender, GPtrArray *recipients, GBytes *data,
                          const MsgtkSmtpSendOptions *options, GPtrArray **results, GError **error);

G_END_DECLS
