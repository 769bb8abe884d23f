/* msgtk — counting the bytes GMime's base64 and quoted-printable decoders
 * would output, without producing them (private to the library): the MIME
 * tree shows decoded sizes only. */
#pragma once

#include <gmime/gmime.h>

G_BEGIN_DECLS

/* Counting what GMime's base64 and quoted-printable decoders
 * (g_mime_encoding_base64_decode_step(), g_mime_encoding_quoted_decode_step())
 * would output, without producing it: the tree shows decoded sizes only. */
typedef struct {
  GMimeContentEncoding encoding;
  int state;   /* base64: characters of the current quartet, -1 after '=';
                * QP: 0 text, 1 after '=', 2 after '=' and one more */
  guchar save; /* QP: the character after '=' */
  gsize size;
} DecodeCount;

/* Count @len more bytes of encoded content at @p into @c->size. */
void decode_count_update (DecodeCount *c, const guchar *p, gsize len);

G_END_DECLS
