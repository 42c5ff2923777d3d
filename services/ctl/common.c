/*
 * common.c - helpers every sembarkctl command shares (kept out of main.c
 * so that unit tests, which link services/ctl/ without main.o, have them).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "secret.h"

/* s_warn_ignored_env - one line on stderr per SEMBARK_* variable config_load left out */
static void s_warn_ignored_env(const struct sembark_config *cfg)
{
	const struct config_ignored_var *v;

	for (unsigned i = 0; (v = config_env_ignored(cfg, i)); i++)
		fprintf(stderr, "sembarkctl: warning: environment variable %s " CONFIG_ENV_IGNORED_WHY
			"%s%s%s\n", v->name, *v->nearest ? " (did you mean " : "", v->nearest,
			*v->nearest ? "?)" : "");
}

/* ctl_load_config - config_load with a message (or warnings) to stderr; 0 or -errno */
int ctl_load_config(const struct ctl_context *ctx, struct sembark_config *ret)
{
	char err[CTL_ERR_MAX] = "";
	int r;

	r = config_load(ret, ctx->config_path, err, sizeof(err));
	if (r < 0)
		fprintf(stderr, "sembarkctl: config %s: %s\n",
			ctx->config_path ? ctx->config_path : config_default_path(),
			*err ? err : strerror(-r));
	else
		s_warn_ignored_env(ret);
	return r;
}

/*
 * ctl_load_password - a password: credential, else file; *ret stays NULL when neither is
 * configured (path "" and no credential). A configured but unreadable
 * source is an error.
 */
int ctl_load_password(const char *credential, const char *path, struct secret **ret)
{
	int r = secret_load(credential, path, ret);

	if (r == -ENOENT && !*path)
		return 0;
	if (r < 0) {
		fprintf(stderr, "sembarkctl: cannot read the %s (%s): %s\n", credential,
			*path ? path : "credential",
			r == -EPERM ? "readable by group or others, chmod 0600 it" : strerror(-r));
		return r;
	}
	if ((*ret)->len == 0) {
		fprintf(stderr, "sembarkctl: the %s is empty\n", credential);
		*ret = secret_free(*ret);
		return -EINVAL;
	}
	return 0;
}
