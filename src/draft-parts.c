/* msgtk — the MIME body of a draft: text parts in the charset that fits,
 * attachments streamed from their files with a type from the name or the
 * content, inline parts in multipart/related, alternatives, mixed. */
#include <msgtk/error.h>

#include "charset-private.h"
#include "draft-private.h"
#include "encode-private.h"
#include "error-private.h"
#include "gmime-autoptr-private.h"

#include <fcntl.h>
#include <glib/gstdio.h>
#include <inttypes.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>

char *
draft_derived (DraftBuild *b, const char *what, guint n)
{
  g_autofree char *in = g_strdup_printf ("%s/%s/%u", b->seed_hex, what, n);
  return g_compute_checksum_for_string (G_CHECKSUM_SHA256, in, -1);
}

static void
set_boundary (DraftBuild *b, GMimeMultipart *mp)
{
  if (!b->d->reproducible)
    return;
  g_autofree char *h = draft_derived (b, "boundary", b->boundaries++);
  g_autofree char *boundary = g_strdup_printf ("=-%.*s", 32, h);
  g_mime_multipart_set_boundary (mp, boundary);
}

/* Body bytes → canonical UTF-8 (LF line endings). */
char *
draft_body_to_utf8 (MsgtkDraft *d, const char *what, GBytes *bytes, gboolean is_utf8, gsize *len,
                    GError **error)
{
  gsize n;
  const char *data = g_bytes_get_data (bytes, &n);
  if (data == NULL) /* an empty GBytes ("text": "") may have no data at all */
    data = "";
  const char *incs = d->input_charset && !is_utf8 ? d->input_charset : "UTF-8";
  char *utf8;
  if (g_ascii_strcasecmp (incs, "UTF-8") == 0 || g_ascii_strcasecmp (incs, "UTF8") == 0) {
    const char *end;
    if (!g_utf8_validate_len (data, n, &end)) {
      error_set_hint (error, MSGTK_ERROR_HINT_INPUT_CHARSET, MSGTK_ERROR_DATA,
                      "%s is not valid UTF-8 at byte %ld", what, (long)(end - data));
      return NULL;
    }
    utf8 = g_strndup (data, n);
  } else {
    g_autoptr (GError) e = NULL;
    gsize read = 0;
    utf8 = charset_convert (data, (gssize)n, "UTF-8", incs, &read, NULL, &e);
    if (!utf8) {
      g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_DATA, "%s is not valid %s at byte %lu: %s", what,
                   incs, (unsigned long)read, e->message);
      return NULL;
    }
  }
  /* CRLF and lone CR → LF: output is canonical; the sink picks the line ending. */
  char *w = utf8;
  for (const char *r = utf8; *r; r++) {
    if (*r == '\r') {
      if (r[1] != '\n')
        *w++ = '\n';
      continue;
    }
    *w++ = *r;
  }
  *w = '\0';
  *len = (gsize)(w - utf8);
  return utf8;
}

static GMimeObject *
text_part (DraftBuild *b, const char *subtype, GBytes *bytes, gboolean is_utf8, GError **error)
{
  MsgtkDraft *d = b->d;
  gsize len;
  const char *what = g_str_equal (subtype, "html") ? "HTML body" : "text body";
  g_autofree char *utf8 = draft_body_to_utf8 (d, what, bytes, is_utf8, &len, error);
  if (!utf8)
    return NULL;
  const char *charset = d->charset;
  if (!charset)
    charset = g_mime_charset_best (utf8, len);
  if (!charset)
    charset = "us-ascii";
  gsize outlen = len;
  char *out;
  if (g_ascii_strcasecmp (charset, "us-ascii") == 0 || g_ascii_strcasecmp (charset, "utf-8") == 0)
    out = g_steal_pointer (&utf8);
  else if (!(out = encode_to_charset (what, utf8, (gssize)len, charset, &outlen, error)))
    return NULL;
  if (g_ascii_strcasecmp (charset, "us-ascii") == 0 && !g_str_is_ascii (out)) {
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_DATA,
                 "%s cannot be written in charset 'us-ascii'; name another charset", what);
    g_free (out);
    return NULL;
  }
  GMimeTextPart *part = g_mime_text_part_new_with_subtype (subtype);
  g_autoptr (GByteArray) arr = g_byte_array_new_take ((guint8 *)out, outlen);
  g_autoptr (GMimeStream) mem = g_mime_stream_mem_new_with_byte_array (arr);
  g_mime_stream_mem_set_owner (GMIME_STREAM_MEM (mem), TRUE);
  arr = NULL;
  g_autoptr (GMimeDataWrapper) w
      = g_mime_data_wrapper_new_with_stream (mem, GMIME_CONTENT_ENCODING_DEFAULT);
  g_mime_part_set_content (GMIME_PART (part), w);
  g_autofree char *lower = g_ascii_strdown (charset, -1);
  g_mime_text_part_set_charset (part, lower);
  g_mime_part_set_content_encoding (
      GMIME_PART (part),
      g_mime_part_get_best_content_encoding (GMIME_PART (part), GMIME_ENCODING_CONSTRAINT_7BIT));
  return GMIME_OBJECT (part);
}

