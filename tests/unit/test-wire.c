/* Unit tests of the one wire encoder (src/wire.c): SMTP DATA and BDAT, IMAP
 * literals, in one go and in pieces, with the sizes and digests that go with
 * the encoded bytes. */
#include "wire-private.h"

#include <string.h>

static const struct {
  const char *in;
  WireFlags flags;
  const char *out;
} cases[] = {
  /* SMTP DATA: dot-stuffed, a final line end added */
  { "", WIRE_DOT_STUFF | WIRE_FINAL_CRLF, "" },
  { "a", WIRE_DOT_STUFF | WIRE_FINAL_CRLF, "a\r\n" },
  { "a\n", WIRE_DOT_STUFF | WIRE_FINAL_CRLF, "a\r\n" },
  { "a\r\n", WIRE_DOT_STUFF | WIRE_FINAL_CRLF, "a\r\n" },
  { "\n\n", WIRE_DOT_STUFF | WIRE_FINAL_CRLF, "\r\n\r\n" },
  { ".\n", WIRE_DOT_STUFF | WIRE_FINAL_CRLF, "..\r\n" },
  { ".", WIRE_DOT_STUFF | WIRE_FINAL_CRLF, "..\r\n" },
  { "x\n.y\r\n..z\n", WIRE_DOT_STUFF | WIRE_FINAL_CRLF, "x\r\n..y\r\n...z\r\n" },
  { "a.b\n .c\n", WIRE_DOT_STUFF | WIRE_FINAL_CRLF, "a.b\r\n .c\r\n" },
  { "lone\rcr\n", WIRE_DOT_STUFF | WIRE_FINAL_CRLF, "lone\rcr\r\n" },
  { "cr at end\r", WIRE_DOT_STUFF | WIRE_FINAL_CRLF, "cr at end\r\r\n" },
  { "two\r\r\n", WIRE_DOT_STUFF | WIRE_FINAL_CRLF, "two\r\r\n" },
  { "\r\n.\r\n", WIRE_DOT_STUFF | WIRE_FINAL_CRLF, "\r\n..\r\n" },
  /* SMTP BDAT: no stuffing */
  { "a\nb", WIRE_FINAL_CRLF, "a\r\nb\r\n" },
  { ".\n", WIRE_FINAL_CRLF, ".\r\n" },
  /* IMAP literal: bare LF only, nothing added */
  { "a\nb\r\nc\rd\n\n", WIRE_CRLF, "a\r\nb\r\nc\rd\r\n\r\n" },
  { "no end", WIRE_CRLF, "no end" },
  { "\n", WIRE_CRLF, "\r\n" },
};

static void
test_cases (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    gsize len = strlen (cases[i].in), want = strlen (cases[i].out);
    g_autoptr (GByteArray) out = g_byte_array_new ();
    g_byte_array_append (out, (const guint8 *)"P", 1); /* appends after what is there */
    gsize n = wire_encode_all (cases[i].in, len, cases[i].flags, out);
    g_assert_cmpuint (n, ==, want);
    g_assert_cmpuint (out->len, ==, n + 1);
    g_assert_cmpmem (out->data + 1, n, cases[i].out, want);
    /* the size announced: the encoded size, dot-stuffing not counted */
    guint64 dots = 0;
    for (gsize k = 0; k < want; k++)
      if (cases[i].out[k] == '.' && (k == 0 || cases[i].out[k - 1] == '\n')
          && (cases[i].flags & WIRE_DOT_STUFF))
        dots++;
    g_assert_cmpuint (wire_size (cases[i].in, len, cases[i].flags), ==, want - dots);
  }
}

/* Any split of the data into pieces gives the bytes of one go. */
static void
test_pieces (void)
{
  GRand *rand = g_rand_new_with_seed (7);
  g_autoptr (GString) in = g_string_new (NULL);
  for (int i = 0; i < 3000; i++) {
    static const char *const bits[]
        = { "\n", "\r\n", "\r", ".", "..", "x", "From ", "\xc3\xa9", "\0" };
    const char *b = bits[g_rand_int_range (rand, 0, G_N_ELEMENTS (bits))];
    g_string_append_len (in, b, *b ? (gssize)strlen (b) : 1);
  }
  const WireFlags all[] = { WIRE_CRLF, WIRE_FINAL_CRLF, WIRE_DOT_STUFF | WIRE_FINAL_CRLF };
  for (guint f = 0; f < G_N_ELEMENTS (all); f++) {
    g_autoptr (GByteArray) whole = g_byte_array_new ();
    wire_encode_all (in->str, in->len, all[f], whole);
    for (int round = 0; round < 50; round++) {
      g_autoptr (GByteArray) out = g_byte_array_new ();
      WireEncoder w;
      wire_encoder_init (&w, all[f]);
      for (gsize off = 0; off < in->len;) {
        gsize r = (gsize)g_rand_int_range (rand, 1, 9), n = MIN (r, in->len - off);
        wire_encode (&w, in->str + off, n, out);
        off += n;
      }
      wire_encode_finish (&w, out);
      g_assert_cmpmem (out->data, out->len, whole->data, whole->len);
    }
    /* the digest is that of the encoded bytes */
    g_autofree char *want
        = g_compute_checksum_for_data (G_CHECKSUM_SHA256, whole->data, whole->len);
    g_autofree char *got = wire_sha256 (in->str, in->len, all[f]);
    g_assert_cmpstr (got, ==, want);
  }
  g_rand_free (rand);
}

/* A longer text with 8-bit bytes and NULs passes through unchanged but for
 * line ends and dots. */
static void
test_long (void)
{
  g_autoptr (GByteArray) big = g_byte_array_new ();
  g_autoptr (GString) expect = g_string_new (NULL);
  g_autoptr (GString) in = g_string_new (NULL);
  for (int i = 0; i < 5000; i++) {
    g_string_append_printf (in, "%sline %d \xc3\xa9%c\n", i % 7 ? "" : ".", i, 0);
    g_string_append_printf (expect, "%sline %d \xc3\xa9%c\r\n", i % 7 ? "" : "..", i, 0);
  }
  wire_encode_all (in->str, in->len, WIRE_DOT_STUFF | WIRE_FINAL_CRLF, big);
  g_assert_cmpmem (big->data, big->len, expect->str, expect->len);
  g_autofree char *empty = wire_sha256 ("", 0, WIRE_CRLF);
  g_assert_cmpstr (empty, ==, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/wire/cases", test_cases);
  g_test_add_func ("/wire/pieces", test_pieces);
  g_test_add_func ("/wire/long", test_long);
  return g_test_run ();
}
