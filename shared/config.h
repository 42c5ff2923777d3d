/*
 * config.h - sembark's one configuration file (INI, read with libinih).
 *
 * Sections [ingress] [auth] [telemetry] [logs] [database] [ipc]. Every key
 * has a default, a type and an allowed range, declared once in the schema
 * table in config.c. Order of precedence: defaults < file < environment
 * (SEMBARK_<SECTION>_<KEY>, upper case). An unknown section or key, or a
 * value out of range, is an error naming the key and what is allowed (and
 * the nearest valid key or section, when one is close). A SEMBARK_*
 * variable that names no section is not a setting: ignored, with a
 * warning.
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
#define CONFIG_ENV_IGNORED_MAX 16 /* ignored SEMBARK_* variables kept by name */
#define CONFIG_ENV_NAME_MAX 96   /* a SEMBARK_* name as kept: printable, "..." if cut, NUL */

/*
 * Field comments say what a key means; its type, range and default live
 * in the schema table in config.c. docs/configuration.md is generated
 * from both by scripts/config-reference.py.
 */
struct sembark_config {
	char path[PATH_MAX]; /* file read, "" when none */
	/* SEMBARK_* variables that name no section (SEMBARK_URL, say): not
	 * settings, so ignored; each program warns about each (see config_load) */
	unsigned env_ignored_count; /* how many, even beyond CONFIG_ENV_IGNORED_MAX */
	struct config_ignored_var {
		char name[CONFIG_ENV_NAME_MAX];    /* printable, "..." when cut */
		char nearest[CONFIG_ENV_NAME_MAX]; /* a setting's variable close to it, "" if none */
	} env_ignored[CONFIG_ENV_IGNORED_MAX];

	struct {
		char listen[CONFIG_STR_MAX];           /* address to serve HTTP on, host:port or [v6]:port; unused when systemd passes the socket */
		char public_origin[CONFIG_STR_MAX];    /* scheme://host[:port] browsers use: Origin checks, invite links, cookie names (__Host- and Secure when https) */
		char security_contact[CONFIG_STR_MAX]; /* Contact: of /.well-known/security.txt (empty: that file answers 404) */
		int security_txt_days;    /* days from now for Expires: of security.txt */
		int max_body;             /* largest request body in bytes (else 413) */
		int max_telemetry_body;   /* largest body of POST /api/telemetry/events in bytes */
		int max_header_bytes;     /* largest request line + headers in bytes (else 431) */
		int max_headers;          /* most header lines in one request */
		int max_connections;      /* open client connections; more are refused at accept (plain HTTP: 503 and closed; TLS: closed before the handshake) */
		int max_connections_per_address; /* open connections of one client address (IPv6: per /64); more are refused at accept (plain HTTP: 429; TLS: closed); 0: no cap, for a proxy in front */
		int idle_timeout;         /* seconds a keep-alive connection may wait for its next request */
		int request_timeout;      /* seconds for a whole request to arrive (else 408) */
		int rpc_timeout_ms;       /* milliseconds to wait for authd/telemetryd/logd (else 503) */
		int health_timeout_ms;    /* milliseconds /healthz waits for each daemon's pong */
		int client_rate_limit;    /* sign-up, login, token and invite requests a minute per client address (0: off) */
		bool reuse_port;          /* SO_REUSEPORT, so several ingressd processes share the port */
		char csrf_key_file[CONFIG_STR_MAX];  /* file with the CSRF signing key, >= 32 bytes (credential csrf-key) */
		char tls_cert_file[CONFIG_STR_MAX];  /* PEM certificate chain; empty: plain HTTP behind a TLS proxy */
		char tls_key_file[CONFIG_STR_MAX];   /* PEM private key (credential tls-key) */
		char static_dir[CONFIG_STR_MAX];     /* directory of the browser client (index.html and its files), read into memory at start; empty: no browser client */
		char user[CONFIG_STR_MAX];           /* user to switch to when started as root; empty: stay (systemd's User= is better) */
		char metrics_listen[CONFIG_STR_MAX]; /* admin listener for Prometheus (GET /metrics), host:port, never the public address; keep it on loopback or a private network; empty: off. Instances on one host need one each (a taken address is warned about and skipped) */
	} ingress;

	struct {
		int session_lifetime;     /* seconds a session lives from its creation, whatever its use */
		int session_idle_timeout; /* seconds a session may go unused before it dies (0: off) */
		int session_cache_max;    /* sessions each authd keeps in memory (0: no cache) */
		int session_cache_ttl;    /* seconds a cached session is trusted before asking again */
		int bcrypt_cost;          /* bcrypt work factor (2^cost rounds) */
		char password_hash[CONFIG_STR_MAX]; /* algorithm for new hashes; others are re-hashed at the next login */
		int hash_threads;         /* worker threads that hash passwords */
		char totp_key_file[CONFIG_STR_MAX]; /* key sealing two-factor secrets (credential totp-key); empty: two-factor login off */
		char totp_issuer[CONFIG_STR_MAX]; /* the name authenticator apps show for sembark's codes */
		bool require_verified_email; /* refuse login (403 email_not_verified, a new link mailed) until the email is verified */
		char user[CONFIG_STR_MAX]; /* user to switch to when started as root */
	} auth;

	struct {
		int retention_days;       /* days telemetry events are kept before their partition is dropped */
		int batch_max_events;     /* most events written in one group commit */
		int batch_delay_ms;       /* milliseconds a group commit waits for more requests */
		char user[CONFIG_STR_MAX]; /* user to switch to when started as root */
	} telemetry;

