/* msgtk — drafts as JSON: read (one object, or JSON Lines) and written, by
 * the draft module's one table of fields. */
#include <msgtk/error.h>

#include "draft-private.h"

#include <string.h>

static char *
resolve (const char *base_dir, const char *path)
{
  if (!base_dir || g_path_is_absolute (path))
    return g_strdup (path);
  return g_build_filename (base_dir, path, NULL);
}

static gboolean
json_string (JsonNode *node, const char *key, const char **out, GError **error)
{
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING) {
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_DATA, "\"%s\" must be a string", key);
    return FALSE;
  }
  *out = json_node_get_string (node);
  return TRUE;
}

static gboolean
json_bool (JsonNode *node, const char *key, gboolean *out, GError **error)
{
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_BOOLEAN) {
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_DATA, "\"%s\" must be true or false", key);
    return FALSE;
  }
  *out = json_node_get_boolean (node);
  return TRUE;
}

static gboolean
read_body_file (const char *base_dir, const char *path, GBytes **out, GError **error)
{
  g_autofree char *full = resolve (base_dir, path);
  g_autoptr (GError) e = NULL;
  char *data;
  gsize len;
  if (!g_file_get_contents (full, &data, &len, &e)) {
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_NO_INPUT, "cannot read body file '%s': %s", full,
                 e->message);
    return FALSE;
  }
  *out = g_bytes_new_take (data, len);
  return TRUE;
}

static gboolean
json_attachment (MsgtkDraft *d, JsonNode *node, const char *base_dir, guint index, GError **error)
{
  if (!JSON_NODE_HOLDS_OBJECT (node)) {
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_DATA, "\"attachments\"[%u] must be an object",
                 index);
    return FALSE;
  }
  JsonObject *o = json_node_get_object (node);
  const char *path = NULL, *type = NULL, *name = NULL, *cid = NULL;
  gboolean inline_ = FALSE;
  g_autoptr (GList) members = json_object_get_members (o);
  for (GList *l = members; l; l = l->next) {
    const char *k = l->data;
    JsonNode *v = json_object_get_member (o, k);
    gboolean ok;
    if (g_str_equal (k, "path"))
      ok = json_string (v, k, &path, error);
    else if (g_str_equal (k, "type"))
      ok = json_string (v, k, &type, error);
    else if (g_str_equal (k, "name"))
      ok = json_string (v, k, &name, error);
    else if (g_str_equal (k, "cid"))
      ok = json_string (v, k, &cid, error);
    else if (g_str_equal (k, "inline"))
      ok = json_bool (v, k, &inline_, error);
    else {
      g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_DATA,
                   "\"attachments\"[%u]: unknown key \"%s\" (known: path, type, name, inline, "
                   "cid)",
                   index, k);
      return FALSE;
    }
    if (!ok)
      return FALSE;
  }
  if (!path) {
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_DATA, "\"attachments\"[%u] has no \"path\"",
                 index);
    return FALSE;
  }
  g_autofree char *full = resolve (base_dir, path);
  return msgtk_draft_add_attachment (d, full, type, name, inline_, cid, error);
}

