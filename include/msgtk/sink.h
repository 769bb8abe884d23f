/* msgtk — sinks: writing messages to stdout, a file, an mbox, a maildir or a
 * directory of .eml files. */
#pragma once

#include <gio/gio.h>
#include <gmime/gmime.h>

G_BEGIN_DECLS

/**
 * MsgtkFlags:
 * Message flags as kept by maildir (info suffix letters) and mbox
 * (Status / X-Status headers) and IMAP (\Seen, \Answered, ...).
 */
typedef enum {
  MSGTK_FLAG_NONE = 0,
  MSGTK_FLAG_SEEN = 1 << 0,     /* maildir S, mbox Status R, IMAP \Seen */
  MSGTK_FLAG_ANSWERED = 1 << 1, /* maildir R, mbox X-Status A, IMAP \Answered */
  MSGTK_FLAG_FLAGGED = 1 << 2,  /* maildir F, mbox X-Status F, IMAP \Flagged */
  MSGTK_FLAG_DELETED = 1 << 3,  /* maildir T, mbox X-Status D, IMAP \Deleted */
  MSGTK_FLAG_DRAFT = 1 << 4,    /* maildir D, mbox X-Status T, IMAP \Draft */
} MsgtkFlags;

/* Maildir info letters for @flags in ASCII order ("DFRST" subset); never NULL. */
char *msgtk_flags_to_maildir (MsgtkFlags flags);
/* Flags from maildir info letters ("FRS"); unknown letters are ignored. */
MsgtkFlags msgtk_flags_from_maildir (const char *letters);
/* Flags from a maildir file name: the letters after ":2," (none: 0). */
MsgtkFlags msgtk_flags_from_maildir_name (const char *filename);
/* mbox Status ("RO" or "O") and X-Status ("AFTD" subset, may be "") values. */
void msgtk_flags_to_mbox_status (MsgtkFlags flags, char **status, char **x_status);
/* Flags from mbox Status and X-Status header values (either may be NULL). */
MsgtkFlags msgtk_flags_from_mbox_status (const char *status, const char *x_status);

typedef enum {
  MSGTK_SINK_STDOUT,  /* write to standard output */
  MSGTK_SINK_FILE,    /* one message to a file, atomically (temp + fsync + rename) */
  MSGTK_SINK_MBOX,    /* append to an mbox (mboxrd quoting); failure truncates back */
  MSGTK_SINK_MAILDIR, /* deliver into a maildir: tmp/ then new/ (or cur/ with flags) */
  MSGTK_SINK_DIR,     /* a directory of numbered .eml files */
} MsgtkSinkKind;

typedef enum {
  MSGTK_EOL_KEEP, /* bytes as they come (GMime serialises with LF) */
  MSGTK_EOL_CRLF, /* every line ends in CRLF */
  MSGTK_EOL_LF,   /* every line ends in LF */
} MsgtkEol;

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
