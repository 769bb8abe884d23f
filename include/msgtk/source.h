/* msgtk — sources: iterate messages out of a path or a stream.
 *
 * A source is a single message file (.eml), a directory tree of .eml files,
 * an mbox (mboxo/mboxrd, with or without Content-Length), a maildir (cur/ and
 * new/, flags from the ":2," suffix) with its maildir++ sub-folders, or
 * standard input (a single message or an mbox). The format is detected from
 * the content unless given. Archives are streamed: only the current message
 * is held in memory. */
#pragma once

#include <gio/gio.h>
#include <msgtk/flags.h>

G_BEGIN_DECLS

typedef enum {
  MSGTK_SOURCE_FORMAT_AUTO,    /* detect from the path and its content */
  MSGTK_SOURCE_FORMAT_MESSAGE, /* one message (a .eml file or stdin) */
  MSGTK_SOURCE_FORMAT_DIR,     /* a directory tree of *.eml files */
  MSGTK_SOURCE_FORMAT_MBOX,    /* an mbox file or stream */
  MSGTK_SOURCE_FORMAT_MAILDIR, /* a maildir (and its maildir++ folders) */
} MsgtkSourceFormat;

/**
 * MsgtkItem:
 * One message out of a source: its raw bytes exactly as stored (for mbox:
 * without the From_ line and with ">From " quoting undone) plus metadata.
 * All fields are owned by the item; free it with msgtk_item_free().
 */
typedef struct {
  GInputStream *stream;     /* the raw bytes; read it once */
  goffset size;             /* number of bytes @stream yields (headers-only: of the message) */
  MsgtkFlags flags;         /* maildir suffix letters or mbox Status/X-Status */
  GDateTime *internal_date; /* From_ line date or maildir file mtime; NULL if unknown */
  char *path;               /* the file it came from ("-" for stdin) */
  guint index;              /* 1-based position in the source */
  goffset offset;           /* byte offset in @path (mbox: of the From_ line) */
  char *identity;           /* stable identity string, unique in the source */
  char *envelope_sender;    /* mbox: the From_ line's address; NULL otherwise */
  char *folder;             /* maildir++ folder ("Sent", "Lists.gtk"); NULL at the top */
  GBytes *bytes;            /* the bytes @stream yields when the source holds them in memory
                             * anyway (mbox, a stream); NULL otherwise */
} MsgtkItem;

void msgtk_item_free (MsgtkItem *item);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MsgtkItem, msgtk_item_free)

/* Read the whole of @item's stream into memory (the item's stream is then
 * consumed), or, when the item has @bytes, a reference to them. */
GBytes *msgtk_item_read_bytes (MsgtkItem *item, GError **error);

typedef struct _MsgtkSource MsgtkSource;

/* Open @path ("-" is standard input). @format MSGTK_SOURCE_FORMAT_AUTO
 * detects it. A missing or unreadable path is MSGTK_ERROR_NO_INPUT. */
MsgtkSource *msgtk_source_open (const char *path, MsgtkSourceFormat format, GError **error);

/* A source reading @stream (a single message or an mbox); @name is used as
 * the item path. */
MsgtkSource *msgtk_source_new_for_stream (GInputStream *stream, const char *name,
                                          MsgtkSourceFormat format, GError **error);

/* The path (or name) the source was opened with. */
const char *msgtk_source_get_path (MsgtkSource *source);

/* The detected (or given) format. */
MsgtkSourceFormat msgtk_source_get_format (MsgtkSource *source);

/* With @headers_only, the items of an mbox, a directory or a maildir hold
 * only their header block (through the blank line): @stream and @bytes yield
 * that, @size is still the whole message's. Bodies are then neither copied
 * nor (for files) read: for views that need only the header fields. */
void msgtk_source_set_headers_only (MsgtkSource *source, gboolean headers_only);

/* The next message, or NULL: at the end (error unset) or on failure (error
 * set; for an mbox the source stays usable, a directory or maildir entry that
 * cannot be read is reported and the next call goes on with the rest). */
MsgtkItem *msgtk_source_next (MsgtkSource *source, GError **error);

void msgtk_source_free (MsgtkSource *source);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MsgtkSource, msgtk_source_free)

/* "message", "dir", "mbox", "maildir" ("auto" for AUTO). */
const char *msgtk_source_format_name (MsgtkSourceFormat format);

G_END_DECLS
