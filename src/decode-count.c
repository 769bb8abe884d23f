/* msgtk — decoded sizes counted 16 bytes at a time. */
#include "decode-count-private.h"
#include "simd-private.h"

#include <string.h>

static inline gboolean
is_base64_char (guchar x)
{
  return (guchar)((x | 32) - 'a') < 26 || (guchar)(x - '0') < 10 || x == '+' || x == '/';
}

/* How many of @len bytes at @p are base64 characters: 16 at a time with
 * vector compares (GCC/clang vector extensions, SSE2 or NEON or plain code,
 * whatever the target has), counted per lane for up to 255 blocks. */
static gsize
base64_chars (const guchar *p, gsize len)
{
  gsize chars = 0, i = 0;
  while (len - i >= 16) {
    Bytes16 lanes = { 0 };
    gsize blocks = MIN ((len - i) / 16, 255);
    for (gsize b = 0; b < blocks; b++, i += 16) {
      Bytes16 x;
      memcpy (&x, p + i, 16);
      lanes -= (Bytes16)(((x | 32) - 'a' < 26) | (x - '0' < 10) | (x == '+') | (x == '/'));
    }
    for (int k = 0; k < 16; k++)
      chars += lanes[k];
  }
  for (; i < len; i++)
    chars += is_base64_char (p[i]);
  return chars;
}

void
decode_count_update (DecodeCount *c, const guchar *p, gsize len)
{
  const guchar *end = p + len;
  if (c->encoding == GMIME_CONTENT_ENCODING_BASE64) {
    if (c->state < 0)
      return; /* the stream ended at a '=' */
    const guchar *eq = memchr (p, '=', len);
    gsize chars = base64_chars (p, (gsize)((eq != NULL ? eq : end) - p));
    chars += (gsize)c->state;
    c->size += 3 * (chars / 4);
    c->state = (int)(chars % 4);
    if (eq != NULL) {
      /* with the '=', 3 or 4 characters of a quartet give 1 or 2 bytes */
      int n = c->state + 1;
      if (n > 2)
        c->size += n == 3 ? 1 : 2;
      c->state = -1;
    }
    return;
  }
  while (p < end) { /* quoted-printable */
    if (c->state == 0) {
      const guchar *eq = memchr (p, '=', (gsize)(end - p));
      c->size += (gsize)((eq != NULL ? eq : end) - p);
      if (eq == NULL)
        return;
      if (end - eq >= 3) { /* the whole of it is here: as states 1 and 2 do */
        if (eq[1] == '\n') {
          p = eq + 2;
          continue;
        }
        if (g_ascii_isxdigit (eq[1]) && g_ascii_isxdigit (eq[2]))
          c->size += 1;
        else if (!(eq[2] == '\n' && eq[1] == '\r'))
          c->size += 3;
        p = eq + 3;
        continue;
      }
      p = eq + 1;
      c->state = 1;
    } else if (c->state == 1) {
      guchar ch = *p++;
      if (ch == '\n')
        c->state = 0; /* a soft line break */
      else {
        c->save = ch;
        c->state = 2;
      }
    } else {
      guchar ch = *p++;
      if (g_ascii_isxdigit (ch) && g_ascii_isxdigit (c->save))
        c->size += 1;
      else if (!(ch == '\n' && c->save == '\r'))
        c->size += 3; /* not an escape: "=" and both kept */
      c->state = 0;
    }
  }
}
