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
  g_autoptr (GDir) dir = g_dir_open (base_dir, 0, NULL);
  const char *name;
  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL) {
    g_autofree char *path = g_build_filename (base_dir, name, NULL);
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

static gboolean
text_names_outside (const char *text, gssize len)
{
  g_autoptr (JsonParser) p = json_parser_new_immutable ();
  return json_parser_load_from_data (p, text, len, NULL) && json_parser_get_root (p) != NULL
         && names_outside (json_parser_get_root (p));
}

/* Whether any way msgtk_draft_parse_json_many can read @data (the whole of
 * it, or any line as JSON Lines) names a file outside the base directory. */
static gboolean
input_names_outside (const char *data, gsize size)
{
  if (text_names_outside (data, (gssize)size))
    return TRUE;
  const char *p = data, *end = data + size;
  while (p < end) {
    const char *nl = memchr (p, '\n', (gsize)(end - p));
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

/* GMime 3.2.13's strict address parser leaks an addr-spec and a name (129
 * bytes) when it gives up on an address at a '>' that closes no '<' ("x>",
 * "a@b>", the "c>" of "<a@b,c>") or at a '<' after an addr-spec ("a@b
 * <c@d>"), as GMime issue #159 describes for its comments: whether @value
 * may be such an address list (over-cautious). */
static gboolean
gmime_may_leak (const char *value)
{
  g_auto (GStrv) pieces = g_strsplit_set (value, ",;:", -1);
  for (guint i = 0; pieces[i] != NULL; i++) {
    const char *p = pieces[i], *lt = strchr (p, '<'), *gt = strchr (p, '>');
    if (lt == NULL && gt == NULL)
      continue;
    /* what is safe: [phrase without '@'] '<' addr-spec '>' [spaces] */
    if (lt == NULL || gt == NULL || gt < lt || memchr (p, '@', (gsize)(lt - p)) != NULL
        || strchr (lt + 1, '<') != NULL || gt[1 + strspn (gt + 1, " \t")] != '\0')
      return TRUE;
  }
  return FALSE;
}

/* Whether an address field of the draft written as @node may make GMime leak. */
static gboolean
addresses_may_leak (JsonNode *node)
{
  static const char *const fields[] = { "from", "sender", "reply-to", "to", "cc", "bcc" };
  JsonObject *o = json_node_get_object (node);
  for (guint i = 0; i < G_N_ELEMENTS (fields); i++) {
    JsonNode *v = json_object_get_member (o, fields[i]);
    if (v != NULL && JSON_NODE_HOLDS_VALUE (v) && gmime_may_leak (json_node_get_string (v)))
      return TRUE;
    JsonArray *a = v != NULL && JSON_NODE_HOLDS_ARRAY (v) ? json_node_get_array (v) : NULL;
    for (guint k = 0; a != NULL && k < json_array_get_length (a); k++)
      if (gmime_may_leak (json_array_get_string_element (a, k)))
        return TRUE;
  }
  return FALSE;
}

/* LeakSanitizer's, when it is there: what is allocated between the two is
 * never reported as a leak. */
void __lsan_disable (void) __attribute__ ((weak));
void __lsan_enable (void) __attribute__ ((weak));

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
  if (input_names_outside ((const char *)data, size)) {
    fuzz_report (NULL, "skipped: a file outside", NULL);
    return;
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
    gboolean unchecked = addresses_may_leak (node) && __lsan_disable != NULL;
    if (unchecked)
      __lsan_disable ();
    draft_one (d, json);
    if (unchecked)
      __lsan_enable ();
  }
}

/* ---- header encoding ---- */

/* Only ASCII (8-bit text is in encoded words), folded with "\n " into
 * lines of at most 78 characters (the first one after "Subject: "), and
 * the text again once decoded and unfolded. */
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
  g_autoptr (GString) unfolded = g_string_new (value);
  g_string_replace (unfolded, "\n", "", 0);
  g_autofree char *decoded = g_mime_utils_header_decode_text (NULL, unfolded->str);
  if (strcmp (decoded, text) != 0)
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
