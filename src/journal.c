/* msgtk — the resume journal of uploads.
 *
 * The file, one record a line (fields separated by one space; the last one
 * may not hold a newline):
 *
 *   msgtk-journal 2                       the first line
 *   M ID UIDVALIDITY TARGET               target ID (numbered from 1) under
 *                                         that UIDVALIDITY
 *   P ID LOWUID SIZE KEY                  KEY about to be sent to ID; if stored,
 *                                         its UID is LOWUID at least
 *   S ID UID KEY                          KEY stored in ID (UID 0: not known)
 *   X ID KEY                              KEY not stored in ID (refused, or not
 *                                         found after an interruption)
 *   L UIDVALIDITY UID SHA256 MAILBOX      an entry of an older journal (no
 *                                         server named; MAILBOX C-escaped)
 *   D UIDVALIDITY MAILBOX                 the L entries of MAILBOX under that
 *                                         UIDVALIDITY were checked (done)
 *
 * The older journal (msgtk 0.1): "SHA256\tMAILBOX\tIDENTITY\tUIDVALIDITY\tUID"
 * for a stored message, "P\tKEY" for one sent; it is converted when opened
 * (its stored entries become L records, its pending ones are dropped: their
 * messages are uploaded again). */
#include <msgtk/error.h>
#include <msgtk/journal.h>

#include "wire-private.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define HEADER "msgtk-journal 2\n"
/* how long after an interrupted run the server may still be storing what
 * reached it before the client died (microseconds) */
#define SETTLE_US G_USEC_PER_SEC

typedef struct {
  guint32 lowuid;
  guint64 size;
} Pending;

struct _MsgtkJournalBox {
  MsgtkJournal *j;
  guint id;
  char *target;
  guint32 uidvalidity;
  GHashTable *stored;  /* key → its UID (0: not known) */
  GHashTable *uids;    /* the UIDs of stored messages */
  GHashTable *pending; /* key → Pending */
  guint32 known;       /* the highest UID known to be taken */
  gboolean bound;      /* bound in this run */
};

typedef struct {
  guint32 uidvalidity, uid;
  char *sha256;
  char *mailbox; /* C-escaped */
} Legacy;

struct _MsgtkJournal {
  GMutex lock;      /* everything below */
  GMutex bind_lock; /* one bind at a time (it may ask the server) */
  int fd;
  char *path;
  GPtrArray *boxes;        /* MsgtkJournalBox, id - 1 → box */
  GHashTable *by_target;   /* target → GPtrArray of its boxes (no free) */
  GPtrArray *legacy;       /* Legacy */
  GHashTable *legacy_done; /* "UIDVALIDITY MAILBOX" */
  gint64 written_at;       /* when the file was last written before it was opened */
};

char *
msgtk_journal_default_path (void)
{
  return g_build_filename (g_get_user_state_dir (), "msgtk", "append-journal", NULL);
}

char *
msgtk_journal_target (const char *host, guint16 port, const char *user, const char *mailbox)
{
  g_autofree char *h = g_ascii_strdown (host, -1);
  g_autofree char *hh = g_uri_escape_string (h, "[]:", FALSE);
  g_autofree char *u = g_uri_escape_string (user != NULL ? user : "", NULL, FALSE);
  g_autofree char *m = g_uri_escape_string (mailbox, "/", FALSE);
  return g_strdup_printf ("imap://%s@%s:%u/%s", u, hh, port, m);
}

/* The key of the @copy'th copy of content @sha256. */
static char *
copy_key (const char *sha256, guint copy)
{
  return copy > 1 ? g_strdup_printf ("%s.%u", sha256, copy) : g_strdup (sha256);
}

char *
msgtk_journal_message_key (GBytes *data, GHashTable *copies)
{
  gsize len;
  const char *p = g_bytes_get_data (data, &len);
  char *hex = wire_sha256 (p, len, WIRE_CRLF);
  if (copies == NULL)
    return hex;
  guint copy = GPOINTER_TO_UINT (g_hash_table_lookup (copies, hex)) + 1;
  g_hash_table_insert (copies, g_strdup (hex), GUINT_TO_POINTER (copy));
  char *key = copy_key (hex, copy);
  g_free (hex);
  return key;
}

