/* msgtk — the inspection's internal interface, for its views (summary.c,
 * view.c, json.c, extract.c, lint.c): the parts found, the decoded values
 * and contents, and the findings list. */
#pragma once

#include <msgtk/inspect.h>

#include "gmime-autoptr-private.h"

#include <gmime/gmime.h>

G_BEGIN_DECLS

/* One part of the MIME tree (depth-first order). */
typedef struct {
  char *number; /* "1", "1.2", ... */
  guint depth;
  GMimeObject *object; /* borrowed from the message */
  gboolean leaf;
  gboolean decoded_done;
  GBytes *decoded; /* cached decoded content of a leaf */
} InspectNode;

/* ---- what was parsed ---- */
GMimeMessage *inspection_message (MsgtkInspection *in); /* NULL with MSGTK_INSPECT_STRUCTURE */
GMimeObject *inspection_top (MsgtkInspection *in);
GPtrArray *inspection_nodes (MsgtkInspection *in); /* InspectNode* */
GPtrArray *inspection_defect_list (MsgtkInspection *in);
const char *const *inspection_fallbacks (MsgtkInspection *in);
GBytes *inspection_raw (MsgtkInspection *in);
goffset inspection_size (MsgtkInspection *in);
guint inspection_max_line (MsgtkInspection *in);
/* the top header block's fields in order, as many as the limit shows */
guint inspection_header_count (MsgtkInspection *in);
GMimeHeader *inspection_header (MsgtkInspection *in, guint i);

/* ---- findings ---- */
void inspect_finding_free (MsgtkFinding *f);
/* Add a finding of @code (a code of the table msgtk_lint_codes(), which
 * gives its severity) to @list, unless one of @code at @location is there. */
G_GNUC_PRINTF (4, 5)
void inspect_add_finding (GPtrArray *list, const char *code, const char *location, const char *fmt,
                          ...);
char *inspect_valid_utf8 (const char *s, gssize len);

/* ---- decoded values ---- */
/* A value GMime decoded, as UTF-8 (bytes no charset decodes replaced: a
 * CHARSET_UNDECODABLE finding in @defects unless NULL). */
char *inspect_decoded_text (const char *value, const char *const *fallbacks, GPtrArray *defects,
                            const char *what);
char *inspect_decode_value (MsgtkInspection *in, const char *value, const char *what);
char *inspect_header_decoded (MsgtkInspection *in, GMimeHeader *h);
char *inspect_subject (MsgtkInspection *in);
char *inspect_content_type (GMimeObject *obj); /* "type/subtype", lower case */
const char *inspect_part_charset (GMimeObject *obj);
char *inspect_part_filename (MsgtkInspection *in, GMimeObject *obj);
const char *inspect_part_encoding (GMimeObject *obj);
const char *inspect_part_disposition (GMimeObject *obj);
gboolean inspect_is_attachment (GMimeObject *obj);
gboolean inspect_is_text_type (const char *type);

/* ---- parts ---- */
typedef void (*InspectDecodedFunc) (const char *data, gsize len, gpointer user_data);
/* Undo the transfer encoding of leaf @n chunk by chunk into @func; returns
 * the decoded size. */
gsize inspect_node_decode (InspectNode *n, InspectDecodedFunc func, gpointer user_data);
/* Its decoded size, counted without decoding where it can be. */
gsize inspect_node_decoded_size (InspectNode *n);
/* Its decoded content (cached); NULL for a leaf that is no part. */
GBytes *inspect_node_decoded (InspectNode *n);
/* Its content as UTF-8 text. */
char *inspect_node_text (MsgtkInspection *in, InspectNode *n);
InspectNode *inspect_find_node (MsgtkInspection *in, const char *number);
/* The readable body: the first text/@subtype leaf that is not an attachment. */
InspectNode *inspect_body_node (MsgtkInspection *in, const char *subtype);

G_END_DECLS
