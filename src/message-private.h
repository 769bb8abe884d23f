/* msgtk — internals of the message module shared with the sinks. */
#pragma once

#include <msgtk/message.h>

G_BEGIN_DECLS

/* Read @input until its header block is complete, at most 1 MiB: the bytes
 * read (some of the body, perhaps), to be written before the rest of
 * @input. */
GBytes *message_read_head (GInputStream *input, GError **error);

/* The address of the Return-Path field in @head as an mbox From_ line can
 * hold it; NULL for none, the null path "<>" or anything odd. */
char *message_return_path (GBytes *head);

/* The envelope sender of a message object: the first mailbox of Sender,
 * else of From; borrowed from @message, or NULL. */
const char *message_object_sender (GMimeMessage *message);

G_END_DECLS
