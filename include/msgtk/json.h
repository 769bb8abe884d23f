/* msgtk — an inspected message as one JSON object (msgparse(1), JSON SCHEMA). */
#pragma once

#include <msgtk/inspect.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* The JSON object described in msgparse(1) ("JSON SCHEMA"). */
JsonNode *msgtk_inspection_to_json (MsgtkInspection *inspection);

G_END_DECLS
