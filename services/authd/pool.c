/*
 * pool.c - sembark-authd's worker threads, so that the event loop never
 * waits for a password hash. The loop thread submits (work, done, job);
 * a worker runs work(job) and puts the job on the done-queue, then writes
 * the eventfd a libevent event of the loop watches; the loop drains the
 * done-queue and runs done(job) there. Both queues are under one mutex;
 * workers sleep on a condition variable. Workers never touch libevent,
 * block every signal (the loop handles them) and share nothing with the
 * loop but the queues and the eventfd.
 *
 * authd_pool_free stops accepting jobs, lets the workers finish the queued
 * ones, joins them and then runs the remaining done callbacks on the
 * calling (loop) thread: every submitted job has done run exactly once,
 * and work at most once. A done callback that submits again during free
 * gets -ESHUTDOWN; a done callback must not free the pool itself.
 *
 * Deadlines (authd_pool_submit_by): a worker that takes a job whose
 * deadline has passed does not run its work (nobody waits for the answer
 * any more) and hands it straight to done. Workers keep a running average
 * of how long work takes, so authd_pool_wait_us() can say, before a job
 * is queued, when it would be done: a caller refuses work at once that
 * could not finish in time, instead of answering after a wait.
 */
#include <errno.h>
#include <event2/event.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <unistd.h>

#include "authd.h"

#define POOL_THREADS_MAX 64
#define POOL_NICE 10 /* the hash threads' nice value: below every loop thread */

struct pool_job {
	authd_work_fn work;
	authd_done_fn done;
	void *job;
	int64_t deadline_us; /* mono_us(); 0: none */
	int64_t submit_us, start_us; /* mono_us(): queued, taken by a worker */
	int64_t took_us;     /* work's duration; 0: skipped (set by the worker) */
	struct pool_job *next;
};

struct job_queue {
	struct pool_job *head, *tail;
};

struct authd_pool {
	pthread_mutex_t lock;
	pthread_cond_t wake;        /* todo gained a job, or stopping */
	struct job_queue todo;      /* under lock */
	struct job_queue done;      /* under lock */
	bool stopping;              /* under lock */
	size_t queued, running;     /* under lock: in todo, in a worker's hands */
	int64_t avg_work_us;        /* under lock: running average of work's duration */
	atomic_size_t pending;      /* submitted, done not yet run */
	int efd;                    /* workers -> loop: "done has jobs" */
	struct event *ev;
	pthread_t *threads;
	int n_threads;
	struct authd_pool_stats stats; /* loop thread only (run_done) */
};

static void queue_push(struct job_queue *q, struct pool_job *j)
{
	j->next = NULL;
	if (q->tail)
		q->tail->next = j;
	else
		q->head = j;
	q->tail = j;
}

static struct pool_job *queue_pop(struct job_queue *q)
{
	struct pool_job *j = q->head;

	if (j) {
		q->head = j->next;
		if (!q->head)
			q->tail = NULL;
	}
	return j;
}

/* queue_take - the whole queue, emptied */
static struct pool_job *queue_take(struct job_queue *q)
{
	struct pool_job *j = q->head;

	q->head = q->tail = NULL;
	return j;
}

static void signal_loop(struct authd_pool *p)
{
	uint64_t one = 1;
	ssize_t n;

	/* only fails when the counter would overflow: it is then readable anyway */
	do
		n = write(p->efd, &one, sizeof(one));
	while (n < 0 && errno == EINTR);
}

/* run_work - j's work, unless its deadline passed; how long it took (0: skipped) */
static int64_t run_work(struct pool_job *j)
{
	int64_t t0 = mono_us();

	j->start_us = t0;
	if (j->deadline_us && t0 > j->deadline_us)
		return 0;
	j->work(j->job);
	return MAX(mono_us() - t0, (int64_t)1);
}

