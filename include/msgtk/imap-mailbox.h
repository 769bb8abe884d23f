/**
 * SECTION:msgtk-imap-mailbox
 * @title: IMAP mailboxes
 * @short_description: the mailboxes of an IMAP server and what they hold:
 *   LIST, NAMESPACE, STATUS, UID FETCH
 *
 * The server's mailboxes (LIST, with their special uses, RFC 6154) and its
 * personal namespace (NAMESPACE, RFC 2342); the state of a mailbox (STATUS: whether it exists, its
 * UIDVALIDITY, UIDNEXT and message count) and its messages by UID (UID FETCH of sizes, header
 * fields, whole messages and flags), each message given to a callback as its response arrives, so
 * that memory stays flat however many are fetched.
 */
#pragma once

#include <msgtk/imap.h>

G_BEGIN_DECLS

/**
 * MsgtkImapMailboxAttributes:
 * @MSGTK_IMAP_MAILBOX_NOSELECT: it holds no messages (\Noselect,
 *   \NonExistent): a name in the hierarchy only
 * @MSGTK_IMAP_MAILBOX_ALL: special use \All: every message
 * @MSGTK_IMAP_MAILBOX_ARCHIVE: special use \Archive
 * @MSGTK_IMAP_MAILBOX_DRAFTS: special use \Drafts
 * @MSGTK_IMAP_MAILBOX_FLAGGED: special use \Flagged
 * @MSGTK_IMAP_MAILBOX_JUNK: special use \Junk
 * @MSGTK_IMAP_MAILBOX_SENT: special use \Sent
 * @MSGTK_IMAP_MAILBOX_TRASH: special use \Trash
 *
 * What LIST says of a mailbox, beyond its name.
 */
typedef enum {
  MSGTK_IMAP_MAILBOX_NOSELECT = 1 << 0,
  MSGTK_IMAP_MAILBOX_ALL = 1 << 1,
  MSGTK_IMAP_MAILBOX_ARCHIVE = 1 << 2,
  MSGTK_IMAP_MAILBOX_DRAFTS = 1 << 3,
  MSGTK_IMAP_MAILBOX_FLAGGED = 1 << 4,
  MSGTK_IMAP_MAILBOX_JUNK = 1 << 5,
  MSGTK_IMAP_MAILBOX_SENT = 1 << 6,
  MSGTK_IMAP_MAILBOX_TRASH = 1 << 7,
} MsgtkImapMailboxAttributes;

/**
 * MsgtkImapMailboxInfo:
 * @name: the mailbox name, UTF-8 (decoded from modified UTF-7 where the
 *   session sends names so)
 * @delimiter: its hierarchy delimiter; '\0' for a flat name
 * @attributes: what else LIST said of it
 *
 * One mailbox of a LIST.
 */
typedef struct {
  char *name;
  char delimiter;
  MsgtkImapMailboxAttributes attributes;
} MsgtkImapMailboxInfo;

/**
 * msgtk_imap_session_list:
 * @session: an authenticated session
 * @error: return location for an error
 *
 * LIST "" "*": every mailbox of the server the user sees, with its special
 * use when the server says it (SPECIAL-USE servers do in every LIST).
 *
 * Returns: (transfer full) (element-type MsgtkImapMailboxInfo): the
 *   mailboxes in the server's order (the array frees them), or %NULL with
 *   %MSGTK_ERROR_UNAVAILABLE or %MSGTK_ERROR_PROTOCOL when the server
 *   refuses, or with a connection error.
 */
GPtrArray *msgtk_imap_session_list (MsgtkImapSession *session, GError **error);

/**
 * msgtk_imap_session_get_delimiter:
 * @session: a session
 * @delimiter: (out): the hierarchy delimiter (LIST "" ""); '\0' for a flat
 *   server
 * @error: return location for an error
 *
 * Asks the server for its hierarchy delimiter.
 *
 * Returns: %FALSE with %MSGTK_ERROR_UNAVAILABLE when the server refuses LIST
 *   (NO), %MSGTK_ERROR_PROTOCOL when it does not understand it (BAD), or
 *   with a connection error.
 */
gboolean msgtk_imap_session_get_delimiter (MsgtkImapSession *session, char *delimiter,
                                           GError **error);

/**
 * msgtk_imap_session_create:
 * @session: a session
 * @mailbox: the mailbox name, UTF-8
 * @error: return location for an error
 *
 * CREATE @mailbox. An existing mailbox ([ALREADYEXISTS]) is not an error.
 *
 * Returns: %FALSE with %MSGTK_ERROR_CANT_CREATE when the server refuses, with
 *   %MSGTK_ERROR_USAGE when @mailbox is not UTF-8, or with a connection
 *   error.
 */
gboolean msgtk_imap_session_create (MsgtkImapSession *session, const char *mailbox, GError **error);

/**
 * msgtk_imap_session_get_namespace:
 * @session: an authenticated session
 * @prefix: (out) (transfer full): the prefix of the user's own mailboxes
 *   ("" or "INBOX.", say), UTF-8; %NULL on failure
 * @delimiter: (out): their hierarchy delimiter; '\0' for flat names
 * @error: return location for an error
 *
 * The personal namespace (NAMESPACE, RFC 2342) when the server has the
 * capability; else the prefix "" and the delimiter of LIST "" "".
 *
 * Returns: %FALSE with %MSGTK_ERROR_UNAVAILABLE or %MSGTK_ERROR_PROTOCOL when
 *   the server refuses or answers what cannot be read, or with a connection
 *   error.
 */
