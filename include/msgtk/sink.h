/* msgtk — sinks: writing messages to stdout, a file, an mbox, a maildir or a
 * directory of .eml files. */
#pragma once

#include <gio/gio.h>
#include <gmime/gmime.h>
#include <msgtk/flags.h>
#include <msgtk/message.h>
#include <msgtk/source.h>

G_BEGIN_DECLS

typedef enum {
  MSGTK_SINK_STDOUT,  /* write to standard output */
  MSGTK_SINK_FILE,    /* one message to a file, atomically (temp + fsync + rename) */
  MSGTK_SINK_MBOX,    /* append to an mbox (mboxrd quoting); failure truncates back */
  MSGTK_SINK_MAILDIR, /* deliver into a maildir: tmp/ then new/ (or cur/ with flags) */
  MSGTK_SINK_DIR,     /* a directory of numbered .eml files */
} MsgtkSinkKind;

typedef struct _MsgtkSink MsgtkSink;

/* Open a sink of @kind at @path (ignored for STDOUT). Directories for MAILDIR
 * (with tmp/new/cur) and DIR are created when missing. */
MsgtkSink *msgtk_sink_new (MsgtkSinkKind kind, const char *path, GError **error);
void msgtk_sink_set_eol (MsgtkSink *sink, MsgtkEol eol);

/* Write @message. @internal_date (nullable) dates the mbox From_ line and the
 * maildir file; @path_out (nullable) gets the file written (maildir/dir/file).
 * On a MAILDIR sink this and msgtk_sink_write_stream() may be called from
 * several threads at once (not with commit or abort). */
gboolean msgtk_sink_write_message (MsgtkSink *sink, GMimeMessage *message, MsgtkFlags flags,
                                   GDateTime *internal_date, char **path_out, GError **error);
/* Write raw message bytes read from @input. @envelope_sender (nullable) is the
 * mbox From_ address; when NULL, the message's Return-Path, else
 * "MAILER-DAEMON". */
gboolean msgtk_sink_write_stream (MsgtkSink *sink, GInputStream *input, MsgtkFlags flags,
                                  GDateTime *internal_date, const char *envelope_sender,
                                  char **path_out, GError **error);
/* Write @item's bytes as msgtk_sink_write_stream() does, with its flags,
 * internal date and envelope sender (its stream is read); errors name it
 * ("path#index: ..."). */
gboolean msgtk_sink_write_item (MsgtkSink *sink, MsgtkItem *item, GError **error);

/* Make everything written so far permanent (file: rename into place). */
gboolean msgtk_sink_commit (MsgtkSink *sink, GError **error);
/* Undo everything written since the sink was opened: temp file removed, mbox
 * truncated to its original length, maildir/dir files removed. */
void msgtk_sink_abort (MsgtkSink *sink);
/* Free; a sink not committed is aborted first. */
void msgtk_sink_free (MsgtkSink *sink);

/* Number of messages written so far. */
guint msgtk_sink_count (MsgtkSink *sink);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MsgtkSink, msgtk_sink_free)

G_END_DECLS
