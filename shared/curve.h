/*
 * curve.h - CURVE on every tcp:// ZeroMQ endpoint: the socket options of
 * both sides and one ZAP handler per process that checks client keys
 * against an allow-list (RFC 26/27). ipc:// and inproc:// are left as they
 * are: file modes guard them.
 *
 * Keys come from [ipc] curve_* in the config (see config.h). Secret keys
 * are read with secret_load (credentials curve-server-key and
 * curve-client-key), set on the socket and wiped; never logged.
 */
#ifndef SEMBARK_CURVE_H
#define SEMBARK_CURVE_H

#include <stdbool.h>

#define CURVE_Z85_LEN 40 /* a key in Z85 */
#define CURVE_KEY_LEN 32 /* a key in binary */
#define CURVE_ZAP_ENDPOINT "inproc://zeromq.zap.01"

struct event_base;
struct sembark_config;

/*
 * curve_init - remember the config (not copied: it must outlive every
 * socket set up later), the loop the ZAP handler runs in, and the ZeroMQ
 * context. Until called, any tcp:// endpoint is refused.
 */
void curve_init(const struct sembark_config *cfg, struct event_base *base, void *zctx);
/* curve_done - close the ZAP handler and forget the allow-list */
void curve_done(void);

/* curve_is_tcp - whether endpoint (or any of a list) is tcp:// */
bool curve_is_tcp(const char *endpoints);

/*
 * curve_client_setup - before connecting zsock to endpoints: when they are
 * tcp://, set ZMQ_CURVE_SERVERKEY/PUBLICKEY/SECRETKEY. 0 (nothing to do
 * for ipc:// and inproc://), -ENOKEY naming the missing key in the log,
 * -EINVAL for a list mixing tcp:// with other transports, or -errno.
 */
int curve_client_setup(void *zsock, const char *endpoints);

/*
 * curve_server_setup - before binding zsock to endpoint: when tcp://,
 * start the ZAP handler with the allow-list (once per process) and set
 * ZMQ_CURVE_SERVER and ZMQ_CURVE_SECRETKEY. Returns as curve_client_setup.
 */
int curve_server_setup(void *zsock, const char *endpoint);

/* curve_key_decode - a 40-character Z85 key to 32 bytes; 0 or -EINVAL */
int curve_key_decode(const char *z85, unsigned char out[CURVE_KEY_LEN]);

#endif
