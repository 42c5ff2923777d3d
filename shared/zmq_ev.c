/*
 * zmq_ev.c - a ZeroMQ socket inside a libevent loop, written once for every
 * sembark daemon (see zmq_ev.h), plus the socket options and ipc:// bind
 * rules every daemon shares.
 *
 * ZMQ_FD only says "ZMQ_EVENTS may have changed" and is reset by reading
 * ZMQ_EVENTS (which every zmq_send/zmq_recv also does internally). So a
 * wake-up drains: read ZMQ_EVENTS, receive one whole multipart message,
 * hand it to the callback, repeat while ZMQ_POLLIN and fewer than
 * ZEV_BATCH messages this turn. ZMQ_EVENTS is always read after the last
 * callback of a batch, so a callback that sends (consuming the edge that
 * announced the next message) cannot make us miss input. When input
 * remains after a full batch we continue on the next loop turn through a
 * zero-timeout timer: libevent 2.1 runs an event_active()d event again in
 * the same turn, before polling other fds, which would let one busy socket
 * starve the loop.
 *
 * A callback may send on any socket and may zev_free() its own watcher;
 * the free is completed when the drain returns. No logging here (shared/
 * code reports through return values and counters).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <event2/event.h>
#include <zmq.h>

#include "macro.h"
#include "zmq_ev.h"

#define ZEV_LINGER_MS 100

struct zev {
	void *zsock;
	struct event *io;   /* ZMQ_FD readable */
	struct event *next; /* zero timer: continue on the next loop turn */
	zev_msg_fn on_msg;
	void *userdata;
	uint64_t dropped;
	unsigned busy; /* inside s_drain */
	bool dead;     /* zev_free() called while busy */
};

static const struct timeval s_zero = { 0, 0 };

static void s_destroy(struct zev *z)
{
	event_free(z->io);
	event_free(z->next);
	free(z);
}

/* 1 when a message is waiting, 0 when not, -errno */
static int s_pollin(struct zev *z)
{
	int events = 0;
	size_t sz = sizeof(events);

	if (zmq_getsockopt(z->zsock, ZMQ_EVENTS, &events, &sz) < 0)
		return -zmq_errno();
	return !!(events & ZMQ_POLLIN);
}

static void s_close_parts(zmq_msg_t *parts, size_t n)
{
	for (size_t i = 0; i < n; i++)
		zmq_msg_close(&parts[i]);
}

/* receive every part of one message; parts beyond ZEV_MAX_PARTS are discarded */
static int s_recv_parts(struct zev *z, zmq_msg_t *parts, size_t *ret_n, bool *ret_toolong)
{
	size_t n = 0;
	bool more = true, toolong = false;
	zmq_msg_t extra;

	while (more) {
		zmq_msg_t *p = n < ZEV_MAX_PARTS ? &parts[n] : &extra;

		zmq_msg_init(p);
		if (zmq_msg_recv(p, z->zsock, ZMQ_DONTWAIT) < 0) {
			int r = -zmq_errno();

			zmq_msg_close(p);
			s_close_parts(parts, n);
			return r;
		}
		more = zmq_msg_more(p);
		if (p == &extra) {
			toolong = true;
			zmq_msg_close(p);
		} else {
			n++;
		}
	}
	*ret_n = n;
	*ret_toolong = toolong;
	return 0;
}

/* receive one message and hand it to the callback; -EAGAIN when none */
static int s_recv_one(struct zev *z)
{
	zmq_msg_t parts[ZEV_MAX_PARTS];
	struct zev_msg m = { 0 };
	bool toolong = false;
	size_t n = 0;
	int r;

	r = s_recv_parts(z, parts, &n, &toolong);
	if (r < 0)
		return r;
	if (toolong) {
		z->dropped++;
	} else {
		m.nparts = n;
		for (size_t i = 0; i < n; i++) {
			m.data[i] = zmq_msg_data(&parts[i]);
			m.size[i] = zmq_msg_size(&parts[i]);
		}
		z->on_msg(z, &m, z->userdata);
	}
	s_close_parts(parts, n);
	return 0;
}

static void s_drain(struct zev *z)
{
	unsigned n;

	z->busy++;
	for (n = 0; n < ZEV_BATCH && !z->dead; n++) {
		if (s_pollin(z) <= 0 || s_recv_one(z) < 0)
			break;
	}
	if (n == ZEV_BATCH && !z->dead && s_pollin(z) > 0)
		evtimer_add(z->next, &s_zero);
	z->busy--;
	if (z->dead && z->busy == 0)
		s_destroy(z);
}

/* ZMQ_FD readable, or zev_kick() */
static void s_on_io(evutil_socket_t fd, short what, void *arg)
{
	struct zev *z = arg;

	/* a continuation is due: it drains this turn or the next, so that a
	 * socket gets at most one batch per loop turn */
	if (evtimer_pending(z->next, NULL))
		return;
	s_drain(z);
}

static void s_on_next(evutil_socket_t fd, short what, void *arg)
{
	s_drain(arg);
}

/* zev_new - watch zsock (not owned) for input; on_msg gets each message */
int zev_new(struct event_base *base, void *zsock, zev_msg_fn on_msg, void *userdata,
	    struct zev **ret)
{
	_cleanup_free_ struct zev *z = NULL;
	int fd = -1;
	size_t sz = sizeof(fd);

