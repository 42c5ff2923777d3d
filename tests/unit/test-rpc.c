/*
 * test-rpc.c - unit tests of runtime/rpc.c with real ZeroMQ sockets over
 * ipc:// (in a mkdtemp directory) and a real libevent loop: call/reply,
 * deadlines and late replies, cancel, garbage and wrong-direction types
 * answered with "bad_message" while the server keeps serving, many
 * concurrent calls matched by id, replies sent later from a timer, send
 * failures delivered from the loop, freeing with calls or requests
 * outstanding, calls spread over two backends, and a backend that goes
 * away with a call unanswered (-ECONNRESET at once). Every loop run has a guard timer that fails the test.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/testlib.h"
#include <event2/event.h>
#include <zmq.h>

#include "ipc.h"
#include "macro.h"
#include "rpc.h"

#define GUARD_MS 5000
#define MAX_HELD 600

enum mode {
	MODE_ECHO,  /* answer ping with pong at once */
	MODE_HOLD,  /* keep requests in held[] */
};

struct fx {
	void *zctx;
	struct event_base *base;
	char dir[80];
	char endpoint[128];
	struct rpc_server *srv;
	struct rpc_client *cli;
	enum mode mode;
	unsigned handled;
	struct rpc_request *held[MAX_HELD];
	size_t nheld;
	void *raw; /* a raw DEALER, closed by the teardown */
};

/* ---- fixture ----------------------------------------------------------- */

static void reply_pong(struct rpc_request *req)
{
	struct ipc_pong p = { .pid = getpid(), .uptime_s = 1, .database = true };
	struct ipc_buf buf;

	strcpy(p.service, "authd");
	ipc_buf_init(&buf);
	assert_int_equal(ipc_encode_pong(&buf, rpc_request_id(req), &p), 0);
	assert_int_equal(rpc_reply(req, buf.data, buf.size), 0);
	ipc_buf_done(&buf);
}

static void handler(struct rpc_request *req, enum ipc_msg_type type, const void *buf, size_t len,
		    void *userdata)
{
	struct fx *fx = userdata;
	uint64_t id;

	fx->handled++;
	assert_int_equal(type, IPC_MSG_PING);
	assert_int_equal(ipc_decode_ping(buf, len, &id, &(struct ipc_ping){ 0 }), 0);
	assert_true(id == rpc_request_id(req));
	if (fx->mode == MODE_ECHO) {
		reply_pong(req);
		return;
	}
	assert_true(fx->nheld < MAX_HELD);
	fx->held[fx->nheld++] = req;
}

static int fx_setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	const char *tmp;

	assert_non_null(fx);
	fx->zctx = zmq_ctx_new();
	fx->base = event_base_new();
	tmp = getenv("TMPDIR");
	snprintf(fx->dir, sizeof(fx->dir), "%s/sembark-rpc-XXXXXX", tmp && *tmp ? tmp : P_tmpdir);
	assert_non_null(mkdtemp(fx->dir));
	snprintf(fx->endpoint, sizeof(fx->endpoint), "ipc://%s/authd.sock", fx->dir);
	assert_int_equal(rpc_server_new(fx->base, fx->zctx, fx->endpoint, IPC_PEER_AUTHD, NULL,
					handler, fx, &fx->srv), 0);
	assert_int_equal(rpc_client_new(fx->base, fx->zctx, fx->endpoint, NULL, &fx->cli), 0);
	*state = fx;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *fx = *state;

	rpc_client_free(fx->cli);
	for (size_t i = 0; i < fx->nheld; i++)
		rpc_reply_error(fx->held[i], "shutdown", NULL);
	rpc_server_free(fx->srv);
	if (fx->raw)
		zmq_close(fx->raw);
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

/* run the loop for ms milliseconds */
static void run_for(struct fx *fx, int ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	event_base_loopexit(fx->base, &tv);
	event_base_dispatch(fx->base);
}

/* ---- client side helpers ----------------------------------------------- */

