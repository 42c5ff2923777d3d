/*
 * daemon.c - the lifecycle every sembark daemon shares (see daemon.h).
 *
 * Owns: argv (--config, --check-config, --help, --version), loading the
 * config, opening the log and the PUSH to logd's sink, the one
 * event_base and the one ZeroMQ context, SIGTERM/SIGINT through evsignal
 * with a draining stop, SIGHUP through evsignal to the daemon's reload hook
 * (without one it is logged and ignored: never the default action, which
 * would end the process and, being a "clean" signal for Restart=on-failure,
 * leave it stopped), sd_notify READY/STATUS/WATCHDOG/STOPPING, and
 * dropping root. Runs in the main thread of each daemon; holds no secret.
 *
 * Unlike other shared/ code, this file is the boundary of the start-up
 * sequence: it prints/logs its own failures once, so a caller only has to
 * turn a negative return into EXIT_FAILURE.
 *
 * d->started_us is CLOCK_MONOTONIC (mono_us()), for uptimes.
 */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <systemd/sd-daemon.h>
#include <zmq.h>

#include "curve.h"
#include "daemon.h"
#include "log.h"
#include "log_sink.h"
#include "util.h"
#include "zmq_ev.h"

#define STOP_POLL_US (50 * 1000)
#define STOP_MAX_US (10 * 1000 * 1000)
#define LOG_SINK_HWM 1000
#define LOG_SINK_LINGER_MS 100
#define NOTIFY_BARRIER_US (1000 * 1000)

/* One daemon per process: the stop deadline and the forced-stop flag. */
static int64_t stop_deadline_us;
static bool stop_forced;

enum {
	ARG_CONFIG = 0x100,
	ARG_CHECK_CONFIG,
	ARG_HELP,
	ARG_VERSION,
};

static void s_usage(const char *service)
{
	printf("Usage: sembark-%s [--config PATH] [--check-config] [-h|--help] [--version]\n"
	       "\n"
	       "  --config PATH    configuration file (default: $SEMBARK_CONFIG, then %s)\n"
	       "  --check-config   load and validate the configuration, print \"config ok\", exit\n"
	       "  -h, --help       this text\n"
	       "  --version        print the version and exit\n",
	       service, CONFIG_DEFAULT_PATH);
}

/* s_parse_argv - 0 to go on, 1 when done (help/version), -EINVAL */
static int s_parse_argv(const char *service, int argc, char **argv, const char **ret_path,
			bool *ret_check)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, ARG_CONFIG },
		{ "check-config", no_argument, NULL, ARG_CHECK_CONFIG },
		{ "help", no_argument, NULL, ARG_HELP },
		{ "version", no_argument, NULL, ARG_VERSION },
		{ 0 },
	};
	const char *path = NULL;
	bool check = false;
	int c;

	optind = 0; /* glibc: full re-initialisation, so tests may call us twice */
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) >= 0) {
		switch (c) {
		case ARG_CONFIG:
			path = optarg;
			break;
		case ARG_CHECK_CONFIG:
			check = true;
			break;
		case 'h':
		case ARG_HELP:
			s_usage(service);
			return 1;
		case ARG_VERSION:
			printf("sembark-%s %s\n", service, SEMBARK_VERSION);
			return 1;
		case ':':
			fprintf(stderr, "sembark-%s: option '%s' needs a value (see --help)\n", service,
				argv[optind - 1]);
			return -EINVAL;
		default:
			fprintf(stderr, "sembark-%s: unknown option '%s' (see --help)\n", service,
				argv[optind - 1]);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "sembark-%s: unexpected argument '%s' (see --help)\n", service,
			argv[optind]);
		return -EINVAL;
	}
	*ret_path = path;
	*ret_check = check;
	return 0;
}

static int s_load_config(struct daemon *d, const char *path)
{
	char err[512] = "";
	int r;

	r = config_load(&d->cfg, path, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "sembark-%s: config error: %s\n", d->service,
			err[0] ? err : strerror(-r));
		return r;
	}
	return 0;
}

