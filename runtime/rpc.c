/*
 * rpc.c - request/reply between sembark daemons over ZeroMQ (see rpc.h):
 * the client half ingressd uses towards authd and telemetryd (DEALER,
 * pending calls keyed by id, one deadline timer each) and the server half
 * those backends run (ROUTER, envelope and peer-graph checks before the
 * handler, replies that may come later than the handler's return).
 *
 * Client choices:
 *  - One DEALER (a "link") per endpoint of the list, and calls spread over
 *    the links in turn: a call goes to the next link that takes it. Each
 *    link's connection is watched (zmq_socket_monitor, and ZMTP heartbeats
 *    for a host that vanishes without closing it): when it closes, the
 *    calls that went through it and are not answered fail at once with
 *    -ECONNRESET, instead of at their deadline. (A reply lost that way may
 *    belong to a request the backend carried out.)
 *  - Each DEALER gets ZMQ_IMMEDIATE (zsock_setup): with no completed
 *    connection a send fails at once with EAGAIN and the next link is
 *    tried; when none takes it the caller gets -EAGAIN and answers 503,
 *    instead of requests queued for a backend that is down and delivered
 *    after their deadline. The price: for the first few milliseconds after
 *    rpc_client_new(), before a connection completes, calls fail with
 *    -EAGAIN too.
 *  - Callbacks run from the loop only, never from inside rpc_call(): a send
 *    that fails is reported through a zero-timeout timer, so callers have
 *    one code path.
 *  - Replies with an unknown id (late, cancelled) and replies that are not
 *    a valid envelope are dropped and counted (rpc_late_replies()).
 *
 * Server choices:
 *  - The ROUTER gets ZMQ_ROUTER_MANDATORY, so a reply to a client that has
 *    gone, or whose queue is full, fails with -EHOSTUNREACH / -EAGAIN
 *    instead of vanishing silently.
 *  - Input is [identity][frame]; other shapes are dropped. A frame whose
 *    envelope is invalid gets an "error" reply with code "bad_message" and
 *    id 0 (its id cannot be trusted); a valid envelope of a type not
 *    addressed to this daemon gets "bad_message" with its own id.
 *  - rpc_server_free() leaves outstanding requests valid: replying to one
 *    afterwards frees it and returns -ENOTCONN.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <zmq.h>

#include "curve.h"
#include "ipc.h"
#include "macro.h"
#include "rpc.h"
#include "util.h"
#include "zmq_ev.h"

#define RPC_HWM_DEFAULT 1000
#define RPC_LINKS_MAX 16
#define RPC_HEARTBEAT_IVL_MS 1000     /* a ZMTP PING this often on an idle connection */
#define RPC_HEARTBEAT_TIMEOUT_MS 3000 /* no traffic for this long: the connection is closed */
#define RPC_BUCKETS_MIN 64
#define RPC_IDENTITY_MAX 255

/* ---- client ------------------------------------------------------------ */

struct rpc_call {
	struct rpc_call *next; /* hash chain */
	struct rpc_client *c;
	uint64_t id;
	int err; /* the send failed: deliver this when the timer fires */
	int64_t sent_us; /* util_mono_us() at rpc_call */
	size_t link; /* which link it went through */
	struct event *timer;
	rpc_reply_fn cb;
	void *userdata;
};

/* One endpoint: its DEALER, and the PAIR that hears the DEALER's monitor events. */
struct rpc_link {
	struct rpc_client *c;
	size_t index;
	void *zsock;
	struct zev *zev;
	void *mon;
	struct zev *mon_zev;
};

struct rpc_client {
	struct event_base *base;
	struct rpc_link links[RPC_LINKS_MAX];
	size_t nlinks;
	size_t next_link; /* where the next call starts looking */
	uint64_t resets;  /* calls failed by a closed connection */
	struct rpc_call **buckets;
	size_t nbuckets; /* a power of two */
	size_t npending;
	uint64_t last_id;
	uint64_t dropped;
	struct rpc_client_stats stats;
	bool closing;
};

static size_t s_bucket(size_t nbuckets, uint64_t id)
{
	return (size_t)((id * UINT64_C(0x9e3779b97f4a7c15)) >> 32) & (nbuckets - 1);
}

