/*
 * zmq_ev.h - a ZeroMQ socket inside a libevent loop, written once.
 *
 * ZMQ_FD is edge-triggered: it signals that ZMQ_EVENTS may have changed,
 * not that a message is waiting. So the watcher re-reads ZMQ_EVENTS on
 * every wake-up, receives whole multipart messages in bounded batches
 * (ZEV_BATCH per turn), and re-arms itself with event_active() while
 * ZMQ_POLLIN remains, so one busy socket cannot starve the loop and no
 * message is left unseen. Every send must be followed by zev_kick(): a
 * send can consume the edge that announced an incoming message.
 */
#ifndef SEMBARK_ZMQ_EV_H
#define SEMBARK_ZMQ_EV_H

#include <stddef.h>
#include <stdint.h>

#define ZEV_BATCH 64    /* messages per loop turn */
#define ZEV_MAX_PARTS 4 /* more parts: message dropped, counted */

struct event_base;
struct zev;

/* One received message: parts[i] points into ZeroMQ-owned memory valid
 * only during the callback. */
struct zev_msg {
	size_t nparts;
	const void *data[ZEV_MAX_PARTS];
	size_t size[ZEV_MAX_PARTS];
};

typedef void (*zev_msg_fn)(struct zev *z, const struct zev_msg *msg, void *userdata);

/* zev_new - watch zsock (not owned) for input; on_msg gets each message */
int zev_new(struct event_base *base, void *zsock, zev_msg_fn on_msg, void *userdata,
	    struct zev **ret);
/* zev_free - stop watching; accepts NULL; returns NULL */
struct zev *zev_free(struct zev *z);
/* zev_kick - re-check ZMQ_EVENTS soon (call after every send) */
void zev_kick(struct zev *z);
void *zev_socket(struct zev *z);
/* zev_dropped - messages dropped for having more than ZEV_MAX_PARTS parts */
uint64_t zev_dropped(const struct zev *z);

/*
 * zev_send - send parts as one multipart message without blocking
 * (ZMQ_DONTWAIT), then zev_kick. Returns 0, -EAGAIN when the queue is
 * full (HWM), or -errno.
 */
int zev_send(struct zev *z, size_t nparts, const void *const data[], const size_t size[]);

/*
 * zsock_setup - set the options every sembark socket gets: ZMQ_LINGER 0..
 * small, ZMQ_SNDHWM/RCVHWM = hwm, ZMQ_MAXMSGSIZE = max_msg (when > 0, for
 * sockets that receive from a less-trusted peer), ZMQ_IMMEDIATE for
 * connecting DEALERs. Returns 0 or -errno.
 */
int zsock_setup(void *zsock, int hwm, long long max_msg);

/*
 * zsock_bind_endpoint - bind, creating the directory of an ipc:// path
 * (mode 0750) and making the socket file mode 0660. Returns 0 or -errno.
 */
int zsock_bind_endpoint(void *zsock, const char *endpoint);

#endif
