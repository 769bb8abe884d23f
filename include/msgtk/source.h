/**
 * SECTION:msgtk-source
 * @title: Sources
 * @short_description: iterate messages out of a path or a stream
 *
 * A source is a single message file, an mbox (mboxo/mboxrd, with or without
 * Content-Length), a maildir (cur/ and new/, flags from the ":2," suffix)
 * with its maildir++ sub-folders, a directory tree in any of the layouts
 * mail programs leave, or standard input (a single message or an mbox).
 * Archives are streamed: only the current message is held in memory. Each
 * message comes out as a #MsgtkItem: its raw bytes plus where it came from.
 *
 * What a file holds is told by its content, never by its name: gzip, xz and
 * zstd data by their magic bytes (then decompressed as it is read, and told
 * again), an mbox by its first line (a From_ line followed by a header
 * block), an Apple Mail .emlx file by its first line (the byte count of the
 * message after it), a message by its header block (a field first, and
 * among its fields one that messages have: From, Date, Subject, Received,
 * Message-ID, ...).
 *
 * In a directory tree the files are read in order, each directory's files
 * (names of digits first, by their numbers) before its directories, and
 * each message gets its folder from its place in the tree:
 *
 * - a message file (.eml or any other name, MH's numbered files, an .emlx)
 *   is in the folder of its directory: the directory's path from the root,
 *   '/' between the names ("work/2024"); files at the root are at the top;
 * - an mbox file is a folder named after the file, without ".mbox", ".mbx"
 *   or the compression's suffix (mutt's and pine's ~/Mail/inbox is "inbox",
 *   lists/gtk.gz "lists/gtk");
 * - Thunderbird's NAME.sbd directory holds the subfolders of NAME
 *   (Archives.sbd/2024 is "Archives/2024"); its .msf indexes and its own
 *   files (msgFilterRules.dat, popstate.dat, ...) are passed over, and an
 *   empty mbox file beside its .msf is an empty folder;
 * - an Apple Mail bundle NAME.mbox is the folder NAME: its file "mbox", and
 *   every .emlx file under it (Messages/, Data/N/Messages/) but those of the
 *   bundles nested in it (Work.mbox/Projects.mbox is "Work/Projects");
 *   Info.plist, table_of_contents, .emlxpart files and Attachments/ are
 *   passed over; .emlx flags come from the property list's "flags" (read,
 *   deleted, answered, flagged, draft), the internal date from
 *   "date-received";
 * - an MH folder with .mh_sequences: the messages of its "unseen" sequence
 *   are unread and the others read (as nmh shows them), ",N" and "#N"
 *   files (removed by rmm) are marked deleted; without .mh_sequences,
 *   flags come from the Status fields as for any message file;
 * - a maildir anywhere in the tree is a folder (mbsync's Verbatim layout),
 *   its maildir++ folders under it (".Lists.gtk" and ".Entw&APw-rfe" are
 *   "Lists/gtk" and "Entwürfe"), KMail's .NAME.directory the subfolders of
 *   NAME; names in modified UTF-7 (as Dovecot and Courier store them) are
 *   decoded.
 *
 * Hidden files and directories (".mh_sequences", ".mbsyncstate",
 * ".DS_Store", ...) and the files mail programs keep beside their messages
 * (dovecot-uidlist, dovecot.index*, maildirfolder, courierimap*, Evolution's
 * .cmeta and .ev-summary, ...) are passed over quietly. Everything else
 * that holds no message is named, with what was found there (see
 * msgtk_source_next()).
 */
#pragma once

#include <gio/gio.h>
#include <msgtk/flags.h>

G_BEGIN_DECLS

