/* msgtk — message flags in maildir, mbox and IMAP form. */
#include <msgtk/error.h>
#include <msgtk/flags.h>

#include <string.h>

char *
msgtk_flags_to_maildir (MsgtkFlags flags)
{
  GString *s = g_string_new (NULL);
  if (flags & MSGTK_FLAG_DRAFT)
    g_string_append_c (s, 'D');
  if (flags & MSGTK_FLAG_FLAGGED)
    g_string_append_c (s, 'F');
  if (flags & MSGTK_FLAG_ANSWERED)
    g_string_append_c (s, 'R');
  if (flags & MSGTK_FLAG_SEEN)
    g_string_append_c (s, 'S');
  if (flags & MSGTK_FLAG_DELETED)
    g_string_append_c (s, 'T');
  return g_string_free (s, FALSE);
}

MsgtkFlags
msgtk_flags_from_maildir (const char *letters)
{
  MsgtkFlags f = MSGTK_FLAG_NONE;
  for (const char *p = letters; p && *p; p++) {
    switch (*p) {
    case 'D': f |= MSGTK_FLAG_DRAFT; break;
    case 'F': f |= MSGTK_FLAG_FLAGGED; break;
    case 'R': f |= MSGTK_FLAG_ANSWERED; break;
    case 'S': f |= MSGTK_FLAG_SEEN; break;
    case 'T': f |= MSGTK_FLAG_DELETED; break;
    default: break;
    }
  }
  return f;
}

MsgtkFlags
msgtk_flags_from_maildir_name (const char *filename)
{
  const char *base = filename ? strrchr (filename, '/') : NULL;
  const char *info = strstr (base ? base + 1 : (filename ? filename : ""), ":2,");
  return info ? msgtk_flags_from_maildir (info + 3) : MSGTK_FLAG_NONE;
}

void
msgtk_flags_to_mbox_status (MsgtkFlags flags, char **status, char **x_status)
{
  if (status)
    *status = g_strdup ((flags & MSGTK_FLAG_SEEN) ? "RO" : "O");
  if (x_status) {
    GString *s = g_string_new (NULL);
    if (flags & MSGTK_FLAG_ANSWERED)
      g_string_append_c (s, 'A');
    if (flags & MSGTK_FLAG_FLAGGED)
      g_string_append_c (s, 'F');
    if (flags & MSGTK_FLAG_DRAFT)
      g_string_append_c (s, 'T');
    if (flags & MSGTK_FLAG_DELETED)
      g_string_append_c (s, 'D');
    *x_status = g_string_free (s, FALSE);
  }
}

MsgtkFlags
msgtk_flags_from_mbox_status (const char *status, const char *x_status)
{
  MsgtkFlags f = MSGTK_FLAG_NONE;
  if (status && strchr (status, 'R'))
    f |= MSGTK_FLAG_SEEN;
  for (const char *p = x_status; p && *p; p++) {
    switch (*p) {
    case 'A': f |= MSGTK_FLAG_ANSWERED; break;
    case 'F': f |= MSGTK_FLAG_FLAGGED; break;
    case 'T': f |= MSGTK_FLAG_DRAFT; break;
    case 'D': f |= MSGTK_FLAG_DELETED; break;
    default: break;
    }
  }
  return f;
}

static const struct {
  MsgtkFlags flag;
  const char *name;
} imap_names[] = { { MSGTK_FLAG_SEEN, "\\Seen" },
                   { MSGTK_FLAG_ANSWERED, "\\Answered" },
                   { MSGTK_FLAG_FLAGGED, "\\Flagged" },
                   { MSGTK_FLAG_DELETED, "\\Deleted" },
                   { MSGTK_FLAG_DRAFT, "\\Draft" } };

char *
msgtk_flags_to_imap (MsgtkFlags flags, const char *const *keywords)
{
  GString *s = g_string_new ("(");
  for (guint i = 0; i < G_N_ELEMENTS (imap_names); i++)
    if (flags & imap_names[i].flag) {
      if (s->len > 1)
        g_string_append_c (s, ' ');
      g_string_append (s, imap_names[i].name);
    }
  for (guint i = 0; keywords != NULL && keywords[i] != NULL; i++) {
    g_autofree char *k = msgtk_flags_keyword (keywords[i]);
    if (k == NULL)
      continue;
    if (s->len > 1)
      g_string_append_c (s, ' ');
    g_string_append (s, k);
  }
  g_string_append_c (s, ')');
  return g_string_free (s, FALSE);
}

char *
msgtk_flags_keyword (const char *word)
{
  if (word == NULL || *word == '\0' || *word == '\\')
    return NULL;
  char *k = g_strdup (word);
  for (char *p = k; *p != '\0'; p++)
    if ((guchar)*p <= 0x20 || (guchar)*p >= 0x7f || strchr ("(){%*\"\\]", *p) != NULL)
      *p = '_';
  return k;
}

void
msgtk_flags_add_keyword (GPtrArray *keywords, const char *word)
{
  g_autofree char *k = msgtk_flags_keyword (word);
  if (k == NULL)
    return;
  for (guint i = 0; i < keywords->len; i++)
    if (g_ascii_strcasecmp (keywords->pdata[i], k) == 0) /* keywords are not case-sensitive */
      return;
  g_ptr_array_add (keywords, g_steal_pointer (&k));
}

void
msgtk_flags_parse_keywords (const char *value, GPtrArray *keywords)
{
  g_auto (GStrv) words = g_strsplit_set (value, ", \t\r\n", -1);
  for (guint i = 0; words[i] != NULL; i++)
    msgtk_flags_add_keyword (keywords, words[i]);
}

gboolean
msgtk_flags_parse (const char *text, MsgtkFlags *flags, GPtrArray *keywords, GError **error)
{
  g_auto (GStrv) words = g_strsplit_set (text, "() ,\t", -1);
  for (guint i = 0; words[i] != NULL; i++) {
    if (words[i][0] != '\\') {
      msgtk_flags_add_keyword (keywords, words[i]);
      continue;
    }
    guint k = 0;
    while (k < G_N_ELEMENTS (imap_names) && g_ascii_strcasecmp (words[i], imap_names[k].name) != 0)
      k++;
    if (k == G_N_ELEMENTS (imap_names)) {
      g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_USAGE,
                   "'%s' is not an IMAP flag: \\Seen, \\Answered, \\Flagged, \\Deleted "
                   "and \\Draft are, and keywords without a backslash",
                   words[i]);
      return FALSE;
    }
    *flags |= imap_names[k].flag;
  }
  return TRUE;
}