/* ---------------------------------------------------------------- boxes */

static void
pending_free (gpointer p)
{
  g_slice_free (Pending, p);
}

static MsgtkJournalBox *
box_new (MsgtkJournal *j, guint id, guint32 uidvalidity, const char *target)
{
  MsgtkJournalBox *b = g_new0 (MsgtkJournalBox, 1);
  b->j = j;
  b->id = id;
  b->uidvalidity = uidvalidity;
  b->target = g_strdup (target);
  b->stored = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  b->uids = g_hash_table_new (NULL, NULL);
  b->pending = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, pending_free);
  if (id > j->boxes->len)
    g_ptr_array_set_size (j->boxes, id);
  j->boxes->pdata[id - 1] = b;
  GPtrArray *list = g_hash_table_lookup (j->by_target, target);
  if (list == NULL) {
    list = g_ptr_array_new ();
    g_hash_table_insert (j->by_target, g_strdup (target), list);
  }
  g_ptr_array_add (list, b);
  return b;
}

static void
box_free (gpointer p)
{
  MsgtkJournalBox *b = p;
  if (b == NULL)
    return;
  g_hash_table_unref (b->stored);
  g_hash_table_unref (b->uids);
  g_hash_table_unref (b->pending);
  g_free (b->target);
  g_free (b);
}

static void
box_set_stored (MsgtkJournalBox *b, const char *key, guint32 uid)
{
  g_hash_table_insert (b->stored, g_strdup (key), GUINT_TO_POINTER (uid));
  g_hash_table_remove (b->pending, key);
  if (uid != 0)
    g_hash_table_add (b->uids, GUINT_TO_POINTER (uid));
  b->known = MAX (b->known, uid);
}

static void
box_set_pending (MsgtkJournalBox *b, const char *key, guint32 lowuid, guint64 size)
{
  Pending *p = g_slice_new (Pending);
  p->lowuid = lowuid;
  p->size = size;
  g_hash_table_replace (b->pending, g_strdup (key), p);
}

static void
legacy_free (gpointer p)
{
  Legacy *l = p;
  g_free (l->sha256);
  g_free (l->mailbox);
  g_free (l);
}

static char *
legacy_done_key (guint32 uidvalidity, const char *escaped_mailbox)
{
  return g_strdup_printf ("%u %s", uidvalidity, escaped_mailbox);
}

/* ---------------------------------------------------------------- reading */

static gboolean
parse_u32 (const char *s, guint32 *v)
{
  char *end = NULL;
  if (!g_ascii_isdigit (*s))
    return FALSE;
  guint64 n = g_ascii_strtoull (s, &end, 10);
  if (*end != '\0' || n > G_MAXUINT32)
    return FALSE;
  *v = (guint32)n;
  return TRUE;
}

/* The box numbered @field in @j, or NULL. */
static MsgtkJournalBox *
box_of (MsgtkJournal *j, const char *field)
{
  guint32 id;
  if (!parse_u32 (field, &id) || id == 0 || id > j->boxes->len)
    return NULL;
  return j->boxes->pdata[id - 1];
}

