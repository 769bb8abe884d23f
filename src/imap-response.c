/* msgtk — IMAP responses: the parser of response lines (tagged, untagged,
 * continuation; response codes), literal announcements and quoted strings. */
#include <msgtk/error.h>
#include <msgtk/utf7.h>

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

void
imap_fetch_clear (MsgtkImapFetched *f)
{
  g_clear_pointer (&f->body, g_bytes_unref);
  g_clear_pointer (&f->header, g_bytes_unref);
  g_clear_pointer (&f->flags, g_free);
}

/* The end of the item name at @p: an atom, with a section ("[...]", which
 * may hold blanks and parentheses) and a partial ("<0>") after it. */
static const char *
fetch_name_end (const char *p)
{
  while (*p != '\0' && *p != ' ' && *p != ')' && *p != '(') {
    if (*p == '[') {
      const char *e = strchr (p, ']');
      if (e == NULL)
        return NULL;
      p = e;
    }
    p++;
  }
  return p;
}

/* The end of the parenthesised list at @p (on its '('), quoted strings
 * inside skipped; NULL if it does not end. */
static const char *
list_end (const char *p)
{
  guint depth = 0;
  for (; *p != '\0'; p++) {
    if (*p == '"') {
      for (p++; *p != '\0' && *p != '"'; p++)
        if (*p == '\\' && p[1] != '\0')
          p++;
      if (*p == '\0')
        return NULL;
    } else if (*p == '(') {
      depth++;
    } else if (*p == ')' && --depth == 0) {
      return p + 1;
    }
  }
  return NULL;
}

/* One value at @p: a literal (the next of @r's literals, in *@bytes), a
 * quoted string (in *@bytes, unescaped), NIL (nothing), a list or an atom
 * (its text in *@text). Returns what follows it, NULL if malformed. */
static const char *
imap_value (const ImapResponse *r, guint *next_literal, const char *p, GBytes **bytes, char **text)
{
  if (*p == '{') {
    const char *e = strchr (p, '}');
    if (e == NULL || *next_literal >= r->literals->len)
      return NULL;
    *bytes = g_bytes_ref (r->literals->pdata[(*next_literal)++]);
    return e + 1;
  }
  if (*p == '"') {
    GString *s = g_string_new (NULL);
    for (p++; *p != '\0' && *p != '"'; p++) {
      if (*p == '\\' && p[1] != '\0')
        p++;
      g_string_append_c (s, *p);
    }
    if (*p != '"') {
      g_string_free (s, TRUE);
      return NULL;
    }
    *bytes = g_string_free_to_bytes (s);
    return p + 1;
  }
  const char *e = *p == '(' ? list_end (p) : p + strcspn (p, " )");
  if (e == NULL || e == p)
    return NULL;
  if (!(e - p == 3 && g_ascii_strncasecmp (p, "NIL", 3) == 0))
    *text = g_strndup (p, e - p);
  return e;
}

gboolean
imap_parse_fetch (const ImapResponse *r, MsgtkImapFetched *f)
{
  memset (f, 0, sizeof *f);
  if (r->kind != IMAP_RESPONSE_UNTAGGED || r->data == NULL || !g_ascii_isdigit (r->data[0]))
    return FALSE;
  char *end = NULL;
  guint64 seq = g_ascii_strtoull (r->data, &end, 10);
  if (seq == 0 || seq > G_MAXUINT32 || g_ascii_strncasecmp (end, " FETCH (", 8) != 0)
    return FALSE;
  f->seq = (guint32)seq;
  const char *p = end + 8;
  guint next_literal = 0;
  for (;;) {
    while (*p == ' ')
      p++;
    if (*p == ')')
      return TRUE;
    const char *ne = fetch_name_end (p);
    if (ne == NULL || ne == p || *ne != ' ')
      break;
    g_autofree char *name = g_ascii_strup (p, ne - p);
    g_autoptr (GBytes) bytes = NULL;
    g_autofree char *text = NULL;
    p = imap_value (r, &next_literal, ne + 1, &bytes, &text);
    if (p == NULL)
      break;
    if (strcmp (name, "UID") == 0 && text != NULL) {
      guint64 v = g_ascii_strtoull (text, &end, 10);
      if (*end != '\0' || v == 0 || v > G_MAXUINT32)
        break;
      f->uid = (guint32)v;
    } else if (strcmp (name, "RFC822.SIZE") == 0 && text != NULL) {
      f->size = g_ascii_strtoull (text, &end, 10);
      if (*end != '\0')
        break;
      f->has_size = TRUE;
    } else if (strcmp (name, "BODY[]") == 0 && bytes != NULL) {
      g_clear_pointer (&f->body, g_bytes_unref);
      f->body = g_steal_pointer (&bytes);
    } else if (g_str_has_prefix (name, "BODY[HEADER") && bytes != NULL) {
      g_clear_pointer (&f->header, g_bytes_unref);
      f->header = g_steal_pointer (&bytes);
    } else if (strcmp (name, "FLAGS") == 0 && text != NULL) {
      g_free (f->flags);
      f->flags = g_steal_pointer (&text);
    }
  }
  imap_fetch_clear (f);
  return FALSE;
}

