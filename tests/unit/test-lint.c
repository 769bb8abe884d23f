/* Unit tests of the one table of finding codes (lint.c): msgparse(1)'s list
 * of check codes and doc/VIOLATIONS.md name exactly its codes, with its
 * severities. */
#include <msgtk/msgtk.h>
#include <string.h>

static char *
read_doc (const char *name)
{
  const char *src = g_getenv ("MSGTK_SOURCE_DIR");
  g_autofree char *path = g_build_filename (src ? src : ".", "doc", name, NULL);
  char *text = NULL;
  g_autoptr (GError) e = NULL;
  g_assert_true (g_file_get_contents (path, &text, NULL, &e));
  g_assert_no_error (e);
  return text;
}

/* Every code of the table, and no other, in @docs (code → severity name). */
static void
check_against_table (GHashTable *docs, const char *where)
{
  guint n;
  const MsgtkLintCode *codes = msgtk_lint_codes (&n);
  for (guint i = 0; i < n; i++) {
    const char *sev = g_hash_table_lookup (docs, codes[i].code);
    if (sev == NULL)
      g_error ("%s does not list %s", where, codes[i].code);
    if (strcmp (sev, msgtk_severity_name (codes[i].severity)) != 0)
      g_error ("%s says %s is %s; the table says %s", where, codes[i].code, sev,
               msgtk_severity_name (codes[i].severity));
    g_assert_true (msgtk_lint_code_lookup (codes[i].code) == &codes[i]);
    g_assert_cmpstr (codes[i].summary, !=, "");
  }
  GHashTableIter it;
  gpointer code;
  g_hash_table_iter_init (&it, docs);
  while (g_hash_table_iter_next (&it, &code, NULL))
    if (msgtk_lint_code_lookup (code) == NULL)
      g_error ("%s lists %s, which is no code of the table", where, (const char *)code);
}

/* "*A* (warning), *B*, *C* (error)": a severity for the codes before it. */
static void
test_man_page (void)
{
  g_autofree char *man = read_doc ("msgparse.1.scd");
  const char *start = strstr (man, "\n# CHECK CODES");
  g_assert_nonnull (start);
  const char *end = strstr (start + 1, "\n# ");
  g_autofree char *section = g_strndup (start, end ? (gsize)(end - start) : strlen (start));
  g_autoptr (GHashTable) docs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autoptr (GRegex) re = g_regex_new ("\\*([A-Z0-9_]+)\\*|\\((info|warning|error)\\)", 0, 0, NULL);
  g_auto (GStrv) lines = g_strsplit (section, "\n", -1);
  for (guint l = 0; lines[l] != NULL; l++) {
    if (lines[l][0] != '*')
      continue;
    g_autoptr (GPtrArray) pending = g_ptr_array_new_with_free_func (g_free);
    g_autoptr (GMatchInfo) m = NULL;
    g_regex_match (re, lines[l], 0, &m);
    for (; g_match_info_matches (m); g_match_info_next (m, NULL)) {
      g_autofree char *code = g_match_info_fetch (m, 1);
      g_autofree char *sev = g_match_info_fetch (m, 2);
      if (code != NULL && *code) {
        g_ptr_array_add (pending, g_steal_pointer (&code));
        continue;
      }
      for (guint i = 0; i < pending->len; i++)
        g_hash_table_insert (docs, g_strdup (pending->pdata[i]), g_strdup (sev));
      g_ptr_array_set_size (pending, 0);
    }
    g_assert_cmpuint (pending->len, ==, 0); /* every code has its severity */
  }
  check_against_table (docs, "msgparse(1)");
}

/* "| `A` (lint), `B` (parser) | warning | ...": one severity for all, or
 * one per code. */
static void
test_violations (void)
{
  g_autofree char *text = read_doc ("VIOLATIONS.md");
  g_autoptr (GHashTable) docs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autoptr (GRegex) re = g_regex_new ("`([A-Z0-9_]+)`", 0, 0, NULL);
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  for (guint l = 0; lines[l] != NULL; l++) {
    if (!g_str_has_prefix (lines[l], "| `"))
      continue;
    g_auto (GStrv) cols = g_strsplit (lines[l], "|", -1);
    g_assert_cmpuint (g_strv_length (cols), >=, 3);
    g_autoptr (GPtrArray) found = g_ptr_array_new_with_free_func (g_free);
    g_autoptr (GMatchInfo) m = NULL;
    g_regex_match (re, cols[1], 0, &m);
    for (; g_match_info_matches (m); g_match_info_next (m, NULL))
      g_ptr_array_add (found, g_match_info_fetch (m, 1));
    g_auto (GStrv) sevs = g_strsplit (g_strstrip (cols[2]), ",", -1);
    guint ns = g_strv_length (sevs);
    g_assert_true (ns == 1 || ns == found->len);
    for (guint i = 0; i < found->len; i++)
      g_hash_table_insert (docs, g_strdup (found->pdata[i]),
                           g_strdup (g_strstrip (sevs[ns == 1 ? 0 : i])));
  }
  check_against_table (docs, "doc/VIOLATIONS.md");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/lint/man-page", test_man_page);
  g_test_add_func ("/lint/violations", test_violations);
  return g_test_run ();
}
