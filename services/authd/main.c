/*
 * main.c - sembark-authd start-up and shutdown: config, database role
 * sembark_authd (lazily connected: the daemon starts and answers ping
 * while PostgreSQL is down), the ROUTER on [ipc] authd, dropping root to
 * [auth] user, READY=1, the loop; on SIGTERM it refuses new requests and
 * answers those in flight. Request handling is in ipc.c and the feature
 * files.
 */
#include <stdlib.h>

#include "authd.h"

static int s_run(struct authd *x)
{
	const struct sembark_config *cfg = &x->b.d.cfg;
	int r;

	r = backend_open_db(&x->b.d, BACKEND_ROLE_AUTHD, "db-authd-password",
			    cfg->database.authd_password_file, &x->b.db);
	if (r < 0)
		return r;
	r = backend_serve(&x->b, cfg->ipc.authd, IPC_PEER_AUTHD, authd_handlers, x);
	if (r < 0)
		return r;
	return backend_run(&x->b, cfg->auth.user, NULL, NULL, NULL);
}

int main(int argc, char **argv)
{
	struct authd x = { 0 };
	int r;

	r = daemon_init(&x.b.d, "authd", argc, argv);
	if (r != 0)
		return r > 0 ? EXIT_SUCCESS : EXIT_FAILURE;
	r = s_run(&x);
	backend_done(&x.b);
	return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
