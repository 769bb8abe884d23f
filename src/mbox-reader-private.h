/* msgtk — the mbox reader, private to the source module. */
#pragma once

#include <msgtk/source.h>

G_BEGIN_DECLS

typedef struct _MboxReader MboxReader;

/* A reader of @in; items carry @path as their path, identities @abs_path. */
MboxReader *mbox_reader_new (GInputStream *in, const char *path, const char *abs_path);
void mbox_reader_free (MboxReader *reader);

/* Items with their header block only (see msgtk_source_set_headers_only()). */
void mbox_reader_set_headers_only (MboxReader *reader, gboolean headers_only);

/* Whether the stream starts with a From_ line (a UTF-8 byte order mark
 * before it is passed over). */
gboolean mbox_reader_starts_with_from (MboxReader *reader, GError **error);

/* The next bytes of the stream, up to @want of them (fewer at its end), left
 * unread (valid until the next call on @reader); NULL when reading fails. */
const guint8 *mbox_reader_peek (MboxReader *reader, gsize want, gsize *len, GError **error);

/* Read the first From_ line: MSGTK_ERROR_DATA when there is none. */
gboolean mbox_reader_start (MboxReader *reader, GError **error);

/* The next message; NULL at the end (error unset) or on failure. */
MsgtkItem *mbox_reader_next (MboxReader *reader, GError **error);

/* The rest of the stream as one message. */
MsgtkItem *mbox_reader_take_all (MboxReader *reader, GError **error);

/* @a as bytes, its spare capacity (up to as much again as its length, from
 * growing) given back: messages wait in memory while others are parsed. */
GBytes *mbox_bytes_fitted (GByteArray *a);

/* The flags the Status and X-Status fields of a header block say (and
 * Thunderbird's X-Mozilla-Status), and (when @content_length is not NULL)
 * its Content-Length field. */
MsgtkFlags mbox_header_info (const guint8 *data, gsize len, char **content_length);

G_END_DECLS
