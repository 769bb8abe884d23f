/* msgtk — address list helpers. */
#include <msgtk/error.h>

#include "address-private.h"
#include "gmime-autoptr-private.h"

#include <string.h>

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

/* ---- strict parsing, for drafts ---- */

gboolean
address_is_atext (unsigned char c)
{
  return g_ascii_isalnum (c) || c >= 0x80 || strchr ("!#$%&'*+-/=?^_`{|}~", c);
}

/* NULL when @addr is a valid addr-spec, else why not. */
static const char *
addr_spec_problem (const char *addr)
{
  const char *at = strrchr (addr, '@');
  if (!at)
    return "missing '@domain'";
  if (at == addr)
    return "empty local part before '@'";
  if (at[1] == '\0')
    return "missing domain after '@'";
  if (addr[0] == '"') {
    if (at - addr < 2 || at[-1] != '"')
      return "unterminated quoted local part";
  } else {
    gboolean dot = TRUE;
    for (const char *p = addr; p < at; p++) {
      if (*p == '.') {
        if (dot)
          return "empty atom in local part ('..' or a leading dot)";
        dot = TRUE;
      } else if (address_is_atext ((unsigned char)*p)) {
        dot = FALSE;
      } else {
        return "character not allowed in local part";
      }
    }
    if (dot)
      return "local part ends with a dot";
  }
  const char *dom = at + 1;
  if (dom[0] == '[')
    return dom[strlen (dom) - 1] == ']' ? NULL : "unterminated domain literal";
  gboolean dot = TRUE;
  for (const char *p = dom; *p; p++) {
    unsigned char c = (unsigned char)*p;
    if (c == '.') {
      if (dot)
        return "empty label in domain";
      dot = TRUE;
    } else if (g_ascii_isalnum (c) || c == '-' || c >= 0x80) {
      dot = FALSE;
    } else {
      return "character not allowed in domain";
    }
  }
  if (dot)
    return "domain ends with a dot";
  return NULL;
}

static gboolean
check_list (const char *field, const char *value, InternetAddressList *list, int *index,
            const char *charset, GError **error)
{
  for (int i = 0; i < internet_address_list_length (list); i++) {
    InternetAddress *a = internet_address_list_get_address (list, i);
    if (charset)
      internet_address_set_charset (a, charset);
    if (INTERNET_ADDRESS_IS_GROUP (a)) {
      if (!check_list (field, value,
                       internet_address_group_get_members (INTERNET_ADDRESS_GROUP (a)), index,
                       charset, error))
        return FALSE;
      continue;
    }
    ++*index;
    const char *addr = internet_address_mailbox_get_addr (INTERNET_ADDRESS_MAILBOX (a));
    const char *why = addr_spec_problem (addr ? addr : "");
    if (why) {
      g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_DATA,
                   "%s: address %d '%s' in '%s' is invalid: %s", field, *index, addr ? addr : "",
                   value, why);
      return FALSE;
    }
  }
  return TRUE;
}

/* Parse @value (one or more addresses) strictly and append it to @out. */
gboolean
address_parse_strict (const char *field, const char *value, const char *charset,
                      InternetAddressList *out, GError **error)
{
  g_autoptr (GMimeParserOptions) po = g_mime_parser_options_new ();
  g_mime_parser_options_set_address_compliance_mode (po, GMIME_RFC_COMPLIANCE_STRICT);
  g_autoptr (InternetAddressList) list = internet_address_list_parse (po, value);
  int index = 0;
  if (!list || internet_address_list_length (list) == 0) {
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_DATA,
                 "%s: no valid address in '%s'; write 'Name <user@example.org>' or "
                 "'user@example.org'",
                 field, value);
    return FALSE;
  }
  /* The parser skips what it cannot read: count the items the user wrote. */
  int commas = 0;
  gboolean quoted = FALSE, empty = TRUE;
  int angle = 0, groups = 0;
  for (const char *p = value; *p; p++) {
    if (*p == '\\' && quoted && p[1]) {
      p++;
      continue;
    }
    if (*p == '"')
      quoted = !quoted;
    else if (!quoted && *p == '<')
      angle++;
    else if (!quoted && *p == '>')
      angle--;
    else if (!quoted && *p == ':')
      groups++;
    else if (!quoted && !angle && *p == ',' && !groups)
      commas++;
    if (!g_ascii_isspace (*p))
      empty = FALSE;
  }
  if (!check_list (field, value, list, &index, charset, error))
    return FALSE;
  if (!empty && !groups && index != commas + 1) {
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_DATA,
                 "%s: could read only %d of the %d addresses in '%s'; check the syntax near "
                 "address %d",
                 field, index, commas + 1, value, index + 1);
    return FALSE;
  }
  internet_address_list_append (out, list);
  return TRUE;
}
