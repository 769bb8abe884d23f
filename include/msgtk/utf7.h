/**
 * SECTION:msgtk-utf7
 * @title: Modified UTF-7
 * @short_description: IMAP mailbox names, and maildir++ folder names as
 *   Dovecot and Courier store them
 *
 * Modified UTF-7 (RFC 3501 5.1.3) is the form of IMAP mailbox names on the
 * wire unless UTF8=ACCEPT is enabled, and of the names of maildir++
 * folders.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/**
 * msgtk_utf7_encode:
 * @utf8: a name in UTF-8
 *
 * Encodes a mailbox name in modified UTF-7.
 *
 * Returns: (transfer full) (nullable): @utf8 in modified UTF-7, or %NULL
 *   when it is not valid UTF-8.
 */
char *msgtk_utf7_encode (const char *utf8);

/**
 * msgtk_utf7_decode:
 * @mutf7: a name in modified UTF-7
 *
 * Decodes a mailbox name from modified UTF-7.
 *
 * Returns: (transfer full) (nullable): the name in UTF-8, or %NULL when
 *   @mutf7 is not valid modified UTF-7.
 */
char *msgtk_utf7_decode (const char *mutf7);

G_END_DECLS
