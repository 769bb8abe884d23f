/* msgtk — message flags in maildir, mbox and IMAP form. */
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

char *
msgtk_flags_to_imap (MsgtkFlags flags)
{
  static const struct {
    MsgtkFlags flag;
    const char *name;
  } names[] = { { MSGTK_FLAG_SEEN, "\\Seen" },
                { MSGTK_FLAG_ANSWERED, "\\Answered" },
                { MSGTK_FLAG_FLAGGED, "\\Flagged" },
                { MSGTK_FLAG_DELETED, "\\Deleted" },
                { MSGTK_FLAG_DRAFT, "\\Draft" } };
  GString *s = g_string_new ("(");
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    if (flags & names[i].flag) {
      if (s->len > 1)
        g_string_append_c (s, ' ');
      g_string_append (s, names[i].name);
    }
  g_string_append_c (s, ')');
  return g_string_free (s, FALSE);
}