static const struct {
  const char *name;
  MsgtkImapMailboxAttributes flag;
} attribute_names[] = {
  { "\\NOSELECT", MSGTK_IMAP_MAILBOX_NOSELECT }, { "\\NONEXISTENT", MSGTK_IMAP_MAILBOX_NOSELECT },
  { "\\ALL", MSGTK_IMAP_MAILBOX_ALL },           { "\\ARCHIVE", MSGTK_IMAP_MAILBOX_ARCHIVE },
  { "\\DRAFTS", MSGTK_IMAP_MAILBOX_DRAFTS },     { "\\FLAGGED", MSGTK_IMAP_MAILBOX_FLAGGED },
  { "\\JUNK", MSGTK_IMAP_MAILBOX_JUNK },         { "\\SENT", MSGTK_IMAP_MAILBOX_SENT },
  { "\\TRASH", MSGTK_IMAP_MAILBOX_TRASH },
};

static MsgtkImapMailboxAttributes
parse_attributes (const char *list)
{
  MsgtkImapMailboxAttributes a = 0;
  g_autofree char *up = g_ascii_strup (list, -1);
  g_auto (GStrv) words = g_strsplit_set (up, "() ", -1);
  for (guint i = 0; words[i] != NULL; i++)
    for (guint k = 0; k < G_N_ELEMENTS (attribute_names); k++)
      if (strcmp (words[i], attribute_names[k].name) == 0)
        a |= attribute_names[k].flag;
  return a;
}

/* A mailbox name as sent (@bytes or @text) in UTF-8: as it is when the
 * session enabled UTF8=ACCEPT, else decoded from modified UTF-7 (a name that
 * does not decode is kept, made valid UTF-8). */
static char *
mailbox_name (GBytes *bytes, const char *text, gboolean utf8)
{
  g_autofree char *raw = bytes != NULL
                             ? g_strndup (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes))
                             : g_strdup (text);
  if (!utf8) {
    char *decoded = msgtk_utf7_decode (raw);
    if (decoded != NULL)
      return decoded;
  }
  return g_utf8_make_valid (raw, -1);
}

/* A one-character hierarchy delimiter (quoted, or NIL: none). */
static gboolean
delimiter_value (GBytes *bytes, const char *text, char *delimiter)
{
  if (bytes == NULL) {
    *delimiter = '\0';
    return text == NULL; /* NIL */
  }
  if (g_bytes_get_size (bytes) != 1)
    return FALSE;
  *delimiter = *(const char *)g_bytes_get_data (bytes, NULL);
  return TRUE;
}

void
imap_mailbox_info_free (MsgtkImapMailboxInfo *info)
{
  if (info == NULL)
    return;
  g_free (info->name);
  g_free (info);
}

MsgtkImapMailboxInfo *
imap_parse_list (const ImapResponse *r, gboolean utf8)
{
  if (r->kind != IMAP_RESPONSE_UNTAGGED || r->data == NULL
      || g_ascii_strncasecmp (r->data, "LIST (", 6) != 0)
    return NULL;
  const char *p = r->data + 5;
  guint next_literal = 0;
  g_autofree char *attrs = NULL, *dtext = NULL, *ntext = NULL;
  g_autoptr (GBytes) dbytes = NULL;
  g_autoptr (GBytes) nbytes = NULL;
  GBytes *ignored = NULL;
  p = imap_value (r, &next_literal, p, &ignored, &attrs);
  if (ignored != NULL)
    g_bytes_unref (ignored);
  if (p == NULL || attrs == NULL || *p != ' ')
    return NULL;
  p = imap_value (r, &next_literal, p + 1, &dbytes, &dtext);
  char delimiter;
  if (p == NULL || *p != ' ' || !delimiter_value (dbytes, dtext, &delimiter))
    return NULL;
  p = imap_value (r, &next_literal, p + 1, &nbytes, &ntext);
  if (p == NULL || (nbytes == NULL && ntext == NULL))
    return NULL;
  MsgtkImapMailboxInfo *info = g_new0 (MsgtkImapMailboxInfo, 1);
  info->name = mailbox_name (nbytes, ntext, utf8);
  info->delimiter = delimiter;
  info->attributes = parse_attributes (attrs);
  return info;
}

gboolean
imap_parse_namespace (const ImapResponse *r, gboolean utf8, char **prefix, char *delimiter)
{
  *prefix = NULL;
  *delimiter = '\0';
  if (r->kind != IMAP_RESPONSE_UNTAGGED || r->data == NULL
      || g_ascii_strncasecmp (r->data, "NAMESPACE ", 10) != 0)
    return FALSE;
  const char *p = r->data + 10;
  if (g_ascii_strncasecmp (p, "NIL", 3) == 0)
    return TRUE; /* no personal namespace */
  if (p[0] != '(' || p[1] != '(')
    return FALSE;
  guint next_literal = 0;
  g_autoptr (GBytes) pbytes = NULL;
  g_autoptr (GBytes) dbytes = NULL;
  g_autofree char *ptext = NULL, *dtext = NULL;
  p = imap_value (r, &next_literal, p + 2, &pbytes, &ptext);
  if (p == NULL || *p != ' ' || (pbytes == NULL && ptext == NULL))
    return FALSE;
  p = imap_value (r, &next_literal, p + 1, &dbytes, &dtext);
  if (p == NULL || !delimiter_value (dbytes, dtext, delimiter))
    return FALSE;
  *prefix = mailbox_name (pbytes, ptext, utf8);
  return TRUE;
}