/* s_warn_ignored_env - one warning per SEMBARK_* variable config_load left out */
static void s_warn_ignored_env(const struct sembark_config *cfg)
{
	const struct config_ignored_var *v;

	for (unsigned i = 0; (v = config_env_ignored(cfg, i)); i++) {
		if (*v->nearest)
			log_warning("environment variable " CONFIG_ENV_IGNORED_WHY,
				    LOG_S("name", v->name), LOG_S("did_you_mean", v->nearest));
		else
			log_warning("environment variable " CONFIG_ENV_IGNORED_WHY,
				    LOG_S("name", v->name));
	}
}

static const char *s_signal_name(int sig)
{
	switch (sig) {
	case SIGTERM:
		return "SIGTERM";
	case SIGINT:
		return "SIGINT";
	default:
		return "other";
	}
}

static void s_stop_now(struct daemon *d)
{
	if (d->stop_timer)
		event_del(d->stop_timer);
	event_base_loopexit(d->base, NULL);
}

static void s_on_stop_tick(evutil_socket_t fd, short what, void *userdata)
{
	struct daemon *d = userdata;
	int n = d->drain ? d->drain(d->drain_userdata) : 0;

	if (n <= 0) {
		s_stop_now(d);
		return;
	}
	if (mono_us() >= stop_deadline_us) {
		log_warning("stop timed out with work in flight", LOG_I("in_flight", n));
		s_stop_now(d);
	}
}

static void s_begin_stop(struct daemon *d, int sig)
{
	struct timeval tv = { .tv_sec = 0, .tv_usec = STOP_POLL_US };

	d->stopping = true;
	sd_notify(0, "STOPPING=1");
	log_info("stopping", LOG_S("signal", s_signal_name(sig)));
	if (d->on_stop)
		d->on_stop(d->on_stop_userdata);

	stop_deadline_us = mono_us() + STOP_MAX_US;
	if (!d->drain || d->drain(d->drain_userdata) <= 0) {
		s_stop_now(d);
		return;
	}
	d->stop_timer = event_new(d->base, -1, EV_PERSIST, s_on_stop_tick, d);
	if (!d->stop_timer || event_add(d->stop_timer, &tv) < 0) {
		log_error("cannot arm the stop timer, stopping at once");
		s_stop_now(d);
	}
}

static void s_on_signal(evutil_socket_t sig, short what, void *userdata)
{
	struct daemon *d = userdata;

	if (d->stopping) {
		log_warning("second signal, exiting now", LOG_S("signal", s_signal_name(sig)));
		stop_forced = true;
		event_base_loopbreak(d->base);
		return;
	}
	s_begin_stop(d, (int)sig);
}

/* s_on_hup - SIGHUP: the daemon's reload hook, if it has one */
static void s_on_hup(evutil_socket_t sig, short what, void *userdata)
{
	struct daemon *d = userdata;

	if (d->stopping)
		return;
	if (!d->on_reload) {
		log_info("SIGHUP: nothing to reload here (restart to apply configuration "
			 "changes)");
		return;
	}
	d->on_reload(d->on_reload_userdata); /* logs what it did */
}

static int s_add_signal(struct daemon *d, int sig, event_callback_fn cb, struct event **ret)
{
	struct event *ev = evsignal_new(d->base, sig, cb, d);

	if (!ev)
		return -ENOMEM;
	if (evsignal_add(ev, NULL) < 0) {
		event_free(ev);
		return -EIO;
	}
	*ret = ev;
	return 0;
}

static void s_on_watchdog(evutil_socket_t fd, short what, void *userdata)
{
	sd_notify(0, "WATCHDOG=1");
}

static int s_setup_watchdog(struct daemon *d)
{
	uint64_t usec = 0;
	struct timeval tv;

	if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0)
		return 0;
	usec /= 2;
	tv.tv_sec = (time_t)(usec / 1000000);
	tv.tv_usec = (suseconds_t)(usec % 1000000);
	d->watchdog = event_new(d->base, -1, EV_PERSIST, s_on_watchdog, d);
	if (!d->watchdog)
		return -ENOMEM;
	if (event_add(d->watchdog, &tv) < 0)
		return -EIO;
	log_debug("watchdog armed", LOG_I("interval_us", usec));
	return 0;
}

