/**
 * SECTION:msgtk-submit
 * @title: Submission
 * @short_description: messages and the spool sent over SMTP as sendmail
 *   does it
 *
 * The envelope from options or from the header, Bcc removed, one session
 * for many messages (pipelined across them), a broken session replaced
 * once, what cannot be sent kept in a spool, each message's outcome
 * reported, and the exit code of the whole.
 */
#pragma once

#include <msgtk/smtp-transaction.h>
#include <stdio.h>

G_BEGIN_DECLS

/**
 * MsgtkSubmitOutcome:
 * @MSGTK_SUBMIT_SENT: accepted for every recipient (dry run: would be)
 * @MSGTK_SUBMIT_PARTIAL: accepted for some recipients, refused for others
 * @MSGTK_SUBMIT_FAILED: not sent
 *
 * How a message went.
 */
typedef enum {
  MSGTK_SUBMIT_SENT,
  MSGTK_SUBMIT_PARTIAL,
  MSGTK_SUBMIT_FAILED,
} MsgtkSubmitOutcome;

/**
 * MsgtkSubmitReport:
 * @origin: the message ("path", "path#index", or its file in the spool)
 * @outcome: how it went
 * @results: (nullable) (element-type MsgtkSmtpRecipient): each recipient's
 *   reply; a refused one has its code and is not accepted
 * @n_recipients: how many recipients it was for
 * @n_refused: how many refused it
 * @error: (nullable): %MSGTK_SUBMIT_FAILED: why
 * @kept: (nullable): the spool it was kept in for a later flush (for the
 *   recipients that may still take it), or %NULL
 * @keep_error: (nullable): why it could not be kept
 *
 * One message's outcome; valid during the callback only.
 */
typedef struct {
  const char *origin;
  MsgtkSubmitOutcome outcome;
  GPtrArray *results;
  guint n_recipients;
  guint n_refused;
  const GError *error;
  const char *kept;
  const GError *keep_error;
} MsgtkSubmitReport;

/**
 * MsgtkSubmitOptions:
 * @account: the server and credentials
 * @trace: (nullable): where the protocol dialogue goes, secrets redacted
 * @helo: (nullable): the EHLO name; %NULL: the host name
 * @from: (nullable): the envelope sender; %NULL: the account's, else the header's
 * @recipients: (nullable) (array zero-terminated=1): recipients for every message
 * @read_recipients: add the recipients of the header (To, Cc, Bcc or their Resent- forms)
 * @add_missing: add Date and Message-ID fields where the message has none
 * @dsn_notify: (nullable): DSN NOTIFY
 * @dsn_return: (nullable): DSN RET
 * @envid: (nullable): DSN ENVID
 * @dry_run: check every recipient with the server, send nothing
 * @no_chunking: DATA even where the server offers BDAT
 * @spool: (nullable): where to keep what could not be sent
 * @report: (nullable): each message's outcome, in order
 * @problem: (nullable): an input or message that could not be read or
 *   prepared (@origin nullable), with why
 * @data: for the callbacks
 *
 * How to submit.
 */
typedef struct {
  MsgtkAccount *account;
  FILE *trace;
  const char *helo;
  const char *from;
  char **recipients;
  gboolean read_recipients;
  gboolean add_missing;
  const char *dsn_notify, *dsn_return, *envid;
  gboolean dry_run;
  gboolean no_chunking;
  const char *spool;
  void (*report) (const MsgtkSubmitReport *report, gpointer data);
  void (*problem) (const char *origin, const GError *error, gpointer data);
  gpointer data;
} MsgtkSubmitOptions;

/**
 * MsgtkSubmitResult:
 * @sent: messages accepted (for at least one recipient)
 * @failed: messages not sent (or not read)
 * @partial: messages some recipients refused
 * @kept: messages kept in the spool
 * @exit_code: the most telling sysexits code of all (0: everything went)
 *
 * How a submission went.
 */
typedef struct {
  guint sent, failed, partial, kept;
  int exit_code;
} MsgtkSubmitResult;

/**
 * MsgtkSubmit:
 *
 * A submission in progress: its options, its SMTP session (opened with the
 * first message) and the counts so far. Opaque; made with
 * msgtk_submit_new(), ended and freed with msgtk_submit_finish().
 */
typedef struct _MsgtkSubmit MsgtkSubmit;

/**
 * msgtk_submit_options_check:
 * @options: how to submit
 * @error: return location for an error
 *
 * Whether the values of @options that go on the wire are ones SMTP allows:
 * the EHLO name (msgtk_smtp_check_helo()) and the DSN values
 * (msgtk_smtp_send_options_check()). Check before submitting: a session
 * refuses them later, message by message.
 *
 * Returns: %TRUE if they are; else %FALSE with %MSGTK_ERROR_USAGE.
 */
gboolean msgtk_submit_options_check (const MsgtkSubmitOptions *options, GError **error);

/**
 * msgtk_submit_new:
 * @options: how (kept by reference: it must outlive the submission)
 *
 * Returns: (transfer full): a submission; no connection is made yet.
 */
MsgtkSubmit *msgtk_submit_new (const MsgtkSubmitOptions *options);

/**
 * msgtk_submit_path:
 * @submit: a submission
 * @path: a message, an mbox, a maildir, a directory, or "-"
 *
 * Submits every message of @path over the submission's session.
 */
void msgtk_submit_path (MsgtkSubmit *submit, const char *path);

/**
 * msgtk_submit_flush:
 * @submit: a submission
 * @spool: a spool directory
 *
 * Sends the messages of @spool to their queued recipients, oldest first,
 * with the spool locked against another flush. A message sent (if only to
 * some) leaves the spool; one refused for now stays there under a new name
 * for the recipients that may still take it; one refused for good stays
 * where it was, reported.
 */
void msgtk_submit_flush (MsgtkSubmit *submit, const char *spool);

/**
 * msgtk_submit_finish:
 * @submit: (transfer full): a submission
 * @result: (out caller-allocates): how it went
 *
 * Ends the session (QUIT, whose reply confirms the last message sent) and
 * frees @submit.
 */
void msgtk_submit_finish (MsgtkSubmit *submit, MsgtkSubmitResult *result);

G_END_DECLS
