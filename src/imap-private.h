/* msgtk — IMAP internals shared with the unit tests. */
#pragma once

#include <msgtk/imap.h>

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

/* Split @n messages of @sizes into batches of at most @max_count messages and
 * @max_bytes bytes (a message bigger than @max_bytes is a batch of its own);
 * returns the batch lengths (guint) in order. */
GArray *imap_split_batches (const guint64 *sizes, guint n, guint max_count, guint64 max_bytes);

/* Parse an APPENDUID code ("APPENDUID 38505 3955" or "... 3955:3957,3960") into
 * the uidvalidity and the list of uids (guint32) in order. */
gboolean imap_parse_appenduid (const char *code, guint32 *uidvalidity, GArray *uids);

G_END_DECLS
