/* msgtk — compressed files read as they are decompressed: gzip through
 * GLib's GZlibDecompressor, xz (liblzma) and zstd (libzstd), all through one
 * GConverter, so that a GConverterInputStream streams any of them; members,
 * streams and frames one after the other are one file, as gzip, xz and zstd
 * read them. */
#include "decompress-private.h"

#include <lzma.h>
#include <string.h>
#include <zstd.h>

Compression
decompress_sniff (const guint8 *data, gsize len)
{
  if (len >= 3 && memcmp (data, "\x1f\x8b\x08", 3) == 0)
    return COMPRESSION_GZIP;
  if (len >= 6
      && memcmp (data,
                 "\xfd"
                 "7zXZ\0",
                 6)
             == 0)
    return COMPRESSION_XZ;
  if (len >= 4 && memcmp (data, "\x28\xb5\x2f\xfd", 4) == 0)
    return COMPRESSION_ZSTD;
  return COMPRESSION_NONE;
}

const char *
decompress_name (Compression compression)
{
  switch (compression) {
  case COMPRESSION_GZIP: return "gzip";
  case COMPRESSION_XZ: return "xz";
  case COMPRESSION_ZSTD: return "zstd";
  case COMPRESSION_NONE:
  default: return "";
  }
}

const char *
decompress_suffix (Compression compression, const char *name)
{
  static const char *const gzip[] = { ".gz", NULL }, *const xz[] = { ".xz", NULL },
                           *const zstd[] = { ".zst", ".zstd", NULL };
  const char *const *suffixes = compression == COMPRESSION_GZIP   ? gzip
                                : compression == COMPRESSION_XZ   ? xz
                                : compression == COMPRESSION_ZSTD ? zstd
                                                                  : NULL;
  gsize n = strlen (name);
  for (guint i = 0; suffixes != NULL && suffixes[i] != NULL; i++) {
    gsize k = strlen (suffixes[i]);
    if (n > k && g_ascii_strcasecmp (name + n - k, suffixes[i]) == 0)
      return name + n - k;
  }
  return NULL;
}

/* ---- gzip, xz and zstd as a GConverter ---- */

typedef struct {
  GObject parent;
  Compression compression;
  GConverter *zlib;         /* gzip: GLib's decompressor, a member at a time */
  gboolean between_members; /* gzip: a member ended, the next not begun */
  lzma_stream lzma;
  lzma_ret lzma_init; /* what setting up the decoder said */
  ZSTD_DCtx *zstd;
  gboolean in_frame; /* zstd: a frame begun and not ended */
} Decompressor;

typedef GObjectClass DecompressorClass;
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Decompressor, g_object_unref)

static void decompressor_converter_init (GConverterIface *iface);

G_DEFINE_TYPE_WITH_CODE (Decompressor, decompressor, G_TYPE_OBJECT,
                         G_IMPLEMENT_INTERFACE (G_TYPE_CONVERTER, decompressor_converter_init))

static void
decompressor_start (Decompressor *d)
{
  if (d->compression == COMPRESSION_GZIP) {
    if (d->zlib == NULL)
      d->zlib = G_CONVERTER (g_zlib_decompressor_new (G_ZLIB_COMPRESSOR_FORMAT_GZIP));
    else
      g_converter_reset (d->zlib);
    d->between_members = FALSE;
  } else if (d->compression == COMPRESSION_XZ) {
    lzma_end (&d->lzma);
    d->lzma = (lzma_stream)LZMA_STREAM_INIT;
    /* several streams one after the other are one file, as xz reads them */
    d->lzma_init = lzma_stream_decoder (&d->lzma, UINT64_MAX, LZMA_CONCATENATED);
  } else {
    if (d->zstd == NULL)
      d->zstd = ZSTD_createDCtx ();
    else
      ZSTD_DCtx_reset (d->zstd, ZSTD_reset_session_only);
    d->in_frame = FALSE;
  }
}

static void
decompressor_finalize (GObject *object)
{
  Decompressor *d = (Decompressor *)object;
  g_clear_object (&d->zlib);
  lzma_end (&d->lzma);
  ZSTD_freeDCtx (d->zstd);
  G_OBJECT_CLASS (decompressor_parent_class)->finalize (object);
}

static void
decompressor_class_init (DecompressorClass *klass)
{
  klass->finalize = decompressor_finalize;
}

static void
decompressor_init (Decompressor *d)
{
  d->lzma = (lzma_stream)LZMA_STREAM_INIT;
}

/* What is wrong with the data, in words that follow its kind ("xz data"). */
static GConverterResult
invalid (GError **error, const char *what)
{
  g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, what);
  return G_CONVERTER_ERROR;
}

/* No progress without more input: the converter stream reads more (or, at
 * the end of its input, says the data is cut short). */
static GConverterResult
need_input (Decompressor *d, GConverterFlags flags, GError **error)
{
  if (flags & G_CONVERTER_INPUT_AT_END)
    return invalid (error, "cut short");
  if (flags & G_CONVERTER_FLUSH)
    return G_CONVERTER_FLUSHED;
  g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_PARTIAL_INPUT, "need more input");
  return G_CONVERTER_ERROR;
}

