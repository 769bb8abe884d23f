/* msgtk — the one SASL exchange every protocol runs (library-private).
 *
 * A protocol describes how it carries SASL (its "SASL profile", RFC 4422 4)
 * in a MsgtkSaslProfile: whether and how long an initial response may ride
 * on the command that starts the exchange, and callbacks that put the
 * protocol's lines on its connection and read and classify the server's
 * next message. sasl_exchange() runs the exchange itself: the
 * mechanism's steps, the cancellation when the client side fails, and the
 * check that the server's final message is verified before its success is
 * believed. SMTP AUTH (RFC 4954) and IMAP AUTHENTICATE (RFC 3501, 4959) use
 * it; so will POP3 AUTH (RFC 5034). */
#pragma once

#include <msgtk/account.h>
#include <msgtk/connection.h>
#include <msgtk/sasl.h>

#include "error-private.h"

G_BEGIN_DECLS

/* What the server's message says (RFC 4422 3.4, 3.6). */
typedef enum {
  MSGTK_SASL_CHALLENGE, /* the server wants more: @data */
  MSGTK_SASL_SUCCESS,   /* the server accepts; @data: its additional data with success, or NULL */
  MSGTK_SASL_FAILURE,   /* the server refuses: @code, @hint, @text */
} MsgtkSaslOutcome;

typedef struct {
  MsgtkSaslOutcome outcome;
  /* CHALLENGE: the base64 text ("" for an empty challenge). SUCCESS: the
   * base64 additional data where the protocol carries it in its success
   * message, else NULL (SMTP's 235 and IMAP's tagged OK carry none: their
   * text is for people, and servers send a final message as a challenge). */
  char *data;
  MsgtkError code;     /* FAILURE: what the refusal means (535 → NO_PERM) */
  MsgtkErrorHint hint; /* FAILURE: what the user can do about it */
  char *text;          /* FAILURE: the server's words, as the error shows them */
} MsgtkSaslReply;

void sasl_reply_clear (MsgtkSaslReply *reply);

/* How a protocol carries a SASL exchange. @session is the protocol's own. */
typedef struct {
  const char *protocol; /* "SMTP", "IMAP", "POP3": for messages */
  /* Whose trace hides the server's lines while the exchange runs (its
   * challenges can hold secrets, e.g. a CRAM-MD5 or SCRAM nonce); nullable. */
  MsgtkConnection *connection;
  /* Whether the command that starts the exchange may carry the initial
   * response of a client-first mechanism: SMTP always (RFC 4954 4), IMAP
   * with SASL-IR (RFC 4959), POP3 always (RFC 5034 4). */
  gboolean initial_response;
  /* The most octets the mechanism name and the initial response may take
   * together in that command; 0: no limit. A longer initial response goes
   * after the server's empty challenge instead. POP3: 255 - 8 = 247 (the
   * command line, "AUTH" SP mech SP response CRLF, is limited to 255
   * octets; RFC 5034 4, RFC 2449 4). */
  gsize max_initial;
  /* Queue the command that starts the exchange with @mechanism, carrying
   * @initial (base64; "=" stands for an empty one) or not (NULL). The line
   * holds a secret: trace only the part before @initial. */
  void (*start) (gpointer session, const char *mechanism, const char *initial);
  /* Queue a response to a challenge: base64, "" for an empty one; a secret. */
  void (*respond) (gpointer session, const char *response);
  /* Queue the client's cancellation of the exchange ("*" in all three). */
  void (*cancel) (gpointer session);
  /* Send what is queued, then read the server's next message and classify
   * it into @reply. FALSE with @error when it could not be read (connection
   * lost, malformed reply): the exchange ends there. */
  gboolean (*read) (gpointer session, MsgtkSaslReply *reply, GError **error);
} MsgtkSaslProfile;

/* Run the exchange of @sasl over @profile: start (with the initial response
 * where the profile allows it), answer each challenge with the mechanism's
 * next step, and take the outcome. TRUE only when the server accepted and
 * the mechanism has finished: a success that comes before (SCRAM: without a
 * server signature that verified) is MSGTK_ERROR_NO_PERM, as is a final
 * message (a challenge or additional data with success) that the mechanism
 * refuses; a client-side failure mid-exchange is cancelled as the protocol
 * says. A refusal is the error the profile classified it as. */
gboolean sasl_exchange (MsgtkSasl *sasl, const MsgtkSaslProfile *profile, gpointer session,
                        GError **error);

/* The error for a refusal of @mechanism by the @protocol server @host, in
 * the words of @reply (a FAILURE): shared with IMAP's LOGIN command. */
void sasl_set_refused (GError **error, const char *protocol, const char *host,
                       const char *mechanism, const char *user, const MsgtkSaslReply *reply);

/* Credentials go over TLS only: FALSE with MSGTK_ERROR_NO_PERM (hint: TLS
 * for credentials) when the session to the @protocol server @host is not
 * @secure and @account does not allow plaintext authentication. */
gboolean sasl_check_secure (MsgtkAccount *account, gboolean secure, const char *protocol,
                            const char *host, GError **error);

G_END_DECLS
