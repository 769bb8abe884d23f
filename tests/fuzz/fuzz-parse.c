/* libFuzzer target: arbitrary bytes through the source (as an mbox or a
 * single message), the inspect parser, every view, JSON and lint. Checks
 * that every string produced is valid UTF-8, that JSON round-trips, and that
 * the summary without a parsed message and the structure-only views are the
 * parsed message's. */
#include "fuzz-common.h"

#include <gmime/gmime.h>
#include <msgtk/msgtk.h>
#include <string.h>

static void
must_be_utf8 (const char *s)
{
  if (s != NULL && !g_utf8_validate (s, -1, NULL))
    __builtin_trap ();
}

static void
inspect_one (GBytes *raw)
{
  g_autoptr (MsgtkInspection) in = msgtk_inspection_new (raw, NULL, MSGTK_INSPECT_FULL, NULL);
  if (in == NULL)
    return;
  g_autofree char *summary = msgtk_inspection_summary (in);
  g_autofree char *fast = msgtk_inspect_summary (raw, (goffset)g_bytes_get_size (raw), NULL, NULL);
  if (g_strcmp0 (summary, fast) != 0)
    __builtin_trap ();
  g_autofree char *headers = msgtk_inspection_headers (in, FALSE);
  g_autofree char *raw_headers = msgtk_inspection_headers (in, TRUE);
  g_autofree char *tree = msgtk_inspection_tree (in);
  g_autofree char *text = msgtk_inspection_text (in);
  must_be_utf8 (summary);
  must_be_utf8 (headers);
  must_be_utf8 (raw_headers);
  must_be_utf8 (tree);
  must_be_utf8 (text);
  g_autoptr (JsonNode) node = msgtk_inspection_to_json (in);
  g_autofree char *json = json_to_string (node, FALSE);
  must_be_utf8 (json);
  g_autoptr (JsonParser) parser = json_parser_new ();
  if (!json_parser_load_from_data (parser, json, -1, NULL))
    __builtin_trap ();
  g_autoptr (GPtrArray) findings = msgtk_inspection_check (in);
  for (guint i = 0; i < findings->len; i++) {
    MsgtkFinding *f = findings->pdata[i];
    must_be_utf8 (f->code);
    must_be_utf8 (f->location);
    must_be_utf8 (f->message);
  }
  g_autoptr (GBytes) part = msgtk_inspection_part_content (in, "1", TRUE, NULL);
  /* the structure-only inspection shows the same */
  g_autoptr (MsgtkInspection) st = msgtk_inspection_new (raw, NULL, MSGTK_INSPECT_STRUCTURE, NULL);
  if (st == NULL)
    __builtin_trap ();
  g_autofree char *st_tree = msgtk_inspection_tree (st);
  g_autofree char *st_text = msgtk_inspection_text (st);
  g_autofree char *st_headers = msgtk_inspection_headers (st, FALSE);
  g_autoptr (GBytes) st_part = msgtk_inspection_part_content (st, "1", TRUE, NULL);
  if (strcmp (st_tree, tree) != 0 || strcmp (st_text, text) != 0
      || strcmp (st_headers, headers) != 0 || (part == NULL) != (st_part == NULL)
      || (part != NULL && !g_bytes_equal (part, st_part)))
    __builtin_trap ();
}

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  static gboolean ready;
  if (!ready) {
    g_mime_init ();
    ready = TRUE;
  }
  g_autoptr (GBytes) whole = g_bytes_new (data, size);
  inspect_one (whole);
  /* the same bytes as an mbox: every message it yields */
  g_autoptr (GInputStream) in = g_memory_input_stream_new_from_bytes (whole);
  g_autoptr (MsgtkSource) source
      = msgtk_source_new_for_stream (in, "fuzz", MSGTK_SOURCE_FORMAT_MBOX, NULL);
  /* and read headers-only (as the summary does): the same messages and sizes */
  g_autoptr (GInputStream) in2 = g_memory_input_stream_new_from_bytes (whole);
  g_autoptr (MsgtkSource) heads
      = msgtk_source_new_for_stream (in2, "fuzz", MSGTK_SOURCE_FORMAT_MBOX, NULL);
  if ((source == NULL) != (heads == NULL))
    __builtin_trap ();
  if (heads != NULL)
    msgtk_source_set_headers_only (heads, TRUE);
  guint n = 0;
  MsgtkItem *item;
  while (source != NULL && n++ < 64 && (item = msgtk_source_next (source, NULL)) != NULL) {
    g_autoptr (GBytes) b = msgtk_item_read_bytes (item, NULL);
    if (b == NULL || (goffset)g_bytes_get_size (b) != item->size)
      __builtin_trap ();
    g_autoptr (MsgtkItem) head = msgtk_source_next (heads, NULL);
    if (head == NULL || head->size != item->size || head->offset != item->offset)
      __builtin_trap ();
    if (n <= 4)
      inspect_one (b);
    msgtk_item_free (item);
  }
  return 0;
}
