/* msgtk — 16-byte vectors for scanning (private to the library): GCC and
 * clang vector extensions, SSE2 or NEON or plain code, whatever the target
 * has. */
#pragma once

#include <glib.h>

typedef guint8 Bytes16 __attribute__ ((vector_size (16)));