/* the link pointing at call `id` (or at the NULL ending its chain) */
static struct rpc_call **s_slot(struct rpc_client *c, uint64_t id)
{
	struct rpc_call **p = &c->buckets[s_bucket(c->nbuckets, id)];

	while (*p && (*p)->id != id)
		p = &(*p)->next;
	return p;
}

static int s_grow(struct rpc_client *c)
{
	size_t n = c->nbuckets * 2;
	struct rpc_call **b = calloc(n, sizeof(*b));

	if (!b)
		return -ENOMEM;
	for (size_t i = 0; i < c->nbuckets; i++) {
		while (c->buckets[i]) {
			struct rpc_call *call = c->buckets[i];
			size_t j = s_bucket(n, call->id);

			c->buckets[i] = call->next;
			call->next = b[j];
			b[j] = call;
		}
	}
	free(c->buckets);
	c->buckets = b;
	c->nbuckets = n;
	return 0;
}

static int s_insert(struct rpc_client *c, struct rpc_call *call)
{
	struct rpc_call **slot;

	if (c->npending >= c->nbuckets)
		(void)s_grow(c); /* on failure chains just get longer */
	slot = s_slot(c, call->id);
	if (*slot)
		return -EEXIST;
	call->next = NULL;
	*slot = call;
	c->npending++;
	return 0;
}

/* take call `id` out of the table; NULL when it is not pending */
static struct rpc_call *s_take(struct rpc_client *c, uint64_t id)
{
	struct rpc_call **slot = s_slot(c, id), *call = *slot;

	if (!call)
		return NULL;
	*slot = call->next;
	c->npending--;
	return call;
}

static void s_call_free(struct rpc_call *call)
{
	if (call->timer)
		event_free(call->timer);
	free(call);
}

/* free the call, then run its callback (which may free the client) */
static void s_finish(struct rpc_call *call, int r, enum ipc_msg_type type, const void *buf,
		     size_t len)
{
	rpc_reply_fn cb = call->cb;
	void *userdata = call->userdata;

	s_call_free(call);
	cb(r, type, buf, len, userdata);
}

static void s_on_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct rpc_call *call = arg;
	int r = call->err ? call->err : -ETIMEDOUT;

	if (r == -ETIMEDOUT)
		call->c->stats.timeouts++;
	else if (r != -ECANCELED)
		call->c->stats.failures++;
	s_take(call->c, call->id);
	s_finish(call, r, _IPC_MSG_INVALID, NULL, 0);
}

static void s_on_reply(struct zev *z, const struct zev_msg *msg, void *userdata)
{
	struct rpc_client *c = userdata;
	enum ipc_msg_type type;
	struct rpc_call *call;
	uint64_t id;

	if (msg->nparts != 1 || ipc_peek(msg->data[0], msg->size[0], &type, &id) < 0) {
		c->dropped++;
		return;
	}
	call = *s_slot(c, id);
	if (!call || call->err) { /* late, cancelled, or never sent */
		c->dropped++;
		return;
	}
	s_take(c, id);
	c->stats.replies++;
	metrics_hist_observe(&c->stats.seconds, (double)(util_mono_us() - call->sent_us) / 1e6);
	s_finish(call, 0, type, msg->data[0], msg->size[0]);
}

static int s_socket(void *zctx, int type, const struct rpc_opts *opts, void **ret)
{
	void *zsock = zmq_socket(zctx, type);
	int hwm = opts && opts->hwm > 0 ? opts->hwm : RPC_HWM_DEFAULT;
	long long max_msg = opts && opts->max_msg > 0 ? opts->max_msg : IPC_FRAME_MAX;
	int r;

	if (!zsock)
		return -zmq_errno();
	r = zsock_setup(zsock, hwm, max_msg);
	if (r < 0) {
		zmq_close(zsock);
		return r;
	}
	*ret = zsock;
	return 0;
}

