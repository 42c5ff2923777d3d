/*
 * pgtest.c - a throwaway PostgreSQL for unit tests (see pgtest.h). Not
 * part of any daemon: the Makefile links it into every unit test, so it
 * uses libc and the config module of libsembark.a only.
 */
#include <glob.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "macro.h"
#include "pgtest.h"

static char bindir[512];
static char tmpdir[256];
static bool have_pg;

static int s_sh(const char *fmt, ...) _printf_(1, 2);
static int s_sh(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(cmd))
		return -1;
	return system(cmd);
}

static const char *s_as_pg(void)
{
	return geteuid() == 0 ? "runuser -u postgres -- " : "";
}

static bool s_find_bindir(void)
{
	const char *env = getenv("PG_BINDIR");
	glob_t g;
	bool ok = false;

	if (env && env[0]) {
		snprintf(bindir, sizeof(bindir), "%s", env);
		return true;
	}
	if (glob("/usr/lib/postgresql/*/bin/initdb", 0, NULL, &g) != 0)
		return false;
	if (g.gl_pathc > 0) {
		/* glob sorts: the last one is the newest major version */
		snprintf(bindir, sizeof(bindir), "%s", g.gl_pathv[g.gl_pathc - 1]);
		*strrchr(bindir, '/') = '\0';
		ok = true;
	}
	globfree(&g);
	return ok;
}

static int s_write_pwfile(const char *path)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -1;
	fputs(PGTEST_SUPER_PW "\n", f);
	fclose(f);
	return 0;
}

static int s_chown_pg(const char *path)
{
	struct passwd *pw;

	if (geteuid() != 0)
		return 0;
	pw = getpwnam("postgres");
	return pw ? chown(path, pw->pw_uid, pw->pw_gid) : -1;
}

static int s_initdb(void)
{
	char pwfile[300];

	snprintf(pwfile, sizeof(pwfile), "%s/pwfile", tmpdir);
	if (s_chown_pg(tmpdir) < 0 || s_write_pwfile(pwfile) < 0 || s_chown_pg(pwfile) < 0)
		return -1;
	return s_sh("%s%s/initdb -D %s/data -U " PGTEST_SUPER " --pwfile=%s "
		    "--auth-local=scram-sha-256 --auth-host=reject -E UTF8 --locale=C.UTF-8 "
		    "--no-instructions >%s/initdb.log 2>&1",
		    s_as_pg(), bindir, tmpdir, pwfile, tmpdir);
}

/* pgtest_ctl - pg_ctl action on the server, waiting up to 30 s */
int pgtest_ctl(const char *action)
{
	return s_sh("%s%s/pg_ctl -D %s/data -l %s/pg.log -w -t 30 -s -m fast "
		    "-o \"-k %s -c listen_addresses='' -p %d\" %s",
		    s_as_pg(), bindir, tmpdir, tmpdir, tmpdir, PGTEST_PORT, action);
}

/* pgtest_start - initdb and start a server of its own in a new temporary directory */
int pgtest_start(const char *tag)
{
	const char *base = getenv("TMPDIR");

	if (!s_find_bindir())
		return 0;
	snprintf(tmpdir, sizeof(tmpdir), "%s/sembark-%s-XXXXXX", base && base[0] ? base : "/tmp",
		 tag);
	if (!mkdtemp(tmpdir)) {
		tmpdir[0] = '\0';
		return -1;
	}
	if (s_initdb() != 0 || pgtest_ctl("start") != 0) {
		fprintf(stderr, "%s: could not start PostgreSQL, see %s\n", tag, tmpdir);
		return -1;
	}
	have_pg = true;
	return 1;
}

/* pgtest_stop - stop the server (immediate mode) and remove its directory */
void pgtest_stop(void)
{
	if (tmpdir[0]) {
		(void)s_sh("%s%s/pg_ctl -D %s/data -s -m immediate stop >/dev/null 2>&1", s_as_pg(),
			   bindir, tmpdir);
		(void)s_sh("rm -rf %s", tmpdir);
	}
	tmpdir[0] = '\0';
	have_pg = false;
}

/* pgtest_have - is the server there? */
bool pgtest_have(void)
{
	return have_pg;
}

/* pgtest_dir - the server's directory (its socket is in it) */
const char *pgtest_dir(void)
{
	return tmpdir;
}

/* pgtest_config - defaults, with [database] pointing at the server */
void pgtest_config(struct sembark_config *cfg)
{
	config_defaults(cfg);
	snprintf(cfg->database.host, sizeof(cfg->database.host), "%s", tmpdir);
	snprintf(cfg->database.name, sizeof(cfg->database.name), "postgres");
	snprintf(cfg->database.sslmode, sizeof(cfg->database.sslmode), "disable");
	cfg->database.port = PGTEST_PORT;
	cfg->database.connect_timeout = 2;
	cfg->database.statement_timeout_ms = 1000;
}
