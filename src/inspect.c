/* msgtk — inspect: views of a parsed message, extraction and lint. */
#include <msgtk/error.h>
#include <msgtk/inspect.h>

#include "charset-private.h"
#include "header-private.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <gmime/gmime.h>
#include <nettle/sha2.h>
#include <string.h>
#include <unistd.h>

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GMimeStream, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GMimeParser, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GMimeFilter, g_object_unref)

#define DEFAULT_MAX_HEADERS 1000
#define DEFAULT_MAX_LINE 65536
#define MAX_NAME_BYTES 200
#define MAX_DEPTH 32 /* MIME nesting shown; deeper parts are a LIMIT_NESTING_DEPTH defect */

typedef struct {
  char *number;
  guint depth;
  GMimeObject *object; /* borrowed from the message */
  gboolean leaf;
  gboolean decoded_done;
  GBytes *decoded; /* cached decoded content of a leaf */
} Node;

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
  GPtrArray *nodes;      /* Node*, depth-first */
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

static void
finding_free (MsgtkFinding *f)
{
  g_free (f->code);
  g_free (f->location);
  g_free (f->message);
  g_free (f);
}

static MsgtkFinding *
finding_copy (const MsgtkFinding *f)
{
  MsgtkFinding *c = g_new0 (MsgtkFinding, 1);
  c->code = g_strdup (f->code);
  c->severity = f->severity;
  c->location = g_strdup (f->location);
  c->message = g_strdup (f->message);
  return c;
}

static char *
valid_utf8 (const char *s, gssize len)
{
  if (s == NULL)
    return NULL;
  return g_utf8_make_valid (s, len);
}

G_GNUC_PRINTF (5, 6)
static void
add_finding (GPtrArray *list, const char *code, MsgtkSeverity severity, const char *location,
             const char *fmt, ...)
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
  MsgtkFinding *f = g_new0 (MsgtkFinding, 1);
  f->code = g_strdup (code);
  f->severity = severity;
  f->location = valid_utf8 (location, -1);
  f->message = valid_utf8 (msg, -1);
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

static const char *
warning_code (GMimeParserWarning w, MsgtkSeverity *sev)
{
  *sev = MSGTK_SEVERITY_WARNING;
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
  default: break;
  }
  *sev = MSGTK_SEVERITY_ERROR;
  switch (w) {
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
  MsgtkSeverity sev;
  const char *code = warning_code (errcode, &sev);
  g_autofree char *loc = g_strdup_printf ("offset %" G_GINT64_FORMAT, offset);
  g_autofree char *what = item != NULL ? valid_utf8 (item, -1) : NULL;
  add_finding (in->defects, code, sev, loc, "GMime parser: %s", what != NULL ? what : code);
}

