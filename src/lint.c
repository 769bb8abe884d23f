/* msgtk — lint: the parser's findings and the RFC 5322/2045/2047/2231
 * checks, with stable codes. */
#include <msgtk/lint.h>
#include <msgtk/view.h>

#include "header-private.h"
#include "inspect-private.h"

#include <string.h>

/* ---- the codes ---- */

#define W MSGTK_SEVERITY_WARNING
#define E MSGTK_SEVERITY_ERROR

static const MsgtkLintCode codes[] = {
  { "MISSING_FROM", E, "no From header field" },
  { "MISSING_DATE", E, "no Date header field (or one that cannot be read)" },
  { "MISSING_MESSAGE_ID", W, "no Message-ID header field" },
  { "HEADER_DUPLICATE", W, "a field RFC 5322 allows once appears several times" },
  { "HEADER_8BIT", W, "8-bit bytes in a header field, not RFC 2047 encoded" },
  { "BARE_CR", W, "a carriage return not followed by a line feed" },
  { "BARE_LF", W, "lines ending in a bare LF among lines ending in CRLF" },
  { "LINE_TOO_LONG", W, "a line longer than the 998 octets RFC 5322 allows" },
  { "ENCODED_WORD_INVALID", W,
    "an RFC 2047 encoded word with a bad letter, characters or padding" },
  { "ENCODED_WORD_UNCLOSED", W, "an \"=?\" never closed by \"?=\"" },
  { "CHARSET_UNKNOWN", W, "a charset iconv does not know" },
  { "CHARSET_UNDECODABLE", W, "bytes no charset decodes, replaced with U+FFFD" },
  { "BOUNDARY_MISSING", E, "a multipart without a boundary parameter" },
  { "BOUNDARY_UNCLOSED", W, "a multipart whose closing boundary never comes" },
  { "BASE64_INVALID", W, "base64 content that is not valid base64" },
  { "QP_INVALID", W, "quoted-printable content with a \"=\" that starts no escape" },
  { "LIMIT_HEADER_COUNT", W, "more header fields than the limit (the rest are not shown)" },
  { "LIMIT_FIELD_SIZE", W, "a header field longer than the limit (the rest of it is not read)" },
  { "LIMIT_PARAMETERS", W,
    "a Content-Type or Content-Disposition field with more parameters than the limit (the rest are "
    "not read)" },
  { "LIMIT_LINE_LENGTH", W, "a line longer than the limit" },
  { "LIMIT_NESTING_DEPTH", E,
    "parts nested deeper than the limit (the parts inside are not shown)" },
  { "PARSE_DUPLICATED_HEADER", W, "the MIME parser: a duplicated header field" },
  { "PARSE_DUPLICATED_PARAMETER", W, "the MIME parser: a duplicated parameter" },
  { "PARSE_8BIT_HEADER", W, "the MIME parser: an 8-bit header field" },
  { "PARSE_INVALID_CONTENT_TYPE", W, "the MIME parser: a Content-Type that does not parse" },
  { "PARSE_INVALID_ENCODED_WORD", W, "the MIME parser: an invalid encoded word" },
  { "PARSE_MALFORMED_MULTIPART", W, "the MIME parser: a malformed multipart" },
  { "PARSE_TRUNCATED_MESSAGE", W, "the MIME parser: the message ends too soon" },
  { "PARSE_MALFORMED_MESSAGE", W, "the MIME parser: a malformed message" },
  { "PARSE_INVALID_PARAMETER", W, "the MIME parser: an invalid parameter" },
  { "PARSE_INVALID_ADDRESS_LIST", W, "the MIME parser: an address list it reads in part only" },
  { "PARSE_PART_WITHOUT_CONTENT", W, "the MIME parser: a part without content" },
  { "PARSE_INVALID_HEADER_NAME", E, "the MIME parser: a line in the header that is no field" },
  { "PARSE_CONFLICTING_HEADER", E, "the MIME parser: conflicting header fields" },
  { "PARSE_CONFLICTING_PARAMETER", E, "the MIME parser: conflicting parameters" },
  { "PARSE_PART_WITHOUT_HEADERS", E, "the MIME parser: a part without header or content" },
  { "PARSE_OTHER", E, "the MIME parser: another problem" },
};

