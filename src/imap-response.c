/* msgtk — IMAP responses: the parser of response lines (tagged, untagged,
 * continuation; response codes), literal announcements and quoted strings. */
#include <msgtk/error.h>

#include "imap-response-private.h"

#include <string.h>

void
imap_response_free (ImapResponse *r)
{
  if (r == NULL)
    return;
  g_free (r->tag);
  g_free (r->status);
  g_free (r->code);
  g_free (r->text);
  g_free (r->data);
  if (r->literals != NULL)
    g_ptr_array_unref (r->literals);
  g_free (r);
}

static gboolean
is_status_word (const char *w, gsize n)
{
  static const char *const words[] = { "OK", "NO", "BAD", "BYE", "PREAUTH" };
  for (guint i = 0; i < G_N_ELEMENTS (words); i++)
    if (strlen (words[i]) == n && g_ascii_strncasecmp (w, words[i], n) == 0)
      return TRUE;
  return FALSE;
}

/* "[CODE ...] text" or "text" → code and text */
static void
parse_resp_text (ImapResponse *r, const char *p)
{
  if (*p == '[') {
    const char *end = strchr (p, ']');
    if (end != NULL) {
      r->code = g_strndup (p + 1, end - p - 1);
      p = end + 1;
      if (*p == ' ')
        p++;
    }
  }
  r->text = g_strdup (p);
}

ImapResponse *
imap_response_parse (const char *line, GPtrArray *literals, GError **error)
{
  g_autoptr (ImapResponse) r = g_new0 (ImapResponse, 1);
  r->literals = literals != NULL ? literals
                                 : g_ptr_array_new_with_free_func ((GDestroyNotify)g_bytes_unref);
  if (line[0] == '+' && (line[1] == ' ' || line[1] == '\0')) {
    r->kind = IMAP_RESPONSE_CONTINUATION;
    r->text = g_strdup (line[1] ? line + 2 : "");
    return g_steal_pointer (&r);
  }
  const char *sp = strchr (line, ' ');
  if (sp == NULL || sp == line) {
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_PROTOCOL,
                 "malformed IMAP response from the server: '%.80s'", line);
    return NULL;
  }
  const char *rest = sp + 1;
  const char *wend = rest + strcspn (rest, " ");
  gboolean status = is_status_word (rest, wend - rest);
  if (sp - line == 1 && line[0] == '*') {
    r->kind = IMAP_RESPONSE_UNTAGGED;
    if (!status) {
      r->data = g_strdup (rest);
      return g_steal_pointer (&r);
    }
  } else {
    r->kind = IMAP_RESPONSE_TAGGED;
    r->tag = g_strndup (line, sp - line);
    if (!status) {
      g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_PROTOCOL,
                   "malformed IMAP tagged response from the server: '%.80s'", line);
      return NULL;
    }
  }
  r->status = g_ascii_strup (rest, wend - rest);
  parse_resp_text (r, *wend == ' ' ? wend + 1 : wend);
  return g_steal_pointer (&r);
}

gboolean
imap_line_literal (const char *line, gsize len, guint64 *size)
{
  if (len < 3 || line[len - 1] != '}')
    return FALSE;
  gsize end = len - 1;
  if (line[end - 1] == '+' || line[end - 1] == '-')
    end--;
  gsize i = end;
  while (i > 0 && g_ascii_isdigit (line[i - 1]))
    i--;
  if (i == end || i == 0 || line[i - 1] != '{' || end - i > 12)
    return FALSE;
  *size = g_ascii_strtoull (line + i, NULL, 10);
  return TRUE;
}

gboolean
imap_quote (GString *out, const char *s, gboolean utf8)
{
  for (const char *p = s; *p; p++)
    if (*p == '\r' || *p == '\n' || (!utf8 && (guchar)*p >= 0x80))
      return FALSE;
  if (!g_utf8_validate (s, -1, NULL))
    return FALSE;
  g_string_append_c (out, '"');
  for (const char *p = s; *p; p++) {
    if (*p == '"' || *p == '\\')
      g_string_append_c (out, '\\');
    g_string_append_c (out, *p);
  }
  g_string_append_c (out, '"');
  return TRUE;
}
