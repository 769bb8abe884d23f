/* msgtk — dates in IMAP's and asctime(3)'s forms. */
#include "date-private.h"

static const char *const months[]
    = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
static const char *const days[] = { "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun" };

char *
date_format_imap (GDateTime *date)
{
  GTimeSpan off = g_date_time_get_utc_offset (date) / G_TIME_SPAN_MINUTE;
  char sign = off < 0 ? '-' : '+';
  if (off < 0)
    off = -off;
  return g_strdup_printf ("%02d-%s-%04d %02d:%02d:%02d %c%02d%02d",
                          g_date_time_get_day_of_month (date),
                          months[g_date_time_get_month (date) - 1], g_date_time_get_year (date),
                          g_date_time_get_hour (date), g_date_time_get_minute (date),
                          g_date_time_get_second (date), sign, (int)(off / 60), (int)(off % 60));
}

char *
date_format_asctime (GDateTime *date)
{
  g_autoptr (GDateTime) utc = g_date_time_to_utc (date);
  return g_strdup_printf (
      "%s %s %2d %02d:%02d:%02d %d", days[g_date_time_get_day_of_week (utc) - 1],
      months[g_date_time_get_month (utc) - 1], g_date_time_get_day_of_month (utc),
      g_date_time_get_hour (utc), g_date_time_get_minute (utc), g_date_time_get_second (utc),
      g_date_time_get_year (utc));
}

int
date_month_from_name (const char *name, gsize len)
{
  if (len != 3)
    return 0;
  for (int m = 0; m < 12; m++)
    if (g_ascii_strncasecmp (name, months[m], 3) == 0)
      return m + 1;
  return 0;
}
