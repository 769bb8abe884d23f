/* msgtk — the summary line of a message: from a parsed inspection, or
 * straight from its header block, decoded by the GMime functions the parsed
 * message would use (no message object per message). */
#include <msgtk/summary.h>
#include <msgtk/terminal.h>

#include "charset-private.h"
#include "header-private.h"
#include "inspect-private.h"
#include "summary-private.h"

#include <string.h>

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
scan_fields (const char *data, gsize len, FieldScan *scan)
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
fields_block (const FieldScan *scan)
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

/* ---- summary and headers ---- */

GByteArray *
summary_header_subset (const char *data, gsize len)
{
  FieldScan scan;
  return scan_fields (data, len, &scan) ? fields_block (&scan) : NULL;
}

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
  /* pad or cut @s to @width characters, shown safely (a tab as a space:
   * columns stay aligned) */
  g_autofree char *shown = msgtk_terminal_text (s != NULL ? s : "", -1, FALSE);
  GString *g = g_string_new (NULL);
  guint w = 0;
  for (const char *p = shown; *p && w < width; p = g_utf8_next_char (p), w++) {
    gunichar c = g_utf8_get_char (p);
    g_string_append_unichar (g, c == '\t' ? ' ' : c);
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

/* the longest subject a summary line shows, in characters */
#define SUBJECT_MAX 500

/* The summary line of its decoded parts (@from and @subject valid UTF-8). */
static char *
summary_line (GDateTime *dt, const char *from, const char *subject, gboolean mixed, goffset size)
{
  g_autofree char *date = dt != NULL ? g_date_time_format (dt, "%Y-%m-%d %H:%M") : g_strdup ("");
  g_autofree char *d = fit (date, 16);
  g_autofree char *f = fit (from, 24);
  /* a subject of megabytes is cut: a line is for reading */
  glong n = subject != NULL ? g_utf8_strlen (subject, -1) : 0;
  g_autofree char *cut = n > SUBJECT_MAX ? fit (subject, SUBJECT_MAX - 1) : NULL;
  g_autofree char *s = cut != NULL       ? g_strconcat (cut, "…", NULL)
                       : subject != NULL ? fit (subject, (guint)n)
                                         : g_strdup ("");
  g_autofree char *sz = human_size (size);
  return g_strdup_printf ("%s  %s %s %6s  %s", d, f, mixed ? "@" : " ", sz, s);
}

char *
msgtk_inspection_summary (MsgtkInspection *in)
{
  g_return_val_if_fail (inspection_message (in) != NULL,
                        NULL); /* not with MSGTK_INSPECT_STRUCTURE */
  g_autofree char *from = inspect_decode_value (
      in, first_address_text (g_mime_message_get_from (inspection_message (in))), "header From");
  g_autofree char *subject = inspect_subject (in);
  GMimeContentType *ct
      = inspection_top (in) != NULL ? g_mime_object_get_content_type (inspection_top (in)) : NULL;
  gboolean mixed = ct != NULL && g_mime_content_type_is_type (ct, "multipart", "mixed");
  return summary_line (g_mime_message_get_date (inspection_message (in)), from, subject, mixed,
                       inspection_size (in));
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
        subject = inspect_decoded_text (value, fallbacks, NULL, NULL);
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
        from = inspect_decoded_text (first_address_text (list), fallbacks, NULL, NULL);
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
  if (scan_fields (data, len, &scan)
      && (line = summary_from_fields (&scan, message_size, fallbacks)) != NULL)
    return line;
  g_autoptr (MsgtkInspection) in = msgtk_inspection_new_for_headers (
      header_block, message_size, options, MSGTK_INSPECT_SUMMARY, error);
  return in != NULL ? msgtk_inspection_summary (in) : NULL;
}
