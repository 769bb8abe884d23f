/* msgtk — header values written for the wire: RFC 2047 encoded words (the
 * smallest charset that holds the text, Q or B whichever is shorter, never
 * splitting a character) and folding at 78 columns, for unstructured text,
 * phrases and address lists. */
#include <msgtk/error.h>

#include "address-private.h"
#include "charset-private.h"
#include "encode-private.h"

#include <string.h>

gboolean
encode_check_value (const char *field, const char *value, GError **error)
{
  const char *end;
  if (strpbrk (value, "\r\n")) {
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_DATA,
                 "%s: value contains a line break (CR or LF), which would inject headers; "
                 "give it on one line",
                 field);
    return FALSE;
  }
  if (!g_utf8_validate (value, -1, &end)) {
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_DATA,
                 "%s: value is not valid UTF-8 at byte %ld; give header values as UTF-8", field,
                 (long)(end - value));
    return FALSE;
  }
  for (const char *p = value; *p != '\0'; p++)
    if ((*p > 0 && *p < 0x20 && *p != '\t') || *p == 0x7f) {
      /* ESC, BEL and the like: terminals obey them when the field is shown */
      g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_DATA,
                   "%s: value holds a control character (0x%02X) at byte %ld; leave it out", field,
                   (guint)*p, (long)(p - value));
      return FALSE;
    }
  return TRUE;
}

gboolean
encode_check_charset (const char *charset, GError **error)
{
  gboolean owned;
  iconv_t cd = charset_iconv (charset, "UTF-8", &owned);
  charset_iconv_release (cd, owned);
  if (cd == (iconv_t)-1) {
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_DATA,
                 "unknown charset '%s'; name one iconv knows (e.g. UTF-8, ISO-8859-1)", charset);
    return FALSE;
  }
  return TRUE;
}

/* @text (UTF-8) converted to @charset; error when it cannot hold the text. */
char *
encode_to_charset (const char *what, const char *text, gssize len, const char *charset,
                   gsize *out_len, GError **error)
{
  g_autoptr (GError) e = NULL;
  gsize read = 0;
  char *out = charset_convert (text, len, charset, "UTF-8", &read, out_len, &e);
  if (!out) {
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_DATA,
                 "%s cannot be written in charset '%s' (character at byte %lu); name another "
                 "charset or leave it out to get the smallest that fits",
                 what, charset, (unsigned long)read);
    return NULL;
  }
  return out;
}

/* ---- RFC 2047 header encoding and folding --------------------------------
 * GMime 3.2 writes encoded words over 75 characters, lines over 78 and some
 * that its own parser decodes wrongly (checked by tests/integration), so
 * msgtk encodes and folds header values itself and hands GMime raw values. */

#define MAX_LINE 78
#define MAX_WORD 75

static const char *const small_charsets[]
    = { "iso-8859-1", "iso-8859-15",  "iso-8859-2",   "iso-8859-5", "iso-8859-7",
        "koi8-r",     "windows-1251", "windows-1252", "iso-8859-6", "iso-8859-8" };

/* The charset to encode @text in: @named, or the smallest that holds it. */
static const char *
pick_charset (const char *text, const char *named)
{
  if (named)
    return named;
  if (g_str_is_ascii (text))
    return "us-ascii";
  for (guint i = 0; i < G_N_ELEMENTS (small_charsets); i++) {
    char *c = charset_convert (text, -1, small_charsets[i], "UTF-8", NULL, NULL, NULL);
    if (c) {
      g_free (c);
      return small_charsets[i];
    }
  }
  return "utf-8";
}

static void
fold_add (Folder *f, const char *token, gsize len, gboolean space)
{
  if (space) {
    if (f->line + 1 + len > MAX_LINE && f->line > 1) {
      g_string_append (f->out, "\n ");
      f->line = 1;
    } else {
      g_string_append_c (f->out, ' ');
      f->line++;
    }
  }
  g_string_append_len (f->out, token, (gssize)len);
  f->line += len;
}

static gboolean
q_safe (unsigned char c)
{
  return g_ascii_isalnum (c) || c == '!' || c == '*' || c == '+' || c == '-' || c == '/';
}

static gsize
q_len (const GString *b)
{
  gsize n = 0;
  for (gsize i = 0; i < b->len; i++)
    n += (q_safe ((unsigned char)b->str[i]) || b->str[i] == ' ') ? 1 : 3;
  return n;
}

/* @force_q: Q even when B is shorter. */
static void
emit_word (Folder *f, const char *charset, const GString *bytes, gboolean space, gboolean force_q)
{
  g_autoptr (GString) w = g_string_new (NULL);
  gsize blen = (bytes->len + 2) / 3 * 4;
  if (force_q || q_len (bytes) <= blen) {
    g_string_append_printf (w, "=?%s?Q?", charset);
    for (gsize i = 0; i < bytes->len; i++) {
      unsigned char c = (unsigned char)bytes->str[i];
      if (c == ' ')
        g_string_append_c (w, '_');
      else if (q_safe (c))
        g_string_append_c (w, (char)c);
      else
        g_string_append_printf (w, "=%02X", c);
    }
  } else {
    g_autofree char *b64 = g_base64_encode ((const guchar *)bytes->str, bytes->len);
    g_string_append_printf (w, "=?%s?B?%s", charset, b64);
  }
  g_string_append (w, "?=");
  fold_add (f, w->str, w->len, space);
}

