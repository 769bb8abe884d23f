/**
 * SECTION:msgtk-message
 * @title: Messages
 * @short_description: the envelope and header fields of raw messages, and
 *   rendering
 *
 * Messages as bytes: what their header says (the envelope, a field), and the
 * one way a message becomes the bytes that a sink writes or a protocol
 * carries (msgtk_message_render()). Raw messages are never re-serialised:
 * every byte not named by an option stays as it was.
 */
#pragma once

#include <gio/gio.h>
#include <gmime/gmime.h>
#include <msgtk/flags.h>

G_BEGIN_DECLS

/**
 * MsgtkEol:
 * @MSGTK_EOL_KEEP: line ends as they come (GMime serialises with LF)
 * @MSGTK_EOL_CRLF: every line ends in CRLF
 * @MSGTK_EOL_LF: every line ends in LF
 *
 * The line ends of rendered output.
 */
typedef enum {
  MSGTK_EOL_KEEP,
  MSGTK_EOL_CRLF,
  MSGTK_EOL_LF,
} MsgtkEol;

/**
 * MsgtkMessageData:
 * @message: a message object (then @head and @rest are %NULL)
 * @head: the first bytes of a raw message: all of it when @rest is %NULL
 * @rest: (nullable): the bytes that follow @head, read once
 *
 * A message to render: an object, or raw bytes (some in memory, the rest in
 * a stream, so that a large message is never held whole).
 */
typedef struct {
  GMimeMessage *message;
  GBytes *head;
  GInputStream *rest;
} MsgtkMessageData;

/**
 * MsgtkRenderOptions:
 * @eol: the line ends of the output
 * @strip_bcc: remove every Bcc and Resent-Bcc field (with its continuation lines)
 * @add_missing: add Date and Message-ID fields at the top of the header
 *   when the message has none
 * @id_domain: (nullable): the domain of an added Message-ID; %NULL: the host name
 * @set_status: raw messages only: make the Status and X-Status fields say
 *   @flags (as an mbox keeps flags), replacing them at the end of the header
 *   when they say something else
 * @flags: the flags for @set_status
 *
 * What rendering changes; all zero: nothing.
 */
typedef struct {
  MsgtkEol eol;
  gboolean strip_bcc;
  gboolean add_missing;
  const char *id_domain;
  gboolean set_status;
  MsgtkFlags flags;
} MsgtkRenderOptions;

/**
 * msgtk_message_render:
 * @data: the message
 * @options: (nullable): what to change; %NULL: nothing
 * @out: where the bytes go
 * @error: return location for an error
 *
 * Writes the bytes of @data to @out as @options say. This is the one place
 * where a message becomes the bytes a sink writes or a protocol carries.
 * Header edits of a raw message look at its header block only (up to 1 MiB
 * of it); the body streams through. For a message object, @strip_bcc and
 * @add_missing change the object itself.
 *
 * Returns: %FALSE with %MSGTK_ERROR_IO when writing to @out (or reading
 *   @data) fails.
 */
gboolean msgtk_message_render (const MsgtkMessageData *data, const MsgtkRenderOptions *options,
                               GMimeStream *out, GError **error);

/**
 * msgtk_message_render_bytes:
 * @message: a raw message in memory
 * @options: (nullable): what to change
 * @error: return location for an error
 *
 * msgtk_message_render() into memory.
 *
 * Returns: (transfer full): the rendered bytes; a new reference to @message
 *   itself when nothing changes.
 */
GBytes *msgtk_message_render_bytes (GBytes *message, const MsgtkRenderOptions *options,
                                    GError **error);

/**
 * msgtk_message_envelope:
 * @message: a raw message
 * @sender: (inout) (optional): when it points to %NULL, set to the envelope
 *   sender: the address of the newest Resent-Sender or Resent-From when the
 *   message has Resent- recipients, else of Sender, else of From
 * @recipients: (element-type utf8): gets the bare addresses of Resent-To,
 *   Resent-Cc and Resent-Bcc when there are any, else of To, Cc and Bcc
 *   (group members included), each once
 * @error: return location for an error
 *
 * The envelope a message's header gives, as sendmail -t reads it.
 *
 * Returns: %TRUE (a message without these fields has an empty envelope).
 */
gboolean msgtk_message_envelope (GBytes *message, char **sender, GPtrArray *recipients,
                                 GError **error);

/**
 * msgtk_message_get_header:
 * @message: a raw message
 * @name: a field name (any case)
 *
 * A header field of a raw message.
 *
 * Returns: (transfer full) (nullable): the value of the first field named
 *   @name in the header, unfolded and trimmed (encoded words as they are),
 *   or %NULL.
 */
char *msgtk_message_get_header (GBytes *message, const char *name);

/**
 * msgtk_message_get_date:
 * @message: a raw message
 *
 * The date of a raw message.
 *
 * Returns: (transfer full) (nullable): the date of its Date field, or %NULL
 *   when there is none that GMime can read.
 */
GDateTime *msgtk_message_get_date (GBytes *message);

/**
 * msgtk_message_needs_8bit:
 * @message: a raw message
 *
 * Whether a raw message is 8-bit.
 *
 * Returns: whether @message has bytes over 127 (for SMTP: 8BITMIME or
 *   SMTPUTF8 needed).
 */
gboolean msgtk_message_needs_8bit (GBytes *message);

G_END_DECLS