/* One line of a journal; FALSE if it is not one. */
static gboolean
read_record (MsgtkJournal *j, char *line)
{
  g_auto (GStrv) f = g_strsplit (line, " ", 0);
  guint n = g_strv_length (f);
  if (n == 0 || f[0][0] == '\0' || f[0][1] != '\0')
    return FALSE;
  guint32 a, b;
  MsgtkJournalBox *box;
  switch (f[0][0]) {
  case 'M':
    if (n != 4 || !parse_u32 (f[1], &a) || a != j->boxes->len + 1 || !parse_u32 (f[2], &b))
      return FALSE;
    box_new (j, a, b, f[3]);
    return TRUE;
  case 'S':
    if (n != 4 || (box = box_of (j, f[1])) == NULL || !parse_u32 (f[2], &a))
      return FALSE;
    box_set_stored (box, f[3], a);
    return TRUE;
  case 'P': {
    guint64 size;
    char *end = NULL;
    if (n != 5 || (box = box_of (j, f[1])) == NULL || !parse_u32 (f[2], &a))
      return FALSE;
    size = g_ascii_strtoull (f[3], &end, 10);
    if (*end != '\0' || end == f[3])
      return FALSE;
    box_set_pending (box, f[4], a, size);
    return TRUE;
  }
  case 'X':
    if (n != 3 || (box = box_of (j, f[1])) == NULL)
      return FALSE;
    g_hash_table_remove (box->pending, f[2]);
    return TRUE;
  case 'L': {
    if (n != 5 || !parse_u32 (f[1], &a) || !parse_u32 (f[2], &b) || strlen (f[3]) != 64)
      return FALSE;
    Legacy *l = g_new0 (Legacy, 1);
    l->uidvalidity = a;
    l->uid = b;
    l->sha256 = g_strdup (f[3]);
    l->mailbox = g_strdup (f[4]);
    g_ptr_array_add (j->legacy, l);
    return TRUE;
  }
  case 'D':
    if (n != 3 || !parse_u32 (f[1], &a))
      return FALSE;
    g_hash_table_add (j->legacy_done, legacy_done_key (a, f[2]));
    return TRUE;
  default: return FALSE;
  }
}

/* The older journal's @contents as records of this one. */
static GString *
convert_v1 (const char *path, char *contents, gsize len, GError **error)
{
  GString *out = g_string_new (HEADER);
  guint lineno = 0;
  for (char *line = contents, *nl; line < contents + len; line = nl + 1) {
    nl = memchr (line, '\n', contents + len - line);
    if (nl == NULL)
      break; /* a torn last line */
    *nl = '\0';
    lineno++;
    if (g_str_has_prefix (line, "P\t"))
      continue; /* sent, outcome unknown: uploaded again */
    g_auto (GStrv) f = g_strsplit (line, "\t", 0);
    guint32 uidvalidity, uid;
    if (g_strv_length (f) != 5 || strlen (f[0]) != 64 || !parse_u32 (f[3], &uidvalidity)
        || !parse_u32 (f[4], &uid) || strchr (f[1], ' ') != NULL) {
      g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_DATA,
                   "'%s' is not a journal of msgtk (line %u is not understood)", path, lineno);
      g_string_free (out, TRUE);
      return NULL;
    }
    g_string_append_printf (out, "L %u %u %s %s\n", uidvalidity, uid, f[0], f[1]);
  }
  return out;
}

/* Replace the journal at @path by @text, atomically. */
static gboolean
rewrite (const char *path, const GString *text, GError **error)
{
  g_autofree char *tmp = g_strconcat (path, ".new", NULL);
  int fd = g_open (tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  gboolean ok
      = fd >= 0 && write (fd, text->str, text->len) == (ssize_t)text->len && fsync (fd) == 0;
  int saved = errno;
  if (fd >= 0)
    close (fd);
  if (ok && g_rename (tmp, path) == 0)
    return TRUE;
  saved = ok ? errno : saved;
  g_unlink (tmp);
  g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_IO, "cannot convert the journal '%s': %s", path,
               g_strerror (saved));
  return FALSE;
}

/* Open and lock @path, making sure the file locked is the one at @path (a
 * run converting it replaces it). */
static int
open_locked (const char *path, GError **error)
{
  for (;;) {
    int fd = g_open (path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0) {
      g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_CANT_CREATE, "cannot open the journal '%s': %s",
                   path, g_strerror (errno));
      return -1;
    }
    if (flock (fd, LOCK_EX | LOCK_NB) != 0) {
      int e = errno;
      close (fd);
      if (e == EWOULDBLOCK)
        g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_TEMP_FAIL,
                     "the journal '%s' is in use by another run; wait for it to end", path);
      else
        g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_IO, "cannot lock the journal '%s': %s", path,
                     g_strerror (e));
      return -1;
    }
    struct stat a, b;
    if (fstat (fd, &a) == 0 && g_stat (path, &b) == 0 && a.st_ino == b.st_ino
        && a.st_dev == b.st_dev)
      return fd;
    close (fd); /* replaced meanwhile: lock the new one */
  }
}

