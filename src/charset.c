/* msgtk — charsets: the per-thread iconv cache and conversions to UTF-8. */
#include <msgtk/init.h>

#include "charset-private.h"

#include <errno.h>
#include <gmime/gmime.h>
#include <string.h>

const char *const charset_default_fallbacks[] = { "UTF-8", "windows-1252", NULL };

/* At most this many converters are kept per thread; beyond, they are opened
 * per use. Unknown conversions are remembered as (iconv_t)-1. */
#define CACHE_MAX 64

static void
cache_close (gpointer cd)
{
  if ((iconv_t)cd != (iconv_t)-1)
    g_mime_iconv_close ((iconv_t)cd);
}

static GPrivate cache = G_PRIVATE_INIT ((GDestroyNotify)g_hash_table_unref);

iconv_t
charset_iconv (const char *to, const char *from, gboolean *owned)
{
  *owned = FALSE;
  GHashTable *table = g_private_get (&cache);
  if (table == NULL) {
    msgtk_init (); /* GMime's charset names */
    table = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, cache_close);
    g_private_set (&cache, table);
  }
  char key[128];
  int n = g_snprintf (key, sizeof key, "%s\n%s", to, from);
  gpointer v;
  if (n < (int)sizeof key && g_hash_table_lookup_extended (table, key, NULL, &v)) {
    iconv_t cd = (iconv_t)v;
    if (cd != (iconv_t)-1)
      iconv (cd, NULL, NULL, NULL, NULL); /* back to the initial shift state */
    return cd;
  }
  iconv_t cd = g_mime_iconv_open (to, from);
  if (n < (int)sizeof key && g_hash_table_size (table) < CACHE_MAX)
    g_hash_table_insert (table, g_strdup (key), (gpointer)cd);
  else
    *owned = cd != (iconv_t)-1;
  return cd;
}

void
charset_iconv_release (iconv_t cd, gboolean owned)
{
  if (owned)
    g_mime_iconv_close (cd);
}

char *
charset_convert (const char *text, gssize len, const char *to, const char *from, gsize *bytes_read,
                 gsize *bytes_written, GError **error)
{
  gboolean owned;
  iconv_t cd = charset_iconv (to, from, &owned);
  if (cd == (iconv_t)-1) {
    g_set_error (error, G_CONVERT_ERROR, G_CONVERT_ERROR_NO_CONVERSION,
                 "conversion from %s to %s is not supported", from, to);
    return NULL;
  }
  char *out = g_convert_with_iconv (text, len, (GIConv)cd, bytes_read, bytes_written, error);
  charset_iconv_release (cd, owned);
  return out;
}

char *
charset_to_utf8_strict (const char *data, gsize len, const char *charset)
{
  const char *name = g_mime_charset_iconv_name (charset);
  if (g_ascii_strcasecmp (name, "UTF-8") == 0 || g_ascii_strcasecmp (name, "utf8") == 0) {
    if (!g_utf8_validate_len (data, len, NULL))
      return NULL;
    return g_strndup (data, len);
  }
  if (g_ascii_strcasecmp (name, "us-ascii") == 0 || g_ascii_strcasecmp (name, "ascii") == 0) {
    for (gsize i = 0; i < len; i++)
      if ((guchar)data[i] >= 0x80 || data[i] == '\0')
        return NULL;
    return g_strndup (data, len);
  }
  gboolean owned;
  iconv_t cd = charset_iconv ("UTF-8", name, &owned);
  if (cd == (iconv_t)-1)
    return NULL;
  gsize cap = len * 4 + 16;
  char *out = g_malloc (cap + 1);
  char *inbuf = (char *)data, *outbuf = out;
  gsize inleft = len, outleft = cap;
  gboolean ok = TRUE;
  while (inleft > 0) {
    if (g_mime_iconv (cd, &inbuf, &inleft, &outbuf, &outleft) == (size_t)-1) {
      if (errno == E2BIG) {
        gsize used = (gsize)(outbuf - out);
        cap *= 2;
        out = g_realloc (out, cap + 1);
        outbuf = out + used;
        outleft = cap - used;
        continue;
      }
      ok = FALSE;
      break;
    }
  }
  if (ok && g_mime_iconv (cd, NULL, NULL, &outbuf, &outleft) == (size_t)-1)
    ok = FALSE;
  charset_iconv_release (cd, owned);
  if (!ok) {
    g_free (out);
    return NULL;
  }
  *outbuf = '\0';
  gsize outlen = (gsize)(outbuf - out);
  if (memchr (out, '\0', outlen) != NULL || !g_utf8_validate_len (out, outlen, NULL)) {
    g_free (out);
    return NULL;
  }
  return out;
}

