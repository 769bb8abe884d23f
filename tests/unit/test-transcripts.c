/* Every protocol transcript in tests/data/transcripts (see its README.md),
 * one test case each: the scripted server plays the file's S: lines, the
 * client does the file's run: steps, and the client's lines must be the
 * file's C: lines, in order. First, the harness itself: a client that
 * departs from a transcript in any way is caught. */
#include "transcript.h"

#include <string.h>

static void
run_transcript (gconstpointer data)
{
  const char *path = data;
  g_autoptr (GError) error = NULL;
  g_autoptr (Transcript) t = transcript_load (path, &error);
  g_assert_no_error (error);
  transcript_run (t, &error);
  g_assert_no_error (error);
}

/* ---- the harness catches departures ---- */

/* Play @transcript against a raw client that makes a connection for each
 * of @sends (NULL-terminated), one after another: it reads what the server
 * says first, if anything, writes the connection's string and closes. Returns the
 * harness's complaint (NULL: none). */
static char *
departures (const char *transcript, const char *const *sends)
{
  TranscriptPeer *peer = transcript_start_text ("harness", transcript);
  for (guint i = 0; sends[i] != NULL; i++) {
    g_autoptr (GIOStream) io = transcript_peer_connect (peer);
    char buf[256];
    /* (a server that says nothing first is not waited for long) */
    GSocket *sock = g_socket_connection_get_socket (G_SOCKET_CONNECTION (io));
    if (g_socket_condition_timed_wait (sock, G_IO_IN, 200 * 1000, NULL, NULL))
      g_input_stream_read (g_io_stream_get_input_stream (io), buf, sizeof buf, NULL, NULL);
    g_output_stream_write_all (g_io_stream_get_output_stream (io), sends[i], strlen (sends[i]),
                               NULL, NULL, NULL);
    g_io_stream_close (io, NULL, NULL);
  }
  g_autoptr (GError) error = NULL;
  transcript_peer_finish (peer, &error);
  return error ? g_strdup (error->message) : NULL;
}

/* departures() with one connection. */
static char *
departure (const char *transcript, const char *sends)
{
  const char *const one[] = { sends, NULL };
  return departures (transcript, one);
}

static void
check_complaint (guint i, const char *complaint, const char *want)
{
  if (want == NULL && complaint != NULL)
    g_error ("case %u: the harness said '%s'", i, complaint);
  if (want != NULL && (complaint == NULL || strstr (complaint, want) == NULL))
    g_error ("case %u: want '%s', the harness said '%s'", i, want,
             complaint ? complaint : "nothing");
}

#define LONG75 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
#define LONG LONG75 LONG75 /* 150 bytes */

