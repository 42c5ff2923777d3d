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
 * calling (loop) thread: every submitted job has work and done run exactly
 * once. A done callback that submits again during free gets -ESHUTDOWN;
 * a done callback must not free the pool itself.
 */
#include <errno.h>
#include <event2/event.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "authd.h"

#define POOL_THREADS_MAX 64

struct pool_job {
	authd_work_fn work;
	authd_done_fn done;
	void *job;
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
	atomic_size_t pending;      /* submitted, done not yet run */
	int efd;                    /* workers -> loop: "done has jobs" */
	struct event *ev;
	pthread_t *threads;
	int n_threads;
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

static void *worker_main(void *userdata)
{
	struct authd_pool *p = userdata;
	struct pool_job *j;

	pthread_setname_np(pthread_self(), "authd-pool");
	pthread_mutex_lock(&p->lock);
	for (;;) {
		while (!p->todo.head && !p->stopping)
			pthread_cond_wait(&p->wake, &p->lock);
		j = queue_pop(&p->todo);
		if (!j)
			break; /* stopping and nothing left */
		pthread_mutex_unlock(&p->lock);
		j->work(j->job);
		pthread_mutex_lock(&p->lock);
		queue_push(&p->done, j);
		signal_loop(p);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

/* run_done - run done for a list of jobs on this (the loop) thread */
static void run_done(struct authd_pool *p, struct pool_job *j)
{
	while (j) {
		struct pool_job *next = j->next;

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
	struct pool_job *j;
	int r = 0;

	if (!p || !work || !done)
		return -EINVAL;
	j = malloc(sizeof(*j));
	if (!j)
		return -ENOMEM;
	*j = (struct pool_job){ .work = work, .done = done, .job = job };
	pthread_mutex_lock(&p->lock);
	if (p->stopping) {
		r = -ESHUTDOWN;
	} else {
		atomic_fetch_add(&p->pending, 1);
		queue_push(&p->todo, j);
		pthread_cond_signal(&p->wake);
	}
	pthread_mutex_unlock(&p->lock);
	if (r < 0)
		free(j);
	return r;
}

/* authd_pool_pending - jobs queued or running or waiting for done */
size_t authd_pool_pending(const struct authd_pool *p)
{
	return p ? atomic_load(&p->pending) : 0;
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
