/* msgtk — uploads: the sources read into batches, a target per folder (a
 * copy per Gmail label), flags, keywords and internal dates. */
#include <msgtk/labels.h>
#include <msgtk/message.h>
#include <msgtk/source.h>
#include <msgtk/upload.h>

#include "upload-private.h"
#include "wire-private.h"

#include <string.h>

/* A batch in one APPEND command at most this big (messages: options->batch). */
#define BATCH_BYTES (4 * 1024 * 1024)

static GDateTime *
internal_date (MsgtkUploadDate from, MsgtkItem *item, GBytes *data)
{
  switch (from) {
  case MSGTK_UPLOAD_DATE_SOURCE:
    return item->internal_date ? g_date_time_ref (item->internal_date)
                               : msgtk_message_get_date (data);
  case MSGTK_UPLOAD_DATE_HEADER: {
    GDateTime *d = msgtk_message_get_date (data);
    return d != NULL || item->internal_date == NULL ? d : g_date_time_ref (item->internal_date);
  }
  case MSGTK_UPLOAD_DATE_NOW:
  default: return NULL;
  }
}

/* batches being filled at once at the most (a message with several Gmail
 * labels goes to several mailboxes) */
#define OPEN_BATCHES 8

typedef struct {
  Upload *up;
  Jobs *jobs;
  GPtrArray *open; /* the targets whose batch is being filled, oldest first */
  Batch *loose;    /* reports of messages in no batch since the last batch went */
} Feed;

static void
push (Feed *f, Batch **b)
{
  if (*b == NULL)
    return;
  guint64 bytes = (*b)->bytes;
  jobs_push (f->jobs, g_steal_pointer (b), (gsize)bytes);
}

/* Send @t's batch being filled. */
static void
push_target (Feed *f, Target *t)
{
  if (t->cur == NULL)
    return;
  g_ptr_array_remove (f->open, t);
  push (f, &t->cur);
}

/* Send every batch being filled, oldest first. */
static void
push_open (Feed *f)
{
  while (f->open->len > 0)
    push_target (f, f->open->pdata[0]);
}

/* The batch of reports of messages in no batch. */
static Batch *
loose (Feed *f)
{
  if (f->loose == NULL)
    f->loose = upload_batch_new (NULL);
  return f->loose;
}

/* A failure to report in its place among the batches. */
static void
feed_fail (Feed *f, const char *name, const char *why)
{
  push_open (f); /* what came before goes first */
  upload_fail (loose (f), name, why, 0);
}

static Target *
target_for (Upload *up, const char *folder)
{
  Target *t = g_hash_table_lookup (up->targets, folder);
  if (t == NULL) {
    t = g_new0 (Target, 1);
    g_mutex_init (&t->lock);
    t->folder = g_strdup (folder);
    t->copies = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
    t->mailbox = msgtk_folder_map_mailbox (up->map, folder);
    t->tally = g_new0 (MsgtkUploadMailbox, 1);
    t->tally->folder = g_strdup (folder);
    t->tally->mailbox = g_strdup (t->mailbox);
    g_hash_table_insert (up->targets, t->folder, t);
    g_ptr_array_add (up->order, t);
  }
  return t;
}

/* The keywords of a message: @more (its Gmail labels'), the source's (a
 * maildir's letters), those of its X-Keywords and X-Mozilla-Keys fields
 * (Thunderbird's tags), then the options'; NULL for none. */
