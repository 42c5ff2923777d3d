/*
 * test-zmq-ev.c - unit tests of shared/zmq_ev.c with real ZeroMQ sockets
 * (ipc:// under a mkdtemp directory, and inproc://) in a real libevent loop.
 * The regression STYLE.md asks for: two messages and a reply sent in one
 * turn, from inside callbacks, all delivered with no outside wake-up; a
 * loop guard fails a test instead of letting it hang. Also: bounded batches
 * (1000 queued messages arrive over many turns, other events run between),
 * oversized multipart messages dropped and counted, zev_free() from inside
 * a callback, input queued before zev_new(), socket options, ipc:// bind
 * directory and file modes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "lib/testlib.h"
#include <event2/event.h>
#include <zmq.h>

#include "macro.h"
#include "zmq_ev.h"

#define GUARD_MS 5000

struct fx {
	void *zctx;
	struct event_base *base;
	char dir[80];
	char endpoint[200];
	void *socks[8]; /* closed by the teardown, so a failed test cannot hang zmq_ctx_term */
};

static int fx_setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	const char *tmp;

	assert_non_null(fx);
	fx->zctx = zmq_ctx_new();
	fx->base = event_base_new();
	assert_non_null(fx->zctx);
	assert_non_null(fx->base);
	tmp = getenv("TMPDIR");
	snprintf(fx->dir, sizeof(fx->dir), "%s/sembark-zev-XXXXXX", tmp && *tmp ? tmp : P_tmpdir);
	assert_non_null(mkdtemp(fx->dir));
	*state = fx;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *fx = *state;

	for (size_t i = 0; i < ELEMENTSOF(fx->socks); i++)
		if (fx->socks[i])
			zmq_close(fx->socks[i]);
	event_base_free(fx->base);
	zmq_ctx_term(fx->zctx);
	assert_int_equal(test_rmtree(fx->dir), 0);
	free(fx);
	return 0;
}

/* run the loop until a callback breaks it; false when the guard fired */
static bool run_loop(struct fx *fx)
{
	return test_loop_run(fx->base, GUARD_MS);
}

static void *new_socket(struct fx *fx, int type)
{
	void *s = zmq_socket(fx->zctx, type);
	size_t i;

	assert_non_null(s);
	for (i = 0; i < ELEMENTSOF(fx->socks) && fx->socks[i]; i++)
		;
	assert_true(i < ELEMENTSOF(fx->socks));
	fx->socks[i] = s;
	return s;
}

/* close a socket now (else the teardown does) */
static void close_socket(struct fx *fx, void *s)
{
	for (size_t i = 0; i < ELEMENTSOF(fx->socks); i++)
		if (fx->socks[i] == s)
			fx->socks[i] = NULL;
	zmq_close(s);
}

static void *make_socket(struct fx *fx, int type, int hwm)
{
	void *s = new_socket(fx, type);

	assert_int_equal(zsock_setup(s, hwm, 1 << 20), 0);
	return s;
}

static int send_str(struct zev *z, const char *ident, const char *s)
{
	const void *data[2] = { ident, s };
	const size_t size[2] = { ident ? strlen(ident) : 0, strlen(s) };

	return ident ? zev_send(z, 2, data, size) : zev_send(z, 1, data + 1, size + 1);
}

static bool part_is(const struct zev_msg *m, size_t i, const char *s)
{
	return i < m->nparts && m->size[i] == strlen(s) && memcmp(m->data[i], s, m->size[i]) == 0;
}

/* ---- two messages and a reply in one turn ------------------------------ */

struct pair {
	struct fx *fx;
	void *cs, *ss; /* client DEALER, server ROUTER */
	struct zev *cz, *sz;
	struct event *retry;
	int server_got, client_got;
	bool burst_sent;
};

static void check_done(struct pair *p)
{
	if (p->server_got == 3 && p->client_got == 4)
		event_base_loopbreak(p->fx->base);
}

/* server: answer every message from inside its callback */
static void server_msg(struct zev *z, const struct zev_msg *m, void *arg)
{
	struct pair *p = arg;
	char reply[32];

	assert_int_equal(m->nparts, 2);
	p->server_got++;
	snprintf(reply, sizeof(reply), "re:%.*s", (int)m->size[1], (const char *)m->data[1]);
	assert_int_equal(send_str(p->sz, "cli", reply), 0);
	check_done(p);
}

/* client: on the first answer, in this one callback, send two messages
 * and make the server push one message to us */
static void client_msg(struct zev *z, const struct zev_msg *m, void *arg)
{
	struct pair *p = arg;

	assert_int_equal(m->nparts, 1);
	p->client_got++;
	if (part_is(m, 0, "re:hello") && !p->burst_sent) {
		p->burst_sent = true;
		assert_int_equal(send_str(p->cz, NULL, "m1"), 0);
		assert_int_equal(send_str(p->cz, NULL, "m2"), 0);
		assert_int_equal(send_str(p->sz, "cli", "push"), 0);
	}
	check_done(p);
}

