/* Unit tests of the job runner: order kept whatever the threads do, the
 * window and byte bound respected, worker state per thread. */
#include "jobs-private.h"

typedef struct {
  guint index;
  guint worked_by; /* the worker's number */
} Job;

typedef struct {
  GMutex lock;
  guint workers, inflight, max_inflight;
  GArray *finished;
} Run;

static gpointer
worker_new (gpointer data)
{
  Run *r = data;
  g_mutex_lock (&r->lock);
  guint *n = g_new (guint, 1);
  *n = ++r->workers;
  g_mutex_unlock (&r->lock);
  return n;
}

static void
worker_free (gpointer state, gpointer data)
{
  g_free (state);
}

static void
work (gpointer job, gpointer worker, gpointer data)
{
  Run *r = data;
  Job *j = job;
  g_mutex_lock (&r->lock);
  r->inflight++;
  r->max_inflight = MAX (r->max_inflight, r->inflight);
  g_mutex_unlock (&r->lock);
  g_usleep ((j->index * 7919) % 13 * 100); /* jobs take uneven times */
  j->worked_by = *(guint *)worker;
  g_mutex_lock (&r->lock);
  r->inflight--;
  g_mutex_unlock (&r->lock);
}

static void
finish (gpointer job, gpointer data)
{
  Run *r = data;
  Job *j = job;
  g_assert_cmpuint (j->worked_by, >, 0);
  g_array_append_val (r->finished, j->index);
  g_free (j);
}

static void
run (guint threads, guint window, gsize max_bytes)
{
  Run r = { .finished = g_array_new (FALSE, FALSE, sizeof (guint)) };
  g_mutex_init (&r.lock);
  JobsConfig c = { threads, window, max_bytes, work, finish, worker_new, worker_free, &r };
  Jobs *jobs = jobs_new (&c);
  for (guint i = 0; i < 500; i++) {
    Job *j = g_new0 (Job, 1);
    j->index = i;
    jobs_push (jobs, j, 100);
  }
  jobs_free (jobs);
  g_assert_cmpuint (r.finished->len, ==, 500);
  for (guint i = 0; i < 500; i++)
    g_assert_cmpuint (g_array_index (r.finished, guint, i), ==, i);
  g_assert_cmpuint (r.workers, ==, MAX (threads, 1));
  g_assert_cmpuint (r.max_inflight, <=, MAX (threads, 1));
  g_array_unref (r.finished);
  g_mutex_clear (&r.lock);
}

static void
test_order (void)
{
  run (1, 0, 0);
  run (4, 0, 0);
  run (3, 2, 0);
  run (4, 64, 250); /* the byte bound: at most 3 jobs of 100 bytes */
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/jobs/order", test_order);
  return g_test_run ();
}
