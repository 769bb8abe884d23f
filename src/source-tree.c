/* msgtk — sources: a directory tree read into folders and entries, in one
 * walk, as every mail program leaves it (maildirs and maildir++ folders,
 * Thunderbird's .sbd trees, Apple Mail's .mbox bundles, MH folders with
 * .mh_sequences, Dovecot's keyword names), companions passed over, what
 * cannot be listed noted where it stands; the files are read later, each
 * told by its content (source.c). */
#include <msgtk/error.h>
#include <msgtk/source.h>
#include <msgtk/utf7.h>

#include "header-private.h"
#include "source-private.h"

#include <dirent.h>
#include <errno.h>
#include <glib/gstdio.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>

static void
entry_clear (gpointer p)
{
  Entry *e = p;
  g_free (e->path);
  g_clear_error (&e->problem);
}

static void
dir_free (gpointer p)
{
  Dir *d = p;
  g_free (d->path);
  g_free (d->folder);
  if (d->unseen != NULL)
    g_array_unref (d->unseen);
  for (guint i = 0; i < G_N_ELEMENTS (d->keywords); i++)
    g_free (d->keywords[i]);
  if (d->junk != NULL)
    g_ptr_array_unref (d->junk);
  g_free (d);
}

static gboolean
is_dir (const char *path)
{
  return g_file_test (path, G_FILE_TEST_IS_DIR);
}

gboolean
source_is_maildir (const char *dir)
{
  g_autofree char *cur = g_build_filename (dir, "cur", NULL);
  g_autofree char *new = g_build_filename (dir, "new", NULL);
  return is_dir (cur) || is_dir (new);
}

gboolean
source_all_digits (const char *s)
{
  if (*s == '\0')
    return FALSE;
  for (; *s; s++)
    if (!g_ascii_isdigit (*s))
      return FALSE;
  return TRUE;
}

/* Names made of digits first, by their numbers (MH's 1, 2, ... 10), then
 * the others by their bytes. */
static int
cmp_name (gconstpointer pa, gconstpointer pb)
{
  const char *a = *(const char *const *)pa, *b = *(const char *const *)pb;
  gboolean da = source_all_digits (a), db = source_all_digits (b);
  if (da != db)
    return da ? -1 : 1;
  if (da) {
    const char *x = a, *y = b;
    while (*x == '0' && x[1] != '\0')
      x++;
    while (*y == '0' && y[1] != '\0')
      y++;
    gsize lx = strlen (x), ly = strlen (y);
    if (lx != ly)
      return lx < ly ? -1 : 1;
    int c = strcmp (x, y);
    if (c != 0)
      return c;
  }
  return strcmp (a, b);
}

/* The names in @dir but "." and "..", sorted by cmp_name(); NULL with errno
 * set when it cannot be read. */
static GPtrArray *
list_dir (const char *dir)
{
  DIR *d = opendir (dir);
  if (d == NULL)
    return NULL;
  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);
  for (;;) {
    errno = 0;
    struct dirent *de = readdir (d);
    if (de == NULL)
      break;
    if (strcmp (de->d_name, ".") != 0 && strcmp (de->d_name, "..") != 0)
      g_ptr_array_add (names, g_strdup (de->d_name));
  }
  int e = errno;
  closedir (d);
  if (e != 0) {
    g_ptr_array_unref (names);
    errno = e;
    return NULL;
  }
  g_ptr_array_sort (names, cmp_name);
  return names;
}

static guint
dir_add (MsgtkSource *s, const char *path, const char *folder, gboolean bundle)
{
  Dir *d = g_new0 (Dir, 1);
  d->path = g_strdup (path);
  d->folder = g_strdup (folder);
  d->bundle = bundle;
  g_ptr_array_add (s->dirs, d);
  return s->dirs->len - 1;
}

