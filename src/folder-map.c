/* msgtk — which mailbox on the server each folder of an archive goes to. */
#include <msgtk/error.h>
#include <msgtk/folder-map.h>

#include <string.h>

typedef struct {
  char *src; /* folder path, '/' between names; "" for the archive's own messages */
  char *dst; /* mailbox path, '/' between names */
} Rule;

struct _MsgtkFolderMap {
  char *base; /* NULL: INBOX, folders at the top, special uses mapped */
  char *prefix;
  char delimiter;
  GArray *rules;       /* Rule */
  GHashTable *special; /* MsgtkImapMailboxAttributes (one bit) → the server's mailbox */
};

/* The names mail clients give the folders of a special use. Compared
 * case-folded. */
static const struct {
  MsgtkImapMailboxAttributes use;
  const char *const names[40];
} special_names[] = {
  { MSGTK_IMAP_MAILBOX_SENT,
    { "Sent",
      "Sent Items",
      "Sent Messages",
      "Sent Mail",
      "Sent-Mail",
      "Gesendet",
      "Gesendete Objekte",
      "Gesendete Elemente",
      "Envoyés",
      "Éléments envoyés",
      "Messages envoyés",
      "Enviados",
      "Elementos enviados",
      "Enviadas",
      "Inviati",
      "Posta inviata",
      "Itens enviados",
      "Verzonden",
      "Verzonden items",
      "Skickat",
      "Skickade objekt",
      "Sendt",
      "Sendte elementer",
      "Sendte",
      "Lähetetyt",
      "Wysłane",
      "Odeslané",
      "Отправленные",
      "Надіслані",
      "已发送",
      "已傳送",
      "送信済み",
      "送信済みアイテム",
      "보낸편지함",
      NULL } },
  { MSGTK_IMAP_MAILBOX_TRASH,
    { "Trash",
      "Deleted Items",
      "Deleted Messages",
      "Deleted",
      "Bin",
      "Papierkorb",
      "Gelöschte Objekte",
      "Gelöschte Elemente",
      "Corbeille",
      "Éléments supprimés",
      "Papelera",
      "Elementos eliminados",
      "Cestino",
      "Posta eliminata",
      "Lixeira",
      "Lixo",
      "Itens excluídos",
      "Prullenbak",
      "Verwijderde items",
      "Papperskorgen",
      "Borttagna objekt",
      "Papirkurv",
      "Slettede elementer",
      "Roskakori",
      "Kosz",
      "Koš",
      "Корзина",
      "Удаленные",
      "Удалённые",
      "Кошик",
      "已删除",
      "垃圾桶",
      "ごみ箱",
      "削除済みアイテム",
      "휴지통",
      NULL } },
  { MSGTK_IMAP_MAILBOX_DRAFTS,
    { "Drafts",    "Draft",  "Entwürfe", "Brouillons", "Borradores",    "Bozze",    "Rascunhos",
      "Concepten", "Utkast", "Kladder",  "Luonnokset", "Kopie robocze", "Koncepty", "Черновики",
      "Чернетки",  "草稿",   "草稿箱",   "下書き",     "임시보관함",    NULL } },
  { MSGTK_IMAP_MAILBOX_JUNK,
    { "Junk",
      "Junk E-mail",
      "Junk Email",
      "Junk Mail",
      "Junk-E-Mail",
      "Spam",
      "Bulk Mail",
      "Spamverdacht",
      "Courrier indésirable",
      "Indésirables",
      "Correo no deseado",
      "Posta indesiderata",
      "Lixo eletrônico",
      "Ongewenste e-mail",
      "Skräppost",
      "Uønsket e-post",
      "Roskaposti",
      "Wiadomości-śmieci",
      "Nevyžádaná pošta",
      "Спам",
      "Нежелательная почта",
      "垃圾邮件",
      "迷惑メール",
      "스팸메일함",
      NULL } },
  { MSGTK_IMAP_MAILBOX_ARCHIVE,
    { "Archive", "Archives", "Archiv", "Archivo", "Archivio", "Arquivo", "Archief", "Arkiv",
      "Arkisto", "Archiwum", "Архив", "Архів", "归档", "アーカイブ", "보관함", NULL } },
};

