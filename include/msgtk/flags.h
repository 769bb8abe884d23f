/**
 * SECTION:msgtk-flags
 * @title: Flags
 * @short_description: message flags, and how maildir, mbox and IMAP write them
 *
 * A message's flags (seen, answered, flagged, deleted, draft) as one
 * #MsgtkFlags value, and their three written forms: the letters of a maildir
 * file name's info suffix, the Status and X-Status fields of an mbox, and the
 * system flags of IMAP.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/**
 * MsgtkFlags:
 * @MSGTK_FLAG_NONE: no flag
 * @MSGTK_FLAG_SEEN: read (maildir S, mbox Status R, IMAP \Seen)
 * @MSGTK_FLAG_ANSWERED: replied to (maildir R, mbox X-Status A, IMAP \Answered)
 * @MSGTK_FLAG_FLAGGED: marked (maildir F, mbox X-Status F, IMAP \Flagged)
 * @MSGTK_FLAG_DELETED: to be removed (maildir T, mbox X-Status D, IMAP \Deleted)
 * @MSGTK_FLAG_DRAFT: not finished (maildir D, mbox X-Status T, IMAP \Draft)
 *
 * Message flags as kept by maildir (info suffix letters), mbox (Status /
 * X-Status header fields) and IMAP (\Seen, \Answered, ...).
 */
typedef enum {
  MSGTK_FLAG_NONE = 0,
  MSGTK_FLAG_SEEN = 1 << 0,
  MSGTK_FLAG_ANSWERED = 1 << 1,
  MSGTK_FLAG_FLAGGED = 1 << 2,
  MSGTK_FLAG_DELETED = 1 << 3,
  MSGTK_FLAG_DRAFT = 1 << 4,
} MsgtkFlags;

/**
 * msgtk_flags_to_maildir:
 * @flags: the flags
 *
 * The maildir info letters for @flags, in ASCII order (a subset of "DFRST").
 *
 * Returns: (transfer full): the letters; "" for none, never %NULL.
 */
char *msgtk_flags_to_maildir (MsgtkFlags flags);

/**
 * msgtk_flags_from_maildir:
 * @letters: (nullable): maildir info letters ("FRS")
 *
 * Reads maildir info letters.
 *
 * Returns: the flags the letters stand for; unknown letters are ignored, and
 *   %NULL is %MSGTK_FLAG_NONE.
 */
MsgtkFlags msgtk_flags_from_maildir (const char *letters);

/**
 * msgtk_flags_from_maildir_name:
 * @filename: (nullable): a maildir file name or path
 *
 * Reads the flags of a maildir file name.
 *
 * Returns: the flags of the letters after ":2," in the base name of
 *   @filename; %MSGTK_FLAG_NONE when it has no ":2," (or is %NULL).
 */
MsgtkFlags msgtk_flags_from_maildir_name (const char *filename);

/**
 * msgtk_flags_to_mbox_status:
 * @flags: the flags
 * @status: (out) (optional) (transfer full): the Status value: "RO" when
 *   @flags has %MSGTK_FLAG_SEEN, else "O"
 * @x_status: (out) (optional) (transfer full): the X-Status value: a subset
 *   of "AFTD", "" for none
 *
 * The mbox Status and X-Status field values for @flags.
 */
void msgtk_flags_to_mbox_status (MsgtkFlags flags, char **status, char **x_status);

/**
 * msgtk_flags_from_mbox_status:
 * @status: (nullable): the value of a Status field
 * @x_status: (nullable): the value of an X-Status field
 *
 * Reads mbox Status and X-Status field values.
 *
 * Returns: the flags that mbox Status ("R": seen) and X-Status ("A", "F",
 *   "T", "D") field values say; other letters are ignored.
 */
MsgtkFlags msgtk_flags_from_mbox_status (const char *status, const char *x_status);

/**
 * msgtk_flags_to_imap:
 * @flags: the flags
 * @keywords: (nullable) (array zero-terminated=1): keywords to send with
 *   them ("$Label1", "work"), each made a valid IMAP atom
 *   (msgtk_flags_keyword())
 *
 * The IMAP flag list for @flags and @keywords.
 *
 * Returns: (transfer full): the list ("(\Seen \Flagged $Label1)"; "()" for
 *   none).
 */
char *msgtk_flags_to_imap (MsgtkFlags flags, const char *const *keywords);

/**
 * msgtk_flags_keyword:
 * @word: a keyword as a mail client wrote it
 *
 * @word as an IMAP keyword (RFC 3501 flag-keyword: an atom): characters an
 * atom cannot hold (blanks, controls, 8-bit, "(){%*\\]) made '_'.
 *
 * Returns: (transfer full) (nullable): the keyword, or %NULL for an empty
 *   @word or one that names a system flag ("\Seen": those are #MsgtkFlags).
 */
char *msgtk_flags_keyword (const char *word);

/**
 * msgtk_flags_add_keyword:
 * @keywords: (element-type utf8): keywords (g_free() them)
 * @word: a keyword as a mail client wrote it
 *
 * Adds @word to @keywords, made valid (msgtk_flags_keyword()), unless it is
 * empty or @keywords holds it already (keywords are not case-sensitive).
 */
void msgtk_flags_add_keyword (GPtrArray *keywords, const char *word);

/**
 * msgtk_flags_parse_keywords:
 * @value: the value of a header field that lists keywords: X-Keywords
 *   (Dovecot, Gmail exports), X-Mozilla-Keys (Thunderbird tags)
 * @keywords: (element-type utf8): where the keywords go (g_free() them),
 *   each once, made valid (msgtk_flags_keyword())
 *
 * Adds the keywords of @value (separated by commas or blanks) to
 * @keywords, in order, leaving out those it holds already.
 */
void msgtk_flags_parse_keywords (const char *value, GPtrArray *keywords);

/**
 * msgtk_flags_parse:
 * @text: flags as a user writes them: "\Seen $Imported", "(\Flagged work)"
 * @flags: (inout): gets the system flags of @text
 * @keywords: (element-type utf8): gets its keywords, as
 *   msgtk_flags_parse_keywords() adds them
 * @error: return location for an error
 *
 * Returns: %FALSE with %MSGTK_ERROR_USAGE when @text names a system flag
 *   that IMAP does not have ("\Important").
 */
gboolean msgtk_flags_parse (const char *text, MsgtkFlags *flags, GPtrArray *keywords,
                            GError **error);

G_END_DECLS
