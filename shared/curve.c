/*
 * curve.c - CURVE for tcp:// ZeroMQ endpoints (see curve.h): the client
 * and server socket options, the allow-list of client public keys, and the
 * process's one ZAP handler, a ZMQ_REP on inproc://zeromq.zap.01 inside
 * the daemon's libevent loop answering per RFC 27.
 *
 * A ZAP request has 7 parts or more, beyond what zev carries, so the REP
 * has its own small ZMQ_FD watcher here: on each wake-up it reads
 * ZMQ_EVENTS and answers requests until none is ready (REP alternates
 * receive and send, so every request gets its one reply before the next).
 * Secret keys pass through sodium memory and a wiped stack buffer only.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <sodium.h>
#include <zmq.h>

#include "config.h"
#include "curve.h"
#include "log.h"
#include "macro.h"
#include "secret.h"

#define ZAP_PARTS_MAX 8     /* parts kept of one request; more are read and dropped */
#define ZAP_BATCH 64        /* requests answered per loop turn */
#define ALLOW_MAX 4096      /* keys in the allow-list */
#define ALLOW_LINE_MAX 256

static struct {
	const struct sembark_config *cfg;
	struct event_base *base;
	void *zctx;
	void *zap;          /* REP on CURVE_ZAP_ENDPOINT, NULL until needed */
	struct event *zap_ev;
	unsigned char (*allowed)[CURVE_KEY_LEN];
	size_t nallowed;
} s_curve;

/* curve_key_decode - a 40-character Z85 key to 32 bytes; 0 or -EINVAL */
int curve_key_decode(const char *z85, unsigned char out[CURVE_KEY_LEN])
{
	if (!z85 || strlen(z85) != CURVE_Z85_LEN || !zmq_z85_decode(out, z85))
		return -EINVAL;
	return 0;
}

/* curve_is_tcp - whether endpoint (or any of a list) is tcp:// */
bool curve_is_tcp(const char *endpoints)
{
	return endpoints && strstr(endpoints, "tcp://") != NULL;
}

/* every endpoint of the list is tcp:// */
static bool s_all_tcp(const char *endpoints)
{
	const char *p = endpoints;

	for (;;) {
		p += strspn(p, ", \t");
		if (!*p)
			return true;
		if (strncmp(p, "tcp://", 6) != 0)
			return false;
		p += strcspn(p, ", \t");
	}
}

static int s_missing(const char *key, const char *why)
{
	log_error("CURVE key missing or malformed: a tcp:// endpoint needs it",
		  LOG_S("key", key), LOG_S("problem", why));
	return -ENOKEY;
}

static int s_setopt(void *zsock, int opt, const void *v, size_t len)
{
	return zmq_setsockopt(zsock, opt, v, len) < 0 ? -zmq_errno() : 0;
}

/* load a Z85 secret key (credential or 0600 file) and set it as option opt */
static int s_set_secret(void *zsock, const char *credential, const char *key, const char *path)
{
	_cleanup_(secret_freep) struct secret *sec = NULL;
	unsigned char bin[CURVE_KEY_LEN];
	int r;

	r = secret_load(credential, path, &sec);
	if (r == -ENOENT)
		return s_missing(key, "not set and no credential");
	if (r < 0)
		return s_missing(key, r == -EPERM ? "readable by group or others" : "unreadable");
	if (curve_key_decode((const char *)sec->data, bin) < 0)
		return s_missing(key, "not a 40-character Z85 key");
	r = s_setopt(zsock, ZMQ_CURVE_SECRETKEY, bin, sizeof(bin));
	sodium_memzero(bin, sizeof(bin));
	return r;
}

/* curve_client_setup - CURVE client options when endpoints are tcp:// */
int curve_client_setup(void *zsock, const char *endpoints)
{
	const struct sembark_config *cfg = s_curve.cfg;
	unsigned char server[CURVE_KEY_LEN], pub[CURVE_KEY_LEN];
	int r;

	if (!curve_is_tcp(endpoints))
		return 0;
	if (!s_all_tcp(endpoints)) {
		log_error("an endpoint list mixes tcp:// with other transports");
		return -EINVAL;
	}
	if (!cfg)
		return s_missing("curve_server_public_key", "CURVE not initialised");
	if (curve_key_decode(cfg->ipc.curve_server_public_key, server) < 0)
		return s_missing("curve_server_public_key", "not a 40-character Z85 key");
	if (curve_key_decode(cfg->ipc.curve_client_public_key, pub) < 0)
		return s_missing("curve_client_public_key", "not a 40-character Z85 key");
	r = s_setopt(zsock, ZMQ_CURVE_SERVERKEY, server, sizeof(server));
	if (r >= 0)
		r = s_setopt(zsock, ZMQ_CURVE_PUBLICKEY, pub, sizeof(pub));
	if (r >= 0)
		r = s_set_secret(zsock, "curve-client-key", "curve_client_secret_file",
				 cfg->ipc.curve_client_secret_file);
	return r;
}

