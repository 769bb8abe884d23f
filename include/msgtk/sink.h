/**
 * SECTION:msgtk-sink
 * @title: Sinks
 * @short_description: writing messages to stdout, a file, an mbox, a maildir
 *   or a directory of .eml files
 *
 * A sink takes messages, as objects or as raw bytes, and writes them where it
 * was opened: standard output, one file (atomically), an mbox (with mboxrd
 * From_ quoting), a maildir (tmp/ then new/ or cur/) or a directory of
 * numbered .eml files. What was written stays only once the sink is
 * committed: a sink that is aborted, or freed before it is committed, undoes
 * what it wrote.
 */
#pragma once

#include <gio/gio.h>
#include <gmime/gmime.h>
#include <msgtk/flags.h>
#include <msgtk/message.h>
#include <msgtk/source.h>

G_BEGIN_DECLS

/**
 * MsgtkSinkKind:
 * @MSGTK_SINK_STDOUT: write to standard output
 * @MSGTK_SINK_FILE: one message to a file, atomically (temp + fsync + rename)
 * @MSGTK_SINK_MBOX: append to an mbox (mboxrd quoting); failure truncates back
 * @MSGTK_SINK_MAILDIR: deliver into a maildir: tmp/ then new/ (or cur/ with flags)
 * @MSGTK_SINK_DIR: a directory of numbered .eml files
 *
 * Where a sink writes.
 */
typedef enum {
  MSGTK_SINK_STDOUT,
  MSGTK_SINK_FILE,
  MSGTK_SINK_MBOX,
  MSGTK_SINK_MAILDIR,
  MSGTK_SINK_DIR,
} MsgtkSinkKind;

/**
 * MsgtkSink:
 *
 * An open sink. Opaque; made with msgtk_sink_new(), freed with
 * msgtk_sink_free().
 */
typedef struct _MsgtkSink MsgtkSink;

/**
 * msgtk_sink_new:
 * @kind: where to write
 * @path: (nullable): the file, mbox, maildir or directory; ignored (and may
 *   be %NULL) for %MSGTK_SINK_STDOUT
 * @error: return location for an error
 *
 * Opens a sink of @kind at @path. Directories for %MSGTK_SINK_MAILDIR (with
 * tmp/, new/ and cur/) and %MSGTK_SINK_DIR are created when missing.
 *
 * Returns: (transfer full): the sink, or %NULL with %MSGTK_ERROR_USAGE for an
 *   unknown @kind, or with %MSGTK_ERROR_CANT_CREATE when the mbox cannot be
 *   opened or a directory cannot be created.
 */
MsgtkSink *msgtk_sink_new (MsgtkSinkKind kind, const char *path, GError **error);

/**
 * msgtk_sink_set_eol:
 * @sink: a sink
 * @eol: the line ends of what is written from now on
 *
 * Sets the line ends of the messages @sink writes (default
 * %MSGTK_EOL_KEEP).
 */
void msgtk_sink_set_eol (MsgtkSink *sink, MsgtkEol eol);

/**
 * msgtk_sink_set_lock_timeout:
 * @sink: a sink
 * @timeout_ms: how long to wait, in milliseconds
 *
 * How long an %MSGTK_SINK_MBOX sink waits at its first message for the
 * mbox's locks (default 30 seconds). An mbox sink takes them as mutt,
 * procmail and Dovecot do: PATH.lock (a stale one, of a process gone or
 * older than 5 minutes, removed; none where the directory does not allow
 * it) and an exclusive fcntl lock, and holds them until it is freed; the
 * first message waits for them, then fails with %MSGTK_ERROR_TEMP_FAIL.
 */
void msgtk_sink_set_lock_timeout (MsgtkSink *sink, guint timeout_ms);