static void
node_free (Node *n)
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
  Node *n = g_new0 (Node, 1);
  n->number = g_strdup (number);
  n->depth = depth;
  n->object = obj;
  g_ptr_array_add (in->nodes, n);
  if (depth >= MAX_DEPTH && (GMIME_IS_MULTIPART (obj) || GMIME_IS_MESSAGE_PART (obj))) {
    g_autofree char *loc = g_strdup_printf ("part %s", number);
    add_finding (in->defects, "LIMIT_NESTING_DEPTH", MSGTK_SEVERITY_ERROR, loc,
                 "parts nested more than %u deep; the parts inside are not shown", MAX_DEPTH);
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

/* The header fields the summary shows. */
enum { FIELD_DATE, FIELD_FROM, FIELD_SUBJECT, FIELD_CONTENT_TYPE, N_SUMMARY_FIELDS };
static const char *const summary_names[N_SUMMARY_FIELDS]
    = { "Date", "From", "Subject", "Content-Type" };
#define MAX_SUMMARY_FIELDS 16

typedef struct {
  guint which;       /* FIELD_* */
  const char *start; /* of the field name */
  const char *value; /* after the colon */
  const char *end;   /* after the field's last line (its newline included) */
} RawField;

typedef struct {
  RawField fields[MAX_SUMMARY_FIELDS]; /* in the order they came */
  guint n;
  guint count[N_SUMMARY_FIELDS];
} FieldScan;

/* Of a header block of well-formed fields ("Name: value", continuation
 * lines), the fields the summary shows, in order. FALSE when there are none,
 * more than MAX_SUMMARY_FIELDS, or some line is not well-formed (GMime then
 * sees the block as it is). */
static gboolean
scan_summary_fields (const char *data, gsize len, FieldScan *scan)
{
  scan->n = 0;
  memset (scan->count, 0, sizeof scan->count);
  HeaderIter it;
  HeaderField f;
  header_iter_init (&it, data, len);
  while (header_iter_next (&it, &f)) {
    if (f.name == NULL)
      return FALSE; /* GMime sees the block as it is */
    for (guint i = 0; i < N_SUMMARY_FIELDS; i++)
      if (header_field_is (&f, summary_names[i])) {
        if (scan->n == MAX_SUMMARY_FIELDS)
          return FALSE;
        scan->fields[scan->n++] = (RawField){ i, f.start, f.value, f.end };
        scan->count[i]++;
        break;
      }
  }
  return scan->n > 0;
}

/* The scanned fields as a header block of their own (then a blank line). */
static GByteArray *
summary_fields (const FieldScan *scan)
{
  GByteArray *out = g_byte_array_new ();
  for (guint i = 0; i < scan->n; i++) {
    const RawField *f = &scan->fields[i];
    g_byte_array_append (out, (const guint8 *)f->start, (guint)(f->end - f->start));
  }
  if (out->data[out->len - 1] != '\n')
    g_byte_array_append (out, (const guint8 *)"\n", 1);
  g_byte_array_append (out, (const guint8 *)"\n", 1);
  return out;
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

MsgtkInspection *
msgtk_inspection_new_for_headers (GBytes *raw, goffset message_size,
                                  const MsgtkInspectOptions *options, MsgtkInspectFlags flags,
                                  GError **error)
{
  MsgtkInspection *in = g_new0 (MsgtkInspection, 1);
  in->raw = g_bytes_ref (raw);
  in->size = message_size;
  in->flags = flags;
  in->fallbacks = options != NULL && options->fallback_charsets != NULL ? options->fallback_charsets
                                                                        : charset_default_fallbacks;
  in->max_headers
      = options != NULL && options->max_headers ? options->max_headers : DEFAULT_MAX_HEADERS;
  in->max_line = options != NULL && options->max_line ? options->max_line : DEFAULT_MAX_LINE;
  in->defects = g_ptr_array_new_with_free_func ((GDestroyNotify)finding_free);
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
  g_autoptr (GByteArray) fields = NULL;
  FieldScan scan;
  if ((flags & MSGTK_INSPECT_SUMMARY) && scan_summary_fields (data, len, &scan)) {
    fields = summary_fields (&scan);
    data = (const char *)fields->data;
    len = fields->len;
  }
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
    add_finding (in->defects, "LIMIT_HEADER_COUNT", MSGTK_SEVERITY_WARNING, "header",
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

/* ---- accessors ---- */

/* A value GMime decoded as UTF-8 text; bytes that are not, replaced (a
 * CHARSET_UNDECODABLE finding in @defects unless it is NULL). */
static char *
decoded_text (const char *value, const char *const *fallbacks, GPtrArray *defects, const char *what)
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
    add_finding (defects, "CHARSET_UNDECODABLE", MSGTK_SEVERITY_WARNING, what,
                 "bytes no charset could decode were replaced with U+FFFD");
  return s;
}

static char *
decode_value (MsgtkInspection *in, const char *value, const char *what)
{
  return decoded_text (value, in->fallbacks, in->defects, what);
}

static guint
header_count (MsgtkInspection *in)
{
  return MIN (in->headers->len, in->max_headers);
}

static GMimeHeader *
header_at (MsgtkInspection *in, guint i)
{
  return in->headers->pdata[i];
}

static char *
header_decoded (MsgtkInspection *in, GMimeHeader *h)
{
  g_autofree char *loc = g_strdup_printf ("header %s", g_mime_header_get_name (h));
  const char *v = g_mime_header_get_value (h);
  g_autofree char *s = decode_value (in, v != NULL ? v : "", loc);
  /* unfold: line breaks become spaces */
  for (char *p = s; *p; p++)
    if (*p == '\r' || *p == '\n' || *p == '\t')
      *p = ' ';
  return g_strdup (g_strstrip (s));
}

static char *
get_subject (MsgtkInspection *in)
{
  const char *s = g_mime_message_get_subject (in->message);
  return s != NULL ? decode_value (in, s, "header Subject") : NULL;
}

static char *
content_type_string (GMimeObject *obj)
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

static const char *
part_charset (GMimeObject *obj)
{
  GMimeContentType *ct = g_mime_object_get_content_type (obj);
  return ct != NULL ? g_mime_content_type_get_parameter (ct, "charset") : NULL;
}

static char *
part_filename (MsgtkInspection *in, GMimeObject *obj)
{
  const char *f = NULL;
  if (GMIME_IS_PART (obj))
    f = g_mime_part_get_filename (GMIME_PART (obj));
  else {
    GMimeContentDisposition *d = g_mime_object_get_content_disposition (obj);
    if (d != NULL)
      f = g_mime_content_disposition_get_parameter (d, "filename");
  }
  return f != NULL ? decode_value (in, f, "filename") : NULL;
}

static const char *
part_encoding (GMimeObject *obj)
{
  if (!GMIME_IS_PART (obj))
    return NULL;
  GMimeContentEncoding e = g_mime_part_get_content_encoding (GMIME_PART (obj));
  return e == GMIME_CONTENT_ENCODING_DEFAULT ? NULL : g_mime_content_encoding_to_string (e);
}

static const char *
part_disposition (GMimeObject *obj)
{
  GMimeContentDisposition *d = g_mime_object_get_content_disposition (obj);
  return d != NULL ? g_mime_content_disposition_get_disposition (d) : NULL;
}

typedef void (*DecodedFunc) (const char *data, gsize len, gpointer user_data);

/* Undo the transfer encoding of leaf @n chunk by chunk, as
 * g_mime_data_wrapper_write_to_stream() does, handing each decoded chunk to
 * @func; returns the decoded size. Nothing is kept: views that need only
 * the size or a digest do not hold decoded copies. */
static gsize
node_decode (Node *n, DecodedFunc func, gpointer user_data)
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

/* Counting what GMime's base64 and quoted-printable decoders
 * (g_mime_encoding_base64_decode_step(), g_mime_encoding_quoted_decode_step())
 * would output, without producing it: the tree shows decoded sizes only. */
typedef struct {
  GMimeContentEncoding encoding;
  int state;   /* base64: characters of the current quartet, -1 after '=';
                * QP: 0 text, 1 after '=', 2 after '=' and one more */
  guchar save; /* QP: the character after '=' */
  gsize size;
} DecodedCount;

static inline gboolean
is_base64_char (guchar x)
{
  return (guchar)((x | 32) - 'a') < 26 || (guchar)(x - '0') < 10 || x == '+' || x == '/';
}

/* How many of @len bytes at @p are base64 characters: 16 at a time with
 * vector compares (GCC/clang vector extensions, SSE2 or NEON or plain code,
 * whatever the target has), counted per lane for up to 255 blocks. */
typedef guint8 Bytes16 __attribute__ ((vector_size (16)));

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

static void
decoded_count (DecodedCount *c, const guchar *p, gsize len)
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

/* Decoded size of leaf @n. */
static gsize
node_decoded_size (Node *n)
{
  if (n->decoded_done)
    return n->decoded != NULL ? g_bytes_get_size (n->decoded) : 0;
  GMimeDataWrapper *w
      = GMIME_IS_PART (n->object) ? g_mime_part_get_content (GMIME_PART (n->object)) : NULL;
  GMimeStream *src = w != NULL ? g_mime_data_wrapper_get_stream (w) : NULL;
  if (src == NULL)
    return 0;
  DecodedCount c = { .encoding = g_mime_data_wrapper_get_encoding (w) };
  if (c.encoding == GMIME_CONTENT_ENCODING_UUENCODE)
    return node_decode (n, decoded_nothing, NULL);
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
    decoded_count (&c, mem->data + at, (gsize)length);
    return c.size;
  }
  char buf[65536];
  gssize nread;
  while ((nread = g_mime_stream_read (src, buf, sizeof buf)) > 0) {
    if (identity)
      c.size += (gsize)nread;
    else
      decoded_count (&c, (const guchar *)buf, (gsize)nread);
  }
  return c.size;
}

/* Decoded content of a leaf (transfer encoding undone), cached; NULL for a
 * leaf that is no part. */
static GBytes *
node_decoded (Node *n)
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
  node_decode (n, decoded_append, buf);
  n->decoded = g_byte_array_free_to_bytes (g_steal_pointer (&buf));
  n->decoded_done = TRUE;
  return n->decoded;
}

static Node *
find_node (MsgtkInspection *in, const char *number)
{
  for (guint i = 0; i < in->nodes->len; i++) {
    Node *n = in->nodes->pdata[i];
    if (strcmp (n->number, number) == 0)
      return n;
  }
  return NULL;
}

static gboolean
is_text_type (const char *type)
{
  return g_str_has_prefix (type, "text/");
}

/* ---- summary and headers ---- */

/* The first address of @list as the summary shows it: its name, else its
 * address. */
static const char *
first_address_text (InternetAddressList *list)
{
  if (list == NULL || internet_address_list_length (list) == 0)
    return NULL;
  InternetAddress *a = internet_address_list_get_address (list, 0);
  const char *name = internet_address_get_name (a);
  return name != NULL && *name ? name
         : INTERNET_ADDRESS_IS_MAILBOX (a)
             ? internet_address_mailbox_get_addr (INTERNET_ADDRESS_MAILBOX (a))
             : "";
}

static char *
fit (const char *s, guint width)
{
  /* pad or cut @s to @width characters */
  GString *g = g_string_new (NULL);
  guint w = 0;
  for (const char *p = s != NULL ? s : ""; *p && w < width; p = g_utf8_next_char (p), w++) {
    gunichar c = g_utf8_get_char (p);
    if (g_unichar_iscntrl (c))
      c = ' ';
    g_string_append_unichar (g, c);
  }
  for (; w < width; w++)
    g_string_append_c (g, ' ');
  return g_string_free (g, FALSE);
}

static char *
human_size (goffset n)
{
  if (n < 1000)
    return g_strdup_printf ("%dB", (int)n);
  if (n < 1000 * 1000)
    return g_strdup_printf ("%dK", (int)((n + 512) / 1024));
  return g_strdup_printf ("%.1fM", (double)n / (1024.0 * 1024.0));
}

/* The summary line of its decoded parts (@from and @subject valid UTF-8). */
static char *
summary_line (GDateTime *dt, const char *from, const char *subject, gboolean mixed, goffset size)
{
  g_autofree char *date = dt != NULL ? g_date_time_format (dt, "%Y-%m-%d %H:%M") : g_strdup ("");
  g_autofree char *d = fit (date, 16);
  g_autofree char *f = fit (from, 24);
  g_autofree char *s
      = subject != NULL ? fit (subject, (guint)g_utf8_strlen (subject, -1)) : g_strdup ("");
  g_autofree char *sz = human_size (size);
  return g_strdup_printf ("%s  %s %s %6s  %s", d, f, mixed ? "@" : " ", sz, s);
}

char *
msgtk_inspection_summary (MsgtkInspection *in)
{
  g_return_val_if_fail (in->message != NULL, NULL); /* not with MSGTK_INSPECT_STRUCTURE */
  g_autofree char *from = decode_value (
      in, first_address_text (g_mime_message_get_from (in->message)), "header From");
  g_autofree char *subject = get_subject (in);
  GMimeContentType *ct = in->top != NULL ? g_mime_object_get_content_type (in->top) : NULL;
  gboolean mixed = ct != NULL && g_mime_content_type_is_type (ct, "multipart", "mixed");
  return summary_line (g_mime_message_get_date (in->message), from, subject, mixed, in->size);
}

/* The summary straight from the scanned fields, decoded by the GMime
 * functions its message object would use on them: the first address of the
 * From fields together, the last Date and Subject, the Content-Type. NULL
 * when that is not certain to be what the parsed message says (more than one
 * Content-Type, NUL bytes). */
static char *
summary_from_fields (const FieldScan *scan, goffset size, const char *const *fallbacks)
{
  if (scan->count[FIELD_CONTENT_TYPE] > 1)
    return NULL;
  for (guint i = 0; i < scan->n; i++)
    if (memchr (scan->fields[i].value, '\0', (gsize)(scan->fields[i].end - scan->fields[i].value))
        != NULL)
      return NULL;
  GMimeParserOptions *options = g_mime_parser_options_new ();
  g_mime_parser_options_set_fallback_charsets (options, (const char **)fallbacks);
  g_mime_parser_options_set_rfc2047_compliance_mode (options, GMIME_RFC_COMPLIANCE_LOOSE);
  g_mime_parser_options_set_parameter_compliance_mode (options, GMIME_RFC_COMPLIANCE_LOOSE);
  charset_hold (fallbacks);
  g_autoptr (GDateTime) dt = NULL;
  g_autofree char *from = NULL, *subject = NULL;
  gboolean mixed = FALSE;
  for (guint i = 0; i < scan->n; i++) {
    const RawField *f = &scan->fields[i];
    g_autofree char *raw = g_strndup (f->value, (gsize)(f->end - f->value));
    charset_hold_value (raw);
    switch (f->which) {
    case FIELD_DATE:
    case FIELD_SUBJECT:
    case FIELD_CONTENT_TYPE: {
      /* what GMime's header value is: unfolded, encoded words decoded */
      g_autofree char *unfolded = g_mime_utils_header_unfold (raw);
      g_autofree char *value = g_mime_utils_header_decode_text (options, unfolded);
      if (f->which == FIELD_SUBJECT) {
        g_free (subject);
        subject = decoded_text (value, fallbacks, NULL, NULL);
      } else if (f->which == FIELD_DATE) {
        g_clear_pointer (&dt, g_date_time_unref);
        dt = g_mime_utils_header_decode_date (value);
      } else {
        GMimeContentType *ct = g_mime_content_type_parse (options, value);
        mixed = g_mime_content_type_is_type (ct, "multipart", "mixed");
        g_object_unref (ct);
      }
      break;
    }
    case FIELD_FROM:
      if (from == NULL) {
        InternetAddressList *list = internet_address_list_parse (options, raw);
        if (list == NULL) {
          /* a parse error: the message keeps the addresses before it, this
           * function none; the full parse decides */
          g_mime_parser_options_free (options);
          return NULL;
        }
        from = decoded_text (first_address_text (list), fallbacks, NULL, NULL);
        g_object_unref (list);
      }
      break;
    default: g_assert_not_reached ();
    }
  }
  g_mime_parser_options_free (options);
  return summary_line (dt, from, subject, mixed, size);
}

char *
msgtk_inspect_summary (GBytes *header_block, goffset message_size,
                       const MsgtkInspectOptions *options, GError **error)
{
  gsize len;
  const char *data = g_bytes_get_data (header_block, &len);
  len = header_block_length (data, len);
  const char *const *fallbacks = options != NULL && options->fallback_charsets != NULL
                                     ? options->fallback_charsets
                                     : charset_default_fallbacks;
  FieldScan scan;
  char *line;
  if (scan_summary_fields (data, len, &scan)
      && (line = summary_from_fields (&scan, message_size, fallbacks)) != NULL)
    return line;
  g_autoptr (MsgtkInspection) in = msgtk_inspection_new_for_headers (
      header_block, message_size, options, MSGTK_INSPECT_SUMMARY, error);
  return in != NULL ? msgtk_inspection_summary (in) : NULL;
}

char *
msgtk_inspection_headers (MsgtkInspection *in, gboolean raw)
{
  GString *out = g_string_new (NULL);
  guint count = header_count (in);
  for (guint i = 0; i < count; i++) {
    GMimeHeader *h = header_at (in, i);
    g_autofree char *name = valid_utf8 (g_mime_header_get_name (h), -1);
    if (raw) {
      const char *rv = g_mime_header_get_raw_value (h);
      g_autofree char *v
          = msgtk_charset_to_utf8 (rv != NULL ? rv : "", -1, NULL, in->fallbacks, NULL);
      g_string_append_printf (out, "%s:%s%s", name, v, g_str_has_suffix (v, "\n") ? "" : "\n");
    } else {
      g_autofree char *v = header_decoded (in, h);
      g_string_append_printf (out, "%s: %s\n", name, v);
    }
  }
  return g_string_free (out, FALSE);
}

/* ---- tree ---- */

char *
msgtk_inspection_tree (MsgtkInspection *in)
{
  GString *out = g_string_new (NULL);
  for (guint i = 0; i < in->nodes->len; i++) {
    Node *n = in->nodes->pdata[i];
    g_autofree char *type = content_type_string (n->object);
    for (guint d = 0; d < n->depth; d++)
      g_string_append (out, "  ");
    g_string_append_printf (out, "%s %s", n->number, type);
    const char *cs = part_charset (n->object);
    if (cs != NULL) {
      g_autofree char *v = valid_utf8 (cs, -1);
      g_string_append_printf (out, " charset=%s", v);
    }
    const char *enc = part_encoding (n->object);
    if (enc != NULL)
      g_string_append_printf (out, " encoding=%s", enc);
    if (n->leaf)
      g_string_append_printf (out, " size=%zu", node_decoded_size (n));
    const char *disp = part_disposition (n->object);
    if (disp != NULL) {
      g_autofree char *v = valid_utf8 (disp, -1);
      g_string_append_printf (out, " disposition=%s", v);
    }
    g_autofree char *fn = part_filename (in, n->object);
    if (fn != NULL) {
      for (char *p = fn; *p; p++)
        if ((guchar)*p < 0x20 || *p == 0x7f)
          *p = '?';
      g_string_append_printf (out, " filename=\"%s\"", fn);
    }
    g_string_append_c (out, '\n');
  }
  return g_string_free (out, FALSE);
}

/* ---- text ---- */

static char *
node_text (MsgtkInspection *in, Node *n)
{
  GBytes *b = node_decoded (n);
  gsize len = 0;
  const char *data = b != NULL ? g_bytes_get_data (b, &len) : "";
  gboolean replaced = FALSE;
  char *s = msgtk_charset_to_utf8 (data != NULL ? data : "", (gssize)len, part_charset (n->object),
                                   in->fallbacks, &replaced);
  if (replaced) {
    g_autofree char *loc = g_strdup_printf ("part %s", n->number);
    add_finding (in->defects, "CHARSET_UNDECODABLE", MSGTK_SEVERITY_WARNING, loc,
                 "bytes no charset could decode were replaced with U+FFFD");
  }
  return s;
}

static const struct {
  const char *name;
  const char *text;
} entities[] = {
  { "amp", "&" },   { "lt", "<" },    { "gt", ">" },     { "quot", "\"" },
  { "apos", "'" },  { "nbsp", " " },  { "copy", "©" },   { "reg", "®" },
  { "mdash", "—" }, { "ndash", "–" }, { "hellip", "…" }, { "euro", "€" },
};

/* A plain-text rendering of HTML: tags dropped (script/style with their
 * content), block ends as line breaks, entities decoded, blank runs
 * collapsed. */
static char *
html_to_text (const char *html)
{
  GString *out = g_string_new (NULL);
  const char *p = html;
  while (*p) {
    if (*p == '<') {
      const char *end = strchr (p, '>');
      if (end == NULL)
        break;
      g_autofree char *tag = g_ascii_strdown (p + 1, MIN (end - p - 1, 16));
      const char *t = tag[0] == '/' ? tag + 1 : tag;
      if (g_str_has_prefix (tag, "script") || g_str_has_prefix (tag, "style")) {
        const char *close = g_str_has_prefix (tag, "script") ? "</script" : "</style";
        const char *q = end;
        while ((q = strchr (q, '<')) != NULL && g_ascii_strncasecmp (q, close, strlen (close)) != 0)
          q++;
        if (q == NULL)
          break;
        end = strchr (q, '>');
        if (end == NULL)
          break;
      } else if (g_str_has_prefix (t, "br") || g_str_has_prefix (t, "p")
                 || g_str_has_prefix (t, "div") || g_str_has_prefix (t, "tr")
                 || g_str_has_prefix (t, "li") || (t[0] == 'h' && g_ascii_isdigit (t[1]))) {
        g_string_append_c (out, '\n');
      }
      p = end + 1;
    } else if (*p == '&') {
      const char *semi = strchr (p, ';');
      gboolean done = FALSE;
      if (semi != NULL && semi - p <= 10) {
        g_autofree char *ent = g_strndup (p + 1, (gsize)(semi - p - 1));
        if (ent[0] == '#') {
          gunichar c = ent[1] == 'x' || ent[1] == 'X'
                           ? (gunichar)g_ascii_strtoull (ent + 2, NULL, 16)
                           : (gunichar)g_ascii_strtoull (ent + 1, NULL, 10);
          if (c != 0 && g_unichar_validate (c)) {
            g_string_append_unichar (out, c);
            done = TRUE;
          }
        } else {
          for (guint i = 0; i < G_N_ELEMENTS (entities); i++)
            if (strcmp (ent, entities[i].name) == 0) {
              g_string_append (out, entities[i].text);
              done = TRUE;
            }
        }
      }
      if (done)
        p = semi + 1;
      else
        g_string_append_c (out, *p++);
    } else if (*p == '\r' || *p == '\n' || *p == '\t') {
      g_string_append_c (out, ' ');
      p++;
    } else {
      g_string_append_c (out, *p++);
    }
  }
  /* tidy: trim each line, at most one blank line in a row */
  g_auto (GStrv) lines = g_strsplit (out->str, "\n", -1);
  g_string_free (out, TRUE);
  GString *res = g_string_new (NULL);
  gboolean blank = TRUE;
  for (guint i = 0; lines[i] != NULL; i++) {
    g_strstrip (lines[i]);
    /* collapse runs of spaces */
    GString *l = g_string_new (NULL);
    for (const char *q = lines[i]; *q; q++)
      if (!(*q == ' ' && l->len > 0 && l->str[l->len - 1] == ' '))
        g_string_append_c (l, *q);
    if (l->len == 0) {
      if (!blank)
        g_string_append_c (res, '\n');
      blank = TRUE;
    } else {
      g_string_append_len (res, l->str, (gssize)l->len);
      g_string_append_c (res, '\n');
      blank = FALSE;
    }
    g_string_free (l, TRUE);
  }
  return g_string_free (res, FALSE);
}

static gboolean
is_attachment (GMimeObject *obj)
{
  const char *d = part_disposition (obj);
  return d != NULL && g_ascii_strcasecmp (d, "attachment") == 0;
}

static Node *
body_node (MsgtkInspection *in, const char *subtype)
{
  for (guint i = 0; i < in->nodes->len; i++) {
    Node *n = in->nodes->pdata[i];
    GMimeContentType *ct = g_mime_object_get_content_type (n->object);
    if (n->leaf && ct != NULL && g_mime_content_type_is_type (ct, "text", subtype)
        && !is_attachment (n->object))
      return n;
  }
  return NULL;
}

char *
msgtk_inspection_text (MsgtkInspection *in)
{
  Node *n = body_node (in, "plain");
  if (n != NULL)
    return node_text (in, n);
  n = body_node (in, "html");
  if (n != NULL) {
    g_autofree char *html = node_text (in, n);
    return html_to_text (html);
  }
  return g_strdup ("");
}

/* ---- JSON ---- */

static void
json_string_or_null (JsonBuilder *b, const char *member, const char *value)
{
  json_builder_set_member_name (b, member);
  if (value != NULL)
    json_builder_add_string_value (b, value);
  else
    json_builder_add_null_value (b);
}

/* The mailboxes of @list as name/address objects; a group's members in its
 * place (flat). */
static void
json_mailboxes (MsgtkInspection *in, JsonBuilder *b, InternetAddressList *list, const char *what)
{
  int n = list != NULL ? internet_address_list_length (list) : 0;
  for (int i = 0; i < n; i++) {
    InternetAddress *a = internet_address_list_get_address (list, i);
    if (INTERNET_ADDRESS_IS_GROUP (a)) {
      json_mailboxes (in, b, internet_address_group_get_members (INTERNET_ADDRESS_GROUP (a)), what);
      continue;
    }
    json_builder_begin_object (b);
    const char *name = internet_address_get_name (a);
    g_autofree char *nm = name != NULL && *name ? decode_value (in, name, what) : NULL;
    g_autofree char *addr
        = decode_value (in, internet_address_mailbox_get_addr (INTERNET_ADDRESS_MAILBOX (a)), what);
    json_string_or_null (b, "name", nm);
    json_string_or_null (b, "address", addr);
    json_builder_end_object (b);
  }
}

static void
json_addresses (MsgtkInspection *in, JsonBuilder *b, InternetAddressList *list, const char *what)
{
  json_builder_begin_array (b);
  json_mailboxes (in, b, list, what);
  json_builder_end_array (b);
}

static void
json_findings (JsonBuilder *b, const GPtrArray *list)
{
  json_builder_begin_array (b);
  for (guint i = 0; i < list->len; i++) {
    const MsgtkFinding *f = list->pdata[i];
    json_builder_begin_object (b);
    json_string_or_null (b, "code", f->code);
    json_string_or_null (b, "severity", msgtk_severity_name (f->severity));
    json_string_or_null (b, "location", f->location);
    json_string_or_null (b, "message", f->message);
    json_builder_end_object (b);
  }
  json_builder_end_array (b);
}

static void
decoded_sha256 (const char *data, gsize len, gpointer user_data)
{
  sha256_update (user_data, len, (const guint8 *)data);
}

/* Decoded size of leaf @n and the lower-case hex SHA-256 of its decoded
 * content: nettle's, which uses the CPU's SHA instructions where there are
 * some (several times GLib's speed), over the decoded chunks as they come. */
static gsize
node_sha256 (Node *n, char **hex_out)
{
  struct sha256_ctx ctx;
  guint8 digest[SHA256_DIGEST_SIZE];
  sha256_init (&ctx);
  gsize size = node_decode (n, decoded_sha256, &ctx);
  sha256_digest (&ctx, sizeof digest, digest);
  char *hex = g_malloc (2 * sizeof digest + 1);
  for (guint i = 0; i < sizeof digest; i++) {
    hex[2 * i] = "0123456789abcdef"[digest[i] >> 4];
    hex[2 * i + 1] = "0123456789abcdef"[digest[i] & 15];
  }
  hex[2 * sizeof digest] = '\0';
  *hex_out = hex;
  return size;
}

static guint
json_part (MsgtkInspection *in, JsonBuilder *b, guint i)
{
  Node *n = in->nodes->pdata[i];
  json_builder_begin_object (b);
  json_string_or_null (b, "part", n->number);
  g_autofree char *type = content_type_string (n->object);
  json_string_or_null (b, "type", type);
  const char *cs = part_charset (n->object);
  g_autofree char *csv = valid_utf8 (cs, -1);
  json_string_or_null (b, "charset", csv);
  json_string_or_null (b, "encoding", part_encoding (n->object));
  const char *disp = part_disposition (n->object);
  g_autofree char *dispv = valid_utf8 (disp, -1);
  json_string_or_null (b, "disposition", dispv);
  g_autofree char *fn = part_filename (in, n->object);
  json_string_or_null (b, "filename", fn);
  if (n->leaf) {
    g_autofree char *sha = NULL;
    gsize len = node_sha256 (n, &sha);
    json_builder_set_member_name (b, "size");
    json_builder_add_int_value (b, (gint64)len);
    json_string_or_null (b, "sha256", sha);
  }
  json_builder_set_member_name (b, "children");
  json_builder_begin_array (b);
  guint j = i + 1;
  while (j < in->nodes->len && ((Node *)in->nodes->pdata[j])->depth > n->depth)
    j = json_part (in, b, j);
  json_builder_end_array (b);
  json_builder_end_object (b);
  return j;
}

JsonNode *
msgtk_inspection_to_json (MsgtkInspection *in)
{
  g_return_val_if_fail (in->message != NULL, NULL); /* not with MSGTK_INSPECT_STRUCTURE */
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  g_autofree char *subject = get_subject (in);
  json_string_or_null (b, "subject", subject);
  static const struct {
    const char *member;
    GMimeAddressType type;
    const char *what;
  } addrs[] = {
    { "from", GMIME_ADDRESS_TYPE_FROM, "header From" },
    { "sender", GMIME_ADDRESS_TYPE_SENDER, "header Sender" },
    { "reply_to", GMIME_ADDRESS_TYPE_REPLY_TO, "header Reply-To" },
    { "to", GMIME_ADDRESS_TYPE_TO, "header To" },
    { "cc", GMIME_ADDRESS_TYPE_CC, "header Cc" },
    { "bcc", GMIME_ADDRESS_TYPE_BCC, "header Bcc" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (addrs); i++) {
    json_builder_set_member_name (b, addrs[i].member);
    json_addresses (in, b, g_mime_message_get_addresses (in->message, addrs[i].type),
                    addrs[i].what);
  }
  GDateTime *dt = g_mime_message_get_date (in->message);
  g_autofree char *date = dt != NULL ? g_date_time_format (dt, "%Y-%m-%dT%H:%M:%S%:z") : NULL;
  json_string_or_null (b, "date", date);
  const char *mid = g_mime_message_get_message_id (in->message);
  g_autofree char *midv = decode_value (in, mid, "header Message-ID");
  json_string_or_null (b, "message_id", midv);

  json_builder_set_member_name (b, "headers");
  json_builder_begin_array (b);
  guint count = header_count (in);
  for (guint i = 0; i < count; i++) {
    GMimeHeader *h = header_at (in, i);
    json_builder_begin_object (b);
    g_autofree char *name = valid_utf8 (g_mime_header_get_name (h), -1);
    g_autofree char *value = header_decoded (in, h);
    json_string_or_null (b, "name", name);
    json_string_or_null (b, "value", value);
    json_builder_end_object (b);
  }
  json_builder_end_array (b);

  json_builder_set_member_name (b, "tree");
  if (in->nodes->len > 0)
    json_part (in, b, 0);
  else
    json_builder_add_null_value (b);

  json_builder_set_member_name (b, "defects");
  json_findings (b, in->defects);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

/* ---- parts and extraction ---- */

GBytes *
msgtk_inspection_part_content (MsgtkInspection *in, const char *number, gboolean to_utf8,
                               GError **error)
{
  Node *n = find_node (in, number);
  if (n == NULL || !n->leaf) {
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_USAGE,
                 "no part '%s' with content in this message; --tree lists the part numbers",
                 number);
    return NULL;
  }
  g_autofree char *type = content_type_string (n->object);
  if (to_utf8 && is_text_type (type)) {
    char *s = node_text (in, n);
    return g_bytes_new_take (s, strlen (s));
  }
  return g_bytes_ref (node_decoded (n));
}

static const struct {
  const char *type;
  const char *ext;
} extensions[] = {
  { "text/plain", ".txt" },
  { "text/html", ".html" },
  { "text/calendar", ".ics" },
  { "text/csv", ".csv" },
  { "image/png", ".png" },
  { "image/jpeg", ".jpg" },
  { "image/gif", ".gif" },
  { "image/svg+xml", ".svg" },
  { "application/pdf", ".pdf" },
  { "application/zip", ".zip" },
  { "application/json", ".json" },
  { "message/rfc822", ".eml" },
  { "application/pgp-signature", ".asc" },
  { "application/pkcs7-signature", ".p7s" },
};

static gboolean
is_reserved_device (const char *name)
{
  static const char *const devs[]
      = { "CON",  "PRN",  "AUX",  "NUL",  "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7",
          "COM8", "COM9", "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9" };
  const char *dot = strchr (name, '.');
  gsize stem = dot != NULL ? (gsize)(dot - name) : strlen (name);
  for (guint i = 0; i < G_N_ELEMENTS (devs); i++)
    if (strlen (devs[i]) == stem && g_ascii_strncasecmp (name, devs[i], stem) == 0)
      return TRUE;
  return FALSE;
}

char *
msgtk_inspect_safe_name (const char *name, const char *mime_type, const char *number)
{
  GString *g = g_string_new (NULL);
  if (name != NULL) {
    g_autofree char *v = g_utf8_make_valid (name, -1);
    for (const char *p = v; *p; p = g_utf8_next_char (p)) {
      gunichar c = g_utf8_get_char (p);
      if (c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0) || c == '/' || c == '\\' || c == ':'
          || c == '*' || c == '?' || c == '"' || c == '<' || c == '>' || c == '|' || c == 0xfffd
          || g_unichar_type (c) == G_UNICODE_FORMAT)
        g_string_append_c (g, '_');
      else
        g_string_append_unichar (g, c);
    }
  }
  /* no "..": collapse dot runs; no leading dots or spaces, no trailing ones */
  char *s;
  while ((s = strstr (g->str, "..")) != NULL)
    g_string_erase (g, s - g->str, 1);
  gsize lead = 0;
  while (lead < g->len && (g->str[lead] == '.' || g->str[lead] == ' '))
    lead++;
  g_string_erase (g, 0, (gssize)lead);
  while (g->len > 0 && (g->str[g->len - 1] == '.' || g->str[g->len - 1] == ' '))
    g_string_truncate (g, g->len - 1);
  if (g->len == 0) {
    const char *ext = ".bin";
    for (guint i = 0; i < G_N_ELEMENTS (extensions); i++)
      if (mime_type != NULL && g_ascii_strcasecmp (mime_type, extensions[i].type) == 0)
        ext = extensions[i].ext;
    g_string_printf (g, "part-%s%s", number != NULL ? number : "1", ext);
  }
  if (is_reserved_device (g->str))
    g_string_prepend_c (g, '_');
  if (g->len > MAX_NAME_BYTES) {
    /* keep a short extension, cut the stem at a character boundary */
    const char *dot = strrchr (g->str, '.');
    g_autofree char *ext = dot != NULL && strlen (dot) <= 16 ? g_strdup (dot) : g_strdup ("");
    gsize keep = MAX_NAME_BYTES - strlen (ext);
    const char *cut = g->str + keep;
    while (cut > g->str && (((guchar)*cut) & 0xc0) == 0x80)
      cut--;
    g_string_truncate (g, (gsize)(cut - g->str));
    g_string_append (g, ext);
  }
  return g_string_free (g, FALSE);
}

/* Create @dir/@name exclusively, adding " (1)", " (2)" … before the
 * extension until the name is free. */
static int
create_unique (const char *dir, const char *name, char **path_out, GError **error)
{
  const char *dot = strrchr (name, '.');
  if (dot == name)
    dot = NULL;
  g_autofree char *stem = dot != NULL ? g_strndup (name, (gsize)(dot - name)) : g_strdup (name);
  const char *ext = dot != NULL ? dot : "";
  for (guint i = 0; i < 10000; i++) {
    g_autofree char *candidate
        = i == 0 ? g_strdup (name) : g_strdup_printf ("%s (%u)%s", stem, i, ext);
    g_autofree char *path = g_build_filename (dir, candidate, NULL);
    int fd = g_open (path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd >= 0) {
      *path_out = g_steal_pointer (&path);
      return fd;
    }
    if (errno != EEXIST) {
      int e = errno;
      g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_CANT_CREATE, "cannot create '%s': %s", path,
                   g_strerror (e));
      return -1;
    }
  }
  g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_CANT_CREATE,
               "no free name for '%s' in '%s'; empty the directory", name, dir);
  return -1;
}

