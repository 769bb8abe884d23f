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

/* The names given out in a directory, for a run: the next number to try for
 * each name, so that 20,000 attachments named alike take 20,000 tries, not
 * 200 million. */
typedef GHashTable ExtractNames;
ExtractNames *extract_names_new (void);
void extract_names_free (ExtractNames *names);

/* Write them into @dir under unique names (@names: those given out so
 * far); the paths written (NULL-terminated). On an error none of this
 * message's files stays (nor a file cut short under a real name). */
char **extract_write (ExtractPlan *plan, const char *dir, ExtractNames *names, GError **error);

void extract_plan_free (ExtractPlan *plan);

G_END_DECLS
