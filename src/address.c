/* msgtk — address list helpers. */
#include "address-private.h"

#include "gmime-autoptr-private.h"

InternetAddressMailbox *
address_first_mailbox (InternetAddressList *list)
{
  if (list == NULL || internet_address_list_length (list) == 0)
    return NULL;
  InternetAddress *a = internet_address_list_get_address (list, 0);
  return INTERNET_ADDRESS_IS_MAILBOX (a) ? INTERNET_ADDRESS_MAILBOX (a) : NULL;
}

const char *
address_first_addr (InternetAddressList *list)
{
  InternetAddressMailbox *m = address_first_mailbox (list);
  return m != NULL ? internet_address_mailbox_get_addr (m) : NULL;
}

char *
address_first_in_value (const char *value)
{
  if (value == NULL)
    return NULL;
  g_autoptr (InternetAddressList) list = internet_address_list_parse (NULL, value);
  return g_strdup (address_first_addr (list));
}

void
address_foreach_mailbox (InternetAddressList *list, AddressFunc func, gpointer data)
{
  int n = list != NULL ? internet_address_list_length (list) : 0;
  for (int i = 0; i < n; i++) {
    InternetAddress *a = internet_address_list_get_address (list, i);
    if (INTERNET_ADDRESS_IS_GROUP (a))
      address_foreach_mailbox (internet_address_group_get_members (INTERNET_ADDRESS_GROUP (a)),
                               func, data);
    else
      func (INTERNET_ADDRESS_MAILBOX (a), data);
  }
}
