/* What the fuzz targets share: GSlice off (leaks show), an account, a
 * connection whose server side is the fuzz input, and a look at what the
 * client said (FUZZ_VERBOSE=1, for writing seeds). */
#pragma once

#include <gio/gio.h>
#include <msgtk/msgtk.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);
int LLVMFuzzerInitialize (int *argc, char ***argv);

/* GSlice's own allocator keeps the blocks it hands out (GError, GString,
 * GList...) reachable, which hides their leaks from LeakSanitizer; with
 * plain malloc they show. GLib reads G_SLICE once, before this runs: the
 * target starts again with it set. */
int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  (void)argc;
  if (g_strcmp0 (g_getenv ("G_SLICE"), "always-malloc") != 0) {
    g_setenv ("G_SLICE", "always-malloc", TRUE);
    execv ("/proc/self/exe", *argv);
  }
  return 0;
}

/* The account the protocol targets log in with: a user and an 8-bit
 * password (IMAP's LOGIN sends it as a literal), its own: never one from the
 * environment. */
static inline MsgtkAccount *
fuzz_account (void)
{
  msgtk_init ();
  g_unsetenv ("MSGTK_TOKEN");
  MsgtkAccount *account = msgtk_account_new ();
  account->user = g_strdup ("fuzz@example.org");
  account->password = g_strdup ("p\xc3\xa4ss \"w\"");
  account->netrc = FALSE;
  return account;
}

static gsize fuzz_shown; /* how much of the client's output fuzz_report showed */

/* A stream that reads @data (not copied: it must outlive the stream) and
 * keeps what is written to it (*@client, owned by the stream). */
static inline GIOStream *
fuzz_server_stream (const guint8 *data, size_t size, GMemoryOutputStream **client)
{
  g_autoptr (GInputStream) in = g_memory_input_stream_new_from_data (data, (gssize)size, NULL);
  g_autoptr (GOutputStream) out = g_memory_output_stream_new_resizable ();
  *client = G_MEMORY_OUTPUT_STREAM (out);
  fuzz_shown = 0;
  return g_simple_io_stream_new (in, out);
}

/* With FUZZ_VERBOSE set: what the client wrote since the last report, and
 * how @what ended. */
static inline void
fuzz_report (GMemoryOutputStream *client, const char *what, const GError *error)
{
  static int verbose = -1;
  if (verbose < 0)
    verbose = g_getenv ("FUZZ_VERBOSE") != NULL;
  if (!verbose)
    return;
  gsize n = client != NULL ? g_memory_output_stream_get_data_size (client) : 0;
  const char *p = n > fuzz_shown ? (const char *)g_memory_output_stream_get_data (client) : NULL;
  const char *end = p != NULL ? p + n : NULL;
  for (const char *line = p != NULL ? p + fuzz_shown : NULL; line < end;) {
    const char *nl = memchr (line, '\n', (gsize)(end - line));
    int len = (int)((nl ? nl : end) - line);
    fprintf (stderr, "C: %.*s%s\n", MIN (len, 100), line, len > 100 ? "..." : "");
    line = nl ? nl + 1 : end;
  }
  fuzz_shown = n;
  if (what != NULL)
    fprintf (stderr, "== %s: %s\n", what, error ? error->message : "ok");
}
