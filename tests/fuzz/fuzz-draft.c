/* libFuzzer target: JSON drafts, and header encoding.
 *
 * The input as drafts (msgtk_draft_parse_json_many: one JSON object, or
 * JSON Lines): each one built in reproducible mode and written out with
 * g_mime_object_write_to_stream; building it again, and building what
 * msgtk_draft_to_json says of it, must give the same bytes. Files that
 * drafts name are taken from a temporary directory of this target's own
 * (made once, holding the few small files data/examples refers to, removed
 * at exit); an input that names a file by an absolute path or with ".." is
 * skipped, so nothing else of the machine is read.
 *
 * The input as UTF-8 text through msgtk_encode_header with a few charsets:
 * the result is the text again once decoded, and nothing but printable
 * ASCII, spaces and folds. */
#include "fuzz-common.h"
#include "gmime-autoptr-private.h"

#include <glib/gstdio.h>
#include <msgtk/msgtk.h>
#include <stdlib.h>
#include <string.h>

#define EPOCH 1700000000

static char *base_dir;

static const struct {
  const char *name;
  const char *content;
  gsize len;
} files[] = {
#define FILE_(name, content)                                                                       \
  {                                                                                                \
    name, content, sizeof content - 1                                                              \
  }
  FILE_ ("report.txt", "Weekly report\n\n\xc3\xa9t\xc3\xa9: 3 builds\n"),
  FILE_ ("report.html", "<p>Weekly report <img src=\"cid:logo@msgtk.example\"></p>\n"),
  FILE_ ("report.csv", "build,status\r\n1,ok\r\n2,failed\r\n"),
  FILE_ ("logo.png", "\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\1\0\0\0\1\10\6\0\0\0"),
  FILE_ ("empty", ""),
#undef FILE_
};

static void
remove_base_dir (void)
{
  /* what the target put there: msgtk writes nothing there */
  for (guint i = 0; i < G_N_ELEMENTS (files); i++) {
    g_autofree char *path = g_build_filename (base_dir, files[i].name, NULL);
    g_remove (path);
  }
  g_rmdir (base_dir);
}

static void
make_base_dir (void)
{
  base_dir = g_dir_make_tmp ("fuzz-draft-XXXXXX", NULL);
  if (base_dir == NULL)
    abort ();
  atexit (remove_base_dir);
  for (guint i = 0; i < G_N_ELEMENTS (files); i++) {
    g_autofree char *path = g_build_filename (base_dir, files[i].name, NULL);
    if (!g_file_set_contents (path, files[i].content, (gssize)files[i].len, NULL))
      abort ();
  }
}

/* ---- leaks of GMime and json-glib ----
 * Two leaks of the libraries below msgtk would end every run that meets
 * them: json-glib 1.6.6 parses every top-level value of a text ("{} {}",
 * "\"s\" []") and leaks all but the last; GMime 3.2.13's strict address
 * parser leaks an addr-spec and a name when it gives up at a '>' that closes
 * no '<' ("x>", "a@b>", the "c>" of "<a@b,c>") or at a '<' after an
 * addr-spec ("a@b <c@d>"), much as GMime issue #159 describes. An input that
 * makes them leak (measured: the bytes allocated before and after the same
 * call msgtk makes) is checked for everything else, with LeakSanitizer off. */

/* the sanitizers' (absent without them) */
size_t __sanitizer_get_current_allocated_bytes (void) __attribute__ ((weak));
void __lsan_disable (void) __attribute__ ((weak));
void __lsan_enable (void) __attribute__ ((weak));

static gboolean third_party_leak; /* the input makes GMime or json-glib leak */

static size_t
leak_probe_start (void)
{
  if (__lsan_disable == NULL || __sanitizer_get_current_allocated_bytes == NULL)
    return 0;
  __lsan_disable ();
  return __sanitizer_get_current_allocated_bytes ();
}

static void
leak_probe_end (size_t before)
{
  if (__lsan_disable == NULL || __sanitizer_get_current_allocated_bytes == NULL)
    return;
  if (__sanitizer_get_current_allocated_bytes () > before)
    third_party_leak = TRUE;
  __lsan_enable ();
}

/* GMime's address parsers as msgtk uses them (strict; loose for the first
 * address's domain) on @value. */
static void
probe_addresses (const char *value)
{
  size_t before = leak_probe_start ();
  GMimeParserOptions *po = g_mime_parser_options_new ();
  g_mime_parser_options_set_address_compliance_mode (po, GMIME_RFC_COMPLIANCE_STRICT);
  InternetAddressList *list = internet_address_list_parse (po, value);
  g_clear_object (&list);
  list = internet_address_list_parse (NULL, value);
  g_clear_object (&list);
  g_mime_parser_options_free (po);
  leak_probe_end (before);
}

