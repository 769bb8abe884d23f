/* The baseline for tests/bench/parse: a bare, single-threaded GMime loop over
 * an mbox that parses every message and decodes every leaf part (transfer
 * encoding undone) into a null stream. Prints the message and part counts.
 *
 *     gmime-loop MBOX */
#include <fcntl.h>
#include <gmime/gmime.h>
#include <stdio.h>
#include <unistd.h>

static void
decode_part (GMimeObject *parent, GMimeObject *part, gpointer user_data)
{
  (void)parent;
  guint64 *parts = user_data;
  if (GMIME_IS_MESSAGE_PART (part)) {
    GMimeMessage *inner = g_mime_message_part_get_message (GMIME_MESSAGE_PART (part));
    if (inner != NULL)
      g_mime_message_foreach (inner, decode_part, parts);
    return;
  }
  if (!GMIME_IS_PART (part))
    return;
  GMimeDataWrapper *content = g_mime_part_get_content (GMIME_PART (part));
  if (content != NULL) {
    GMimeStream *null = g_mime_stream_null_new ();
    g_mime_data_wrapper_write_to_stream (content, null);
    g_object_unref (null);
  }
  (*parts)++;
}

int
main (int argc, char **argv)
{
  if (argc != 2) {
    fprintf (stderr, "usage: gmime-loop MBOX\n");
    return 2;
  }
  int fd = open (argv[1], O_RDONLY);
  if (fd < 0) {
    perror (argv[1]);
    return 1;
  }
  g_mime_init ();
  GMimeStream *stream = g_mime_stream_fs_new (fd);
  GMimeParser *parser = g_mime_parser_new_with_stream (stream);
  g_mime_parser_set_format (parser, GMIME_FORMAT_MBOX);
  guint64 messages = 0, parts = 0;
  while (!g_mime_parser_eos (parser)) {
    GMimeMessage *message = g_mime_parser_construct_message (parser, NULL);
    if (message == NULL)
      break;
    g_mime_message_foreach (message, decode_part, &parts);
    messages++;
    g_object_unref (message);
  }
  g_object_unref (parser);
  g_object_unref (stream);
  printf ("%" G_GUINT64_FORMAT " messages, %" G_GUINT64_FORMAT " parts\n", messages, parts);
  g_mime_shutdown ();
  return 0;
}
