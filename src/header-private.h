/* msgtk — the one reader of raw header blocks (private to the library).
 *
 * Every piece of the library that looks at a message's header fields
 * without parsing it with GMime goes through this iterator, so that they all
 * agree on what a field is, and agree with GMime's parser: a field is
 * "Name:" (blanks allowed before the colon, as GMime allows them) followed by
 * its value and continuation lines (lines that start with a space or a tab);
 * a line that is neither ends nothing (GMime skips it too) and is reported as
 * a field without a name; the block ends at the first empty line ("\n" or
 * "\r\n") or at the end of the data. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  const char *start; /* the field's first byte */
  const char *end;   /* one past its last line's newline (or the end of the block) */
  const char *name;  /* NULL for a line that is not a field (no colon, a bad name, a
                      * continuation of nothing) */
  gsize name_len;    /* trailing blanks excluded */
  const char *value; /* just after the colon */
  gsize value_len;   /* to the end of the field, its last newline excluded */
} HeaderField;

typedef struct {
  const char *p, *end; /* what is left of the block */
} HeaderIter;

/* Iterate over the header block at the start of @data (@len bytes: the
 * block, or the whole message; the iterator stops at the blank line). */
void header_iter_init (HeaderIter *iter, const char *data, gsize len);

/* The next field (or nameless line); FALSE at the end of the block. */
gboolean header_iter_next (HeaderIter *iter, HeaderField *field);

/* Whether @field is named @name (ASCII case-insensitive). */
gboolean header_field_is (const HeaderField *field, const char *name);

/* The value unfolded (line breaks removed) and trimmed, as GMime's decoded
 * value before any RFC 2047 decoding; newly allocated. */
char *header_field_unfold (const HeaderField *field);

/* The unfolded value of the first field named @name in the header block at
 * the start of @data, or NULL. */
char *header_find (const char *data, gsize len, const char *name);

/* The length of the header block at the start of @data, its blank line
 * included; @len when there is no blank line. */
gsize header_block_length (const char *data, gsize len);

/* The same for data that arrives in pieces: look at @data[@*scanned..@len)
 * (@*scanned starts at 0 and is moved on); returns the block's length once
 * its blank line is in @data, else 0. */
gsize header_block_end (const char *data, gsize len, gsize *scanned);

/* @data (a whole message, its parts' header blocks anywhere in it) with
 * every Content-Type and Content-Disposition field of more than @max
 * parameters cut after the @max-th, as a copy; NULL when none has that
 * many. *@most gets the most parameters a field had. GMime's parser takes
 * time quadratic in a field's parameters. */
GByteArray *header_cap_parameters (const char *data, gsize len, guint max, guint *most);

/* @data with every field of its header block longer than @max bytes cut to
 * @max (then its line end), as a copy; NULL when none is that long.
 * *@longest gets the longest field's length. GMime's parser and the views
 * take many times a field's size in memory. */
GByteArray *header_cap_fields (const char *data, gsize len, gsize max, gsize *longest);

G_END_DECLS
