/*
 * main.c - sembarkctl, the operator CLI: `sembarkctl [--config PATH]
 * <command> [options]`.
 *
 * Runs in the foreground as the operator, with the schema owner's database
 * credentials; no daemon peers. This file only parses the global options
 * and hands off to one command from the table below (each command in its
 * own file). Errors go to stderr; exit status 0 on success, 1 on failure,
 * 2 on a usage error.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>
#include <zmq.h>

#include "ctl.h"
#include "log.h"

struct ctl_command {
	const char *name;
	const char *args;
	const char *help;
	int (*run)(const struct ctl_context *ctx, int argc, char **argv);
};

static int s_help(const struct ctl_context *ctx, int argc, char **argv);
static int s_version(const struct ctl_context *ctx, int argc, char **argv);
static int s_keygen(const struct ctl_context *ctx, int argc, char **argv);
_printf_(1, 2) static int s_usage_error(const char *fmt, ...);

static const struct ctl_command s_commands[] = {
	{ "setup", "[--admin-user NAME] [--migrations DIR]",
	  "as a PostgreSQL superuser (default postgres), create the owner role and the\n"
	  "      database unless they exist, then migrate", ctl_setup },
	{ "migrate", "[--status] [--migrations DIR]",
	  "apply pending database migrations (--status: list applied and pending)", ctl_migrate },
	{ "retention", "[--now TIMESTAMP] [--dry-run]",
	  "apply every retention rule as of TIMESTAMP (default now)", ctl_retention },
	{ "logs", "[--service S] [--level L] [--since T] [--limit N] [--follow]",
	  "print stored log records, newest last", ctl_logs },
	{ "audit", "--team ID [--limit N]", "print a team's audit trail", ctl_audit },
	{ "status", "", "every daemon's health, version, queue depths (2 s each)", ctl_status },
	{ "keygen", "", "print a new CURVE keypair for tcp:// endpoints ([ipc] curve_*)", s_keygen },
	{ "help", "", "show this help", s_help },
	{ "version", "", "print the version", s_version },
};

static void s_usage(FILE *f)
{
	fprintf(f, "Usage: sembarkctl [--config PATH] <command> [options]\n\nCommands:\n");
	for (size_t i = 0; i < ELEMENTSOF(s_commands); i++)
		fprintf(f, "  %s%s%s\n      %s\n", s_commands[i].name, *s_commands[i].args ? " " : "",
			s_commands[i].args, s_commands[i].help);
	fprintf(f, "\nOptions:\n"
		"  -c, --config PATH  config file (default: $SEMBARK_CONFIG, then %s)\n"
		"  -h, --help         show this help\n"
		"      --version      print the version\n"
		"\nmigrate reads NNNN_name.sql files from --migrations DIR, else\n"
		"$SEMBARK_MIGRATIONS_DIR, else migrations/ of the source tree holding the\n"
		"binary, else /usr/share/sembark/migrations.\n", CONFIG_DEFAULT_PATH);
}

static int s_help(const struct ctl_context *ctx, int argc, char **argv)
{
	s_usage(stdout);
	return CTL_EXIT_OK;
}

static int s_keygen(const struct ctl_context *ctx, int argc, char **argv)
{
	char pub[41], sec[41];

	if (argc > 1)
		return s_usage_error("keygen takes no arguments");
	if (zmq_curve_keypair(pub, sec) < 0) {
		fprintf(stderr, "sembarkctl: cannot make a CURVE keypair (libzmq without CURVE?)\n");
		return CTL_EXIT_FAILURE;
	}
	printf("public = %s\nsecret = %s\n", pub, sec);
	printf("# store the secret alone in a 0600 file or a systemd credential\n"
	       "# (curve-server-key / curve-client-key), never in the config file\n");
	sodium_memzero(sec, sizeof(sec));
	return CTL_EXIT_OK;
}

static int s_version(const struct ctl_context *ctx, int argc, char **argv)
{
	printf("sembarkctl %s\n", SEMBARK_VERSION);
	return CTL_EXIT_OK;
}

_printf_(1, 2) static int s_usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "sembarkctl: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'sembarkctl help'.\n");
	return CTL_EXIT_USAGE;
}

/* Global options; returns -1 to go on to the command, else an exit code. */
static int s_parse_global(int argc, char **argv, struct ctl_context *ctx)
{
	static const struct option options[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{}
	};
	int c;

	while ((c = getopt_long(argc, argv, "+c:h", options, NULL)) >= 0) {
		switch (c) {
		case 'c':
			ctx->config_path = optarg;
			break;
		case 'h':
			return s_help(ctx, 0, NULL);
		case 'V':
			return s_version(ctx, 0, NULL);
		default:
			return s_usage_error("bad option");
		}
	}
	if (optind >= argc) {
		s_usage(stderr);
		return CTL_EXIT_USAGE;
	}
	return -1;
}

int main(int argc, char **argv)
{
	struct ctl_context ctx = { 0 };
	const char *name;
	int r;

	log_open("ctl");
	/* messages are ours, on stderr; no logfmt duplicates from shared/ */
	log_set_level(LOG_LEVEL_ERROR);
	if (sodium_init() < 0) {
		fprintf(stderr, "sembarkctl: libsodium failed to initialise\n");
		return CTL_EXIT_FAILURE;
	}
	r = s_parse_global(argc, argv, &ctx);
	if (r >= 0)
		return r;
	name = argv[optind];
	for (size_t i = 0; i < ELEMENTSOF(s_commands); i++)
		if (strcmp(name, s_commands[i].name) == 0)
			return s_commands[i].run(&ctx, argc - optind, argv + optind);
	return s_usage_error("unknown command '%s'", name);
}
