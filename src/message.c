/* msgtk — messages as bytes: their envelope and fields, and rendering. */
#include <msgtk/error.h>
#include <msgtk/init.h>

#include "address-private.h"
#include "gmime-autoptr-private.h"
#include "header-private.h"
#include "message-private.h"

#include <errno.h>
#include <string.h>

#define MAX_HEAD (1024 * 1024)

/* ---- what the header says ---- */

char *
msgtk_message_get_header (GBytes *message, const char *name)
{
  gsize len;
  const char *p = g_bytes_get_data (message, &len);
  return header_find (p, len, name);
}

GDateTime *
msgtk_message_get_date (GBytes *message)
{
  msgtk_init ();
  g_autofree char *d = msgtk_message_get_header (message, "Date");
  return d != NULL ? g_mime_utils_header_decode_date (d) : NULL;
}

gboolean
msgtk_message_needs_8bit (GBytes *message)
{
  gsize len;
  const guint8 *p = g_bytes_get_data (message, &len);
  gsize i = 0;
  /* eight bytes at a time: any high bit set in the word */
  for (; i + 8 <= len; i += 8) {
    guint64 w;
    memcpy (&w, p + i, 8);
    if (w & G_GUINT64_CONSTANT (0x8080808080808080))
      return TRUE;
  }
  for (; i < len; i++)
    if (p[i] & 0x80)
      return TRUE;
  return FALSE;
}

typedef struct {
  GPtrArray *out;
  GHashTable *seen;
} Collect;

static void
collect_mailbox (InternetAddressMailbox *m, gpointer data)
{
  Collect *c = data;
  const char *a = internet_address_mailbox_get_addr (m);
  if (a != NULL && *a && g_hash_table_add (c->seen, g_ascii_strdown (a, -1)))
    g_ptr_array_add (c->out, g_strdup (a));
}