static void
entry_add (MsgtkSource *s, guint dir, EntryKind kind, char *path)
{
  Entry e = { kind, dir, path, NULL };
  g_array_append_val (s->entries, e);
  Dir *d = s->dirs->pdata[dir];
  d->files++;
  d->last = s->entries->len - 1;
}

G_GNUC_PRINTF (4, 5)
static void
problem_add (MsgtkSource *s, guint dir, MsgtkError code, const char *format, ...)
{
  va_list ap;
  va_start (ap, format);
  Entry e = { ENTRY_PROBLEM, dir, NULL, g_error_new_valist (MSGTK_ERROR, (gint)code, format, ap) };
  va_end (ap);
  g_array_append_val (s->entries, e);
}

/* A directory that cannot be listed, told where it stands. */
static void
unlisted (MsgtkSource *s, guint dir, const char *path, int e)
{
  problem_add (s, dir, MSGTK_ERROR_NO_INPUT, "%s: cannot read the directory: %s", path,
               g_strerror (e));
}

/* "new/NAME" and "cur/NAME" by NAME */
static int
cmp_base (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *)a + 4, *(const char *const *)b + 4);
}

/* The keywords of the maildir @dir's letters a-z, from Dovecot's
 * dovecot-keywords ("N name" lines: letter a + N); beside cur/ and new/, or
 * above the one given alone. */
static void
maildir_keywords (Dir *d, const char *dir, const char *only)
{
  g_autofree char *top = only != NULL ? g_path_get_dirname (dir) : g_strdup (dir);
  g_autofree char *p = g_build_filename (top, "dovecot-keywords", NULL);
  g_autofree char *data = NULL;
  if (!g_file_get_contents (p, &data, NULL, NULL))
    return;
  g_auto (GStrv) lines = g_strsplit (data, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++) {
    char *end = NULL;
    guint64 n = g_ascii_strtoull (lines[i], &end, 10);
    if (end == lines[i] || *end != ' ' || n >= G_N_ELEMENTS (d->keywords))
      continue;
    g_free (d->keywords[n]);
    d->keywords[n] = msgtk_flags_keyword (g_strstrip (end + 1));
  }
}

/* The messages of the maildir @dir: the files of its new/ and cur/ (@only:
 * of that one alone, the directory given), in delivery order. */
static void
collect_maildir_folder (MsgtkSource *s, guint di, const char *dir, const char *only)
{
  maildir_keywords (s->dirs->pdata[di], dir, only);
  g_autoptr (GPtrArray) all = g_ptr_array_new_with_free_func (g_free);
  static const char *const subs[] = { "new", "cur" };
  for (guint k = 0; k < G_N_ELEMENTS (subs); k++) {
    if (only != NULL && strcmp (subs[k], only) != 0)
      continue;
    g_autofree char *sub = only != NULL ? g_strdup (dir) : g_build_filename (dir, subs[k], NULL);
    g_autoptr (GPtrArray) names = list_dir (sub);
    if (names == NULL) {
      if (errno != ENOENT)
        unlisted (s, di, sub, errno);
      continue;
    }
    for (guint i = 0; i < names->len; i++)
      if (((char *)names->pdata[i])[0] != '.') /* maildir's own rule: not a message */
        g_ptr_array_add (all, g_build_filename (subs[k], names->pdata[i], NULL));
  }
  /* Order by file name without the new/ or cur/ prefix: names start with the
   * delivery time, so this is delivery order wherever the file lives now. */
  g_ptr_array_sort (all, cmp_base);
  for (guint i = 0; i < all->len; i++) {
    const char *name = all->pdata[i];
    char *path = only != NULL ? g_build_filename (dir, name + 4, NULL)
                              : g_build_filename (dir, name, NULL);
    entry_add (s, di, ENTRY_MAILDIR, path);
  }
}

/* A folder's name from a file or directory name: decoded from modified
 * UTF-7 (as Dovecot and Courier store names) when it is that, else as it
 * is, made valid UTF-8. */
static char *
folder_name (const char *name)
{
  char *folder = msgtk_utf7_decode (name);
  return folder != NULL ? folder : g_utf8_make_valid (name, -1);
}

