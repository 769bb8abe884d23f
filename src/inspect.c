/* msgtk — inspect: a message parsed by GMime into its parts, the findings
 * of the parse, and what the views share (decoded values, part content). */
#include <msgtk/error.h>
#include <msgtk/init.h>
#include <msgtk/lint.h>

#include "charset-private.h"
#include "decode-count-private.h"
#include "header-private.h"
#include "inspect-private.h"
#include "summary-private.h"

#include <string.h>

#define DEFAULT_MAX_HEADERS 1000
#define DEFAULT_MAX_LINE 65536
/* parameters of a Content-Type or Content-Disposition field read at most:
 * GMime's parser takes time quadratic in them (64,000: 15 s) */
#define MAX_PARAMETERS 1000
/* bytes of one header field read at most: GMime and the views take many
 * times a field's size (a 22 MB field: 600 MB) */
#define MAX_FIELD (256 * 1024)
#define MAX_DEPTH 32 /* MIME nesting shown; deeper parts are a LIMIT_NESTING_DEPTH defect */

struct _MsgtkInspection {
  GBytes *raw;
  goffset size; /* of the whole message (@raw may be its header block only) */
  MsgtkInspectFlags flags;
  const char *const *fallbacks;
  guint max_headers, max_line;
  GMimeParserOptions *parser_options;
  GMimeStream *stream;   /* what GMime parsed: a memory stream over @view or over its own copy */
  GByteArray *view;      /* @raw's bytes as a byte array that does not own them */
  GMimeMessage *message; /* NULL with MSGTK_INSPECT_STRUCTURE */
  GMimeObject *top;      /* the top part: the message's, or (structure only) the parsed one */
  GPtrArray *nodes;      /* InspectNode*, depth-first */
  GPtrArray *headers;    /* GMimeHeader* of the top header block, in order (borrowed) */
  GPtrArray *defects;    /* MsgtkFinding* */
};

/* ---- findings ---- */

const char *
msgtk_severity_name (MsgtkSeverity severity)
{
  switch (severity) {
  case MSGTK_SEVERITY_ERROR: return "error";
  case MSGTK_SEVERITY_WARNING: return "warning";
  case MSGTK_SEVERITY_INFO:
  default: return "info";
  }
}

gboolean
msgtk_severity_from_name (const char *name, MsgtkSeverity *severity)
{
  static const MsgtkSeverity all[]
      = { MSGTK_SEVERITY_INFO, MSGTK_SEVERITY_WARNING, MSGTK_SEVERITY_ERROR };
  for (guint i = 0; i < G_N_ELEMENTS (all); i++)
    if (g_ascii_strcasecmp (name, msgtk_severity_name (all[i])) == 0) {
      *severity = all[i];
      return TRUE;
    }
  return FALSE;
}

void
inspect_finding_free (MsgtkFinding *f)
{
  g_free (f->code);
  g_free (f->location);
  g_free (f->message);
  g_free (f);
}

char *
inspect_valid_utf8 (const char *s, gssize len)
{
  if (s == NULL)
    return NULL;
  return g_utf8_make_valid (s, len);
}

void
inspect_add_finding (GPtrArray *list, const char *code, const char *location, const char *fmt, ...)
{
  /* one finding per code and location: repeats add nothing */
  for (guint i = 0; i < list->len; i++) {
    MsgtkFinding *f = list->pdata[i];
    if (strcmp (f->code, code) == 0 && g_strcmp0 (f->location, location) == 0)
      return;
  }
  if (list->len >= 1000)
    return;
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  const MsgtkLintCode *known = msgtk_lint_code_lookup (code);
  g_return_if_fail (known != NULL); /* every code is in the table of lint.c */
  MsgtkFinding *f = g_new0 (MsgtkFinding, 1);
  f->code = g_strdup (code);
  f->severity = known->severity;
  f->location = inspect_valid_utf8 (location, -1);
  f->message = inspect_valid_utf8 (msg, -1);
  g_ptr_array_add (list, f);
}

/* ---- charsets ---- */

