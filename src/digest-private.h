/* msgtk — SHA-256 digests as text (private to the library). */
#pragma once

#include <glib.h>
#include <nettle/sha2.h>

G_BEGIN_DECLS

/* The digest of @ctx as lower-case hex (newly allocated); @ctx is reset. */
static inline char *
digest_sha256_hex (struct sha256_ctx *ctx)
{
  guint8 digest[SHA256_DIGEST_SIZE];
  sha256_digest (ctx, sizeof digest, digest);
  char *hex = g_malloc (2 * sizeof digest + 1);
  for (guint i = 0; i < sizeof digest; i++) {
    hex[2 * i] = "0123456789abcdef"[digest[i] >> 4];
    hex[2 * i + 1] = "0123456789abcdef"[digest[i] & 15];
  }
  hex[2 * sizeof digest] = '\0';
  return hex;
}

G_END_DECLS