/* Encode UTF-8 @seg as encoded words in @charset (which holds it), each at
 * most 75 characters, never splitting a character, Q or B whichever is
 * shorter. A B word followed by another carries no '=' padding: GMime's
 * decoder joins adjacent B words and stops at padding; when no character
 * boundary allows that, the word is written in Q. */
static void
emit_encoded (Folder *f, const char *seg, const char *charset, gboolean space)
{
  gsize overhead = 7 + strlen (charset);
  gboolean utf8 = g_ascii_strcasecmp (charset, "utf-8") == 0;
  g_autoptr (GString) all = g_string_new (NULL);
  g_autoptr (GArray) ends = g_array_new (FALSE, FALSE, sizeof (gsize)); /* char end offsets */
  for (const char *p = seg; *p; p = g_utf8_next_char (p)) {
    gsize clen = (gsize)(g_utf8_next_char (p) - p);
    g_autofree char *conv = NULL;
    if (!utf8)
      conv = charset_convert (p, (gssize)clen, charset, "UTF-8", NULL, &clen, NULL);
    if (!utf8 && !conv) /* cannot happen: the charset was checked to hold the text */
      clen = (gsize)(g_utf8_next_char (p) - p);
    g_string_append_len (all, conv ? conv : p, (gssize)clen);
    g_array_append_val (ends, all->len);
  }
  gsize start = 0; /* byte offset of the current word */
  guint ci = 0;    /* first character of the current word */
  while (ci < ends->len) {
    gsize avail = f->line + 1 <= MAX_LINE ? MAX_LINE - f->line - 1 : 0;
    gsize limit = avail >= overhead + 8 ? MIN (MAX_WORD, avail) : MAX_WORD;
    /* Longest prefix whose best encoding fits; remember the last pad-free end. */
    guint best_end = ci, pad_free_end = ci, q_end = ci;
    gsize qlen = 0;
    for (guint k = ci; k < ends->len; k++) {
      gsize from = k == ci ? start : g_array_index (ends, gsize, k - 1);
      gsize to = g_array_index (ends, gsize, k);
      for (gsize i = from; i < to; i++)
        qlen += (q_safe ((unsigned char)all->str[i]) || all->str[i] == ' ') ? 1 : 3;
      gsize n = to - start;
      gsize blen = (n + 2) / 3 * 4;
      if (overhead + MIN (qlen, blen) > limit)
        break;
      best_end = k + 1;
      if (overhead + qlen <= limit)
        q_end = k + 1;
      if (n % 3 == 0 && overhead + blen <= limit)
        pad_free_end = k + 1;
    }
    if (best_end == ci)
      best_end = ci + 1; /* one character always fits in 75 */
    gsize end = g_array_index (ends, gsize, best_end - 1);
    g_autoptr (GString) word = g_string_new_len (all->str + start, (gssize)(end - start));
    gboolean last = best_end == ends->len;
    gboolean force_q = FALSE;
    if (!last && q_len (word) > (word->len + 2) / 3 * 4 && word->len % 3 != 0) {
      /* B would be chosen and padded: cut where B needs no padding, or use Q. */
      if (pad_free_end > ci) {
        best_end = pad_free_end;
      } else {
        best_end = MAX (q_end, ci + 1);
        force_q = TRUE;
      }
      end = g_array_index (ends, gsize, best_end - 1);
      g_string_truncate (word, 0);
      g_string_append_len (word, all->str + start, (gssize)(end - start));
    }
    emit_word (f, charset, word, space, force_q);
    space = TRUE;
    start = end;
    ci = best_end;
  }
}

/* Whether @w holds a control character other than a tab (ESC would start
 * a charset shift for a reader of ISO-2022-JP, CR and LF would end the
 * field): such words go encoded. */
static gboolean
has_control (const char *w)
{
  for (; *w != '\0'; w++)
    if (((guchar)*w < 0x20 && *w != '\t') || *w == 0x7f)
      return TRUE;
  return FALSE;
}

static gboolean
word_needs_encoding (const char *w)
{
  return !g_str_is_ascii (w) || strstr (w, "=?") != NULL || strlen (w) > MAX_LINE - 2
         || has_control (w);
}

/* Whether a word that needs encoding is at @i, after nothing but white
 * space (empty words or tabs: the runs of spaces in the text). */
static gboolean
run_goes_on (char **words, guint i)
{
  while (words[i] != NULL && words[i][strspn (words[i], "\t")] == '\0')
    i++;
  return words[i] != NULL && word_needs_encoding (words[i]);
}