/* What the content of the file @path says its type is, remembered by file
 * identity: a mail merge attaches the same file to many messages, and
 * sniffing magic is far slower than building the part. */
static char *
content_type_of_file (const char *path, const guchar *sample, gsize n)
{
  static GMutex lock;
  static GHashTable *cache;
  GStatBuf st;
  g_autofree char *key = NULL;
  if (g_stat (path, &st) == 0 && S_ISREG (st.st_mode))
    key = g_strdup_printf ("%ju:%ju:%jd:%jd.%09ld", (uintmax_t)st.st_dev, (uintmax_t)st.st_ino,
                           (intmax_t)st.st_size, (intmax_t)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
  if (key) {
    g_mutex_lock (&lock);
    const char *hit = cache ? g_hash_table_lookup (cache, key) : NULL;
    char *copy = g_strdup (hit);
    g_mutex_unlock (&lock);
    if (copy)
      return copy;
  }
  char *ct = g_content_type_guess (NULL, n > 0 ? sample : NULL, n, NULL);
  if (key && ct) {
    g_mutex_lock (&lock);
    if (!cache)
      cache = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
    if (g_hash_table_size (cache) < 4096)
      g_hash_table_insert (cache, g_steal_pointer (&key), g_strdup (ct));
    g_mutex_unlock (&lock);
  }
  return ct;
}

static char *
guess_type (const char *path, const char *name, GMimeStream *stream)
{
  guchar sample[4096];
  gssize n = g_mime_stream_read (stream, (char *)sample, sizeof sample);
  g_mime_stream_reset (stream);
  /* The name first; the content when the name says nothing certain. */
  gboolean uncertain = TRUE;
  g_autofree char *ct = name ? g_content_type_guess (name, NULL, 0, &uncertain) : NULL;
  if (uncertain) {
    g_free (ct);
    ct = content_type_of_file (path, sample, n > 0 ? (gsize)n : 0);
  }
  char *mime = ct ? g_content_type_get_mime_type (ct) : NULL;
  /* A text type by name, but the content is not text: do not believe the name. */
  if (mime && g_str_has_prefix (mime, "text/") && n > 0
      && (memchr (sample, 0, (gsize)n)
          || !g_utf8_validate_len ((const char *)sample, (gsize)n, NULL))) {
    gboolean cut = (gsize)n == sizeof sample;
    const char *end;
    g_utf8_validate_len ((const char *)sample, (gsize)n, &end);
    /* The sample may end inside a character: tolerate up to 3 bytes. */
    if (memchr (sample, 0, (gsize)n) || !cut
        || (gsize)n - (gsize)(end - (const char *)sample) > 3) {
      g_free (mime);
      mime = g_strdup ("application/octet-stream");
    }
  }
  if (!mime || !strchr (mime, '/') || g_str_equal (mime, "application/x-zerosize")) {
    g_free (mime);
    mime = g_strdup ("application/octet-stream");
  }
  return mime;
}

static GMimeObject *
attachment_part (DraftBuild *b, DraftAttachment *a, GError **error)
{
  g_autoptr (GError) e = NULL;
  g_autoptr (GMimeStream) fs = g_mime_stream_fs_open (a->path, O_RDONLY | O_CLOEXEC, 0, &e);
  if (!fs) {
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_NO_INPUT, "cannot open attachment '%s': %s",
                 a->path, e->message);
    return NULL;
  }
  g_autofree char *type = a->type ? g_strdup (a->type) : guess_type (a->path, a->name, fs);
  g_autoptr (GMimeContentType) ct = g_mime_content_type_parse (NULL, type);
  GMimePart *part = g_mime_part_new_with_type (g_mime_content_type_get_media_type (ct),
                                               g_mime_content_type_get_media_subtype (ct));
  g_autoptr (GMimeDataWrapper) w
      = g_mime_data_wrapper_new_with_stream (fs, GMIME_CONTENT_ENCODING_DEFAULT);
  g_mime_part_set_content (part, w);
  g_mime_object_set_disposition (GMIME_OBJECT (part), a->inline_ ? "inline" : "attachment");
  g_mime_part_set_filename (part, a->name);
  GMimeParamEncodingMethod method = b->d->filename_encoding == MSGTK_FILENAME_RFC2047
                                        ? GMIME_PARAM_ENCODING_METHOD_RFC2047
                                        : GMIME_PARAM_ENCODING_METHOD_RFC2231;
  GMimeParam *p = g_mime_param_list_get_parameter (
      g_mime_content_disposition_get_parameters (
          g_mime_object_get_content_disposition (GMIME_OBJECT (part))),
      "filename");
  if (p)
    g_mime_param_set_encoding_method (p, method);
  p = g_mime_param_list_get_parameter (
      g_mime_content_type_get_parameters (g_mime_object_get_content_type (GMIME_OBJECT (part))),
      "name");
  if (p)
    g_mime_param_set_encoding_method (p, method);
  if (a->cid)
    g_mime_part_set_content_id (part, a->cid);
  GMimeContentEncoding enc = GMIME_CONTENT_ENCODING_BASE64;
  if (g_ascii_strcasecmp (g_mime_content_type_get_media_type (ct), "text") == 0)
    enc = g_mime_part_get_best_content_encoding (part, GMIME_ENCODING_CONSTRAINT_7BIT);
  g_mime_part_set_content_encoding (part, enc);
  return GMIME_OBJECT (part);
}

