/*
 * main.c - sembark-authd start-up and shutdown: config, database role
 * sembark_authd (lazily connected), the ROUTER on [ipc] authd, dropping
 * root to [auth] user, READY=1, the loop; on SIGTERM it refuses new
 * requests and waits for those in flight. Everything else is in ipc.c
 * and the feature files.
 */
#include <limits.h>
#include <stdlib.h>

#include "authd.h"
#include "backend.h"

static void s_on_stop(void *userdata)
{
	authd_ipc_stop(userdata);
}

static int s_drain(void *userdata)
{
	return (int)MIN(authd_ipc_inflight(userdata), (size_t)INT_MAX);
}

static int s_run(struct authd *a)
{
	const struct sembark_config *cfg = &a->d.cfg;
	int r;

	r = backend_open_db(&a->d, BACKEND_ROLE_AUTHD, "db-authd-password",
			    cfg->database.authd_password_file, &a->db);
	if (r < 0)
		return r;
	r = authd_ipc_open(a);
	if (r < 0)
		return r;
	r = daemon_drop_privileges(&a->d, cfg->auth.user);
	if (r < 0)
		return r;
	daemon_on_stop(&a->d, s_on_stop, s_drain, a);
	daemon_ready(&a->d, "serving");
	return daemon_run(&a->d);
}

int main(int argc, char **argv)
{
	struct authd a = { 0 };
	int r;

	r = daemon_init(&a.d, "authd", argc, argv);
	if (r != 0)
		return r > 0 ? EXIT_SUCCESS : EXIT_FAILURE;
	r = s_run(&a);
	authd_ipc_close(&a);
	a.db = db_free(a.db);
	daemon_done(&a.d);
	return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
