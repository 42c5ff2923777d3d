/*
 * testlib.c - shared helpers of the unit tests (see testlib.h). Not part
 * of any daemon: the Makefile links it into tests only.
 */
#define _XOPEN_SOURCE 700
#include <event2/event.h>
#include <ftw.h>
#include <pthread.h>
#include <stdlib.h>
#include <stdio.h>

#include "testlib.h"

struct guard {
	struct event_base *base;
	bool fired;
};

static void s_on_guard(evutil_socket_t fd, short what, void *arg)
{
	struct guard *g = arg;

	g->fired = true;
	event_base_loopbreak(g->base);
}

/* test_loop_run - run until loopbreak or the guard */
bool test_loop_run(struct event_base *base, int guard_ms)
{
	struct timeval tv = { guard_ms / 1000, (guard_ms % 1000) * 1000 };
	struct guard g = { .base = base };
	struct event *timer = evtimer_new(base, s_on_guard, &g);

	if (!timer)
		return false;
	evtimer_add(timer, &tv);
	event_base_dispatch(base);
	event_free(timer);
	return !g.fired;
}

struct job {
	void (*fn)(void *arg);
	void *arg;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool done;
};

static void s_job_cb(evutil_socket_t fd, short what, void *userdata)
{
	struct job *j = userdata;

	j->fn(j->arg);
	pthread_mutex_lock(&j->lock);
	j->done = true;
	pthread_cond_signal(&j->cond);
	pthread_mutex_unlock(&j->lock);
}

/* test_in_loop - hand fn to the loop thread and wait for it */
void test_in_loop(struct event_base *base, void (*fn)(void *arg), void *arg)
{
	struct job j = { .fn = fn, .arg = arg };
	const struct timeval now = { 0, 0 };

	pthread_mutex_init(&j.lock, NULL);
	pthread_cond_init(&j.cond, NULL);
	if (event_base_once(base, -1, EV_TIMEOUT, s_job_cb, &j, &now) != 0)
		abort(); /* the test cannot go on without its loop */
	pthread_mutex_lock(&j.lock);
	while (!j.done)
		pthread_cond_wait(&j.cond, &j.lock);
	pthread_mutex_unlock(&j.lock);
	pthread_mutex_destroy(&j.lock);
	pthread_cond_destroy(&j.cond);
}

static void s_keepalive_cb(evutil_socket_t fd, short what, void *userdata)
{
}

static void *s_loop_main(void *userdata)
{
	event_base_dispatch(userdata);
	return NULL;
}

/* test_loop_thread_start - an hourly no-op timer keeps dispatch from returning */
int test_loop_thread_start(struct test_loop_thread *t, struct event_base *base)
{
	const struct timeval hour = { 3600, 0 };

	t->base = base;
	t->keepalive = event_new(base, -1, EV_PERSIST, s_keepalive_cb, NULL);
	if (!t->keepalive || event_add(t->keepalive, &hour) < 0)
		return -1;
	return pthread_create(&t->thread, NULL, s_loop_main, base) == 0 ? 0 : -1;
}

/* test_loop_thread_end - drop the keepalive and break the loop */
void test_loop_thread_end(struct test_loop_thread *t)
{
	event_free(t->keepalive);
	t->keepalive = NULL;
	event_base_loopbreak(t->base);
}

/* test_loop_thread_join - the thread is gone after this */
void test_loop_thread_join(struct test_loop_thread *t)
{
	pthread_join(t->thread, NULL);
}

static int s_remove(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

/* test_rmtree - depth-first removal, links not followed */
int test_rmtree(const char *dir)
{
	return nftw(dir, s_remove, 16, FTW_DEPTH | FTW_PHYS);
}
