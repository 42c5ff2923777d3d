/*
 * web_files.c - sembark-ingressd reads the browser client's files from
 * [ingress] static_dir once, at start, into memory: each with its
 * Content-Type, Cache-Control, a strong ETag and, for compressible types,
 * a gzip copy. Serving (web.c) never touches the disk afterwards.
 *
 * What is taken: regular files and directories whose names are
 * [A-Za-z0-9._~-] and do not start with '.', at most WEB_DEPTH_MAX
 * directories deep. A symbolic link is followed only when its target
 * stays inside the directory; one that leads out, and anything else
 * (devices, sockets, names with other bytes), is skipped with a warning.
 * index.html at the top is the client's page (struct ingress_web.page);
 * every other file answers at its own path. More than WEB_FILES_MAX
 * files, a file over WEB_FILE_MAX bytes or over WEB_TOTAL_MAX bytes in
 * memory in all (files and their gzip copies) stop ingressd at start, as
 * does a missing index.html. Files are opened by their resolved path with
 * O_NOFOLLOW, so a link swapped in after the check is not followed.
 *
 * Runs before privileges are dropped; logs what it skips and why it
 * fails, naming the path (the directory is operator-supplied, not secret).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>
#include <zlib.h>

#include "ingressd.h"
#include "log.h"
#include "macro.h"

#define GZIP_MIN_BYTES 256 /* smaller files are sent as they are */

static const struct {
	const char *ext;
	const char *type;
	bool compress;
} s_types[] = {
	{ ".html", "text/html; charset=utf-8", true },
	{ ".js", "text/javascript; charset=utf-8", true },
	{ ".mjs", "text/javascript; charset=utf-8", true },
	{ ".css", "text/css; charset=utf-8", true },
	{ ".json", "application/json; charset=utf-8", true },
	{ ".map", "application/json; charset=utf-8", true },
	{ ".webmanifest", "application/manifest+json; charset=utf-8", true },
	{ ".svg", "image/svg+xml", true },
	{ ".txt", "text/plain; charset=utf-8", true },
	{ ".png", "image/png", false },
	{ ".ico", "image/x-icon", true },
	{ ".woff2", "font/woff2", false },
};

static const char s_type_other[] = "application/octet-stream";
static const char s_cache_revalidate[] = "no-cache";
static const char s_cache_immutable[] = "public, max-age=31536000, immutable";

/* ingress_web_type - Content-Type for a file name; *ret_compress: worth a gzip copy */
const char *ingress_web_type(const char *name, bool *ret_compress)
{
	size_t n = strlen(name);

	for (size_t i = 0; i < ELEMENTSOF(s_types); i++) {
		size_t e = strlen(s_types[i].ext);

		if (n > e && strcmp(name + n - e, s_types[i].ext) == 0) {
			*ret_compress = s_types[i].compress;
			return s_types[i].type;
		}
	}
	*ret_compress = false;
	return s_type_other;
}

/* ingress_web_name_ok - a file or directory name that is taken: [A-Za-z0-9._~-], no leading '.' */
bool ingress_web_name_ok(const char *name)
{
	if (name[0] == '\0' || name[0] == '.' || strlen(name) > WEB_NAME_MAX)
		return false;
	for (const char *p = name; *p; p++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._~-", *p))
			return false;
	return true;
}

/*
 * ingress_web_immutable - is url under /assets/<hex digest of 8+ digits>/?
 * Such names change whenever their content does (scripts/build-web.sh).
 */
bool ingress_web_immutable(const char *url)
{
	const char *p;
	size_t n;

	if (strncmp(url, "/assets/", 8) != 0)
		return false;
	p = url + 8;
	n = strspn(p, "0123456789abcdef");
	return n >= 8 && p[n] == '/' && p[n + 1] != '\0';
}

/* s_etag - "\"" base64url(first 16 bytes of SHA-256) suffix "\"" */
static void s_etag(const uint8_t *data, size_t len, const char *suffix, char out[static WEB_ETAG_MAX])
{
	uint8_t h[crypto_hash_sha256_BYTES];
	char b64[sodium_base64_ENCODED_LEN(16, sodium_base64_VARIANT_URLSAFE_NO_PADDING)];

	crypto_hash_sha256(h, data, len);
	sodium_bin2base64(b64, sizeof(b64), h, 16, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	snprintf(out, WEB_ETAG_MAX, "\"%s%s\"", b64, suffix);
}

/* s_gzip - data gzip'ed (level 9, no name or time in the header): 0, or -errno */
static int s_gzip(const uint8_t *data, size_t len, uint8_t **ret, size_t *ret_len)
{
	z_stream z = { 0 };
	uLong bound;
	_cleanup_free_ uint8_t *out = NULL;
	int r;

	if (deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) != Z_OK)
		return -ENOMEM;
	bound = deflateBound(&z, (uLong)len) + 32;
	out = malloc(bound);
	if (!out) {
		deflateEnd(&z);
		return -ENOMEM;
	}
	z.next_in = (Bytef *)data;
	z.avail_in = (uInt)len;
	z.next_out = out;
	z.avail_out = (uInt)bound;
	r = deflate(&z, Z_FINISH);
	*ret_len = z.total_out;
	deflateEnd(&z);
	if (r != Z_STREAM_END)
		return -EIO;
	*ret = TAKE_PTR(out);
	return 0;
}

/* s_read_all - the whole file of fd (at most max bytes): 0, -EFBIG or -errno */
static int s_read_all(int fd, size_t max, uint8_t **ret, size_t *ret_len)
{
	struct stat st;
	_cleanup_free_ uint8_t *buf = NULL;
	size_t got = 0;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (st.st_size < 0 || (uint64_t)st.st_size > max)
		return -EFBIG;
	buf = malloc((size_t)st.st_size + 1);
	if (!buf)
		return -ENOMEM;
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO; /* shrank while being read */
		got += (size_t)n;
	}
	*ret_len = got;
	*ret = TAKE_PTR(buf);
	return 0;
}