/* Keep open the converters GMime's decoding of the fields of @headers will want. */
static void
hold_header_charsets (GMimeHeaderList *headers)
{
  int count = headers != NULL ? g_mime_header_list_get_count (headers) : 0;
  for (int i = 0; i < count; i++) {
    const char *v = g_mime_header_get_raw_value (g_mime_header_list_get_header_at (headers, i));
    if (v != NULL)
      charset_hold_value (v);
  }
}

/* ---- parsing ---- */

/* The code of a GMime parser warning (its severity is the code's). */
static const char *
warning_code (GMimeParserWarning w)
{
  switch (w) {
  case GMIME_WARN_DUPLICATED_HEADER: return "PARSE_DUPLICATED_HEADER";
  case GMIME_WARN_DUPLICATED_PARAMETER: return "PARSE_DUPLICATED_PARAMETER";
  case GMIME_WARN_UNENCODED_8BIT_HEADER: return "PARSE_8BIT_HEADER";
  case GMIME_WARN_INVALID_CONTENT_TYPE: return "PARSE_INVALID_CONTENT_TYPE";
  case GMIME_WARN_INVALID_RFC2047_HEADER_VALUE: return "PARSE_INVALID_ENCODED_WORD";
  case GMIME_WARN_MALFORMED_MULTIPART: return "PARSE_MALFORMED_MULTIPART";
  case GMIME_WARN_TRUNCATED_MESSAGE: return "PARSE_TRUNCATED_MESSAGE";
  case GMIME_WARN_MALFORMED_MESSAGE: return "PARSE_MALFORMED_MESSAGE";
  case GMIME_WARN_INVALID_PARAMETER: return "PARSE_INVALID_PARAMETER";
  case GMIME_WARN_INVALID_ADDRESS_LIST: return "PARSE_INVALID_ADDRESS_LIST";
  case GMIME_WARN_PART_WITHOUT_CONTENT: return "PARSE_PART_WITHOUT_CONTENT";
  case GMIME_CRIT_INVALID_HEADER_NAME: return "PARSE_INVALID_HEADER_NAME";
  case GMIME_CRIT_CONFLICTING_HEADER: return "PARSE_CONFLICTING_HEADER";
  case GMIME_CRIT_CONFLICTING_PARAMETER: return "PARSE_CONFLICTING_PARAMETER";
  case GMIME_CRIT_MULTIPART_WITHOUT_BOUNDARY: return "BOUNDARY_MISSING";
  case GMIME_CRIT_NESTING_OVERFLOW: return "LIMIT_NESTING_DEPTH";
  case GMIME_CRIT_PART_WITHOUT_HEADERS_OR_CONTENT: return "PARSE_PART_WITHOUT_HEADERS";
  default: return "PARSE_OTHER";
  }
}

static void
on_parser_warning (gint64 offset, GMimeParserWarning errcode, const gchar *item, gpointer user_data)
{
  MsgtkInspection *in = user_data;
  const char *code = warning_code (errcode);
  /* GMime gives -1 for problems of the whole message (its end) */
  g_autofree char *loc
      = offset >= 0 ? g_strdup_printf ("offset %" G_GINT64_FORMAT, offset) : g_strdup ("message");
  g_autofree char *what = item != NULL ? inspect_valid_utf8 (item, -1) : NULL;
  /* the item may be a raw header with its line breaks: one finding, one line */
  if (what != NULL)
    g_strstrip (g_strdelimit (what, "\r\n\t", ' '));
  inspect_add_finding (in->defects, code, loc, "GMime parser: %s", what != NULL ? what : code);
}

static void
node_free (InspectNode *n)
{
  g_free (n->number);
  if (n->decoded != NULL)
    g_bytes_unref (n->decoded);
  g_free (n);
}

