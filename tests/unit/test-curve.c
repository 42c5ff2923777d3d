/*
 * test-curve.c - unit tests of shared/curve.c with real ZeroMQ sockets over
 * tcp://127.0.0.1 and a real libevent loop: a ROUTER (rpc_server) with
 * CURVE and the ZAP allow-list answers a DEALER (rpc_client) whose key is
 * listed; a DEALER with a key not listed, and one without CURVE, get no
 * answer and never reach the handler; missing or loose keys are refused
 * (-ENOKEY), and an endpoint list mixing tcp:// and ipc:// is -EINVAL.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/testlib.h"
#include <event2/event.h>
#include <zmq.h>

#include "config.h"
#include "curve.h"
#include "ipc.h"
#include "rpc.h"

#define GUARD_MS 5000
#define DENY_MS 700 /* deadline of a call that must get no answer */

struct keypair {
	char pub[41], sec[41];
};

struct fx {
	void *zctx;
	struct event_base *base;
	char dir[80];
	char endpoint[64];
	struct sembark_config cfg;
	struct keypair server, allowed, other;
	struct rpc_server *srv;
	struct rpc_client *cli;
	unsigned handled;
};

struct result {
	struct event_base *base;
	int calls, r;
	enum ipc_msg_type type;
};

/* ---- fixture ----------------------------------------------------------- */

static void handler(struct rpc_request *req, enum ipc_msg_type type, const void *buf, size_t len,
		    void *userdata)
{
	struct fx *fx = userdata;
	struct ipc_pong p = { .pid = getpid(), .uptime_s = 1 };
	struct ipc_buf out;

	fx->handled++;
	strcpy(p.service, "authd");
	ipc_buf_init(&out);
	assert_int_equal(ipc_encode_pong(&out, rpc_request_id(req), &p), 0);
	assert_int_equal(rpc_reply(req, out.data, out.size), 0);
	ipc_buf_done(&out);
}

static void write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	assert_true(fd >= 0);
	assert_int_equal(fchmod(fd, mode), 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

/* a file in the scratch dir; its path into out (CONFIG_STR_MAX) */
static void scratch(struct fx *fx, char *out, const char *name, const char *text, mode_t mode)
{
	snprintf(out, CONFIG_STR_MAX, "%s/%s", fx->dir, name);
	write_file(out, text, mode);
}

static void use_client(struct fx *fx, const struct keypair *k, const char *name)
{
	char text[64];

	snprintf(text, sizeof(text), "%s\n", k->sec);
	strcpy(fx->cfg.ipc.curve_client_public_key, k->pub);
	scratch(fx, fx->cfg.ipc.curve_client_secret_file, name, text, 0600);
}

static int free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	close(fd);
	return ntohs(a.sin_port);
}

static int fx_setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	char list[256];
	const char *tmp = getenv("TMPDIR");

	assert_non_null(fx);
	fx->zctx = zmq_ctx_new();
	fx->base = event_base_new();
	snprintf(fx->dir, sizeof(fx->dir), "%s/sembark-curve-XXXXXX", tmp && *tmp ? tmp : P_tmpdir);
	assert_non_null(mkdtemp(fx->dir));
	snprintf(fx->endpoint, sizeof(fx->endpoint), "tcp://127.0.0.1:%d", free_port());
	assert_int_equal(zmq_curve_keypair(fx->server.pub, fx->server.sec), 0);
	assert_int_equal(zmq_curve_keypair(fx->allowed.pub, fx->allowed.sec), 0);
	assert_int_equal(zmq_curve_keypair(fx->other.pub, fx->other.sec), 0);

	config_defaults(&fx->cfg);
	strcpy(fx->cfg.ipc.curve_server_public_key, fx->server.pub);
	snprintf(list, sizeof(list), "%s\n", fx->server.sec);
	scratch(fx, fx->cfg.ipc.curve_server_secret_file, "server.key", list, 0600);
	snprintf(list, sizeof(list), "# ingress hosts\n\n  %s  \n", fx->allowed.pub);
	scratch(fx, fx->cfg.ipc.curve_allowed_clients_file, "allowed", list, 0644);
	use_client(fx, &fx->allowed, "client.key");
	curve_init(&fx->cfg, fx->base, fx->zctx);
	assert_int_equal(rpc_server_new(fx->base, fx->zctx, fx->endpoint, IPC_PEER_AUTHD, NULL,
					handler, fx, &fx->srv), 0);
	*state = fx;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *fx = *state;

	rpc_client_free(fx->cli);
	rpc_server_free(fx->srv);
	curve_done();
	event_base_free(fx->base);
	zmq_ctx_term(fx->zctx);
	assert_int_equal(test_rmtree(fx->dir), 0);
	free(fx);
	return 0;
}

/* ---- helpers ----------------------------------------------------------- */

static void on_result(int r, enum ipc_msg_type type, const void *buf, size_t len, void *userdata)
{
	struct result *res = userdata;

	res->calls++;
	res->r = r;
	res->type = type;
	event_base_loopbreak(res->base);
}

static void run_for(struct fx *fx, int ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	event_base_loopexit(fx->base, &tv);
	event_base_dispatch(fx->base);
}

/* one ping through fx->cli; the result of its callback */
static struct result ping(struct fx *fx, int timeout_ms)
{
	struct result res = { .base = fx->base };
	struct ipc_buf buf;
	uint64_t id = rpc_next_id(fx->cli);
	int r;

	ipc_buf_init(&buf);
	assert_int_equal(ipc_encode_ping(&buf, id, &(struct ipc_ping){ 0 }), 0);
	r = rpc_call(fx->cli, id, buf.data, buf.size, timeout_ms, on_result, &res);
	ipc_buf_done(&buf);
	assert_int_equal(r, 0);
	assert_true(test_loop_run(fx->base, GUARD_MS));
	assert_int_equal(res.calls, 1);
	return res;
}

