/* msgtk tools — shared command-line glue (not part of libmsgtk). */
#include "cli.h"

#include <stdio.h>

int
cli_report_error (const char *prog, const GError *error)
{
  int code = msgtk_error_exit_code (error);
  fprintf (stderr, "%s: %s\n", prog, error ? error->message : "unknown error");
  return code;
}

gboolean
cli_parse (GOptionContext *context, const char *prog, int *argc, char ***argv)
{
  g_autoptr (GError) error = NULL;
  if (!g_option_context_parse (context, argc, argv, &error)) {
    fprintf (stderr, "%s: %s\n%s: try '%s --help'\n", prog, error->message, prog, prog);
    return FALSE;
  }
  return TRUE;
}