static void
add_nodes (MsgtkInspection *in, GMimeObject *obj, const char *number, guint depth)
{
  if (obj == NULL)
    return;
  hold_header_charsets (g_mime_object_get_header_list (obj));
  InspectNode *n = g_new0 (InspectNode, 1);
  n->number = g_strdup (number);
  n->depth = depth;
  n->object = obj;
  g_ptr_array_add (in->nodes, n);
  if (depth >= MAX_DEPTH && (GMIME_IS_MULTIPART (obj) || GMIME_IS_MESSAGE_PART (obj))) {
    g_autofree char *loc = g_strdup_printf ("part %s", number);
    inspect_add_finding (in->defects, "LIMIT_NESTING_DEPTH", loc,
                         "parts nested more than %u deep; the parts inside are not shown",
                         MAX_DEPTH);
    return;
  }
  if (GMIME_IS_MULTIPART (obj)) {
    int count = g_mime_multipart_get_count (GMIME_MULTIPART (obj));
    for (int i = 0; i < count; i++) {
      g_autofree char *child = g_strdup_printf ("%s.%d", number, i + 1);
      add_nodes (in, g_mime_multipart_get_part (GMIME_MULTIPART (obj), i), child, depth + 1);
    }
  } else if (GMIME_IS_MESSAGE_PART (obj)) {
    GMimeMessage *m = g_mime_message_part_get_message (GMIME_MESSAGE_PART (obj));
    if (m != NULL && m->mime_part != NULL) {
      g_autofree char *child = g_strdup_printf ("%s.1", number);
      add_nodes (in, m->mime_part, child, depth + 1);
    }
  } else {
    n->leaf = TRUE;
  }
}

static int
compare_offsets (gconstpointer a, gconstpointer b)
{
  gint64 x = g_mime_header_get_offset (*(GMimeHeader *const *)a);
  gint64 y = g_mime_header_get_offset (*(GMimeHeader *const *)b);
  return x < y ? -1 : x > y;
}

MsgtkInspection *
msgtk_inspection_new (GBytes *raw, const MsgtkInspectOptions *options, MsgtkInspectFlags flags,
                      GError **error)
{
  return msgtk_inspection_new_for_headers (raw, (goffset)g_bytes_get_size (raw), options, flags,
                                           error);
}

/* @data as GMime may be given it: a copy with the fields over the limits
 * cut (findings say so), or NULL when it is within them. */
static GByteArray *
within_limits (MsgtkInspection *in, const char *data, gsize len)
{
  guint most = 0;
  gsize longest = 0;
  GByteArray *fields = header_cap_parameters (data, len, MAX_PARAMETERS, &most);
  GByteArray *cut = fields != NULL ? header_cap_fields ((const char *)fields->data, fields->len,
                                                        MAX_FIELD, &longest)
                                   : header_cap_fields (data, len, MAX_FIELD, &longest);
  if (cut != NULL) {
    g_clear_pointer (&fields, g_byte_array_unref);
    fields = cut;
  }
  if (most > MAX_PARAMETERS)
    inspect_add_finding (in->defects, "LIMIT_PARAMETERS", "header",
                         "a Content-Type or Content-Disposition field with %u parameters, more "
                         "than the limit of %u; the rest are not read",
                         most, MAX_PARAMETERS);
  if (longest > MAX_FIELD)
    inspect_add_finding (in->defects, "LIMIT_FIELD_SIZE", "header",
                         "a header field of %" G_GSIZE_FORMAT " bytes, more than the limit of %u; "
                         "the rest of it is not read",
                         longest, MAX_FIELD);
  return fields;
}

