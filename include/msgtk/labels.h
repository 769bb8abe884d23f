/**
 * SECTION:msgtk-labels
 * @title: Gmail labels
 * @short_description: what the X-Gmail-Labels field of a Google Takeout
 *   mbox says: folders, flags, keywords
 *
 * Takeout writes one mbox for the whole account; each message says in
 * X-Gmail-Labels where it was (Inbox, Sent, a label "Work/Projects"), and
 * its state (Opened, Unread, Starred, Important). A message with several
 * labels was in several places at once.
 */
#pragma once

#include <msgtk/flags.h>

G_BEGIN_DECLS

/**
 * MsgtkLabels:
 * @folders: (element-type utf8): the folders the message was in, in the
 *   field's order, each once: "Inbox", "Sent", "Drafts", "Spam", "Trash",
 *   user labels ("Work/Projects"); "Archive" when it was in none of them
 *   (archived: in All Mail only)
 * @keywords: (element-type utf8): keywords for the labels that are no
 *   folder ("$Important"), and, from msgtk_labels_parse() with @as_keywords,
 *   the user labels, made IMAP keywords
 * @set: flags the labels set (Opened: \Seen, Starred: \Flagged)
 * @clear: flags the labels clear (Unread: \Seen)
 *
 * What a message's labels say. Clear it with msgtk_labels_clear().
 */
typedef struct {
  GPtrArray *folders;
  GPtrArray *keywords;
  MsgtkFlags set;
  MsgtkFlags clear;
} MsgtkLabels;

/**
 * msgtk_labels_parse:
 * @value: the value of an X-Gmail-Labels field (labels separated by commas,
 *   a label with a comma in double quotes)
 * @as_keywords: the user labels as keywords of one copy (in the first folder
 *   of Inbox, Sent, Drafts, Spam, Trash the message was in, else Archive),
 *   instead of a copy in a folder each
 * @labels: (out caller-allocates): what they say
 *
 * Categories ("Category Social"), Chat and Archived are no folder and no
 * keyword.
 */
void msgtk_labels_parse (const char *value, gboolean as_keywords, MsgtkLabels *labels);

/**
 * msgtk_labels_clear:
 * @labels: what msgtk_labels_parse() filled
 *
 * Frees what @labels holds.
 */
void msgtk_labels_clear (MsgtkLabels *labels);

G_END_DECLS
