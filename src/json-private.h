/* msgtk — library-private JSON builder helpers (json.c). */
#pragma once

#include <json-glib/json-glib.h>

/* Member @member: @value, or null when it is NULL. */
void json_string_or_null (JsonBuilder *b, const char *member, const char *value);

/* Member @member: @value, or null when it is 0 (not known). */
void json_int_or_null (JsonBuilder *b, const char *member, gint64 value);
