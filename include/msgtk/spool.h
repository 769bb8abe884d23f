/**
 * SECTION:msgtk-spool
 * @title: Spool
 * @short_description: a queue of messages not sent yet, each with its
 *   envelope, for a later flush
 *
 * A spool directory is a maildir, DIR/new/NAME, plus DIR/env/NAME for each
 * message's envelope. A flush takes the lock (msgtk_spool_lock()), lists
 * the queue, reads each message and removes those it sent. Files are
 * private to the user and written atomically and durably.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/**
 * msgtk_spool_put:
 * @dir: the spool directory (created when missing)
 * @sender: the envelope sender ("" for the null sender)
 * @recipients: (element-type utf8): the envelope recipients
 * @message: the message
 * @reason: (nullable): why it is queued (recorded)
 * @name_out: (out) (optional) (transfer full): the name it is queued under
 * @error: return location for an error
 *
 * Queues @message with its envelope: the envelope first, so that a queued
 * message always has one.
 *
 * Returns: %FALSE with %MSGTK_ERROR_CANT_CREATE when it could not be kept.
 */
gboolean msgtk_spool_put (const char *dir, const char *sender, GPtrArray *recipients,
                          GBytes *message, const char *reason, char **name_out, GError **error);

/**
 * msgtk_spool_list:
 * @dir: the spool directory
 * @error: return location for an error
 *
 * Lists the messages in a spool.
 *
 * Returns: (transfer full) (element-type utf8): the names of the queued
 *   messages, oldest first; %NULL with %MSGTK_ERROR_NO_INPUT when @dir is no
 *   spool.
 */
GPtrArray *msgtk_spool_list (const char *dir, GError **error);

/**
 * msgtk_spool_get:
 * @dir: the spool directory
 * @name: a name from msgtk_spool_list()
 * @sender: (out) (transfer full): the envelope sender
 * @recipients: (element-type utf8): gets the envelope recipients
 * @message: (out) (transfer full): the message
 * @error: return location for an error
 *
 * Reads a queued message and its envelope.
 *
 * Returns: %FALSE with %MSGTK_ERROR_NO_INPUT when the entry cannot be read.
 */
gboolean msgtk_spool_get (const char *dir, const char *name, char **sender, GPtrArray *recipients,
                          GBytes **message, GError **error);

/**
 * msgtk_spool_lock:
 * @dir: the spool directory
 * @error: return location for an error
 *
 * Locks @dir against a concurrent flush.
 *
 * Returns: a descriptor to close() when done, or -1 with
 *   %MSGTK_ERROR_TEMP_FAIL when another process holds the lock.
 */
int msgtk_spool_lock (const char *dir, GError **error);

/**
 * msgtk_spool_remove:
 * @dir: the spool directory
 * @name: a queued message (sent now)
 * @error: return location for an error
 *
 * Removes a message (and its envelope) from the spool, once sent.
 *
 * Returns: %FALSE with %MSGTK_ERROR_IO when it could not be removed.
 */
gboolean msgtk_spool_remove (const char *dir, const char *name, GError **error);

G_END_DECLS