/* IMMEDIATE: sends fail until the connection completes; retry the hello */
static void on_retry(evutil_socket_t fd, short what, void *arg)
{
	struct pair *p = arg;
	struct timeval tv = { 0, 2000 };

	if (send_str(p->cz, NULL, "hello") < 0)
		evtimer_add(p->retry, &tv);
}

static void pair_open(struct fx *fx, struct pair *p, const char *endpoint)
{
	*p = (struct pair){ .fx = fx };
	p->ss = make_socket(fx, ZMQ_ROUTER, 1000);
	assert_int_equal(zsock_bind_endpoint(p->ss, endpoint), 0);
	p->cs = make_socket(fx, ZMQ_DEALER, 1000);
	assert_int_equal(zmq_setsockopt(p->cs, ZMQ_ROUTING_ID, "cli", 3), 0);
	assert_int_equal(zmq_connect(p->cs, endpoint), 0);
	assert_int_equal(zev_new(fx->base, p->ss, server_msg, p, &p->sz), 0);
	assert_int_equal(zev_new(fx->base, p->cs, client_msg, p, &p->cz), 0);
	p->retry = evtimer_new(fx->base, on_retry, p);
}

static void pair_close(struct pair *p)
{
	event_free(p->retry);
	zev_free(p->cz);
	zev_free(p->sz);
	close_socket(p->fx, p->cs);
	close_socket(p->fx, p->ss);
}

static void one_turn(struct fx *fx, const char *endpoint)
{
	struct pair p;

	pair_open(fx, &p, endpoint);
	on_retry(-1, 0, &p);
	assert_true(run_loop(fx));
	assert_int_equal(p.server_got, 3); /* hello, m1, m2 */
	assert_int_equal(p.client_got, 4); /* re:hello, push, re:m1, re:m2 */
	pair_close(&p);
}

static void test_one_turn_ipc(void **state)
{
	struct fx *fx = *state;

	snprintf(fx->endpoint, sizeof(fx->endpoint), "ipc://%s/turn.sock", fx->dir);
	one_turn(fx, fx->endpoint);
}

static void test_one_turn_inproc(void **state)
{
	one_turn(*state, "inproc://zev-turn");
}

/* ---- ping-pong with two in flight, sends from a timer ------------------ */

struct pingpong {
	struct fx *fx;
	struct zev *a, *b;
	int rounds;
	int a_got, b_got;
};

static void pp_b(struct zev *z, const struct zev_msg *m, void *arg)
{
	struct pingpong *pp = arg;
	const void *data[2] = { m->data[0], m->data[1] };
	size_t size[2] = { m->size[0], m->size[1] };

	pp->b_got++;
	assert_int_equal(zev_send(z, 2, data, size), 0);
}

static void pp_a(struct zev *z, const struct zev_msg *m, void *arg)
{
	struct pingpong *pp = arg;

	if (++pp->a_got == 2 * pp->rounds) {
		event_base_loopbreak(pp->fx->base);
		return;
	}
	if (pp->a_got % 2 == 0) { /* both answers in: send the next two */
		assert_int_equal(send_str(z, NULL, "x"), 0);
		assert_int_equal(send_str(z, NULL, "y"), 0);
	}
}

/* raw sends from outside any zev callback, followed by zev_kick */
static void pp_start(evutil_socket_t fd, short what, void *arg)
{
	struct pingpong *pp = arg;
	void *s = zev_socket(pp->a);

	if (zmq_send(s, "x", 1, ZMQ_DONTWAIT) < 0) {
		struct timeval tv = { 0, 2000 };

		event_base_once(pp->fx->base, -1, EV_TIMEOUT, pp_start, pp, &tv);
		return;
	}
	assert_int_equal(zmq_send(s, "y", 1, ZMQ_DONTWAIT), 1);
	zev_kick(pp->a);
}

static void test_pingpong(void **state)
{
	struct fx *fx = *state;
	struct pingpong pp = { .fx = fx, .rounds = 300 };
	void *ss = make_socket(fx, ZMQ_ROUTER, 1000), *cs = make_socket(fx, ZMQ_DEALER, 1000);
	struct timeval tv = { 0, 0 };

	snprintf(fx->endpoint, sizeof(fx->endpoint), "ipc://%s/pp.sock", fx->dir);
	assert_int_equal(zsock_bind_endpoint(ss, fx->endpoint), 0);
	assert_int_equal(zmq_connect(cs, fx->endpoint), 0);
	assert_int_equal(zev_new(fx->base, ss, pp_b, &pp, &pp.b), 0);
	assert_int_equal(zev_new(fx->base, cs, pp_a, &pp, &pp.a), 0);
	event_base_once(fx->base, -1, EV_TIMEOUT, pp_start, &pp, &tv);
	assert_true(run_loop(fx));
	assert_int_equal(pp.a_got, 2 * pp.rounds);
	assert_int_equal(pp.b_got, 2 * pp.rounds);
	zev_free(pp.a);
	zev_free(pp.b);
	close_socket(fx, cs);
	close_socket(fx, ss);
}