/* Read the records of @contents (@len bytes); the length of what holds whole
 * records in *@good. */
static gboolean
read_records (MsgtkJournal *j, char *contents, gsize len, gsize *good, GError **error)
{
  guint lineno = 0;
  *good = 0;
  for (char *line = contents, *nl; line < contents + len; line = nl + 1) {
    nl = memchr (line, '\n', contents + len - line);
    if (nl == NULL)
      return TRUE; /* a torn last line */
    *nl = '\0';
    lineno++;
    if (lineno > 1 && !read_record (j, line)) {
      g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_DATA,
                   "the journal '%s' is damaged: line %u is not understood", j->path, lineno);
      return FALSE;
    }
    *good = nl + 1 - contents;
  }
  return TRUE;
}

MsgtkJournal *
msgtk_journal_open (const char *path, GError **error)
{
  g_autofree char *dir = g_path_get_dirname (path);
  if (g_mkdir_with_parents (dir, 0700) != 0) {
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_CANT_CREATE,
                 "cannot create the journal directory '%s': %s", dir, g_strerror (errno));
    return NULL;
  }
  int fd = open_locked (path, error);
  if (fd < 0)
    return NULL;
  g_autoptr (MsgtkJournal) j = g_new0 (MsgtkJournal, 1);
  g_mutex_init (&j->lock);
  g_mutex_init (&j->bind_lock);
  j->fd = fd;
  j->path = g_strdup (path);
  j->boxes = g_ptr_array_new_with_free_func (box_free);
  j->by_target
      = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify)g_ptr_array_unref);
  j->legacy = g_ptr_array_new_with_free_func (legacy_free);
  j->legacy_done = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autofree char *contents = NULL;
  gsize len = 0;
  GError *local = NULL;
  if (!g_file_get_contents (path, &contents, &len, &local)) {
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_IO, "cannot read the journal '%s': %s", path,
                 local->message);
    g_error_free (local);
    return NULL;
  }
  if (len > 0 && !g_str_has_prefix (contents, HEADER)) {
    if (g_str_has_prefix (contents, "msgtk-journal ")) {
      g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_DATA,
                   "the journal '%s' was written by a newer msgtk", path);
      return NULL;
    }
    g_autoptr (GString) v2 = convert_v1 (path, contents, len, error);
    if (v2 == NULL || !rewrite (path, v2, error))
      return NULL;
    /* the new file, locked (the old one was, until now) */
    close (j->fd);
    j->fd = open_locked (path, error);
    if (j->fd < 0)
      return NULL;
    g_free (contents);
    len = v2->len;
    contents = g_string_free (g_steal_pointer (&v2), FALSE);
  }
  struct stat st;
  if (fstat (j->fd, &st) == 0)
    j->written_at = (gint64)st.st_mtim.tv_sec * G_USEC_PER_SEC + st.st_mtim.tv_nsec / 1000;
  gsize good = 0;
  if (!read_records (j, contents, len, &good, error))
    return NULL;
  if (len == 0 || good < strlen (HEADER)) {
    /* new, or cut within its first line */
    if (ftruncate (j->fd, 0) != 0
        || write (j->fd, HEADER, strlen (HEADER)) != (ssize_t)strlen (HEADER)) {
      g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_IO, "cannot write the journal '%s': %s", path,
                   g_strerror (errno));
      return NULL;
    }
  } else if (good < len && ftruncate (j->fd, (off_t)good) != 0) {
    /* a torn last line from an interrupted run: drop it */
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_IO, "cannot repair the journal '%s': %s", path,
                 g_strerror (errno));
    return NULL;
  }
  return g_steal_pointer (&j);
}

void
msgtk_journal_free (MsgtkJournal *j)
{
  if (j == NULL)
    return;
  if (j->fd >= 0)
    close (j->fd);
  g_ptr_array_unref (j->boxes);
  g_hash_table_unref (j->by_target);
  g_ptr_array_unref (j->legacy);
  g_hash_table_unref (j->legacy_done);
  g_mutex_clear (&j->lock);
  g_mutex_clear (&j->bind_lock);
  g_free (j->path);
  g_free (j);
}

