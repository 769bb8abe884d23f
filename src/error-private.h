/* msgtk — internal helpers of the error module. */
#pragma once

#include <msgtk/error.h>

G_BEGIN_DECLS

/* g_set_error() of an MSGTK_ERROR that also carries @hint. */
G_GNUC_PRINTF (4, 5)
void error_set_hint (GError **error, MsgtkErrorHint hint, MsgtkError code, const char *format, ...);

G_END_DECLS