gboolean
msgtk_message_envelope (GBytes *message, char **sender, GPtrArray *recipients, GError **error)
{
  msgtk_init ();
  gsize len;
  const char *p = g_bytes_get_data (message, &len);
  HeaderIter it;
  HeaderField f;
  gboolean resent = FALSE;
  header_iter_init (&it, p, len);
  while (!resent && header_iter_next (&it, &f))
    resent = header_field_is (&f, "Resent-To") || header_field_is (&f, "Resent-Cc")
             || header_field_is (&f, "Resent-Bcc");
  g_autoptr (GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  Collect c = { recipients, seen };
  const char *const plain[] = { "To", "Cc", "Bcc" };
  const char *const res[] = { "Resent-To", "Resent-Cc", "Resent-Bcc" };
  for (guint i = 0; i < 3; i++) {
    header_iter_init (&it, p, len);
    while (header_iter_next (&it, &f)) {
      if (!header_field_is (&f, resent ? res[i] : plain[i]))
        continue;
      g_autofree char *raw = g_strndup (f.value, f.value_len);
      g_autoptr (InternetAddressList) list = internet_address_list_parse (NULL, raw);
      address_foreach_mailbox (list, collect_mailbox, &c);
    }
  }
  if (sender != NULL && *sender == NULL) {
    const char *const order[] = { "Resent-Sender", "Resent-From", "Sender", "From" };
    for (guint i = resent ? 0 : 2; i < G_N_ELEMENTS (order) && *sender == NULL; i++) {
      g_autofree char *v = header_find (p, len, order[i]);
      *sender = address_first_in_value (v);
    }
  }
  return TRUE;
}

const char *
message_object_sender (GMimeMessage *m)
{
  const char *a = address_first_addr (g_mime_message_get_sender (m));
  return a != NULL ? a : address_first_addr (g_mime_message_get_from (m));
}

/* ---- header edits ---- */

static char *
return_path_address (const HeaderField *f)
{
  g_autofree char *v = header_field_unfold (f);
  char *a = v, *lt = strchr (v, '<');
  if (lt != NULL) {
    a = lt + 1;
    char *gt = strchr (a, '>');
    if (gt == NULL)
      return NULL;
    *gt = '\0';
  }
  if (*a == '\0')
    return NULL;
  for (const char *c = a; *c; c++)
    if ((guchar)*c <= ' ' || *c == 0x7f || *c == '<' || *c == '>')
      return NULL;
  return g_strdup (a);
}

char *
message_return_path (GBytes *head)
{
  gsize len;
  const char *p = g_bytes_get_data (head, &len);
  HeaderIter it;
  HeaderField f;
  header_iter_init (&it, p, len);
  while (header_iter_next (&it, &f))
    if (header_field_is (&f, "Return-Path"))
      return return_path_address (&f);
  return NULL;
}

static gboolean
wants_edit (const MsgtkRenderOptions *o)
{
  return o->strip_bcc || o->add_missing || o->set_status;
}

static gboolean
is_status (const HeaderField *f)
{
  return header_field_is (f, "Status") || header_field_is (f, "X-Status");
}

/* The message whose first @len bytes are @data (its header block among
 * them) with the header edited as @o says; NULL when nothing changes. */
static GString *
edit_head (const char *data, gsize len, const MsgtkRenderOptions *o)
{
  if (len == 0)
    data = ""; /* an empty message's bytes may be NULL */
  HeaderIter it;
  HeaderField f;
  gboolean has_date = FALSE, has_id = FALSE, any_bcc = FALSE;
  g_autofree char *status = NULL, *x_status = NULL;
  header_iter_init (&it, data, len);
  while (header_iter_next (&it, &f)) {
    has_date = has_date || header_field_is (&f, "Date");
    has_id = has_id || header_field_is (&f, "Message-ID");
    any_bcc = any_bcc || header_field_is (&f, "Bcc") || header_field_is (&f, "Resent-Bcc");
    if (status == NULL && header_field_is (&f, "Status"))
      status = header_field_unfold (&f);
    else if (x_status == NULL && header_field_is (&f, "X-Status"))
      x_status = header_field_unfold (&f);
  }
  gboolean add_date = o->add_missing && !has_date, add_id = o->add_missing && !has_id;
  gboolean strip = o->strip_bcc && any_bcc;
  gboolean set_status
      = o->set_status && msgtk_flags_from_mbox_status (status, x_status) != o->flags;
  if (!add_date && !add_id && !strip && !set_status)
    return NULL;
  GString *out = g_string_sized_new (len + 128);
  if (add_date || add_id) {
    const char *eol = len > 0 && memchr (data, '\r', MIN (len, 4096)) ? "\r\n" : "\n";
    if (add_date) {
      g_autoptr (GDateTime) now = g_date_time_new_now_local ();
      g_autofree char *d = g_mime_utils_header_format_date (now);
      g_string_append_printf (out, "Date: %s%s", d, eol);
    }
    if (add_id) {
      g_autofree char *id
          = g_mime_utils_generate_message_id (o->id_domain ? o->id_domain : g_get_host_name ());
      g_string_append_printf (out, "Message-ID: <%s>%s", id, eol);
    }
  }
  header_iter_init (&it, data, len);
  while (header_iter_next (&it, &f)) {
    gboolean drop = (strip && (header_field_is (&f, "Bcc") || header_field_is (&f, "Resent-Bcc")))
                    || (set_status && is_status (&f));
    if (!drop)
      g_string_append_len (out, f.start, f.end - f.start);
  }
  gsize at = (gsize)(it.p - data); /* the blank line, or the end of the block */
  if (set_status) {
    const char *eol = at < len && data[at] == '\r' ? "\r\n" : "\n";
    if (out->len > 0 && out->str[out->len - 1] != '\n')
      g_string_append (out, eol);
    g_autofree char *st = NULL, *xst = NULL;
    msgtk_flags_to_mbox_status (o->flags, &st, &xst);
    g_string_append_printf (out, "Status: %s%s", st, eol);
    if (*xst != '\0')
      g_string_append_printf (out, "X-Status: %s%s", xst, eol);
  }
  g_string_append_len (out, data + at, (gssize)(len - at));
  return out;
}

/* ---- rendering ---- */

/* Read from @input onto @buf until a header block is complete in it, at
 * most MAX_HEAD bytes, or the end; *@complete (nullable) tells whether the
 * whole header block is in @buf (its blank line, or the end of the message). */
static gboolean
read_head_into (GByteArray *buf, GInputStream *input, gboolean *complete, GError **error)
{
  gsize scanned = 0;
  gboolean found;
  while (!(found = header_block_end ((const char *)buf->data, buf->len, &scanned) > 0)
         && buf->len < MAX_HEAD) {
    guint8 chunk[8192];
    gssize n = g_input_stream_read (input, chunk, sizeof chunk, NULL, error);
    if (n < 0)
      return FALSE;
    if (n == 0) {
      found = TRUE; /* the message is all header */
      break;
    }
    g_byte_array_append (buf, chunk, (guint)n);
  }
  if (complete != NULL)
    *complete = found;
  return TRUE;
}

GBytes *
message_read_head (GInputStream *input, GError **error)
{
  g_autoptr (GByteArray) buf = g_byte_array_new ();
  if (!read_head_into (buf, input, NULL, error))
    return NULL;
  return g_byte_array_free_to_bytes (g_steal_pointer (&buf));
}

static gboolean
write_error (GError **error)
{
  int e = errno ? errno : EIO;
  g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_IO, "cannot write: %s", g_strerror (e));
  return FALSE;
}

