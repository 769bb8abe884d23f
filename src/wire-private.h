/* msgtk — the one encoder of message data for the wire (private to the
 * library): line ends made CRLF as SMTP and IMAP require, a "." doubled at
 * the start of a line for SMTP DATA, and the sizes that go with it. Data may
 * come in pieces: the encoder remembers what it needs of the last one. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  WIRE_CRLF = 0,           /* a bare LF becomes CRLF; CRLF and a lone CR stay as they are */
  WIRE_DOT_STUFF = 1 << 0, /* SMTP DATA: "." at a line start doubled (RFC 5321 4.5.2) */
  WIRE_FINAL_CRLF = 1 << 1 /* SMTP: a line end added after data that does not end in one */
} WireFlags;

typedef struct {
  WireFlags flags;
  gboolean any; /* some data came */
  char last;    /* its last byte */
} WireEncoder;

void wire_encoder_init (WireEncoder *w, WireFlags flags);

/* Append @len bytes of @data, encoded, to @out; returns the bytes appended. */
gsize wire_encode (WireEncoder *w, const void *data, gsize len, GByteArray *out);

/* The end of the data: with WIRE_FINAL_CRLF, the line end it lacks. */
gsize wire_encode_finish (WireEncoder *w, GByteArray *out);

/* All of @data encoded in one go (wire_encode() and wire_encode_finish()). */
gsize wire_encode_all (const void *data, gsize len, WireFlags flags, GByteArray *out);

/* The size of @data on the wire with @flags, dot-stuffing not counted (what
 * RFC 1870 SIZE and an IMAP literal announce). */
guint64 wire_size (const void *data, gsize len, WireFlags flags);

/* The lower-case hex SHA-256 of @data as it goes on the wire with @flags. */
char *wire_sha256 (const void *data, gsize len, WireFlags flags);

G_END_DECLS