#undef W
#undef E

const MsgtkLintCode *
msgtk_lint_codes (guint *n_codes)
{
  *n_codes = G_N_ELEMENTS (codes);
  return codes;
}

const MsgtkLintCode *
msgtk_lint_code_lookup (const char *code)
{
  for (guint i = 0; i < G_N_ELEMENTS (codes); i++)
    if (strcmp (codes[i].code, code) == 0)
      return &codes[i];
  return NULL;
}

/* ---- the checks ---- */

static const char *const singletons[]
    = { "From",    "Sender", "Reply-To",   "To",          "Cc",         "Bcc",
        "Subject", "Date",   "Message-ID", "In-Reply-To", "References", NULL };

static void
check_encoded_words (MsgtkInspection *in, GPtrArray *out, const char *name, const char *value)
{
  g_autofree char *loc = g_strdup_printf ("header %s", name);
  const char *p = value;
  while ((p = strstr (p, "=?")) != NULL) {
    /* =?charset?E?text?= */
    const char *q1 = strchr (p + 2, '?');
    const char *q2 = q1 != NULL ? strchr (q1 + 1, '?') : NULL;
    const char *end = q2 != NULL ? strstr (q2 + 1, "?=") : NULL;
    if (q1 == NULL || q2 == NULL || end == NULL) {
      inspect_add_finding (out, "ENCODED_WORD_UNCLOSED", loc,
                           "an encoded word starts (\"=?\") but is never closed with \"?=\"");
      return;
    }
    g_autofree char *charset = g_strndup (p + 2, (gsize)(q1 - p - 2));
    char *star = strchr (charset, '*'); /* RFC 2231 language */
    if (star != NULL)
      *star = '\0';
    gsize enclen = (gsize)(q2 - q1 - 1);
    char enc = enclen == 1 ? g_ascii_toupper (q1[1]) : '?';
    const char *text = q2 + 1;
    gsize tlen = (gsize)(end - text);
    gboolean bad = (enc != 'B' && enc != 'Q') || charset[0] == '\0';
    for (gsize i = 0; i < tlen && !bad; i++) {
      char c = text[i];
      if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
        bad = TRUE;
      else if (enc == 'B' && !(g_ascii_isalnum (c) || c == '+' || c == '/' || c == '='))
        bad = TRUE;
    }
    if (!bad && enc == 'B' && tlen % 4 != 0)
      bad = TRUE;
    if (bad)
      inspect_add_finding (
          out, "ENCODED_WORD_INVALID", loc,
          "an encoded word is malformed (bad encoding letter, characters or padding)");
    else if (!msgtk_charset_is_known (charset)) {
      g_autofree char *cs = inspect_valid_utf8 (charset, -1);
      inspect_add_finding (out, "CHARSET_UNKNOWN", loc, "unknown charset \"%s\" in an encoded word",
                           cs);
    }
    p = end + 2;
  }
}