gboolean msgtk_imap_session_get_namespace (MsgtkImapSession *session, char **prefix,
                                           char *delimiter, GError **error);

/**
 * MsgtkImapMailboxStatus:
 * @exists: whether the server has the mailbox (a STATUS that it refused:
 *   %FALSE, the other members 0)
 * @uidvalidity: its UIDVALIDITY (RFC 3501 2.3.1.1)
 * @uidnext: the UID its next message will have at least
 * @messages: how many messages it holds
 *
 * What STATUS tells of a mailbox.
 */
typedef struct {
  gboolean exists;
  guint32 uidvalidity;
  guint32 uidnext;
  guint32 messages;
} MsgtkImapMailboxStatus;

/**
 * msgtk_imap_session_status:
 * @session: an authenticated session
 * @mailbox: the mailbox name, UTF-8
 * @status: (out caller-allocates): what the server says of it
 * @error: return location for an error
 *
 * STATUS @mailbox (MESSAGES UIDNEXT UIDVALIDITY). A refusal (NO: no such
 * mailbox, or not one this user may see) is not an error: @status then
 * says it does not exist.
 *
 * Returns: %FALSE with %MSGTK_ERROR_PROTOCOL when the server's answer is
 *   BAD or lacks the UIDVALIDITY, with %MSGTK_ERROR_USAGE when @mailbox is
 *   not UTF-8, or with a connection error.
 */
gboolean msgtk_imap_session_status (MsgtkImapSession *session, const char *mailbox,
                                    MsgtkImapMailboxStatus *status, GError **error);

/**
 * MsgtkImapFetchItems:
 * @MSGTK_IMAP_FETCH_SIZE: RFC822.SIZE, the message's size with CRLF line ends
 * @MSGTK_IMAP_FETCH_MESSAGE_ID: the Message-ID header field
 *   (BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])
 * @MSGTK_IMAP_FETCH_BODY: the whole message (BODY.PEEK[]: not marked seen)
 * @MSGTK_IMAP_FETCH_FLAGS: its flags and keywords
 *
 * What msgtk_imap_session_uid_fetch() asks for (the UID always).
 */
typedef enum {
  MSGTK_IMAP_FETCH_SIZE = 1 << 0,
  MSGTK_IMAP_FETCH_MESSAGE_ID = 1 << 1,
  MSGTK_IMAP_FETCH_BODY = 1 << 2,
  MSGTK_IMAP_FETCH_FLAGS = 1 << 3,
} MsgtkImapFetchItems;

/**
 * MsgtkImapFetched:
 * @seq: its message sequence number
 * @uid: its UID
 * @size: its RFC822.SIZE (with %MSGTK_IMAP_FETCH_SIZE)
 * @has_size: whether the server sent @size
 * @body: (nullable): the message (with %MSGTK_IMAP_FETCH_BODY)
 * @header: (nullable): the header fields asked for, as the server sent
 *   them, blank line included (with %MSGTK_IMAP_FETCH_MESSAGE_ID)
 * @flags: (nullable): the FLAGS list as sent, parentheses included:
 *   "(\Seen $Label1)" (with %MSGTK_IMAP_FETCH_FLAGS)
 *
 * One message of a UID FETCH; valid during the callback only.
 */
typedef struct {
  guint32 seq;
  guint32 uid;
  guint64 size;
  gboolean has_size;
  GBytes *body;
  GBytes *header;
  char *flags;
} MsgtkImapFetched;

/**
 * MsgtkImapFetchFunc:
 * @message: the message as fetched
 * @data: the caller's
 *
 * Called with each message of a UID FETCH, in the order the server sends
 * them.
 */
typedef void (*MsgtkImapFetchFunc) (const MsgtkImapFetched *message, gpointer data);

/**
 * msgtk_imap_session_uid_fetch:
 * @session: an authenticated session
 * @mailbox: the mailbox name, UTF-8 (EXAMINE'd: read-only, left so for the
 *   next fetch from it)
 * @first_uid: the first UID wanted
 * @last_uid: the last UID wanted; 0: up to the last message
 * @items: what to fetch
 * @func: (scope call): called with each message
 * @data: (closure): for @func
 * @error: return location for an error
 *
 * UID FETCH @first_uid:@last_uid of @mailbox. Only messages whose UID is in
 * the range are given to @func (for "N:*" servers also send the last
 * message when it is below N). A mailbox that does not exist holds nothing.
 *
 * Returns: %FALSE with %MSGTK_ERROR_UNAVAILABLE or %MSGTK_ERROR_PROTOCOL when
 *   the server refuses the FETCH (NO, BAD), with %MSGTK_ERROR_USAGE when
 *   @mailbox is not UTF-8, or with a connection error.
 */
gboolean msgtk_imap_session_uid_fetch (MsgtkImapSession *session, const char *mailbox,
                                       guint32 first_uid, guint32 last_uid,
                                       MsgtkImapFetchItems items, MsgtkImapFetchFunc func,
                                       gpointer data, GError **error);

G_END_DECLS
