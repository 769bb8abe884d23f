/* msgtk — the one encoder of message data for the wire. */
#include "digest-private.h"
#include "wire-private.h"

#include <string.h>

void
wire_encoder_init (WireEncoder *w, WireFlags flags)
{
  w->flags = flags;
  w->any = FALSE;
  w->last = '\n';
}

gsize
wire_encode (WireEncoder *w, const void *data, gsize len, GByteArray *out)
{
  if (len == 0)
    return 0;
  const char *p = data, *end = p + len;
  guint start = out->len;
  /* the worst case: every byte a "\n" (2 out), or ".\n" (4 out of 2) */
  g_byte_array_set_size (out, (guint)(start + 2 * len));
  char *o = (char *)out->data + start;
  gboolean stuff = (w->flags & WIRE_DOT_STUFF) != 0;
  char last = w->last;
  while (p < end) {
    if (stuff && last == '\n' && *p == '.')
      *o++ = '.';
    const char *nl = memchr (p, '\n', (gsize)(end - p));
    const char *stop = nl != NULL ? nl : end;
    gsize n = (gsize)(stop - p);
    memcpy (o, p, n);
    o += n;
    if (n > 0)
      last = stop[-1];
    if (nl == NULL)
      break;
    if (last != '\r')
      *o++ = '\r';
    *o++ = '\n';
    last = '\n';
    p = nl + 1;
  }
  w->last = last;
  w->any = TRUE;
  g_byte_array_set_size (out, (guint)(o - (char *)out->data));
  return out->len - start;
}

gsize
wire_encode_finish (WireEncoder *w, GByteArray *out)
{
  if (!(w->flags & WIRE_FINAL_CRLF) || !w->any || w->last == '\n')
    return 0;
  g_byte_array_append (out, (const guint8 *)"\r\n", 2);
  w->last = '\n';
  return 2;
}

gsize
wire_encode_all (const void *data, gsize len, WireFlags flags, GByteArray *out)
{
  WireEncoder w;
  wire_encoder_init (&w, flags);
  gsize n = wire_encode (&w, data, len, out);
  return n + wire_encode_finish (&w, out);
}

guint64
wire_size (const void *data, gsize len, WireFlags flags)
{
  const char *d = data, *end = d + len;
  guint64 size = len;
  for (const char *p = d; (p = memchr (p, '\n', (gsize)(end - p))) != NULL; p++)
    if (p == d || p[-1] != '\r')
      size++;
  if ((flags & WIRE_FINAL_CRLF) && len > 0 && d[len - 1] != '\n')
    size += 2;
  return size;
}

char *
wire_sha256 (const void *data, gsize len, WireFlags flags)
{
  struct sha256_ctx ctx;
  sha256_init (&ctx);
  WireEncoder w;
  wire_encoder_init (&w, flags);
  g_autoptr (GByteArray) chunk = g_byte_array_new ();
  const guint8 *p = data;
  /* a chunk at a time: no copy of the whole message */
  for (gsize off = 0, n; off < len; off += n) {
    n = MIN (len - off, (gsize)1024 * 1024);
    g_byte_array_set_size (chunk, 0);
    wire_encode (&w, p + off, n, chunk);
    sha256_update (&ctx, chunk->len, chunk->data);
  }
  g_byte_array_set_size (chunk, 0);
  wire_encode_finish (&w, chunk);
  sha256_update (&ctx, chunk->len, chunk->data);
  return digest_sha256_hex (&ctx);
}