/* ---- bounded batches --------------------------------------------------- */

#define N_BATCH_MSGS 1000

struct batch {
	struct fx *fx;
	struct event *tick;
	unsigned ticks, run, max_run, runs;
	unsigned got;
	bool ticked; /* a tick since the last message */
};

/* an always-readable pipe: "other work" that runs once every loop turn,
 * before the timers, and that the drain must not starve */
static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct batch *b = arg;

	b->ticks++;
	b->ticked = true;
}

static void batch_msg(struct zev *z, const struct zev_msg *m, void *arg)
{
	struct batch *b = arg;

	if (b->ticked) {
		b->ticked = false;
		b->run = 0;
		b->runs++;
	}
	b->run++;
	b->max_run = MAX(b->max_run, b->run);
	if (++b->got == N_BATCH_MSGS)
		event_base_loopbreak(b->fx->base);
}

static void test_batch_bound(void **state)
{
	struct fx *fx = *state;
	struct batch b = { .fx = fx, .ticked = true };
	void *pull = make_socket(fx, ZMQ_PULL, 10000), *push = new_socket(fx, ZMQ_PUSH);
	struct zev *z;
	int hwm = 10000, fds[2];

	assert_int_equal(zsock_bind_endpoint(pull, "inproc://zev-batch"), 0);
	assert_int_equal(zmq_setsockopt(push, ZMQ_SNDHWM, &hwm, sizeof(hwm)), 0);
	assert_int_equal(zmq_connect(push, "inproc://zev-batch"), 0);
	for (int i = 0; i < N_BATCH_MSGS; i++)
		assert_int_equal(zmq_send(push, &i, sizeof(i), 0), sizeof(i));
	assert_int_equal(zev_new(fx->base, pull, batch_msg, &b, &z), 0);
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(write(fds[1], "t", 1), 1);
	b.tick = event_new(fx->base, fds[0], EV_READ | EV_PERSIST, on_tick, &b);
	event_add(b.tick, NULL);
	assert_true(run_loop(fx));
	assert_int_equal(b.got, N_BATCH_MSGS);
	assert_true(b.max_run <= ZEV_BATCH);
	assert_true(b.runs >= N_BATCH_MSGS / ZEV_BATCH);
	assert_true(b.ticks >= N_BATCH_MSGS / ZEV_BATCH);
	event_free(b.tick);
	close(fds[0]);
	close(fds[1]);
	zev_free(z);
	close_socket(fx, push);
	close_socket(fx, pull);
}

/* ---- parts, free from callback, queued input --------------------------- */

struct counter {
	struct fx *fx;
	int got;
	int stop_at;
	size_t last_nparts;
	struct zev **self; /* zev_free() it on the first message, */
	void *sock;        /* then close this socket */
};

static void count_msg(struct zev *z, const struct zev_msg *m, void *arg)
{
	struct counter *c = arg;

	c->got++;
	c->last_nparts = m->nparts;
	if (c->self) {
		assert_ptr_equal(*c->self, z);
		*c->self = zev_free(z);
		close_socket(c->fx, c->sock); /* the drain must not touch it after this */
	}
	if (c->got == c->stop_at || c->self)
		event_base_loopbreak(c->fx->base);
}

static void send_parts(void *s, int n)
{
	for (int i = 0; i < n; i++)
		assert_int_equal(zmq_send(s, "p", 1, i + 1 < n ? ZMQ_SNDMORE : 0), 1);
}

static void test_too_many_parts(void **state)
{
	struct fx *fx = *state;
	struct counter c = { .fx = fx, .stop_at = 2 };
	void *pull = make_socket(fx, ZMQ_PULL, 100), *push = new_socket(fx, ZMQ_PUSH);
	struct zev *z;

	assert_int_equal(zsock_bind_endpoint(pull, "inproc://zev-parts"), 0);
	assert_int_equal(zmq_connect(push, "inproc://zev-parts"), 0);
	send_parts(push, ZEV_MAX_PARTS + 1);
	send_parts(push, ZEV_MAX_PARTS);
	send_parts(push, 10);
	send_parts(push, 1);
	assert_int_equal(zev_new(fx->base, pull, count_msg, &c, &z), 0);
	assert_true(run_loop(fx));
	assert_int_equal(c.got, 2);
	assert_int_equal(c.last_nparts, 1);
	assert_int_equal(zev_dropped(z), 2);
	zev_free(z);
	close_socket(fx, push);
	close_socket(fx, pull);
}

