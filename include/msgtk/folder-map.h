/**
 * SECTION:msgtk-folder-map
 * @title: Folder maps
 * @short_description: which mailbox on the server each folder of an archive
 *   goes to
 *
 * An archive's folders ("Lists/dev", "Sent", "Entwürfe") become the
 * server's mailboxes: with the server's hierarchy delimiter and personal
 * namespace, its own Sent, Trash, Drafts, Junk and Archive mailboxes
 * (SPECIAL-USE, RFC 6154) whatever their names and languages, and the
 * user's rules.
 */
#pragma once

#include <msgtk/imap-mailbox.h>

G_BEGIN_DECLS

/**
 * MsgtkFolderMap:
 *
 * How folders map to mailboxes. Opaque; made with msgtk_folder_map_new(),
 * freed with msgtk_folder_map_free().
 */
typedef struct _MsgtkFolderMap MsgtkFolderMap;

/**
 * msgtk_folder_map_new:
 * @base: (nullable): the mailbox under which the folders go, and where the
 *   archive's own messages (outside any folder) go; "" for the top level;
 *   %NULL: the archive's own messages to INBOX, its folders at the top
 *   level, those of a special use to the server's mailbox of that use
 *
 * Returns: (transfer full): a map, with no rules, for a server whose
 *   hierarchy delimiter is '/' until msgtk_folder_map_learn() or
 *   msgtk_folder_map_set_server() says otherwise.
 */
MsgtkFolderMap *msgtk_folder_map_new (const char *base);

/**
 * msgtk_folder_map_free:
 * @map: (nullable): a map
 */
void msgtk_folder_map_free (MsgtkFolderMap *map);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MsgtkFolderMap, msgtk_folder_map_free)

/**
 * msgtk_folder_map_add_rule:
 * @map: a map
 * @rule: "SRC=DST": the folder SRC (and the folders under it) goes to the
 *   mailbox DST (and those under it); both with '/' between the names of a
 *   hierarchy; an empty SRC is the archive's own messages
 * @error: return location for an error
 *
 * Adds a rule, which takes precedence over everything else (the longest
 * SRC that matches wins). DST is taken as it is: neither @base nor the
 * namespace is put in front of it.
 *
 * Returns: %FALSE with %MSGTK_ERROR_USAGE when @rule has no '=', an empty
 *   DST, or is not UTF-8.
 */
gboolean msgtk_folder_map_add_rule (MsgtkFolderMap *map, const char *rule, GError **error);

/**
 * msgtk_folder_map_set_server:
 * @map: a map
 * @prefix: the personal namespace's prefix ("", "INBOX.")
 * @delimiter: the hierarchy delimiter; '\0' for a flat server
 * @mailboxes: (nullable) (element-type MsgtkImapMailboxInfo): the server's
 *   mailboxes (msgtk_imap_session_list()), for their special uses
 *
 * Says what the server is like.
 */
void msgtk_folder_map_set_server (MsgtkFolderMap *map, const char *prefix, char delimiter,
                                  GPtrArray *mailboxes);

/**
 * msgtk_folder_map_learn:
 * @map: a map
 * @session: an authenticated session
 * @error: return location for an error
 *
 * msgtk_folder_map_set_server() with what @session's server says:
 * NAMESPACE (or LIST "" "") and LIST "" "*".
 *
 * Returns: %FALSE with the errors of msgtk_imap_session_get_namespace() and
 *   msgtk_imap_session_list().
 */
gboolean msgtk_folder_map_learn (MsgtkFolderMap *map, MsgtkImapSession *session, GError **error);

/**
 * msgtk_folder_map_mailbox:
 * @map: a map
 * @folder: (nullable): a folder of the archive, UTF-8, '/' between the
 *   names of a hierarchy; %NULL or "": the archive's own messages
 *
 * Where @folder goes, in this order: a rule; the archive's own messages to
 * @base, or INBOX; with no @base, a folder whose name says a special use
 * (its first name, or the second after "INBOX", "[Gmail]" or "[Google
 * Mail]": see msgtk_folder_special_use()) to the server's mailbox of that
 * use, if it has one, and "Inbox" in any case to INBOX; else @base (or the
 * namespace prefix) and the folder's names joined with the server's
 * delimiter ('_' on a flat server). A delimiter inside a name becomes '_',
 * so that it cannot make a hierarchy the archive did not have.
 *
 * Returns: (transfer full): the mailbox name, UTF-8.
 */
char *msgtk_folder_map_mailbox (const MsgtkFolderMap *map, const char *folder);

/**
 * msgtk_folder_special_use:
 * @name: a folder name
 *
 * The special use that a folder's name says in the words mail clients
 * give those folders in English, German, French, Spanish, Italian,
 * Portuguese, Dutch, the Nordic languages, Finnish, Polish, Czech, Russian,
 * Ukrainian, Chinese, Japanese and Korean ("Sent Items", "Gesendet",
 * "Éléments envoyés", "Отправленные", "Papierkorb", "Entwürfe", "Spam",
 * "Archives", ...), without regard to case.
 *
 * Returns: one of %MSGTK_IMAP_MAILBOX_SENT, %MSGTK_IMAP_MAILBOX_TRASH,
 *   %MSGTK_IMAP_MAILBOX_DRAFTS, %MSGTK_IMAP_MAILBOX_JUNK,
 *   %MSGTK_IMAP_MAILBOX_ARCHIVE, or 0.
 */
MsgtkImapMailboxAttributes msgtk_folder_special_use (const char *name);

G_END_DECLS