static void
check_lines (MsgtkInspection *in, GPtrArray *out)
{
  gsize len;
  const char *data = g_bytes_get_data (inspection_raw (in), &len);
  gsize hdr_end = header_block_length (data, len);
  guint line = 1, crlf = 0, lf = 0, first_lf = 0;
  gboolean long_seen = FALSE, limit_seen = FALSE, cr_seen = FALSE;
  const char *p = data, *end = data + len;
  while (p < end) {
    const char *nl = memchr (p, '\n', (gsize)(end - p));
    const char *le = nl != NULL ? nl : end;
    gsize l = (gsize)(le - p);
    gboolean has_cr = l > 0 && le[-1] == '\r' && nl != NULL;
    gsize content = has_cr ? l - 1 : l;
    if (nl != NULL) {
      if (has_cr)
        crlf++;
      else if (lf++ == 0)
        first_lf = line;
    }
    if (!cr_seen && memchr (p, '\r', content) != NULL) {
      cr_seen = TRUE;
      g_autofree char *loc = g_strdup_printf ("line %u", line);
      inspect_add_finding (out, "BARE_CR", loc, "a carriage return not followed by a line feed");
    }
    if (content > 998 && !long_seen) {
      long_seen = TRUE;
      g_autofree char *loc = g_strdup_printf ("line %u", line);
      inspect_add_finding (out, "LINE_TOO_LONG", loc, "a line of %zu octets; RFC 5322 allows 998",
                           content);
    }
    if (content > inspection_max_line (in) && !limit_seen) {
      limit_seen = TRUE;
      g_autofree char *loc = g_strdup_printf ("line %u", line);
      inspect_add_finding (out, "LIMIT_LINE_LENGTH", loc,
                           "a line of %zu octets, longer than the limit of %u", content,
                           inspection_max_line (in));
    }
    if ((gsize)(p - data) < hdr_end) {
      for (gsize i = 0; i < content; i++)
        if ((guchar)p[i] >= 0x80) {
          const char *colon = memchr (p, ':', content);
          g_autofree char *name = colon != NULL && p[0] != ' ' && p[0] != '\t'
                                      ? g_strndup (p, (gsize)(colon - p))
                                      : g_strdup_printf ("at line %u", line);
          g_autofree char *loc = g_strdup_printf ("header %s", name);
          inspect_add_finding (out, "HEADER_8BIT", loc,
                               "8-bit bytes in a header field (not RFC 2047 encoded)");
          break;
        }
    }
    line++;
    p = le + 1;
  }
  if (crlf > 0 && lf > 0) {
    g_autofree char *loc = g_strdup_printf ("line %u", first_lf);
    inspect_add_finding (out, "BARE_LF", loc, "%u lines end in a bare LF among %u CRLF lines", lf,
                         crlf);
  }
}

static void
check_transfer_encoding (GPtrArray *out, InspectNode *n)
{
  if (!GMIME_IS_PART (n->object))
    return;
  GMimeContentEncoding e = g_mime_part_get_content_encoding (GMIME_PART (n->object));
  if (e != GMIME_CONTENT_ENCODING_BASE64 && e != GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE)
    return;
  GMimeDataWrapper *w = g_mime_part_get_content (GMIME_PART (n->object));
  GMimeStream *s = w != NULL ? g_mime_data_wrapper_get_stream (w) : NULL;
  if (s == NULL)
    return;
  g_autoptr (GByteArray) raw = g_byte_array_new ();
  g_autoptr (GMimeStream) mem = g_mime_stream_mem_new_with_byte_array (raw);
  g_mime_stream_mem_set_owner (GMIME_STREAM_MEM (mem), FALSE);
  g_mime_stream_reset (s);
  g_mime_stream_write_to_stream (s, mem);
  g_mime_stream_reset (s);
  g_autofree char *loc = g_strdup_printf ("part %s", n->number);
  const guint8 *d = raw->data;
  gsize len = raw->len;
  if (e == GMIME_CONTENT_ENCODING_BASE64) {
    gsize count = 0, pad = 0;
    gboolean bad = FALSE;
    for (gsize i = 0; i < len && !bad; i++) {
      guint8 c = d[i];
      if (c == '\r' || c == '\n' || c == ' ' || c == '\t')
        continue;
      if (c == '=') {
        pad++;
        count++;
      } else if (g_ascii_isalnum (c) || c == '+' || c == '/') {
        if (pad > 0)
          bad = TRUE; /* data after padding */
        count++;
      } else {
        bad = TRUE;
      }
    }
    if (bad || pad > 2 || count % 4 != 0)
      inspect_add_finding (
          out, "BASE64_INVALID", loc,
          "base64 content has characters outside the alphabet, data after padding or a "
          "truncated last group");
  } else {
    for (gsize i = 0; i < len; i++) {
      if (d[i] != '=')
        continue;
      if (i + 2 < len + 0 && g_ascii_isxdigit (d[i + 1]) && g_ascii_isxdigit (d[i + 2]))
        continue;
      gsize j = i + 1;
      while (j < len && (d[j] == ' ' || d[j] == '\t'))
        j++;
      if (j >= len || d[j] == '\n' || (d[j] == '\r' && j + 1 < len && d[j + 1] == '\n'))
        continue; /* soft line break */
      inspect_add_finding (
          out, "QP_INVALID", loc,
          "quoted-printable content has \"=\" not followed by two hex digits or a line break");
      break;
    }
  }
}