/*
 * s_open_log_sink - the PUSH to logd. ZMQ_IMMEDIATE is 0 on purpose: a
 * daemon's first records (database connected, ready) are sent before the
 * ipc:// connect completes and would otherwise be dropped. The queue for
 * an absent logd is bounded by LOG_SINK_HWM; past it log.c's DONTWAIT
 * send fails and the record is counted as dropped (it is on stderr anyway).
 */
static int s_open_log_sink(struct daemon *d)
{
	int zero = 0, linger = LOG_SINK_LINGER_MS;
	void *s;
	int r;

	if (strcmp(d->service, "logd") == 0)
		return 0;
	s = zmq_socket(d->zctx, ZMQ_PUSH);
	if (!s)
		return -errno;
	r = zsock_setup(s, LOG_SINK_HWM, 0);
	if (r >= 0)
		r = curve_client_setup(s, d->cfg.ipc.log_sink); /* CURVE when tcp:// */
	if (r >= 0 && (zmq_setsockopt(s, ZMQ_IMMEDIATE, &zero, sizeof(zero)) < 0 ||
		       zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof(linger)) < 0 ||
		       zmq_connect(s, d->cfg.ipc.log_sink) < 0))
		r = -errno;
	if (r < 0) {
		zmq_close(s);
		return r;
	}
	d->log_push = s;
	log_sink_attach(s);
	return 0;
}

static int s_setup_runtime(struct daemon *d)
{
	int r;

	d->base = event_base_new();
	if (!d->base)
		return log_error_errno(-ENOMEM, "cannot create the event loop");
	d->zctx = zmq_ctx_new();
	if (!d->zctx)
		return log_error_errno(-errno, "cannot create the ZeroMQ context");
	r = s_add_signal(d, SIGTERM, s_on_signal, &d->sig_term);
	if (r >= 0)
		r = s_add_signal(d, SIGINT, s_on_signal, &d->sig_int);
	if (r >= 0)
		r = s_add_signal(d, SIGHUP, s_on_hup, &d->sig_hup);
	if (r < 0)
		return log_error_errno(r, "cannot watch SIGTERM/SIGINT/SIGHUP");
	signal(SIGPIPE, SIG_IGN);
	r = s_setup_watchdog(d);
	if (r < 0)
		return log_error_errno(r, "cannot arm the watchdog timer");
	curve_init(&d->cfg, d->base, d->zctx);
	r = s_open_log_sink(d);
	if (r < 0)
		return log_error_errno(r, "cannot connect the log sink",
				       LOG_S("endpoint", d->cfg.ipc.log_sink));
	return 0;
}

/* daemon_init - argv, config, log, loop, ZeroMQ context, signals, sink */
int daemon_init(struct daemon *d, const char *service, int argc, char **argv)
{
	const char *path = NULL;
	bool check = false;
	enum log_level level;
	int r;

	*d = (struct daemon){ .service = service };
	stop_forced = false;
	r = s_parse_argv(service, argc, argv, &path, &check);
	if (r != 0)
		return r;
	r = s_load_config(d, path);
	if (r < 0)
		return r;
	log_open(service);
	if (check) {
		s_warn_ignored_env(&d->cfg);
		printf("config ok\n");
		return 1;
	}

	level = log_level_from_string(d->cfg.logs.level);
	if (level != _LOG_LEVEL_INVALID)
		log_set_level(level);
	d->started_us = mono_us();

	r = s_setup_runtime(d);
	if (r < 0) {
		daemon_done(d);
		return r;
	}
	s_warn_ignored_env(&d->cfg); /* now logd hears it as well */
	return 0;
}

/* daemon_on_stop - what to call on SIGTERM/SIGINT, and how to see the end */
void daemon_on_stop(struct daemon *d, void (*on_stop)(void *), int (*drain)(void *),
		    void *userdata)
{
	d->on_stop = on_stop;
	d->on_stop_userdata = userdata;
	d->drain = drain;
	d->drain_userdata = userdata;
}

