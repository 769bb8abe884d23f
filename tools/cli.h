/* msgtk tools — shared command-line glue (not part of libmsgtk). */
#pragma once

#include <msgtk/msgtk.h>

G_BEGIN_DECLS

/* Print "PROG: MESSAGE" for @error on stderr and return its sysexits code. */
int cli_report_error (const char *prog, const GError *error);

/* Parse argv with @context; on failure print the error and a hint to use
 * --help, and return FALSE (the caller exits with EX_USAGE). */
gboolean cli_parse (GOptionContext *context, const char *prog, int *argc, char ***argv);

G_END_DECLS
