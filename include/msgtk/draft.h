/**
 * SECTION:msgtk-draft
 * @title: Drafts
 * @short_description: a declarative description of a message turned into a
 *   GMimeMessage
 *
 * A draft describes a message: its header fields as plain UTF-8, a text and
 * an HTML body, attachments and inline images. msgtk_draft_build() turns it
 * into a #GMimeMessage, choosing charsets (the smallest that holds the text)
 * and transfer encodings, doing the RFC 2047/2231 encoding, and, in
 * reproducible mode, deriving the Date, the Message-ID and the MIME
 * boundaries from the content. Drafts are also read from and written as JSON
 * (msgbuild(1) gives the schema).
 */
#pragma once

#include <gio/gio.h>
#include <gmime/gmime.h>
#include <msgtk/sink.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/**
 * MsgtkFilenameEncoding:
 * @MSGTK_FILENAME_RFC2231: filename*=utf-8''... (RFC 2231, the standard)
 * @MSGTK_FILENAME_RFC2047: filename="=?utf-8?...?=" (what Outlook-era clients read)
 *
 * How an attachment's file name that is not ASCII is encoded.
 */
typedef enum {
  MSGTK_FILENAME_RFC2231,
  MSGTK_FILENAME_RFC2047,
} MsgtkFilenameEncoding;

/**
 * MsgtkDraft:
 *
 * The description of a message. Opaque; made with msgtk_draft_new() or from
 * JSON, freed with msgtk_draft_free().
 */
typedef struct _MsgtkDraft MsgtkDraft;

/**
 * msgtk_draft_new:
 *
 * A new, empty draft.
 *
 * Returns: (transfer full): an empty draft.
 */
MsgtkDraft *msgtk_draft_new (void);

/**
 * msgtk_draft_free:
 * @draft: (nullable) (transfer full): a draft
 *
 * Frees @draft and what it holds.
 */
void msgtk_draft_free (MsgtkDraft *draft);

/**
 * msgtk_draft_set:
 * @draft: a draft
 * @field: the field, in any case: one of from, sender, reply-to, to, cc, bcc
 *   (these three add to the list), subject, date (RFC 5322 or ISO 8601),
 *   message-id, message-id-domain, in-reply-to, references, charset (header
 *   and body charset instead of the smallest one), input-charset (charset of
 *   body files, default UTF-8), filename-encoding (rfc2231 or rfc2047),
 *   keep-bcc (true or false, yes or no, 1 or 0)
 * @value: the value, plain UTF-8 on one line
 * @error: return location for an error
 *
 * Sets a field of @draft from plain UTF-8 (replacing what it held, but for
 * the address lists). Addresses, dates and message ids are checked when the
 * message is built.
 *
 * Returns: %FALSE with %MSGTK_ERROR_DATA naming the field when @value holds a
 *   CR or LF or is not UTF-8, or when a charset is unknown; with
 *   %MSGTK_ERROR_USAGE for an unknown @field or a value that is not one of
 *   those listed.
 */
gboolean msgtk_draft_set (MsgtkDraft *draft, const char *field, const char *value, GError **error);
/**
 * msgtk_draft_add_header:
 * @draft: a draft
 * @name: the field name: printable ASCII without ':', and not a MIME field
 *   the draft writes itself (MIME-Version, Content-Type,
 *   Content-Transfer-Encoding, Content-Disposition, Content-ID)
 * @value: the value, plain UTF-8 on one line
 * @error: return location for an error
 *
 * Adds a header field. A field the draft has (From, To, Subject, Date, ...)
 * is set as msgtk_draft_set() sets it; any other is added, in the order
 * given, after the draft's own fields (its value encoded as unstructured
 * text).
 *
 * Returns: %FALSE with %MSGTK_ERROR_DATA for a name that is not allowed, or a
 *   value that holds a CR or LF or is not UTF-8.
 */
gboolean msgtk_draft_add_header (MsgtkDraft *draft, const char *name, const char *value,
                                 GError **error);
/**
 * msgtk_draft_set_keep_bcc:
 * @draft: a draft
 * @keep: whether the built message keeps its Bcc field
 *
 * Keeps the Bcc field in the built message (default: it is dropped).
 */
void msgtk_draft_set_keep_bcc (MsgtkDraft *draft, gboolean keep);
/**
 * msgtk_draft_set_text:
 * @draft: a draft
 * @text: (nullable): the text body, bytes in the input charset (a reference
 *   is taken); %NULL clears it
 *
 * Sets the text/plain body.
 */
void msgtk_draft_set_text (MsgtkDraft *draft, GBytes *text);

/**
 * msgtk_draft_set_html:
 * @draft: a draft
 * @html: (nullable): the HTML body, bytes in the input charset (a reference
 *   is taken); %NULL clears it
 *
 * Sets the text/html body (with a text body, the two are alternatives).
 */
void msgtk_draft_set_html (MsgtkDraft *draft, GBytes *html);

/**
 * msgtk_draft_add_attachment:
 * @draft: a draft
 * @path: the file, read (streamed) when the message is built
 * @type: (nullable): its content type ("type/subtype"); %NULL: guessed from
 *   the name and content
 * @name: (nullable): its file name in the message; %NULL: the base name of
 *   @path
 * @inline_: give it the disposition inline rather than attachment
 * @cid: (nullable): a content id: makes it an inline part of a
 *   multipart/related, referenced from the HTML as cid:@cid
 * @error: return location for an error
 *
 * Adds an attachment.
 *
 * Returns: %FALSE with %MSGTK_ERROR_NO_INPUT naming @path when it is missing
 *   or not a regular file, or with %MSGTK_ERROR_DATA when @type is not of
 *   the form type/subtype, @name or @cid holds a CR or LF or is not UTF-8,
 *   or @cid is empty or holds a space, an angle bracket, a quote, a
 *   backslash, a comma or a semicolon.
 */
