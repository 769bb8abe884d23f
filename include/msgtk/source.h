/**
 * SECTION:msgtk-source
 * @title: Sources
 * @short_description: iterate messages out of a path or a stream
 *
 * A source is a single message file (.eml), a directory tree of .eml files,
 * an mbox (mboxo/mboxrd, with or without Content-Length), a maildir (cur/ and
 * new/, flags from the ":2," suffix) with its maildir++ sub-folders, or
 * standard input (a single message or an mbox). The format is detected from
 * the content unless given. Archives are streamed: only the current message
 * is held in memory. Each message comes out as a #MsgtkItem: its raw bytes
 * plus where it came from.
 */
#pragma once

#include <gio/gio.h>
#include <msgtk/flags.h>

G_BEGIN_DECLS

/**
 * MsgtkSourceFormat:
 * @MSGTK_SOURCE_FORMAT_AUTO: detect from the path and its content
 * @MSGTK_SOURCE_FORMAT_MESSAGE: one message (a .eml file or stdin)
 * @MSGTK_SOURCE_FORMAT_DIR: a directory tree of *.eml files
 * @MSGTK_SOURCE_FORMAT_MBOX: an mbox file or stream
 * @MSGTK_SOURCE_FORMAT_MAILDIR: a maildir (and its maildir++ folders)
 *
 * The kind of a source.
 */
typedef enum {
  MSGTK_SOURCE_FORMAT_AUTO,
  MSGTK_SOURCE_FORMAT_MESSAGE,
  MSGTK_SOURCE_FORMAT_DIR,
  MSGTK_SOURCE_FORMAT_MBOX,
  MSGTK_SOURCE_FORMAT_MAILDIR,
} MsgtkSourceFormat;

/**
 * MsgtkItem:
 * @stream: the raw bytes; read it once
 * @size: the number of bytes @stream yields (headers-only sources: of the
 *   whole message)
 * @flags: from the maildir suffix letters or the mbox Status/X-Status fields
 * @internal_date: (nullable): the From_ line's date or the maildir file's
 *   mtime; %NULL if unknown
 * @path: the file it came from ("-" for stdin)
 * @index: its 1-based position in the source
 * @offset: its byte offset in @path (mbox: of its From_ line)
 * @identity: a stable identity string, unique in the source
 * @envelope_sender: (nullable): for mbox, the From_ line's address; %NULL
 *   otherwise
 * @folder: (nullable): its folder under the source's root: UTF-8 names
 *   with '/' between those of a hierarchy ("Sent", "Lists/gtk"; maildir++
 *   ".Lists.gtk" and ".Entw&APw-rfe" are "Lists/gtk" and "Entwürfe");
 *   %NULL at the top
 * @bytes: (nullable): the bytes @stream yields when the source holds them in
 *   memory anyway (mbox, a stream, a small file); %NULL otherwise
 *
 * One message out of a source: its raw bytes exactly as stored (for mbox:
 * without the From_ line and with ">From " quoting undone) plus metadata.
 * All fields are owned by the item; free it with msgtk_item_free().
 */
typedef struct {
  GInputStream *stream;
  goffset size;
  MsgtkFlags flags;
  GDateTime *internal_date;
  char *path;
  guint index;
  goffset offset;
  char *identity;
  char *envelope_sender;
  char *folder;
  GBytes *bytes;
} MsgtkItem;

/**
 * msgtk_item_free:
 * @item: (nullable) (transfer full): an item
 *
 * Frees @item and everything it holds.
 */
void msgtk_item_free (MsgtkItem *item);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MsgtkItem, msgtk_item_free)

/**
 * msgtk_item_read_bytes:
 * @item: an item
 * @error: return location for an error
 *
 * The whole of the bytes of @item in memory: a new reference to its @bytes
 * when it has them, else everything its stream yields (the stream is then
 * consumed).
 *
 * Returns: (transfer full): the bytes, or %NULL with the stream's error
 *   (a #GIOErrorEnum, prefixed with the message's index and path) when
 *   reading fails.
 */
GBytes *msgtk_item_read_bytes (MsgtkItem *item, GError **error);

/**
 * MsgtkSource:
 *
 * An open source of messages, read one #MsgtkItem at a time with
 * msgtk_source_next(). Opaque; free it with msgtk_source_free().
 */
