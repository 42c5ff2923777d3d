/*
 * testlib.c - shared helpers of the unit tests (see testlib.h). Not part
 * of any daemon: the Makefile links it into tests only, each of which
 * links cmocka, so the HTTP client may fail the running test with cmocka's
 * assertions.
 */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

#include <cmocka.h>

#include <event2/event.h>
#include <ftw.h>
#include <pthread.h>

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

/* ---- the HTTP client -------------------------------------------------------- */

/* test_http_connect - SO_RCVTIMEO of 5 s, so a silent server fails the test */
int test_http_connect(int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	struct timeval tv = { 5, 0 };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int r = -errno;

		close(fd);
		return r;
	}
	return fd;
}

/* test_http_open - a connection with nothing received yet */
void test_http_open(struct test_http_client *c, int port)
{
	c->len = 0;
	c->fd = test_http_connect(port);
	assert_true(c->fd >= 0);
}

/* test_http_send - loops over short sends */
void test_http_send(struct test_http_client *c, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0) {
		ssize_t n = send(c->fd, p, len, MSG_NOSIGNAL);

		assert_true(n > 0);
		p += n;
		len -= (size_t)n;
	}
}

/* test_http_send_str - test_http_send of a string */
void test_http_send_str(struct test_http_client *c, const char *s)
{
	test_http_send(c, s, strlen(s));
}

/* test_http_fill - one recv into the free part of c->buf */
int test_http_fill(struct test_http_client *c)
{
	ssize_t n;

	assert_true(c->len < sizeof(c->buf));
	n = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len, 0);
	if (n < 0)
		return -1;
	c->len += (size_t)n;
	return n > 0;
}

/* test_http_header_n - a search for "\r\n<name>: " in the head */
const char *test_http_header_n(const struct test_http_resp *r, const char *name, int n)
{
	static char values[4][1024];
	static unsigned next;
	char key[128];
	const char *p = r->head;

	snprintf(key, sizeof(key), "\r\n%s: ", name);
	for (int i = 0; (p = strstr(p, key)); i++) {
		char *value;

		p += strlen(key);
		if (i < n)
			continue;
		value = values[next++ % 4];
		snprintf(value, sizeof(values[0]), "%.*s", (int)strcspn(p, "\r"), p);
		return value;
	}
	return NULL;
}

/* test_http_header - the first value */
const char *test_http_header(const struct test_http_resp *r, const char *name)
{
	return test_http_header_n(r, name, 0);
}

/* test_http_header_count - counts the values */
int test_http_header_count(const struct test_http_resp *r, const char *name)
{
	int n = 0;

	while (test_http_header_n(r, name, n))
		n++;
	return n;
}

/* test_http_read - head up to the empty line, then Content-Length bytes of body */
int test_http_read(struct test_http_client *c, struct test_http_resp *r, bool head_request)
{
	char *end;
	size_t hlen, clen = 0;
	const char *cl;

	while (!(end = memmem(c->buf, c->len, "\r\n\r\n", 4)))
		if (test_http_fill(c) <= 0)
			return -1;
	hlen = (size_t)(end - c->buf) + 4;
	assert_true(hlen < sizeof(r->head));
	memcpy(r->head, c->buf, hlen);
	r->head[hlen] = '\0';
	assert_int_equal(sscanf(r->head, "HTTP/1.1 %d ", &r->status), 1);
	cl = test_http_header(r, "Content-Length");
	if (cl && !head_request)
		clen = strtoul(cl, NULL, 10);
	assert_true(clen < sizeof(r->body));
	while (c->len < hlen + clen)
		if (test_http_fill(c) <= 0)
			return -1;
	memcpy(r->body, c->buf + hlen, clen);
	r->body[clen] = '\0';
	r->body_len = clen;
	memmove(c->buf, c->buf + hlen + clen, c->len - hlen - clen);
	c->len -= hlen + clen;
	return 0;
}

/* test_http_expect_eof - EOF, and no byte before it */
void test_http_expect_eof(struct test_http_client *c)
{
	assert_int_equal(test_http_fill(c), 0);
	assert_int_equal(c->len, 0);
}

/* test_http_close - the socket is closed, c->fd is -1 */
void test_http_close(struct test_http_client *c)
{
	close(c->fd);
	c->fd = -1;
}

/* test_http_exchange - a HEAD request (by its first bytes) is read without a body */
void test_http_exchange(int port, const char *req, struct test_http_resp *r)
{
	struct test_http_client *c = malloc(sizeof(*c));

	assert_non_null(c);
	test_http_open(c, port);
	test_http_send_str(c, req);
	assert_int_equal(test_http_read(c, r, strncmp(req, "HEAD ", 5) == 0), 0);
	test_http_close(c);
	free(c);
}
