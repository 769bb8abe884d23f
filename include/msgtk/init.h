/**
 * SECTION:msgtk-init
 * @title: Initialisation
 * @short_description: library initialisation and version
 *
 * msgtk_init() sets up libmsgtk and GMime (the library's functions call it
 * themselves); msgtk_version() says which libmsgtk is running.
 */
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
 * The version of the library that is running.
 *
 * Returns: the version of libmsgtk ("0.1.0"), a static string.
 */
const char *msgtk_version (void);

/**
 * msgtk_interrupt:
 *
 * Asks the library to stop what it is writing: from then on sinks refuse
 * to write or commit (%MSGTK_ERROR_TEMP_FAIL, "interrupted"), so that the
 * caller aborts them and what they wrote goes (an mbox back to its length,
 * no temporary file, no numbered file). It only sets a flag: a program
 * calls it from its SIGINT, SIGTERM and SIGHUP handlers.
 */
void msgtk_interrupt (void);

/**
 * msgtk_interrupted:
 *
 * Whether msgtk_interrupt() was called.
 *
 * Returns: %TRUE once it was.
 */
gboolean msgtk_interrupted (void);

G_END_DECLS