/* Unstructured text (Subject, X-...): ASCII words stay, runs of words that
 * need encoding become encoded words (the spaces between them inside). */
void
encode_unstructured (Folder *f, const char *text, const char *charset)
{
  g_auto (GStrv) words = g_strsplit (text, " ", -1);
  gboolean first = TRUE;
  for (guint i = 0; words[i];) {
    if (!word_needs_encoding (words[i])) {
      fold_add (f, words[i], strlen (words[i]), TRUE);
      i++;
    } else {
      g_autoptr (GString) seg = g_string_new (words[i++]);
      /* spaces between encoded words are ignored when decoding (RFC 2047
       * 6.2): a run of them between two words to encode goes inside */
      while (run_goes_on (words, i))
        g_string_append_printf (seg, " %s", words[i++]);
      emit_encoded (f, seg->str, pick_charset (seg->str, charset), TRUE);
    }
    first = FALSE;
  }
  (void)first;
}

static gboolean
is_atom_phrase (const char *s)
{
  for (const char *p = s; *p; p++)
    if (!address_is_atext ((unsigned char)*p) && *p != ' ')
      return FALSE;
  return *s && *s != ' ';
}

static void
encode_phrase (Folder *f, const char *name, const char *charset)
{
  if (!g_str_is_ascii (name)) {
    emit_encoded (f, name, pick_charset (name, charset), TRUE);
    return;
  }
  if (is_atom_phrase (name)) {
    g_auto (GStrv) words = g_strsplit (name, " ", -1);
    for (guint i = 0; words[i]; i++)
      if (*words[i])
        fold_add (f, words[i], strlen (words[i]), TRUE);
    return;
  }
  g_autoptr (GString) q = g_string_new ("\"");
  for (const char *p = name; *p; p++) {
    if (*p == '"' || *p == '\\')
      g_string_append_c (q, '\\');
    g_string_append_c (q, *p);
  }
  g_string_append_c (q, '"');
  fold_add (f, q->str, q->len, TRUE);
}

void
encode_address_list (Folder *f, InternetAddressList *list, const char *charset)
{
  int n = internet_address_list_length (list);
  for (int i = 0; i < n; i++) {
    InternetAddress *a = internet_address_list_get_address (list, i);
    const char *name = internet_address_get_name (a);
    const char *sep = i + 1 < n ? "," : "";
    if (INTERNET_ADDRESS_IS_GROUP (a)) {
      encode_phrase (f, name ? name : "", charset);
      fold_add (f, ":", 1, FALSE);
      encode_address_list (f, internet_address_group_get_members (INTERNET_ADDRESS_GROUP (a)),
                           charset);
      g_autofree char *end = g_strdup_printf (";%s", sep);
      fold_add (f, end, strlen (end), FALSE);
      continue;
    }
    const char *addr = internet_address_mailbox_get_addr (INTERNET_ADDRESS_MAILBOX (a));
    g_autofree char *tok = NULL;
    if (name && *name) {
      encode_phrase (f, name, charset);
      tok = g_strdup_printf ("<%s>%s", addr, sep);
    } else {
      tok = g_strdup_printf ("%s%s", addr, sep);
    }
    fold_add (f, tok, strlen (tok), TRUE);
  }
}

/* Replace GMime's rendering of header @name of @obj with ours. */
static void
set_raw (GMimeObject *obj, const char *name, Folder *f)
{
  GMimeHeader *h = g_mime_header_list_get_header (g_mime_object_get_header_list (obj), name);
  if (!h)
    return;
  g_string_append_c (f->out, '\n');
  g_mime_header_set_raw_value (h, f->out->str);
}

void
encode_set_raw_text (GMimeObject *obj, const char *name, const char *value, const char *charset)
{
  g_autoptr (GString) out = g_string_new (NULL);
  Folder f = { out, strlen (name) + 1 };
  encode_unstructured (&f, value, charset);
  set_raw (obj, name, &f);
}

void
encode_set_raw_addresses (GMimeObject *obj, const char *name, InternetAddressList *list,
                          const char *charset)
{
  if (!list || internet_address_list_length (list) == 0)
    return;
  g_autoptr (GString) out = g_string_new (NULL);
  Folder f = { out, strlen (name) + 1 };
  encode_address_list (&f, list, charset);
  set_raw (obj, name, &f);
}

char *
msgtk_encode_header (const char *field, const char *text, const char *charset, GError **error)
{
  if (!encode_check_value (field, text, error))
    return NULL;
  if (charset) {
    gsize n;
    if (!encode_check_charset (charset, error))
      return NULL;
    g_autofree char *c = encode_to_charset (field, text, -1, charset, &n, error);
    if (!c)
      return NULL;
  }
  g_autoptr (GString) out = g_string_new (NULL);
  Folder f = { out, strlen (field) + 1 };
  encode_unstructured (&f, text, charset);
  return g_strdup (out->str[0] == ' ' ? out->str + 1 : out->str);
}
