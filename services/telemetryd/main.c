/*
 * main.c - sembark-telemetryd start-up and shutdown: config, database
 * role sembark_telemetryd (lazily connected), the ROUTER on [ipc]
 * telemetryd, dropping root to [telemetry] user, READY=1, the loop; on
 * SIGTERM it refuses new requests and waits for those in flight.
 * Everything else is in ipc.c and the feature files.
 */
#include <limits.h>
#include <stdlib.h>

#include "telemetryd.h"
#include "backend.h"

static void s_on_stop(void *userdata)
{
	telemetryd_ipc_stop(userdata);
}

static int s_drain(void *userdata)
{
	return (int)MIN(telemetryd_ipc_inflight(userdata), (size_t)INT_MAX);
}

static int s_run(struct telemetryd *t)
{
	const struct sembark_config *cfg = &t->d.cfg;
	int r;

	r = backend_open_db(&t->d, BACKEND_ROLE_TELEMETRYD, "db-telemetryd-password",
			    cfg->database.telemetryd_password_file, &t->db);
	if (r < 0)
		return r;
	r = telemetryd_ipc_open(t);
	if (r < 0)
		return r;
	r = daemon_drop_privileges(&t->d, cfg->telemetry.user);
	if (r < 0)
		return r;
	daemon_on_stop(&t->d, s_on_stop, s_drain, t);
	daemon_ready(&t->d, "serving");
	return daemon_run(&t->d);
}

int main(int argc, char **argv)
{
	struct telemetryd t = { 0 };
	int r;

	r = daemon_init(&t.d, "telemetryd", argc, argv);
	if (r != 0)
		return r > 0 ? EXIT_SUCCESS : EXIT_FAILURE;
	r = s_run(&t);
	telemetryd_ipc_close(&t);
	t.db = db_free(t.db);
	daemon_done(&t.d);
	return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