char **
msgtk_inspection_extract (MsgtkInspection *in, const char *dir, gboolean to_utf8, GError **error)
{
  if (g_mkdir_with_parents (dir, 0755) != 0) {
    int e = errno;
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_CANT_CREATE, "cannot create directory '%s': %s",
                 dir, g_strerror (e));
    return NULL;
  }
  Node *body = body_node (in, "plain");
  if (body == NULL)
    body = body_node (in, "html");
  g_autoptr (GPtrArray) written = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < in->nodes->len; i++) {
    Node *n = in->nodes->pdata[i];
    if (!n->leaf || n == body)
      continue;
    g_autofree char *type = content_type_string (n->object);
    g_autofree char *fn = part_filename (in, n->object);
    g_autofree char *safe = msgtk_inspect_safe_name (fn, type, n->number);
    g_autoptr (GBytes) content = msgtk_inspection_part_content (in, n->number, to_utf8, error);
    if (content == NULL)
      return NULL;
    char *path = NULL;
    int fd = create_unique (dir, safe, &path, error);
    if (fd < 0)
      return NULL;
    g_ptr_array_add (written, path);
    gsize len;
    const char *data = g_bytes_get_data (content, &len);
    while (len > 0) {
      ssize_t w = write (fd, data, len);
      if (w < 0 && errno == EINTR)
        continue;
      if (w <= 0) {
        int e = errno;
        close (fd);
        g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_IO, "cannot write '%s': %s", path,
                     g_strerror (e));
        return NULL;
      }
      data += w;
      len -= (gsize)w;
    }
    if (close (fd) != 0) {
      int e = errno;
      g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_IO, "cannot write '%s': %s", path,
                   g_strerror (e));
      return NULL;
    }
  }
  g_ptr_array_add (written, NULL);
  return (char **)g_ptr_array_free (g_steal_pointer (&written), FALSE);
}