static GMimeObject *
wrap (DraftBuild *b, const char *subtype, GMimeObject *first, GPtrArray *rest)
{
  GMimeMultipart *mp = g_mime_multipart_new_with_subtype (subtype);
  set_boundary (b, mp);
  if (first) {
    g_mime_multipart_add (mp, first);
    g_object_unref (first);
  }
  for (guint i = 0; rest && i < rest->len; i++)
    g_mime_multipart_add (mp, g_ptr_array_index (rest, i));
  return GMIME_OBJECT (mp);
}

GMimeObject *
draft_build_body (DraftBuild *b, GError **error)
{
  MsgtkDraft *d = b->d;
  g_autoptr (GPtrArray) related = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr (GPtrArray) mixed = g_ptr_array_new_with_free_func (g_object_unref);
  GMimeObject *text = NULL, *html = NULL, *body = NULL;
  if (d->text && !(text = text_part (b, "plain", d->text, d->text_utf8, error)))
    return NULL;
  if (d->html && !(html = text_part (b, "html", d->html, d->html_utf8, error))) {
    g_clear_object (&text);
    return NULL;
  }
  for (guint i = 0; i < d->attachments->len; i++) {
    DraftAttachment *a = g_ptr_array_index (d->attachments, i);
    GMimeObject *part = attachment_part (b, a, error);
    if (!part) {
      g_clear_object (&text);
      g_clear_object (&html);
      return NULL;
    }
    g_ptr_array_add (a->cid && html ? related : mixed, part);
  }
  if (text && html) {
    GMimeObject *alt = wrap (b, "alternative", text, NULL);
    g_mime_multipart_add (GMIME_MULTIPART (alt), html);
    g_object_unref (html);
    body = alt;
  } else {
    body = text ? text : html;
  }
  /* mixed > related > alternative: inline images are siblings of the bodies. */
  if (html && related->len > 0) {
    body = wrap (b, "related", body, related);
    g_mime_content_type_set_parameter (g_mime_object_get_content_type (body), "type",
                                       text ? "multipart/alternative" : "text/html");
  }
  if (!body && mixed->len == 0) {
    g_autoptr (GBytes) empty = g_bytes_new_static ("", 0);
    body = text_part (b, "plain", empty, TRUE, error);
  }
  if (mixed->len > 0)
    body = wrap (b, "mixed", body, mixed);
  return body;
}
