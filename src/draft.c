/* msgtk — drafts → GMimeMessage. */
#include "gmime-autoptr-private.h"

#include <msgtk/draft.h>
#include <msgtk/error.h>

#include "charset-private.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <inttypes.h>
#include <stdint.h>
#include <sys/stat.h>
#include <json-glib/json-glib.h>
#include <string.h>

typedef struct {
  char *path;
  char *type;
  char *name;
  gboolean inline_;
  char *cid;
} Attachment;

typedef struct {
  char *name;
  char *value;
} Header;

struct _MsgtkDraft {
  char *from, *sender, *reply_to, *subject, *date, *message_id, *mid_domain;
  char *in_reply_to, *references, *charset, *input_charset;
  GPtrArray *to, *cc, *bcc; /* char* */
  GPtrArray *headers;       /* Header* */
  GPtrArray *attachments;   /* Attachment* */
  GBytes *text, *html;
  gboolean text_utf8, html_utf8; /* given as UTF-8 (JSON strings), not in input-charset */
  gboolean keep_bcc, reproducible;
  gint64 epoch;
  MsgtkFilenameEncoding filename_encoding;
};

static void
attachment_free (gpointer p)
{
  Attachment *a = p;
  g_free (a->path);
  g_free (a->type);
  g_free (a->name);
  g_free (a->cid);
  g_free (a);
}

static void
header_free (gpointer p)
{
  Header *h = p;
  g_free (h->name);
  g_free (h->value);
  g_free (h);
}

MsgtkDraft *
msgtk_draft_new (void)
{
  MsgtkDraft *d = g_new0 (MsgtkDraft, 1);
  d->to = g_ptr_array_new_with_free_func (g_free);
  d->cc = g_ptr_array_new_with_free_func (g_free);
  d->bcc = g_ptr_array_new_with_free_func (g_free);
  d->headers = g_ptr_array_new_with_free_func (header_free);
  d->attachments = g_ptr_array_new_with_free_func (attachment_free);
  return d;
}

void
msgtk_draft_free (MsgtkDraft *d)
{
  if (!d)
    return;
  char **strs[] = { &d->from,       &d->sender,     &d->reply_to,     &d->subject,
                    &d->date,       &d->message_id, &d->mid_domain,   &d->in_reply_to,
                    &d->references, &d->charset,    &d->input_charset };
  for (guint i = 0; i < G_N_ELEMENTS (strs); i++)
    g_free (*strs[i]);
  g_ptr_array_unref (d->to);
  g_ptr_array_unref (d->cc);
  g_ptr_array_unref (d->bcc);
  g_ptr_array_unref (d->headers);
  g_ptr_array_unref (d->attachments);
  g_clear_pointer (&d->text, g_bytes_unref);
  g_clear_pointer (&d->html, g_bytes_unref);
  g_free (d);
}

/* ---- checks ------------------------------------------------------------ */

static gboolean
check_value (const char *field, const char *value, GError **error)
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
  return TRUE;
}

static gboolean
check_charset (const char *charset, GError **error)
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
static char *
to_charset (const char *what, const char *text, gssize len, const char *charset, gsize *out_len,
            GError **error)
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

static gboolean
is_atext (unsigned char c)
{
  return g_ascii_isalnum (c) || c >= 0x80 || strchr ("!#$%&'*+-/=?^_`{|}~", c);
}

/* NULL when @addr is a valid addr-spec, else why not. */
static const char *
addr_spec_problem (const char *addr)
{
  const char *at = strrchr (addr, '@');
  if (!at)
    return "missing '@domain'";
  if (at == addr)
    return "empty local part before '@'";
  if (at[1] == '\0')
    return "missing domain after '@'";
  if (addr[0] == '"') {
    if (at - addr < 2 || at[-1] != '"')
      return "unterminated quoted local part";
  } else {
    gboolean dot = TRUE;
    for (const char *p = addr; p < at; p++) {
      if (*p == '.') {
        if (dot)
          return "empty atom in local part ('..' or a leading dot)";
        dot = TRUE;
      } else if (is_atext ((unsigned char)*p)) {
        dot = FALSE;
      } else {
        return "character not allowed in local part";
      }
    }
    if (dot)
      return "local part ends with a dot";
  }
  const char *dom = at + 1;
  if (dom[0] == '[')
    return dom[strlen (dom) - 1] == ']' ? NULL : "unterminated domain literal";
  gboolean dot = TRUE;
  for (const char *p = dom; *p; p++) {
    unsigned char c = (unsigned char)*p;
    if (c == '.') {
      if (dot)
        return "empty label in domain";
      dot = TRUE;
    } else if (g_ascii_isalnum (c) || c == '-' || c >= 0x80) {
      dot = FALSE;
    } else {
      return "character not allowed in domain";
    }
  }
  if (dot)
    return "domain ends with a dot";
  return NULL;
}

static gboolean
check_list (const char *field, const char *value, InternetAddressList *list, int *index,
            const char *charset, GError **error)
{
  for (int i = 0; i < internet_address_list_length (list); i++) {
    InternetAddress *a = internet_address_list_get_address (list, i);
    if (charset)
      internet_address_set_charset (a, charset);
    if (INTERNET_ADDRESS_IS_GROUP (a)) {
      if (!check_list (field, value,
                       internet_address_group_get_members (INTERNET_ADDRESS_GROUP (a)), index,
                       charset, error))
        return FALSE;
      continue;
    }
    ++*index;
    const char *addr = internet_address_mailbox_get_addr (INTERNET_ADDRESS_MAILBOX (a));
    const char *why = addr_spec_problem (addr ? addr : "");
    if (why) {
      g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_DATA,
                   "%s: address %d '%s' in '%s' is invalid: %s", field, *index, addr ? addr : "",
                   value, why);
      return FALSE;
    }
  }
  return TRUE;
}