/* ---------------------------------------------------------------- writing */

/* Append @line to the journal (lock held); a short write is an error. */
static gboolean
append_line (MsgtkJournal *j, const char *line, GError **error)
{
  gsize len = strlen (line);
  errno = 0;
  if (write (j->fd, line, len) == (ssize_t)len)
    return TRUE;
  g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_IO, "cannot write to the journal '%s': %s", j->path,
               g_strerror (errno ? errno : ENOSPC));
  return FALSE;
}

gboolean
msgtk_journal_sync (MsgtkJournal *j, GError **error)
{
  if (fsync (j->fd) != 0) {
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_IO, "cannot sync the journal '%s': %s", j->path,
                 g_strerror (errno));
    return FALSE;
  }
  return TRUE;
}

/* Record @key stored (lock held). */
static gboolean
record_stored (MsgtkJournalBox *b, const char *key, guint32 uid, GError **error)
{
  g_autofree char *line = g_strdup_printf ("S %u %u %s\n", b->id, uid, key);
  if (!append_line (b->j, line, error))
    return FALSE;
  box_set_stored (b, key, uid);
  return TRUE;
}

/* Record @key not stored (lock held). */
static gboolean
record_not_stored (MsgtkJournalBox *b, const char *key, GError **error)
{
  g_autofree char *line = g_strdup_printf ("X %u %s\n", b->id, key);
  if (!append_line (b->j, line, error))
    return FALSE;
  g_hash_table_remove (b->pending, key);
  return TRUE;
}

gboolean
msgtk_journal_box_sending (MsgtkJournalBox *b, const char *key, guint64 size, GError **error)
{
  MsgtkJournal *j = b->j;
  g_mutex_lock (&j->lock);
  guint32 low = b->known < G_MAXUINT32 ? b->known + 1 : b->known;
  g_autofree char *line
      = g_strdup_printf ("P %u %u %" G_GUINT64_FORMAT " %s\n", b->id, low, size, key);
  gboolean ok = append_line (j, line, error);
  if (ok)
    box_set_pending (b, key, low, size);
  g_mutex_unlock (&j->lock);
  return ok;
}

gboolean
msgtk_journal_box_stored (MsgtkJournalBox *b, const char *key, guint32 uid, GError **error)
{
  g_mutex_lock (&b->j->lock);
  gboolean ok = record_stored (b, key, uid, error);
  g_mutex_unlock (&b->j->lock);
  return ok;
}

gboolean
msgtk_journal_box_refused (MsgtkJournalBox *b, const char *key, GError **error)
{
  g_mutex_lock (&b->j->lock);
  gboolean ok = record_not_stored (b, key, error);
  g_mutex_unlock (&b->j->lock);
  return ok;
}

gboolean
msgtk_journal_box_contains (MsgtkJournalBox *b, const char *key)
{
  g_mutex_lock (&b->j->lock);
  gboolean r = g_hash_table_contains (b->stored, key);
  g_mutex_unlock (&b->j->lock);
  return r;
}

guint
msgtk_journal_box_size (MsgtkJournalBox *b)
{
  g_mutex_lock (&b->j->lock);
  guint r = g_hash_table_size (b->stored);
  g_mutex_unlock (&b->j->lock);
  return r;
}

/* ---------------------------------------------------------------- binding */

/* The next key for a copy of content @sha256 in @b (lock held). */
static char *
next_copy_key (MsgtkJournalBox *b, const char *sha256)
{
  for (guint copy = 1;; copy++) {
    g_autofree char *key = copy_key (sha256, copy);
    if (!g_hash_table_contains (b->stored, key) && !g_hash_table_contains (b->pending, key))
      return g_steal_pointer (&key);
  }
}

/* What the server holds from some UID on: the UIDs of messages whose size
 * is one of @sizes and that no stored entry names, then their contents'
 * SHA-256. */