gboolean msgtk_draft_add_attachment (MsgtkDraft *draft, const char *path, const char *type,
                                     const char *name, gboolean inline_, const char *cid,
                                     GError **error);
/**
 * msgtk_draft_set_reproducible:
 * @draft: a draft
 * @on: whether the built message is reproducible
 * @epoch: with @on: the Date (unless the draft sets one), in seconds since
 *   1970 (UTC)
 *
 * Reproducible mode: the Date from @epoch, the Message-ID and the MIME
 * boundaries from a hash of the content, so that the same draft always
 * builds the same bytes.
 */
void msgtk_draft_set_reproducible (MsgtkDraft *draft, gboolean on, gint64 epoch);

/**
 * msgtk_draft_build:
 * @draft: a draft
 * @error: return location for an error
 *
 * Builds the message @draft describes. Its attachments are read now.
 *
 * Returns: (transfer full): the message, or %NULL with %MSGTK_ERROR_USAGE
 *   (hint %MSGTK_ERROR_HINT_GIVE_FROM) when there is no From address; with
 *   %MSGTK_ERROR_DATA for an address, date, message id or domain that cannot
 *   be read, a charset that is unknown or cannot hold the text, or a body
 *   that is not valid in its input charset (hint
 *   %MSGTK_ERROR_HINT_INPUT_CHARSET when that is UTF-8); with
 *   %MSGTK_ERROR_NO_INPUT or %MSGTK_ERROR_IO when an attachment cannot be
 *   opened or read.
 */
GMimeMessage *msgtk_draft_build (MsgtkDraft *draft, GError **error);

/**
 * msgtk_draft_write_all:
 * @drafts: (element-type MsgtkDraft): the drafts
 * @from: the index of the first draft to write
 * @sink: where the messages go
 * @jobs: with a maildir sink: threads to build on; 0: one per core
 * @failed: (out) (optional): on failure, the index of the first draft that
 *   failed
 * @error: return location for an error
 *
 * Builds the drafts of @drafts from index @from on and writes them to @sink,
 * each freed (its slot set to %NULL) once it was built and written. A
 * maildir sink, which takes messages in any order, gets them built on @jobs
 * threads, under names in the drafts' order; other sinks one after the
 * other. On failure, @failed is the index of the first draft that failed,
 * as a run on one thread would report it: every draft before it is built
 * and written, and none after it is started once its failure is known; on
 * several threads, drafts after it that were being built at that moment
 * may still be written (msgtk_sink_abort() undoes everything written).
 *
 * Returns: %FALSE with the error of msgtk_draft_build() or of the sink for
 *   the draft at @failed.
 */
gboolean msgtk_draft_write_all (GPtrArray *drafts, guint from, MsgtkSink *sink, guint jobs,
                                guint *failed, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MsgtkDraft, msgtk_draft_free)

/**
 * msgtk_draft_new_from_json:
 * @json: a JSON draft object (msgbuild(1) gives the schema)
 * @length: its length, or -1 when @json is NUL-terminated
 * @base_dir: (nullable): where relative paths in it are taken from; %NULL:
 *   the current directory
 * @error: return location for an error
 *
 * Reads a draft from JSON.
 *
 * Returns: (transfer full): the draft, or %NULL with %MSGTK_ERROR_DATA when
 *   @json is not valid JSON or not a draft object (unknown key, wrong type),
 *   with %MSGTK_ERROR_NO_INPUT when a body file cannot be read, or with the
 *   errors of msgtk_draft_set() and msgtk_draft_add_attachment().
 */
MsgtkDraft *msgtk_draft_new_from_json (const char *json, gssize length, const char *base_dir,
                                       GError **error);
/**
 * msgtk_draft_parse_json_many:
 * @data: JSON draft objects one after the other: JSON Lines (one a line),
 *   or objects spread over several lines (as jq prints them)
 * @length: the length of @data
 * @base_dir: (nullable): where relative paths are taken from; %NULL: the
 *   current directory
 * @error: return location for an error
 *
 * Reads the drafts of @data, each JSON value one draft, in order: none is
 * left out because another shares its line or its file.
 *
 * Returns: (transfer full) (element-type MsgtkDraft): the drafts (the array
 *   frees them: release it with g_ptr_array_unref()), or %NULL with the
 *   errors of msgtk_draft_new_from_json(), naming the line the draft starts
 *   on, or with
 *   %MSGTK_ERROR_DATA when @data holds no draft.
 */
GPtrArray *msgtk_draft_parse_json_many (const char *data, gsize length, const char *base_dir,
                                        GError **error);

/**
 * msgtk_draft_to_json:
 * @draft: a draft
 *
 * The draft as a JSON object of the schema msgtk_draft_new_from_json()
 * reads (bodies as UTF-8 text): reading it back gives the same message.
 *
 * Returns: (transfer full): a node holding the object.
 */
JsonNode *msgtk_draft_to_json (MsgtkDraft *draft);

G_END_DECLS