/* Parse @value (one or more addresses) strictly and append it to @out. */
static gboolean
parse_addresses (const char *field, const char *value, const char *charset,
                 InternetAddressList *out, GError **error)
{
  g_autoptr (GMimeParserOptions) po = g_mime_parser_options_new ();
  g_mime_parser_options_set_address_compliance_mode (po, GMIME_RFC_COMPLIANCE_STRICT);
  g_autoptr (InternetAddressList) list = internet_address_list_parse (po, value);
  int index = 0;
  if (!list || internet_address_list_length (list) == 0) {
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_DATA,
                 "%s: no valid address in '%s'; write 'Name <user@example.org>' or "
                 "'user@example.org'",
                 field, value);
    return FALSE;
  }
  /* The parser skips what it cannot read: count the items the user wrote. */
  int commas = 0;
  gboolean quoted = FALSE, empty = TRUE;
  int angle = 0, groups = 0;
  for (const char *p = value; *p; p++) {
    if (*p == '\\' && quoted && p[1]) {
      p++;
      continue;
    }
    if (*p == '"')
      quoted = !quoted;
    else if (!quoted && *p == '<')
      angle++;
    else if (!quoted && *p == '>')
      angle--;
    else if (!quoted && *p == ':')
      groups++;
    else if (!quoted && !angle && *p == ',' && !groups)
      commas++;
    if (!g_ascii_isspace (*p))
      empty = FALSE;
  }
  if (!check_list (field, value, list, &index, charset, error))
    return FALSE;
  if (!empty && !groups && index != commas + 1) {
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_DATA,
                 "%s: could read only %d of the %d addresses in '%s'; check the syntax near "
                 "address %d",
                 field, index, commas + 1, value, index + 1);
    return FALSE;
  }
  internet_address_list_append (out, list);
  return TRUE;
}

static gboolean
check_header_name (const char *name, GError **error)
{
  if (!*name) {
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_DATA, "header name is empty");
    return FALSE;
  }
  for (const char *p = name; *p; p++) {
    unsigned char c = (unsigned char)*p;
    if (c < 33 || c > 126 || c == ':') {
      g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_DATA,
                   "invalid header name '%s': character %ld is not printable ASCII without ':'",
                   name, (long)(p - name) + 1);
      return FALSE;
    }
  }
  const char *mime[] = { "MIME-Version", "Content-Type", "Content-Transfer-Encoding",
                         "Content-Disposition", "Content-ID" };
  for (guint i = 0; i < G_N_ELEMENTS (mime); i++) {
    if (g_ascii_strcasecmp (name, mime[i]) == 0) {
      g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_DATA,
                   "header '%s' is written by msgtk from the bodies and attachments; leave it out",
                   name);
      return FALSE;
    }
  }
  return TRUE;
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

typedef struct {
  GString *out;
  gsize line; /* length of the current line */
} Folder;

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

static gboolean
word_needs_encoding (const char *w)
{
  return !g_str_is_ascii (w) || strstr (w, "=?") != NULL || strlen (w) > MAX_LINE - 2;
}

/* Unstructured text (Subject, X-...): ASCII words stay, runs of words that
 * need encoding become encoded words (the spaces between them inside). */
static void
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
      while (words[i] && word_needs_encoding (words[i]))
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
    if (!is_atext ((unsigned char)*p) && *p != ' ')
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

static void
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

static void
set_raw_text (GMimeObject *obj, const char *name, const char *value, const char *charset)
{
  g_autoptr (GString) out = g_string_new (NULL);
  Folder f = { out, strlen (name) + 1 };
  encode_unstructured (&f, value, charset);
  set_raw (obj, name, &f);
}

static void
set_raw_addresses (GMimeObject *obj, const char *name, InternetAddressList *list,
                   const char *charset)
{
  if (!list || internet_address_list_length (list) == 0)
    return;
  g_autoptr (GString) out = g_string_new (NULL);
  Folder f = { out, strlen (name) + 1 };
  encode_address_list (&f, list, charset);
  set_raw (obj, name, &f);
}

/* ---- setters ----------------------------------------------------------- */

static void
replace (char **slot, const char *value)
{
  g_free (*slot);
  *slot = g_strdup (value);
}

gboolean
msgtk_draft_set (MsgtkDraft *d, const char *field, const char *value, GError **error)
{
  if (!check_value (field, value, error))
    return FALSE;
  struct {
    const char *name;
    char **slot;
  } singles[] = {
    { "from", &d->from },
    { "sender", &d->sender },
    { "reply-to", &d->reply_to },
    { "subject", &d->subject },
    { "date", &d->date },
    { "message-id", &d->message_id },
    { "message-id-domain", &d->mid_domain },
    { "in-reply-to", &d->in_reply_to },
    { "references", &d->references },
    { "charset", &d->charset },
    { "input-charset", &d->input_charset },
  };
  for (guint i = 0; i < G_N_ELEMENTS (singles); i++) {
    if (g_ascii_strcasecmp (field, singles[i].name) == 0) {
      if ((singles[i].slot == &d->charset || singles[i].slot == &d->input_charset)
          && !check_charset (value, error))
        return FALSE;
      replace (singles[i].slot, value);
      return TRUE;
    }
  }
  GPtrArray *lists[] = { d->to, d->cc, d->bcc };
  const char *list_names[] = { "to", "cc", "bcc" };
  for (guint i = 0; i < G_N_ELEMENTS (lists); i++) {
    if (g_ascii_strcasecmp (field, list_names[i]) == 0) {
      g_ptr_array_add (lists[i], g_strdup (value));
      return TRUE;
    }
  }
  if (g_ascii_strcasecmp (field, "filename-encoding") == 0) {
    if (g_ascii_strcasecmp (value, "rfc2231") == 0)
      d->filename_encoding = MSGTK_FILENAME_RFC2231;
    else if (g_ascii_strcasecmp (value, "rfc2047") == 0)
      d->filename_encoding = MSGTK_FILENAME_RFC2047;
    else {
      g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_USAGE,
                   "filename-encoding: '%s' is neither 'rfc2231' nor 'rfc2047'", value);
      return FALSE;
    }
    return TRUE;
  }
  g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_USAGE, "unknown draft field '%s'", field);
  return FALSE;
}

gboolean
msgtk_draft_add_header (MsgtkDraft *d, const char *name, const char *value, GError **error)
{
  if (!check_header_name (name, error) || !check_value (name, value, error))
    return FALSE;
  const char *known[] = { "from",    "sender", "reply-to",   "to",          "cc",        "bcc",
                          "subject", "date",   "message-id", "in-reply-to", "references" };
  for (guint i = 0; i < G_N_ELEMENTS (known); i++)
    if (g_ascii_strcasecmp (name, known[i]) == 0)
      return msgtk_draft_set (d, known[i], value, error);
  Header *h = g_new0 (Header, 1);
  h->name = g_strdup (name);
  h->value = g_strdup (value);
  g_ptr_array_add (d->headers, h);
  return TRUE;
}