/* s_fill - a file's answers: type, caching, ETag, gzip copy when worth it */
static int s_fill(struct web_file *f, const char *name)
{
	bool compress;
	int r;

	f->type = ingress_web_type(name, &compress);
	f->cache = ingress_web_immutable(f->path) ? s_cache_immutable : s_cache_revalidate;
	s_etag(f->data, f->len, "", f->etag);
	if (!compress || f->len < GZIP_MIN_BYTES)
		return 0;
	r = s_gzip(f->data, f->len, &f->gz, &f->gz_len);
	if (r < 0)
		return r;
	if (f->gz_len > f->len - f->len / 10) {
		free(f->gz);
		f->gz = NULL;
		f->gz_len = 0;
		return 0;
	}
	s_etag(f->data, f->len, "-gz", f->etag_gz);
	return 0;
}

static void s_file_done(struct web_file *f)
{
	free(f->path);
	free(f->data);
	free(f->gz);
	*f = (struct web_file){ 0 };
}

/* s_slot - room for one more file in the table (the page has its own) */
static struct web_file *s_slot(struct ingress_web *w, bool page)
{
	struct web_file *grown;

	if (page)
		return &w->page;
	if (w->n >= WEB_FILES_MAX)
		return NULL;
	if (w->n == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 32;

		grown = reallocarray(w->files, cap, sizeof(*grown));
		if (!grown)
			return NULL;
		w->files = grown;
		w->cap = cap;
	}
	return &w->files[w->n];
}

