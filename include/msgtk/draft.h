/* msgtk — drafts: a declarative description of a message (headers, bodies,
 * attachments) turned into a GMimeMessage, with charset, transfer-encoding and
 * reproducibility policy. */
#pragma once

#include <gio/gio.h>
#include <gmime/gmime.h>
#include <msgtk/sink.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef enum {
  MSGTK_FILENAME_RFC2231, /* filename*=utf-8''... (RFC 2231, the standard) */
  MSGTK_FILENAME_RFC2047, /* filename="=?utf-8?...?=" (what Outlook-era clients read) */
} MsgtkFilenameEncoding;

typedef struct _MsgtkDraft MsgtkDraft;

MsgtkDraft *msgtk_draft_new (void);
void msgtk_draft_free (MsgtkDraft *draft);

/* Set a field from plain UTF-8. @field is one of: from, sender, reply-to, to,
 * cc, bcc (these three add to the list), subject, date (RFC 5322 or ISO 8601),
 * message-id, message-id-domain, in-reply-to, references, charset (header and
 * body charset instead of the smallest one), input-charset (charset of body
 * files, default UTF-8), filename-encoding (rfc2231 or rfc2047). A CR or LF in
 * @value is refused (MSGTK_ERROR_DATA naming the field). */
gboolean msgtk_draft_set (MsgtkDraft *draft, const char *field, const char *value, GError **error);
/* Add an extra header; the name must be printable ASCII without ':' and not a
 * MIME header the draft writes itself. */
gboolean msgtk_draft_add_header (MsgtkDraft *draft, const char *name, const char *value,
                                 GError **error);
/* Keep the Bcc header in the output (default: dropped). */
void msgtk_draft_set_keep_bcc (MsgtkDraft *draft, gboolean keep);
/* Body text (bytes in the input charset); NULL clears. */
void msgtk_draft_set_text (MsgtkDraft *draft, GBytes *text);
void msgtk_draft_set_html (MsgtkDraft *draft, GBytes *html);
/* Add an attachment read (streamed) from @path. @type (nullable) is guessed
 * from the name and content when NULL; @name (nullable) defaults to the base
 * name of @path; @cid (nullable) makes it an inline part of a
 * multipart/related referenced from the HTML as cid:@cid. A missing file is
 * MSGTK_ERROR_NO_INPUT naming it. */
gboolean msgtk_draft_add_attachment (MsgtkDraft *draft, const char *path, const char *type,
                                     const char *name, gboolean inline_, const char *cid,
                                     GError **error);
/* Reproducible mode: Date from @epoch (seconds), Message-ID and MIME
 * boundaries from a hash of the content. */
void msgtk_draft_set_reproducible (MsgtkDraft *draft, gboolean on, gint64 epoch);

/* Build the message. */
GMimeMessage *msgtk_draft_build (MsgtkDraft *draft, GError **error);

/* Build the drafts of @drafts from index @from on and write them to @sink,
 * each freed (its slot set to NULL) once written. A maildir sink, which
 * takes messages in any order, gets them built on @jobs threads (0: one per
 * core), under names in the drafts' order; other sinks one after the other.
 * On failure, *@failed (nullable) is the index of the first draft that
 * failed, as a run on one thread would report it, and no draft after it is
 * written. */
gboolean msgtk_draft_write_all (GPtrArray *drafts, guint from, MsgtkSink *sink, guint jobs,
                                guint *failed, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MsgtkDraft, msgtk_draft_free)

/* Parse a JSON draft object (see msgbuild(1) for the schema); relative paths
 * in it are taken from @base_dir (nullable: current directory). */
MsgtkDraft *msgtk_draft_new_from_json (const char *json, gssize length, const char *base_dir,
                                       GError **error);
/* Parse @data as one JSON object or as JSON Lines (one object per line);
 * returns an array of MsgtkDraft (free with g_ptr_array_unref). Errors name
 * the line. */
GPtrArray *msgtk_draft_parse_json_many (const char *data, gsize length, const char *base_dir,
                                        GError **error);

/* The draft as a JSON object of the schema msgtk_draft_new_from_json()
 * reads (bodies as UTF-8 text): reading it back gives the same message. */
JsonNode *msgtk_draft_to_json (MsgtkDraft *draft);

G_END_DECLS
