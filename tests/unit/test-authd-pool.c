/*
 * test-authd-pool.c - unit tests of services/authd/pool.c with a real
 * libevent loop and real threads: 1000 jobs over 4 workers, each worked
 * once off the loop thread and done once on it, pending() back to 0; free
 * with jobs still queued runs every one of them and their done on the
 * caller, and a done that submits then is refused (-ESHUTDOWN); done
 * submitting a second round from the loop; deadlines (work skipped, done
 * run) and the wait estimate; argument checks.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <event2/event.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "services/authd/authd.h"

#define N_JOBS 1000

struct job {
	int id;
	atomic_int worked;
	int done;                 /* loop thread only */
	pthread_t worker;
	bool worked_off_loop;
	bool done_on_loop;
	int resubmit;             /* submit again from done: expected result */
};

static pthread_t s_loop;
static struct authd_pool *s_pool;
static int s_done_total;

static void s_work(void *userdata)
{
	struct job *j = userdata;

	j->worker = pthread_self();
	j->worked_off_loop = !pthread_equal(j->worker, s_loop);
	atomic_fetch_add(&j->worked, 1);
}

static void s_slow_work(void *userdata)
{
	struct timespec ts = { 0, 1000000 }; /* 1 ms */

	nanosleep(&ts, NULL);
	s_work(userdata);
}

static void s_done(void *userdata)
{
	struct job *j = userdata;

	j->done++;
	j->done_on_loop = pthread_equal(pthread_self(), s_loop);
	s_done_total++;
	if (j->resubmit)
		assert_int_equal(authd_pool_submit(s_pool, s_work, s_done, j), j->resubmit);
}

static void s_check_all(struct job *jobs, int n)
{
	for (int i = 0; i < n; i++) {
		assert_int_equal(atomic_load(&jobs[i].worked), 1);
		assert_int_equal(jobs[i].done, 1);
		assert_true(jobs[i].worked_off_loop);
		assert_true(jobs[i].done_on_loop);
	}
}

static void test_thousand_jobs(void **state)
{
	static struct job jobs[N_JOBS];
	struct event_base *base = event_base_new();
	pthread_t seen[4];
	int n_seen = 0;

	memset(jobs, 0, sizeof(jobs));
	s_done_total = 0;
	assert_non_null(base);
	assert_int_equal(authd_pool_new(base, 4, &s_pool), 0);
	assert_int_equal(authd_pool_pending(s_pool), 0);
	for (int i = 0; i < N_JOBS; i++) {
		jobs[i].id = i;
		assert_int_equal(authd_pool_submit(s_pool, i % 2 ? s_work : s_slow_work, s_done,
						   &jobs[i]), 0);
	}
	assert_true(authd_pool_pending(s_pool) > 0);
	while (authd_pool_pending(s_pool) > 0)
		assert_int_equal(event_base_loop(base, EVLOOP_ONCE), 0);
	assert_int_equal(s_done_total, N_JOBS);
	s_check_all(jobs, N_JOBS);
	/* the work was spread over more than one worker */
	for (int i = 0; i < N_JOBS; i++) {
		int k = 0;

		while (k < n_seen && !pthread_equal(seen[k], jobs[i].worker))
			k++;
		if (k == n_seen) {
			assert_true(n_seen < 4);
			seen[n_seen++] = jobs[i].worker;
		}
	}
	assert_true(n_seen > 1);
	s_pool = authd_pool_free(s_pool);
	assert_int_equal(s_done_total, N_JOBS);
	event_base_free(base);
}

static void test_free_with_queued(void **state)
{
	static struct job jobs[200];
	struct event_base *base = event_base_new();

	memset(jobs, 0, sizeof(jobs));
	s_done_total = 0;
	assert_int_equal(authd_pool_new(base, 2, &s_pool), 0);
	for (int i = 0; i < 200; i++) {
		jobs[i].resubmit = i % 50 == 0 ? -ESHUTDOWN : 0;
		assert_int_equal(authd_pool_submit(s_pool, s_slow_work, s_done, &jobs[i]), 0);
	}
	assert_int_equal(authd_pool_pending(s_pool), 200);
	/* never ran the loop: free finishes the work and runs every done here */
	s_pool = authd_pool_free(s_pool);
	assert_null(s_pool);
	assert_int_equal(s_done_total, 200);
	s_check_all(jobs, 200);
	event_base_free(base);
}

static void s_done_chain(void *userdata)
{
	struct job *j = userdata;

	s_done(j);
	if (j->done == 1) /* a second round, submitted from the loop by done */
		assert_int_equal(authd_pool_submit(s_pool, s_work, s_done_chain, j), 0);
}

