/* msgtk — modified UTF-7 (RFC 3501 5.1.3), the form of IMAP mailbox names
 * (and of Dovecot's and Courier's maildir++ folder names on disk). */
#include <msgtk/utf7.h>

#include <string.h>

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

char *
msgtk_utf7_encode (const char *utf8)
{
  if (!g_utf8_validate (utf8, -1, NULL))
    return NULL;
  GString *out = g_string_new (NULL);
  gboolean in_run = FALSE;
  guint32 bits = 0;
  int nbits = 0;
  for (const char *p = utf8; *p; p = g_utf8_next_char (p)) {
    gunichar c = g_utf8_get_char (p);
    if (c >= 0x20 && c <= 0x7e) {
      if (in_run) {
        if (nbits > 0)
          g_string_append_c (out, b64[(bits << (6 - nbits)) & 0x3f]);
        g_string_append_c (out, '-');
        in_run = FALSE;
        bits = 0;
        nbits = 0;
      }
      if (c == '&')
        g_string_append (out, "&-");
      else
        g_string_append_c (out, (char)c);
      continue;
    }
    if (!in_run) {
      g_string_append_c (out, '&');
      in_run = TRUE;
    }
    gunichar2 units[2];
    int nu = 1;
    if (c >= 0x10000) {
      units[0] = 0xd800 + ((c - 0x10000) >> 10);
      units[1] = 0xdc00 + ((c - 0x10000) & 0x3ff);
      nu = 2;
    } else {
      units[0] = (gunichar2)c;
    }
    for (int u = 0; u < nu; u++) {
      bits = (bits << 16) | units[u];
      nbits += 16;
      while (nbits >= 6) {
        nbits -= 6;
        g_string_append_c (out, b64[(bits >> nbits) & 0x3f]);
      }
      bits &= (1u << nbits) - 1;
    }
  }
  if (in_run) {
    if (nbits > 0)
      g_string_append_c (out, b64[(bits << (6 - nbits)) & 0x3f]);
    g_string_append_c (out, '-');
  }
  return g_string_free (out, FALSE);
}

char *
msgtk_utf7_decode (const char *s)
{
  g_autoptr (GString) out = g_string_new (NULL);
  for (const char *p = s; *p;) {
    guchar c = (guchar)*p;
    if (c < 0x20 || c > 0x7e)
      return NULL;
    if (c != '&') {
      g_string_append_c (out, (char)c);
      p++;
      continue;
    }
    p++;
    if (*p == '-') {
      g_string_append_c (out, '&');
      p++;
      continue;
    }
    g_autoptr (GArray) units = g_array_new (FALSE, FALSE, sizeof (gunichar2));
    guint32 bits = 0;
    int nbits = 0;
    while (*p && *p != '-') {
      const char *k = strchr (b64, *p);
      if (k == NULL)
        return NULL;
      bits = (bits << 6) | (guint32)(k - b64);
      nbits += 6;
      if (nbits >= 16) {
        nbits -= 16;
        gunichar2 u = (gunichar2)((bits >> nbits) & 0xffff);
        g_array_append_val (units, u);
        bits &= (1u << nbits) - 1;
      }
      p++;
    }
    if (*p != '-' || units->len == 0 || nbits >= 6 || bits != 0)
      return NULL;
    p++;
    g_autofree char *u8
        = g_utf16_to_utf8 ((const gunichar2 *)units->data, units->len, NULL, NULL, NULL);
    if (u8 == NULL)
      return NULL;
    g_string_append (out, u8);
  }
  return g_string_free (g_steal_pointer (&out), FALSE);
}