/* one line of the allow-list: blanks trimmed; "" for a blank or comment line */
static char *s_trim(char *line)
{
	char *e;

	line += strspn(line, " \t");
	if (*line == '#')
		*line = 0;
	e = line + strlen(line);
	while (e > line && (e[-1] == '\n' || e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t'))
		*--e = 0;
	return line;
}

static int s_allow_add(const char *z85)
{
	unsigned char (*a)[CURVE_KEY_LEN];

	if (s_curve.nallowed >= ALLOW_MAX)
		return s_missing("curve_allowed_clients_file", "more than 4096 keys");
	a = realloc(s_curve.allowed, (s_curve.nallowed + 1) * sizeof(*a));
	if (!a)
		return -ENOMEM;
	s_curve.allowed = a;
	if (curve_key_decode(z85, a[s_curve.nallowed]) < 0)
		return s_missing("curve_allowed_clients_file", "a line is not a 40-character Z85 key");
	s_curve.nallowed++;
	return 0;
}

static void s_fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}

/* read the allow-list file: one Z85 public key a line, '#' comments */
static int s_allow_load(const char *path)
{
	_cleanup_(s_fclosep) FILE *f = NULL;
	char line[ALLOW_LINE_MAX];
	int r = 0;

	if (!path || !*path)
		return s_missing("curve_allowed_clients_file", "not set");
	f = fopen(path, "re");
	if (!f)
		return s_missing("curve_allowed_clients_file", "unreadable");
	while (r >= 0 && fgets(line, sizeof(line), f)) {
		char *s = s_trim(line);

		if (*s)
			r = s_allow_add(s);
	}
	if (r >= 0 && s_curve.nallowed == 0)
		r = s_missing("curve_allowed_clients_file", "lists no key");
	return r;
}

static bool s_allowed(const void *key, size_t len)
{
	if (len != CURVE_KEY_LEN)
		return false;
	for (size_t i = 0; i < s_curve.nallowed; i++)
		if (sodium_memcmp(s_curve.allowed[i], key, CURVE_KEY_LEN) == 0)
			return true;
	return false;
}

static bool s_part_is(const zmq_msg_t *m, const char *s)
{
	size_t n = strlen(s);

	return zmq_msg_size((zmq_msg_t *)m) == n && memcmp(zmq_msg_data((zmq_msg_t *)m), s, n) == 0;
}

/* RFC 27 reply: version, request id, status code, status text, user id, metadata */
static void s_zap_reply(zmq_msg_t *id, bool ok)
{
	const char *code = ok ? "200" : "400", *text = ok ? "OK" : "client key not allowed";
	int f = ZMQ_DONTWAIT | ZMQ_SNDMORE;

	zmq_send(s_curve.zap, "1.0", 3, f);
	zmq_send(s_curve.zap, id ? zmq_msg_data(id) : "", id ? zmq_msg_size(id) : 0, f);
	zmq_send(s_curve.zap, code, 3, f);
	zmq_send(s_curve.zap, text, strlen(text), f);
	zmq_send(s_curve.zap, ok ? "curve" : "", ok ? 5 : 0, f);
	zmq_send(s_curve.zap, "", 0, ZMQ_DONTWAIT);
}

/* receive one request and answer it; -errno when none was waiting */
static int s_zap_one(void)
{
	zmq_msg_t parts[ZAP_PARTS_MAX];
	size_t n = 0;
	bool more = true, ok;

	while (more) {
		zmq_msg_t extra, *p = n < ZAP_PARTS_MAX ? &parts[n] : &extra;

		zmq_msg_init(p);
		if (zmq_msg_recv(p, s_curve.zap, ZMQ_DONTWAIT) < 0) {
			int r = -zmq_errno();

			zmq_msg_close(p);
			for (size_t i = 0; i < n; i++)
				zmq_msg_close(&parts[i]);
			return r;
		}
		more = zmq_msg_more(p);
		if (p == &extra)
			zmq_msg_close(p);
		else
			n++;
	}
	/* version, id, domain, address, identity, mechanism, client key */
	ok = n == 7 && s_part_is(&parts[0], "1.0") && s_part_is(&parts[5], "CURVE") &&
	     s_allowed(zmq_msg_data(&parts[6]), zmq_msg_size(&parts[6]));
	if (!ok && n == 7 && s_part_is(&parts[5], "CURVE"))
		log_warning("CURVE client refused: key not in the allow-list");
	s_zap_reply(n >= 2 ? &parts[1] : NULL, ok);
	for (size_t i = 0; i < n; i++)
		zmq_msg_close(&parts[i]);
	return 0;
}

static bool s_zap_pollin(void)
{
	int events = 0;
	size_t sz = sizeof(events);

	return zmq_getsockopt(s_curve.zap, ZMQ_EVENTS, &events, &sz) == 0 && (events & ZMQ_POLLIN);
}

static void s_on_zap(evutil_socket_t fd, short what, void *arg)
{
	unsigned n = 0;

	while (n < ZAP_BATCH && s_zap_pollin() && s_zap_one() == 0)
		n++;
	if (n == ZAP_BATCH && s_zap_pollin())
		event_active(s_curve.zap_ev, EV_READ, 0);
}

/* bind the REP on CURVE_ZAP_ENDPOINT and watch it in the loop */
static int s_zap_start(void)
{
	int fd = -1, linger = 0;
	size_t sz = sizeof(fd);

	if (!s_curve.base || !s_curve.zctx)
		return -EINVAL;
	s_curve.zap = zmq_socket(s_curve.zctx, ZMQ_REP);
	if (!s_curve.zap)
		return -zmq_errno();
	if (zmq_setsockopt(s_curve.zap, ZMQ_LINGER, &linger, sizeof(linger)) < 0 ||
	    zmq_bind(s_curve.zap, CURVE_ZAP_ENDPOINT) < 0 ||
	    zmq_getsockopt(s_curve.zap, ZMQ_FD, &fd, &sz) < 0)
		return -zmq_errno();
	s_curve.zap_ev = event_new(s_curve.base, fd, EV_READ | EV_PERSIST, s_on_zap, NULL);
	if (!s_curve.zap_ev || event_add(s_curve.zap_ev, NULL) < 0)
		return -ENOMEM;
	return 0;
}

/* close the ZAP handler and forget the allow-list; keep cfg, loop, context */
static void s_zap_stop(void)
{
	if (s_curve.zap_ev)
		event_free(s_curve.zap_ev);
	if (s_curve.zap)
		zmq_close(s_curve.zap);
	free(s_curve.allowed);
	s_curve.zap_ev = NULL;
	s_curve.zap = NULL;
	s_curve.allowed = NULL;
	s_curve.nallowed = 0;
}

/* curve_server_setup - CURVE server options when endpoint is tcp:// */
int curve_server_setup(void *zsock, const char *endpoint)
{
	const struct sembark_config *cfg = s_curve.cfg;
	const char *domain = "sembark";
	int one = 1, r;

	if (!curve_is_tcp(endpoint))
		return 0;
	if (!cfg)
		return s_missing("curve_server_secret_file", "CURVE not initialised");
	if (!s_curve.zap) {
		r = s_allow_load(cfg->ipc.curve_allowed_clients_file);
		if (r >= 0)
			r = s_zap_start();
		if (r < 0) {
			s_zap_stop();
			return r;
		}
	}
	r = s_setopt(zsock, ZMQ_CURVE_SERVER, &one, sizeof(one));
	if (r >= 0)
		r = s_setopt(zsock, ZMQ_ZAP_DOMAIN, domain, strlen(domain));
	if (r >= 0)
		r = s_set_secret(zsock, "curve-server-key", "curve_server_secret_file",
				 cfg->ipc.curve_server_secret_file);
	return r;
}

/* curve_init - remember the config, loop and context for later sockets */
void curve_init(const struct sembark_config *cfg, struct event_base *base, void *zctx)
{
	curve_done();
	s_curve.cfg = cfg;
	s_curve.base = base;
	s_curve.zctx = zctx;
}

/* curve_done - close the ZAP handler and forget the allow-list */
void curve_done(void)
{
	s_zap_stop();
	memset(&s_curve, 0, sizeof(s_curve));
}