typedef struct _MsgtkSource MsgtkSource;

/**
 * msgtk_source_open:
 * @path: a file or directory; "-" is standard input
 * @format: its format; %MSGTK_SOURCE_FORMAT_AUTO detects it (a directory
 *   with cur/ or new/ is a maildir, another one a directory of .eml files;
 *   a file or stream that starts with a From_ line is an mbox, else one
 *   message)
 * @error: return location for an error
 *
 * Opens @path as a source of messages.
 *
 * Returns: (transfer full): the source, or %NULL with %MSGTK_ERROR_NO_INPUT
 *   when @path is missing or unreadable, with %MSGTK_ERROR_USAGE when
 *   @format does not fit it (a file given as a directory or maildir, a
 *   directory as a message or mbox), or with %MSGTK_ERROR_DATA when
 *   @format is %MSGTK_SOURCE_FORMAT_MBOX and the file does not start with
 *   a From_ line.
 */
MsgtkSource *msgtk_source_open (const char *path, MsgtkSourceFormat format, GError **error);

/**
 * msgtk_source_new_for_stream:
 * @stream: the bytes of a single message or an mbox (a reference is taken)
 * @name: the name of the stream, used as the items' path and in errors
 * @format: %MSGTK_SOURCE_FORMAT_AUTO (detected: an mbox when it starts with a
 *   From_ line), %MSGTK_SOURCE_FORMAT_MESSAGE or %MSGTK_SOURCE_FORMAT_MBOX
 * @error: return location for an error
 *
 * A source reading @stream.
 *
 * Returns: (transfer full): the source, or %NULL with %MSGTK_ERROR_USAGE for
 *   a directory or maildir @format, with %MSGTK_ERROR_DATA when an mbox does
 *   not start with a From_ line, or with the stream's error when it cannot be
 *   read.
 */
MsgtkSource *msgtk_source_new_for_stream (GInputStream *stream, const char *name,
                                          MsgtkSourceFormat format, GError **error);

/**
 * msgtk_source_get_path:
 * @source: a source
 *
 * The path of a source.
 *
 * Returns: (transfer none): the path (or name) the source was opened with.
 */
const char *msgtk_source_get_path (MsgtkSource *source);

/**
 * msgtk_source_get_format:
 * @source: a source
 *
 * The format of a source.
 *
 * Returns: the detected (or given) format; never %MSGTK_SOURCE_FORMAT_AUTO.
 */
MsgtkSourceFormat msgtk_source_get_format (MsgtkSource *source);

/**
 * msgtk_source_set_headers_only:
 * @source: a source
 * @headers_only: whether items hold only their header block
 *
 * With @headers_only, the items of an mbox, a directory or a maildir hold
 * only their header block (through the blank line): @stream and @bytes yield
 * that, @size is still the whole message's. Bodies are then neither copied
 * nor (for files) read: for views that need only the header fields. It
 * applies to the items that come after it.
 */
void msgtk_source_set_headers_only (MsgtkSource *source, gboolean headers_only);

/**
 * msgtk_source_next:
 * @source: a source
 * @error: return location for an error
 *
 * The next message of @source. A directory or maildir entry that cannot be
 * read is reported (%MSGTK_ERROR_NO_INPUT) and the next call goes on with
 * the rest. An mbox or stream that cannot be read gets the stream's error,
 * an mbox whose file changed under it %MSGTK_ERROR_IO; either ends it: the
 * next call returns %NULL with @error unset.
 *
 * Returns: (transfer full) (nullable): the next item; %NULL at the end (with
 *   @error unset) or on failure (with @error set).
 */
MsgtkItem *msgtk_source_next (MsgtkSource *source, GError **error);

/**
 * msgtk_source_free:
 * @source: (nullable) (transfer full): a source
 *
 * Closes and frees @source.
 */
void msgtk_source_free (MsgtkSource *source);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MsgtkSource, msgtk_source_free)

/**
 * msgtk_source_format_name:
 * @format: a format
 *
 * The name of a format.
 *
 * Returns: (transfer none): the name of @format: "message", "dir", "mbox",
 *   "maildir" ("auto" for %MSGTK_SOURCE_FORMAT_AUTO).
 */
const char *msgtk_source_format_name (MsgtkSourceFormat format);

G_END_DECLS
