/*
 * testlib.h - helpers every cmocka unit test may use, linked into each
 * test binary: running a real libevent loop under a time guard, running
 * code on a loop thread from the test thread, scratch directories, and a
 * blocking HTTP/1.1 client for servers on 127.0.0.1 whose failures are
 * cmocka failures of the calling test.
 */
#ifndef SEMBARK_TESTLIB_H
#define SEMBARK_TESTLIB_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

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

/*
 * TEST_DEFINE_IN_LOOP(fixture) - defines a static s_in_loop(f, fn, arg)
 * for `struct fixture` (which has a `base` member): run fn(f, arg) on the
 * loop thread of f->base with test_in_loop() and wait for it.
 */
#define TEST_DEFINE_IN_LOOP(T)                                                         \
	struct test_in_loop_##T {                                                     \
		void (*fn)(struct T *f, void *arg);                                   \
		struct T *f;                                                          \
		void *arg;                                                            \
	};                                                                            \
	static void s_in_loop_cb(void *userdata)                                      \
	{                                                                             \
		struct test_in_loop_##T *j = userdata;                                \
		j->fn(j->f, j->arg);                                                  \
	}                                                                             \
	static void s_in_loop(struct T *f, void (*fn)(struct T *, void *), void *arg)  \
	{                                                                             \
		struct test_in_loop_##T j = { .fn = fn, .f = f, .arg = arg };         \
		test_in_loop(f->base, s_in_loop_cb, &j);                              \
	}

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

/* ---- a blocking HTTP/1.1 client (5 s receive timeout) --------------------- */

#define TEST_HTTP_HEAD_MAX 4096
#define TEST_HTTP_BODY_MAX (1 << 16)

/* One connection and what it has received but not yet parsed (allocate it: it is large). */
struct test_http_client {
	int fd;
	size_t len;
	char buf[1 << 17];
};

/* One response: the head as received (NUL-terminated), and its body. */
struct test_http_resp {
	int status;
	char head[TEST_HTTP_HEAD_MAX];
	char body[TEST_HTTP_BODY_MAX]; /* NUL-terminated too */
	size_t body_len;
};

/* test_http_connect - a connected socket to 127.0.0.1:port, or -errno when connect fails */
int test_http_connect(int port);
/* test_http_open - connect c to 127.0.0.1:port; fails the test when that fails */
void test_http_open(struct test_http_client *c, int port);
/* test_http_send - all len bytes of data */
void test_http_send(struct test_http_client *c, const void *data, size_t len);
/* test_http_send_str - the bytes of s */
void test_http_send_str(struct test_http_client *c, const char *s);
/* test_http_fill - read more into c->buf: 1, 0 at EOF, -1 on timeout or error */
int test_http_fill(struct test_http_client *c);
/*
 * test_http_read - one response into r (no body read for a HEAD request):
 * 0, or -1 when the connection ended or timed out first
 */
int test_http_read(struct test_http_client *c, struct test_http_resp *r, bool head_request);
/* test_http_expect_eof - the server closes the connection with nothing more to read */
void test_http_expect_eof(struct test_http_client *c);
/* test_http_close - close the connection (c may be opened again) */
void test_http_close(struct test_http_client *c);
/* test_http_exchange - req (complete bytes) on a new connection, its one response into r */
void test_http_exchange(int port, const char *req, struct test_http_resp *r);
/*
 * test_http_header_n - the n-th (0-based) value of header name (exact
 * case) in r, or NULL; the value stays valid for the next three calls
 */
const char *test_http_header_n(const struct test_http_resp *r, const char *name, int n);
/* test_http_header - the first value of header name, or NULL (see test_http_header_n) */
const char *test_http_header(const struct test_http_resp *r, const char *name);
/* test_http_header_count - how many times header name occurs in r */
int test_http_header_count(const struct test_http_resp *r, const char *name);

#endif