struct result {
	struct fx *fx;
	uint64_t want_id;
	int calls;
	int r;
	enum ipc_msg_type type;
	uint64_t id;
	struct ipc_pong pong;
	struct ipc_error err;
	bool stop; /* break the loop when called */
	int *countdown; /* or when this reaches 0 */
};

static void on_result(int r, enum ipc_msg_type type, const void *buf, size_t len, void *userdata)
{
	struct result *res = userdata;

	res->calls++;
	res->r = r;
	res->type = type;
	if (r == 0 && type == IPC_MSG_PONG)
		assert_int_equal(ipc_decode_pong(buf, len, &res->id, &res->pong), 0);
	if (r == 0 && type == IPC_MSG_ERROR)
		assert_int_equal(ipc_decode_error(buf, len, &res->id, &res->err), 0);
	if (r == 0)
		assert_true(res->id == res->want_id);
	if (res->stop || (res->countdown && --*res->countdown == 0))
		event_base_loopbreak(res->fx->base);
}

static int call_ping(struct fx *fx, struct result *res, int timeout_ms)
{
	struct ipc_buf buf;
	int r;

	res->want_id = rpc_next_id(fx->cli);
	ipc_buf_init(&buf);
	assert_int_equal(ipc_encode_ping(&buf, res->want_id, &(struct ipc_ping){ 0 }), 0);
	r = rpc_call(fx->cli, res->want_id, buf.data, buf.size, timeout_ms, on_result, res);
	ipc_buf_done(&buf);
	return r;
}

/* IMMEDIATE: calls fail with -EAGAIN until the connection completes */
static void wait_connected(struct fx *fx)
{
	enum mode saved = fx->mode;

	fx->mode = MODE_ECHO;
	for (int i = 0; i < 500; i++) {
		struct result res = { .fx = fx, .stop = true };

		assert_int_equal(call_ping(fx, &res, 1000), 0);
		assert_true(run_loop(fx));
		if (res.r == 0)
			break;
		assert_int_equal(res.r, -EAGAIN);
		run_for(fx, 2);
	}
	fx->handled = 0;
	fx->mode = saved;
}

/* ---- tests ------------------------------------------------------------- */

static void test_call_reply(void **state)
{
	struct fx *fx = *state;
	struct result res = { .fx = fx, .stop = true };

	wait_connected(fx);
	assert_int_equal(call_ping(fx, &res, 1000), 0);
	assert_int_equal(res.calls, 0); /* never from inside rpc_call */
	assert_int_equal(rpc_pending(fx->cli), 1);
	assert_true(run_loop(fx));
	assert_int_equal(res.calls, 1);
	assert_int_equal(res.r, 0);
	assert_int_equal(res.type, IPC_MSG_PONG);
	assert_string_equal(res.pong.service, "authd");
	assert_int_equal(res.pong.pid, getpid());
	assert_true(res.pong.database);
	assert_int_equal(rpc_pending(fx->cli), 0);
	assert_int_equal(rpc_server_inflight(fx->srv), 0);
	assert_int_equal(rpc_late_replies(fx->cli), 0);
}

static void test_deadline_and_late_reply(void **state)
{
	struct fx *fx = *state;
	struct result res = { .fx = fx, .stop = true };

	wait_connected(fx);
	fx->mode = MODE_HOLD;
	assert_int_equal(call_ping(fx, &res, 50), 0);
	assert_true(run_loop(fx));
	assert_int_equal(res.calls, 1);
	assert_int_equal(res.r, -ETIMEDOUT);
	assert_int_equal(rpc_pending(fx->cli), 0);
	assert_int_equal(fx->nheld, 1);
	assert_int_equal(rpc_server_inflight(fx->srv), 1);
	reply_pong(fx->held[--fx->nheld]);
	assert_int_equal(rpc_server_inflight(fx->srv), 0);
	run_for(fx, 100);
	assert_int_equal(res.calls, 1); /* exactly once */
	assert_int_equal(rpc_late_replies(fx->cli), 1);
}