void
msgtk_draft_set_keep_bcc (MsgtkDraft *d, gboolean keep)
{
  d->keep_bcc = keep;
}

void
msgtk_draft_set_text (MsgtkDraft *d, GBytes *text)
{
  g_clear_pointer (&d->text, g_bytes_unref);
  d->text = text ? g_bytes_ref (text) : NULL;
  d->text_utf8 = FALSE;
}

void
msgtk_draft_set_html (MsgtkDraft *d, GBytes *html)
{
  g_clear_pointer (&d->html, g_bytes_unref);
  d->html = html ? g_bytes_ref (html) : NULL;
  d->html_utf8 = FALSE;
}

gboolean
msgtk_draft_add_attachment (MsgtkDraft *d, const char *path, const char *type, const char *name,
                            gboolean inline_, const char *cid, GError **error)
{
  if (!g_file_test (path, G_FILE_TEST_IS_REGULAR)) {
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_NO_INPUT,
                 "attachment '%s' does not exist or is not a regular file", path);
    return FALSE;
  }
  if (type) {
    const char *slash = strchr (type, '/');
    if (!check_value ("attachment type", type, error))
      return FALSE;
    if (!slash || slash == type || !slash[1] || strpbrk (type, " ;\"")) {
      g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_DATA,
                   "attachment '%s': type '%s' is not of the form 'type/subtype'", path, type);
      return FALSE;
    }
  }
  if ((name && !check_value ("attachment name", name, error))
      || (cid && !check_value ("attachment cid", cid, error)))
    return FALSE;
  if (cid && (!*cid || strpbrk (cid, " <>\"\\,;"))) {
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_DATA,
                 "attachment '%s': content id '%s' must be a non-empty token without spaces or "
                 "<>\",;",
                 path, cid);
    return FALSE;
  }
  Attachment *a = g_new0 (Attachment, 1);
  a->path = g_strdup (path);
  a->type = g_strdup (type);
  a->name = name ? g_strdup (name) : g_path_get_basename (path);
  a->inline_ = inline_ || cid != NULL;
  a->cid = g_strdup (cid);
  g_ptr_array_add (d->attachments, a);
  return TRUE;
}

void
msgtk_draft_set_reproducible (MsgtkDraft *d, gboolean on, gint64 epoch)
{
  d->reproducible = on;
  d->epoch = epoch;
}

/* ---- building ---------------------------------------------------------- */

char *
msgtk_draft_encode_header (const char *field, const char *text, const char *charset, GError **error)
{
  if (!check_value (field, text, error))
    return NULL;
  if (charset) {
    gsize n;
    if (!check_charset (charset, error))
      return NULL;
    g_autofree char *c = to_charset (field, text, -1, charset, &n, error);
    if (!c)
      return NULL;
  }
  g_autoptr (GString) out = g_string_new (NULL);
  Folder f = { out, strlen (field) + 1 };
  encode_unstructured (&f, text, charset);
  return g_strdup (out->str[0] == ' ' ? out->str + 1 : out->str);
}

typedef struct {
  MsgtkDraft *d;
  GChecksum *seed; /* reproducible: hash of everything */
  char *seed_hex;
  guint boundaries;
} Build;

static void
hash_str (Build *b, const char *key, const char *value)
{
  g_checksum_update (b->seed, (const guchar *)key, (gssize)strlen (key) + 1);
  if (value)
    g_checksum_update (b->seed, (const guchar *)value, (gssize)strlen (value));
  g_checksum_update (b->seed, (const guchar *)"\n", 1);
}

static gboolean
hash_draft (Build *b, GError **error)
{
  MsgtkDraft *d = b->d;
  const char *keys[]
      = { "from",       "sender",      "reply-to",   "subject", "date",         "message-id",
          "mid-domain", "in-reply-to", "references", "charset", "input-charset" };
  const char *vals[]
      = { d->from,       d->sender,      d->reply_to,   d->subject, d->date,         d->message_id,
          d->mid_domain, d->in_reply_to, d->references, d->charset, d->input_charset };
  for (guint i = 0; i < G_N_ELEMENTS (keys); i++)
    hash_str (b, keys[i], vals[i]);
  GPtrArray *lists[] = { d->to, d->cc, d->bcc };
  for (guint i = 0; i < G_N_ELEMENTS (lists); i++)
    for (guint j = 0; j < lists[i]->len; j++)
      hash_str (b, "rcpt", g_ptr_array_index (lists[i], j));
  for (guint i = 0; i < d->headers->len; i++) {
    Header *h = g_ptr_array_index (d->headers, i);
    hash_str (b, h->name, h->value);
  }
  GBytes *bodies[] = { d->text, d->html };
  for (guint i = 0; i < G_N_ELEMENTS (bodies); i++) {
    gsize n = 0;
    const guchar *p = bodies[i] ? g_bytes_get_data (bodies[i], &n) : NULL;
    hash_str (b, i ? "html" : "text", bodies[i] ? "yes" : "no");
    if (p)
      g_checksum_update (b->seed, p, (gssize)n);
  }
  for (guint i = 0; i < d->attachments->len; i++) {
    Attachment *a = g_ptr_array_index (d->attachments, i);
    hash_str (b, "attachment", a->name);
    hash_str (b, "type", a->type);
    hash_str (b, "cid", a->cid);
    hash_str (b, "inline", a->inline_ ? "1" : "0");
    g_autoptr (GFile) f = g_file_new_for_path (a->path);
    g_autoptr (GFileInputStream) in = g_file_read (f, NULL, NULL);
    if (!in) {
      g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_NO_INPUT, "cannot read attachment '%s'",
                   a->path);
      return FALSE;
    }
    guchar buf[65536];
    gssize n;
    while ((n = g_input_stream_read (G_INPUT_STREAM (in), buf, sizeof buf, NULL, NULL)) > 0)
      g_checksum_update (b->seed, buf, n);
    if (n < 0) {
      g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_IO, "cannot read attachment '%s'", a->path);
      return FALSE;
    }
  }
  b->seed_hex = g_strdup (g_checksum_get_string (b->seed));
  return TRUE;
}