static GConverterResult
gzip_convert (Decompressor *d, const void *inbuf, gsize inbuf_size, void *outbuf, gsize outbuf_size,
              GConverterFlags flags, gsize *bytes_read, gsize *bytes_written, GError **error)
{
  if (d->between_members && inbuf_size == 0) {
    *bytes_read = *bytes_written = 0;
    if (flags & G_CONVERTER_INPUT_AT_END)
      return G_CONVERTER_FINISHED;
    return need_input (d, flags, error);
  }
  d->between_members = FALSE;
  GConverterResult r = g_converter_convert (d->zlib, inbuf, inbuf_size, outbuf, outbuf_size, flags,
                                            bytes_read, bytes_written, error);
  if (r != G_CONVERTER_FINISHED)
    return r;
  /* a member ended; another one may follow (cat a.gz b.gz, gzip -c >>) */
  g_converter_reset (d->zlib);
  d->between_members = TRUE;
  if ((flags & G_CONVERTER_INPUT_AT_END) && *bytes_read == inbuf_size)
    return G_CONVERTER_FINISHED;
  return G_CONVERTER_CONVERTED;
}

static GConverterResult
xz_convert (Decompressor *d, const void *inbuf, gsize inbuf_size, void *outbuf, gsize outbuf_size,
            GConverterFlags flags, gsize *bytes_read, gsize *bytes_written, GError **error)
{
  if (d->lzma_init != LZMA_OK)
    return invalid (error, "out of memory");
  lzma_stream *z = &d->lzma;
  z->next_in = inbuf;
  z->avail_in = inbuf_size;
  z->next_out = outbuf;
  z->avail_out = outbuf_size;
  lzma_ret ret = lzma_code (z, (flags & G_CONVERTER_INPUT_AT_END) ? LZMA_FINISH : LZMA_RUN);
  *bytes_read = inbuf_size - z->avail_in;
  *bytes_written = outbuf_size - z->avail_out;
  switch (ret) {
  case LZMA_STREAM_END: return G_CONVERTER_FINISHED;
  case LZMA_OK:
  case LZMA_BUF_ERROR:
    if (*bytes_read == 0 && *bytes_written == 0)
      return need_input (d, flags, error);
    return G_CONVERTER_CONVERTED;
  case LZMA_MEM_ERROR:
  case LZMA_MEMLIMIT_ERROR: return invalid (error, "out of memory");
  default: return invalid (error, "corrupt, or not xz at all");
  }
}

static GConverterResult
zstd_convert (Decompressor *d, const void *inbuf, gsize inbuf_size, void *outbuf, gsize outbuf_size,
              GConverterFlags flags, gsize *bytes_read, gsize *bytes_written, GError **error)
{
  if (d->zstd == NULL)
    return invalid (error, "out of memory");
  ZSTD_inBuffer in = { inbuf, inbuf_size, 0 };
  ZSTD_outBuffer out = { outbuf, outbuf_size, 0 };
  size_t ret = ZSTD_decompressStream (d->zstd, &out, &in);
  if (ZSTD_isError (ret)) {
    return invalid (error, ZSTD_getErrorName (ret));
  }
  *bytes_read = in.pos;
  *bytes_written = out.pos;
  if (in.pos > 0 || out.pos > 0)
    d->in_frame = ret != 0; /* 0: a frame ended, all of it written */
  if (in.pos == 0 && out.pos == 0) {
    if ((flags & G_CONVERTER_INPUT_AT_END) && !d->in_frame)
      return G_CONVERTER_FINISHED;
    return need_input (d, flags, error);
  }
  if ((flags & G_CONVERTER_INPUT_AT_END) && ret == 0 && in.pos == in.size)
    return G_CONVERTER_FINISHED;
  return G_CONVERTER_CONVERTED;
}

static GConverterResult
decompressor_convert (GConverter *converter, const void *inbuf, gsize inbuf_size, void *outbuf,
                      gsize outbuf_size, GConverterFlags flags, gsize *bytes_read,
                      gsize *bytes_written, GError **error)
{
  Decompressor *d = (Decompressor *)converter;
  if (d->compression == COMPRESSION_GZIP)
    return gzip_convert (d, inbuf, inbuf_size, outbuf, outbuf_size, flags, bytes_read,
                         bytes_written, error);
  if (d->compression == COMPRESSION_XZ)
    return xz_convert (d, inbuf, inbuf_size, outbuf, outbuf_size, flags, bytes_read, bytes_written,
                       error);
  return zstd_convert (d, inbuf, inbuf_size, outbuf, outbuf_size, flags, bytes_read, bytes_written,
                       error);
}

static void
decompressor_reset (GConverter *converter)
{
  decompressor_start ((Decompressor *)converter);
}

static void
decompressor_converter_init (GConverterIface *iface)
{
  iface->convert = decompressor_convert;
  iface->reset = decompressor_reset;
}

GInputStream *
decompress_stream (GInputStream *in, Compression compression)
{
  g_autoptr (Decompressor) d = g_object_new (decompressor_get_type (), NULL);
  d->compression = compression;
  decompressor_start (d);
  return g_converter_input_stream_new (in, G_CONVERTER (d));
}