/* s_link_lost - l's connection closed: its unanswered calls fail now (from the loop) */
static void s_link_lost(struct rpc_link *l)
{
	struct rpc_client *c = l->c;
	const struct timeval now = { 0, 0 };

	for (size_t i = 0; i < c->nbuckets; i++)
		for (struct rpc_call *call = c->buckets[i]; call; call = call->next) {
			if (call->link != l->index || call->err)
				continue;
			call->err = -ECONNRESET;
			c->resets++;
			evtimer_add(call->timer, &now); /* s_on_deadline delivers err */
		}
}

/* s_on_monitor - one event of a link's DEALER: [uint16 event, uint32 value][endpoint] */
static void s_on_monitor(struct zev *z, const struct zev_msg *msg, void *userdata)
{
	uint16_t event;

	if (msg->nparts < 1 || msg->size[0] < sizeof(event))
		return;
	memcpy(&event, msg->data[0], sizeof(event));
	if (event == ZMQ_EVENT_DISCONNECTED)
		s_link_lost(userdata);
}

/* s_link_monitor - hear l's DEALER's disconnections on a PAIR of the same context */
static int s_link_monitor(struct rpc_link *l, void *zctx, struct event_base *base)
{
	static atomic_ulong monitors; /* inproc names are never reused: one closes lazily */
	char addr[64];

	snprintf(addr, sizeof(addr), "inproc://rpc-monitor-%lu", atomic_fetch_add(&monitors, 1));
	if (zmq_socket_monitor(l->zsock, addr, ZMQ_EVENT_DISCONNECTED) < 0)
		return -zmq_errno();
	l->mon = zmq_socket(zctx, ZMQ_PAIR);
	if (!l->mon)
		return -zmq_errno();
	if (zmq_setsockopt(l->mon, ZMQ_LINGER, &(int){ 0 }, sizeof(int)) < 0 ||
	    zmq_connect(l->mon, addr) < 0)
		return -zmq_errno();
	return zev_new(base, l->mon, s_on_monitor, l, &l->mon_zev);
}

/*
 * s_link_open - a DEALER for one endpoint of the list `all`, heartbeats, its
 * monitor; CURVE when the list is tcp:// (curve_client_setup refuses a list
 * that mixes tcp:// with others)
 */
static int s_link_open(struct rpc_client *c, void *zctx, const char *endpoint, const char *all,
		       const struct rpc_opts *opts)
{
	struct rpc_link *l = &c->links[c->nlinks];
	int r;

	if (c->nlinks >= RPC_LINKS_MAX)
		return -E2BIG;
	*l = (struct rpc_link){ .c = c, .index = c->nlinks++ };
	r = s_socket(zctx, ZMQ_DEALER, opts, &l->zsock);
	if (r < 0)
		return r;
	if (zmq_setsockopt(l->zsock, ZMQ_HEARTBEAT_IVL, &(int){ RPC_HEARTBEAT_IVL_MS },
			   sizeof(int)) < 0 ||
	    zmq_setsockopt(l->zsock, ZMQ_HEARTBEAT_TIMEOUT, &(int){ RPC_HEARTBEAT_TIMEOUT_MS },
			   sizeof(int)) < 0)
		return -zmq_errno();
	r = curve_client_setup(l->zsock, all);
	if (r < 0)
		return r;
	r = s_link_monitor(l, zctx, c->base);
	if (r < 0)
		return r;
	if (zmq_connect(l->zsock, endpoint) < 0)
		return -zmq_errno();
	return zev_new(c->base, l->zsock, s_on_reply, c, &l->zev);
}

/* s_link_close - stop watching, stop the monitor, close both sockets */
static void s_link_close(struct rpc_link *l)
{
	l->mon_zev = zev_free(l->mon_zev);
	l->zev = zev_free(l->zev);
	if (l->zsock) {
		(void)zmq_socket_monitor(l->zsock, NULL, 0);
		zmq_close(l->zsock);
	}
	if (l->mon)
		zmq_close(l->mon);
	l->zsock = l->mon = NULL;
}

