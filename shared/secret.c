/*
 * secret.c - loading secrets (database passwords, CSRF key, TLS key).
 *
 * A secret comes from the systemd credential $CREDENTIALS_DIRECTORY/<name>
 * when that exists, else from the file named in the config. A file outside
 * the credentials directory must be a regular file readable by its owner
 * only (no group or other read bit): anything else is -EPERM. The bytes
 * land in sodium_malloc'ed memory (guard pages, mlock'ed, wiped on free),
 * never in a stdio buffer; one trailing "\n" or "\r\n" is stripped. An
 * empty file gives an empty secret: callers check the length they need.
 * Never logs (a caller reports the error code with the file's name).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "macro.h"
#include "secret.h"

static void sodium_freep(unsigned char **p)
{
	if (*p)
		sodium_free(*p);
}

static const char *s_creds_dir(void)
{
	const char *d = getenv("CREDENTIALS_DIRECTORY");

	return d && d[0] == '/' ? d : NULL;
}

/* s_under_creds_dir - does path resolve to a file inside $CREDENTIALS_DIRECTORY? */
static bool s_under_creds_dir(const char *path)
{
	const char *dir = s_creds_dir();
	_cleanup_free_ char *rdir = NULL, *rpath = NULL;
	size_t n;

	if (!dir)
		return false;
	rdir = realpath(dir, NULL);
	rpath = realpath(path, NULL);
	if (!rdir || !rpath)
		return false;
	n = strlen(rdir);
	return strncmp(rpath, rdir, n) == 0 && (rpath[n] == '/' || (n == 1 && rdir[0] == '/'));
}

/* s_open - open and check one file; trusted = inside the credentials dir */
static int s_open(const char *path, bool trusted, struct stat *ret_st)
{
	_cleanup_close_ int fd = -1;
	struct stat st;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (S_ISDIR(st.st_mode))
		return -EISDIR;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	if (!trusted && (st.st_mode & (S_IRGRP | S_IROTH)))
		return -EPERM;
	if (st.st_size > SECRET_MAX)
		return -EFBIG;
	*ret_st = st;
	return TAKE_FD(fd);
}

/* s_read_all - read to EOF into buf (size bytes); -EFBIG if it does not fit */
static int s_read_all(int fd, unsigned char *buf, size_t size, size_t *ret_len)
{
	size_t len = 0;

	for (;;) {
		ssize_t k = read(fd, buf + len, size - len);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -errno;
		if (k == 0)
			break;
		len += (size_t)k;
		if (len == size)
			return -EFBIG;
	}
	*ret_len = len;
	return 0;
}

static size_t s_strip_newline(const unsigned char *p, size_t len)
{
	if (len > 0 && p[len - 1] == '\n') {
		len--;
		if (len > 0 && p[len - 1] == '\r')
			len--;
	}
	return len;
}

/* s_read_secret - the whole (checked) file as a struct secret */
static int s_read_secret(int fd, struct secret **ret)
{
	_cleanup_(sodium_freep) unsigned char *tmp = NULL;
	_cleanup_free_ struct secret *s = NULL;
	size_t len = 0;
	int r;

	tmp = sodium_malloc(SECRET_MAX + 1);
	s = calloc(1, sizeof(*s));
	if (!tmp || !s)
		return -ENOMEM;
	r = s_read_all(fd, tmp, SECRET_MAX + 1, &len);
	if (r < 0)
		return r;
	len = s_strip_newline(tmp, len);
	s->data = sodium_malloc(len + 1);
	if (!s->data)
		return -ENOMEM;
	memcpy(s->data, tmp, len);
	s->data[len] = '\0';
	s->len = len;
	*ret = TAKE_PTR(s);
	return 0;
}

static int s_load_path(const char *path, bool trusted, struct secret **ret)
{
	_cleanup_close_ int fd = -1;
	struct stat st;

	fd = s_open(path, trusted || s_under_creds_dir(path), &st);
	if (fd < 0)
		return fd;
	return s_read_secret(fd, ret);
}

/* s_credential_path - $CREDENTIALS_DIRECTORY/<name>; -ENOENT without that directory */
static int s_credential_path(const char *name, char path[static PATH_MAX])
{
	const char *dir = s_creds_dir();

	if (!dir || !name || !name[0])
		return -ENOENT;
	if (strchr(name, '/') || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return -EINVAL;
	if ((size_t)snprintf(path, PATH_MAX, "%s/%s", dir, name) >= PATH_MAX)
		return -ENAMETOOLONG;
	return 0;
}

/* s_load_credential - $CREDENTIALS_DIRECTORY/<name>; -ENOENT if not there */
static int s_load_credential(const char *name, struct secret **ret)
{
	char path[PATH_MAX];
	int r = s_credential_path(name, path);

	if (r < 0)
		return r;
	return s_load_path(path, true, ret);
}

/* secret_credential_present - does $CREDENTIALS_DIRECTORY hold `credential`? */
bool secret_credential_present(const char *credential)
{
	char path[PATH_MAX];

	return s_credential_path(credential, path) == 0 && access(path, F_OK) == 0;
}

/* secret_load - the credential if present, else the file at path */
int secret_load(const char *credential, const char *path, struct secret **ret)
{
	int r;

	if (!ret)
		return -EINVAL;
	if (sodium_init() < 0)
		return -EIO;
	r = s_load_credential(credential, ret);
	if (r != -ENOENT)
		return r;
	if (!path || !path[0])
		return -ENOENT;
	return s_load_path(path, false, ret);
}

/* secret_free - wipe and free; accepts NULL; returns NULL */
struct secret *secret_free(struct secret *s)
{
	if (!s)
		return NULL;
	if (s->data)
		sodium_free(s->data); /* wipes before unmapping */
	sodium_memzero(s, sizeof(*s));
	free(s);
	return NULL;
}
