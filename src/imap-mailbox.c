/* msgtk — the mailboxes of an IMAP server and what they hold: LIST (and
 * the hierarchy delimiter), NAMESPACE, CREATE, STATUS and UID FETCH. */
#include <msgtk/error.h>
#include <msgtk/imap-mailbox.h>

#include "imap-private.h"

#include <string.h>

typedef struct {
  GPtrArray *mailboxes;
  gboolean utf8;
  char *prefix; /* NAMESPACE */
  char delimiter;
  gboolean have_namespace;
} Listing;

static void
take_list (ImapResponse *r, gpointer data)
{
  Listing *l = data;
  MsgtkImapMailboxInfo *info = imap_parse_list (r, l->utf8);
  if (info != NULL)
    g_ptr_array_add (l->mailboxes, info);
  imap_response_free (r);
}

GPtrArray *
msgtk_imap_session_list (MsgtkImapSession *s, GError **error)
{
  Listing l = { g_ptr_array_new_with_free_func ((GDestroyNotify)imap_mailbox_info_free),
                msgtk_imap_session_is_utf8 (s) };
  g_autoptr (ImapResponse) r = imap_command_each (s, "LIST \"\" \"*\"", take_list, &l, error);
  if (r == NULL || !imap_require_ok (r, "LIST", error)) {
    g_ptr_array_unref (l.mailboxes);
    return NULL;
  }
  return l.mailboxes;
}

gboolean
msgtk_imap_session_get_delimiter (MsgtkImapSession *s, char *delimiter, GError **error)
{
  Listing l = { g_ptr_array_new_with_free_func ((GDestroyNotify)imap_mailbox_info_free),
                msgtk_imap_session_is_utf8 (s) };
  g_autoptr (ImapResponse) r = imap_command_each (s, "LIST \"\" \"\"", take_list, &l, error);
  gboolean ok = r != NULL && imap_require_ok (r, "LIST", error);
  *delimiter = ok && l.mailboxes->len > 0
                   ? ((MsgtkImapMailboxInfo *)l.mailboxes->pdata[0])->delimiter
                   : '\0';
  g_ptr_array_unref (l.mailboxes);
  return ok;
}

gboolean
msgtk_imap_session_create (MsgtkImapSession *s, const char *mailbox, GError **error)
{
  g_autoptr (ImapResponse) r = imap_mailbox_command (s, "CREATE", mailbox, NULL, NULL, error);
  if (r == NULL)
    return FALSE;
  if (strcmp (r->status, "OK") == 0
      || (r->code != NULL && g_ascii_strcasecmp (r->code, "ALREADYEXISTS") == 0))
    return TRUE;
  g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_CANT_CREATE, "cannot create mailbox '%s': %s",
               mailbox, r->text);
  return FALSE;
}

static void
take_namespace (ImapResponse *r, gpointer data)
{
  Listing *l = data;
  char *prefix;
  char delimiter;
  if (!l->have_namespace && imap_parse_namespace (r, l->utf8, &prefix, &delimiter)) {
    l->prefix = prefix;
    l->delimiter = delimiter;
    l->have_namespace = TRUE;
  }
  imap_response_free (r);
}

gboolean
msgtk_imap_session_get_namespace (MsgtkImapSession *s, char **prefix, char *delimiter,
                                  GError **error)
{
  *prefix = NULL;
  if (!msgtk_imap_session_has_capability (s, "NAMESPACE")) {
    if (!msgtk_imap_session_get_delimiter (s, delimiter, error))
      return FALSE;
    *prefix = g_strdup ("");
    return TRUE;
  }
  Listing l = { .utf8 = msgtk_imap_session_is_utf8 (s) };
  g_autoptr (ImapResponse) r = imap_command_each (s, "NAMESPACE", take_namespace, &l, error);
  if (r == NULL || !imap_require_ok (r, "NAMESPACE", error)) {
    g_free (l.prefix);
    return FALSE;
  }
  if (!l.have_namespace) {
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_PROTOCOL,
                 "the IMAP server's NAMESPACE answer could not be read");
    return FALSE;
  }
  if (l.prefix == NULL) {
    /* no personal namespace: names from the top, LIST's delimiter */
    if (!msgtk_imap_session_get_delimiter (s, delimiter, error))
      return FALSE;
    *prefix = g_strdup ("");
    return TRUE;
  }
  *prefix = l.prefix;
  *delimiter = l.delimiter;
  return TRUE;
}

