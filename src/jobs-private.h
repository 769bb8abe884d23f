/* msgtk — the one bounded job runner of the library (private), behind every
 * -j: jobs are handed over in order, worked on by a fixed set of threads
 * (each with state of its own, such as a connection), and finished on the
 * thread that handed them over, in the order they were handed over, so that
 * output and every name given in the finish step are independent of thread
 * timing. At most a window of jobs (and of their bytes) is in flight: memory
 * stays bounded whatever the input. With one thread, each job is worked and
 * finished at once on the calling thread. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef void (*JobsWorkFunc) (gpointer job, gpointer worker, gpointer data);
typedef void (*JobsFinishFunc) (gpointer job, gpointer data);

typedef struct {
  guint threads;     /* 0: one per core */
  guint window;      /* jobs in flight at most; 0: 4 per thread */
  gsize max_bytes;   /* bytes of the jobs in flight at most (one job may exceed it); 0: no limit */
  JobsWorkFunc work; /* on a worker thread */
  JobsFinishFunc finish;                  /* nullable: on the pushing thread, in order */
  gpointer (*worker_new) (gpointer data); /* nullable: a worker's own state */
  void (*worker_free) (gpointer worker, gpointer data); /* nullable */
  gpointer data;
  gboolean background; /* with one thread too, work on a thread of its own (the caller goes
                        * on handing jobs over meanwhile) */
} JobsConfig;

typedef struct _Jobs Jobs;

Jobs *jobs_new (const JobsConfig *config);

/* Hand @job over (@bytes of it count against max_bytes); finishes, in
 * order, the jobs done meanwhile, and waits while the window is full. */
void jobs_push (Jobs *jobs, gpointer job, gsize bytes);

/* Wait for every job handed over and finish them all, in order. */
void jobs_drain (Jobs *jobs);

/* Drain, stop the workers (worker_free on each) and free. */
void jobs_free (Jobs *jobs);

/* The number of worker threads (1 when jobs run on the calling thread). */
guint jobs_threads (Jobs *jobs);

G_END_DECLS