/**
 * msgtk_sink_write_message:
 * @sink: a sink
 * @message: the message
 * @flags: its flags (the maildir file name's suffix; the mbox Status fields
 *   are those of the object)
 * @internal_date: (nullable): dates the mbox From_ line and the file written
 *   (maildir, directory); %NULL: the message's Date
 * @path_out: (out) (optional) (transfer full): the file written (file,
 *   mbox, maildir and directory sinks)
 * @error: return location for an error
 *
 * Writes @message. On a %MSGTK_SINK_MAILDIR sink this and
 * msgtk_sink_write_stream() may be called from several threads at once (not
 * with msgtk_sink_commit() or msgtk_sink_abort()).
 *
 * Returns: %FALSE with %MSGTK_ERROR_IO when writing fails, with
 *   %MSGTK_ERROR_CANT_CREATE when a file cannot be created, or with
 *   %MSGTK_ERROR_USAGE for a second message to a %MSGTK_SINK_FILE sink.
 */
gboolean msgtk_sink_write_message (MsgtkSink *sink, GMimeMessage *message, MsgtkFlags flags,
                                   GDateTime *internal_date, char **path_out, GError **error);

/**
 * msgtk_sink_write_stream:
 * @sink: a sink
 * @input: the raw message bytes, read to their end
 * @flags: its flags (the maildir file name's suffix; an mbox writes them as
 *   Status and X-Status fields)
 * @internal_date: (nullable): dates the mbox From_ line and the file written
 *   (maildir, directory); %NULL: now
 * @envelope_sender: (nullable): the mbox From_ address; %NULL: the message's
 *   Return-Path, else "MAILER-DAEMON"
 * @path_out: (out) (optional) (transfer full): the file written (file,
 *   mbox, maildir and directory sinks)
 * @error: return location for an error
 *
 * Writes the raw message read from @input, byte for byte but for the line
 * ends the sink asks for (msgtk_message_render()).
 *
 * Returns: %FALSE as msgtk_sink_write_message() does, or with the stream's
 *   error when @input cannot be read.
 */
gboolean msgtk_sink_write_stream (MsgtkSink *sink, GInputStream *input, MsgtkFlags flags,
                                  GDateTime *internal_date, const char *envelope_sender,
                                  char **path_out, GError **error);

/**
 * msgtk_sink_write_item:
 * @sink: a sink
 * @item: a message of a source (its stream is read)
 * @error: return location for an error
 *
 * Writes the bytes of @item as msgtk_sink_write_stream() does, with its flags,
 * internal date and envelope sender.
 *
 * Returns: %FALSE as msgtk_sink_write_stream() does; the error names the item
 *   ("path#index: ...").
 */
gboolean msgtk_sink_write_item (MsgtkSink *sink, MsgtkItem *item, GError **error);

/**
 * msgtk_sink_commit:
 * @sink: a sink
 * @error: return location for an error
 *
 * Makes everything written so far permanent (a file: renamed into place;
 * an mbox, a maildir, a directory: synced to disk). Nothing can be written
 * after it. Committing twice does nothing.
 *
 * Returns: %FALSE with %MSGTK_ERROR_IO when syncing fails, or with
 *   %MSGTK_ERROR_CANT_CREATE when a file cannot be renamed into place.
 */
gboolean msgtk_sink_commit (MsgtkSink *sink, GError **error);

/**
 * msgtk_sink_abort:
 * @sink: a sink
 *
 * Undoes everything written since the sink was opened: the temporary file
 * removed, the mbox truncated to its original length, the maildir or
 * directory files removed. Does nothing on a sink already committed or
 * aborted.
 */
void msgtk_sink_abort (MsgtkSink *sink);

/**
 * msgtk_sink_free:
 * @sink: (nullable) (transfer full): a sink
 *
 * Frees @sink; a sink not committed is aborted first.
 */
void msgtk_sink_free (MsgtkSink *sink);

/**
 * msgtk_sink_count:
 * @sink: a sink
 *
 * How many messages were written.
 *
 * Returns: the number of messages written so far.
 */
guint msgtk_sink_count (MsgtkSink *sink);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MsgtkSink, msgtk_sink_free)

G_END_DECLS