static void test_cancel(void **state)
{
	struct fx *fx = *state;
	struct result res = { .fx = fx, .stop = true };

	wait_connected(fx);
	fx->mode = MODE_HOLD;
	assert_int_equal(call_ping(fx, &res, 50), 0);
	rpc_cancel(fx->cli, res.want_id);
	rpc_cancel(fx->cli, res.want_id); /* twice: harmless */
	assert_int_equal(rpc_pending(fx->cli), 0);
	run_for(fx, 100);
	assert_int_equal(res.calls, 0);
	assert_int_equal(fx->nheld, 1);
	reply_pong(fx->held[--fx->nheld]);
	run_for(fx, 50);
	assert_int_equal(res.calls, 0);
	assert_int_equal(rpc_late_replies(fx->cli), 1);
}

/* a raw DEALER: send one multipart message, wait for one reply frame */
static void *raw_dealer(struct fx *fx)
{
	void *s = zmq_socket(fx->zctx, ZMQ_DEALER);
	int linger = 0, timeo = 2000;

	assert_non_null(s);
	zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof(linger));
	zmq_setsockopt(s, ZMQ_RCVTIMEO, &timeo, sizeof(timeo));
	assert_int_equal(zmq_connect(s, fx->endpoint), 0);
	fx->raw = s;
	return s;
}

/* the server runs in our loop: pump it until the raw socket has a reply */
static int raw_recv(struct fx *fx, void *s, char *buf, size_t size)
{
	for (int i = 0; i < 200; i++) {
		int n = zmq_recv(s, buf, size, ZMQ_DONTWAIT);

		if (n >= 0)
			return n;
		run_for(fx, 5);
	}
	return -1;
}

static void expect_error_reply(const char *buf, int n, uint64_t want_id, const char *code)
{
	struct ipc_error e;
	uint64_t id;

	assert_true(n > 0);
	assert_int_equal(ipc_decode_error(buf, (size_t)n, &id, &e), 0);
	assert_true(id == want_id);
	assert_string_equal(e.code, code);
}