char *
source_folder_join (const char *folder, const char *name)
{
  g_autofree char *n = folder_name (name);
  return folder != NULL ? g_strconcat (folder, "/", n, NULL) : g_steal_pointer (&n);
}

/* The folder of the maildir++ directory ".@name": '/' between the names of
 * its hierarchy, each as folder_name() reads it. */
static char *
maildirpp_folder (const char *folder, const char *name)
{
  g_autofree char *f = source_folder_join (folder, name);
  gsize skip = folder != NULL ? strlen (folder) + 1 : 0;
  g_strdelimit (f + skip, ".", '/');
  return g_steal_pointer (&f);
}

gboolean
source_has_suffix (const char *name, const char *suffix)
{
  gsize n = strlen (name), k = strlen (suffix);
  return n > k && g_ascii_strcasecmp (name + n - k, suffix) == 0;
}

/* Files that mail programs keep beside their messages (indexes, state,
 * filters, folder settings) and the litter of file managers: passed over
 * quietly. */
static gboolean
companion_file (const char *name)
{
  static const char *const names[]
      = { /* Thunderbird */
          "msgFilterRules.dat", "popstate.dat", "filterlog.html", "junklog.html", "feeds.json",
          "feeditems.json", "feeds.rdf", "feeditems.rdf", "virtualFolders.dat",
          /* Apple Mail */
          "Info.plist", "table_of_contents",
          /* maildir++, Dovecot, Courier */
          "maildirfolder", "maildirsize", "subscriptions",
          /* file managers */
          "Thumbs.db", "desktop.ini", NULL
        };
  static const char *const prefixes[]
      = { "dovecot-", "dovecot.", "courierimap", "courierpop3d", NULL };
  static const char *const suffixes[]
      = { ".msf",      /* Thunderbird's index of the mbox beside it */
          ".emlxpart", /* Apple Mail: a part of a .partial.emlx message */
          ".cmeta",      ".ev-summary",      ".ev-summary-meta",
          ".ibex.index", ".ibex.index.data", /* Evolution */
          NULL };
  for (guint i = 0; names[i] != NULL; i++)
    if (strcmp (name, names[i]) == 0)
      return TRUE;
  for (guint i = 0; prefixes[i] != NULL; i++)
    if (g_str_has_prefix (name, prefixes[i]))
      return TRUE;
  for (guint i = 0; suffixes[i] != NULL; i++)
    if (source_has_suffix (name, suffixes[i]))
      return TRUE;
  return FALSE;
}

/* Directories of the same kind: Courier's keywords, Apple Mail's
 * attachments of partly downloaded messages. */
static gboolean
companion_dir (const char *name, gboolean bundle)
{
  return strcmp (name, "courierimapkeywords") == 0 || strcmp (name, "courierimaphieracl") == 0
         || (bundle && strcmp (name, "Attachments") == 0);
}

/* The unseen sequence of the MH folder @dir (nmh's Unseen-Sequence is
 * "unseen"), as pairs of numbers; NULL when @dir has no .mh_sequences. Its
 * lines are "name: numbers and ranges", with continuation lines as in a
 * header block (nmh reads it with its header reader). */
static GArray *
mh_unseen (const char *dir)
{
  g_autofree char *p = g_build_filename (dir, ".mh_sequences", NULL);
  g_autofree char *data = NULL;
  gsize len;
  if (!g_file_get_contents (p, &data, &len, NULL))
    return NULL;
  GArray *ranges = g_array_new (FALSE, FALSE, sizeof (guint64));
  g_autofree char *list = header_find (data, len, "unseen");
  g_auto (GStrv) words = list != NULL ? g_strsplit_set (list, " \t", -1) : NULL;
  for (guint i = 0; words != NULL && words[i] != NULL; i++) {
    char *end = NULL;
    guint64 first = g_ascii_strtoull (words[i], &end, 10), last = first;
    if (end == words[i])
      continue;
    if (*end == '-')
      last = g_ascii_strtoull (end + 1, NULL, 10);
    g_array_append_val (ranges, first);
    g_array_append_val (ranges, last);
  }
  return ranges;
}