/**
 * MsgtkSourceFormat:
 * @MSGTK_SOURCE_FORMAT_AUTO: detect from the path and its content
 * @MSGTK_SOURCE_FORMAT_MESSAGE: one message (a file, an .emlx file, stdin;
 *   compressed or not)
 * @MSGTK_SOURCE_FORMAT_DIR: a directory tree in any layout (message files
 *   of any name, mbox files, Thunderbird, Apple Mail, MH, maildirs in it,
 *   compressed files), each file told by its content
 * @MSGTK_SOURCE_FORMAT_MBOX: an mbox file or stream (compressed or not)
 * @MSGTK_SOURCE_FORMAT_MAILDIR: a maildir (with its maildir++ folders and
 *   the tree under it, read as %MSGTK_SOURCE_FORMAT_DIR reads one), or a
 *   maildir's cur/ or new/ given alone
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
 * @flags: from the maildir suffix letters, the Status/X-Status fields (and
 *   Thunderbird's X-Mozilla-Status), an .emlx file's property list or an MH
 *   folder's unseen sequence
 * @internal_date: (nullable): the From_ line's date, the maildir file's
 *   mtime or an .emlx file's date-received; %NULL if unknown
 * @path: the file it came from ("-" for stdin; in a tree, the tree's file)
 * @index: its 1-based position in the source (a whole tree: a file that
 *   cannot be read holds its place)
 * @offset: its byte offset in @path (mbox: of its From_ line; compressed:
 *   in the data decompressed)
 * @identity: a stable identity string, unique in the source
 * @envelope_sender: (nullable): for mbox, the From_ line's address; %NULL
 *   otherwise
 * @folder: (nullable): its folder under the source's root (see the
 *   layouts above): UTF-8 names with '/' between those of a hierarchy
 *   ("Sent", "Lists/gtk"; maildir++ ".Lists.gtk" and ".Entw&APw-rfe" are
 *   "Lists/gtk" and "Entwürfe"); %NULL at the top
 * @bytes: (nullable): the bytes @stream yields when the source holds them in
 *   memory anyway (mbox, a stream, a small file); %NULL otherwise
 * @keywords: (nullable) (array zero-terminated=1): keywords the source
 *   stores beside the message (a maildir's letters a-z, named in Dovecot's
 *   dovecot-keywords), as IMAP keywords; %NULL for none
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
  char **keywords;
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
 *   with cur/ or new/, or named cur or new, is a maildir, another one a
 *   directory tree; a file whose data (decompressed when it is gzip, xz or
 *   zstd) starts with a From_ line is an mbox, anything else one message,
 *   an .emlx file's told by its content)
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
 * @stream: the bytes of a single message or an mbox, or of those
 *   compressed with gzip, xz or zstd (decompressed as they are read; a
 *   reference is taken)
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
 * With @headers_only, items hold only their header block (through the
 * blank line): @stream and @bytes yield that, @size is still the whole
 * message's. Bodies are then neither copied nor (for plain files) read: for
 * views that need only the header fields. It applies to the items that come
 * after it.
 */
void msgtk_source_set_headers_only (MsgtkSource *source, gboolean headers_only);

/**
 * msgtk_source_next:
 * @source: a source
 * @error: return location for an error
 *
 * The next message of @source.
 *
 * In a directory tree or a maildir, whatever yields no message is reported
 * where it stands, with what was found there, and the next call goes on
 * with the rest: with %MSGTK_ERROR_NO_INPUT a file or directory that cannot
 * be read ("cannot read 'PATH': Permission denied", "PATH: cannot read the
 * directory: ...", "PATH: dangling symbolic link (to TARGET)"), with
 * %MSGTK_ERROR_DATA one that holds no message ("PATH: empty file, no
 * message", "PATH: text, not a message", "PATH: binary data, not a
 * message", "PATH: gzip data holding no message", "PATH: directory of 0
 * files, no message", "PATH: a named pipe, not a file: not read", a
 * directory reached again through a link), or compressed data that cannot
 * be read ("PATH: xz data that cannot be read: ..."), after the messages
 * that could be. The files of a directory that hold no message are
 * reported once all of it was read: one by one, or in one line ("PATH:
 * directory of N files, none a message") when none of them held one. A
 * tree that yields nothing at all, not even such a report, ends with one
 * naming it ("PATH: directory holding no message"). An mbox of a tree that
 * cannot be read to its end reports that, and the next call goes on with
 * the next file.
 *
 * An mbox or stream given alone that cannot be read gets the stream's error
 * (%MSGTK_ERROR_DATA for compressed data that cannot be read), an mbox
 * whose file changed under it %MSGTK_ERROR_IO; either ends it: the next
 * call returns %NULL with @error unset.
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
