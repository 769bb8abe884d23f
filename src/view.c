/* msgtk — views of an inspected message: its header fields, its MIME tree,
 * its readable text, the decoded content of a part. */
#include <msgtk/error.h>
#include <msgtk/terminal.h>
#include <msgtk/view.h>

#include "charset-private.h"
#include "error-private.h"
#include "inspect-private.h"

#include <string.h>

char *
msgtk_inspection_headers (MsgtkInspection *in, gboolean raw)
{
  GString *out = g_string_new (NULL);
  guint count = inspection_header_count (in);
  for (guint i = 0; i < count; i++) {
    GMimeHeader *h = inspection_header (in, i);
    g_autofree char *name = inspect_valid_utf8 (g_mime_header_get_name (h), -1);
    if (raw) {
      const char *rv = g_mime_header_get_raw_value (h);
      g_autofree char *v
          = msgtk_charset_to_utf8 (rv != NULL ? rv : "", -1, NULL, inspection_fallbacks (in), NULL);
      g_string_append_printf (out, "%s:%s%s", name, v, g_str_has_suffix (v, "\n") ? "" : "\n");
    } else {
      g_autofree char *v = inspect_header_decoded (in, h);
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
  for (guint i = 0; i < inspection_nodes (in)->len; i++) {
    InspectNode *n = inspection_nodes (in)->pdata[i];
    g_autofree char *type = inspect_content_type (n->object);
    for (guint d = 0; d < n->depth; d++)
      g_string_append (out, "  ");
    g_string_append_printf (out, "%s %s", n->number, type);
    const char *cs = inspect_part_charset (n->object);
    if (cs != NULL) {
      g_autofree char *v = inspect_valid_utf8 (cs, -1);
      g_string_append_printf (out, " charset=%s", v);
    }
    const char *enc = inspect_part_encoding (n->object);
    if (enc != NULL)
      g_string_append_printf (out, " encoding=%s", enc);
    if (n->leaf)
      g_string_append_printf (out, " size=%zu", inspect_node_decoded_size (n));
    const char *disp = inspect_part_disposition (n->object);
    if (disp != NULL) {
      g_autofree char *v = inspect_valid_utf8 (disp, -1);
      g_string_append_printf (out, " disposition=%s", v);
    }
    g_autofree char *fn = inspect_part_filename (in, n->object);
    if (fn != NULL) {
      g_autofree char *shown = msgtk_terminal_text (fn, -1, FALSE);
      g_string_append_printf (out, " filename=\"%s\"", shown);
    }
    g_string_append_c (out, '\n');
  }
  return g_string_free (out, FALSE);
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

char *
msgtk_inspection_text (MsgtkInspection *in)
{
  InspectNode *n = inspect_body_node (in, "plain");
  if (n != NULL)
    return inspect_node_text (in, n);
  n = inspect_body_node (in, "html");
  if (n != NULL) {
    g_autofree char *html = inspect_node_text (in, n);
    return html_to_text (html);
  }
  return g_strdup ("");
}

/* ---- part content ---- */

GBytes *
msgtk_inspection_part_content (MsgtkInspection *in, const char *number, gboolean to_utf8,
                               GError **error)
{
  InspectNode *n = inspect_find_node (in, number);
  if (n == NULL || !n->leaf) {
    error_set_hint (error, MSGTK_ERROR_HINT_LIST_PARTS, MSGTK_ERROR_USAGE,
                    "no part '%s' with content in this message", number);
    return NULL;
  }
  g_autofree char *type = inspect_content_type (n->object);
  if (to_utf8 && inspect_is_text_type (type)) {
    char *s = inspect_node_text (in, n);
    return g_bytes_new_take (s, strlen (s));
  }
  return g_bytes_ref (inspect_node_decoded (n));
}
