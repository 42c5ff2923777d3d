/*
 * common.c - helpers every sembarkctl command shares (kept out of main.c
 * so that unit tests, which link services/ctl/ without main.o, have them).
 */
#include <stdio.h>
#include <string.h>

#include "ctl.h"

/* ctl_load_config - config_load with a message to stderr; 0 or -errno */
int ctl_load_config(const struct ctl_context *ctx, struct sembark_config *ret)
{
	char err[CTL_ERR_MAX] = "";
	int r;

	r = config_load(ret, ctx->config_path, err, sizeof(err));
	if (r < 0)
		fprintf(stderr, "sembarkctl: config %s: %s\n",
			ctx->config_path ? ctx->config_path : config_default_path(),
			*err ? err : strerror(-r));
	return r;
}
