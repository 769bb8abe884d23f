/* msgtk — extraction in two steps, for runs over many messages: the names
 * and contents worked out on any thread, the files created in the order of
 * the messages, so that "name (1).pdf" goes to the same attachment however
 * the threads run. */
#pragma once

#include <msgtk/extract.h>

G_BEGIN_DECLS

typedef struct _ExtractPlan ExtractPlan;

/* The attachments of @in: their safe names and decoded contents. */
ExtractPlan *extract_plan (MsgtkInspection *in, gboolean to_utf8, GError **error);

/* Write them into @dir under unique names; the paths written (NULL-terminated). */
char **extract_write (ExtractPlan *plan, const char *dir, GError **error);

void extract_plan_free (ExtractPlan *plan);

G_END_DECLS