static gboolean
render_object (GMimeMessage *m, const MsgtkRenderOptions *o, GMimeStream *out, GError **error)
{
  GMimeObject *obj = GMIME_OBJECT (m);
  if (o->strip_bcc)
    while (g_mime_object_remove_header (obj, "Bcc")
           || g_mime_object_remove_header (obj, "Resent-Bcc"))
      ;
  if (o->add_missing && g_mime_message_get_date (m) == NULL) {
    g_autoptr (GDateTime) now = g_date_time_new_now_local ();
    g_mime_message_set_date (m, now);
  }
  if (o->add_missing && g_mime_message_get_message_id (m) == NULL) {
    g_autofree char *id
        = g_mime_utils_generate_message_id (o->id_domain ? o->id_domain : g_get_host_name ());
    g_mime_message_set_message_id (m, id);
  }
  g_autoptr (GMimeFormatOptions) fo = g_mime_format_options_new ();
  if (o->eol == MSGTK_EOL_CRLF)
    g_mime_format_options_set_newline_format (fo, GMIME_NEWLINE_FORMAT_DOS);
  errno = 0;
  return g_mime_object_write_to_stream (obj, fo, out) >= 0 || write_error (error);
}

static gboolean
render_raw (const MsgtkMessageData *data, const MsgtkRenderOptions *o, GMimeStream *out,
            GError **error)
{
  g_autoptr (GBytes) head = g_bytes_ref (data->head);
  if (wants_edit (o)) {
    gsize scanned = 0, len;
    const char *p = g_bytes_get_data (head, &len);
    gboolean complete = data->rest == NULL || header_block_end (p, len, &scanned) > 0;
    if (!complete) {
      g_autoptr (GByteArray) buf = g_byte_array_sized_new ((guint)len + 8192);
      g_byte_array_append (buf, (const guint8 *)p, (guint)len);
      if (!read_head_into (buf, data->rest, &complete, error)) {
        g_prefix_error (error, "cannot read the message: ");
        return FALSE;
      }
      g_bytes_unref (head);
      head = g_byte_array_free_to_bytes (g_steal_pointer (&buf));
      p = g_bytes_get_data (head, &len);
    }
    /* a header block longer than MAX_HEAD is left as it is */
    GString *edited = complete ? edit_head (p, len, o) : NULL;
    if (edited != NULL) {
      g_bytes_unref (head);
      head = g_string_free_to_bytes (edited);
    }
  }
  gsize n;
  const char *d = g_bytes_get_data (head, &n);
  errno = 0;
  if (n > 0 && g_mime_stream_write (out, d, n) < 0)
    return write_error (error);
  if (data->rest == NULL)
    return TRUE;
  char buf[65536];
  for (;;) {
    gssize got = g_input_stream_read (data->rest, buf, sizeof buf, NULL, error);
    if (got < 0) {
      g_prefix_error (error, "cannot read the message: ");
      return FALSE;
    }
    if (got == 0)
      return TRUE;
    errno = 0;
    if (g_mime_stream_write (out, buf, (size_t)got) < 0)
      return write_error (error);
  }
}

gboolean
msgtk_message_render (const MsgtkMessageData *data, const MsgtkRenderOptions *options,
                      GMimeStream *out, GError **error)
{
  static const MsgtkRenderOptions none = { 0 };
  const MsgtkRenderOptions *o = options != NULL ? options : &none;
  msgtk_init ();
  g_autoptr (GMimeStream) filtered = g_mime_stream_filter_new (out);
  if (o->eol != MSGTK_EOL_KEEP) {
    g_autoptr (GMimeFilter) f = o->eol == MSGTK_EOL_CRLF ? g_mime_filter_unix2dos_new (FALSE)
                                                         : g_mime_filter_dos2unix_new (FALSE);
    g_mime_stream_filter_add (GMIME_STREAM_FILTER (filtered), f);
  }
  gboolean ok = data->message != NULL ? render_object (data->message, o, filtered, error)
                                      : render_raw (data, o, filtered, error);
  errno = 0;
  if (ok && g_mime_stream_flush (filtered) < 0)
    ok = write_error (error);
  return ok;
}

GBytes *
msgtk_message_render_bytes (GBytes *message, const MsgtkRenderOptions *options, GError **error)
{
  static const MsgtkRenderOptions none = { 0 };
  const MsgtkRenderOptions *o = options != NULL ? options : &none;
  if (o->eol == MSGTK_EOL_KEEP) {
    /* edits only: no stream needed */
    gsize len;
    const char *p = g_bytes_get_data (message, &len);
    GString *edited = wants_edit (o) ? edit_head (p, len, o) : NULL;
    return edited != NULL ? g_string_free_to_bytes (edited) : g_bytes_ref (message);
  }
  g_autoptr (GByteArray) buf = g_byte_array_new ();
  g_autoptr (GMimeStream) mem = g_mime_stream_mem_new_with_byte_array (buf);
  g_mime_stream_mem_set_owner (GMIME_STREAM_MEM (mem), FALSE);
  MsgtkMessageData data = { NULL, message, NULL };
  if (!msgtk_message_render (&data, o, mem, error))
    return NULL;
  return g_byte_array_free_to_bytes (g_steal_pointer (&buf));
}