static gboolean
json_fill (MsgtkDraft *d, JsonObject *o, const char *base_dir, GError **error)
{
  g_autoptr (GList) members = json_object_get_members (o);
  for (GList *l = members; l; l = l->next) {
    const char *k = l->data;
    JsonNode *v = json_object_get_member (o, k);
    const char *s = NULL;
    if (g_str_equal (k, "headers")) {
      if (!JSON_NODE_HOLDS_OBJECT (v)) {
        g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_DATA,
                     "\"headers\" must be an object of \"Name\": \"value\"");
        return FALSE;
      }
      JsonObject *h = json_node_get_object (v);
      g_autoptr (GList) names = json_object_get_members (h);
      for (GList *n = names; n; n = n->next) {
        if (!json_string (json_object_get_member (h, n->data), n->data, &s, error)
            || !msgtk_draft_add_header (d, n->data, s, error))
          return FALSE;
      }
      continue;
    }
    if (g_str_equal (k, "attachments")) {
      if (!JSON_NODE_HOLDS_ARRAY (v)) {
        g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_DATA, "\"attachments\" must be an array");
        return FALSE;
      }
      JsonArray *a = json_node_get_array (v);
      for (guint i = 0; i < json_array_get_length (a); i++)
        if (!json_attachment (d, json_array_get_element (a, i), base_dir, i, error))
          return FALSE;
      continue;
    }
    if (g_str_equal (k, "text") || g_str_equal (k, "html")) {
      if (!json_string (v, k, &s, error))
        return FALSE;
      g_autoptr (GBytes) bytes = g_bytes_new (s, strlen (s));
      if (k[0] == 't') {
        msgtk_draft_set_text (d, bytes);
        d->text_utf8 = TRUE;
      } else {
        msgtk_draft_set_html (d, bytes);
        d->html_utf8 = TRUE;
      }
      continue;
    }
    if (g_str_equal (k, "text-file") || g_str_equal (k, "html-file")) {
      g_autoptr (GBytes) bytes = NULL;
      if (!json_string (v, k, &s, error) || !read_body_file (base_dir, s, &bytes, error))
        return FALSE;
      if (k[0] == 't')
        msgtk_draft_set_text (d, bytes);
      else
        msgtk_draft_set_html (d, bytes);
      continue;
    }
    const DraftField *f = draft_field_lookup (k, FALSE);
    if (f == NULL || strcmp (f->name, k) != 0) {
      g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_DATA, "unknown key \"%s\"", k);
      return FALSE;
    }
    if (f->kind == DRAFT_BOOL) {
      if (!json_bool (v, k, DRAFT_MEMBER (d, f, gboolean), error))
        return FALSE;
      continue;
    }
    if ((f->kind == DRAFT_ADDRESSES || f->kind == DRAFT_MSGIDS) && JSON_NODE_HOLDS_ARRAY (v)) {
      /* an array: each address added, message ids joined */
      JsonArray *a = json_node_get_array (v);
      g_autoptr (GString) ids = g_string_new (NULL);
      for (guint i = 0; i < json_array_get_length (a); i++) {
        if (!json_string (json_array_get_element (a, i), k, &s, error))
          return FALSE;
        if (f->kind == DRAFT_MSGIDS)
          g_string_append_printf (ids, "%s%s", ids->len ? " " : "", s);
        else if (!msgtk_draft_set (d, k, s, error))
          return FALSE;
      }
      if (ids->len && !msgtk_draft_set (d, k, ids->str, error))
        return FALSE;
      continue;
    }
    if (!json_string (v, k, &s, error) || !msgtk_draft_set (d, k, s, error))
      return FALSE;
  }
  return TRUE;
}

static MsgtkDraft *
draft_from_node (JsonNode *root, const char *base_dir, GError **error)
{
  if (!root || !JSON_NODE_HOLDS_OBJECT (root)) {
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_DATA, "a draft must be a JSON object");
    return NULL;
  }
  MsgtkDraft *d = msgtk_draft_new ();
  if (!json_fill (d, json_node_get_object (root), base_dir, error)) {
    msgtk_draft_free (d);
    return NULL;
  }
  return d;
}

/* Whether a string of the JSON text holds \u0000: json-glib would cut the
 * value there, in silence. (A backslash is found in strings only.) */
static gboolean
holds_nul (const char *json, gsize length)
{
  for (gsize i = 0; i + 1 < length; i++) {
    if (json[i] != '\\')
      continue;
    if (json[i + 1] == 'u' && i + 5 < length && strncmp (json + i + 2, "0000", 4) == 0)
      return TRUE;
    i++; /* the escaped character */
  }
  return FALSE;
}

MsgtkDraft *
msgtk_draft_new_from_json (const char *json, gssize length, const char *base_dir, GError **error)
{
  if (holds_nul (json, length < 0 ? strlen (json) : (gsize)length)) {
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_DATA,
                 "a string of the JSON draft holds a NUL character (\\u0000), which no field, "
                 "file name or text can carry");
    return NULL;
  }
  g_autoptr (JsonParser) p = json_parser_new_immutable ();
  g_autoptr (GError) e = NULL;
  if (!json_parser_load_from_data (p, json, length, &e)) {
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_DATA, "invalid JSON draft: %s", e->message);
    return NULL;
  }
  return draft_from_node (json_parser_get_root (p), base_dir, error);
}

/* The end of the JSON value that starts at @p (not at a blank): past its
 * closing brace or bracket (strings inside skipped), or the end of a bare
 * scalar; @end when it does not end. */
static const char *
json_value_end (const char *p, const char *end)
{
  if (*p != '{' && *p != '[') {
    while (p < end && !g_ascii_isspace (*p))
      p++;
    return p;
  }
  guint depth = 0;
  for (; p < end; p++) {
    if (*p == '"') {
      for (p++; p < end && *p != '"'; p++)
        if (*p == '\\')
          p++;
    } else if (*p == '{' || *p == '[') {
      depth++;
    } else if ((*p == '}' || *p == ']') && --depth == 0) {
      return p + 1;
    }
  }
  return end;
}

