/* msgtk — what Gmail's labels (X-Gmail-Labels, Google Takeout) say. */
#include <msgtk/labels.h>

#include <string.h>

/* The labels Gmail gives its own folders, in the order in which one of them
 * is the home of a message given as one copy. */
static const char *const system_folders[][2] = {
  { "Inbox", "Inbox" },   { "Sent", "Sent" }, { "Draft", "Drafts" },
  { "Drafts", "Drafts" }, { "Spam", "Spam" }, { "Trash", "Trash" },
};

/* Labels that are neither a folder nor a keyword. */
static gboolean
ignored (const char *label)
{
  return g_str_has_prefix (label, "Category ") || strcmp (label, "Chat") == 0
         || strcmp (label, "Archived") == 0;
}

static void
add_once (GPtrArray *a, const char *s)
{
  for (guint i = 0; i < a->len; i++)
    if (strcmp (a->pdata[i], s) == 0)
      return;
  g_ptr_array_add (a, g_strdup (s));
}

/* The labels of @value: split at commas outside double quotes, trimmed. */
static GPtrArray *
split_labels (const char *value)
{
  GPtrArray *out = g_ptr_array_new_with_free_func (g_free);
  GString *cur = g_string_new (NULL);
  gboolean quoted = FALSE;
  for (const char *p = value;; p++) {
    if (*p == '"') {
      quoted = !quoted;
      continue;
    }
    if (*p == '\0' || (*p == ',' && !quoted)) {
      g_autofree char *label = g_strstrip (g_strdup (cur->str));
      if (*label != '\0')
        g_ptr_array_add (out, g_steal_pointer (&label));
      g_string_truncate (cur, 0);
      if (*p == '\0')
        break;
      continue;
    }
    g_string_append_c (cur, *p);
  }
  g_string_free (cur, TRUE);
  return out;
}

void
msgtk_labels_parse (const char *value, gboolean as_keywords, MsgtkLabels *l)
{
  memset (l, 0, sizeof *l);
  l->folders = g_ptr_array_new_with_free_func (g_free);
  l->keywords = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) labels = split_labels (value);
  const char *home = NULL;
  guint home_rank = G_N_ELEMENTS (system_folders);
  for (guint i = 0; i < labels->len; i++) {
    const char *label = labels->pdata[i];
    if (strcmp (label, "Opened") == 0) {
      l->set |= MSGTK_FLAG_SEEN;
    } else if (strcmp (label, "Unread") == 0) {
      l->clear |= MSGTK_FLAG_SEEN;
    } else if (strcmp (label, "Starred") == 0) {
      l->set |= MSGTK_FLAG_FLAGGED;
    } else if (strcmp (label, "Important") == 0) {
      msgtk_flags_add_keyword (l->keywords, "$Important");
    } else if (!ignored (label)) {
      guint k = 0;
      while (k < G_N_ELEMENTS (system_folders) && strcmp (label, system_folders[k][0]) != 0)
        k++;
      if (k < G_N_ELEMENTS (system_folders)) {
        if (!as_keywords)
          add_once (l->folders, system_folders[k][1]);
        if (k < home_rank) {
          home_rank = k;
          home = system_folders[k][1];
        }
      } else if (as_keywords) {
        msgtk_flags_add_keyword (l->keywords, label);
      } else {
        add_once (l->folders, label);
      }
    }
  }
  if (l->set & MSGTK_FLAG_SEEN)
    l->clear &= ~MSGTK_FLAG_SEEN;
  if (as_keywords)
    add_once (l->folders, home != NULL ? home : "Archive");
  else if (l->folders->len == 0)
    add_once (l->folders, "Archive");
}

void
msgtk_labels_clear (MsgtkLabels *l)
{
  g_clear_pointer (&l->folders, g_ptr_array_unref);
  g_clear_pointer (&l->keywords, g_ptr_array_unref);
}