/* daemon_on_reload - what to call on SIGHUP (not while stopping) */
void daemon_on_reload(struct daemon *d, void (*on_reload)(void *), void *userdata)
{
	d->on_reload = on_reload;
	d->on_reload_userdata = userdata;
}

static int s_verify_dropped(uid_t uid, gid_t gid)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg;

	if (getresuid(&ru, &eu, &su) < 0 || getresgid(&rg, &eg, &sg) < 0)
		return -errno;
	if (ru != uid || eu != uid || su != uid || rg != gid || eg != gid || sg != gid)
		return -EPERM;
	/* Regaining root must be impossible now. */
	if (setuid(0) != -1 || seteuid(0) != -1)
		return -EPERM;
	return 0;
}

static int s_become(const char *user, uid_t uid, gid_t gid)
{
	if (initgroups(user, gid) < 0)
		return -errno;
	if (setresgid(gid, gid, gid) < 0)
		return -errno;
	if (setresuid(uid, uid, uid) < 0)
		return -errno;
	return s_verify_dropped(uid, gid);
}

/* daemon_drop_privileges - if root and user != "", become that user */
int daemon_drop_privileges(struct daemon *d, const char *user)
{
	static bool warned;
	struct passwd *pw;
	int r;

	if (geteuid() != 0)
		return 0;
	if (!user || !user[0]) {
		if (!warned)
			log_warning("running as root: no user configured to drop to");
		warned = true;
		return 0;
	}
	errno = 0;
	pw = getpwnam(user);
	if (!pw && errno > 0)
		return log_error_errno(-errno, "cannot look up user", LOG_S("user", user));
	if (!pw) {
		log_error("unknown user", LOG_S("user", user));
		return -ESRCH;
	}
	if (pw->pw_uid == 0)
		return log_error_errno(-EINVAL, "refusing to run as a uid 0 user",
				       LOG_S("user", user));
	r = s_become(user, pw->pw_uid, pw->pw_gid);
	if (r < 0)
		return log_error_errno(r, "cannot drop privileges", LOG_S("user", user));
	log_info("dropped privileges", LOG_S("user", user));
	return 0;
}

/* daemon_ready - READY=1 and STATUS=<status>, log "ready" */
void daemon_ready(struct daemon *d, const char *status)
{
	sd_notifyf(0, "READY=1\nSTATUS=%s", status);
	log_info("ready", LOG_S("status", status));
}

/* daemon_status - STATUS=<text> */
void daemon_status(struct daemon *d, const char *status)
{
	sd_notifyf(0, "STATUS=%s", status);
}

/* daemon_run - run the loop; 0 after a clean stop, -ECANCELED when forced */
int daemon_run(struct daemon *d)
{
	if (event_base_dispatch(d->base) < 0)
		return log_error_errno(-EIO, "event loop failed");
	if (stop_forced)
		return -ECANCELED;
	log_info("stopped");
	/* wait (bounded) until the manager has read STOPPING=1 and the rest */
	(void)sd_notify_barrier(0, NOTIFY_BARRIER_US);
	return 0;
}

static void s_event_freep(struct event **ev)
{
	if (*ev)
		event_free(*ev);
	*ev = NULL;
}

/* daemon_done - free everything daemon_init made; safe to call twice */
void daemon_done(struct daemon *d)
{
	if (d->log_push) {
		log_sink_detach();
		zmq_close(d->log_push);
		d->log_push = NULL;
	}
	curve_done();
	s_event_freep(&d->sig_term);
	s_event_freep(&d->sig_int);
	s_event_freep(&d->sig_hup);
	s_event_freep(&d->sig_pipe);
	s_event_freep(&d->watchdog);
	s_event_freep(&d->stop_timer);
	if (d->zctx) {
		while (zmq_ctx_term(d->zctx) < 0 && errno == EINTR)
			;
		d->zctx = NULL;
	}
	if (d->base) {
		event_base_free(d->base);
		d->base = NULL;
	}
}

/* now_us - CLOCK_REALTIME in microseconds */
int64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* mono_us - CLOCK_MONOTONIC in microseconds */
int64_t mono_us(void)
{
	return util_mono_us();
}