	if (!base || !zsock || !on_msg || !ret)
		return -EINVAL;
	if (zmq_getsockopt(zsock, ZMQ_FD, &fd, &sz) < 0)
		return -zmq_errno();
	z = calloc(1, sizeof(*z));
	if (!z)
		return -ENOMEM;
	*z = (struct zev){ .zsock = zsock, .on_msg = on_msg, .userdata = userdata };
	z->io = event_new(base, fd, EV_READ | EV_PERSIST, s_on_io, z);
	z->next = evtimer_new(base, s_on_next, z);
	if (!z->io || !z->next || event_add(z->io, NULL) < 0 ||
	    evtimer_add(z->next, &s_zero) < 0) { /* input queued before we watched */
		if (z->io)
			event_free(z->io);
		if (z->next)
			event_free(z->next);
		return -ENOMEM;
	}
	*ret = TAKE_PTR(z);
	return 0;
}

/* zev_free - stop watching; accepts NULL; returns NULL */
struct zev *zev_free(struct zev *z)
{
	if (!z || z->dead)
		return NULL;
	if (z->busy > 0) {
		event_del(z->io);
		event_del(z->next);
		z->dead = true;
		return NULL;
	}
	s_destroy(z);
	return NULL;
}

/* zev_kick - re-check ZMQ_EVENTS soon (call after every send) */
void zev_kick(struct zev *z)
{
	/* inside our own drain ZMQ_EVENTS is read again after the callback */
	if (!z || z->dead || z->busy > 0)
		return;
	event_active(z->io, EV_READ, 0);
}

/* zev_socket - the watched ZeroMQ socket */
void *zev_socket(struct zev *z)
{
	return z->zsock;
}

/* zev_dropped - messages dropped for having more than ZEV_MAX_PARTS parts */
uint64_t zev_dropped(const struct zev *z)
{
	return z->dropped;
}

/* zev_send - send parts as one multipart message without blocking, then kick */
int zev_send(struct zev *z, size_t nparts, const void *const data[], const size_t size[])
{
	int r = 0;

	if (!z || z->dead || nparts == 0)
		return -EINVAL;
	for (size_t i = 0; i < nparts; i++) {
		int flags = ZMQ_DONTWAIT | (i + 1 < nparts ? ZMQ_SNDMORE : 0);

		/* only the first part can hit the HWM: the rest are queued with it */
		if (zmq_send(z->zsock, data[i], size[i], flags) < 0) {
			r = -zmq_errno();
			break;
		}
	}
	zev_kick(z);
	return r;
}

static int s_setopt_int(void *zsock, int opt, int v)
{
	return zmq_setsockopt(zsock, opt, &v, sizeof(v)) < 0 ? -zmq_errno() : 0;
}

/* zsock_setup - linger, HWMs, max message size, IMMEDIATE for DEALER and PUSH */
int zsock_setup(void *zsock, int hwm, long long max_msg)
{
	int type = 0, r;
	size_t sz = sizeof(type);
	int64_t maxsz = max_msg;

	r = s_setopt_int(zsock, ZMQ_LINGER, ZEV_LINGER_MS);
	if (r >= 0 && hwm > 0)
		r = s_setopt_int(zsock, ZMQ_SNDHWM, hwm);
	if (r >= 0 && hwm > 0)
		r = s_setopt_int(zsock, ZMQ_RCVHWM, hwm);
	if (r >= 0 && max_msg > 0 && zmq_setsockopt(zsock, ZMQ_MAXMSGSIZE, &maxsz, sizeof(maxsz)) < 0)
		r = -zmq_errno();
	if (r >= 0 && zmq_getsockopt(zsock, ZMQ_TYPE, &type, &sz) < 0)
		r = -zmq_errno();
	/* queue only to completed connections: a backend that is down gives
	 * EAGAIN at once instead of requests piling up for later */
	if (r >= 0 && (type == ZMQ_DEALER || type == ZMQ_PUSH))
		r = s_setopt_int(zsock, ZMQ_IMMEDIATE, 1);
	return r;
}

/* create each missing directory above the file `path`, mode 0750 */
static int s_mkdir_parents(const char *path)
{
	_cleanup_free_ char *p = strdup(path);

	if (!p)
		return -ENOMEM;
	for (char *s = strchr(p + 1, '/'); s; s = strchr(s + 1, '/')) {
		*s = 0;
		if (mkdir(p, 0750) == 0) {
			if (chmod(p, 0750) < 0) /* mkdir obeys the umask */
				return -errno;
		} else if (errno != EEXIST) {
			return -errno;
		}
		*s = '/';
	}
	return 0;
}

/* zsock_bind_endpoint - bind; for ipc:// make the directory (0750) and the socket 0660 */
int zsock_bind_endpoint(void *zsock, const char *endpoint)
{
	const char *path = NULL;
	int r;

	if (!zsock || !endpoint)
		return -EINVAL;
	if (strncmp(endpoint, "ipc://", 6) == 0 && endpoint[6] != '@' && strcmp(endpoint + 6, "*"))
		path = endpoint + 6;
	if (path) {
		r = s_mkdir_parents(path);
		if (r < 0)
			return r;
	}
	if (zmq_bind(zsock, endpoint) < 0)
		return -zmq_errno();
	if (path && chmod(path, 0660) < 0) {
		r = -errno;
		zmq_unbind(zsock, endpoint);
		return r;
	}
	return 0;
}
