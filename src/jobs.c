/* msgtk — the bounded, order-keeping job runner. */
#include "jobs-private.h"

typedef struct {
  gpointer job;
  gsize bytes;
  gboolean done; /* under the lock */
} Slot;

struct _Jobs {
  JobsConfig c;
  guint threads;
  GPtrArray *workers; /* GThread* */
  GAsyncQueue *todo;  /* Slot*; NULL tells a worker to stop */
  GQueue order;       /* Slot*, as handed over */
  gsize inflight_bytes;
  GMutex lock;
  GCond done;
  gpointer inline_state; /* with one thread: the calling thread's worker state */
};

static gpointer
worker_main (gpointer data)
{
  Jobs *j = data;
  gpointer state = j->c.worker_new != NULL ? j->c.worker_new (j->c.data) : NULL;
  for (;;) {
    Slot *s = g_async_queue_pop (j->todo);
    if (s->job == NULL) { /* the stop marker */
      g_free (s);
      break;
    }
    j->c.work (s->job, state, j->c.data);
    g_mutex_lock (&j->lock);
    s->done = TRUE;
    g_cond_broadcast (&j->done);
    g_mutex_unlock (&j->lock);
  }
  if (j->c.worker_free != NULL)
    j->c.worker_free (state, j->c.data);
  return NULL;
}

Jobs *
jobs_new (const JobsConfig *config)
{
  Jobs *j = g_new0 (Jobs, 1);
  j->c = *config;
  j->threads = config->threads ? config->threads : g_get_num_processors ();
  if (j->c.window == 0)
    j->c.window = 4 * j->threads;
  g_mutex_init (&j->lock);
  g_cond_init (&j->done);
  g_queue_init (&j->order);
  j->workers = g_ptr_array_new ();
  if (j->threads > 1 || config->background) {
    j->todo = g_async_queue_new ();
    for (guint i = 0; i < j->threads; i++)
      g_ptr_array_add (j->workers, g_thread_new ("msgtk-job", worker_main, j));
  } else if (j->c.worker_new != NULL) { /* one thread: the caller's */
    j->inline_state = j->c.worker_new (j->c.data);
  }
  return j;
}

guint
jobs_threads (Jobs *j)
{
  return MAX (j->threads, 1);
}

/* Finish the oldest job, waiting for it to be done. */
static void
finish_oldest (Jobs *j)
{
  Slot *s = g_queue_pop_head (&j->order);
  g_mutex_lock (&j->lock);
  while (!s->done)
    g_cond_wait (&j->done, &j->lock);
  g_mutex_unlock (&j->lock);
  j->inflight_bytes -= s->bytes;
  if (j->c.finish != NULL)
    j->c.finish (s->job, j->c.data);
  g_free (s);
}

/* Finish, in order, the jobs at the head that are done already. */
static void
finish_done (Jobs *j)
{
  for (;;) {
    Slot *s = g_queue_peek_head (&j->order);
    if (s == NULL)
      return;
    g_mutex_lock (&j->lock);
    gboolean done = s->done;
    g_mutex_unlock (&j->lock);
    if (!done)
      return;
    finish_oldest (j);
  }
}

void
jobs_push (Jobs *j, gpointer job, gsize bytes)
{
  g_return_if_fail (job != NULL);
  if (j->todo == NULL) {
    j->c.work (job, j->inline_state, j->c.data);
    if (j->c.finish != NULL)
      j->c.finish (job, j->c.data);
    return;
  }
  Slot *s = g_new0 (Slot, 1);
  s->job = job;
  s->bytes = bytes;
  j->inflight_bytes += bytes;
  g_queue_push_tail (&j->order, s);
  g_async_queue_push (j->todo, s);
  finish_done (j);
  while (j->order.length > j->c.window
         || (j->c.max_bytes > 0 && j->inflight_bytes > j->c.max_bytes && j->order.length > 1))
    finish_oldest (j);
}

void
jobs_drain (Jobs *j)
{
  while (!g_queue_is_empty (&j->order))
    finish_oldest (j);
}

void
jobs_free (Jobs *j)
{
  if (j == NULL)
    return;
  jobs_drain (j);
  for (guint i = 0; i < j->workers->len; i++)
    g_async_queue_push (j->todo, g_new0 (Slot, 1));
  for (guint i = 0; i < j->workers->len; i++)
    g_thread_join (j->workers->pdata[i]);
  if (j->todo == NULL && j->c.worker_free != NULL)
    j->c.worker_free (j->inline_state, j->c.data);
  g_ptr_array_unref (j->workers);
  if (j->todo != NULL)
    g_async_queue_unref (j->todo);
  g_mutex_clear (&j->lock);
  g_cond_clear (&j->done);
  g_free (j);
}