static char *
derived (Build *b, const char *what, guint n)
{
  g_autofree char *in = g_strdup_printf ("%s/%s/%u", b->seed_hex, what, n);
  return g_compute_checksum_for_string (G_CHECKSUM_SHA256, in, -1);
}

static void
set_boundary (Build *b, GMimeMultipart *mp)
{
  if (!b->d->reproducible)
    return;
  g_autofree char *h = derived (b, "boundary", b->boundaries++);
  g_autofree char *boundary = g_strdup_printf ("=-%.*s", 32, h);
  g_mime_multipart_set_boundary (mp, boundary);
}

/* Body bytes → canonical UTF-8 (LF line endings). */
static char *
body_to_utf8 (MsgtkDraft *d, const char *what, GBytes *bytes, gboolean is_utf8, gsize *len,
              GError **error)
{
  gsize n;
  const char *data = g_bytes_get_data (bytes, &n);
  const char *incs = d->input_charset && !is_utf8 ? d->input_charset : "UTF-8";
  char *utf8;
  if (g_ascii_strcasecmp (incs, "UTF-8") == 0 || g_ascii_strcasecmp (incs, "UTF8") == 0) {
    const char *end;
    if (!g_utf8_validate_len (data, n, &end)) {
      g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_DATA,
                   "%s is not valid UTF-8 at byte %ld; give --input-charset if it is in another "
                   "charset",
                   what, (long)(end - data));
      return NULL;
    }
    utf8 = g_strndup (data, n);
  } else {
    g_autoptr (GError) e = NULL;
    gsize read = 0;
    utf8 = charset_convert (data, (gssize)n, "UTF-8", incs, &read, NULL, &e);
    if (!utf8) {
      g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_DATA, "%s is not valid %s at byte %lu: %s", what,
                   incs, (unsigned long)read, e->message);
      return NULL;
    }
  }
  /* CRLF and lone CR → LF: output is canonical; the sink picks the line ending. */
  char *w = utf8;
  for (const char *r = utf8; *r; r++) {
    if (*r == '\r') {
      if (r[1] != '\n')
        *w++ = '\n';
      continue;
    }
    *w++ = *r;
  }
  *w = '\0';
  *len = (gsize)(w - utf8);
  return utf8;
}

static GMimeObject *
text_part (Build *b, const char *subtype, GBytes *bytes, gboolean is_utf8, GError **error)
{
  MsgtkDraft *d = b->d;
  gsize len;
  const char *what = g_str_equal (subtype, "html") ? "HTML body" : "text body";
  g_autofree char *utf8 = body_to_utf8 (d, what, bytes, is_utf8, &len, error);
  if (!utf8)
    return NULL;
  const char *charset = d->charset;
  if (!charset)
    charset = g_mime_charset_best (utf8, len);
  if (!charset)
    charset = "us-ascii";
  gsize outlen = len;
  char *out;
  if (g_ascii_strcasecmp (charset, "us-ascii") == 0 || g_ascii_strcasecmp (charset, "utf-8") == 0)
    out = g_steal_pointer (&utf8);
  else if (!(out = to_charset (what, utf8, (gssize)len, charset, &outlen, error)))
    return NULL;
  if (g_ascii_strcasecmp (charset, "us-ascii") == 0 && !g_str_is_ascii (out)) {
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_DATA,
                 "%s cannot be written in charset 'us-ascii'; name another charset", what);
    g_free (out);
    return NULL;
  }
  GMimeTextPart *part = g_mime_text_part_new_with_subtype (subtype);
  g_autoptr (GByteArray) arr = g_byte_array_new_take ((guint8 *)out, outlen);
  g_autoptr (GMimeStream) mem = g_mime_stream_mem_new_with_byte_array (arr);
  g_mime_stream_mem_set_owner (GMIME_STREAM_MEM (mem), TRUE);
  arr = NULL;
  g_autoptr (GMimeDataWrapper) w
      = g_mime_data_wrapper_new_with_stream (mem, GMIME_CONTENT_ENCODING_DEFAULT);
  g_mime_part_set_content (GMIME_PART (part), w);
  g_autofree char *lower = g_ascii_strdown (charset, -1);
  g_mime_text_part_set_charset (part, lower);
  g_mime_part_set_content_encoding (
      GMIME_PART (part),
      g_mime_part_get_best_content_encoding (GMIME_PART (part), GMIME_ENCODING_CONSTRAINT_7BIT));
  return GMIME_OBJECT (part);
}

/* What the content of the file @path says its type is, remembered by file
 * identity: a mail merge attaches the same file to many messages, and
 * sniffing magic is far slower than building the part. */