/* A non-directory @path that stat() refused (@e), or that is not a file. */
static void
not_a_file (MsgtkSource *s, guint dir, const char *path, int e, const GStatBuf *st)
{
  if (st != NULL) {
    const char *what = S_ISFIFO (st->st_mode)   ? "a named pipe"
                       : S_ISSOCK (st->st_mode) ? "a socket"
                                                : "a device";
    problem_add (s, dir, MSGTK_ERROR_DATA, "%s: %s, not a file: not read", path, what);
    return;
  }
  GStatBuf lst;
  g_autofree char *target
      = g_lstat (path, &lst) == 0 && S_ISLNK (lst.st_mode) ? g_file_read_link (path, NULL) : NULL;
  g_autofree char *shown = target != NULL ? g_utf8_make_valid (target, -1) : NULL;
  if (target != NULL && (e == ENOENT || e == ENOTDIR))
    problem_add (s, dir, MSGTK_ERROR_NO_INPUT, "%s: dangling symbolic link (to %s)", path, shown);
  else if (target != NULL && e == ELOOP)
    problem_add (s, dir, MSGTK_ERROR_NO_INPUT, "%s: symbolic link in a loop (to %s)", path, shown);
  else
    problem_add (s, dir, MSGTK_ERROR_NO_INPUT, "%s: %s", path, g_strerror (e));
}

typedef struct {
  MsgtkSource *s;
  GHashTable *seen; /* "device:inode" of each directory read → its path */
} Walk;

static void walk (Walk *w, const char *path, const char *folder, gboolean bundle, guint depth);

/* The folder of the directory @name in a directory whose messages are in
 * @folder: Thunderbird's "X.sbd" and Apple Mail's bundle "X.mbox" are X;
 * inside a bundle, its own directories (Messages, Data/1/2, a UUID) add
 * nothing. */
static char *
subfolder (const char *folder, const char *name, gboolean bundle, gboolean *in_bundle)
{
  *in_bundle = bundle;
  g_autofree char *base = NULL;
  if (source_has_suffix (name, ".mbox")) {
    base = g_strndup (name, strlen (name) - 5);
    *in_bundle = TRUE;
  } else if (bundle) {
    return g_strdup (folder);
  } else if (source_has_suffix (name, ".sbd")) {
    base = g_strndup (name, strlen (name) - 4);
  } else {
    base = g_strdup (name);
  }
  return source_folder_join (folder, base);
}

/* Read the directory @path into the source's entries: its files (a
 * maildir's cur/ and new/, the rest told by their content when they are
 * reached), then its maildir++ folders, then its other directories, each a
 * folder under @folder. */