static void test_free_in_callback(void **state)
{
	struct fx *fx = *state;
	struct zev *z;
	void *pull = make_socket(fx, ZMQ_PULL, 100), *push = new_socket(fx, ZMQ_PUSH);
	struct counter c = { .fx = fx, .self = &z, .sock = pull };
	struct timeval tv = { 0, 100 * 1000 };

	assert_int_equal(zsock_bind_endpoint(pull, "inproc://zev-free"), 0);
	assert_int_equal(zmq_connect(push, "inproc://zev-free"), 0);
	send_parts(push, 1);
	send_parts(push, 1);
	send_parts(push, 1);
	assert_int_equal(zev_new(fx->base, pull, count_msg, &c, &z), 0);
	assert_true(run_loop(fx));
	assert_null(z);
	event_base_loopexit(fx->base, &tv);
	event_base_dispatch(fx->base);
	assert_int_equal(c.got, 1);
	close_socket(fx, push);
}

/* ---- socket options and binding ---------------------------------------- */

static int get_int(void *s, int opt)
{
	int v = -1;
	size_t sz = sizeof(v);

	assert_int_equal(zmq_getsockopt(s, opt, &v, &sz), 0);
	return v;
}

static void test_setup_options(void **state)
{
	struct fx *fx = *state;
	static const struct {
		int type;
		int immediate;
	} cases[] = {
		{ ZMQ_DEALER, 1 }, { ZMQ_PUSH, 1 }, { ZMQ_ROUTER, 0 }, { ZMQ_PULL, 0 },
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		void *s = new_socket(fx, cases[i].type);
		int64_t maxsz = 0;
		size_t sz = sizeof(maxsz);

		assert_int_equal(zsock_setup(s, 123, 4567), 0);
		assert_int_equal(get_int(s, ZMQ_LINGER), 100);
		assert_int_equal(get_int(s, ZMQ_SNDHWM), 123);
		assert_int_equal(get_int(s, ZMQ_RCVHWM), 123);
		assert_int_equal(get_int(s, ZMQ_IMMEDIATE), cases[i].immediate);
		assert_int_equal(zmq_getsockopt(s, ZMQ_MAXMSGSIZE, &maxsz, &sz), 0);
		assert_int_equal(maxsz, 4567);
		assert_int_equal(zsock_setup(s, 0, 0), 0); /* 0: leave as is */
		assert_int_equal(get_int(s, ZMQ_SNDHWM), 123);
		close_socket(fx, s);
	}
}

/* a DEALER with IMMEDIATE and no peer: -EAGAIN at once, never a block */
static void test_send_no_peer(void **state)
{
	struct fx *fx = *state;
	void *s = make_socket(fx, ZMQ_DEALER, 10);
	struct zev *z;

	snprintf(fx->endpoint, sizeof(fx->endpoint), "ipc://%s/nobody.sock", fx->dir);
	assert_int_equal(zmq_connect(s, fx->endpoint), 0);
	assert_int_equal(zev_new(fx->base, s, count_msg, NULL, &z), 0);
	assert_int_equal(send_str(z, NULL, "x"), -EAGAIN);
	assert_int_equal(zev_send(z, 0, NULL, NULL), -EINVAL);
	zev_free(z);
	close_socket(fx, s);
}

static void test_bind_endpoint(void **state)
{
	struct fx *fx = *state;
	void *a = make_socket(fx, ZMQ_ROUTER, 10), *b = make_socket(fx, ZMQ_ROUTER, 10);
	char path[140];
	struct stat st;

	snprintf(path, sizeof(path), "%s/run/sub/authd.sock", fx->dir);
	snprintf(fx->endpoint, sizeof(fx->endpoint), "ipc://%s", path);
	umask(0077);
	assert_int_equal(zsock_bind_endpoint(a, fx->endpoint), 0);
	umask(0022);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0660);
	*strrchr(path, '/') = 0;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0750);
	assert_int_equal(zsock_bind_endpoint(b, "inproc://zev-bind"), 0);
	assert_true(zsock_bind_endpoint(b, "inproc://zev-bind") < 0); /* in use */
	assert_true(zsock_bind_endpoint(b, "nonsense://x") < 0);
	assert_int_equal(zsock_bind_endpoint(NULL, "inproc://x"), -EINVAL);
	close_socket(fx, a);
	close_socket(fx, b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_one_turn_ipc, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_one_turn_inproc, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_pingpong, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_batch_bound, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_too_many_parts, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_free_in_callback, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_setup_options, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_send_no_peer, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_bind_endpoint, fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
