/* msgtk — compressed files read as they are decompressed (private to the
 * source module): gzip through GLib's GZlibDecompressor, xz through liblzma,
 * zstd through libzstd, each told by its magic bytes. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef enum {
  COMPRESSION_NONE,
  COMPRESSION_GZIP,
  COMPRESSION_XZ,
  COMPRESSION_ZSTD,
} Compression;

/* The longest magic decompress_sniff() looks for. */
#define DECOMPRESS_MAGIC_MAX 6

/* The compression whose magic bytes @data (@len of the stream's first bytes)
 * starts with; COMPRESSION_NONE for none. */
Compression decompress_sniff (const guint8 *data, gsize len);

/* "gzip", "xz", "zstd" ("" for COMPRESSION_NONE). */
const char *decompress_name (Compression compression);

/* The suffix files of @compression are named with (".gz", ".xz", ".zst"),
 * without which @name is what it holds; NULL when @name has none. */
const char *decompress_suffix (Compression compression, const char *name);

/* A stream of what @in (a reference is taken) holds decompressed, gzip
 * members, xz streams and zstd frames one after the other as one; its read
 * errors are G_IO_ERROR_INVALID_DATA (or, for gzip cut short,
 * G_IO_ERROR_PARTIAL_INPUT) for data that is not valid, cut short or more than
 * the decoder's memory limit, in words that follow "xz data" ("cut short"). */
GInputStream *decompress_stream (GInputStream *in, Compression compression);

G_END_DECLS
