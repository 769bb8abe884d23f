/* msgtk — library initialisation and version. */
#include <msgtk/init.h>

#include <gmime/gmime.h>
#include <signal.h>

void
msgtk_init (void)
{
  static gsize once;
  /* g_mime_init() is not safe to call from two threads at once */
  if (g_once_init_enter (&once)) {
    g_mime_init ();
    g_once_init_leave (&once, 1);
  }
}

const char *
msgtk_version (void)
{
  return MSGTK_VERSION;
}

static volatile sig_atomic_t interrupted;

void
msgtk_interrupt (void)
{
  interrupted = 1;
}

gboolean
msgtk_interrupted (void)
{
  return interrupted != 0;
}