static void
check_parts (MsgtkInspection *in, GPtrArray *out)
{
  gsize len;
  const char *data = g_bytes_get_data (inspection_raw (in), &len);
  for (guint i = 0; i < inspection_nodes (in)->len; i++) {
    InspectNode *n = inspection_nodes (in)->pdata[i];
    g_autofree char *loc = g_strdup_printf ("part %s", n->number);
    const char *cs = inspect_part_charset (n->object);
    if (cs != NULL && !msgtk_charset_is_known (cs)) {
      g_autofree char *v = inspect_valid_utf8 (cs, -1);
      inspect_add_finding (out, "CHARSET_UNKNOWN", loc, "unknown charset \"%s\"", v);
    }
    if (GMIME_IS_MULTIPART (n->object)) {
      /* the parameter itself: g_mime_multipart_get_boundary() would make one
       * up, re-encoding the Content-Type (without bound for some garbage
       * parameter names) */
      GMimeContentType *ct = g_mime_object_get_content_type (n->object);
      const char *boundary = ct != NULL ? g_mime_content_type_get_parameter (ct, "boundary") : NULL;
      if (boundary == NULL) {
        inspect_add_finding (out, "BOUNDARY_MISSING", loc,
                             "a multipart without a boundary parameter");
      } else {
        g_autofree char *close = g_strdup_printf ("--%s--", boundary);
        if (g_strstr_len (data, (gssize)len, close) == NULL
            && memmem (data, len, close, strlen (close)) == NULL)
          inspect_add_finding (out, "BOUNDARY_UNCLOSED", loc,
                               "the closing boundary \"--%s--\" never comes", boundary);
      }
    }
    if (n->leaf)
      check_transfer_encoding (out, n);
  }
}

GPtrArray *
msgtk_inspection_check (MsgtkInspection *in)
{
  g_return_val_if_fail (inspection_message (in) != NULL,
                        NULL); /* not with MSGTK_INSPECT_STRUCTURE */
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify)inspect_finding_free);
  GMimeHeaderList *hl = g_mime_object_get_header_list (GMIME_OBJECT (inspection_message (in)));
  if (!g_mime_header_list_contains (hl, "From"))
    inspect_add_finding (out, "MISSING_FROM", "header", "no From header field");
  if (!g_mime_header_list_contains (hl, "Date"))
    inspect_add_finding (out, "MISSING_DATE", "header", "no Date header field");
  if (!g_mime_header_list_contains (hl, "Message-ID"))
    inspect_add_finding (out, "MISSING_MESSAGE_ID", "header", "no Message-ID header field");
  guint count = inspection_header_count (in);
  for (const char *const *s = singletons; *s != NULL; s++) {
    guint seen = 0;
    for (guint i = 0; i < count; i++)
      if (g_ascii_strcasecmp (g_mime_header_get_name (inspection_header (in, i)), *s) == 0)
        seen++;
    if (seen > 1) {
      g_autofree char *loc = g_strdup_printf ("header %s", *s);
      inspect_add_finding (out, "HEADER_DUPLICATE", loc,
                           "%s appears %u times; RFC 5322 allows it once", *s, seen);
    }
  }
  for (guint i = 0; i < count; i++) {
    GMimeHeader *h = inspection_header (in, i);
    const char *rv = g_mime_header_get_raw_value (h);
    if (rv != NULL && strstr (rv, "=?") != NULL) {
      g_autofree char *name = inspect_valid_utf8 (g_mime_header_get_name (h), -1);
      check_encoded_words (in, out, name, rv);
    }
  }
  check_lines (in, out);
  check_parts (in, out);
  /* decoding the text may find undecodable bytes: do it so they are listed */
  g_free (msgtk_inspection_text (in));
  for (guint i = 0; i < inspection_defect_list (in)->len; i++) {
    MsgtkFinding *f = inspection_defect_list (in)->pdata[i];
    inspect_add_finding (out, f->code, f->location, "%s", f->message);
  }
  return out;
}