typedef struct {
  GHashTable *sizes;  /* guint64 sizes wanted (pointers to them) */
  GHashTable *known;  /* UIDs to leave out */
  GHashTable *wanted; /* UID → SHA-256 (NULL until fetched) */
  guint32 first, last;
} Scan;

static void
scan_size (const MsgtkImapFetched *m, gpointer data)
{
  Scan *sc = data;
  if (!m->has_size || g_hash_table_contains (sc->known, GUINT_TO_POINTER (m->uid)))
    return;
  if (sc->sizes != NULL && !g_hash_table_contains (sc->sizes, &m->size))
    return;
  g_hash_table_insert (sc->wanted, GUINT_TO_POINTER (m->uid), NULL);
  sc->first = sc->first ? MIN (sc->first, m->uid) : m->uid;
  sc->last = MAX (sc->last, m->uid);
}

static void
scan_body (const MsgtkImapFetched *m, gpointer data)
{
  Scan *sc = data;
  if (m->body == NULL || !g_hash_table_contains (sc->wanted, GUINT_TO_POINTER (m->uid)))
    return;
  gsize len;
  const char *p = g_bytes_get_data (m->body, &len);
  g_hash_table_insert (sc->wanted, GUINT_TO_POINTER (m->uid), wire_sha256 (p, len, WIRE_CRLF));
}

/* Fill @sc->wanted from UID @low on (sizes first, then the contents of the
 * messages of those sizes). */
static gboolean
scan_server (MsgtkImapSession *session, const char *mailbox, guint32 low, Scan *sc, GError **error)
{
  if (!msgtk_imap_session_uid_fetch (session, mailbox, low, 0, MSGTK_IMAP_FETCH_SIZE, scan_size, sc,
                                     error))
    return FALSE;
  if (g_hash_table_size (sc->wanted) == 0)
    return TRUE;
  return msgtk_imap_session_uid_fetch (session, mailbox, sc->first, sc->last, MSGTK_IMAP_FETCH_BODY,
                                       scan_body, sc, error);
}

static guint
uint64_hash (gconstpointer p)
{
  return g_int64_hash (p);
}

static gboolean
uint64_equal (gconstpointer a, gconstpointer b)
{
  return *(const guint64 *)a == *(const guint64 *)b;
}

static gint
compare_strings (gconstpointer a, gconstpointer b)
{
  return strcmp (*(char *const *)a, *(char *const *)b);
}

static gint
compare_uids (gconstpointer a, gconstpointer b)
{
  guint x = GPOINTER_TO_UINT (*(gpointer const *)a), y = GPOINTER_TO_UINT (*(gpointer const *)b);
  return x < y ? -1 : x > y;
}

/* An interrupted run's last commands may still be at work on the server,
 * which stores what reached it before the client died: when the journal
 * was written a moment ago, wait until a while after that, then until the
 * mailbox's UIDNEXT holds still (five seconds at the most). */
static gboolean
settle (MsgtkJournal *j, MsgtkImapSession *session, const char *mailbox, GError **error)
{
  gint64 since = g_get_real_time () - j->written_at;
  if (since >= SETTLE_US)
    return TRUE;
  g_usleep ((gulong)(SETTLE_US - since));
  guint32 last = 0;
  for (guint i = 0; i < 25; i++) {
    MsgtkImapMailboxStatus st;
    if (!msgtk_imap_session_status (session, mailbox, &st, error))
      return FALSE;
    if (i > 0 && st.uidnext == last)
      return TRUE;
    last = st.uidnext;
    g_usleep (G_USEC_PER_SEC / 5);
  }
  return TRUE;
}

/* Look on the server for the messages an interrupted run sent to @b: found,
 * they are stored; not found, not. Called with the bind lock only. */
