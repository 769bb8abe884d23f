/* msgtk — the IMAP session's internal interface, for the APPEND and
 * mailbox modules (imap-append.c, imap-mailbox.c) and the unit tests. */
#pragma once

#include <msgtk/imap-append.h>
#include <msgtk/imap-mailbox.h>
#include <msgtk/imap.h>

#include "imap-response-private.h"

G_BEGIN_DECLS

/* ---- the session (imap.c) ---- */

/* The next command tag ("A0001"). */
char *imap_next_tag (MsgtkImapSession *s);

/* Queue the command line @line (CRLF added; emptied). */
void imap_queue_line (MsgtkImapSession *s, GString *line);

/* Queue message data as the literal carries it (bare LF made CRLF),
 * sending as it goes. */
gboolean imap_queue_literal_data (MsgtkImapSession *s, GBytes *data, GError **error);

/* Send what is queued. */
gboolean imap_flush (MsgtkImapSession *s, GError **error);

/* Whether a literal of @size may go without waiting for '+' (LITERAL+, or
 * LITERAL- up to 4096 bytes, RFC 7888). */
gboolean imap_nonsync_ok (MsgtkImapSession *s, guint64 size);

/* Append @str to the command in @cmd: quoted, or as a literal (sending what
 * is before it and waiting for '+' when it must; *@done gets the command's
 * completion if it came instead). */
gboolean imap_cmd_string (MsgtkImapSession *s, GString *cmd, const char *tag, const char *str,
                          ImapResponse **done, GError **error);

/* Read until the completion of @tag (completions of other commands in
 * flight are kept for their turn); untagged responses go to @untagged when
 * it is not NULL. */
ImapResponse *imap_wait_tagged (MsgtkImapSession *s, const char *tag, GPtrArray *untagged,
                                GError **error);
/* Called with each untagged response, which it takes. */
typedef void (*ImapUntaggedFunc) (ImapResponse *response, gpointer data);
/* imap_wait_tagged(), each untagged response given to @each as it comes
 * (dropped when @each is NULL). */
ImapResponse *imap_wait_tagged_each (MsgtkImapSession *s, const char *tag, ImapUntaggedFunc each,
                                     gpointer data, GError **error);
/* Send the command @command (no literals in it) and wait for its
 * completion, untagged responses to @each. */
ImapResponse *imap_command_each (MsgtkImapSession *s, const char *command, ImapUntaggedFunc each,
                                 gpointer data, GError **error);
/* Send "@verb MAILBOX@suffix" (the mailbox encoded as the session sends
 * names) and wait for its completion, untagged responses to @untagged. */
ImapResponse *imap_mailbox_command (MsgtkImapSession *s, const char *verb, const char *mailbox,
                                    const char *suffix, GPtrArray *untagged, GError **error);
/* TRUE if @r is OK; else FALSE with @error saying that @what failed. */
gboolean imap_require_ok (ImapResponse *r, const char *what, GError **error);
/* EXAMINE @mailbox unless it is the one examined last; *@exists FALSE when
 * the server refuses it (no such mailbox). */
gboolean imap_examine (MsgtkImapSession *s, const char *mailbox, gboolean *exists, GError **error);

/* Wait for '+' (its text in *@text when not NULL); FALSE with *@done set
 * when the command completed instead. */
gboolean imap_wait_continuation (MsgtkImapSession *s, const char *tag, char **text,
                                 ImapResponse **done, GError **error);

/* @name as the session sends mailbox names (UTF-8 or modified UTF-7). */
char *imap_encode_mailbox (MsgtkImapSession *s, const char *name, GError **error);

/* The first word of a response code ("APPENDUID 1 2" → "APPENDUID"). */
char *imap_code_word (const char *code);

/* ---- APPEND (imap-append.c) ---- */

/* Split @n messages of @sizes into batches of at most @max_count messages and
 * @max_bytes bytes (a message bigger than @max_bytes is a batch of its own);
 * returns the batch lengths (guint) in order. */
GArray *imap_split_batches (const guint64 *sizes, guint n, guint max_count, guint64 max_bytes);

/* Parse an APPENDUID code ("APPENDUID 38505 3955" or "... 3955:3957,3960") into
 * the uidvalidity and the list of uids (guint32) in order. */
gboolean imap_parse_appenduid (const char *code, guint32 *uidvalidity, GArray *uids);

G_END_DECLS
