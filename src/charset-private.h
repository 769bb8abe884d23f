/* msgtk — the one per-thread cache of iconv converters (private to the
 * library). Converters are opened through GMime (its charset names) and
 * kept open by the calling thread, so that no thread waits for another and
 * no gconv module is loaded and unloaded per message. */
#pragma once

#include <msgtk/charset.h>

#include <iconv.h>

G_BEGIN_DECLS

/* The default fallback charsets: UTF-8, windows-1252. */
extern const char *const charset_default_fallbacks[];

/* A converter from @from to @to in its initial shift state, or (iconv_t)-1
 * when iconv has no such conversion. It belongs to the calling thread's
 * cache: give it back with charset_iconv_release(), never close it. */
iconv_t charset_iconv (const char *to, const char *from, gboolean *owned);
void charset_iconv_release (iconv_t cd, gboolean owned);

/* g_convert() through the cache: G_CONVERT_ERROR on failure, with
 * *@bytes_read telling where. */
char *charset_convert (const char *text, gssize len, const char *to, const char *from,
                       gsize *bytes_read, gsize *bytes_written, GError **error);

/* Strict conversion of @len bytes from @charset to UTF-8; NULL when the
 * charset is unknown or the bytes are not valid in it (or hold a NUL). */
char *charset_to_utf8_strict (const char *data, gsize len, const char *charset);

/* Keep open the converters GMime's decoding of the raw header value @value
 * will want: those of its encoded words ("=?koi8-r?B?...?=") and RFC 2231
 * values ("koi8-r'ru'..."). */
void charset_hold_value (const char *value);

/* The same for @names (NULL-terminated), e.g. the fallback charsets. */
void charset_hold (const char *const *names);

G_END_DECLS