static char *
content_type_of_file (const char *path, const guchar *sample, gsize n)
{
  static GMutex lock;
  static GHashTable *cache;
  GStatBuf st;
  g_autofree char *key = NULL;
  if (g_stat (path, &st) == 0 && S_ISREG (st.st_mode))
    key = g_strdup_printf ("%ju:%ju:%jd:%jd.%09ld", (uintmax_t)st.st_dev, (uintmax_t)st.st_ino,
                           (intmax_t)st.st_size, (intmax_t)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
  if (key) {
    g_mutex_lock (&lock);
    const char *hit = cache ? g_hash_table_lookup (cache, key) : NULL;
    char *copy = g_strdup (hit);
    g_mutex_unlock (&lock);
    if (copy)
      return copy;
  }
  char *ct = g_content_type_guess (NULL, n > 0 ? sample : NULL, n, NULL);
  if (key && ct) {
    g_mutex_lock (&lock);
    if (!cache)
      cache = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
    if (g_hash_table_size (cache) < 4096)
      g_hash_table_insert (cache, g_steal_pointer (&key), g_strdup (ct));
    g_mutex_unlock (&lock);
  }
  return ct;
}

static char *
guess_type (const char *path, const char *name, GMimeStream *stream)
{
  guchar sample[4096];
  gssize n = g_mime_stream_read (stream, (char *)sample, sizeof sample);
  g_mime_stream_reset (stream);
  /* The name first; the content when the name says nothing certain. */
  gboolean uncertain = TRUE;
  g_autofree char *ct = name ? g_content_type_guess (name, NULL, 0, &uncertain) : NULL;
  if (uncertain) {
    g_free (ct);
    ct = content_type_of_file (path, sample, n > 0 ? (gsize)n : 0);
  }
  char *mime = ct ? g_content_type_get_mime_type (ct) : NULL;
  /* A text type by name, but the content is not text: do not believe the name. */
  if (mime && g_str_has_prefix (mime, "text/") && n > 0
      && (memchr (sample, 0, (gsize)n)
          || !g_utf8_validate_len ((const char *)sample, (gsize)n, NULL))) {
    gboolean cut = (gsize)n == sizeof sample;
    const char *end;
    g_utf8_validate_len ((const char *)sample, (gsize)n, &end);
    /* The sample may end inside a character: tolerate up to 3 bytes. */
    if (memchr (sample, 0, (gsize)n) || !cut
        || (gsize)n - (gsize)(end - (const char *)sample) > 3) {
      g_free (mime);
      mime = g_strdup ("application/octet-stream");
    }
  }
  if (!mime || !strchr (mime, '/') || g_str_equal (mime, "application/x-zerosize")) {
    g_free (mime);
    mime = g_strdup ("application/octet-stream");
  }
  return mime;
}

static GMimeObject *
attachment_part (Build *b, Attachment *a, GError **error)
{
  g_autoptr (GError) e = NULL;
  g_autoptr (GMimeStream) fs = g_mime_stream_fs_open (a->path, O_RDONLY | O_CLOEXEC, 0, &e);
  if (!fs) {
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_NO_INPUT, "cannot open attachment '%s': %s",
                 a->path, e->message);
    return NULL;
  }
  g_autofree char *type = a->type ? g_strdup (a->type) : guess_type (a->path, a->name, fs);
  g_autoptr (GMimeContentType) ct = g_mime_content_type_parse (NULL, type);
  GMimePart *part = g_mime_part_new_with_type (g_mime_content_type_get_media_type (ct),
                                               g_mime_content_type_get_media_subtype (ct));
  g_autoptr (GMimeDataWrapper) w
      = g_mime_data_wrapper_new_with_stream (fs, GMIME_CONTENT_ENCODING_DEFAULT);
  g_mime_part_set_content (part, w);
  g_mime_object_set_disposition (GMIME_OBJECT (part), a->inline_ ? "inline" : "attachment");
  g_mime_part_set_filename (part, a->name);
  GMimeParamEncodingMethod method = b->d->filename_encoding == MSGTK_FILENAME_RFC2047
                                        ? GMIME_PARAM_ENCODING_METHOD_RFC2047
                                        : GMIME_PARAM_ENCODING_METHOD_RFC2231;
  GMimeParam *p = g_mime_param_list_get_parameter (
      g_mime_content_disposition_get_parameters (
          g_mime_object_get_content_disposition (GMIME_OBJECT (part))),
      "filename");
  if (p)
    g_mime_param_set_encoding_method (p, method);
  p = g_mime_param_list_get_parameter (
      g_mime_content_type_get_parameters (g_mime_object_get_content_type (GMIME_OBJECT (part))),
      "name");
  if (p)
    g_mime_param_set_encoding_method (p, method);
  if (a->cid)
    g_mime_part_set_content_id (part, a->cid);
  GMimeContentEncoding enc = GMIME_CONTENT_ENCODING_BASE64;
  if (g_ascii_strcasecmp (g_mime_content_type_get_media_type (ct), "text") == 0)
    enc = g_mime_part_get_best_content_encoding (part, GMIME_ENCODING_CONSTRAINT_7BIT);
  g_mime_part_set_content_encoding (part, enc);
  return GMIME_OBJECT (part);
}

static const char *
domain_of (InternetAddressList *l)
{
  if (!l || internet_address_list_length (l) == 0)
    return NULL;
  InternetAddress *a = internet_address_list_get_address (l, 0);
  if (!INTERNET_ADDRESS_IS_MAILBOX (a))
    return NULL;
  const char *addr = internet_address_mailbox_get_addr (INTERNET_ADDRESS_MAILBOX (a));
  const char *at = addr ? strrchr (addr, '@') : NULL;
  return at && at[1] && at[1] != '[' ? at + 1 : NULL;
}

static gboolean
check_msgid (const char *field, const char *value, GError **error)
{
  const char *at = strchr (value, '@');
  if (!at || at == value || !at[1] || strpbrk (value, " \t<>\"") || !g_str_is_ascii (value)) {
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_DATA,
                 "%s: '%s' is not a message id of the form 'left@right' (angle brackets "
                 "optional)",
                 field, value);
    return FALSE;
  }
  return TRUE;
}

/* "<a@b> c@d" → "<a@b> <c@d>", each checked. */
static char *
msgid_list (const char *field, const char *value, GError **error)
{
  g_auto (GStrv) ids = g_strsplit_set (value, " \t,", -1);
  GString *out = g_string_new (NULL);
  for (guint i = 0; ids[i]; i++) {
    char *id = ids[i];
    if (!*id)
      continue;
    gsize n = strlen (id);
    if (id[0] == '<' && n > 1 && id[n - 1] == '>') {
      id[n - 1] = '\0';
      id++;
    }
    if (!check_msgid (field, id, error)) {
      g_string_free (out, TRUE);
      return NULL;
    }
    g_string_append_printf (out, "%s<%s>", out->len ? " " : "", id);
  }
  if (out->len == 0) {
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_DATA, "%s: no message id in '%s'", field, value);
    g_string_free (out, TRUE);
    return NULL;
  }
  return g_string_free (out, FALSE);
}

static GMimeObject *
wrap (Build *b, const char *subtype, GMimeObject *first, GPtrArray *rest)
{
  GMimeMultipart *mp = g_mime_multipart_new_with_subtype (subtype);
  set_boundary (b, mp);
  if (first) {
    g_mime_multipart_add (mp, first);
    g_object_unref (first);
  }
  for (guint i = 0; rest && i < rest->len; i++)
    g_mime_multipart_add (mp, g_ptr_array_index (rest, i));
  return GMIME_OBJECT (mp);
}