MsgtkInspection *
msgtk_inspection_new_for_headers (GBytes *raw, goffset message_size,
                                  const MsgtkInspectOptions *options, MsgtkInspectFlags flags,
                                  GError **error)
{
  msgtk_init ();
  MsgtkInspection *in = g_new0 (MsgtkInspection, 1);
  in->raw = g_bytes_ref (raw);
  in->size = message_size;
  in->flags = flags;
  in->fallbacks = options != NULL && options->fallback_charsets != NULL ? options->fallback_charsets
                                                                        : charset_default_fallbacks;
  in->max_headers
      = options != NULL && options->max_headers ? options->max_headers : DEFAULT_MAX_HEADERS;
  in->max_line = options != NULL && options->max_line ? options->max_line : DEFAULT_MAX_LINE;
  in->defects = g_ptr_array_new_with_free_func ((GDestroyNotify)inspect_finding_free);
  in->nodes = g_ptr_array_new_with_free_func ((GDestroyNotify)node_free);
  in->parser_options = g_mime_parser_options_new ();
  g_mime_parser_options_set_fallback_charsets (in->parser_options, (const char **)in->fallbacks);
  g_mime_parser_options_set_warning_callback (in->parser_options, on_parser_warning, in);
  g_mime_parser_options_set_rfc2047_compliance_mode (in->parser_options,
                                                     GMIME_RFC_COMPLIANCE_LOOSE);
  g_mime_parser_options_set_parameter_compliance_mode (in->parser_options,
                                                       GMIME_RFC_COMPLIANCE_LOOSE);

  charset_hold (in->fallbacks);
  gsize len;
  const char *data = g_bytes_get_data (raw, &len);
  if (flags & (MSGTK_INSPECT_HEADERS_ONLY | MSGTK_INSPECT_SUMMARY))
    len = header_block_length (data, len);
  g_autoptr (GByteArray) fields
      = flags & MSGTK_INSPECT_SUMMARY ? summary_header_subset (data, len) : NULL;
  if (fields == NULL)
    fields = within_limits (in, data, len);
  if (fields != NULL) {
    in->stream = g_mime_stream_mem_new_with_byte_array (g_steal_pointer (&fields));
  } else {
    /* GMime reads the message where it is, not a copy: the stream does not
     * own the array, and msgtk_inspection_free() takes the bytes back out of
     * it before freeing it */
    in->view = g_byte_array_new_take ((guint8 *)data, len);
    in->stream = g_mime_stream_mem_new_with_byte_array (in->view);
    g_mime_stream_mem_set_owner (GMIME_STREAM_MEM (in->stream), FALSE);
  }
  g_autoptr (GMimeParser) parser = g_mime_parser_new_with_stream (in->stream);
  g_mime_parser_set_format (parser, GMIME_FORMAT_MESSAGE);
  GMimeObject *lists[2] = { NULL, NULL };
  if (flags & MSGTK_INSPECT_STRUCTURE) {
    /* a part: no message object, whose fields GMime would decode */
    in->top = g_mime_parser_construct_part (parser, in->parser_options);
    lists[0] = in->top;
    if (in->top == NULL
        || g_mime_header_list_get_count (g_mime_object_get_header_list (in->top)) == 0) {
      /* GMime finds a message's fields after a From_ line, a part's not:
       * parsed as a message, it is what a full inspection sees */
      g_clear_object (&in->top);
      lists[0] = NULL;
      g_ptr_array_set_size (in->defects, 0);
      g_mime_stream_reset (in->stream);
      g_clear_object (&parser);
      parser = g_mime_parser_new_with_stream (in->stream);
      g_mime_parser_set_format (parser, GMIME_FORMAT_MESSAGE);
      flags &= ~MSGTK_INSPECT_STRUCTURE;
    }
  }
  if (!(flags & MSGTK_INSPECT_STRUCTURE)) {
    in->message = g_mime_parser_construct_message (parser, in->parser_options);
    if (in->message != NULL) {
      /* GMime keeps the Content-* fields of the top header block in the top
       * part's list: merge both back into the order they came in */
      in->top = in->message->mime_part != NULL ? g_object_ref (in->message->mime_part) : NULL;
      lists[0] = GMIME_OBJECT (in->message);
      lists[1] = in->top;
    }
  }
  in->headers = g_ptr_array_new ();
  if (lists[0] != NULL) {
    for (guint l = 0; l < G_N_ELEMENTS (lists); l++) {
      GMimeHeaderList *hl = lists[l] != NULL ? g_mime_object_get_header_list (lists[l]) : NULL;
      int n = hl != NULL ? g_mime_header_list_get_count (hl) : 0;
      for (int i = 0; i < n; i++)
        g_ptr_array_add (in->headers, g_mime_header_list_get_header_at (hl, i));
    }
    g_ptr_array_sort (in->headers, compare_offsets);
  }
  if (in->headers->len == 0) {
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_DATA,
                 "not a message: no header fields found (%" G_GINT64_FORMAT " bytes)",
                 (gint64)in->size);
    msgtk_inspection_free (in);
    return NULL;
  }
  if (in->headers->len > in->max_headers)
    inspect_add_finding (in->defects, "LIMIT_HEADER_COUNT", "header",
                         "%u header fields, more than the limit of %u; the rest are not shown",
                         in->headers->len, in->max_headers);
  hold_header_charsets (g_mime_object_get_header_list (lists[0]));
  add_nodes (in, in->top, "1", 0);
  return in;
}

