/* msgtk — extraction: a message's attachments written into a directory under
 * safe, unique names. */
#include <msgtk/error.h>
#include <msgtk/extract.h>
#include <msgtk/view.h>

#include "extract-private.h"
#include "inspect-private.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#define MAX_NAME_BYTES 200

static const struct {
  const char *type;
  const char *ext;
} extensions[] = {
  { "text/plain", ".txt" },
  { "text/html", ".html" },
  { "text/calendar", ".ics" },
  { "text/csv", ".csv" },
  { "image/png", ".png" },
  { "image/jpeg", ".jpg" },
  { "image/gif", ".gif" },
  { "image/svg+xml", ".svg" },
  { "application/pdf", ".pdf" },
  { "application/zip", ".zip" },
  { "application/json", ".json" },
  { "message/rfc822", ".eml" },
  { "application/pgp-signature", ".asc" },
  { "application/pkcs7-signature", ".p7s" },
};

static gboolean
is_reserved_device (const char *name)
{
  static const char *const devs[]
      = { "CON",  "PRN",  "AUX",  "NUL",  "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7",
          "COM8", "COM9", "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9" };
  const char *dot = strchr (name, '.');
  gsize stem = dot != NULL ? (gsize)(dot - name) : strlen (name);
  for (guint i = 0; i < G_N_ELEMENTS (devs); i++)
    if (strlen (devs[i]) == stem && g_ascii_strncasecmp (name, devs[i], stem) == 0)
      return TRUE;
  return FALSE;
}

char *
msgtk_inspect_safe_name (const char *name, const char *mime_type, const char *number)
{
  GString *g = g_string_new (NULL);
  if (name != NULL) {
    g_autofree char *v = g_utf8_make_valid (name, -1);
    for (const char *p = v; *p; p = g_utf8_next_char (p)) {
      gunichar c = g_utf8_get_char (p);
      if (c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0) || c == '/' || c == '\\' || c == ':'
          || c == '*' || c == '?' || c == '"' || c == '<' || c == '>' || c == '|' || c == 0xfffd
          || g_unichar_type (c) == G_UNICODE_FORMAT)
        g_string_append_c (g, '_');
      else
        g_string_append_unichar (g, c);
    }
  }
  /* no "..": collapse dot runs; no leading dots or spaces, no trailing ones */
  char *s;
  while ((s = strstr (g->str, "..")) != NULL)
    g_string_erase (g, s - g->str, 1);
  gsize lead = 0;
  while (lead < g->len && (g->str[lead] == '.' || g->str[lead] == ' '))
    lead++;
  g_string_erase (g, 0, (gssize)lead);
  while (g->len > 0 && (g->str[g->len - 1] == '.' || g->str[g->len - 1] == ' '))
    g_string_truncate (g, g->len - 1);
  if (g->len == 0) {
    const char *ext = ".bin";
    for (guint i = 0; i < G_N_ELEMENTS (extensions); i++)
      if (mime_type != NULL && g_ascii_strcasecmp (mime_type, extensions[i].type) == 0)
        ext = extensions[i].ext;
    g_string_printf (g, "part-%s%s", number != NULL ? number : "1", ext);
  }
  if (is_reserved_device (g->str))
    g_string_prepend_c (g, '_');
  if (g->len > MAX_NAME_BYTES) {
    /* keep a short extension, cut the stem at a character boundary */
    const char *dot = strrchr (g->str, '.');
    g_autofree char *ext = dot != NULL && strlen (dot) <= 16 ? g_strdup (dot) : g_strdup ("");
    gsize keep = MAX_NAME_BYTES - strlen (ext);
    const char *cut = g->str + keep;
    while (cut > g->str && (((guchar)*cut) & 0xc0) == 0x80)
      cut--;
    g_string_truncate (g, (gsize)(cut - g->str));
    g_string_append (g, ext);
  }
  return g_string_free (g, FALSE);
}

ExtractNames *
extract_names_new (void)
{
  return g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
}

void
extract_names_free (ExtractNames *names)
{
  if (names != NULL)
    g_hash_table_unref (names);
}

/* Create @dir/@name exclusively, adding " (1)", " (2)" … before the
 * extension until the name is free, from the number @names says was the
 * last one given out for it. */