/* s_links_open - one link per endpoint of the list (commas or blanks) */
static int s_links_open(struct rpc_client *c, void *zctx, const char *endpoints,
			const struct rpc_opts *opts)
{
	_cleanup_free_ char *copy = strdup(endpoints);
	char *save = NULL;
	int r = 0;

	if (!copy)
		return -ENOMEM;
	for (char *e = strtok_r(copy, ", \t", &save); e && r >= 0; e = strtok_r(NULL, ", \t", &save))
		r = s_link_open(c, zctx, e, endpoints, opts);
	if (r >= 0 && c->nlinks == 0)
		r = -EINVAL;
	return r;
}

static void rpc_client_freep(struct rpc_client **c)
{
	rpc_client_free(*c);
}

/* rpc_client_new - one DEALER per endpoint (a list separated by commas or blanks) */
int rpc_client_new(struct event_base *base, void *zctx, const char *endpoint,
		   const struct rpc_opts *opts, struct rpc_client **ret)
{
	_cleanup_(rpc_client_freep) struct rpc_client *c = NULL;
	int r;

	if (!base || !zctx || !endpoint || !ret)
		return -EINVAL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->base = base;
	metrics_hist_init(&c->stats.seconds, metrics_seconds_bounds, metrics_seconds_n);
	c->nbuckets = RPC_BUCKETS_MIN;
	c->buckets = calloc(c->nbuckets, sizeof(*c->buckets));
	if (!c->buckets)
		return -ENOMEM;
	r = s_links_open(c, zctx, endpoint, opts);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(c);
	return 0;
}

/* rpc_client_free - every pending call gets -ECANCELED; accepts NULL */
struct rpc_client *rpc_client_free(struct rpc_client *c)
{
	if (!c || c->closing)
		return NULL;
	c->closing = true;
	for (size_t i = 0; c->buckets && i < c->nbuckets; i++) {
		while (c->buckets[i]) { /* callbacks may cancel other calls */
			struct rpc_call *call = s_take(c, c->buckets[i]->id);

			s_finish(call, -ECANCELED, _IPC_MSG_INVALID, NULL, 0);
		}
	}
	for (size_t i = 0; i < c->nlinks; i++)
		s_link_close(&c->links[i]);
	free(c->buckets);
	free(c);
	return NULL;
}

/* rpc_next_id - a fresh request id for this client (never 0) */
uint64_t rpc_next_id(struct rpc_client *c)
{
	if (++c->last_id == 0)
		c->last_id = 1;
	return c->last_id;
}

static int s_call_new(struct rpc_client *c, uint64_t id, rpc_reply_fn cb, void *userdata,
		      struct rpc_call **ret)
{
	struct rpc_call *call = calloc(1, sizeof(*call));
	int r;

	if (!call)
		return -ENOMEM;
	*call = (struct rpc_call){
		.c = c, .id = id, .cb = cb, .userdata = userdata, .sent_us = util_mono_us(),
	};
	call->timer = evtimer_new(c->base, s_on_deadline, call);
	if (!call->timer) {
		free(call);
		return -ENOMEM;
	}
	r = s_insert(c, call);
	if (r < 0) {
		s_call_free(call);
		return r;
	}
	*ret = call;
	return 0;
}

/* s_send - frame to the next link that takes it (round robin); 0 or the last link's error */
static int s_send(struct rpc_client *c, struct rpc_call *call, const void *frame, size_t len)
{
	int r = -EAGAIN;

	for (size_t k = 0; k < c->nlinks; k++) {
		size_t i = (c->next_link + k) % c->nlinks;

		r = zev_send(c->links[i].zev, 1, &frame, &len);
		if (r == 0) {
			call->link = i;
			c->next_link = (i + 1) % c->nlinks;
			return 0;
		}
	}
	return r;
}

/*
 * rpc_call - send frame (encoded with id) and wait at most timeout_ms.
 * Returns 0 when cb will run (with the reply, -ETIMEDOUT, -EAGAIN or another
 * send error, or -ECANCELED); -EINVAL (bad arguments, frame not a valid
 * envelope carrying id), -EEXIST (id pending), -ECANCELED (client being
 * freed) or -ENOMEM, and then cb will not run.
 */
