/* msgtk — an inspected message as one JSON object (msgparse(1), JSON SCHEMA). */
#pragma once

#include <msgtk/inspect.h>
#include <msgtk/source.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* The JSON object described in msgparse(1) ("JSON SCHEMA"). */
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