MsgtkImapMailboxAttributes
msgtk_folder_special_use (const char *name)
{
  static GHashTable *names;
  static gsize once;
  if (g_once_init_enter (&once)) {
    GHashTable *t = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
    for (guint i = 0; i < G_N_ELEMENTS (special_names); i++)
      for (guint k = 0; special_names[i].names[k] != NULL; k++)
        g_hash_table_insert (t, g_utf8_casefold (special_names[i].names[k], -1),
                             GUINT_TO_POINTER (special_names[i].use));
    names = t;
    g_once_init_leave (&once, 1);
  }
  if (!g_utf8_validate (name, -1, NULL))
    return 0;
  g_autofree char *key = g_utf8_casefold (name, -1);
  return GPOINTER_TO_UINT (g_hash_table_lookup (names, key));
}

MsgtkFolderMap *
msgtk_folder_map_new (const char *base)
{
  MsgtkFolderMap *m = g_new0 (MsgtkFolderMap, 1);
  m->base = g_strdup (base);
  m->prefix = g_strdup ("");
  m->delimiter = '/';
  m->rules = g_array_new (FALSE, FALSE, sizeof (Rule));
  m->special = g_hash_table_new_full (NULL, NULL, NULL, g_free);
  return m;
}

void
msgtk_folder_map_free (MsgtkFolderMap *m)
{
  if (m == NULL)
    return;
  for (guint i = 0; i < m->rules->len; i++) {
    g_free (g_array_index (m->rules, Rule, i).src);
    g_free (g_array_index (m->rules, Rule, i).dst);
  }
  g_array_unref (m->rules);
  g_hash_table_unref (m->special);
  g_free (m->base);
  g_free (m->prefix);
  g_free (m);
}

/* @path without '/' at its ends. */
static char *
trim_slashes (const char *path, gsize len)
{
  while (len > 0 && *path == '/')
    path++, len--;
  while (len > 0 && path[len - 1] == '/')
    len--;
  return g_strndup (path, len);
}

gboolean
msgtk_folder_map_add_rule (MsgtkFolderMap *m, const char *rule, GError **error)
{
  const char *eq = strchr (rule, '=');
  if (!g_utf8_validate (rule, -1, NULL) || eq == NULL || eq[1] == '\0') {
    g_autofree char *shown = g_utf8_make_valid (rule, -1);
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_USAGE,
                 "'%s' is not a folder rule: it takes the form FOLDER=MAILBOX", shown);
    return FALSE;
  }
  Rule r = { trim_slashes (rule, eq - rule), trim_slashes (eq + 1, strlen (eq + 1)) };
  if (*r.dst == '\0') {
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_USAGE, "the folder rule '%s' names no mailbox",
                 rule);
    g_free (r.src);
    g_free (r.dst);
    return FALSE;
  }
  g_array_append_val (m->rules, r);
  return TRUE;
}

void
msgtk_folder_map_set_server (MsgtkFolderMap *m, const char *prefix, char delimiter,
                             GPtrArray *mailboxes)
{
  g_free (m->prefix);
  m->prefix = g_strdup (prefix != NULL ? prefix : "");
  m->delimiter = delimiter;
  g_hash_table_remove_all (m->special);
  static const MsgtkImapMailboxAttributes uses[]
      = { MSGTK_IMAP_MAILBOX_SENT, MSGTK_IMAP_MAILBOX_TRASH, MSGTK_IMAP_MAILBOX_DRAFTS,
          MSGTK_IMAP_MAILBOX_JUNK, MSGTK_IMAP_MAILBOX_ARCHIVE };
  for (guint i = 0; mailboxes != NULL && i < mailboxes->len; i++) {
    const MsgtkImapMailboxInfo *info = mailboxes->pdata[i];
    for (guint k = 0; k < G_N_ELEMENTS (uses); k++)
      if ((info->attributes & uses[k]) && !(info->attributes & MSGTK_IMAP_MAILBOX_NOSELECT)
          && !g_hash_table_contains (m->special, GUINT_TO_POINTER (uses[k])))
        g_hash_table_insert (m->special, GUINT_TO_POINTER (uses[k]), g_strdup (info->name));
  }
}