/* done submitting more work while the loop runs: each job worked twice */
static void test_resubmit(void **state)
{
	static struct job jobs[50];
	struct event_base *base = event_base_new();

	memset(jobs, 0, sizeof(jobs));
	s_done_total = 0;
	assert_int_equal(authd_pool_new(base, 3, &s_pool), 0);
	for (int i = 0; i < 50; i++)
		assert_int_equal(authd_pool_submit(s_pool, s_work, s_done_chain, &jobs[i]), 0);
	while (authd_pool_pending(s_pool) > 0)
		assert_int_equal(event_base_loop(base, EVLOOP_ONCE), 0);
	assert_int_equal(s_done_total, 100);
	for (int i = 0; i < 50; i++) {
		assert_int_equal(atomic_load(&jobs[i].worked), 2);
		assert_int_equal(jobs[i].done, 2);
		assert_true(jobs[i].worked_off_loop && jobs[i].done_on_loop);
	}
	s_pool = authd_pool_free(s_pool);
	event_base_free(base);
}

/*
 * test_deadlines - a job a worker reaches after its deadline is not worked
 * but still done; the wait estimate is 0 before any work was measured,
 * then at least one work's time (1 ms), with or without a queue.
 */
static void test_deadlines(void **state)
{
	static struct job late, soon, queued[20];
	struct event_base *base = event_base_new();

	memset(&late, 0, sizeof(late));
	memset(&soon, 0, sizeof(soon));
	memset(queued, 0, sizeof(queued));
	s_done_total = 0;
	assert_int_equal(authd_pool_new(base, 1, &s_pool), 0);
	assert_int_equal(authd_pool_wait_us(s_pool, 0), 0);
	assert_int_equal(authd_pool_submit_by(s_pool, s_slow_work, s_done, &late, mono_us() - 1), 0);
	assert_int_equal(authd_pool_submit_by(s_pool, s_slow_work, s_done, &soon,
					      mono_us() + 60 * 1000000LL), 0);
	for (int i = 0; i < 20; i++)
		assert_int_equal(authd_pool_submit(s_pool, s_slow_work, s_done, &queued[i]), 0);
	s_pool = authd_pool_free(s_pool); /* works what is queued, runs every done */
	assert_int_equal(s_done_total, 22);
	assert_int_equal(atomic_load(&late.worked), 0);
	assert_int_equal(late.done, 1);
	assert_int_equal(atomic_load(&soon.worked), 1);
	assert_int_equal(soon.done, 1);
	s_check_all(queued, 20);

	assert_int_equal(authd_pool_new(base, 1, &s_pool), 0);
	assert_int_equal(authd_pool_submit(s_pool, s_slow_work, s_done, &queued[0]), 0);
	while (authd_pool_wait_us(s_pool, 0) == 0) /* measured once the first work ends */
		event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	assert_true(authd_pool_wait_us(s_pool, 0) >= 1000);
	for (int i = 1; i < 20; i++)
		assert_int_equal(authd_pool_submit(s_pool, s_slow_work, s_done, &queued[i]), 0);
	assert_true(authd_pool_wait_us(s_pool, 0) >= 1000);
	s_pool = authd_pool_free(s_pool);
	event_base_free(base);
}

static void test_arguments(void **state)
{
	struct event_base *base = event_base_new();
	struct authd_pool *p = NULL;
	struct job j = { 0 };

	assert_int_equal(authd_pool_new(base, 0, &p), -EINVAL);
	assert_int_equal(authd_pool_new(base, 1000, &p), -EINVAL);
	assert_int_equal(authd_pool_new(NULL, 2, &p), -EINVAL);
	assert_null(p);
	assert_int_equal(authd_pool_new(base, 1, &p), 0);
	assert_int_equal(authd_pool_submit(p, NULL, s_done, &j), -EINVAL);
	assert_int_equal(authd_pool_submit(p, s_work, NULL, &j), -EINVAL);
	assert_int_equal(authd_pool_submit(NULL, s_work, s_done, &j), -EINVAL);
	assert_int_equal(authd_pool_pending(p), 0);
	assert_int_equal(authd_pool_pending(NULL), 0);
	assert_null(authd_pool_free(p));
	assert_null(authd_pool_free(NULL));
	event_base_free(base);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_thousand_jobs),
		cmocka_unit_test(test_free_with_queued),
		cmocka_unit_test(test_resubmit),
		cmocka_unit_test(test_deadlines),
		cmocka_unit_test(test_arguments),
	};

	s_loop = pthread_self();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
