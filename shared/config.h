/*
 * config.h - sembark's one configuration file (INI, read with libinih).
 *
 * Sections [ingress] [auth] [telemetry] [logs] [database] [ipc]. Every key
 * has a default, a type and an allowed range, declared once in the schema
 * table in config.c. Order of precedence: defaults < file < environment
 * (SEMBARK_<SECTION>_<KEY>, upper case). An unknown section or key, or a
 * value out of range, is an error naming the key and what is allowed.
 * Secrets are never config values: only paths to files (or systemd
 * credentials, see secret.h).
 */
#ifndef SEMBARK_CONFIG_H
#define SEMBARK_CONFIG_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define CONFIG_DEFAULT_PATH "/etc/sembark/sembark.conf"
#define CONFIG_STR_MAX 256 /* every string value fits in this, NUL included */

struct sembark_config {
	char path[PATH_MAX]; /* file read, "" when none */

	struct {
		char listen[CONFIG_STR_MAX];        /* host:port, "127.0.0.1:8080" */
		char public_origin[CONFIG_STR_MAX]; /* "http://127.0.0.1:8080" */
		char security_contact[CONFIG_STR_MAX]; /* "mailto:security@example.com" */
		int security_txt_days;    /* Expires: now + N days, 1..365, 180 */
		int max_body;             /* bytes, 1024..16777216, 65536 */
		int max_telemetry_body;   /* bytes, 1024..67108864, 1048576 */
		int max_header_bytes;     /* request line + headers, 1024..65536, 16384 */
		int max_headers;          /* header count, 8..256, 64 */
		int max_connections;      /* 16..1000000, 4096 */
		int idle_timeout;         /* s, keep-alive idle, 1..3600, 60 */
		int request_timeout;      /* s, whole request must arrive, 1..600, 10 */
		int rpc_timeout_ms;       /* ms, backend reply deadline, 50..60000, 3000 */
		int health_timeout_ms;    /* ms, /healthz ping deadline, 50..10000, 1000 */
		int client_rate_limit;    /* requests/min per client address, 0 = off, 0..1000000, 120 */
		bool reuse_port;          /* SO_REUSEPORT on the listener, true */
		char csrf_key_file[CONFIG_STR_MAX];  /* credential "csrf-key" */
		char tls_cert_file[CONFIG_STR_MAX];  /* "" = plain HTTP */
		char tls_key_file[CONFIG_STR_MAX];   /* credential "tls-key" */
		char static_dir[CONFIG_STR_MAX];     /* web/ files, "" = none */
		char user[CONFIG_STR_MAX];           /* drop root to this user, "" = stay */
	} ingress;

	struct {
		int session_lifetime;     /* s, 1..31536000, 86400 */
		int session_idle_timeout; /* s, 0 = off, 0..31536000, 0 */
		int bcrypt_cost;          /* 4..31, 12 */
		char password_hash[CONFIG_STR_MAX]; /* "bcrypt" | "argon2id" */
		int hash_threads;         /* 1..64, 2 */
		char user[CONFIG_STR_MAX];
	} auth;

	struct {
		int retention_days;       /* 1..3650, 30 */
		int batch_max_events;     /* group commit size, 1..100000, 5000 */
		int batch_delay_ms;       /* group commit wait, 0..1000, 5 */
		char user[CONFIG_STR_MAX];
	} telemetry;

	struct {
		int retention_days;       /* 1..3650, 30 */
		char level[CONFIG_STR_MAX]; /* debug|info|warning|error, "info" */
		int buffer_records;       /* records held while PostgreSQL is away, 100..1000000, 10000 */
		int flush_ms;             /* batch insert interval, 10..10000, 200 */
		char user[CONFIG_STR_MAX];
	} logs;

	struct {
		char host[CONFIG_STR_MAX];     /* socket dir or host name, "/run/postgresql" */
		int port;                      /* 1..65535, 5432 */
		char name[CONFIG_STR_MAX];     /* "sembark" */
		char sslmode[CONFIG_STR_MAX];  /* disable|allow|prefer|require|verify-ca|verify-full */
		int connect_timeout;           /* s, 1..300, 5 */
		int statement_timeout_ms;      /* 100..600000, 5000 */
		char owner_user[CONFIG_STR_MAX];             /* "sembark_owner" */
		char owner_password_file[CONFIG_STR_MAX];    /* credential "db-owner-password" */
		char authd_password_file[CONFIG_STR_MAX];    /* credential "db-authd-password" */
		char telemetryd_password_file[CONFIG_STR_MAX]; /* credential "db-telemetryd-password" */
		char logd_password_file[CONFIG_STR_MAX];     /* credential "db-logd-password" */
	} database;

	struct {
		/* One directory per daemon under /run/sembark, whose group
		 * decides who may connect (see docs/deploy-systemd.md). */
		char authd[CONFIG_STR_MAX];      /* ROUTER of authd, "ipc:///run/sembark/authd/authd.sock" */
		char telemetryd[CONFIG_STR_MAX]; /* ROUTER, ".../telemetryd/telemetryd.sock" */
		char logd[CONFIG_STR_MAX];       /* ROUTER of logd (ping), ".../logd/logd.sock" */
		char log_sink[CONFIG_STR_MAX];   /* PULL of logd (records), ".../logd/log.sock" */
		int max_msg_bytes;               /* ZMQ_MAXMSGSIZE, 4096..67108864, 2097152 */
		int hwm;                         /* ZMQ_SNDHWM/RCVHWM, 10..1000000, 10000 */
	} ipc;
};

/* config_default_path - $SEMBARK_CONFIG, else CONFIG_DEFAULT_PATH */
const char *config_default_path(void);

/*
 * config_load - fill *cfg: defaults, then the file at path (NULL: the
 * default path, which may be missing; an explicit path must exist), then
 * SEMBARK_* environment overrides. On error returns -EINVAL (or -errno for
 * an unreadable file) and writes a one-line message naming the key and
 * what is allowed into err.
 */
int config_load(struct sembark_config *cfg, const char *path, char *err, size_t errlen);

/* config_set - set one key from text, as the file would; for tests */
int config_set(struct sembark_config *cfg, const char *section, const char *key,
	       const char *value, char *err, size_t errlen);

/* config_defaults - fill *cfg with the built-in defaults only */
void config_defaults(struct sembark_config *cfg);

/* config_dump - write every key = value as an INI file (for --check-config -v) */
void config_dump(const struct sembark_config *cfg, FILE *f);

#endif