static void test_garbage(void **state)
{
	struct fx *fx = *state;
	void *s = raw_dealer(fx);
	struct ipc_buf ping;
	char buf[1024];
	int n;

	ipc_buf_init(&ping);
	assert_int_equal(ipc_encode_ping(&ping, 41, &(struct ipc_ping){ 0 }), 0);
	assert_int_equal(zmq_send(s, "\xc1garbage", 8, 0), 8);
	expect_error_reply(buf, raw_recv(fx, s, buf, sizeof(buf)), 0, "bad_message");
	/* a valid frame with trailing bytes is garbage too */
	memcpy(buf, ping.data, ping.size);
	assert_int_equal(zmq_send(s, buf, ping.size + 1, 0), (int)ping.size + 1);
	expect_error_reply(buf, raw_recv(fx, s, buf, sizeof(buf)), 0, "bad_message");
	/* two frames after the identity: not our shape, dropped silently */
	assert_int_equal(zmq_send(s, ping.data, ping.size, ZMQ_SNDMORE), (int)ping.size);
	assert_int_equal(zmq_send(s, ping.data, ping.size, 0), (int)ping.size);
	/* and the server still serves */
	assert_int_equal(zmq_send(s, ping.data, ping.size, 0), (int)ping.size);
	n = raw_recv(fx, s, buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal(ipc_peek(buf, (size_t)n, &(enum ipc_msg_type){ 0 }, NULL), 0);
	assert_int_equal(fx->handled, 1);
	assert_int_equal(rpc_server_inflight(fx->srv), 0);
	ipc_buf_done(&ping);
}

/* log.record goes to logd only: authd answers bad_message with its id */
static void test_wrong_direction(void **state)
{
	struct fx *fx = *state;
	struct result res = { .fx = fx, .stop = true };
	struct ipc_log_record rec = { .time_us = 1 };
	struct ipc_buf buf;

	wait_connected(fx);
	strcpy(rec.service, "ingressd");
	strcpy(rec.level, "info");
	strcpy(rec.msg, "hello");
	res.want_id = rpc_next_id(fx->cli);
	ipc_buf_init(&buf);
	assert_int_equal(ipc_encode_log_record(&buf, res.want_id, &rec), 0);
	assert_int_equal(rpc_call(fx->cli, res.want_id, buf.data, buf.size, 1000, on_result, &res), 0);
	assert_true(run_loop(fx));
	assert_int_equal(res.r, 0);
	assert_int_equal(res.type, IPC_MSG_ERROR);
	assert_string_equal(res.err.code, "bad_message");
	assert_int_equal(fx->handled, 0);
	ipc_buf_done(&buf);
}

#define N_CONCURRENT 500

static void test_many_concurrent(void **state)
{
	struct fx *fx = *state;
	static struct result res[N_CONCURRENT];
	int left = N_CONCURRENT;

	wait_connected(fx);
	fx->mode = MODE_HOLD;
	for (int i = 0; i < N_CONCURRENT; i++) {
		res[i] = (struct result){ .fx = fx, .countdown = &left };
		assert_int_equal(call_ping(fx, &res[i], 3000), 0);
	}
	assert_int_equal(rpc_pending(fx->cli), N_CONCURRENT);
	while (fx->nheld < N_CONCURRENT)
		run_for(fx, 5);
	assert_int_equal(rpc_server_inflight(fx->srv), N_CONCURRENT);
	while (fx->nheld > 0) /* answer in reverse order */
		reply_pong(fx->held[--fx->nheld]);
	assert_true(run_loop(fx));
	for (int i = 0; i < N_CONCURRENT; i++) {
		assert_int_equal(res[i].calls, 1);
		assert_int_equal(res[i].r, 0); /* on_result checked the id */
	}
	assert_int_equal(rpc_pending(fx->cli), 0);
	assert_int_equal(rpc_late_replies(fx->cli), 0);
}

static void on_reply_timer(evutil_socket_t fd, short what, void *arg)
{
	struct fx *fx = arg;

	reply_pong(fx->held[--fx->nheld]);
}

static void test_async_reply_from_timer(void **state)
{
	struct fx *fx = *state;
	struct result res = { .fx = fx, .stop = true };
	struct timeval tv = { 0, 30 * 1000 };

	wait_connected(fx);
	fx->mode = MODE_HOLD;
	assert_int_equal(call_ping(fx, &res, 2000), 0);
	while (fx->nheld == 0)
		run_for(fx, 5);
	assert_int_equal(rpc_server_inflight(fx->srv), 1);
	event_base_once(fx->base, -1, EV_TIMEOUT, on_reply_timer, fx, &tv);
	assert_true(run_loop(fx));
	assert_int_equal(res.r, 0);
	assert_int_equal(res.type, IPC_MSG_PONG);
	assert_int_equal(rpc_server_inflight(fx->srv), 0);
}

/* no server at all: the send error comes from the loop, not from rpc_call */
static void test_send_failure_is_async(void **state)
{
	struct fx *fx = *state;
	struct result res = { .fx = fx, .stop = true };
	char endpoint[160];

	rpc_client_free(fx->cli);
	snprintf(endpoint, sizeof(endpoint), "ipc://%s/nobody.sock", fx->dir);
	assert_int_equal(rpc_client_new(fx->base, fx->zctx, endpoint, NULL, &fx->cli), 0);
	assert_int_equal(call_ping(fx, &res, 1000), 0);
	assert_int_equal(res.calls, 0);
	assert_true(run_loop(fx));
	assert_int_equal(res.calls, 1);
	assert_int_equal(res.r, -EAGAIN);
	assert_int_equal(rpc_pending(fx->cli), 0);
}

static void on_cancelled(int r, enum ipc_msg_type type, const void *buf, size_t len,
			 void *userdata)
{
	struct result *res = userdata;

	res->calls++;
	res->r = r;
	/* the client is going away: no new calls */
	assert_int_equal(call_ping(res->fx, &(struct result){ .fx = res->fx }, 10), -ECANCELED);
}

static void test_client_free_cancels(void **state)
{
	struct fx *fx = *state;
	struct result res[3];
	struct ipc_buf buf;

	wait_connected(fx);
	fx->mode = MODE_HOLD;
	ipc_buf_init(&buf);
	for (int i = 0; i < 3; i++) {
		uint64_t id = rpc_next_id(fx->cli);

		res[i] = (struct result){ .fx = fx };
		assert_int_equal(ipc_encode_ping(&buf, id, &(struct ipc_ping){ 0 }), 0);
		assert_int_equal(rpc_call(fx->cli, id, buf.data, buf.size, 1000, on_cancelled, &res[i]),
				 0);
	}
	ipc_buf_done(&buf);
	fx->cli = rpc_client_free(fx->cli);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(res[i].calls, 1);
		assert_int_equal(res[i].r, -ECANCELED);
	}
}

