/* msgtk — one SMTP mail transaction over a session (MAIL, RCPT, DATA or
 * BDAT): per-recipient results, dot-stuffing, pipelining within and across
 * messages. */
#pragma once

#include <msgtk/smtp.h>

G_BEGIN_DECLS

typedef struct {
  char *address;
  int code;    /* the RCPT reply code (0 when not reached) */
  char *reply; /* the server's words */
  gboolean accepted;
} MsgtkSmtpRecipient;

/* The outcome of a message whose final reply was read after msgtk_smtp_send()
 * returned (see MsgtkSmtpSendOptions.done). @results (the recipients, as
 * from msgtk_smtp_send) and @error (set when @ok is FALSE) are valid during
 * the call only. */
typedef void (*MsgtkSmtpDoneFunc) (gboolean ok, GPtrArray *results, const GError *error,
                                   gpointer user_data);

typedef struct {
  const char *dsn_notify; /* "SUCCESS,FAILURE,DELAY" or "NEVER"; NULL: none */
  const char *dsn_return; /* "FULL" or "HDRS"; NULL: none */
  const char *envid;      /* DSN ENVID; NULL: none */
  gboolean dry_run;       /* RCPT everyone, then RSET instead of sending */
  gboolean no_chunking;   /* use DATA even when CHUNKING is offered */
  /* Pipelining across messages (RFC 2920): when set and the server offers
   * PIPELINING, a message sent with DATA does not wait for the server's
   * final reply: its closing "." goes out in one write with the next
   * message's commands (or QUIT from msgtk_smtp_quit()), and the reply that
   * then comes back is given to @done. (BDAT needs no such thing: a message
   * takes one round trip.) Whenever msgtk_smtp_send() returns TRUE, @done is called exactly
   * once for the message (right away when nothing was deferred), with
   * @done_data; when it returns FALSE, never. */
  MsgtkSmtpDoneFunc done;
  gpointer done_data;
} MsgtkSmtpSendOptions;

/* One transaction: MAIL FROM @sender, RCPT TO each of @recipients (char *),
 * then the message @data (bytes as given: line endings are made CRLF and
 * DATA is dot-stuffed on the way out; nothing else changes). Pipelined when
 * offered. *@results gets a MsgtkSmtpRecipient per recipient (free with
 * g_ptr_array_unref). Returns TRUE when the message was accepted for at least
 * one recipient (check the results for partial success; with dry_run: when
 * every recipient was accepted; with options->done: when the message went
 * out, its final outcome coming to done). On failure the session is reset
 * and usable unless the error is a connection error (msgtk_smtp_is_usable()). */
gboolean msgtk_smtp_send (MsgtkSmtp *smtp, const char *sender, GPtrArray *recipients, GBytes *data,
                          const MsgtkSmtpSendOptions *options, GPtrArray **results, GError **error);

G_END_DECLS
