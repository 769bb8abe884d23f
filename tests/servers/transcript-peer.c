/* transcript-peer FILE: the scripted server of tests/unit/transcript.c as a
 * program, for clients that are programs themselves (the integration tests'
 * tools; tests/servers/transcriptpeer.py runs it). It listens on 127.0.0.1
 * on a free port and prints two lines on standard output: the port, and the
 * certificate file a client must trust for the transcript's TLS. Then it
 * plays FILE (tests/data/transcripts/README.md) to the connections the
 * client makes, one after another. Its caller says the client is done by
 * closing standard input (or with SIGTERM); it exits 0 if the client
 * followed the transcript, 1 with the departure (line, expected, got) on
 * standard error, 2 if FILE cannot be played. It never waits for more than
 * --timeout seconds, and removes the files it made. */
#include "transcript.h"

#include <glib-unix.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static gboolean
quit (gpointer loop)
{
  g_main_loop_quit (loop);
  return G_SOURCE_REMOVE;
}

/* Standard input: anything but its end is ignored. */
static gboolean
input (int fd, GIOCondition condition, gpointer loop)
{
  char buf[256];
  ssize_t n = read (fd, buf, sizeof buf);
  if (n > 0)
    return G_SOURCE_CONTINUE;
  return quit (loop);
}

static gboolean timed_out;

static gboolean
time_up (gpointer loop)
{
  timed_out = TRUE;
  return quit (loop);
}

int
main (int argc, char **argv)
{
  int timeout = 60;
  GOptionEntry entries[] = {
    { "timeout", 0, 0, G_OPTION_ARG_INT, &timeout,
      "seconds to wait for the caller to say the client is done (default 60)", "SECONDS" },
    G_OPTION_ENTRY_NULL,
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("FILE");
  g_option_context_set_summary (ctx, "Play a protocol transcript to a client, on 127.0.0.1.");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_autoptr (GError) error = NULL;
  if (!g_option_context_parse (ctx, &argc, &argv, &error) || argc != 2 || timeout <= 0) {
    fprintf (stderr, "transcript-peer: %s\n",
             error ? error->message : "usage: transcript-peer [--timeout SECONDS] FILE");
    return 2;
  }
  signal (SIGPIPE, SIG_IGN); /* a client that has gone is a departure, not an end */
  g_autoptr (Transcript) t = transcript_load (argv[1], &error);
  if (t == NULL || !transcript_check_server_only (t, &error)) {
    fprintf (stderr, "transcript-peer: %s\n", error->message);
    return 2;
  }
  TranscriptPeer *peer = transcript_peer_new (t, &error);
  if (peer == NULL) {
    fprintf (stderr, "transcript-peer: cannot listen on 127.0.0.1: %s\n", error->message);
    return 2;
  }
  printf ("%u\n%s\n", transcript_peer_get_port (peer), transcript_peer_get_cafile (peer));
  fflush (stdout);
  g_autoptr (GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_unix_fd_add (STDIN_FILENO, G_IO_IN | G_IO_HUP | G_IO_ERR, input, loop);
  g_unix_signal_add (SIGTERM, quit, loop);
  g_unix_signal_add (SIGINT, quit, loop);
  g_unix_signal_add (SIGHUP, quit, loop);
  g_timeout_add_seconds ((guint)timeout, time_up, loop);
  g_main_loop_run (loop);
  gboolean followed = transcript_peer_finish (peer, &error);
  if (timed_out)
    fprintf (stderr, "transcript-peer: %s: not told within %d s that the client is done\n", argv[1],
             timeout);
  if (!followed)
    fprintf (stderr, "%s\n", error->message);
  return followed && !timed_out ? 0 : 1;
}