	struct {
		int retention_days;       /* days log records and audit events are kept before their partition is dropped */
		char level[CONFIG_STR_MAX]; /* lowest level every daemon records */
		int buffer_records;       /* records logd holds while PostgreSQL is away (oldest dropped beyond) */
		int flush_ms;             /* milliseconds between logd's batch inserts */
		char user[CONFIG_STR_MAX]; /* user to switch to when started as root */
	} logs;

	struct {
		char host[CONFIG_STR_MAX];     /* PostgreSQL socket directory or host name */
		int port;                      /* PostgreSQL port */
		char name[CONFIG_STR_MAX];     /* database name */
		char sslmode[CONFIG_STR_MAX];  /* libpq sslmode for TCP connections */
		char sslrootcert[CONFIG_STR_MAX]; /* CA certificates (PEM) the server's must chain to with sslmode verify-ca or verify-full; empty: libpq's default */
		int connect_timeout;           /* seconds to wait for a connection */
		int statement_timeout_ms;      /* milliseconds any statement may run */
		char owner_user[CONFIG_STR_MAX];             /* role that owns the schema; used by sembarkctl only */
		char owner_password_file[CONFIG_STR_MAX];    /* its password (credential db-owner-password) */
		char authd_password_file[CONFIG_STR_MAX];    /* password of role sembark_authd (credential db-authd-password) */
		char telemetryd_password_file[CONFIG_STR_MAX]; /* password of role sembark_telemetryd (credential db-telemetryd-password) */
		char logd_password_file[CONFIG_STR_MAX];     /* password of role sembark_logd (credential db-logd-password) */
		char maild_password_file[CONFIG_STR_MAX];    /* password of role sembark_maild (credential db-maild-password) */
	} database;

	struct {
		char relay[CONFIG_STR_MAX];   /* SMTP relay maild hands mail to: smtp://host[:port] (STARTTLS) or smtps://host[:port]; empty: mail stays queued */
		char from[CONFIG_STR_MAX];    /* From: address of sembark's mails */
		bool require_tls;             /* refuse a relay (smtp://) that does not offer STARTTLS */
		char ca_file[CONFIG_STR_MAX]; /* CA certificates (PEM) the relay's certificate must chain to; empty: the system's */
		char username[CONFIG_STR_MAX]; /* SMTP AUTH user; empty: no AUTH */
		char password_file[CONFIG_STR_MAX]; /* SMTP AUTH password (credential mail-password) */
		int max_attempts;             /* tries of one mail before it is given up (with backoff, 30 s doubling to 1 h) */
		char user[CONFIG_STR_MAX];    /* user to switch to when started as root */
	} mail;

	struct {
		/* One directory per daemon under /run/sembark, whose group
		 * decides who may connect (see docs/deploy-systemd.md). */
		char authd[CONFIG_STR_MAX];      /* authd's request socket (ipc://path, or tcp://host:port) */
		char telemetryd[CONFIG_STR_MAX]; /* telemetryd's request socket */
		char logd[CONFIG_STR_MAX];       /* logd's request socket (ping, audit queries) */
		char log_sink[CONFIG_STR_MAX];   /* logd's socket every daemon pushes log records to */
		int max_msg_bytes;               /* largest message a daemon accepts from a peer (ZMQ_MAXMSGSIZE) */
		int hwm;                         /* messages queued per socket before sends fail (ZMQ high-water mark) */
		/* Every tcp:// endpoint uses CURVE; ipc:// and inproc:// do not. */
		char curve_server_public_key[CONFIG_STR_MAX];  /* Z85 public key (40 characters) of the daemons that bind tcp:// endpoints; clients pin it */
		char curve_server_secret_file[CONFIG_STR_MAX]; /* its Z85 secret key (credential curve-server-key); for daemons that bind tcp:// */
		char curve_client_public_key[CONFIG_STR_MAX];  /* Z85 public key (40 characters) this daemon presents when it connects over tcp:// */
		char curve_client_secret_file[CONFIG_STR_MAX]; /* its Z85 secret key (credential curve-client-key) */
		char curve_allowed_clients_file[CONFIG_STR_MAX]; /* Z85 client public keys the tcp:// servers accept, one a line, '#' comments */
	} ipc;
};

/* config_default_path - $SEMBARK_CONFIG, else CONFIG_DEFAULT_PATH */
const char *config_default_path(void);

/* what the warning about an ignored SEMBARK_* variable says after its name */
#define CONFIG_ENV_IGNORED_WHY "names no config section (INGRESS, AUTH, TELEMETRY, LOGS, " \
	"DATABASE, MAIL, IPC), so it is not a setting: ignored"

/* config_env_ignored - the i-th ignored variable (of the first
 * CONFIG_ENV_IGNORED_MAX), NULL past the last */
const struct config_ignored_var *config_env_ignored(const struct sembark_config *cfg, unsigned i);

/*
 * config_load - fill *cfg: defaults, then the file at path (NULL: the
 * default path, which may be missing; an explicit path must exist), then
 * SEMBARK_* environment overrides. On error returns -EINVAL (or -errno for
 * an unreadable file) and writes a one-line message naming the key and
 * what is allowed into err. A SEMBARK_<SECTION>_... variable that is no
 * key of that section is an error ("did you mean ...?"); one that names no
 * section (nor a tool's variable) is left out and listed in
 * cfg->env_ignored for the caller to warn about (CONFIG_ENV_IGNORED_WHY).
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
