/**
 * SECTION:msgtk-json
 * @title: JSON
 * @short_description: an inspected message as one JSON object
 *
 * The JSON view of a #MsgtkInspection: one object per message, as
 * msgparse(1) describes it under JSON SCHEMA (subject, addresses, date,
 * Message-ID, header fields, MIME tree, defects), with a "source" member
 * saying where the message came from.
 */
#pragma once

#include <msgtk/inspect.h>
#include <msgtk/source.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/**
 * msgtk_inspection_to_json:
 * @inspection: an inspection parsed with its message's own fields (not
 *   %MSGTK_INSPECT_STRUCTURE)
 *
 * The JSON object described in msgparse(1) ("JSON SCHEMA"); all its strings
 * are valid UTF-8.
 *
 * Returns: (transfer full): a node holding the object.
 */
JsonNode *msgtk_inspection_to_json (MsgtkInspection *inspection);

/**
 * msgtk_json_add_source:
 * @message: a JSON object of msgtk_inspection_to_json()
 * @item: the message's item
 *
 * Adds the "source" member: where the message came from (path, index,
 * offset, size, identity, folder), its flags and its internal date.
 */
void msgtk_json_add_source (JsonNode *message, const MsgtkItem *item);

G_END_DECLS