/* s_add_file - read the file at fs (no link: resolved already; URL url) into the table */
static int s_add_file(struct ingress_web *w, const char *fs, const char *url, const char *name)
{
	bool page = strcmp(url, "/index.html") == 0;
	struct web_file *f = s_slot(w, page);
	_cleanup_close_ int fd = -1;
	int r;

	if (!f)
		return log_error_errno(-E2BIG, "Too many files in [ingress] static_dir",
				       LOG_I("max", WEB_FILES_MAX));
	fd = open(fs, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
	if (fd < 0)
		return log_error_errno(-errno, "Failed to open a file of [ingress] static_dir",
				       LOG_S("path", fs));
	*f = (struct web_file){ 0 };
	r = s_read_all(fd, MIN((size_t)WEB_FILE_MAX, WEB_TOTAL_MAX - w->total), &f->data, &f->len);
	if (r == -EFBIG)
		return log_error_errno(r, "A file of [ingress] static_dir is too large",
				       LOG_S("path", fs), LOG_I("file_max", WEB_FILE_MAX),
				       LOG_I("total_max", WEB_TOTAL_MAX));
	if (r < 0)
		return log_error_errno(r, "Failed to read a file of [ingress] static_dir",
				       LOG_S("path", fs));
	f->path = strdup(page ? "" : url);
	r = f->path ? s_fill(f, name) : -ENOMEM;
	if (r == 0 && f->len + f->gz_len > WEB_TOTAL_MAX - w->total)
		r = -EFBIG; /* its gzip copy does not fit */
	if (r == -EFBIG) {
		s_file_done(f);
		return log_error_errno(r, "[ingress] static_dir holds too much",
				       LOG_S("path", fs), LOG_I("total_max", WEB_TOTAL_MAX));
	}
	if (r < 0) {
		s_file_done(f);
		return log_error_errno(r, "Failed to prepare a file of [ingress] static_dir",
				       LOG_S("path", fs));
	}
	w->total += f->len + f->gz_len;
	if (!page)
		w->n++;
	return 0;
}

/* s_inside - is the resolved path real under w->root? */
static bool s_inside(const struct ingress_web *w, const char *real)
{
	size_t n = strlen(w->root);

	return strncmp(real, w->root, n) == 0 && real[n] == '/';
}

/*
 * s_stat_entry - what the entry at fs is, and the path to open it by
 * (fs, or a link's target when that stays inside); else skipped.
 */
static int s_stat_entry(const struct ingress_web *w, const char *fs, struct stat *st,
			char real[static PATH_MAX])
{
	if (lstat(fs, st) < 0)
		return -errno;
	if (!S_ISLNK(st->st_mode)) {
		snprintf(real, PATH_MAX, "%s", fs);
		return 0;
	}
	if (!realpath(fs, real)) {
		log_warning("Skipped a link of [ingress] static_dir that leads nowhere",
			    LOG_S("path", fs));
		return -ENOENT;
	}
	if (!s_inside(w, real)) {
		log_warning("Skipped a link that leads out of [ingress] static_dir", LOG_S("path", fs));
		return -EXDEV;
	}
	return lstat(real, st) < 0 ? -errno : 0;
}

static int s_walk(struct ingress_web *w, const char *fs, const char *url, int depth);

/* s_entry - one directory entry: a file, a directory to walk, or skipped */
static int s_entry(struct ingress_web *w, const char *dir_fs, const char *dir_url,
		   const char *name, int depth)
{
	char fs[PATH_MAX], real[PATH_MAX], url[WEB_PATH_MAX + 1];
	struct stat st;
	int n1 = snprintf(fs, sizeof(fs), "%s/%s", dir_fs, name);
	int n2 = snprintf(url, sizeof(url), "%s/%s", dir_url, name);

	if (!ingress_web_name_ok(name) || n1 >= (int)sizeof(fs) || n2 >= (int)sizeof(url)) {
		log_warning("Skipped a file of [ingress] static_dir: its name is not served",
			    LOG_S("path", dir_fs), LOG_S("name", name));
		return 0;
	}
	if (s_stat_entry(w, fs, &st, real) < 0)
		return 0;
	if (S_ISDIR(st.st_mode))
		return s_walk(w, real, url, depth + 1);
	if (S_ISREG(st.st_mode))
		return s_add_file(w, real, url, name);
	log_warning("Skipped a file of [ingress] static_dir: not a regular file", LOG_S("path", fs));
	return 0;
}

static void s_closedirp(DIR **d)
{
	if (*d)
		closedir(*d);
}

/* s_walk - every entry of the directory fs (URL prefix url) */
static int s_walk(struct ingress_web *w, const char *fs, const char *url, int depth)
{
	_cleanup_(s_closedirp) DIR *d = NULL;
	struct dirent *de;
	int r;

	if (depth > WEB_DEPTH_MAX)
		return log_error_errno(-ELOOP, "[ingress] static_dir is nested too deep",
				       LOG_S("path", fs), LOG_I("max", WEB_DEPTH_MAX));
	d = opendir(fs);
	if (!d)
		return log_error_errno(-errno, "Failed to read [ingress] static_dir", LOG_S("path", fs));
	while ((errno = 0, de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		r = s_entry(w, fs, url, de->d_name, depth);
		if (r < 0)
			return r;
	}
	if (errno != 0)
		return log_error_errno(-errno, "Failed to read [ingress] static_dir", LOG_S("path", fs));
	return 0;
}

static int s_cmp_path(const void *a, const void *b)
{
	const struct web_file *x = a, *y = b;

	return strcmp(x->path, y->path);
}

/* ingress_web_load - every file of dir into memory (see above); logs why not */
int ingress_web_load(const char *dir, struct ingress_web **ret)
{
	_cleanup_(ingress_web_freep) struct ingress_web *w = calloc(1, sizeof(*w));
	int r;

	if (!w)
		return log_error_errno(-ENOMEM, "Failed to load [ingress] static_dir");
	if (!realpath(dir, w->root))
		return log_error_errno(-errno, "Failed to open [ingress] static_dir",
				       LOG_S("path", dir));
	r = s_walk(w, w->root, "", 0);
	if (r < 0)
		return r;
	if (!w->page.data)
		return log_error_errno(-ENOENT, "[ingress] static_dir has no index.html",
				       LOG_S("path", dir));
	qsort(w->files, w->n, sizeof(*w->files), s_cmp_path);
	*ret = TAKE_PTR(w);
	return 0;
}

/* ingress_web_free - accepts NULL; returns NULL */
struct ingress_web *ingress_web_free(struct ingress_web *w)
{
	if (!w)
		return NULL;
	for (size_t i = 0; i < w->n; i++)
		s_file_done(&w->files[i]);
	free(w->files);
	s_file_done(&w->page);
	free(w);
	return NULL;
}