/* The address fields of a draft written as @node. */
static void
probe_draft_addresses (JsonNode *node)
{
  static const char *const fields[] = { "from", "sender", "reply-to", "to", "cc", "bcc" };
  JsonObject *o = json_node_get_object (node);
  for (guint i = 0; i < G_N_ELEMENTS (fields); i++) {
    JsonNode *v = json_object_get_member (o, fields[i]);
    if (v != NULL && JSON_NODE_HOLDS_VALUE (v))
      probe_addresses (json_node_get_string (v));
    JsonArray *a = v != NULL && JSON_NODE_HOLDS_ARRAY (v) ? json_node_get_array (v) : NULL;
    for (guint k = 0; a != NULL && k < json_array_get_length (a); k++)
      probe_addresses (json_array_get_string_element (a, k));
  }
}

/* ---- drafts ---- */

static gboolean
outside (const char *path)
{
  return g_path_is_absolute (path) || strstr (path, "..") != NULL;
}

/* Whether @node names a file outside the base directory: a "path",
 * "text-file" or "html-file" member anywhere in it. */
static gboolean
names_outside (JsonNode *node)
{
  if (JSON_NODE_HOLDS_ARRAY (node)) {
    JsonArray *a = json_node_get_array (node);
    for (guint i = 0; i < json_array_get_length (a); i++)
      if (names_outside (json_array_get_element (a, i)))
        return TRUE;
  } else if (JSON_NODE_HOLDS_OBJECT (node)) {
    JsonObject *o = json_node_get_object (node);
    g_autoptr (GList) members = json_object_get_members (o);
    for (GList *l = members; l != NULL; l = l->next) {
      JsonNode *v = json_object_get_member (o, l->data);
      if ((g_str_equal (l->data, "path") || g_str_equal (l->data, "text-file")
           || g_str_equal (l->data, "html-file"))
          && JSON_NODE_HOLDS_VALUE (v) && json_node_get_value_type (v) == G_TYPE_STRING
          && outside (json_node_get_string (v)))
        return TRUE;
      if (names_outside (v))
        return TRUE;
    }
  }
  return FALSE;
}

/* Whether @text read as msgtk reads it names a file outside the base
 * directory (and whether json-glib leaks on it). */
static gboolean
text_names_outside (const char *text, gssize len)
{
  size_t before = leak_probe_start ();
  JsonParser *p = json_parser_new_immutable ();
  gboolean outside = json_parser_load_from_data (p, text, len, NULL)
                     && json_parser_get_root (p) != NULL
                     && names_outside (json_parser_get_root (p));
  g_object_unref (p);
  leak_probe_end (before);
  return outside;
}

/* Whether what msgtk_draft_parse_json_many reads of @data names a file
 * outside the base directory: it reads the first non-blank line, and then
 * the whole of @data as one JSON document when that line is no JSON value by
 * itself, else each line (JSON Lines). */
static gboolean
input_names_outside (const char *data, gsize size)
{
  const char *p = data, *end = data + size;
  while (p < end && g_ascii_isspace (*p))
    p++;
  const char *nl = memchr (p, '\n', (gsize)(end - p));
  if (nl != NULL) {
    size_t before = leak_probe_start ();
    JsonParser *first = json_parser_new_immutable ();
    gboolean lines = json_parser_load_from_data (first, p, nl - p, NULL);
    g_object_unref (first);
    leak_probe_end (before);
    if (!lines)
      return text_names_outside (data, (gssize)size);
  }
  while (p < end) {
    nl = memchr (p, '\n', (gsize)(end - p));
    const char *le = nl ? nl : end;
    while (p < le && g_ascii_isspace (*p))
      p++;
    if (p < le && text_names_outside (p, le - p))
      return TRUE;
    p = nl ? nl + 1 : end;
  }
  return FALSE;
}

/* The message of @draft (reproducible) as bytes, NULL when it cannot be built. */
static GBytes *
build (MsgtkDraft *draft)
{
  msgtk_draft_set_reproducible (draft, TRUE, EPOCH);
  g_autoptr (GError) error = NULL;
  g_autoptr (GMimeMessage) m = msgtk_draft_build (draft, &error);
  fuzz_report (NULL, "build", error);
  if ((m == NULL) == (error == NULL))
    __builtin_trap ();
  if (m == NULL)
    return NULL;
  g_autoptr (GMimeStream) out = g_mime_stream_mem_new ();
  if (g_mime_object_write_to_stream (GMIME_OBJECT (m), NULL, out) < 0)
    __builtin_trap ();
  GByteArray *bytes = g_mime_stream_mem_get_byte_array (GMIME_STREAM_MEM (out));
  return g_bytes_new (bytes->data, bytes->len);
}