static char **
message_keywords (const MsgtkUploadOptions *o, MsgtkItem *item, GBytes *data, GPtrArray *more)
{
  g_autoptr (GPtrArray) kw = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; more != NULL && i < more->len; i++)
    msgtk_flags_add_keyword (kw, more->pdata[i]);
  for (char **k = item->keywords; k != NULL && *k != NULL; k++)
    msgtk_flags_add_keyword (kw, *k);
  static const char *const fields[] = { "X-Keywords", "X-Mozilla-Keys" };
  for (guint i = 0; i < G_N_ELEMENTS (fields); i++) {
    g_autofree char *v = msgtk_message_get_header (data, fields[i]);
    if (v != NULL)
      msgtk_flags_parse_keywords (v, kw);
  }
  for (char **k = o->keywords; k != NULL && *k != NULL; k++)
    msgtk_flags_parse_keywords (*k, kw);
  if (kw->len == 0)
    return NULL;
  g_ptr_array_add (kw, NULL);
  g_ptr_array_set_free_func (kw, NULL);
  return (char **)g_ptr_array_free (g_steal_pointer (&kw), FALSE);
}

/* Add one copy of a message to @t's batch. */
static void
add_copy (Feed *f, Target *t, MsgtkItem *item, GBytes *data, MsgtkFlags flags, char **keywords)
{
  const MsgtkUploadOptions *o = f->up->o;
  gsize len = g_bytes_get_size (data);
  guint max_count = o->batch ? o->batch : 100;
  if (t->cur != NULL && (t->cur->msgs->len >= max_count || t->cur->bytes + len > BATCH_BYTES))
    push_target (f, t);
  push (f, &f->loose);
  if (t->cur == NULL) {
    if (f->open->len >= OPEN_BATCHES)
      push_target (f, f->open->pdata[0]);
    t->cur = upload_batch_new (t);
    g_ptr_array_add (f->open, t);
  }
  MsgtkImapMessage m = { 0 };
  m.data = g_bytes_ref (data);
  m.flags = flags;
  m.keywords = keywords;
  m.internal_date = internal_date (o->date_from, item, data);
  t->cur->bytes += len;
  g_array_append_val (t->cur->msgs, m);
  guint64 size = wire_size (g_bytes_get_data (data, NULL), len, WIRE_CRLF);
  g_array_append_val (t->cur->sizes, size);
  /* the content's identity, for the journal only */
  g_ptr_array_add (t->cur->keys,
                   o->journal != NULL ? msgtk_journal_message_key (data, t->copies) : NULL);
  g_ptr_array_add (t->cur->names, g_strdup (item->identity));
}

/* Whether the message has Gmail labels that say where it goes (@labels
 * filled then; clear it). */
static gboolean
gmail_labels (const MsgtkUploadOptions *o, GBytes *data, MsgtkLabels *labels)
{
  if (o->labels == MSGTK_UPLOAD_LABELS_IGNORE)
    return FALSE;
  g_autofree char *value = msgtk_message_get_header (data, "X-Gmail-Labels");
  if (value == NULL)
    return FALSE;
  msgtk_labels_parse (value, o->labels == MSGTK_UPLOAD_LABELS_KEYWORDS, labels);
  return TRUE;
}

/* The folder of copy @i of @item: that of its label, or its own. */
static const char *
copy_folder (MsgtkItem *item, const MsgtkLabels *labels, guint i)
{
  if (labels->folders != NULL)
    return labels->folders->pdata[i];
  return item->folder != NULL ? item->folder : "";
}

/* Add one message to the batches being filled: one copy, or with Gmail
 * labels one for each folder they name (the labels say where it was in the
 * account, in place of the name of Takeout's mbox file). */
static void
feed_item (Feed *f, MsgtkItem *item, GBytes *data)
{
  Upload *up = f->up;
  const MsgtkUploadOptions *o = up->o;
  gsize len = g_bytes_get_size (data);
  if (len == 0) {
    feed_fail (f, item->identity, "empty message");
    return;
  }
  MsgtkFlags flags = item->flags | o->flags;
  MsgtkLabels labels = { 0 };
  gboolean labelled = gmail_labels (o, data, &labels);
  if (labelled)
    flags = (flags | labels.set) & ~labels.clear;
  guint copies = labelled ? labels.folders->len : 1;
  if (o->skip_deleted && (flags & MSGTK_FLAG_DELETED)) {
    g_mutex_lock (&up->lock);
    up->result->counts.deleted += copies;
    g_mutex_unlock (&up->lock);
    for (guint i = 0; i < copies; i++)
      upload_report_for (loose (f), target_for (up, copy_folder (item, &labels, i)),
                         MSGTK_UPLOAD_DELETED, item->identity, "marked deleted", len, 0);
    msgtk_labels_clear (&labels);
    return;
  }
  for (guint i = 0; i < copies; i++) {
    Target *t = target_for (up, copy_folder (item, &labels, i));
    g_mutex_lock (&up->lock);
    up->result->counts.bytes_total += len;
    g_mutex_unlock (&up->lock);
    char **keywords = message_keywords (o, item, data, labels.keywords);
    add_copy (f, t, item, data, flags, keywords);
  }
  msgtk_labels_clear (&labels);
}

