/* msgtk — the draft module's inside (draft.c, draft-parts.c, draft-json.c):
 * the draft, and the one table of its fields that setting, JSON reading and
 * writing, the reproducible hash and the building of the header all use. */
#pragma once

#include <msgtk/draft.h>

G_BEGIN_DECLS

typedef struct {
  char *path;
  char *type;
  char *name;
  gboolean inline_;
  char *cid;
} DraftAttachment;

typedef struct {
  char *name;
  char *value;
} DraftHeader;

struct _MsgtkDraft {
  char *from, *sender, *reply_to, *subject, *date, *message_id, *mid_domain;
  char *in_reply_to, *references, *charset, *input_charset;
  GPtrArray *to, *cc, *bcc; /* char* */
  GPtrArray *headers;       /* DraftHeader* */
  GPtrArray *attachments;   /* DraftAttachment* */
  GBytes *text, *html;
  gboolean text_utf8, html_utf8; /* given as UTF-8 (JSON strings), not in input-charset */
  gboolean keep_bcc, reproducible;
  gint64 epoch;
  MsgtkFilenameEncoding filename_encoding;
};

typedef enum {
  DRAFT_MAILBOX,           /* From, Sender, Reply-To: addresses, set once */
  DRAFT_ADDRESSES,         /* To, Cc, Bcc: addresses, each value adds */
  DRAFT_TEXT,              /* Subject: unstructured text */
  DRAFT_DATE,              /* Date: RFC 5322 or ISO 8601 */
  DRAFT_MSGID,             /* Message-ID */
  DRAFT_MSGIDS,            /* In-Reply-To, References: message ids */
  DRAFT_OPTION,            /* no field of its own: message-id-domain */
  DRAFT_CHARSET,           /* charset, input-charset: a charset iconv knows */
  DRAFT_BOOL,              /* keep-bcc */
  DRAFT_FILENAME_ENCODING, /* filename-encoding: rfc2231 or rfc2047 */
} DraftKind;

typedef struct {
  const char *name;   /* for msgtk_draft_set() and the JSON key */
  const char *header; /* the header field it makes, or NULL */
  DraftKind kind;
  gsize offset; /* of its member in MsgtkDraft */
} DraftField;

extern const DraftField draft_fields[];
extern const guint draft_n_fields;

/* The field named @name (a draft name, or with @by_header a header field
 * name), any case; NULL for none. */
const DraftField *draft_field_lookup (const char *name, gboolean by_header);

/* Its value, for the kinds that are strings (char **) or lists (GPtrArray **). */
#define DRAFT_MEMBER(draft, field, type) ((type *)((char *)(draft) + (field)->offset))

/* ---- building the body (draft-parts.c) ---- */

typedef struct {
  MsgtkDraft *d;
  char *seed_hex; /* reproducible: the hash of the whole draft */
  guint boundaries;
} DraftBuild;

/* A value derived from the draft's hash (reproducible mode). */
char *draft_derived (DraftBuild *b, const char *what, guint n);

/* The MIME body: text and HTML alternatives, related inline parts,
 * attachments. */
GMimeObject *draft_build_body (DraftBuild *b, GError **error);

/* A body's bytes in canonical UTF-8 (LF line ends); *@len its length. */
char *draft_body_to_utf8 (MsgtkDraft *d, const char *what, GBytes *bytes, gboolean is_utf8,
                          gsize *len, GError **error);

/* ---- JSON (draft-json.c) ---- */

/* The draft as JSON; for the reproducible hash (@for_hash) without the
 * attachments' paths and the bodies, which it hashes as bytes. */
JsonNode *draft_to_json (MsgtkDraft *d, gboolean for_hash);

G_END_DECLS