static void
draft_one (MsgtkDraft *d, const char *json)
{
  g_autoptr (GBytes) built = build (d);
  if (built == NULL)
    return;
  g_autoptr (GBytes) again = build (d);
  if (again == NULL || !g_bytes_equal (built, again))
    __builtin_trap ();
  /* what the draft says of itself makes the same message */
  g_autoptr (GError) reread = NULL;
  g_autoptr (MsgtkDraft) copy = msgtk_draft_new_from_json (json, -1, base_dir, &reread);
  if (copy == NULL)
    __builtin_trap ();
  g_autoptr (GBytes) copied = build (copy);
  if (copied == NULL || !g_bytes_equal (built, copied))
    __builtin_trap ();
}

static void
drafts (const guint8 *data, size_t size)
{
  third_party_leak = FALSE;
  if (input_names_outside ((const char *)data, size)) {
    fuzz_report (NULL, "skipped: a file outside", NULL);
    return;
  }
  /* what json-glib leaks on the input, it leaks in msgtk_draft_parse_json_many too */
  gboolean unchecked = third_party_leak;
  if (unchecked) {
    fuzz_report (NULL, "json-glib leaks on it: no leak check", NULL);
    __lsan_disable ();
  }
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) drafts
      = msgtk_draft_parse_json_many ((const char *)data, size, base_dir, &error);
  fuzz_report (NULL, "parse", error);
  if ((drafts == NULL) == (error == NULL))
    __builtin_trap ();
  for (guint i = 0; drafts != NULL && i < drafts->len && i < 8; i++) {
    MsgtkDraft *d = drafts->pdata[i];
    g_autoptr (JsonNode) node = msgtk_draft_to_json (d);
    g_autofree char *json = json_to_string (node, FALSE);
    if (!g_utf8_validate (json, -1, NULL))
      __builtin_trap ();
    third_party_leak = FALSE;
    probe_draft_addresses (node);
    gboolean leaks = !unchecked && third_party_leak;
    if (leaks)
      fuzz_report (NULL, "GMime leaks on its addresses: no leak check", NULL);
    if (leaks)
      __lsan_disable ();
    draft_one (d, json);
    if (leaks)
      __lsan_enable ();
  }
  if (unchecked)
    __lsan_enable ();
}

/* ---- header encoding ---- */

/* Only ASCII (8-bit text is in encoded words; control characters pass as
 * they are), folded with "\n " into lines of at most 78 characters (the
 * first one after "Subject: "), and the text again once decoded and
 * unfolded (but for spaces at either end) when it has no control
 * characters. */
static void
check_encoded (const char *text, const char *value)
{
  gsize column = strlen ("Subject: ");
  for (const char *p = value; *p; p++) {
    if ((guchar)*p >= 0x80 || *p == '\r' || (*p == '\n' && p[1] != ' '))
      __builtin_trap ();
    column = *p == '\n' ? 0 : column + 1;
    if (column > 78)
      __builtin_trap ();
  }
  /* "Subject:" CRLF SP value when the first word does not fit after "Subject: " */
  /* control characters (ESC in ISO-2022-JP...) need not come back */
  for (const char *p = text; *p; p++)
    if (((guchar)*p < 0x20 && *p != '\t') || *p == 0x7f)
      return;
  g_autoptr (GString) unfolded = g_string_new (g_str_has_prefix (value, "\n ") ? value + 2 : value);
  g_string_replace (unfolded, "\n", "", 0);
  g_autofree char *decoded = g_mime_utils_header_decode_text (NULL, unfolded->str);
  /* spaces around a header value say nothing: those inside must stay */
  g_autofree char *expected = g_strdup (text);
  if (strcmp (g_strstrip (decoded), g_strstrip (expected)) != 0)
    __builtin_trap ();
}

static void
encode (const char *text)
{
  static const char *const charsets[]
      = { NULL, "UTF-8", "ISO-8859-1", "windows-1252", "KOI8-R", "ISO-2022-JP", "GB18030" };
  for (guint i = 0; i < G_N_ELEMENTS (charsets); i++) {
    g_autoptr (GError) error = NULL;
    g_autofree char *value = msgtk_encode_header ("Subject", text, charsets[i], &error);
    if ((value == NULL) == (error == NULL))
      __builtin_trap ();
    if (value != NULL)
      check_encoded (text, value);
  }
}

static void
headers (const guint8 *data, size_t size)
{
  g_autofree char *text = g_strndup ((const char *)data, size);
  encode (text);
  if (!g_utf8_validate (text, -1, NULL)) {
    g_autofree char *valid = g_utf8_make_valid (text, -1);
    encode (valid);
  }
}

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  if (base_dir == NULL) {
    msgtk_init ();
    make_base_dir ();
  }
  drafts (data, size);
  headers (data, size);
  return 0;
}