gboolean
msgtk_charset_is_known (const char *charset)
{
  msgtk_init ();
  gboolean owned;
  iconv_t cd = charset_iconv ("UTF-8", g_mime_charset_iconv_name (charset), &owned);
  charset_iconv_release (cd, owned);
  return cd != (iconv_t)-1;
}

static void
hold_name (const char *name)
{
  gboolean owned;
  iconv_t cd = charset_iconv ("UTF-8", g_mime_charset_iconv_name (name), &owned);
  charset_iconv_release (cd, owned);
}

void
charset_hold (const char *const *names)
{
  msgtk_init ();
  for (const char *const *n = names; *n != NULL; n++)
    hold_name (*n);
}

void
charset_hold_value (const char *v)
{
  for (const char *p = v; (p = strpbrk (p, "?'")) != NULL; p++) {
    const char *start = p;
    if (*p == '?') {
      if (p == v || p[-1] != '=')
        continue;
      start = p + 1;
      p = strpbrk (start, "?* \t\r\n");
    } else {
      while (start > v && (g_ascii_isalnum (start[-1]) || strchr ("-_:.", start[-1]) != NULL))
        start--;
      if (start - v < 2 || start[-1] != '=' || start[-2] != '*')
        continue;
    }
    if (p == NULL)
      break;
    gsize len = (gsize)(p - start);
    if (len == 0 || len > 40)
      continue;
    char name[41];
    memcpy (name, start, len);
    name[len] = '\0';
    hold_name (name);
  }
}

char *
msgtk_charset_to_utf8 (const char *data, gssize len, const char *charset,
                       const char *const *fallback_charsets, gboolean *replaced)
{
  gsize n = len < 0 ? strlen (data) : (gsize)len;
  if (replaced != NULL)
    *replaced = FALSE;
  /* NUL bytes are never text: they go as replacements */
  gboolean has_nul = memchr (data, '\0', n) != NULL;
  if (!has_nul) {
    msgtk_init ();
    char *s;
    if (charset != NULL && *charset != '\0'
        && (s = charset_to_utf8_strict (data, n, charset)) != NULL)
      return s;
    const char *const *fb
        = fallback_charsets != NULL ? fallback_charsets : charset_default_fallbacks;
    for (; *fb != NULL; fb++)
      if ((s = charset_to_utf8_strict (data, n, *fb)) != NULL)
        return s;
  }
  if (replaced != NULL)
    *replaced = TRUE;
  GString *out = g_string_sized_new (n);
  const char *p = data, *end = data + n;
  while (p < end) {
    const char *bad;
    if (g_utf8_validate_len (p, (gsize)(end - p), &bad)
        && memchr (p, '\0', (gsize)(end - p)) == NULL) {
      g_string_append_len (out, p, end - p);
      break;
    }
    const char *nul = memchr (p, '\0', (gsize)(end - p));
    if (nul != NULL && nul < bad)
      bad = nul;
    g_string_append_len (out, p, bad - p);
    g_string_append (out, "\xEF\xBF\xBD");
    p = bad + 1;
  }
  return g_string_free (out, FALSE);
}