/* The value after the word @name in the parenthesised STATUS list @list. */
static gboolean
status_item (const char *list, const char *name, guint32 *value)
{
  gsize n = strlen (name);
  for (const char *p = list; (p = strstr (p, name)) != NULL; p += n) {
    if ((p != list && p[-1] != '(' && p[-1] != ' ') || p[n] != ' ')
      continue;
    char *end = NULL;
    guint64 v = g_ascii_strtoull (p + n + 1, &end, 10);
    if (end == p + n + 1 || v > G_MAXUINT32)
      return FALSE;
    *value = (guint32)v;
    return TRUE;
  }
  return FALSE;
}

gboolean
msgtk_imap_session_status (MsgtkImapSession *s, const char *mailbox, MsgtkImapMailboxStatus *st,
                           GError **error)
{
  memset (st, 0, sizeof *st);
  g_autoptr (GPtrArray) untagged
      = g_ptr_array_new_with_free_func ((GDestroyNotify)imap_response_free);
  g_autoptr (ImapResponse) r = imap_mailbox_command (
      s, "STATUS", mailbox, " (MESSAGES UIDNEXT UIDVALIDITY)", untagged, error);
  if (r == NULL)
    return FALSE;
  if (strcmp (r->status, "NO") == 0)
    return TRUE; /* no such mailbox (or not one to see) */
  if (!imap_require_ok (r, "STATUS", error))
    return FALSE;
  for (guint i = 0; i < untagged->len; i++) {
    ImapResponse *u = untagged->pdata[i];
    if (u->data == NULL || g_ascii_strncasecmp (u->data, "STATUS ", 7) != 0)
      continue;
    /* the list is the last parenthesised group (the name may hold parentheses) */
    const char *list = strrchr (u->data, '(');
    if (list == NULL || !status_item (list, "UIDVALIDITY", &st->uidvalidity))
      continue;
    status_item (list, "UIDNEXT", &st->uidnext);
    status_item (list, "MESSAGES", &st->messages);
    st->exists = TRUE;
    return TRUE;
  }
  g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_PROTOCOL,
               "the IMAP server's STATUS of '%s' gave no UIDVALIDITY", mailbox);
  return FALSE;
}

typedef struct {
  guint32 first, last;
  MsgtkImapFetchFunc func;
  gpointer data;
} Fetch;

static void
fetched (ImapResponse *r, gpointer data)
{
  Fetch *f = data;
  MsgtkImapFetched m;
  if (imap_parse_fetch (r, &m)) {
    if (m.uid >= f->first && (f->last == 0 || m.uid <= f->last))
      f->func (&m, f->data);
    imap_fetch_clear (&m);
  }
  imap_response_free (r);
}

gboolean
msgtk_imap_session_uid_fetch (MsgtkImapSession *s, const char *mailbox, guint32 first_uid,
                              guint32 last_uid, MsgtkImapFetchItems items, MsgtkImapFetchFunc func,
                              gpointer data, GError **error)
{
  gboolean exists;
  if (!imap_examine (s, mailbox, &exists, error))
    return FALSE;
  if (!exists)
    return TRUE;
  g_autoptr (GString) cmd = g_string_new ("UID FETCH ");
  g_string_append_printf (cmd, "%u:", MAX (first_uid, 1));
  if (last_uid != 0)
    g_string_append_printf (cmd, "%u", last_uid);
  else
    g_string_append_c (cmd, '*');
  g_string_append (cmd, " (UID");
  if (items & MSGTK_IMAP_FETCH_SIZE)
    g_string_append (cmd, " RFC822.SIZE");
  if (items & MSGTK_IMAP_FETCH_FLAGS)
    g_string_append (cmd, " FLAGS");
  if (items & MSGTK_IMAP_FETCH_MESSAGE_ID)
    g_string_append (cmd, " BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)]");
  if (items & MSGTK_IMAP_FETCH_BODY)
    g_string_append (cmd, " BODY.PEEK[]");
  g_string_append_c (cmd, ')');
  Fetch f = { MAX (first_uid, 1), last_uid, func, data };
  g_autoptr (ImapResponse) r = imap_command_each (s, cmd->str, fetched, &f, error);
  return r != NULL && imap_require_ok (r, "UID FETCH", error);
}
