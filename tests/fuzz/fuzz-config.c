/*
 * fuzz-config.c - libFuzzer harness for the configuration reader
 * (shared/config.c) through its public entry point, config_load: the
 * file and the SEMBARK_* environment. The input is the file's text, then
 * optionally a line "%env" and environment lines NAME=VALUE, each given
 * the SEMBARK_ prefix (so "AUTH_BCRYPT_COST=12" is SEMBARK_AUTH_BCRYPT_COST).
 * The file lives in a memfd; the environment is swapped in for the call
 * (environ is what config.c reads) and the fuzzer's own restored after.
 *
 * Properties:
 *  - a failure says why in one line of printable text (a file's bytes
 *    are repeated in it only made safe), a success leaves the message empty;
 *  - what loads is written out by config_dump as an INI file that loads
 *    again, without any environment, to the same configuration (unless a
 *    value, from the environment, has a blank at either end, or a ';' first
 *    or after a blank, which INI cannot say: such a dump is not compared);
 * Unknown SEMBARK_* names may be refused or warned about: not checked.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

extern char **environ;

#define ENV_MAX 16
#define ENV_MARK "\n%env\n"

static int s_file_fd = -1, s_dump_fd = -1;
static char s_file_path[64], s_dump_path[64];

static void s_init(void)
{
	if (s_file_fd >= 0)
		return;
	s_file_fd = memfd_create("fuzz-config", 0);
	s_dump_fd = memfd_create("fuzz-config-dump", 0);
	if (s_file_fd < 0 || s_dump_fd < 0)
		abort();
	snprintf(s_file_path, sizeof(s_file_path), "/proc/self/fd/%d", s_file_fd);
	snprintf(s_dump_path, sizeof(s_dump_path), "/proc/self/fd/%d", s_dump_fd);
}

static void s_put(int fd, const void *p, size_t n)
{
	if (ftruncate(fd, 0) < 0 || (n && pwrite(fd, p, n, 0) != (ssize_t)n))
		abort();
}

/* s_load - config_load of path with env as the whole environment */
static int s_load(struct sembark_config *cfg, const char *path, char **env, char *err,
		  size_t size)
{
	char **saved = environ;
	int r;

	environ = env;
	r = config_load(cfg, path, err, size);
	environ = saved;
	return r;
}

static void s_check_message(int r, const char *err)
{
	if (r == 0) {
		if (err[0])
			abort();
		return;
	}
	if (!err[0])
		abort();
	for (const char *p = err; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f) {
			fprintf(stderr, "config_load's message holds byte 0x%02x: %s\n",
				(unsigned char)*p, err);
			abort();
		}
}

/* s_ini_can_say - does every "key = value" line of the dump read back as written? */
static bool s_ini_can_say(const char *text)
{
	const char *line = text, *end;

	for (; *line; line = end ? end + 1 : line + strlen(line)) {
		const char *eq = strstr(line, " = ");
		size_t n;

		end = strchr(line, '\n');
		if (line[0] == '#' || line[0] == '[' || !eq || (end && eq > end))
			continue;
		eq += 3;
		n = end ? (size_t)(end - eq) : strlen(eq);
		if (n && (eq[0] == ' ' || eq[0] == '\t' || eq[0] == ';' || eq[n - 1] == ' ' ||
			  eq[n - 1] == '\t'))
			return false;
		for (size_t i = 1; i < n; i++)
			if (eq[i] == ';' && (eq[i - 1] == ' ' || eq[i - 1] == '\t'))
				return false;
	}
	return true;
}

/* s_check_dump - what loaded, dumped, loads again to the same */
static void s_check_dump(const struct sembark_config *cfg)
{
	static struct sembark_config again, want;
	char *text = NULL, err[512];
	size_t n = 0;
	char *none[1] = { NULL };
	FILE *f = open_memstream(&text, &n);

	if (!f)
		abort();
	config_dump(cfg, f);
	fclose(f);
	if (!s_ini_can_say(text)) {
		free(text);
		return;
	}
	s_put(s_dump_fd, text, n);
	if (s_load(&again, s_dump_path, none, err, sizeof(err)) != 0) {
		fprintf(stderr, "the dump does not load: %s\n%s", err, text);
		abort();
	}
	want = *cfg;
	memcpy(want.path, again.path, sizeof(want.path));
	/* the variables that named no section (warned about, not settings) are no part of a dump */
	want.env_ignored_count = again.env_ignored_count;
	memcpy(want.env_ignored, again.env_ignored, sizeof(want.env_ignored));
	if (memcmp(&want, &again, sizeof(want)) != 0) {
		fprintf(stderr, "the dump loads to something else:\n%s", text);
		abort();
	}
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sembark_config cfg;
	char *text = malloc(size + 1), *mark, *env[ENV_MAX + 1] = { NULL }, err[512];
	size_t file_len = size, n_env = 0;
	int r;

	if (!text)
		return 0;
	s_init();
	memcpy(text, data, size);
	text[size] = '\0';
	mark = memmem(text, size, ENV_MARK, strlen(ENV_MARK));
	if (mark) {
		char *p = mark + strlen(ENV_MARK);

		file_len = (size_t)(mark - text) + 1; /* its newline stays */
		while (p && *p && n_env < ENV_MAX) {
			char *nl = strchr(p, '\n');

			if (nl)
				*nl = '\0';
			if (asprintf(&env[n_env], "SEMBARK_%s", p) < 0)
				abort();
			n_env++;
			p = nl ? nl + 1 : NULL;
		}
	}
	s_put(s_file_fd, data, file_len);
	memset(err, 'x', sizeof(err));
	r = s_load(&cfg, s_file_path, env, err, sizeof(err));
	s_check_message(r, err);
	if (r == 0)
		s_check_dump(&cfg);
	for (size_t i = 0; i < n_env; i++)
		free(env[i]);
	free(text);
	return 0;
}