/* Count the messages and bytes of @paths (header blocks only: sizes come
 * from the source); standard input cannot be read twice: unknown. */
static void
count_first (Upload *up, char **paths)
{
  guint n = 0;
  guint64 bytes = 0;
  for (char **p = paths; p != NULL && *p != NULL; p++) {
    if (strcmp (*p, "-") == 0)
      return;
    g_autoptr (MsgtkSource) src = msgtk_source_open (*p, MSGTK_SOURCE_FORMAT_AUTO, NULL);
    if (src == NULL)
      continue; /* the upload reports it */
    msgtk_source_set_headers_only (src, TRUE);
    for (;;) {
      g_autoptr (GError) error = NULL;
      g_autoptr (MsgtkItem) item = msgtk_source_next (src, &error);
      if (item == NULL && error == NULL)
        break;
      if (item == NULL)
        continue;
      /* a copy for each folder of its labels */
      g_autoptr (GBytes) head
          = up->o->labels != MSGTK_UPLOAD_LABELS_IGNORE ? msgtk_item_read_bytes (item, NULL) : NULL;
      MsgtkLabels labels = { 0 };
      guint copies = head != NULL && gmail_labels (up->o, head, &labels) ? labels.folders->len : 1;
      for (guint i = 0; i < copies; i++)
        target_for (up, copy_folder (item, &labels, i))->planned++;
      msgtk_labels_clear (&labels);
      n += copies;
      bytes += (guint64)item->size * copies;
    }
  }
  up->result->counts.planned = n;
  up->result->counts.bytes_planned = bytes;
}

static void
feed_path (Feed *f, const char *path)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MsgtkSource) src = msgtk_source_open (path, MSGTK_SOURCE_FORMAT_AUTO, &error);
  if (src == NULL) {
    f->up->result->unreadable++;
    feed_fail (f, path, error->message);
    return;
  }
  while (!g_atomic_int_get (&f->up->journal_broken)) {
    g_clear_error (&error);
    g_autoptr (MsgtkItem) item = msgtk_source_next (src, &error);
    if (item == NULL) {
      if (error == NULL)
        break;
      f->up->result->unreadable++;
      feed_fail (f, path, error->message);
      continue;
    }
    g_autoptr (GBytes) data = msgtk_item_read_bytes (item, &error);
    g_mutex_lock (&f->up->lock);
    f->up->result->counts.read++;
    g_mutex_unlock (&f->up->lock);
    if (data == NULL) {
      f->up->result->unreadable++;
      feed_fail (f, item->identity, error->message);
      continue;
    }
    feed_item (f, item, data);
    upload_tell_progress (f->up, FALSE);
  }
}

void
upload_feed (Upload *up, Jobs *jobs, char **paths)
{
  Feed f = { .up = up, .jobs = jobs, .open = g_ptr_array_new () };
  static const char *const stdin_paths[] = { "-", NULL };
  if (up->o->count_first && paths != NULL)
    count_first (up, paths);
  for (char **p = paths != NULL ? paths : (char **)stdin_paths;
       *p != NULL && !g_atomic_int_get (&up->journal_broken); p++)
    feed_path (&f, *p);
  push_open (&f);
  push (&f, &f.loose);
  g_ptr_array_unref (f.open);
}