static void
walk (Walk *w, const char *path, const char *folder, gboolean bundle, guint depth)
{
  MsgtkSource *s = w->s;
  guint di = dir_add (s, path, folder, bundle);
  GStatBuf st;
  if (g_stat (path, &st) == 0) {
    char *key = g_strdup_printf ("%ju:%ju", (uintmax_t)st.st_dev, (uintmax_t)st.st_ino);
    const char *before = g_hash_table_lookup (w->seen, key);
    if (before != NULL) {
      problem_add (s, di, MSGTK_ERROR_DATA, "%s: the directory %s again (a link): read once", path,
                   before);
      g_free (key);
      return;
    }
    g_hash_table_insert (w->seen, key, g_strdup (path));
  }
  if (depth > 64) {
    problem_add (s, di, MSGTK_ERROR_DATA, "%s: more than 64 directories deep: not read", path);
    return;
  }
  g_autoptr (GPtrArray) names = list_dir (path);
  if (names == NULL) {
    unlisted (s, di, path, errno);
    return;
  }
  gboolean maildir = source_is_maildir (path);
  if (maildir)
    collect_maildir_folder (s, di, path, NULL);
  else
    ((Dir *)s->dirs->pdata[di])->unseen = mh_unseen (path);
  g_autoptr (GPtrArray) subdirs = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) maildirpp = g_ptr_array_new_with_free_func (g_free);
  gboolean visible = FALSE;
  for (guint i = 0; i < names->len; i++) {
    const char *name = names->pdata[i];
    g_autofree char *child = g_build_filename (path, name, NULL);
    if (name[0] == '.') {
      /* hidden: the state of mail programs (.mh_sequences, .mbsyncstate,
       * .notmuch, ...), except maildir++ folders and KMail's folders of
       * subfolders (.NAME.directory) */
      if (maildir && name[1] != '\0' && is_dir (child) && source_is_maildir (child))
        g_ptr_array_add (maildirpp, g_strdup (name));
      else if (source_has_suffix (name, ".directory") && strlen (name) > 11 && is_dir (child))
        g_ptr_array_add (subdirs, g_strdup (name));
      continue;
    }
    visible = TRUE;
    if (maildir
        && (strcmp (name, "cur") == 0 || strcmp (name, "new") == 0 || strcmp (name, "tmp") == 0))
      continue;
    GStatBuf cst;
    if (g_stat (child, &cst) != 0) {
      not_a_file (s, di, child, errno, NULL);
      continue;
    }
    if (S_ISDIR (cst.st_mode)) {
      if (!companion_dir (name, bundle))
        g_ptr_array_add (subdirs, g_strdup (name));
    } else if (!S_ISREG (cst.st_mode)) {
      not_a_file (s, di, child, 0, &cst);
    } else if (!companion_file (name)) {
      entry_add (s, di, ENTRY_FILE, g_steal_pointer (&child));
    }
  }
  if (!visible && !maildir && ((Dir *)s->dirs->pdata[di])->unseen == NULL && subdirs->len == 0)
    problem_add (s, di, MSGTK_ERROR_DATA, "%s: directory of 0 files, no message", path);
  for (guint i = 0; i < maildirpp->len; i++) {
    const char *name = maildirpp->pdata[i];
    g_autofree char *child = g_build_filename (path, name, NULL);
    g_autofree char *f = maildirpp_folder (folder, name + 1);
    collect_maildir_folder (s, dir_add (s, child, f, FALSE), child, NULL);
  }
  for (guint i = 0; i < subdirs->len; i++) {
    const char *name = subdirs->pdata[i];
    g_autofree char *child = g_build_filename (path, name, NULL);
    gboolean in_bundle = bundle;
    g_autofree char *f = NULL;
    if (name[0] == '.') { /* KMail: .NAME.directory holds NAME's subfolders */
      g_autofree char *base = g_strndup (name + 1, strlen (name) - 11);
      f = source_folder_join (folder, base);
    } else {
      f = subfolder (folder, name, bundle, &in_bundle);
    }
    walk (w, child, f, in_bundle, depth + 1);
  }
}

/* The entries of the directory @path: the one tree walk, or the files of a
 * maildir's cur/ or new/ given alone. */
void
source_collect_tree (MsgtkSource *s, const char *path)
{
  s->entries = g_array_new (FALSE, FALSE, sizeof (Entry));
  g_array_set_clear_func (s->entries, entry_clear);
  s->dirs = g_ptr_array_new_with_free_func (dir_free);
  g_autofree char *base = g_path_get_basename (path);
  if (s->format == MSGTK_SOURCE_FORMAT_MAILDIR && !source_is_maildir (path)
      && (strcmp (base, "cur") == 0 || strcmp (base, "new") == 0)) {
    collect_maildir_folder (s, dir_add (s, path, NULL, FALSE), path, base);
    return;
  }
  Walk w = { s, g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free) };
  walk (&w, path, NULL, source_has_suffix (base, ".mbox"), 0);
  g_hash_table_unref (w.seen);
}