/* ping until the CURVE handshake is done (IMMEDIATE gives -EAGAIN before) */
static struct result ping_connected(struct fx *fx)
{
	struct result res = { 0 };

	for (int i = 0; i < 500; i++) {
		res = ping(fx, 1000);
		if (res.r != -EAGAIN)
			break;
		run_for(fx, 5);
	}
	return res;
}

/* ---- tests ------------------------------------------------------------- */

static void test_allowed_client(void **state)
{
	struct fx *fx = *state;
	struct result res;

	assert_int_equal(rpc_client_new(fx->base, fx->zctx, fx->endpoint, NULL, &fx->cli), 0);
	res = ping_connected(fx);
	assert_int_equal(res.r, 0);
	assert_int_equal(res.type, IPC_MSG_PONG);
	assert_int_equal(fx->handled, 1);
	res = ping(fx, 1000); /* and again on the same connection */
	assert_int_equal(res.r, 0);
	assert_int_equal(fx->handled, 2);
}

static void test_client_not_listed(void **state)
{
	struct fx *fx = *state;
	struct result res;

	use_client(fx, &fx->other, "other.key");
	assert_int_equal(rpc_client_new(fx->base, fx->zctx, fx->endpoint, NULL, &fx->cli), 0);
	run_for(fx, 200); /* give the handshake time to fail */
	res = ping(fx, DENY_MS);
	/* refused by ZAP: the handshake never completes, so with ZMQ_IMMEDIATE
	 * the send fails (-EAGAIN, what libzmq does today) or times out */
	assert_true(res.r == -ETIMEDOUT || res.r == -EAGAIN);
	assert_int_equal(fx->handled, 0);
}

static void test_client_without_curve(void **state)
{
	struct fx *fx = *state;
	void *raw = zmq_socket(fx->zctx, ZMQ_DEALER);
	struct ipc_buf buf;
	int linger = 0;

	assert_non_null(raw);
	assert_int_equal(zmq_setsockopt(raw, ZMQ_LINGER, &linger, sizeof(linger)), 0);
	assert_int_equal(zmq_connect(raw, fx->endpoint), 0);
	ipc_buf_init(&buf);
	assert_int_equal(ipc_encode_ping(&buf, 7, &(struct ipc_ping){ 0 }), 0);
	assert_true(zmq_send(raw, buf.data, buf.size, ZMQ_DONTWAIT) >= 0);
	ipc_buf_done(&buf);
	run_for(fx, DENY_MS);
	assert_int_equal(fx->handled, 0);
	assert_int_equal(zmq_recv(raw, &linger, sizeof(linger), ZMQ_DONTWAIT), -1);
	zmq_close(raw);
}

static void test_refusals(void **state)
{
	struct fx *fx = *state;
	struct rpc_client *c = NULL;
	char mixed[160];

	/* secret key readable by others */
	chmod(fx->cfg.ipc.curve_client_secret_file, 0644);
	assert_int_equal(rpc_client_new(fx->base, fx->zctx, fx->endpoint, NULL, &c), -ENOKEY);
	/* no secret key at all */
	fx->cfg.ipc.curve_client_secret_file[0] = 0;
	assert_int_equal(rpc_client_new(fx->base, fx->zctx, fx->endpoint, NULL, &c), -ENOKEY);
	/* no server key to pin */
	use_client(fx, &fx->allowed, "client.key");
	fx->cfg.ipc.curve_server_public_key[0] = 0;
	assert_int_equal(rpc_client_new(fx->base, fx->zctx, fx->endpoint, NULL, &c), -ENOKEY);
	strcpy(fx->cfg.ipc.curve_server_public_key, fx->server.pub);
	/* tcp:// and ipc:// in one list */
	snprintf(mixed, sizeof(mixed), "%s,ipc://%s/x.sock", fx->endpoint, fx->dir);
	assert_int_equal(rpc_client_new(fx->base, fx->zctx, mixed, NULL, &c), -EINVAL);
	/* ipc:// needs no key */
	fx->cfg.ipc.curve_client_secret_file[0] = 0;
	snprintf(mixed, sizeof(mixed), "ipc://%s/x.sock", fx->dir);
	assert_int_equal(rpc_client_new(fx->base, fx->zctx, mixed, NULL, &c), 0);
	rpc_client_free(c);
	assert_null(fx->cli);
}

static void test_server_needs_keys(void **state)
{
	struct fx *fx = *state;
	struct rpc_server *s = NULL;
	char ep[64];

	snprintf(ep, sizeof(ep), "tcp://127.0.0.1:%d", free_port());
	fx->cfg.ipc.curve_server_secret_file[0] = 0;
	assert_int_equal(rpc_server_new(fx->base, fx->zctx, ep, IPC_PEER_AUTHD, NULL, handler, fx,
					&s), -ENOKEY);
	assert_null(s);
	/* an empty allow-list, in a process without a ZAP handler yet */
	rpc_server_free(fx->srv);
	fx->srv = NULL;
	curve_init(&fx->cfg, fx->base, fx->zctx);
	scratch(fx, fx->cfg.ipc.curve_allowed_clients_file, "empty", "# none yet\n", 0644);
	scratch(fx, fx->cfg.ipc.curve_server_secret_file, "server.key", fx->server.sec, 0600);
	assert_int_equal(rpc_server_new(fx->base, fx->zctx, ep, IPC_PEER_AUTHD, NULL, handler, fx,
					&s), -ENOKEY);
	assert_null(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_allowed_client, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_client_not_listed, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_client_without_curve, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_refusals, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_server_needs_keys, fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