void
msgtk_inspection_free (MsgtkInspection *in)
{
  if (in == NULL)
    return;
  g_ptr_array_unref (in->nodes);
  g_clear_pointer (&in->headers, g_ptr_array_unref);
  g_clear_object (&in->top);
  g_clear_object (&in->message);
  g_clear_object (&in->stream);
  if (in->view != NULL) {
    guint8 *bytes = g_byte_array_steal (in->view, NULL); /* @raw's: not freed here */
    (void)bytes;
    g_byte_array_unref (in->view);
  }
  g_clear_pointer (&in->parser_options, g_mime_parser_options_free);
  g_ptr_array_unref (in->defects);
  g_bytes_unref (in->raw);
  g_free (in);
}

const GPtrArray *
msgtk_inspection_defects (MsgtkInspection *in)
{
  return in->defects;
}

/* ---- what the views read ---- */

GMimeMessage *
inspection_message (MsgtkInspection *in)
{
  return in->message;
}

GMimeObject *
inspection_top (MsgtkInspection *in)
{
  return in->top;
}

GPtrArray *
inspection_nodes (MsgtkInspection *in)
{
  return in->nodes;
}

GPtrArray *
inspection_defect_list (MsgtkInspection *in)
{
  return in->defects;
}

const char *const *
inspection_fallbacks (MsgtkInspection *in)
{
  return in->fallbacks;
}

GBytes *
inspection_raw (MsgtkInspection *in)
{
  return in->raw;
}

goffset
inspection_size (MsgtkInspection *in)
{
  return in->size;
}

guint
inspection_max_line (MsgtkInspection *in)
{
  return in->max_line;
}

/* ---- accessors ---- */

/* A value GMime decoded as UTF-8 text; bytes that are not, replaced (a
 * CHARSET_UNDECODABLE finding in @defects unless it is NULL). */
char *
inspect_decoded_text (const char *value, const char *const *fallbacks, GPtrArray *defects,
                      const char *what)
{
  if (value == NULL)
    return NULL;
  /* GMime's decoded values are UTF-8 already (its parser applied the
   * fallbacks): only bytes it left undecoded go through them again */
  if (g_utf8_validate (value, -1, NULL))
    return g_strdup (value);
  gboolean replaced = FALSE;
  char *s = msgtk_charset_to_utf8 (value, -1, NULL, fallbacks, &replaced);
  if (replaced && defects != NULL)
    inspect_add_finding (defects, "CHARSET_UNDECODABLE", what,
                         "bytes no charset could decode were replaced with U+FFFD");
  return s;
}

char *
inspect_decode_value (MsgtkInspection *in, const char *value, const char *what)
{
  return inspect_decoded_text (value, in->fallbacks, in->defects, what);
}

guint
inspection_header_count (MsgtkInspection *in)
{
  return MIN (in->headers->len, in->max_headers);
}

GMimeHeader *
inspection_header (MsgtkInspection *in, guint i)
{
  return in->headers->pdata[i];
}

char *
inspect_header_decoded (MsgtkInspection *in, GMimeHeader *h)
{
  g_autofree char *loc = g_strdup_printf ("header %s", g_mime_header_get_name (h));
  const char *v = g_mime_header_get_value (h);
  g_autofree char *s = inspect_decode_value (in, v != NULL ? v : "", loc);
  /* unfold: line breaks become spaces */
  for (char *p = s; *p; p++)
    if (*p == '\r' || *p == '\n' || *p == '\t')
      *p = ' ';
  return g_strdup (g_strstrip (s));
}

char *
inspect_subject (MsgtkInspection *in)
{
  const char *s = g_mime_message_get_subject (in->message);
  return s != NULL ? inspect_decode_value (in, s, "header Subject") : NULL;
}

char *
inspect_content_type (GMimeObject *obj)
{
  GMimeContentType *ct = g_mime_object_get_content_type (obj);
  if (ct == NULL)
    return g_strdup ("text/plain");
  char *s = g_mime_content_type_get_mime_type (ct);
  char *l = g_ascii_strdown (s, -1);
  g_free (s);
  char *v = g_utf8_make_valid (l, -1);
  g_free (l);
  return v;
}

