/*
 * migrate_files.c - the migrations directory of sembarkctl: which one to
 * use, and reading its NNNN_name.sql files (name, content, SHA-256).
 *
 * The directory is, in order: --migrations DIR, $SEMBARK_MIGRATIONS_DIR,
 * <directory of the binary>/../../migrations when it exists (the source
 * tree: build/bin/sembarkctl -> migrations/), else the installed
 * /usr/share/sembark/migrations. A packaged build (make PACKAGED=1, which
 * debian/rules uses) skips the source-tree guess: /usr/bin/../../migrations
 * would be /migrations. Hidden files and files not ending in
 * .sql are skipped; a .sql file with any other name is an error, so that a
 * typo never leaves a migration out silently.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctl.h"

#define MIGRATIONS_INSTALLED_DIR "/usr/share/sembark/migrations"
#ifdef SEMBARK_PACKAGED
#define MIGRATIONS_LOOK_NEXT_TO_BINARY false
#else
#define MIGRATIONS_LOOK_NEXT_TO_BINARY true
#endif

static void closedirp(DIR **d)
{
	if (*d)
		closedir(*d);
}

static int s_copy(char *ret, size_t size, const char *s)
{
	if (strlen(s) >= size)
		return -ENAMETOOLONG;
	strcpy(ret, s);
	return 0;
}

/* <dir of /proc/self/exe>/../../migrations, if that is a directory */
static int s_dir_next_to_binary(char *ret, size_t size)
{
	char exe[PATH_MAX], cand[PATH_MAX + 32], real[PATH_MAX];
	struct stat st;
	ssize_t n;

	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n < 0)
		return -errno;
	exe[n] = '\0';
	snprintf(cand, sizeof(cand), "%s/../../migrations", dirname(exe));
	if (stat(cand, &st) < 0 || !S_ISDIR(st.st_mode) || !realpath(cand, real))
		return -ENOENT;
	return s_copy(ret, size, real);
}

/* migrations_dir - --migrations, $SEMBARK_MIGRATIONS_DIR, next to the binary, or installed */
int migrations_dir(const char *option, char *ret, size_t size)
{
	const char *env = getenv("SEMBARK_MIGRATIONS_DIR");

	if (option && *option)
		return s_copy(ret, size, option);
	if (env && *env)
		return s_copy(ret, size, env);
	if (MIGRATIONS_LOOK_NEXT_TO_BINARY && s_dir_next_to_binary(ret, size) == 0)
		return 0;
	return s_copy(ret, size, MIGRATIONS_INSTALLED_DIR);
}

/* Read one regular file of at most MIGRATION_FILE_MAX bytes, no NUL bytes. */
static int s_read_sql(int dirfd, const char *file, struct migration *m)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *buf = NULL;
	struct stat st;
	size_t len = 0;
	ssize_t n;

	fd = openat(dirfd, file, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EISDIR;
	if (st.st_size > MIGRATION_FILE_MAX)
		return -EFBIG;
	buf = malloc((size_t)st.st_size + 1);
	if (!buf)
		return -ENOMEM;
	while (len < (size_t)st.st_size && (n = read(fd, buf + len, (size_t)st.st_size - len)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		len += (size_t)n;
	}
	buf[len] = '\0';
	if (memchr(buf, '\0', len))
		return -EBADMSG;
	migration_checksum(buf, len, m->checksum);
	m->sql_len = len;
	m->sql = TAKE_PTR(buf);
	return 0;
}

static bool s_skipped(const char *name)
{
	size_t len = strlen(name);

	return name[0] == '.' || len < 4 || strcmp(name + len - 4, ".sql") != 0;
}

/* Parse and read one directory entry into m; a message in err on failure. */
static int s_load_entry(DIR *d, const char *dir, const char *file, struct migration *m,
			char *err, size_t errlen)
{
	int r;

	*m = (struct migration){ 0 };
	r = migration_parse_filename(file, &m->version, m->name, sizeof(m->name));
	if (r < 0) {
		snprintf(err, errlen, "%s/%s: bad migration file name, expected NNNN_name.sql "
			 "(0001-9999, name of a-z 0-9 _)", dir, file);
		return -EINVAL;
	}
	/* the name parsed, so it fits */
	memcpy(m->file, file, strnlen(file, sizeof(m->file) - 1));
	r = s_read_sql(dirfd(d), file, m);
	if (r < 0)
		snprintf(err, errlen, "%s/%s: %s", dir, file,
			 r == -EBADMSG ? "contains a NUL byte" :
			 r == -EFBIG   ? "larger than 4 MiB" : strerror(-r));
	return r;
}

/* Grow *v by one entry; capped at MIGRATION_VERSION_MAX entries. */
static int s_grow(struct migration **v, size_t n, size_t *cap)
{
	struct migration *nv;
	size_t ncap;

	if (n < *cap)
		return 0;
	if (n >= MIGRATION_VERSION_MAX)
		return -E2BIG;
	ncap = *cap ? *cap * 2 : 16;
	nv = reallocarray(*v, ncap, sizeof(**v));
	if (!nv)
		return -ENOMEM;
	*v = nv;
	*cap = ncap;
	return 0;
}

static int s_scan(DIR *d, const char *dir, struct migration **v, size_t *n, char *err,
		  size_t errlen)
{
	struct dirent *de;
	size_t cap = 0;
	int r;

	while ((errno = 0, de = readdir(d))) {
		if (s_skipped(de->d_name))
			continue;
		r = s_grow(v, *n, &cap);
		if (r < 0) {
			snprintf(err, errlen, "%s: too many migration files", dir);
			return r;
		}
		r = s_load_entry(d, dir, de->d_name, &(*v)[*n], err, errlen);
		if (r < 0)
			return r;
		(*n)++;
	}
	if (errno != 0) {
		r = -errno;
		snprintf(err, errlen, "%s: cannot list: %s", dir, strerror(-r));
		return r;
	}
	return 0;
}

/* migrations_scan - read every NNNN_name.sql of dir, sorted; others are skipped */
int migrations_scan(const char *dir, struct migration **ret, size_t *ret_n, char *err,
		    size_t errlen)
{
	_cleanup_(closedirp) DIR *d = NULL;
	struct migration *v = NULL;
	size_t n = 0;
	int r;

	d = opendir(dir);
	if (!d) {
		r = -errno;
		snprintf(err, errlen, "cannot open migrations directory %s: %s", dir, strerror(-r));
		return r;
	}
	r = s_scan(d, dir, &v, &n, err, errlen);
	if (r >= 0)
		r = migrations_sort(v, n, err, errlen);
	if (r < 0) {
		migrations_free(v, n);
		return r;
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

/* migrations_free - free what migrations_scan returned; returns NULL */
struct migration *migrations_free(struct migration *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i].sql);
	free(v);
	return NULL;
}