int rpc_call(struct rpc_client *c, uint64_t id, const void *frame, size_t len, int timeout_ms,
	     rpc_reply_fn cb, void *userdata)
{
	struct rpc_call *call;
	struct timeval tv = { 0, 0 };
	uint64_t fid;
	int r;

	if (!c || !frame || !cb || timeout_ms < 0)
		return -EINVAL;
	if (c->closing)
		return -ECANCELED;
	if (ipc_peek(frame, len, NULL, &fid) < 0 || fid != id)
		return -EINVAL;
	r = s_call_new(c, id, cb, userdata, &call);
	if (r < 0)
		return r;
	call->err = s_send(c, call, frame, len);
	if (call->err == 0) {
		tv.tv_sec = timeout_ms / 1000;
		tv.tv_usec = (timeout_ms % 1000) * 1000;
	}
	evtimer_add(call->timer, &tv);
	return 0;
}

/* rpc_cancel - forget a pending call; its callback will not run */
void rpc_cancel(struct rpc_client *c, uint64_t id)
{
	struct rpc_call *call = c ? s_take(c, id) : NULL;

	if (call)
		s_call_free(call);
}

/* rpc_pending - calls whose callback has not run yet */
size_t rpc_pending(const struct rpc_client *c)
{
	return c->npending;
}

/* rpc_resets - calls failed at once because their backend's connection closed */
uint64_t rpc_resets(const struct rpc_client *c)
{
	return c->resets;
}

/* rpc_client_get_stats - the client's counts so far */
const struct rpc_client_stats *rpc_client_get_stats(const struct rpc_client *c)
{
	return &c->stats;
}

/* rpc_late_replies - replies dropped: unknown id (late, cancelled) or invalid */
uint64_t rpc_late_replies(const struct rpc_client *c)
{
	return c->dropped;
}

/* ---- server ------------------------------------------------------------ */

struct rpc_server {
	void *zsock;
	struct zev *zev;
	enum ipc_peer self;
	rpc_handler_fn handler;
	void *userdata;
	struct rpc_request *reqs; /* in flight, doubly linked */
	size_t inflight;
	uint64_t bad;
};

struct rpc_request {
	struct rpc_request *prev, *next;
	struct rpc_server *s; /* NULL once the server is freed */
	uint64_t id;
	size_t ident_len;
	unsigned char ident[RPC_IDENTITY_MAX];
};

static struct rpc_request *s_request_new(struct rpc_server *s, const void *ident, size_t len)
{
	struct rpc_request *req = calloc(1, sizeof(*req));

	if (!req)
		return NULL;
	req->s = s;
	req->ident_len = len;
	memcpy(req->ident, ident, len);
	req->next = s->reqs;
	if (s->reqs)
		s->reqs->prev = req;
	s->reqs = req;
	s->inflight++;
	return req;
}

static void s_request_unlink(struct rpc_request *req)
{
	struct rpc_server *s = req->s;

	if (!s)
		return;
	if (req->prev)
		req->prev->next = req->next;
	else
		s->reqs = req->next;
	if (req->next)
		req->next->prev = req->prev;
	s->inflight--;
	req->s = NULL;
}

static void s_on_request(struct zev *z, const struct zev_msg *msg, void *userdata)
{
	struct rpc_server *s = userdata;
	struct rpc_request *req;
	enum ipc_msg_type type;
	uint64_t id = 0;

	if (msg->nparts != 2 || msg->size[0] == 0 || msg->size[0] > RPC_IDENTITY_MAX) {
		s->bad++;
		return;
	}
	req = s_request_new(s, msg->data[0], msg->size[0]);
	if (!req)
		return; /* out of memory: the client's deadline answers for us */
	if (ipc_peek(msg->data[1], msg->size[1], &type, &id) < 0) {
		s->bad++;
		rpc_reply_error(req, "bad_message", "invalid message");
		return;
	}
	req->id = id;
	if (!ipc_msg_allowed(type, IPC_PEER_ANY, s->self)) {
		s->bad++;
		rpc_reply_error(req, "bad_message", "message type not accepted here");
		return;
	}
	s->handler(req, type, msg->data[1], msg->size[1], s->userdata);
}

static void rpc_server_freep(struct rpc_server **s)
{
	rpc_server_free(*s);
}