/* ---- lint ---- */

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
      add_finding (out, "ENCODED_WORD_UNCLOSED", MSGTK_SEVERITY_WARNING, loc,
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
      add_finding (out, "ENCODED_WORD_INVALID", MSGTK_SEVERITY_WARNING, loc,
                   "an encoded word is malformed (bad encoding letter, characters or padding)");
    else if (!msgtk_charset_is_known (charset)) {
      g_autofree char *cs = valid_utf8 (charset, -1);
      add_finding (out, "CHARSET_UNKNOWN", MSGTK_SEVERITY_WARNING, loc,
                   "unknown charset \"%s\" in an encoded word", cs);
    }
    p = end + 2;
  }
}

static void
check_lines (MsgtkInspection *in, GPtrArray *out)
{
  gsize len;
  const char *data = g_bytes_get_data (in->raw, &len);
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
      add_finding (out, "BARE_CR", MSGTK_SEVERITY_WARNING, loc,
                   "a carriage return not followed by a line feed");
    }
    if (content > 998 && !long_seen) {
      long_seen = TRUE;
      g_autofree char *loc = g_strdup_printf ("line %u", line);
      add_finding (out, "LINE_TOO_LONG", MSGTK_SEVERITY_WARNING, loc,
                   "a line of %zu octets; RFC 5322 allows 998", content);
    }
    if (content > in->max_line && !limit_seen) {
      limit_seen = TRUE;
      g_autofree char *loc = g_strdup_printf ("line %u", line);
      add_finding (out, "LIMIT_LINE_LENGTH", MSGTK_SEVERITY_WARNING, loc,
                   "a line of %zu octets, longer than the limit of %u", content, in->max_line);
    }
    if ((gsize)(p - data) < hdr_end) {
      for (gsize i = 0; i < content; i++)
        if ((guchar)p[i] >= 0x80) {
          const char *colon = memchr (p, ':', content);
          g_autofree char *name = colon != NULL && p[0] != ' ' && p[0] != '\t'
                                      ? g_strndup (p, (gsize)(colon - p))
                                      : g_strdup_printf ("at line %u", line);
          g_autofree char *loc = g_strdup_printf ("header %s", name);
          add_finding (out, "HEADER_8BIT", MSGTK_SEVERITY_WARNING, loc,
                       "8-bit bytes in a header field (not RFC 2047 encoded)");
          break;
        }
    }
    line++;
    p = le + 1;
  }
  if (crlf > 0 && lf > 0) {
    g_autofree char *loc = g_strdup_printf ("line %u", first_lf);
    add_finding (out, "BARE_LF", MSGTK_SEVERITY_WARNING, loc,
                 "%u lines end in a bare LF among %u CRLF lines", lf, crlf);
  }
}

