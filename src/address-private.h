/* msgtk — address list helpers (private to the library), over GMime's
 * InternetAddressList. */
#pragma once

#include <gmime/gmime.h>

G_BEGIN_DECLS

/* The first element of @list (nullable) when it is a mailbox; NULL when
 * the list is empty or starts with a group. */
InternetAddressMailbox *address_first_mailbox (InternetAddressList *list);

/* Its addr-spec ("user@example.org"), borrowed from @list; or NULL. */
const char *address_first_addr (InternetAddressList *list);

/* The addr-spec of the first mailbox of the raw header value @value,
 * newly allocated; NULL when there is none. */
char *address_first_in_value (const char *value);

typedef void (*AddressFunc) (InternetAddressMailbox *mailbox, gpointer data);

/* @func for every mailbox of @list, a group's members in its place. */
void address_foreach_mailbox (InternetAddressList *list, AddressFunc func, gpointer data);

/* Whether @c may stand in an atom (RFC 5322 atext; 8-bit for UTF-8). */
gboolean address_is_atext (unsigned char c);

/* Parse @value (one or more addresses) strictly and append it to @out:
 * MSGTK_ERROR_DATA naming @field and the address when one is invalid or
 * cannot be read; display names get @charset (nullable). */
gboolean address_parse_strict (const char *field, const char *value, const char *charset,
                               InternetAddressList *out, GError **error);

G_END_DECLS