GPtrArray *
msgtk_draft_parse_json_many (const char *data, gsize length, const char *base_dir, GError **error)
{
  g_autoptr (GPtrArray) drafts = g_ptr_array_new_with_free_func ((GDestroyNotify)msgtk_draft_free);
  /* JSON values one after the other: JSON Lines, or documents spread over
   * several lines (as jq prints them), each a draft */
  const char *p = data, *end = data + length;
  guint lineno = 1;
  for (;;) {
    for (; p < end && g_ascii_isspace (*p); p++)
      lineno += *p == '\n';
    if (p >= end)
      break;
    const char *e = json_value_end (p, end);
    g_autoptr (GError) local = NULL;
    MsgtkDraft *d = msgtk_draft_new_from_json (p, e - p, base_dir, &local);
    if (!d) {
      g_set_error (error, local->domain, local->code, "line %u: %s", lineno, local->message);
      return NULL;
    }
    g_ptr_array_add (drafts, d);
    for (; p < e; p++)
      lineno += *p == '\n';
  }
  if (drafts->len == 0) {
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_DATA, "no draft in the input (empty)");
    return NULL;
  }
  return g_steal_pointer (&drafts);
}

/* ---- writing ---- */

static void
member_string (JsonBuilder *b, const char *name, const char *value)
{
  if (value == NULL)
    return;
  json_builder_set_member_name (b, name);
  json_builder_add_string_value (b, value);
}

static void
member_body (JsonBuilder *b, MsgtkDraft *d, const char *name, GBytes *body, gboolean is_utf8)
{
  if (body == NULL)
    return;
  gsize len;
  g_autofree char *text = draft_body_to_utf8 (d, name, body, is_utf8, &len, NULL);
  member_string (b, name, text);
}

JsonNode *
draft_to_json (MsgtkDraft *d, gboolean for_hash)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  for (guint i = 0; i < draft_n_fields; i++) {
    const DraftField *f = &draft_fields[i];
    switch (f->kind) {
    case DRAFT_ADDRESSES: {
      GPtrArray *list = *DRAFT_MEMBER (d, f, GPtrArray *);
      if (list->len == 0)
        break;
      json_builder_set_member_name (b, f->name);
      json_builder_begin_array (b);
      for (guint k = 0; k < list->len; k++)
        json_builder_add_string_value (b, list->pdata[k]);
      json_builder_end_array (b);
      break;
    }
    case DRAFT_BOOL:
      if (*DRAFT_MEMBER (d, f, gboolean)) {
        json_builder_set_member_name (b, f->name);
        json_builder_add_boolean_value (b, TRUE);
      }
      break;
    case DRAFT_FILENAME_ENCODING:
      if (d->filename_encoding == MSGTK_FILENAME_RFC2047)
        member_string (b, f->name, "rfc2047");
      break;
    default: member_string (b, f->name, *DRAFT_MEMBER (d, f, char *)); break;
    }
  }
  if (d->headers->len > 0) {
    json_builder_set_member_name (b, "headers");
    json_builder_begin_object (b);
    for (guint i = 0; i < d->headers->len; i++) {
      DraftHeader *h = d->headers->pdata[i];
      member_string (b, h->name, h->value);
    }
    json_builder_end_object (b);
  }
  if (!for_hash) {
    member_body (b, d, "text", d->text, d->text_utf8);
    member_body (b, d, "html", d->html, d->html_utf8);
  }
  if (d->attachments->len > 0) {
    json_builder_set_member_name (b, "attachments");
    json_builder_begin_array (b);
    for (guint i = 0; i < d->attachments->len; i++) {
      DraftAttachment *a = d->attachments->pdata[i];
      json_builder_begin_object (b);
      if (!for_hash)
        member_string (b, "path", a->path);
      member_string (b, "type", a->type);
      member_string (b, "name", a->name);
      if (a->inline_) {
        json_builder_set_member_name (b, "inline");
        json_builder_add_boolean_value (b, TRUE);
      }
      member_string (b, "cid", a->cid);
      json_builder_end_object (b);
    }
    json_builder_end_array (b);
  }
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

JsonNode *
msgtk_draft_to_json (MsgtkDraft *draft)
{
  return draft_to_json (draft, FALSE);
}