const char *
inspect_part_charset (GMimeObject *obj)
{
  GMimeContentType *ct = g_mime_object_get_content_type (obj);
  return ct != NULL ? g_mime_content_type_get_parameter (ct, "charset") : NULL;
}

char *
inspect_part_filename (MsgtkInspection *in, GMimeObject *obj)
{
  const char *f = NULL;
  if (GMIME_IS_PART (obj))
    f = g_mime_part_get_filename (GMIME_PART (obj));
  else {
    GMimeContentDisposition *d = g_mime_object_get_content_disposition (obj);
    if (d != NULL)
      f = g_mime_content_disposition_get_parameter (d, "filename");
  }
  return f != NULL ? inspect_decode_value (in, f, "filename") : NULL;
}

const char *
inspect_part_encoding (GMimeObject *obj)
{
  if (!GMIME_IS_PART (obj))
    return NULL;
  GMimeContentEncoding e = g_mime_part_get_content_encoding (GMIME_PART (obj));
  return e == GMIME_CONTENT_ENCODING_DEFAULT ? NULL : g_mime_content_encoding_to_string (e);
}

const char *
inspect_part_disposition (GMimeObject *obj)
{
  GMimeContentDisposition *d = g_mime_object_get_content_disposition (obj);
  return d != NULL ? g_mime_content_disposition_get_disposition (d) : NULL;
}

/* Undo the transfer encoding of leaf @n chunk by chunk, as
 * g_mime_data_wrapper_write_to_stream() does, handing each decoded chunk to
 * @func; returns the decoded size. Nothing is kept: views that need only
 * the size or a digest do not hold decoded copies. */
gsize
inspect_node_decode (InspectNode *n, InspectDecodedFunc func, gpointer user_data)
{
  if (n->decoded_done) {
    gsize len = 0;
    const char *data = n->decoded != NULL ? g_bytes_get_data (n->decoded, &len) : NULL;
    if (len > 0)
      func (data, len, user_data);
    return len;
  }
  GMimeDataWrapper *w
      = GMIME_IS_PART (n->object) ? g_mime_part_get_content (GMIME_PART (n->object)) : NULL;
  GMimeStream *src = w != NULL ? g_mime_data_wrapper_get_stream (w) : NULL;
  if (src == NULL)
    return 0;
  g_autoptr (GMimeFilter) filter = NULL;
  GMimeContentEncoding encoding = g_mime_data_wrapper_get_encoding (w);
  if (encoding == GMIME_CONTENT_ENCODING_BASE64
      || encoding == GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE
      || encoding == GMIME_CONTENT_ENCODING_UUENCODE)
    filter = g_mime_filter_basic_new (encoding, FALSE);
  g_mime_stream_reset (src);
  char buf[65536];
  char *out;
  gsize outlen, prespace, total = 0;
  gssize nread;
  while ((nread = g_mime_stream_read (src, buf, sizeof buf)) > 0) {
    out = buf;
    outlen = (gsize)nread;
    if (filter != NULL)
      g_mime_filter_filter (filter, buf, (gsize)nread, 0, &out, &outlen, &prespace);
    if (outlen > 0)
      func (out, outlen, user_data);
    total += outlen;
  }
  if (filter != NULL) {
    g_mime_filter_complete (filter, buf, 0, 0, &out, &outlen, &prespace);
    if (outlen > 0)
      func (out, outlen, user_data);
    total += outlen;
  }
  return total;
}

static void
decoded_append (const char *data, gsize len, gpointer user_data)
{
  g_byte_array_append (user_data, (const guint8 *)data, (guint)len);
}

static void
decoded_nothing (const char *data, gsize len, gpointer user_data)
{
}