static GMimeObject *
build_body (Build *b, GError **error)
{
  MsgtkDraft *d = b->d;
  g_autoptr (GPtrArray) related = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr (GPtrArray) mixed = g_ptr_array_new_with_free_func (g_object_unref);
  GMimeObject *text = NULL, *html = NULL, *body = NULL;
  if (d->text && !(text = text_part (b, "plain", d->text, d->text_utf8, error)))
    return NULL;
  if (d->html && !(html = text_part (b, "html", d->html, d->html_utf8, error))) {
    g_clear_object (&text);
    return NULL;
  }
  for (guint i = 0; i < d->attachments->len; i++) {
    Attachment *a = g_ptr_array_index (d->attachments, i);
    GMimeObject *part = attachment_part (b, a, error);
    if (!part) {
      g_clear_object (&text);
      g_clear_object (&html);
      return NULL;
    }
    g_ptr_array_add (a->cid && html ? related : mixed, part);
  }
  if (text && html) {
    GMimeObject *alt = wrap (b, "alternative", text, NULL);
    g_mime_multipart_add (GMIME_MULTIPART (alt), html);
    g_object_unref (html);
    body = alt;
  } else {
    body = text ? text : html;
  }
  /* mixed > related > alternative: inline images are siblings of the bodies. */
  if (html && related->len > 0) {
    body = wrap (b, "related", body, related);
    g_mime_content_type_set_parameter (g_mime_object_get_content_type (body), "type",
                                       text ? "multipart/alternative" : "text/html");
  }
  if (!body && mixed->len == 0) {
    g_autoptr (GBytes) empty = g_bytes_new_static ("", 0);
    body = text_part (b, "plain", empty, TRUE, error);
  }
  if (mixed->len > 0)
    body = wrap (b, "mixed", body, mixed);
  return body;
}

GMimeMessage *
msgtk_draft_build (MsgtkDraft *d, GError **error)
{
  Build b = { d, NULL, NULL, 0 };
  g_autoptr (GMimeMessage) m = g_mime_message_new (TRUE);
  const char *cs = d->charset;
  GMimeMessage *result = NULL;

  if (d->charset && !check_charset (d->charset, error))
    return NULL;
  if (!d->from) {
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_USAGE,
                 "no From address; give --from or \"from\" in the draft");
    return NULL;
  }
  struct {
    const char *field;
    GPtrArray *values;
    GMimeAddressType type;
    gboolean skip;
  } addrs[] = {
    { "From", NULL, GMIME_ADDRESS_TYPE_FROM, FALSE },
    { "Sender", NULL, GMIME_ADDRESS_TYPE_SENDER, FALSE },
    { "Reply-To", NULL, GMIME_ADDRESS_TYPE_REPLY_TO, FALSE },
    { "To", d->to, GMIME_ADDRESS_TYPE_TO, FALSE },
    { "Cc", d->cc, GMIME_ADDRESS_TYPE_CC, FALSE },
    { "Bcc", d->bcc, GMIME_ADDRESS_TYPE_BCC, !d->keep_bcc },
  };
  const char *singles[] = { d->from, d->sender, d->reply_to };
  for (guint i = 0; i < G_N_ELEMENTS (addrs); i++) {
    g_autoptr (InternetAddressList) tmp = internet_address_list_new ();
    InternetAddressList *dst
        = addrs[i].skip ? tmp : g_mime_message_get_addresses (m, addrs[i].type);
    if (i < 3) {
      if (singles[i] && !parse_addresses (addrs[i].field, singles[i], cs, dst, error))
        return NULL;
      continue;
    }
    for (guint j = 0; j < addrs[i].values->len; j++)
      if (!parse_addresses (addrs[i].field, g_ptr_array_index (addrs[i].values, j), cs, dst, error))
        return NULL;
  }

  if (d->subject) {
    g_autofree char *check = msgtk_draft_encode_header ("Subject", d->subject, cs, error);
    if (!check)
      return NULL;
    g_mime_message_set_subject (m, d->subject, cs);
  }

  if (d->reproducible) {
    b.seed = g_checksum_new (G_CHECKSUM_SHA256);
    gboolean ok = hash_draft (&b, error);
    if (!ok)
      goto out;
  }

  /* Date */
  {
    g_autoptr (GDateTime) date = NULL;
    if (d->date) {
      date = g_mime_utils_header_decode_date (d->date);
      if (!date) {
        g_autoptr (GTimeZone) utc = g_time_zone_new_utc ();
        date = g_date_time_new_from_iso8601 (d->date, utc);
      }
      if (!date) {
        g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_DATA,
                     "date: cannot read '%s'; write it as RFC 5322 ('Tue, 1 Jul 2025 10:00:00 "
                     "+0000') or ISO 8601 ('2025-07-01T10:00:00Z')",
                     d->date);
        goto out;
      }
    } else if (d->reproducible) {
      date = g_date_time_new_from_unix_utc (d->epoch);
    } else {
      date = g_date_time_new_now_local ();
    }
    g_mime_message_set_date (m, date);
  }

  /* Message-ID */
  {
    const char *domain = d->mid_domain ? d->mid_domain : domain_of (g_mime_message_get_from (m));
    if (!domain)
      domain = "localhost";
    if (d->message_id) {
      g_autofree char *id = g_strdup (d->message_id);
      gsize n = strlen (id);
      if (id[0] == '<' && n > 1 && id[n - 1] == '>') {
        id[n - 1] = '\0';
        memmove (id, id + 1, n - 1);
      }
      if (!check_msgid ("message-id", id, error))
        goto out;
      g_mime_message_set_message_id (m, id);
    } else if (d->reproducible) {
      g_autofree char *h = derived (&b, "message-id", 0);
      g_autofree char *id = g_strdup_printf ("%.32s@%s", h, domain);
      g_mime_message_set_message_id (m, id);
    } else {
      if (strpbrk (domain, " <>@")) {
        g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_DATA,
                     "message-id-domain: '%s' is not a domain", domain);
        goto out;
      }
      g_autofree char *id = g_mime_utils_generate_message_id (domain);
      g_mime_message_set_message_id (m, id);
    }
  }

  const char *idfields[] = { "In-Reply-To", "References" };
  const char *idvalues[] = { d->in_reply_to, d->references };
  for (guint i = 0; i < G_N_ELEMENTS (idfields); i++) {
    if (!idvalues[i])
      continue;
    g_autofree char *v = msgid_list (idfields[i], idvalues[i], error);
    if (!v)
      goto out;
    g_mime_object_set_header (GMIME_OBJECT (m), idfields[i], v, NULL);
  }

  for (guint i = 0; i < d->headers->len; i++) {
    Header *h = g_ptr_array_index (d->headers, i);
    g_autofree char *check = msgtk_draft_encode_header (h->name, h->value, cs, error);
    if (!check)
      goto out;
    g_mime_object_append_header (GMIME_OBJECT (m), h->name, h->value, cs);
  }

  {
    GMimeObject *body = build_body (&b, error);
    if (!body)
      goto out;
    g_mime_message_set_mime_part (m, body);
    g_object_unref (body);
  }
  {
    GMimeObject *o = GMIME_OBJECT (m);
    struct {
      const char *name;
      GMimeAddressType type;
    } ah[] = { { "From", GMIME_ADDRESS_TYPE_FROM },
               { "Sender", GMIME_ADDRESS_TYPE_SENDER },
               { "Reply-To", GMIME_ADDRESS_TYPE_REPLY_TO },
               { "To", GMIME_ADDRESS_TYPE_TO },
               { "Cc", GMIME_ADDRESS_TYPE_CC },
               { "Bcc", GMIME_ADDRESS_TYPE_BCC } };
    for (guint i = 0; i < G_N_ELEMENTS (ah); i++)
      set_raw_addresses (o, ah[i].name, g_mime_message_get_addresses (m, ah[i].type), cs);
    if (d->subject)
      set_raw_text (o, "Subject", d->subject, cs);
    for (guint i = 0; i < d->headers->len; i++) {
      Header *h = g_ptr_array_index (d->headers, i);
      /* Only the first of repeated names can be reached by name: render all
       * instances of this name in order. */
      GMimeHeaderList *hl = g_mime_object_get_header_list (o);
      guint seen = 0;
      for (guint j = 0; j < i; j++)
        if (g_ascii_strcasecmp (((Header *)g_ptr_array_index (d->headers, j))->name, h->name) == 0)
          seen++;
      for (int k = 0; k < g_mime_header_list_get_count (hl); k++) {
        GMimeHeader *gh = g_mime_header_list_get_header_at (hl, k);
        if (g_ascii_strcasecmp (g_mime_header_get_name (gh), h->name) != 0 || seen-- > 0)
          continue;
        g_autoptr (GString) out = g_string_new (NULL);
        Folder f = { out, strlen (h->name) + 1 };
        encode_unstructured (&f, h->value, cs);
        g_string_append_c (out, '\n');
        g_mime_header_set_raw_value (gh, out->str);
        break;
      }
    }
  }
  result = g_steal_pointer (&m);