gboolean
msgtk_folder_map_learn (MsgtkFolderMap *m, MsgtkImapSession *s, GError **error)
{
  g_autofree char *prefix = NULL;
  char delimiter;
  if (!msgtk_imap_session_get_namespace (s, &prefix, &delimiter, error))
    return FALSE;
  g_autoptr (GPtrArray) mailboxes = msgtk_imap_session_list (s, error);
  if (mailboxes == NULL)
    return FALSE;
  msgtk_folder_map_set_server (m, prefix, delimiter, mailboxes);
  return TRUE;
}

/* Append the names of @names (from @from on) to @out, each after the
 * server's delimiter ('_' on a flat server) unless @out is empty or ends
 * with it; a delimiter inside a name made '_'. */
static void
append_names (const MsgtkFolderMap *m, GString *out, char **names, guint from)
{
  char sep = m->delimiter != '\0' ? m->delimiter : '_';
  for (guint i = from; names[i] != NULL; i++) {
    if (*names[i] == '\0')
      continue;
    if (out->len > 0 && out->str[out->len - 1] != sep)
      g_string_append_c (out, sep);
    gsize at = out->len;
    g_string_append (out, names[i]);
    if (m->delimiter != '\0')
      for (char *p = out->str + at; *p != '\0'; p++)
        if (*p == m->delimiter)
          *p = '_';
  }
}

/* @path ('/' between names) as a mailbox of the server. */
static char *
join (const MsgtkFolderMap *m, const char *head, char **names, guint from)
{
  GString *out = g_string_new (head);
  append_names (m, out, names, from);
  return g_string_free (out, FALSE);
}

/* The rule whose SRC is @folder or a folder above it (the longest), and
 * the length of that SRC. */
static const Rule *
find_rule (const MsgtkFolderMap *m, const char *folder, gsize *len)
{
  const Rule *best = NULL;
  for (guint i = 0; i < m->rules->len; i++) {
    const Rule *r = &g_array_index (m->rules, Rule, i);
    gsize n = strlen (r->src);
    gboolean match
        = n == 0 ? *folder == '\0'
                 : strncmp (folder, r->src, n) == 0 && (folder[n] == '\0' || folder[n] == '/');
    if (match && (best == NULL || n > *len)) {
      best = r;
      *len = n;
    }
  }
  return best;
}

char *
msgtk_folder_map_mailbox (const MsgtkFolderMap *m, const char *folder)
{
  g_autofree char *f = trim_slashes (folder != NULL ? folder : "", folder ? strlen (folder) : 0);
  gsize n = 0;
  const Rule *rule = find_rule (m, f, &n);
  if (rule != NULL) {
    g_auto (GStrv) dst = g_strsplit (rule->dst, "/", -1);
    g_auto (GStrv) rest = g_strsplit (f + n, "/", -1);
    g_autofree char *head = join (m, "", dst, 0);
    return join (m, head, rest, 0);
  }
  if (*f == '\0')
    return g_strdup (m->base != NULL && *m->base != '\0' ? m->base : "INBOX");
  g_auto (GStrv) names = g_strsplit (f, "/", -1);
  if (m->base == NULL) {
    /* the name that says what the folder is for: the first, or the second
     * under a name that only groups (Courier's INBOX, Gmail's [Gmail]) */
    guint at = 0;
    if (names[1] != NULL
        && (g_ascii_strcasecmp (names[0], "INBOX") == 0 || strcmp (names[0], "[Gmail]") == 0
            || strcmp (names[0], "[Google Mail]") == 0))
      at = 1;
    const char *mailbox
        = g_hash_table_lookup (m->special, GUINT_TO_POINTER (msgtk_folder_special_use (names[at])));
    if (mailbox != NULL)
      return join (m, mailbox, names, at + 1);
    if (g_ascii_strcasecmp (names[0], "INBOX") == 0)
      return join (m, "INBOX", names, 1);
  }
  GString *out = g_string_new (m->base != NULL ? m->base : m->prefix);
  append_names (m, out, names, 0);
  return g_string_free (out, FALSE);
}
