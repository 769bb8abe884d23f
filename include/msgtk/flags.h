/* msgtk — message flags, and how maildir, mbox and IMAP write them. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/**
 * MsgtkFlags:
 * Message flags as kept by maildir (info suffix letters) and mbox
 * (Status / X-Status headers) and IMAP (\Seen, \Answered, ...).
 */
typedef enum {
  MSGTK_FLAG_NONE = 0,
  MSGTK_FLAG_SEEN = 1 << 0,     /* maildir S, mbox Status R, IMAP \Seen */
  MSGTK_FLAG_ANSWERED = 1 << 1, /* maildir R, mbox X-Status A, IMAP \Answered */
  MSGTK_FLAG_FLAGGED = 1 << 2,  /* maildir F, mbox X-Status F, IMAP \Flagged */
  MSGTK_FLAG_DELETED = 1 << 3,  /* maildir T, mbox X-Status D, IMAP \Deleted */
  MSGTK_FLAG_DRAFT = 1 << 4,    /* maildir D, mbox X-Status T, IMAP \Draft */
} MsgtkFlags;

/* Maildir info letters for @flags in ASCII order ("DFRST" subset); never NULL. */
char *msgtk_flags_to_maildir (MsgtkFlags flags);
/* Flags from maildir info letters ("FRS"); unknown letters are ignored. */
MsgtkFlags msgtk_flags_from_maildir (const char *letters);
/* Flags from a maildir file name: the letters after ":2," (none: 0). */
MsgtkFlags msgtk_flags_from_maildir_name (const char *filename);
/* mbox Status ("RO" or "O") and X-Status ("AFTD" subset, may be "") values. */
void msgtk_flags_to_mbox_status (MsgtkFlags flags, char **status, char **x_status);
/* Flags from mbox Status and X-Status header values (either may be NULL). */
MsgtkFlags msgtk_flags_from_mbox_status (const char *status, const char *x_status);

/* The IMAP system flags for @flags as a parenthesised list ("(\\Seen \\Flagged)",
 * "()" for none). */
char *msgtk_flags_to_imap (MsgtkFlags flags);

G_END_DECLS
