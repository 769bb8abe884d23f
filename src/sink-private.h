/* msgtk — the sink module's inside: one interface, a backend per kind
 * (sink.c: standard output and a file; sink-mbox.c; sink-maildir.c: a
 * maildir and a directory of .eml files). */
#pragma once

#include <msgtk/error.h>
#include <msgtk/sink.h>

#include "delivery-private.h"
#include "mbox-lock-private.h"

G_BEGIN_DECLS

/* One message to write. */
typedef struct {
  MsgtkMessageData data; /* an object, or raw bytes (head and rest) */
  MsgtkFlags flags;
  GDateTime *date;    /* nullable: dates the mbox From_ line and the maildir file */
  const char *sender; /* mbox From_ address; NULL: the Return-Path, else MAILER-DAEMON */
  char **path_out;    /* nullable: gets the file written */
  const char *name;   /* MAILDIR: the file's name (sink_reserve_name()); NULL: a new one */
} SinkPayload;

typedef struct {
  gboolean (*open) (MsgtkSink *sink, GError **error);
  gboolean (*write) (MsgtkSink *sink, const SinkPayload *payload, GError **error);
  gboolean (*commit) (MsgtkSink *sink, GError **error);
  void (*abort) (MsgtkSink *sink);
  void (*close) (MsgtkSink *sink);
} SinkBackend;

struct _MsgtkSink {
  const SinkBackend *backend;
  MsgtkSinkKind kind;
  char *path;
  MsgtkEol eol;
  guint count;   /* atomic: a maildir may be written from several threads */
  gboolean done; /* committed or aborted */
  /* the backends' state */
  int fd;                   /* MBOX: the mbox */
  off_t orig_length;        /* MBOX: its length before the first message */
  off_t end;                /* MBOX: its length after our last message */
  gboolean locked;          /* MBOX: @lock is held (from the first message on) */
  MboxLock lock;            /* MBOX */
  guint lock_timeout_ms;    /* MBOX: how long to wait for the lock */
  AtomicFile *file;         /* FILE: the temporary file */
  MaildirDelivery *maildir; /* MAILDIR */
  GPtrArray *written;       /* DIR: files written (removed on abort) */
  guint seq;                /* DIR: the next number to try */
};

/* Whether the sink takes messages in any order (a maildir): then they may
 * be written from several threads at once. */
gboolean sink_takes_any_order (MsgtkSink *sink);

/* A maildir file name for a message to be written later (from any thread)
 * with sink_write_message_named(), given out in the caller's order; NULL
 * for sinks that do not name their messages so. */
char *sink_reserve_name (MsgtkSink *sink);

/* msgtk_sink_write_message() under the name @name from sink_reserve_name(). */
gboolean sink_write_message_named (MsgtkSink *sink, const char *name, GMimeMessage *message,
                                   GError **error);

extern const SinkBackend sink_stdout_backend, sink_file_backend, sink_mbox_backend,
    sink_maildir_backend, sink_dir_backend;

/* Render @payload to @fd (not closed), through @extra (nullable: a filter
 * of the sink's own, such as mbox quoting) below the line-end conversion;
 * errors name @path. */
gboolean sink_render (MsgtkSink *sink, int fd, const SinkPayload *payload, GMimeFilter *extra,
                      const char *path, GError **error);

/* Write all of @buf to @fd; errors name @path. */
gboolean sink_write_all (int fd, const char *buf, gsize len, const char *path, GError **error);

/* g_set_error() of @err (an errno) with @what and @path. */
gboolean sink_errno_error (GError **error, int err, MsgtkError code, const char *what,
                           const char *path);

G_END_DECLS