static void test_bad_calls(void **state)
{
	struct fx *fx = *state;
	struct result res = { .fx = fx };
	struct ipc_buf buf;
	uint64_t id = rpc_next_id(fx->cli);

	ipc_buf_init(&buf);
	assert_int_equal(ipc_encode_ping(&buf, id, &(struct ipc_ping){ 0 }), 0);
	assert_int_equal(rpc_call(fx->cli, id + 1, buf.data, buf.size, 10, on_result, &res), -EINVAL);
	assert_int_equal(rpc_call(fx->cli, id, buf.data, buf.size - 1, 10, on_result, &res), -EINVAL);
	assert_int_equal(rpc_call(fx->cli, id, buf.data, buf.size, 10, NULL, &res), -EINVAL);
	assert_int_equal(rpc_call(fx->cli, id, buf.data, buf.size, -1, on_result, &res), -EINVAL);
	assert_int_equal(rpc_call(fx->cli, id, buf.data, buf.size, 10, on_result, &res), 0);
	assert_int_equal(rpc_call(fx->cli, id, buf.data, buf.size, 10, on_result, &res), -EEXIST);
	rpc_cancel(fx->cli, id);
	assert_int_equal(rpc_next_id(fx->cli), id + 1);
	ipc_buf_done(&buf);
	assert_int_equal(res.calls, 0);
}

/* a reply frame with the wrong id is replaced by an "internal" error */
static void test_reply_checks(void **state)
{
	struct fx *fx = *state;
	struct result res = { .fx = fx, .stop = true };
	struct ipc_buf buf;
	struct rpc_request *req;

	wait_connected(fx);
	fx->mode = MODE_HOLD;
	assert_int_equal(call_ping(fx, &res, 2000), 0);
	while (fx->nheld == 0)
		run_for(fx, 5);
	req = fx->held[--fx->nheld];
	ipc_buf_init(&buf);
	assert_int_equal(ipc_encode_ping(&buf, rpc_request_id(req) + 1, &(struct ipc_ping){ 0 }), 0);
	assert_int_equal(rpc_reply(req, buf.data, buf.size), -EINVAL);
	ipc_buf_done(&buf);
	assert_true(run_loop(fx));
	assert_int_equal(res.type, IPC_MSG_ERROR);
	assert_string_equal(res.err.code, "internal");
	assert_int_equal(rpc_server_inflight(fx->srv), 0);
}

/* requests outlive the server: replying frees them */
static void test_server_free_with_inflight(void **state)
{
	struct fx *fx = *state;
	struct result res = { .fx = fx, .stop = true };
	struct rpc_request *req;

	wait_connected(fx);
	fx->mode = MODE_HOLD;
	assert_int_equal(call_ping(fx, &res, 2000), 0);
	while (fx->nheld == 0)
		run_for(fx, 5);
	req = fx->held[--fx->nheld];
	fx->srv = rpc_server_free(fx->srv);
	assert_int_equal(rpc_reply_error(req, "too_late", "server gone"), -ENOTCONN);
	fx->cli = rpc_client_free(fx->cli); /* res lives on this stack */
	assert_int_equal(res.calls, 1);
	assert_int_equal(res.r, -ECANCELED);
}