static void
check_transfer_encoding (GPtrArray *out, Node *n)
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
      add_finding (out, "BASE64_INVALID", MSGTK_SEVERITY_WARNING, loc,
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
      add_finding (
          out, "QP_INVALID", MSGTK_SEVERITY_WARNING, loc,
          "quoted-printable content has \"=\" not followed by two hex digits or a line break");
      break;
    }
  }
}

static void
check_parts (MsgtkInspection *in, GPtrArray *out)
{
  gsize len;
  const char *data = g_bytes_get_data (in->raw, &len);
  for (guint i = 0; i < in->nodes->len; i++) {
    Node *n = in->nodes->pdata[i];
    g_autofree char *loc = g_strdup_printf ("part %s", n->number);
    const char *cs = part_charset (n->object);
    if (cs != NULL && !msgtk_charset_is_known (cs)) {
      g_autofree char *v = valid_utf8 (cs, -1);
      add_finding (out, "CHARSET_UNKNOWN", MSGTK_SEVERITY_WARNING, loc, "unknown charset \"%s\"",
                   v);
    }
    if (GMIME_IS_MULTIPART (n->object)) {
      /* the parameter itself: g_mime_multipart_get_boundary() would make one
       * up, re-encoding the Content-Type (without bound for some garbage
       * parameter names) */
      GMimeContentType *ct = g_mime_object_get_content_type (n->object);
      const char *boundary = ct != NULL ? g_mime_content_type_get_parameter (ct, "boundary") : NULL;
      if (boundary == NULL) {
        add_finding (out, "BOUNDARY_MISSING", MSGTK_SEVERITY_ERROR, loc,
                     "a multipart without a boundary parameter");
      } else {
        g_autofree char *close = g_strdup_printf ("--%s--", boundary);
        if (g_strstr_len (data, (gssize)len, close) == NULL
            && memmem (data, len, close, strlen (close)) == NULL)
          add_finding (out, "BOUNDARY_UNCLOSED", MSGTK_SEVERITY_WARNING, loc,
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
  g_return_val_if_fail (in->message != NULL, NULL); /* not with MSGTK_INSPECT_STRUCTURE */
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify)finding_free);
  GMimeHeaderList *hl = g_mime_object_get_header_list (GMIME_OBJECT (in->message));
  if (!g_mime_header_list_contains (hl, "From"))
    add_finding (out, "MISSING_FROM", MSGTK_SEVERITY_ERROR, "header", "no From header field");
  if (!g_mime_header_list_contains (hl, "Date"))
    add_finding (out, "MISSING_DATE", MSGTK_SEVERITY_ERROR, "header", "no Date header field");
  if (!g_mime_header_list_contains (hl, "Message-ID"))
    add_finding (out, "MISSING_MESSAGE_ID", MSGTK_SEVERITY_WARNING, "header",
                 "no Message-ID header field");
  guint count = header_count (in);
  for (const char *const *s = singletons; *s != NULL; s++) {
    guint seen = 0;
    for (guint i = 0; i < count; i++)
      if (g_ascii_strcasecmp (g_mime_header_get_name (header_at (in, i)), *s) == 0)
        seen++;
    if (seen > 1) {
      g_autofree char *loc = g_strdup_printf ("header %s", *s);
      add_finding (out, "HEADER_DUPLICATE", MSGTK_SEVERITY_WARNING, loc,
                   "%s appears %u times; RFC 5322 allows it once", *s, seen);
    }
  }
  for (guint i = 0; i < count; i++) {
    GMimeHeader *h = header_at (in, i);
    const char *rv = g_mime_header_get_raw_value (h);
    if (rv != NULL && strstr (rv, "=?") != NULL) {
      g_autofree char *name = valid_utf8 (g_mime_header_get_name (h), -1);
      check_encoded_words (in, out, name, rv);
    }
  }
  check_lines (in, out);
  check_parts (in, out);
  /* decoding the text may find undecodable bytes: do it so they are listed */
  g_free (msgtk_inspection_text (in));
  for (guint i = 0; i < in->defects->len; i++) {
    MsgtkFinding *f = in->defects->pdata[i];
    add_finding (out, f->code, f->severity, f->location, "%s", f->message);
  }
  (void)finding_copy;
  return out;
}
