/*
 * test-secret.c - unit tests of shared/secret.c with real files in a
 * temporary directory: contents and newline stripping, the owner-only
 * permission rule (-EPERM), $CREDENTIALS_DIRECTORY precedence (and
 * secret_credential_present, which tells whether it applies) and its
 * exemption from that rule, -ENOENT, -EFBIG at SECRET_MAX + 1 bytes,
 * directories and bad credential names.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "macro.h"
#include "secret.h"

static char s_dir[PATH_MAX / 2];   /* plain files */
static char s_creds[PATH_MAX / 2]; /* a credentials directory */

static void s_path(char *buf, const char *dir, const char *name)
{
	snprintf(buf, PATH_MAX, "%s/%s", dir, name);
}

static void s_write(const char *dir, const char *name, const void *data, size_t len,
		    mode_t mode)
{
	char path[PATH_MAX];
	FILE *f;

	s_path(path, dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
	assert_int_equal(chmod(path, mode), 0);
}

static void s_remove(const char *dir, const char *name)
{
	char path[PATH_MAX];

	s_path(path, dir, name);
	unlink(path);
}

static int group_setup(void **state)
{
	const char *tmp = getenv("TMPDIR");

	tmp = tmp && *tmp ? tmp : P_tmpdir;
	snprintf(s_dir, sizeof(s_dir), "%s/test-secret.XXXXXX", tmp);
	snprintf(s_creds, sizeof(s_creds), "%s/test-secret-creds.XXXXXX", tmp);
	if (!mkdtemp(s_dir) || !mkdtemp(s_creds))
		return -1;
	unsetenv("CREDENTIALS_DIRECTORY");
	return 0;
}

static int group_teardown(void **state)
{
	return rmdir(s_dir) | rmdir(s_creds);
}

static int test_teardown(void **state)
{
	unsetenv("CREDENTIALS_DIRECTORY");
	return 0;
}

struct file_case {
	const char *data;
	size_t len;
	mode_t mode;
	int r;
	const char *want;
	size_t want_len;
};

#define OK(d, m, w) { d, sizeof(d) - 1, m, 0, w, sizeof(w) - 1 }
#define BAD(d, m, e) { d, sizeof(d) - 1, m, e, NULL, 0 }

static const struct file_case s_files[] = {
	OK("hunter2", 0600, "hunter2"),
	OK("hunter2\n", 0600, "hunter2"),
	OK("hunter2\r\n", 0600, "hunter2"),
	OK("hunter2\n\n", 0600, "hunter2\n"),
	OK("hunter2\r", 0600, "hunter2\r"),
	OK("\n", 0600, ""),
	OK("", 0600, ""),
	OK("a\0b\n", 0600, "a\0b"),
	OK(" spaced \n", 0400, " spaced "),
	OK("owner may write", 0200 | 0400, "owner may write"),
	BAD("readable\n", 0644, -EPERM),
	BAD("readable\n", 0640, -EPERM),
	BAD("readable\n", 0604, -EPERM),
	BAD("readable\n", 0444, -EPERM),
};

static void test_files(void **state)
{
	for (size_t i = 0; i < ELEMENTSOF(s_files); i++) {
		const struct file_case *c = &s_files[i];
		_cleanup_(secret_freep) struct secret *s = NULL;
		char path[PATH_MAX];

		s_write(s_dir, "secret", c->data, c->len, c->mode);
		s_path(path, s_dir, "secret");
		assert_int_equal(secret_load("no-such-credential", path, &s), c->r);
		if (c->r < 0) {
			assert_null(s);
		} else {
			assert_int_equal(s->len, c->want_len);
			assert_memory_equal(s->data, c->want, c->want_len);
			assert_int_equal(s->data[s->len], '\0');
		}
		s_remove(s_dir, "secret");
	}
}

static void test_sizes(void **state)
{
	char *big = malloc(SECRET_MAX + 2), path[PATH_MAX];
	struct secret *s = NULL;

	memset(big, 'k', SECRET_MAX + 2);
	s_path(path, s_dir, "big");

	s_write(s_dir, "big", big, SECRET_MAX, 0600);
	assert_int_equal(secret_load(NULL, path, &s), 0);
	assert_int_equal(s->len, SECRET_MAX);
	s = secret_free(s);
	assert_null(s);

	s_write(s_dir, "big", big, SECRET_MAX + 1, 0600);
	assert_int_equal(secret_load(NULL, path, &s), -EFBIG);
	assert_null(s);

	big[SECRET_MAX] = '\n'; /* the limit counts the file, newline included */
	s_write(s_dir, "big", big, SECRET_MAX + 1, 0600);
	assert_int_equal(secret_load(NULL, path, &s), -EFBIG);
	s_remove(s_dir, "big");
	free(big);
}

static void test_missing(void **state)
{
	struct secret *s = NULL;
	char path[PATH_MAX];

	s_path(path, s_dir, "absent");
	assert_int_equal(secret_load("db-password", path, &s), -ENOENT);
	assert_int_equal(secret_load("db-password", "", &s), -ENOENT);
	assert_int_equal(secret_load(NULL, NULL, &s), -ENOENT);
	assert_int_equal(secret_load(NULL, s_dir, &s), -EISDIR);
	assert_null(s);
	assert_null(secret_free(NULL));
}

static void test_credentials_first(void **state)
{
	_cleanup_(secret_freep) struct secret *s = NULL;
	char path[PATH_MAX];

	s_write(s_creds, "db-password", "from-credential\n", 16, 0644); /* mode not checked */
	s_write(s_dir, "pw", "from-file\n", 10, 0600);
	s_path(path, s_dir, "pw");
	setenv("CREDENTIALS_DIRECTORY", s_creds, 1);

	assert_int_equal(secret_load("db-password", path, &s), 0);
	assert_string_equal((char *)s->data, "from-credential");
	s = secret_free(s);

	/* no such credential: the file */
	assert_int_equal(secret_load("csrf-key", path, &s), 0);
	assert_string_equal((char *)s->data, "from-file");
	s = secret_free(s);

	/* the credential alone is enough */
	assert_int_equal(secret_load("db-password", "", &s), 0);
	assert_string_equal((char *)s->data, "from-credential");
	s = secret_free(s);
	assert_true(secret_credential_present("db-password"));
	assert_false(secret_credential_present("csrf-key"));
	assert_false(secret_credential_present("../db-password"));

	/* without CREDENTIALS_DIRECTORY the credential is not looked for */
	unsetenv("CREDENTIALS_DIRECTORY");
	assert_int_equal(secret_load("db-password", path, &s), 0);
	assert_string_equal((char *)s->data, "from-file");
	s = secret_free(s);
	assert_int_equal(secret_load("db-password", "", &s), -ENOENT);
	assert_false(secret_credential_present("db-password"));

	s_remove(s_creds, "db-password");
	s_remove(s_dir, "pw");
}

/* A path inside $CREDENTIALS_DIRECTORY is exempt from the mode rule. */
static void test_path_under_credentials(void **state)
{
	_cleanup_(secret_freep) struct secret *s = NULL;
	char path[PATH_MAX], sneaky[PATH_MAX * 2];

	s_write(s_creds, "tls-key", "key\n", 4, 0644);
	s_path(path, s_creds, "tls-key");
	assert_int_equal(secret_load(NULL, path, &s), -EPERM);
	setenv("CREDENTIALS_DIRECTORY", s_creds, 1);
	assert_int_equal(secret_load(NULL, path, &s), 0);
	assert_string_equal((char *)s->data, "key");
	s = secret_free(s);

	/* "creds/../file" is not inside */
	s_write(s_dir, "open", "x\n", 2, 0644);
	snprintf(sneaky, sizeof(sneaky), "%s/../%s/open", s_creds, strrchr(s_dir, '/') + 1);
	assert_int_equal(secret_load(NULL, sneaky, &s), -EPERM);

	assert_int_equal(secret_load("../x", "", &s), -EINVAL);
	assert_int_equal(secret_load("..", "", &s), -EINVAL);
	assert_null(s);
	s_remove(s_creds, "tls-key");
	s_remove(s_dir, "open");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_files, test_teardown),
		cmocka_unit_test_teardown(test_sizes, test_teardown),
		cmocka_unit_test_teardown(test_missing, test_teardown),
		cmocka_unit_test_teardown(test_credentials_first, test_teardown),
		cmocka_unit_test_teardown(test_path_under_credentials, test_teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