static int
create_unique (const char *dir, const char *name, ExtractNames *names, char **path_out,
               GError **error)
{
  const char *dot = strrchr (name, '.');
  if (dot == name)
    dot = NULL;
  g_autofree char *stem = dot != NULL ? g_strndup (name, (gsize)(dot - name)) : g_strdup (name);
  const char *ext = dot != NULL ? dot : "";
  guint i = GPOINTER_TO_UINT (g_hash_table_lookup (names, name));
  for (;; i++) {
    g_autofree char *candidate
        = i == 0 ? g_strdup (name) : g_strdup_printf ("%s (%u)%s", stem, i, ext);
    g_autofree char *path = g_build_filename (dir, candidate, NULL);
    int fd = g_open (path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd >= 0) {
      g_hash_table_insert (names, g_strdup (name), GUINT_TO_POINTER (i + 1));
      *path_out = g_steal_pointer (&path);
      return fd;
    }
    if (errno != EEXIST || i == G_MAXUINT - 1) {
      int e = errno;
      g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_CANT_CREATE, "cannot create '%s': %s", path,
                   g_strerror (e));
      return -1;
    }
  }
}

/* The whole of @data into @fd (closed), as @path. */
static gboolean
write_file (int fd, const char *path, const char *data, gsize len, GError **error)
{
  while (len > 0) {
    ssize_t w = write (fd, data, len);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0) {
      int e = w < 0 ? errno : ENOSPC;
      close (fd);
      g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_IO, "cannot write '%s': %s", path,
                   g_strerror (e));
      return FALSE;
    }
    data += w;
    len -= (gsize)w;
  }
  if (close (fd) != 0) {
    int e = errno;
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_IO, "cannot write '%s': %s", path, g_strerror (e));
    return FALSE;
  }
  return TRUE;
}

/* ---- in two steps: what to write (any thread), then writing it (in order) ---- */

struct _ExtractPlan {
  GPtrArray *names;    /* safe names */
  GPtrArray *contents; /* GBytes */
};

void
extract_plan_free (ExtractPlan *plan)
{
  if (plan == NULL)
    return;
  g_ptr_array_unref (plan->names);
  g_ptr_array_unref (plan->contents);
  g_free (plan);
}

ExtractPlan *
extract_plan (MsgtkInspection *in, gboolean to_utf8, GError **error)
{
  InspectNode *body = inspect_body_node (in, "plain");
  if (body == NULL)
    body = inspect_body_node (in, "html");
  ExtractPlan *plan = g_new0 (ExtractPlan, 1);
  plan->names = g_ptr_array_new_with_free_func (g_free);
  plan->contents = g_ptr_array_new_with_free_func ((GDestroyNotify)g_bytes_unref);
  for (guint i = 0; i < inspection_nodes (in)->len; i++) {
    InspectNode *n = inspection_nodes (in)->pdata[i];
    if (!n->leaf || n == body)
      continue;
    g_autofree char *type = inspect_content_type (n->object);
    g_autofree char *fn = inspect_part_filename (in, n->object);
    GBytes *content = msgtk_inspection_part_content (in, n->number, to_utf8, error);
    if (content == NULL) {
      extract_plan_free (plan);
      return NULL;
    }
    g_ptr_array_add (plan->names, msgtk_inspect_safe_name (fn, type, n->number));
    g_ptr_array_add (plan->contents, content);
  }
  return plan;
}

char **
extract_write (ExtractPlan *plan, const char *dir, ExtractNames *names, GError **error)
{
  if (g_mkdir_with_parents (dir, 0755) != 0) {
    int e = errno;
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_CANT_CREATE, "cannot create directory '%s': %s",
                 dir, g_strerror (e));
    return NULL;
  }
  g_autoptr (GPtrArray) written = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < plan->names->len; i++) {
    char *path = NULL;
    int fd = create_unique (dir, plan->names->pdata[i], names, &path, error);
    if (fd >= 0)
      g_ptr_array_add (written, path);
    gsize len;
    const char *data = g_bytes_get_data (plan->contents->pdata[i], &len);
    if (fd < 0 || !write_file (fd, path, data, len, error)) {
      /* nothing of this message stays: no file cut short under its name */
      for (guint k = 0; k < written->len; k++)
        g_unlink (written->pdata[k]);
      return NULL;
    }
  }
  g_ptr_array_add (written, NULL);
  return (char **)g_ptr_array_free (g_steal_pointer (&written), FALSE);
}

char **
msgtk_inspection_extract (MsgtkInspection *in, const char *dir, gboolean to_utf8, GError **error)
{
  ExtractPlan *plan = extract_plan (in, to_utf8, error);
  if (plan == NULL)
    return NULL;
  ExtractNames *names = extract_names_new ();
  char **paths = extract_write (plan, dir, names, error);
  extract_names_free (names);
  extract_plan_free (plan);
  return paths;
}
