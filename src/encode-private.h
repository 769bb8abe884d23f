/* msgtk — the encoding of header values, for the drafts. */
#pragma once

#include <msgtk/encode.h>

#include <gmime/gmime.h>

G_BEGIN_DECLS

/* A header value being written: its text so far, and the length of its
 * current line (the field name and colon included). */
typedef struct {
  GString *out;
  gsize line; /* length of the current line */
} Folder;

/* Unstructured @text (UTF-8): ASCII words as they are, runs of words that
 * need it as encoded words in @charset (NULL: the smallest that holds them). */
void encode_unstructured (Folder *f, const char *text, const char *charset);

/* @list with its display names encoded as @charset (or the smallest). */
void encode_address_list (Folder *f, InternetAddressList *list, const char *charset);

/* Replace GMime's rendering of field @name of @obj with ours. */
void encode_set_raw_text (GMimeObject *obj, const char *name, const char *value,
                          const char *charset);
void encode_set_raw_addresses (GMimeObject *obj, const char *name, InternetAddressList *list,
                               const char *charset);

/* A value for field @field: one line (no CR or LF, which would inject
 * fields), valid UTF-8, no other control character than TAB (terminals obey
 * ESC and BEL); MSGTK_ERROR_DATA naming @field otherwise. */
gboolean encode_check_value (const char *field, const char *value, GError **error);

/* A charset iconv can write to. */
gboolean encode_check_charset (const char *charset, GError **error);

/* @text (UTF-8) in @charset; MSGTK_ERROR_DATA naming @what when @charset
 * cannot hold it. */
char *encode_to_charset (const char *what, const char *text, gssize len, const char *charset,
                         gsize *out_len, GError **error);

G_END_DECLS