static gboolean
resolve_pending (MsgtkJournalBox *b, MsgtkImapSession *session, const char *mailbox,
                 MsgtkJournalBindReport *report, GError **error)
{
  MsgtkJournal *j = b->j;
  g_mutex_lock (&j->lock);
  guint n = g_hash_table_size (b->pending);
  g_autoptr (GHashTable) sizes = g_hash_table_new_full (uint64_hash, uint64_equal, g_free, NULL);
  g_autoptr (GHashTable) known = g_hash_table_new (NULL, NULL);
  guint32 low = G_MAXUINT32;
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init (&it, b->pending);
  while (g_hash_table_iter_next (&it, &k, &v)) {
    Pending *p = v;
    low = MIN (low, p->lowuid);
    g_hash_table_add (sizes, g_memdup2 (&p->size, sizeof p->size));
  }
  g_hash_table_iter_init (&it, b->uids);
  while (g_hash_table_iter_next (&it, &k, NULL))
    g_hash_table_add (known, k);
  g_mutex_unlock (&j->lock);
  if (n == 0)
    return TRUE;
  g_autoptr (GHashTable) wanted = g_hash_table_new_full (NULL, NULL, NULL, g_free);
  Scan sc = { .sizes = sizes, .known = known, .wanted = wanted };
  if (session != NULL
      && (!settle (j, session, mailbox, error)
          || !scan_server (session, mailbox, low, &sc, error))) {
    g_prefix_error (error, "cannot check what an interrupted run stored in '%s': ", mailbox);
    return FALSE;
  }
  /* each copy on the server settles one pending message with its content,
   * the first copies first */
  g_autoptr (GHashTable) by_sha
      = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify)g_ptr_array_unref);
  g_hash_table_iter_init (&it, wanted);
  while (g_hash_table_iter_next (&it, &k, &v)) {
    if (v == NULL)
      continue;
    GPtrArray *uids = g_hash_table_lookup (by_sha, v);
    if (uids == NULL) {
      uids = g_ptr_array_new ();
      g_hash_table_insert (by_sha, g_strdup (v), uids);
    }
    g_ptr_array_add (uids, k);
  }
  g_hash_table_iter_init (&it, by_sha);
  while (g_hash_table_iter_next (&it, NULL, &v))
    g_ptr_array_sort (v, compare_uids);
  g_mutex_lock (&j->lock);
  g_autoptr (GPtrArray) keys = g_ptr_array_new_with_free_func (g_free);
  g_hash_table_iter_init (&it, b->pending);
  while (g_hash_table_iter_next (&it, &k, NULL))
    g_ptr_array_add (keys, g_strdup (k));
  g_ptr_array_sort (keys, compare_strings);
  gboolean ok = TRUE;
  for (guint i = 0; ok && i < keys->len; i++) {
    const char *key = keys->pdata[i];
    g_autofree char *sha = g_strndup (key, strcspn (key, "."));
    GPtrArray *uids = g_hash_table_lookup (by_sha, sha);
    if (uids != NULL && uids->len > 0) {
      guint32 uid = GPOINTER_TO_UINT (g_ptr_array_steal_index (uids, 0));
      ok = record_stored (b, key, uid, error);
      report->found++;
    } else {
      ok = record_not_stored (b, key, error);
      report->lost++;
    }
  }
  g_mutex_unlock (&j->lock);
  return ok;
}

/* Carry over the entries of an older journal for @mailbox under @b's
 * UIDVALIDITY that the server proves to hold. Called with the bind lock
 * only. */