/* Decoded size of leaf @n. */
gsize
inspect_node_decoded_size (InspectNode *n)
{
  if (n->decoded_done)
    return n->decoded != NULL ? g_bytes_get_size (n->decoded) : 0;
  GMimeDataWrapper *w
      = GMIME_IS_PART (n->object) ? g_mime_part_get_content (GMIME_PART (n->object)) : NULL;
  GMimeStream *src = w != NULL ? g_mime_data_wrapper_get_stream (w) : NULL;
  if (src == NULL)
    return 0;
  DecodeCount c = { .encoding = g_mime_data_wrapper_get_encoding (w) };
  if (c.encoding == GMIME_CONTENT_ENCODING_UUENCODE)
    return inspect_node_decode (n, decoded_nothing, NULL);
  gboolean identity = c.encoding != GMIME_CONTENT_ENCODING_BASE64
                      && c.encoding != GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE;
  g_mime_stream_reset (src);
  gint64 length = g_mime_stream_length (src);
  if (identity && length >= 0)
    return (gsize)length;
  /* content in memory (a part of the message GMime parsed): counted where it is */
  GByteArray *mem = GMIME_IS_STREAM_MEM (src)
                        ? g_mime_stream_mem_get_byte_array (GMIME_STREAM_MEM (src))
                        : NULL;
  gint64 at = g_mime_stream_tell (src);
  if (mem != NULL && length >= 0 && at >= 0 && at + length <= (gint64)mem->len) {
    decode_count_update (&c, mem->data + at, (gsize)length);
    return c.size;
  }
  char buf[65536];
  gssize nread;
  while ((nread = g_mime_stream_read (src, buf, sizeof buf)) > 0) {
    if (identity)
      c.size += (gsize)nread;
    else
      decode_count_update (&c, (const guchar *)buf, (gsize)nread);
  }
  return c.size;
}

/* Decoded content of a leaf (transfer encoding undone), cached; NULL for a
 * leaf that is no part. */
GBytes *
inspect_node_decoded (InspectNode *n)
{
  if (n->decoded_done)
    return n->decoded;
  if (!GMIME_IS_PART (n->object)) {
    n->decoded_done = TRUE;
    return NULL;
  }
  GMimeDataWrapper *w = g_mime_part_get_content (GMIME_PART (n->object));
  /* decoding never makes content longer: one allocation of the encoded size */
  GMimeStream *encoded = w != NULL ? g_mime_data_wrapper_get_stream (w) : NULL;
  gint64 size = encoded != NULL ? g_mime_stream_length (encoded) : -1;
  g_autoptr (GByteArray) buf
      = g_byte_array_sized_new (size > 0 && size < G_MAXUINT32 ? (guint)size : 0);
  inspect_node_decode (n, decoded_append, buf);
  n->decoded = g_byte_array_free_to_bytes (g_steal_pointer (&buf));
  n->decoded_done = TRUE;
  return n->decoded;
}

InspectNode *
inspect_find_node (MsgtkInspection *in, const char *number)
{
  for (guint i = 0; i < in->nodes->len; i++) {
    InspectNode *n = in->nodes->pdata[i];
    if (strcmp (n->number, number) == 0)
      return n;
  }
  return NULL;
}

gboolean
inspect_is_text_type (const char *type)
{
  return g_str_has_prefix (type, "text/");
}

char *
inspect_node_text (MsgtkInspection *in, InspectNode *n)
{
  GBytes *b = inspect_node_decoded (n);
  gsize len = 0;
  const char *data = b != NULL ? g_bytes_get_data (b, &len) : "";
  gboolean replaced = FALSE;
  char *s = msgtk_charset_to_utf8 (data != NULL ? data : "", (gssize)len,
                                   inspect_part_charset (n->object), in->fallbacks, &replaced);
  if (replaced) {
    g_autofree char *loc = g_strdup_printf ("part %s", n->number);
    inspect_add_finding (in->defects, "CHARSET_UNDECODABLE", loc,
                         "bytes no charset could decode were replaced with U+FFFD");
  }
  return s;
}

gboolean
inspect_is_attachment (GMimeObject *obj)
{
  const char *d = inspect_part_disposition (obj);
  return d != NULL && g_ascii_strcasecmp (d, "attachment") == 0;
}

InspectNode *
inspect_body_node (MsgtkInspection *in, const char *subtype)
{
  for (guint i = 0; i < in->nodes->len; i++) {
    InspectNode *n = in->nodes->pdata[i];
    GMimeContentType *ct = g_mime_object_get_content_type (n->object);
    if (n->leaf && ct != NULL && g_mime_content_type_is_type (ct, "text", subtype)
        && !inspect_is_attachment (n->object))
      return n;
  }
  return NULL;
}
