/* msgtk — library initialisation and version. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/**
 * msgtk_init:
 *
 * Initialises libmsgtk and the libraries it builds on (GMime). Every
 * function of the library that needs it calls it, so a program need not;
 * calling it first, from any thread and any number of times, is harmless.
 */
void msgtk_init (void);

/**
 * msgtk_version:
 *
 * Returns: the version of libmsgtk ("0.1.0"), a static string.
 */
const char *msgtk_version (void);

G_END_DECLS
