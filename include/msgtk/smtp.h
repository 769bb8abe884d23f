/* msgtk — an SMTP/ESMTP client session (RFC 5321) for message submission:
 * EHLO/HELO, STARTTLS (RFC 3207), AUTH (RFC 4954), PIPELINING (RFC 2920),
 * SIZE (RFC 1870), 8BITMIME (RFC 6152), SMTPUTF8 (RFC 6531), DSN (RFC 3461),
 * DATA with dot-stuffing, BDAT (CHUNKING, RFC 3030); per-recipient results;
 * many messages per session. Also the message-side helpers: envelope from
 * headers, Bcc removal, missing Date/Message-ID, and a spool of unsent mail. */
#pragma once

#include <msgtk/account.h>
#include <stdio.h>

G_BEGIN_DECLS

typedef struct _MsgtkSmtp MsgtkSmtp;

/* Connect as @account says (port default: 587 STARTTLS, 465 implicit, 25
 * none), read the greeting, EHLO as @helo (NULL: the local host name; HELO
 * if EHLO is refused), and STARTTLS + EHLO again in STARTTLS mode. STARTTLS
 * not offered in that mode is an error before anything else is sent.
 * @trace (nullable) gets the dialogue with secrets redacted. */
MsgtkSmtp *msgtk_smtp_connect (MsgtkAccount *account, const char *helo, FILE *trace,
                               GError **error);

/* AUTH with the strongest mechanism offered and allowed. Does nothing when
 * the account has no credentials. Refuses (MSGTK_ERROR_NO_PERM) to send
 * credentials without TLS unless the account says allow-plaintext-auth. */
gboolean msgtk_smtp_authenticate (MsgtkSmtp *smtp, MsgtkAccount *account, GError **error);

/* Whether the server advertised the EHLO keyword @ext (case-insensitive). */
gboolean msgtk_smtp_has_extension (MsgtkSmtp *smtp, const char *ext);
/* The SIZE limit the server advertised; 0 if none. */
guint64 msgtk_smtp_get_size_limit (MsgtkSmtp *smtp);
/* The mechanism used by msgtk_smtp_authenticate(), or NULL. */
const char *msgtk_smtp_get_auth_mechanism (MsgtkSmtp *smtp);

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

gboolean msgtk_smtp_is_usable (MsgtkSmtp *smtp);

/* QUIT (errors ignored; a deferred final reply is still read and reported)
 * and free. Freeing without QUIT reports a deferred message as not
 * confirmed. */
void msgtk_smtp_quit (MsgtkSmtp *smtp);
void msgtk_smtp_free (MsgtkSmtp *smtp);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MsgtkSmtp, msgtk_smtp_free)

/* The MsgtkError for an SMTP reply code in the context of @command
 * ("MAIL", "RCPT", "DATA", "AUTH", …). */
int msgtk_smtp_reply_error (int code, const char *command);

G_END_DECLS