out:
  if (b.seed)
    g_checksum_free (b.seed);
  g_free (b.seed_hex);
  return result;
}

/* ---- JSON -------------------------------------------------------------- */

static char *
resolve (const char *base_dir, const char *path)
{
  if (!base_dir || g_path_is_absolute (path))
    return g_strdup (path);
  return g_build_filename (base_dir, path, NULL);
}

static gboolean
json_string (JsonNode *node, const char *key, const char **out, GError **error)
{
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING) {
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_DATA, "\"%s\" must be a string", key);
    return FALSE;
  }
  *out = json_node_get_string (node);
  return TRUE;
}

static gboolean
json_bool (JsonNode *node, const char *key, gboolean *out, GError **error)
{
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_BOOLEAN) {
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_DATA, "\"%s\" must be true or false", key);
    return FALSE;
  }
  *out = json_node_get_boolean (node);
  return TRUE;
}

static gboolean
read_body_file (const char *base_dir, const char *path, GBytes **out, GError **error)
{
  g_autofree char *full = resolve (base_dir, path);
  g_autoptr (GError) e = NULL;
  char *data;
  gsize len;
  if (!g_file_get_contents (full, &data, &len, &e)) {
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_NO_INPUT, "cannot read body file '%s': %s", full,
                 e->message);
    return FALSE;
  }
  *out = g_bytes_new_take (data, len);
  return TRUE;
}

static gboolean
json_attachment (MsgtkDraft *d, JsonNode *node, const char *base_dir, guint index, GError **error)
{
  if (!JSON_NODE_HOLDS_OBJECT (node)) {
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_DATA, "\"attachments\"[%u] must be an object",
                 index);
    return FALSE;
  }
  JsonObject *o = json_node_get_object (node);
  const char *path = NULL, *type = NULL, *name = NULL, *cid = NULL;
  gboolean inline_ = FALSE;
  g_autoptr (GList) members = json_object_get_members (o);
  for (GList *l = members; l; l = l->next) {
    const char *k = l->data;
    JsonNode *v = json_object_get_member (o, k);
    gboolean ok;
    if (g_str_equal (k, "path"))
      ok = json_string (v, k, &path, error);
    else if (g_str_equal (k, "type"))
      ok = json_string (v, k, &type, error);
    else if (g_str_equal (k, "name"))
      ok = json_string (v, k, &name, error);
    else if (g_str_equal (k, "cid"))
      ok = json_string (v, k, &cid, error);
    else if (g_str_equal (k, "inline"))
      ok = json_bool (v, k, &inline_, error);
    else {
      g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_DATA,
                   "\"attachments\"[%u]: unknown key \"%s\" (known: path, type, name, inline, "
                   "cid)",
                   index, k);
      return FALSE;
    }
    if (!ok)
      return FALSE;
  }
  if (!path) {
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_DATA, "\"attachments\"[%u] has no \"path\"",
                 index);
    return FALSE;
  }
  g_autofree char *full = resolve (base_dir, path);
  return msgtk_draft_add_attachment (d, full, type, name, inline_, cid, error);
}

