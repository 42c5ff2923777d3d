/*
 * daemon.h - the start-up sequence and lifecycle every sembark daemon
 * shares: argv (--config, --check-config, --help, --version), config,
 * logging, one libevent base and one ZeroMQ context, SIGTERM/SIGINT
 * through evsignal, SIGHUP to a reload hook (else logged and ignored), sd_notify READY=1 / STATUS= / WATCHDOG=1 (from a loop
 * timer at half WATCHDOG_USEC, never a thread) / STOPPING=1, dropping root,
 * and a clean stop that lets in-flight work finish.
 */
#ifndef SEMBARK_DAEMON_H
#define SEMBARK_DAEMON_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "macro.h"

struct event_base;
struct event;

struct daemon {
	const char *service;    /* "ingressd", ... */
	struct sembark_config cfg;
	struct event_base *base;
	void *zctx;             /* ZeroMQ context */
	void *log_push;         /* PUSH to [ipc] log_sink, NULL in logd */
	int64_t started_us;
	bool stopping;

	/* private */
	struct event *sig_term, *sig_int, *sig_hup, *sig_pipe, *watchdog, *stop_timer;
	int (*drain)(void *userdata); /* returns >0 while work is still in flight */
	void *drain_userdata;
	void (*on_stop)(void *userdata);
	void *on_stop_userdata;
	void (*on_reload)(void *userdata);
	void *on_reload_userdata;
};

/*
 * daemon_init - everything up to (not including) opening the daemon's own
 * sockets. Returns 0 to go on, 1 when the process should exit 0 now
 * (--help, --version, --check-config passed), or a negative errno after
 * printing why (bad argv, bad config).
 */
int daemon_init(struct daemon *d, const char *service, int argc, char **argv);

/*
 * daemon_on_stop - on SIGTERM/SIGINT: STOPPING=1, then on_stop (stop
 * accepting work), then the loop keeps running until drain() returns 0
 * or 10 s pass, then exits.
 */
void daemon_on_stop(struct daemon *d, void (*on_stop)(void *), int (*drain)(void *),
		    void *userdata);

/*
 * daemon_on_reload - what to call on SIGHUP (`systemctl reload`); not
 * called once a stop has begun. A daemon without one logs the signal and
 * goes on unchanged.
 */
void daemon_on_reload(struct daemon *d, void (*on_reload)(void *), void *userdata);

/* daemon_drop_privileges - if root and user != "", become that user */
int daemon_drop_privileges(struct daemon *d, const char *user);

/* daemon_ready - READY=1 and STATUS=<status>, log "ready" */
void daemon_ready(struct daemon *d, const char *status);
/* daemon_status - STATUS=<text> */
void daemon_status(struct daemon *d, const char *status);

/* daemon_run - run the loop until stopped; returns 0 or negative errno */
int daemon_run(struct daemon *d);
/* daemon_done - free everything daemon_init made */
void daemon_done(struct daemon *d);

int64_t now_us(void); /* CLOCK_REALTIME in microseconds */
int64_t mono_us(void); /* CLOCK_MONOTONIC in microseconds */

#endif
