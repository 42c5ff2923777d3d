/*
 * pgtest.h - a throwaway PostgreSQL for the unit tests that need a real
 * server (test-db, test-pgq): initdb into a fresh temporary directory (as
 * the `postgres` user when run as root), a Unix socket in that directory,
 * no TCP, scram passwords, one superuser PGTEST_SUPER. One server per
 * test binary, started from the group setup and removed in the teardown.
 *
 * The server binaries are found in $PG_BINDIR, else the newest
 * /usr/lib/postgresql/N/bin (Debian). Without them pgtest_start() says
 * so and the tests skip (pgtest_have() is false).
 */
#ifndef SEMBARK_PGTEST_H
#define SEMBARK_PGTEST_H

#include <stdbool.h>

struct sembark_config;

#define PGTEST_SUPER "sembark_test"
#define PGTEST_SUPER_PW "test-pw-9f2c1d"
#define PGTEST_PORT 5432

/*
 * pgtest_start - make and start the server in $TMPDIR (or /tmp)/sembark-<tag>-XXXXXX:
 * 1 running, 0 no server binaries (nothing done), -1 failed (its directory is kept
 * for the logs, and named on stderr)
 */
int pgtest_start(const char *tag);
/* pgtest_stop - stop the server at once and remove its directory; nothing when none */
void pgtest_stop(void);
/* pgtest_have - is the server there (pgtest_start said 1)? */
bool pgtest_have(void);
/* pgtest_ctl - pg_ctl start|stop|restart on the server, waiting; 0 on success */
int pgtest_ctl(const char *action);
/* pgtest_dir - the server's directory, which holds its socket; "" before pgtest_start */
const char *pgtest_dir(void);
/*
 * pgtest_config - *cfg: the built-in defaults, [database] pointing at the
 * server (database postgres, connect_timeout 2 s, statement_timeout 1000 ms)
 */
void pgtest_config(struct sembark_config *cfg);

#endif
