/* msgtk — lint: the parser's findings and the RFC 5322/2045/2047/2231 checks,
 * under stable codes. */
#pragma once

#include <msgtk/inspect.h>

G_BEGIN_DECLS

/* Lint: the defects plus RFC 5322/2045/2047/2231 checks; MsgtkFinding array
 * (owned by the caller). */
GPtrArray *msgtk_inspection_check (MsgtkInspection *inspection);

G_END_DECLS