static gboolean
json_fill (MsgtkDraft *d, JsonObject *o, const char *base_dir, GError **error)
{
  g_autoptr (GList) members = json_object_get_members (o);
  for (GList *l = members; l; l = l->next) {
    const char *k = l->data;
    JsonNode *v = json_object_get_member (o, k);
    const char *s = NULL;
    if (g_str_equal (k, "to") || g_str_equal (k, "cc") || g_str_equal (k, "bcc")
        || g_str_equal (k, "references")) {
      if (JSON_NODE_HOLDS_ARRAY (v)) {
        JsonArray *a = json_node_get_array (v);
        g_autoptr (GString) refs = g_string_new (NULL);
        for (guint i = 0; i < json_array_get_length (a); i++) {
          if (!json_string (json_array_get_element (a, i), k, &s, error))
            return FALSE;
          if (g_str_equal (k, "references"))
            g_string_append_printf (refs, "%s%s", refs->len ? " " : "", s);
          else if (!msgtk_draft_set (d, k, s, error))
            return FALSE;
        }
        if (refs->len && !msgtk_draft_set (d, k, refs->str, error))
          return FALSE;
        continue;
      }
    }
    if (g_str_equal (k, "headers")) {
      if (!JSON_NODE_HOLDS_OBJECT (v)) {
        g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_DATA,
                     "\"headers\" must be an object of \"Name\": \"value\"");
        return FALSE;
      }
      JsonObject *h = json_node_get_object (v);
      g_autoptr (GList) names = json_object_get_members (h);
      for (GList *n = names; n; n = n->next) {
        if (!json_string (json_object_get_member (h, n->data), n->data, &s, error)
            || !msgtk_draft_add_header (d, n->data, s, error))
          return FALSE;
      }
      continue;
    }
    if (g_str_equal (k, "attachments")) {
      if (!JSON_NODE_HOLDS_ARRAY (v)) {
        g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_DATA, "\"attachments\" must be an array");
        return FALSE;
      }
      JsonArray *a = json_node_get_array (v);
      for (guint i = 0; i < json_array_get_length (a); i++)
        if (!json_attachment (d, json_array_get_element (a, i), base_dir, i, error))
          return FALSE;
      continue;
    }
    if (g_str_equal (k, "keep-bcc")) {
      gboolean b;
      if (!json_bool (v, k, &b, error))
        return FALSE;
      d->keep_bcc = b;
      continue;
    }
    if (!json_string (v, k, &s, error))
      return FALSE;
    if (g_str_equal (k, "text") || g_str_equal (k, "html")) {
      g_autoptr (GBytes) bytes = g_bytes_new (s, strlen (s));
      if (k[0] == 't') {
        msgtk_draft_set_text (d, bytes);
        d->text_utf8 = TRUE;
      } else {
        msgtk_draft_set_html (d, bytes);
        d->html_utf8 = TRUE;
      }
      continue;
    }
    if (g_str_equal (k, "text-file") || g_str_equal (k, "html-file")) {
      g_autoptr (GBytes) bytes = NULL;
      if (!read_body_file (base_dir, s, &bytes, error))
        return FALSE;
      if (k[0] == 't')
        msgtk_draft_set_text (d, bytes);
      else
        msgtk_draft_set_html (d, bytes);
      continue;
    }
    g_autoptr (GError) e = NULL;
    if (!msgtk_draft_set (d, k, s, &e)) {
      if (g_error_matches (e, MSGTK_ERROR, MSGTK_ERROR_USAGE)
          && g_str_has_prefix (e->message, "unknown draft field"))
        g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_DATA, "unknown key \"%s\"", k);
      else
        g_propagate_error (error, g_steal_pointer (&e));
      return FALSE;
    }
  }
  return TRUE;
}

static MsgtkDraft *
draft_from_node (JsonNode *root, const char *base_dir, GError **error)
{
  if (!root || !JSON_NODE_HOLDS_OBJECT (root)) {
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_DATA, "a draft must be a JSON object");
    return NULL;
  }
  MsgtkDraft *d = msgtk_draft_new ();
  if (!json_fill (d, json_node_get_object (root), base_dir, error)) {
    msgtk_draft_free (d);
    return NULL;
  }
  return d;
}

MsgtkDraft *
msgtk_draft_new_from_json (const char *json, gssize length, const char *base_dir, GError **error)
{
  g_autoptr (JsonParser) p = json_parser_new_immutable ();
  g_autoptr (GError) e = NULL;
  if (!json_parser_load_from_data (p, json, length, &e)) {
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_DATA, "invalid JSON draft: %s", e->message);
    return NULL;
  }
  return draft_from_node (json_parser_get_root (p), base_dir, error);
}

GPtrArray *
msgtk_draft_parse_json_many (const char *data, gsize length, const char *base_dir, GError **error)
{
  g_autoptr (GPtrArray) drafts = g_ptr_array_new_with_free_func ((GDestroyNotify)msgtk_draft_free);
  /* JSON Lines when the first non-blank line is a whole JSON value by itself;
   * otherwise one JSON document spread over several lines. */
  {
    const char *s = data, *end = data + length;
    while (s < end && g_ascii_isspace (*s))
      s++;
    const char *nl = memchr (s, '\n', (gsize)(end - s));
    g_autoptr (JsonParser) first = json_parser_new_immutable ();
    if (nl && !json_parser_load_from_data (first, s, nl - s, NULL)) {
      g_autoptr (JsonParser) p = json_parser_new_immutable ();
      g_autoptr (GError) e = NULL;
      if (!json_parser_load_from_data (p, data, (gssize)length, &e)) {
        g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_DATA, "invalid JSON draft: %s", e->message);
        return NULL;
      }
      MsgtkDraft *d = draft_from_node (json_parser_get_root (p), base_dir, error);
      if (!d)
        return NULL;
      g_ptr_array_add (drafts, d);
      return g_steal_pointer (&drafts);
    }
  }
  /* JSON Lines. */
  const char *p = data, *end = data + length;
  guint lineno = 0;
  while (p < end) {
    const char *nl = memchr (p, '\n', (gsize)(end - p));
    const char *le = nl ? nl : end;
    lineno++;
    const char *s = p;
    while (s < le && g_ascii_isspace (*s))
      s++;
    if (s < le) {
      g_autoptr (GError) e = NULL;
      MsgtkDraft *d = msgtk_draft_new_from_json (s, le - s, base_dir, &e);
      if (!d) {
        g_set_error (error, e->domain, e->code, "line %u: %s", lineno, e->message);
        return NULL;
      }
      g_ptr_array_add (drafts, d);
    }
    p = nl ? nl + 1 : end;
  }
  if (drafts->len == 0) {
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_DATA, "no draft in the input (empty)");
    return NULL;
  }
  return g_steal_pointer (&drafts);
}
