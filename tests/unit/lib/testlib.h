/*
 * testlib.h - helpers every cmocka unit test may use, linked into each
 * test binary: running a real libevent loop under a time guard, running
 * code on a loop thread from the test thread, and scratch directories.
 */
#ifndef SEMBARK_TESTLIB_H
#define SEMBARK_TESTLIB_H

#include <pthread.h>
#include <stdbool.h>

struct event_base;

/*
 * test_loop_run - dispatch base until a callback breaks the loop
 * (event_base_loopbreak) or guard_ms pass; false when the guard fired, so
 * a stalled test fails instead of hanging.
 */
bool test_loop_run(struct event_base *base, int guard_ms);

/*
 * test_in_loop - from another thread, run fn(arg) on base's loop thread
 * (base dispatching there) and wait until it has run.
 */
void test_in_loop(struct event_base *base, void (*fn)(void *arg), void *arg);

/* A libevent loop dispatching on a thread of its own, kept alive while idle. */
struct test_loop_thread {
	struct event_base *base;
	struct event *keepalive;
	pthread_t thread;
};

/* test_loop_thread_start - dispatch base on a new thread; 0 or -1 */
int test_loop_thread_start(struct test_loop_thread *t, struct event_base *base);
/* test_loop_thread_end - on the loop thread: let its dispatch return */
void test_loop_thread_end(struct test_loop_thread *t);
/* test_loop_thread_join - wait for the thread after test_loop_thread_end */
void test_loop_thread_join(struct test_loop_thread *t);

/* test_rmtree - remove a scratch directory and everything in it; 0 or -1 */
int test_rmtree(const char *dir);

#endif
