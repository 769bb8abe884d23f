/* msgtk — the IMAP response parser (private to the library; the unit tests
 * use it too). */
#pragma once

#include <msgtk/imap-mailbox.h>

G_BEGIN_DECLS

typedef enum {
  IMAP_RESPONSE_UNTAGGED,     /* "* ..." */
  IMAP_RESPONSE_TAGGED,       /* "TAG OK|NO|BAD ..." */
  IMAP_RESPONSE_CONTINUATION, /* "+ ..." */
} ImapResponseKind;

typedef struct {
  ImapResponseKind kind;
  char *tag;           /* TAGGED only */
  char *status;        /* "OK", "NO", "BAD", "BYE", "PREAUTH"; NULL for untagged data */
  char *code;          /* response code without the brackets ("APPENDUID 7 1:3"), or NULL */
  char *text;          /* the human-readable rest (status responses, continuations) */
  char *data;          /* untagged data: the line after "* " ("3 EXISTS", "CAPABILITY ...") */
  GPtrArray *literals; /* GBytes: literals in the response, in order ("{N}" stays in data) */
} ImapResponse;

void imap_response_free (ImapResponse *response);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ImapResponse, imap_response_free)

/* Parse one response line (CRLF removed; literal contents already taken out,
 * passed in @literals which is taken over, may be NULL). */
ImapResponse *imap_response_parse (const char *line, GPtrArray *literals, GError **error);

/* If @line (without CRLF) ends with a literal announcement "{N}" or "{N+}",
 * return TRUE and its size. */
gboolean imap_line_literal (const char *line, gsize len, guint64 *size);

/* Append @s to @out as an IMAP quoted string; FALSE (nothing appended) when
 * @s needs a literal (CR, LF, NUL, or 8-bit when @utf8 is FALSE). */
gboolean imap_quote (GString *out, const char *s, gboolean utf8);

/* Parse the untagged FETCH response @r into @fetch (cleared first); FALSE
 * when it is not one, or is malformed (then @fetch holds nothing). */
gboolean imap_parse_fetch (const ImapResponse *response, MsgtkImapFetched *fetch);
void imap_fetch_clear (MsgtkImapFetched *fetch);

/* The mailbox of the untagged LIST response @r (its name in UTF-8, decoded
 * from modified UTF-7 unless the session is @utf8), or NULL when @r is not
 * one or is malformed. */
MsgtkImapMailboxInfo *imap_parse_list (const ImapResponse *response, gboolean utf8);
void imap_mailbox_info_free (MsgtkImapMailboxInfo *info);

/* The personal namespace of the untagged NAMESPACE response @r: its prefix
 * (UTF-8; NULL when there is none) and hierarchy delimiter ('\0': flat).
 * FALSE when @r is not one or is malformed. */
gboolean imap_parse_namespace (const ImapResponse *response, gboolean utf8, char **prefix,
                               char *delimiter);

G_END_DECLS