static gboolean
migrate_legacy (MsgtkJournalBox *b, MsgtkImapSession *session, const char *mailbox,
                MsgtkJournalBindReport *report, GError **error)
{
  MsgtkJournal *j = b->j;
  g_autofree char *escaped = g_strescape (mailbox, NULL);
  g_autofree char *done = legacy_done_key (b->uidvalidity, escaped);
  g_autoptr (GHashTable) uids = g_hash_table_new (NULL, NULL);
  guint entries = 0;
  g_mutex_lock (&j->lock);
  gboolean skip = g_hash_table_contains (j->legacy_done, done);
  for (guint i = 0; !skip && i < j->legacy->len; i++) {
    Legacy *l = j->legacy->pdata[i];
    /* (a server without UIDPLUS gave neither UIDVALIDITY nor UID) */
    if (strcmp (l->mailbox, escaped) != 0
        || (l->uidvalidity != b->uidvalidity && l->uidvalidity != 0))
      continue;
    entries++;
    if (l->uid != 0 && l->uidvalidity == b->uidvalidity)
      g_hash_table_add (uids, GUINT_TO_POINTER (l->uid));
  }
  g_mutex_unlock (&j->lock);
  if (skip || entries == 0 || session == NULL)
    return TRUE;
  g_autoptr (GHashTable) known = g_hash_table_new (NULL, NULL);
  g_autoptr (GHashTable) wanted = g_hash_table_new_full (NULL, NULL, NULL, g_free);
  /* every message of the range is a candidate; the UIDs recorded decide */
  Scan sc = { .known = known, .wanted = wanted };
  guint32 low = G_MAXUINT32;
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init (&it, uids);
  while (g_hash_table_iter_next (&it, &k, NULL))
    low = MIN (low, GPOINTER_TO_UINT (k));
  if (g_hash_table_size (uids) > 0 && !scan_server (session, mailbox, low, &sc, error)) {
    g_prefix_error (error, "cannot check an older journal's entries for '%s': ", mailbox);
    return FALSE;
  }
  g_mutex_lock (&j->lock);
  gboolean ok = TRUE;
  g_hash_table_iter_init (&it, wanted);
  while (ok && g_hash_table_iter_next (&it, &k, &v)) {
    if (v == NULL || !g_hash_table_contains (uids, k) || g_hash_table_contains (b->uids, k))
      continue;
    g_autofree char *key = next_copy_key (b, v);
    ok = record_stored (b, key, GPOINTER_TO_UINT (k), error);
    report->migrated++;
  }
  report->unverified = entries - report->migrated;
  if (ok) {
    g_autofree char *line = g_strdup_printf ("D %u %s\n", b->uidvalidity, escaped);
    ok = append_line (j, line, error);
    if (ok)
      g_hash_table_add (j->legacy_done, g_steal_pointer (&done));
  }
  g_mutex_unlock (&j->lock);
  return ok;
}

/* The box of @target under @uidvalidity, made (and recorded) if new; the
 * others' entries counted in @report when it is (lock held). */
static MsgtkJournalBox *
find_box (MsgtkJournal *j, const char *target, guint32 uidvalidity, MsgtkJournalBindReport *report,
          GError **error)
{
  GPtrArray *list = g_hash_table_lookup (j->by_target, target);
  for (guint i = 0; list != NULL && i < list->len; i++) {
    MsgtkJournalBox *b = list->pdata[i];
    if (b->uidvalidity == uidvalidity)
      return b;
  }
  for (guint i = 0; list != NULL && i < list->len; i++) {
    MsgtkJournalBox *b = list->pdata[i];
    report->old_uidvalidity = b->uidvalidity;
    report->voided += g_hash_table_size (b->stored);
  }
  guint id = j->boxes->len + 1;
  g_autofree char *line = g_strdup_printf ("M %u %u %s\n", id, uidvalidity, target);
  if (!append_line (j, line, error))
    return NULL;
  return box_new (j, id, uidvalidity, target);
}

MsgtkJournalBox *
msgtk_journal_bind (MsgtkJournal *j, MsgtkImapSession *session, const char *target,
                    const char *mailbox, const MsgtkImapMailboxStatus *status,
                    MsgtkJournalBindReport *report, GError **error)
{
  memset (report, 0, sizeof *report);
  g_mutex_lock (&j->bind_lock);
  g_mutex_lock (&j->lock);
  MsgtkJournalBox *b = find_box (j, target, status->uidvalidity, report, error);
  gboolean fresh = b != NULL && !b->bound;
  if (fresh)
    b->known = MAX (b->known, status->uidnext > 0 ? status->uidnext - 1 : 0);
  g_mutex_unlock (&j->lock);
  if (fresh
      && (!resolve_pending (b, session, mailbox, report, error)
          || !migrate_legacy (b, session, mailbox, report, error)))
    b = NULL;
  else if (fresh)
    b->bound = TRUE;
  g_mutex_unlock (&j->bind_lock);
  return b;
}
