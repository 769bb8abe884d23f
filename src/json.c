/* msgtk — an inspected message as JSON (the schema msgparse(1) documents). */
#include <msgtk/json.h>

#include "digest-private.h"
#include "inspect-private.h"
#include "json-private.h"

#include <string.h>

void
json_string_or_null (JsonBuilder *b, const char *member, const char *value)
{
  json_builder_set_member_name (b, member);
  if (value != NULL)
    json_builder_add_string_value (b, value);
  else
    json_builder_add_null_value (b);
}

void
json_int_or_null (JsonBuilder *b, const char *member, gint64 value)
{
  json_builder_set_member_name (b, member);
  if (value != 0)
    json_builder_add_int_value (b, value);
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
    g_autofree char *nm = name != NULL && *name ? inspect_decode_value (in, name, what) : NULL;
    g_autofree char *addr = inspect_decode_value (
        in, internet_address_mailbox_get_addr (INTERNET_ADDRESS_MAILBOX (a)), what);
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
node_sha256 (InspectNode *n, char **hex_out)
{
  struct sha256_ctx ctx;
  sha256_init (&ctx);
  gsize size = inspect_node_decode (n, decoded_sha256, &ctx);
  *hex_out = digest_sha256_hex (&ctx);
  return size;
}

static guint
json_part (MsgtkInspection *in, JsonBuilder *b, guint i)
{
  InspectNode *n = inspection_nodes (in)->pdata[i];
  json_builder_begin_object (b);
  json_string_or_null (b, "part", n->number);
  g_autofree char *type = inspect_content_type (n->object);
  json_string_or_null (b, "type", type);
  const char *cs = inspect_part_charset (n->object);
  g_autofree char *csv = inspect_valid_utf8 (cs, -1);
  json_string_or_null (b, "charset", csv);
  json_string_or_null (b, "encoding", inspect_part_encoding (n->object));
  const char *disp = inspect_part_disposition (n->object);
  g_autofree char *dispv = inspect_valid_utf8 (disp, -1);
  json_string_or_null (b, "disposition", dispv);
  g_autofree char *fn = inspect_part_filename (in, n->object);
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
  while (j < inspection_nodes (in)->len
         && ((InspectNode *)inspection_nodes (in)->pdata[j])->depth > n->depth)
    j = json_part (in, b, j);
  json_builder_end_array (b);
  json_builder_end_object (b);
  return j;
}

JsonNode *
msgtk_inspection_to_json (MsgtkInspection *in)
{
  g_return_val_if_fail (inspection_message (in) != NULL,
                        NULL); /* not with MSGTK_INSPECT_STRUCTURE */
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  g_autofree char *subject = inspect_subject (in);
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
    json_addresses (in, b, g_mime_message_get_addresses (inspection_message (in), addrs[i].type),
                    addrs[i].what);
  }
  GDateTime *dt = g_mime_message_get_date (inspection_message (in));
  g_autofree char *date = dt != NULL ? g_date_time_format (dt, "%Y-%m-%dT%H:%M:%S%:z") : NULL;
  json_string_or_null (b, "date", date);
  const char *mid = g_mime_message_get_message_id (inspection_message (in));
  g_autofree char *midv = inspect_decode_value (in, mid, "header Message-ID");
  json_string_or_null (b, "message_id", midv);

  json_builder_set_member_name (b, "headers");
  json_builder_begin_array (b);
  guint count = inspection_header_count (in);
  for (guint i = 0; i < count; i++) {
    GMimeHeader *h = inspection_header (in, i);
    json_builder_begin_object (b);
    g_autofree char *name = inspect_valid_utf8 (g_mime_header_get_name (h), -1);
    g_autofree char *value = inspect_header_decoded (in, h);
    json_string_or_null (b, "name", name);
    json_string_or_null (b, "value", value);
    json_builder_end_object (b);
  }
  json_builder_end_array (b);

  json_builder_set_member_name (b, "tree");
  if (inspection_nodes (in)->len > 0)
    json_part (in, b, 0);
  else
    json_builder_add_null_value (b);

  json_builder_set_member_name (b, "defects");
  json_findings (b, inspection_defect_list (in));
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

void
msgtk_json_add_source (JsonNode *message, const MsgtkItem *item)
{
  JsonObject *o = json_node_get_object (message);
  JsonObject *src = json_object_new ();
  g_autofree char *path = g_utf8_make_valid (item->path, -1);
  json_object_set_string_member (src, "path", path);
  json_object_set_int_member (src, "index", item->index);
  json_object_set_int_member (src, "offset", item->offset);
  json_object_set_int_member (src, "size", item->size);
  g_autofree char *id = g_utf8_make_valid (item->identity, -1);
  json_object_set_string_member (src, "identity", id);
  if (item->folder != NULL) {
    g_autofree char *f = g_utf8_make_valid (item->folder, -1);
    json_object_set_string_member (src, "folder", f);
  } else
    json_object_set_null_member (src, "folder");
  JsonArray *flags = json_array_new ();
  static const struct {
    MsgtkFlags flag;
    const char *name;
  } names[] = {
    { MSGTK_FLAG_SEEN, "seen" },       { MSGTK_FLAG_ANSWERED, "answered" },
    { MSGTK_FLAG_FLAGGED, "flagged" }, { MSGTK_FLAG_DELETED, "deleted" },
    { MSGTK_FLAG_DRAFT, "draft" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    if (item->flags & names[i].flag)
      json_array_add_string_element (flags, names[i].name);
  json_object_set_array_member (src, "flags", flags);
  JsonArray *keywords = json_array_new ();
  for (char **k = item->keywords; k != NULL && *k != NULL; k++)
    json_array_add_string_element (keywords, *k);
  json_object_set_array_member (src, "keywords", keywords);
  if (item->internal_date != NULL) {
    g_autofree char *d = g_date_time_format_iso8601 (item->internal_date);
    json_object_set_string_member (src, "internal_date", d);
  } else
    json_object_set_null_member (src, "internal_date");
  json_object_set_object_member (o, "source", src);
}