static void
test_departures (void)
{
  static const struct {
    const char *transcript, *sends, *complaint;
  } cases[] = {
    { "S: 220 hi\nC: A\nS: 250 ok\n", "A\r\n", NULL },
    { "S: 220 hi\nC: A\n", "B\r\n",
      "harness:2: the transcript expects C: 'A', the client sent 'B'" },
    /* order: B came before the server's 250 that the transcript puts before it */
    { "S: 220 hi\nC: A\nS: 250 ok\nC: B\n", "A\r\nB\r\n",
      "harness:3: the client sent 'B\\r\\n' before the server's '250 ok'" },
    { "S: 220 hi\nC: A\n", "A\r\nB\r\n",
      "after the end of the transcript, the client sent 'B\\r\\n'" },
    { "S: 220 hi\nC: A\nC: B\n", "A\r\n",
      "harness:3: the transcript expects C: 'B'; the client closed" },
    { "S: 220 hi\nC: A\n", "A\n", "client closed the connection after 'A\\n' (no CRLF)" },
    { "S: 220 hi\nC: A <*>\n", "A anything at all\r\n", NULL },
    { "S: 220 hi\nC: A <*>.\n", "A anything\r\n", "expects C: 'A <*>.'" },
    /* the reference SASL server must take what stands for <sasl> */
    { "sasl-server: SCRAM-SHA-256\nuser: u\npassword: p\nS: 220 hi\nC: AUTH <sasl>\n",
      "AUTH biwsbj11LHI9bm9uY2U=\r\n", NULL },
    { "sasl-server: SCRAM-SHA-256\nuser: u\npassword: p\nS: 220 hi\nC: AUTH <sasl>\n",
      "AUTH AAAA\r\n", "the reference SASL server refused the client's message" },
    { "sasl-server: SCRAM-SHA-256\nuser: u\npassword: p\nS: 220 hi\nC: AUTH <sasl>\n",
      "AUTH not*base64\r\n", "expects C: 'AUTH <sasl>'" },
    /* a long line is shown from a little before where it differs */
    { "S: 220 hi\nC: " LONG "A\n", LONG "B\r\n",
      "expects C: '...xxxxxxxxxxxxxxxxxxxxA', the client sent '...xxxxxxxxxxxxxxxxxxxxB' "
      "(from byte 130 on, where they differ)" },
    /* a connection the transcript does not have */
    { "", "", "the client opened connection 1; the transcript has 0" },
    /* after -- COMPRESS --, plaintext where deflate must come */
    { "S: * OK\n-- COMPRESS --\nC: A LOGOUT\n", "A LOGOUT\r\n",
      "harness:3: the transcript expects C: 'A LOGOUT'; the client sent nothing (Invalid "
      "compressed data)" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autofree char *complaint = departure (cases[i].transcript, cases[i].sends);
    check_complaint (i, complaint, cases[i].complaint);
  }
}

/* -- connection --: the client's connections, one after another, in order. */
static void
test_connections (void)
{
#define TWO "S: 220 one\nC: A\nS: 250 ok\n-- close --\n-- connection --\nS: 220 two\nC: B\n"
  static const struct {
    const char *transcript;
    const char *sends[4];
    const char *complaint;
  } cases[] = {
    { TWO, { "A\r\n", "B\r\n" }, NULL },
    { "-- connection --\n" TWO, { "A\r\n", "B\r\n" }, NULL },
    /* a connection where the server says nothing, then one that greets */
    { "-- connection --\n-- connection --\nS: 220 hi\n", { "", "" }, NULL },
    { TWO, { "A\r\n", "A\r\n" }, "harness:7: the transcript expects C: 'B', the client sent 'A'" },
    { TWO, { "A\r\n" }, "the client never opened connection 2 of the transcript's 2" },
    { TWO, { "A\r\n", "B\r\n", "" }, "the client opened connection 3; the transcript has 2" },
    { "S: 220 one\n", { "", "" }, "the client opened connection 2; the transcript has 1" },
    { TWO, { NULL }, "the client never connected" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autofree char *complaint = departures (cases[i].transcript, cases[i].sends);
    check_complaint (i, complaint, cases[i].complaint);
  }
#undef TWO
}

/* What transcript-peer refuses: header fields for transcript_run's client. */
static void
test_server_only (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (Transcript) ok = transcript_parse (
      "ok", "protocol: imap\nsasl-server: PLAIN\nuser: u\npassword: p\nS: * OK\n", &error);
  g_assert_no_error (error);
  g_assert_true (transcript_check_server_only (ok, &error));
  g_autoptr (Transcript) steps
      = transcript_parse ("steps", "protocol: smtp\nrun: connect\n", &error);
  g_assert_no_error (error);
  g_assert_false (transcript_check_server_only (steps, &error));
  g_assert_nonnull (strstr (error->message, "steps:2: 'run' is for test-transcripts' own client"));
}

static void
test_format_errors (void)
{
  static const struct {
    const char *text, *says;
  } cases[] = {
    { "protcol: smtp\n", "unknown header field 'protcol'" },
    { "S: 220 hi\nprotocol: smtp\n", "neither a header field" },
    { "S: 220 hi\nC: hello\nX: what\n", "neither a header field" },
    { "S: <sasl:refused>\n", "<sasl:refused> cannot stand in S: lines" },
    { "C: <sasl:forged>\n", "<sasl:forged> cannot stand in C: lines" },
    { "sasl-server: PLAIN\nC: <sasl> <*>\n", "one placeholder a line" },
    { "C: AUTH PLAIN <sasl>\n", "need a reference server" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autoptr (GError) error = NULL;
    g_autoptr (Transcript) t = transcript_parse ("bad", cases[i].text, &error);
    g_assert_null (t);
    g_assert_nonnull (error);
    if (strstr (error->message, cases[i].says) == NULL)
      g_error ("case %u: want '%s', got '%s'", i, cases[i].says, error->message);
  }
}

static gint
compare (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *)a, *(const char *const *)b);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  /* only the transcript says what the credentials are */
  g_unsetenv ("MSGTK_PASSWORD");
  g_unsetenv ("MSGTK_TOKEN");
  g_unsetenv ("MSGTK_NETRC");
  g_test_add_func ("/transcripts/harness/departures", test_departures);
  g_test_add_func ("/transcripts/harness/connections", test_connections);
  g_test_add_func ("/transcripts/harness/format-errors", test_format_errors);
  g_test_add_func ("/transcripts/harness/server-only", test_server_only);
  g_autoptr (GError) error = NULL;
  g_autoptr (GDir) dir = g_dir_open (MSGTK_TRANSCRIPT_DIR, 0, &error);
  g_assert_no_error (error);
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  for (const char *n; (n = g_dir_read_name (dir)) != NULL;)
    if (g_str_has_suffix (n, ".txt"))
      g_ptr_array_add (names, g_strdup (n));
  g_ptr_array_sort (names, compare);
  g_assert_cmpuint (names->len, >, 0);
  for (guint i = 0; i < names->len; i++) {
    const char *n = names->pdata[i];
    g_autofree char *test = g_strdup_printf ("/transcripts/%.*s", (int)strlen (n) - 4, n);
    g_test_add_data_func_full (test, g_build_filename (MSGTK_TRANSCRIPT_DIR, n, NULL),
                               run_transcript, g_free);
  }
  return g_test_run ();
}
