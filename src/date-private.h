/* msgtk — the one formatter (and month table) of dates in the forms mail
 * uses beside RFC 5322's, which GMime writes (private to the library). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* "dd-Mon-yyyy hh:mm:ss +zzzz": an IMAP date-time (RFC 3501), without the
 * quotes, in @date's own time zone. */
char *date_format_imap (GDateTime *date);

/* "Www Mmm dd hh:mm:ss yyyy": asctime(3)'s form, as an mbox From_ line holds
 * it, in UTC and in English whatever the locale. */
char *date_format_asctime (GDateTime *date);

/* 1-12 for an English month abbreviation ("Jan", any case) of @len bytes;
 * 0 for anything else. */
int date_month_from_name (const char *name, gsize len);

G_END_DECLS