/* s_second_backend - a server for `other` beside fx's, and fx's client made again for both */
static struct rpc_server *s_second_backend(struct fx *fx, struct fx *other)
{
	struct rpc_server *second;
	char endpoints[300], ep2[160];

	snprintf(ep2, sizeof(ep2), "ipc://%s/authd2.sock", fx->dir);
	assert_int_equal(rpc_server_new(fx->base, fx->zctx, ep2, IPC_PEER_AUTHD, NULL, handler,
					other, &second), 0);
	snprintf(endpoints, sizeof(endpoints), "%s, %s", fx->endpoint, ep2);
	rpc_client_free(fx->cli);
	assert_int_equal(rpc_client_new(fx->base, fx->zctx, endpoints, NULL, &fx->cli), 0);
	return second;
}

/* a client connected to two servers spreads its calls over both */
static void test_two_backends(void **state)
{
	struct fx *fx = *state;
	struct fx other = { .mode = MODE_ECHO };
	struct rpc_server *second = s_second_backend(fx, &other);
	int left = 40;
	static struct result res[40];

	run_for(fx, 50);
	for (int i = 0; i < 40; i++) {
		res[i] = (struct result){ .fx = fx, .countdown = &left };
		assert_int_equal(call_ping(fx, &res[i], 2000), 0);
	}
	assert_true(run_loop(fx));
	for (int i = 0; i < 40; i++)
		assert_int_equal(res[i].r, 0);
	assert_int_equal(fx->handled + other.handled, 40);
	assert_true(fx->handled > 0 && other.handled > 0);
	rpc_server_free(second);
}

/*
 * a backend that goes away with a call unanswered: the call fails at once
 * with -ECONNRESET (long before its 60 s deadline), and the next calls go
 * to the backend that is left
 */
static void test_backend_gone_fails_at_once(void **state)
{
	struct fx *fx = *state;
	struct fx other = { .mode = MODE_HOLD };
	struct rpc_server *second = s_second_backend(fx, &other);
	static struct result res[200], after;
	struct result *held = NULL;

	/* calls until one is held by the second backend (the first answers at once) */
	for (int i = 0; i < 200 && other.nheld == 0; i++) {
		res[i] = (struct result){ .fx = fx };
		assert_int_equal(call_ping(fx, &res[i], 60000), 0);
		run_for(fx, 10);
	}
	assert_true(other.nheld >= 1);
	for (int i = 0; i < 200 && !held; i++)
		if (res[i].want_id == rpc_request_id(other.held[0]))
			held = &res[i];
	assert_non_null(held);
	assert_int_equal(held->calls, 0);
	held->stop = true;
	second = rpc_server_free(second);
	assert_true(run_loop(fx)); /* the guard (5 s) fails the test long before 60 s */
	assert_int_equal(held->calls, 1);
	assert_int_equal(held->r, -ECONNRESET);
	run_for(fx, 50); /* any other call held there fails too */
	assert_int_equal(rpc_resets(fx->cli), other.nheld);

	after = (struct result){ .fx = fx, .stop = true };
	assert_int_equal(call_ping(fx, &after, 2000), 0);
	assert_true(run_loop(fx));
	assert_int_equal(after.r, 0);
	for (size_t i = 0; i < other.nheld; i++)
		assert_int_equal(rpc_reply_error(other.held[i], "too_late", NULL), -ENOTCONN);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_call_reply, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_deadline_and_late_reply, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_cancel, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_garbage, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_wrong_direction, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_many_concurrent, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_async_reply_from_timer, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_send_failure_is_async, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_client_free_cancels, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_bad_calls, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_reply_checks, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_server_free_with_inflight, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_two_backends, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_backend_gone_fails_at_once, fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