static void *worker_main(void *userdata)
{
	struct authd_pool *p = userdata;
	struct pool_job *j;
	int64_t took;

	pthread_setname_np(pthread_self(), "authd-pool");
	/*
	 * Hashing yields the CPU to every loop thread on the host (authd's own,
	 * ingressd's, PostgreSQL's): under a flood of logins the session checks
	 * of everyone else stay quick, and the hashes get the CPU left over.
	 * Raising one's own nice value needs no privilege; failing is harmless.
	 */
	(void)setpriority(PRIO_PROCESS, (id_t)gettid(), POOL_NICE);
	pthread_mutex_lock(&p->lock);
	for (;;) {
		while (!p->todo.head && !p->stopping)
			pthread_cond_wait(&p->wake, &p->lock);
		j = queue_pop(&p->todo);
		if (!j)
			break; /* stopping and nothing left */
		p->queued--;
		p->running++;
		pthread_mutex_unlock(&p->lock);
		took = run_work(j);
		j->took_us = took;
		pthread_mutex_lock(&p->lock);
		p->running--;
		if (took > 0) /* an average over the last eight or so */
			p->avg_work_us = p->avg_work_us ? (7 * p->avg_work_us + took) / 8 : took;
		queue_push(&p->done, j);
		signal_loop(p);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

/* count_done - a finished job in the stats (loop thread) */
static void count_done(struct authd_pool_stats *st, const struct pool_job *j)
{
	if (j->start_us)
		metrics_hist_observe(&st->wait, (double)(j->start_us - j->submit_us) / 1e6);
	if (j->took_us > 0) {
		st->done++;
		metrics_hist_observe(&st->work, (double)j->took_us / 1e6);
	} else {
		st->skipped++;
	}
}

/* run_done - run done for a list of jobs on this (the loop) thread */
static void run_done(struct authd_pool *p, struct pool_job *j)
{
	while (j) {
		struct pool_job *next = j->next;

		count_done(&p->stats, j);
		j->done(j->job);
		free(j);
		atomic_fetch_sub(&p->pending, 1);
		j = next;
	}
}

static void on_efd(evutil_socket_t fd, short what, void *userdata)
{
	struct authd_pool *p = userdata;
	struct pool_job *j;
	uint64_t n;

	(void)!read(p->efd, &n, sizeof(n)); /* EAGAIN: already drained */
	pthread_mutex_lock(&p->lock);
	j = queue_take(&p->done);
	pthread_mutex_unlock(&p->lock);
	run_done(p, j);
}

/* start_workers - n threads with every signal blocked; on failure, none */
static int start_workers(struct authd_pool *p, int n)
{
	sigset_t all, old;
	int r = 0;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (p->n_threads = 0; p->n_threads < n; p->n_threads++) {
		r = -pthread_create(&p->threads[p->n_threads], NULL, worker_main, p);
		if (r < 0)
			break;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return r;
}

static void stop_workers(struct authd_pool *p)
{
	pthread_mutex_lock(&p->lock);
	p->stopping = true;
	pthread_cond_broadcast(&p->wake);
	pthread_mutex_unlock(&p->lock);
	for (int i = 0; i < p->n_threads; i++)
		pthread_join(p->threads[i], NULL);
	p->n_threads = 0;
}

/* authd_pool_new - `threads` workers; completions arrive through an eventfd in base */
int authd_pool_new(struct event_base *base, int threads, struct authd_pool **ret)
{
	struct authd_pool *p;
	int r;

	if (!base || !ret || threads < 1 || threads > POOL_THREADS_MAX)
		return -EINVAL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->wake, NULL);
	atomic_init(&p->pending, 0);
	metrics_hist_init(&p->stats.wait, metrics_seconds_bounds, metrics_seconds_n);
	metrics_hist_init(&p->stats.work, metrics_seconds_bounds, metrics_seconds_n);
	p->threads = calloc((size_t)threads, sizeof(*p->threads));
	p->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (!p->threads || p->efd < 0) {
		r = p->threads ? -errno : -ENOMEM;
		goto fail;
	}
	p->ev = event_new(base, p->efd, EV_READ | EV_PERSIST, on_efd, p);
	if (!p->ev || event_add(p->ev, NULL) < 0) {
		r = -ENOMEM;
		goto fail;
	}
	r = start_workers(p, threads);
	if (r < 0)
		goto fail;
	*ret = p;
	return 0;
fail:
	authd_pool_free(p);
	return r;
}

/* authd_pool_submit - queue job; done(job) runs on the loop after work(job) */
int authd_pool_submit(struct authd_pool *p, authd_work_fn work, authd_done_fn done, void *job)
{
	return authd_pool_submit_by(p, work, done, job, 0);
}

/* authd_pool_submit_by - the same; work is skipped if a worker takes job after deadline_us */
int authd_pool_submit_by(struct authd_pool *p, authd_work_fn work, authd_done_fn done, void *job,
			 int64_t deadline_us)
{
	struct pool_job *j;
	int r = 0;

	if (!p || !work || !done)
		return -EINVAL;
	j = malloc(sizeof(*j));
	if (!j)
		return -ENOMEM;
	*j = (struct pool_job){
		.work = work, .done = done, .job = job, .deadline_us = deadline_us,
		.submit_us = mono_us(),
	};
	pthread_mutex_lock(&p->lock);
	if (p->stopping) {
		r = -ESHUTDOWN;
	} else {
		atomic_fetch_add(&p->pending, 1);
		p->queued++;
		queue_push(&p->todo, j);
		pthread_cond_signal(&p->wake);
	}
	pthread_mutex_unlock(&p->lock);
	if (r < 0)
		free(j);
	return r;
}

/*
 * authd_pool_wait_us - how long until a job queued now would be done:
 * the rounds of work ahead of it (itself included, and `coming` jobs the
 * caller will queue before it) over the workers, times the average work;
 * 0 before any work was measured.
 */
int64_t authd_pool_wait_us(struct authd_pool *p, size_t coming)
{
	int64_t us;

	pthread_mutex_lock(&p->lock);
	us = (int64_t)((p->queued + p->running + coming) / (size_t)p->n_threads + 1) *
	     p->avg_work_us;
	pthread_mutex_unlock(&p->lock);
	return us;
}

/* authd_pool_pending - jobs queued or running or waiting for done */
size_t authd_pool_pending(const struct authd_pool *p)
{
	return p ? atomic_load(&p->pending) : 0;
}

/* authd_pool_get_stats - what the workers did so far (loop thread) */
const struct authd_pool_stats *authd_pool_get_stats(const struct authd_pool *p)
{
	return &p->stats;
}

/* authd_pool_threads - how many workers hash */
int authd_pool_threads(const struct authd_pool *p)
{
	return p->n_threads;
}

/* authd_pool_free - finish queued jobs, run their done, join; accepts NULL */
struct authd_pool *authd_pool_free(struct authd_pool *p)
{
	struct pool_job *j;

	if (!p)
		return NULL;
	stop_workers(p);
	if (p->ev)
		event_free(p->ev);
	/* workers are gone: no lock needed, but take it for the analysers */
	pthread_mutex_lock(&p->lock);
	j = queue_take(&p->done);
	pthread_mutex_unlock(&p->lock);
	run_done(p, j);
	if (p->efd >= 0)
		close(p->efd);
	pthread_cond_destroy(&p->wake);
	pthread_mutex_destroy(&p->lock);
	free(p->threads);
	free(p);
	return NULL;
}