/* rpc_server_new - bind a ROUTER at endpoint for requests addressed to `self` */
int rpc_server_new(struct event_base *base, void *zctx, const char *endpoint,
		   enum ipc_peer self, const struct rpc_opts *opts, rpc_handler_fn handler,
		   void *userdata, struct rpc_server **ret)
{
	_cleanup_(rpc_server_freep) struct rpc_server *s = NULL;
	int one = 1, r;

	if (!base || !zctx || !endpoint || !handler || !ret)
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	*s = (struct rpc_server){ .self = self, .handler = handler, .userdata = userdata };
	r = s_socket(zctx, ZMQ_ROUTER, opts, &s->zsock);
	if (r < 0)
		return r;
	if (zmq_setsockopt(s->zsock, ZMQ_ROUTER_MANDATORY, &one, sizeof(one)) < 0)
		return -zmq_errno();
	r = curve_server_setup(s->zsock, endpoint); /* CURVE when tcp:// */
	if (r < 0)
		return r;
	r = zsock_bind_endpoint(s->zsock, endpoint);
	if (r < 0)
		return r;
	r = zev_new(base, s->zsock, s_on_request, s, &s->zev);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(s);
	return 0;
}

/* rpc_server_free - close the ROUTER; outstanding requests stay valid to free */
struct rpc_server *rpc_server_free(struct rpc_server *s)
{
	if (!s)
		return NULL;
	while (s->reqs)
		s_request_unlink(s->reqs);
	zev_free(s->zev);
	if (s->zsock)
		zmq_close(s->zsock);
	free(s);
	return NULL;
}

/* rpc_server_inflight - requests received and not yet answered */
size_t rpc_server_inflight(const struct rpc_server *s)
{
	return s->inflight;
}

/* rpc_request_id - the id the reply must carry */
uint64_t rpc_request_id(const struct rpc_request *req)
{
	return req->id;
}

static int s_send_reply(struct rpc_server *s, struct rpc_request *req, const void *frame,
			size_t len)
{
	const void *data[2] = { req->ident, frame };
	const size_t size[2] = { req->ident_len, len };

	return zev_send(s->zev, 2, data, size);
}

/* send frame, or an "internal" error (and -EINVAL) when it is not a valid reply to req */
static int s_reply_checked(struct rpc_server *s, struct rpc_request *req, const void *frame,
			   size_t len)
{
	struct ipc_buf buf;
	uint64_t id;
	int r;

	if (frame && ipc_peek(frame, len, NULL, &id) == 0 && id == req->id)
		return s_send_reply(s, req, frame, len);
	ipc_buf_init(&buf);
	r = ipc_encode_error_reply(&buf, req->id, "internal", "invalid reply");
	if (r >= 0)
		r = s_send_reply(s, req, buf.data, buf.size);
	ipc_buf_done(&buf);
	return r < 0 ? r : -EINVAL;
}

/*
 * rpc_reply - send an encoded frame (built with rpc_request_id) and free req.
 * A frame that is not a valid envelope with the request's id is replaced
 * by an "internal" error and -EINVAL returned. -ENOTCONN when the server
 * was freed, -EHOSTUNREACH when the client is gone, -EAGAIN when its queue
 * is full.
 */
int rpc_reply(struct rpc_request *req, const void *frame, size_t len)
{
	struct rpc_server *s;
	int r;

	if (!req)
		return -EINVAL;
	s = req->s;
	s_request_unlink(req);
	r = s ? s_reply_checked(s, req, frame, len) : -ENOTCONN;
	free(req);
	return r;
}

/* rpc_reply_error - send {"error", code, message} and free req */
int rpc_reply_error(struct rpc_request *req, const char *code, const char *message)
{
	struct ipc_buf buf;
	int r;

	if (!req)
		return -EINVAL;
	ipc_buf_init(&buf);
	r = ipc_encode_error_reply(&buf, req->id, code, message);
	/* on failure (code too long) rpc_reply sends "internal" instead */
	r = rpc_reply(req, r < 0 ? NULL : buf.data, buf.size);
	ipc_buf_done(&buf);
	return r;
}
