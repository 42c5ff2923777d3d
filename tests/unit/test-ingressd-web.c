/*
 * test-ingressd-web.c - sembark-ingressd's browser-client server
 * (web_files.c, web.c, and its place in routes.c). Tables for the pure
 * parts: the request-path decoder, Accept-Encoding, If-None-Match, file
 * names, types and the immutable-cache rule. ingress_web_load() against
 * scratch directories under /tmp: what is taken and what is skipped
 * (dotfiles, bad names, a FIFO, symbolic links that lead out to a sibling
 * "secret" directory), gzip copies, ETags, and every limit (sparse files
 * keep the size limits fast). Then end to end: a real HTTP server on
 * 127.0.0.1 with ingressd's own hooks, the libevent loop on its own
 * thread and no backend at all (no request here may need one): the page,
 * HEAD, gzip, 304, 405, and the paths that must stay a 404 in JSON.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/testlib.h"
#include <event2/event.h>
#include <event2/thread.h>
#include <zlib.h>

#include "config.h"
#include "log.h"
#include "macro.h"
#include "services/ingressd/ingressd.h"

#define HEX "0123456789ab"
#define BIG_JS_URL "/assets/" HEX "/main.js"
#define SECRET "SECRET-CONTENT"
#define IMMUTABLE "public, max-age=31536000, immutable"
#define HTML_TYPE "text/html; charset=utf-8"
#define JS_TYPE "text/javascript; charset=utf-8"
#define JSON_TYPE "application/json; charset=utf-8"

static const char s_index[] = "<!doctype html>\n<title>sembark</title>\n"
			      "<script type=\"module\" src=\"" BIG_JS_URL "\"></script>\n";
static const char s_robots[] = "User-agent: *\nDisallow:\n";
static const char s_small_js[] = "console.log(\"small\");\n";

/* a script large and repetitive enough to be worth a gzip copy */
static char s_big_js[16384];
static size_t s_big_js_len;

static void s_make_big_js(void)
{
	size_t n = 0;

	for (int i = 0; n + 64 < sizeof(s_big_js); i++)
		n += (size_t)snprintf(s_big_js + n, sizeof(s_big_js) - n,
				      "export const value%d = \"value number %d\";\n", i, i);
	s_big_js_len = n;
}

/* ---- ingress_web_path_decode ------------------------------------------------------ */

struct decode_case {
	const char *in;
	const char *out; /* NULL: -EINVAL */
};

static const struct decode_case s_decode[] = {
	{ "/", "/" },
	{ "/login", "/login" },
	{ BIG_JS_URL, BIG_JS_URL },
	{ "/login/", "/login/" },
	{ "/a/", "/a/" },
	{ "/a.b/c..d/e.", "/a.b/c..d/e." },
	{ "/~x/a-b_c", "/~x/a-b_c" },
	{ "/a%20b", "/a b" },
	{ "/%41%62%63", "/Abc" },
	{ "/%7e%7E", "/~~" },
	{ "/caf%C3%A9", "/caf\xc3\xa9" },
	{ "/a%2Fb", "/a/b" },
	{ "/a%25b", "/a%b" },
	{ "/a%252e%252e", "/a%2e%2e" }, /* decoded once, never twice */
	/* not a path */
	{ "", NULL },
	{ "login", NULL },
	{ "%2Flogin", NULL },
	/* dot segments, encoded or not */
	{ "/..", NULL },
	{ "/../etc/passwd", NULL },
	{ "/a/../b", NULL },
	{ "/a/..", NULL },
	{ "/%2e%2e/etc/passwd", NULL },
	{ "/%2E%2E/etc/passwd", NULL },
	{ "/%2e./x", NULL },
	{ "/.%2E/x", NULL },
	{ "/.", NULL },
	{ "/./a", NULL },
	{ "/a/./b", NULL },
	{ "/a/%2e/b", NULL },
	/* hidden names */
	{ "/.hidden", NULL },
	{ "/a/.git/config", NULL },
	{ "/%2ehidden", NULL },
	/* empty segments */
	{ "//", NULL },
	{ "//a", NULL },
	{ "/a//b", NULL },
	{ "/a%2F%2Fb", NULL },
	/* NUL, control bytes, backslash */
	{ "/%00", NULL },
	{ "/a%00.js", NULL },
	{ "/a\x01" "b", NULL },
	{ "/a\tb", NULL },
	{ "/a%09b", NULL },
	{ "/a%0d%0ab", NULL },
	{ "/a%1F", NULL },
	{ "/a\x7f", NULL },
	{ "/a%7F", NULL },
	{ "/a\\b", NULL },
	{ "/a%5cb", NULL },
	{ "/a%5Cb", NULL },
	{ "/assets%5c..%5csecret", NULL },
	/* traversal through encoded slashes */
	{ "/%2F..%2Fsecret", NULL },
	{ "/assets%2F..%2Fsecret", NULL },
	{ "/assets/..%2f..%2fsecret", NULL },
	{ "/assets%2f%2e%2e%2fsecret", NULL },
	/* malformed %XX */
	{ "/%", NULL },
	{ "/%4", NULL },
	{ "/a%1", NULL },
	{ "/a%zz", NULL },
	{ "/a%g1", NULL },
	{ "/a%%41", NULL },
};

static void test_path_decode(void **state)
{
	for (size_t i = 0; i < ELEMENTSOF(s_decode); i++) {
		const struct decode_case *t = &s_decode[i];
		char out[WEB_PATH_MAX + 1];
		int r = ingress_web_path_decode(t->in, out, sizeof(out));

		if (!t->out && r != -EINVAL)
			fail_msg("\"%s\": %d, expected -EINVAL", t->in, r);
		if (t->out && (r != (int)strlen(t->out) || strcmp(out, t->out) != 0))
			fail_msg("\"%s\": %d \"%s\", expected \"%s\"", t->in, r, r >= 0 ? out : "",
				 t->out);
	}
}

/* s_repeat - "/" then n copies of unit into a new string */
static char *s_repeat(const char *unit, size_t n)
{
	size_t u = strlen(unit);
	char *s = malloc(1 + u * n + 1);

	assert_non_null(s);
	s[0] = '/';
	for (size_t i = 0; i < n; i++)
		memcpy(s + 1 + u * i, unit, u);
	s[1 + u * n] = '\0';
	return s;
}

static void test_path_decode_length(void **state)
{
	static const struct {
		const char *unit;
		size_t n;
		int ret; /* decoded length or -EINVAL */
	} cases[] = {
		{ "a", WEB_PATH_MAX - 1, WEB_PATH_MAX },
		{ "a", WEB_PATH_MAX, -EINVAL },
		{ "a", 4 * WEB_PATH_MAX, -EINVAL },
		{ "%61", WEB_PATH_MAX - 1, WEB_PATH_MAX }, /* the decoded length counts */
		{ "%61", WEB_PATH_MAX, -EINVAL },
	};
	char small[8];

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		char out[WEB_PATH_MAX + 1];
		char *in = s_repeat(cases[i].unit, cases[i].n);
		int r = ingress_web_path_decode(in, out, sizeof(out));

		free(in);
		if (r != cases[i].ret)
			fail_msg("%zu x %s: %d, expected %d", cases[i].n, cases[i].unit, r, cases[i].ret);
	}
	/* the output size is respected, NUL included */
	memset(small, 'X', sizeof(small));
	assert_int_equal(ingress_web_path_decode("/ab", small, 4), 3);
	assert_string_equal(small, "/ab");
	memset(small, 'X', sizeof(small));
	assert_int_equal(ingress_web_path_decode("/abc", small, 4), -EINVAL);
	assert_int_equal(ingress_web_path_decode("/%61bc", small, 4), -EINVAL);
	for (size_t i = 4; i < sizeof(small); i++)
		assert_int_equal(small[i], 'X');
	assert_int_equal(ingress_web_path_decode("/", small, 1), -EINVAL);
}

/* ---- ingress_web_accepts_gzip ------------------------------------------------------ */

struct gzip_case {
	const char *ae; /* NULL: no Accept-Encoding */
	bool gzip;
};

static const struct gzip_case s_gzip_cases[] = {
	{ NULL, false },
	{ "", false },
	{ "gzip", true },
	{ "GZIP", true },
	{ "GZip;Q=1", true },
	{ "x-gzip", true },
	{ "x-gzip;q=0", false },
	{ "  gzip  ", true },
	{ ",,gzip,,", true },
	{ "gzip;q=0", false },
	{ "gzip; q=0.000", false },
	{ "gzip ; q=0", false },
	{ "gzip;q=0.", false },
	{ "gzip;q=0.001", true },
	{ "gzip;q=0.5", true },
	{ "gzip;q=1", true },
	{ "gzip;q=1.", true },
	{ "gzip;q=1.0", true },
	{ "gzip;q=1.000", true },
	/* a malformed qvalue refuses */
	{ "gzip;q=1.5", false },
	{ "gzip;q=1.001", false },
	{ "gzip;q=2", false },
	{ "gzip;q=0.0001", false },
	{ "gzip;q=", false },
	{ "gzip;q=abc", false },
	{ "gzip;q=-1", false },
	{ "gzip;q=.5", false },
	/* other parameters are passed over */
	{ "gzip;level=1", true },
	{ "gzip;level=1;q=0", false },
	/* names are whole tokens */
	{ "gzipx", false },
	{ "xgzip", false },
	{ "gz", false },
	{ "deflate", false },
	{ "identity", false },
	/* lists */
	{ "br, gzip", true },
	{ "br;q=1, gzip;q=0.8", true },
	{ "deflate, gzip;q=0", false },
	{ "gzip, gzip;q=0", false }, /* the last one counts */
	/* the wildcard */
	{ "*", true },
	{ "*;q=0", false },
	{ "deflate, *;q=0.5", true },
	{ "identity;q=0, *", true },
	{ "gzip;q=0, *", false }, /* gzip refused by name */
	{ "*, gzip;q=0", false },
	{ "*;q=0, gzip", true },
};

static void test_accepts_gzip(void **state)
{
	for (size_t i = 0; i < ELEMENTSOF(s_gzip_cases); i++) {
		const struct gzip_case *t = &s_gzip_cases[i];

		if (ingress_web_accepts_gzip(t->ae) != t->gzip)
			fail_msg("Accept-Encoding \"%s\": expected %s", t->ae ? t->ae : "(none)",
				 t->gzip ? "gzip" : "identity");
	}
}

/* ---- ingress_web_etag_matches ------------------------------------------------------- */

struct etag_case {
	const char *inm; /* NULL: no If-None-Match */
	bool match;      /* against "abc" (quotes included) */
};

static const struct etag_case s_etag_cases[] = {
	{ NULL, false },
	{ "", false },
	{ "   ", false },
	{ "*", true },
	{ " * ", true },
	{ "\"abc\"", true },
	{ " \"abc\" ", true },
	{ "W/\"abc\"", true }, /* If-None-Match compares weakly */
	{ "\"x\", \"abc\"", true },
	{ "\"x\",\"abc\"", true },
	{ "  \"x\" ,  W/\"abc\"  ", true },
	{ "\"abc\", \"x\"", true },
	{ "\"x\", ", false },
	{ "\"abcd\"", false },
	{ "\"ab\"", false },
	{ "\"ABC\"", false },
	{ "\"\"", false },
	{ "\"x\", \"y\"", false },
	/* malformed */
	{ "abc", false },
	{ "\"abc", false },
	{ "w/\"abc\"", false },
	{ "W/abc", false },
	{ "*, \"abc\"", false },
	{ "**", false },
	{ "\"x\", junk, \"abc\"", false },
};

static void test_etag_matches(void **state)
{
	for (size_t i = 0; i < ELEMENTSOF(s_etag_cases); i++) {
		const struct etag_case *t = &s_etag_cases[i];

		if (ingress_web_etag_matches(t->inm, "\"abc\"") != t->match)
			fail_msg("If-None-Match '%s': expected %s", t->inm ? t->inm : "(none)",
				 t->match ? "a match" : "none");
	}
}

/* ---- names, types, caching ------------------------------------------------------------ */

static void test_type(void **state)
{
	static const struct {
		const char *name, *type;
		bool compress;
	} cases[] = {
		{ "index.html", HTML_TYPE, true },
		{ "main.js", JS_TYPE, true },
		{ "x.min.js", JS_TYPE, true },
		{ "mod.mjs", JS_TYPE, true },
		{ "app.css", "text/css; charset=utf-8", true },
		{ "data.json", JSON_TYPE, true },
		{ "main.js.map", JSON_TYPE, true },
		{ "site.webmanifest", "application/manifest+json; charset=utf-8", true },
		{ "icon.svg", "image/svg+xml", true },
		{ "robots.txt", "text/plain; charset=utf-8", true },
		{ "logo.png", "image/png", false },
		{ "favicon.ico", "image/x-icon", true },
		{ "font.woff2", "font/woff2", false },
		{ "blob.bin", "application/octet-stream", false },
		{ "main.JS", "application/octet-stream", false },
		{ "page.html.gz", "application/octet-stream", false },
		{ "js", "application/octet-stream", false },
		{ "README", "application/octet-stream", false },
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		bool compress = !cases[i].compress;
		const char *type = ingress_web_type(cases[i].name, &compress);

		if (strcmp(type, cases[i].type) != 0 || compress != cases[i].compress)
			fail_msg("%s: %s %d", cases[i].name, type, compress);
	}
}

static void test_name_ok(void **state)
{
	static const struct {
		const char *name;
		bool ok;
	} cases[] = {
		{ "index.html", true },
		{ "a-b_c~d.e", true },
		{ "A9", true },
		{ "x.", true },
		{ "~", true },
		{ "", false },
		{ ".", false },
		{ "..", false },
		{ ".hidden", false },
		{ ".well-known", false },
		{ "a b", false },
		{ "a/b", false },
		{ "a\\b", false },
		{ "a:b", false },
		{ "a%20", false },
		{ "a\nb", false },
		{ "caf\xc3\xa9", false },
		{ "a*", false },
	};
	char name[WEB_NAME_MAX + 2];

	for (size_t i = 0; i < ELEMENTSOF(cases); i++)
		if (ingress_web_name_ok(cases[i].name) != cases[i].ok)
			fail_msg("\"%s\": expected %d", cases[i].name, cases[i].ok);
	memset(name, 'a', WEB_NAME_MAX);
	name[WEB_NAME_MAX] = '\0';
	assert_true(ingress_web_name_ok(name));
	name[WEB_NAME_MAX] = 'a';
	name[WEB_NAME_MAX + 1] = '\0';
	assert_false(ingress_web_name_ok(name));
}

static void test_immutable(void **state)
{
	static const struct {
		const char *url;
		bool immutable;
	} cases[] = {
		{ "/assets/0123abcd/main.js", true },
		{ BIG_JS_URL, true },
		{ "/assets/" HEX "/views/app.js", true },
		{ "/assets/0123abc/main.js", false },  /* 7 digits */
		{ "/assets/0123ABCD/main.js", false }, /* lowercase only */
		{ "/assets/0123abcg/main.js", false },
		{ "/assets/0123abcd/", false },
		{ "/assets/0123abcd", false },
		{ "/assets/main.js", false },
		{ "/assets/", false },
		{ "/assets//0123abcd/main.js", false },
		{ "/x/assets/0123abcd/a.js", false },
		{ "/assets0123abcd/a.js", false },
		{ "/", false },
		{ "", false },
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++)
		if (ingress_web_immutable(cases[i].url) != cases[i].immutable)
			fail_msg("%s: expected %d", cases[i].url, cases[i].immutable);
}

/* ---- scratch directories ------------------------------------------------------------- */

/* top/www is the static_dir; top/secret is beside it, outside */
struct scratch {
	char top[64];
	char www[96];
	char secret[96];
};

static void s_scratch_new(struct scratch *s)
{
	snprintf(s->top, sizeof(s->top), "/tmp/sembark-web-XXXXXX");
	assert_non_null(mkdtemp(s->top));
	snprintf(s->www, sizeof(s->www), "%s/www", s->top);
	snprintf(s->secret, sizeof(s->secret), "%s/secret", s->top);
	assert_int_equal(mkdir(s->www, 0755), 0);
	assert_int_equal(mkdir(s->secret, 0755), 0);
}

/* s_parents - every missing directory on the way to the file path */
static void s_parents(const char *path, size_t from)
{
	char dir[PATH_MAX];

	for (const char *p = strchr(path + from, '/'); p; p = strchr(p + 1, '/')) {
		snprintf(dir, sizeof(dir), "%.*s", (int)(p - path), path);
		if (mkdir(dir, 0755) < 0 && errno != EEXIST)
			fail_msg("mkdir %s: %s", dir, strerror(errno));
	}
}

/* s_open - create dir/rel (and its directories) for writing */
static int s_open(const char *dir, const char *rel, char path[static PATH_MAX])
{
	int fd;

	snprintf(path, PATH_MAX, "%s/%s", dir, rel);
	s_parents(path, strlen(dir) + 1);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	return fd;
}

static void s_write(const char *dir, const char *rel, const void *data, size_t len)
{
	char path[PATH_MAX];
	int fd = s_open(dir, rel, path);

	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

static void s_write_str(const char *dir, const char *rel, const char *s)
{
	s_write(dir, rel, s, strlen(s));
}

/* s_sparse - dir/rel of size bytes, all zero, none of them written */
static void s_sparse(const char *dir, const char *rel, off_t size)
{
	char path[PATH_MAX];
	int fd = s_open(dir, rel, path);

	assert_int_equal(ftruncate(fd, size), 0);
	close(fd);
}

static void s_link(const char *target, const char *dir, const char *rel)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	s_parents(path, strlen(dir) + 1);
	if (symlink(target, path) < 0)
		fail_msg("symlink %s: %s", path, strerror(errno));
}

static void s_mkdirs(const char *dir, const char *rel)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s/", dir, rel);
	s_parents(path, strlen(dir) + 1);
}

/* The URL paths of s_populate's tree that are served, sorted; the page aside. */
static const char *const s_served[] = {
	"/alias.txt",
	"/api/x.txt",
	"/assets/" HEX "/logo.png",
	"/assets/" HEX "/main.js",
	"/assets/main.js",
	"/assets/x.js",
	"/deep/a/b/c.txt",
	"/empty.txt",
	"/gz/255.txt",
	"/gz/256.txt",
	"/gz/noise.txt",
	"/healthz",
	"/lib/logo.png",
	"/lib/main.js",
	"/robots.txt",
	"/sub/index.html",
};

/* s_noise - len bytes that do not compress (xorshift32) */
static void s_noise(uint8_t *out, size_t len)
{
	uint32_t x = 2463534242u;

	for (size_t i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		out[i] = (uint8_t)x;
	}
}

/* s_gzip_bounds - around the gzip rules: 256 bytes at least, 10% saved at least */
static void s_gzip_bounds(const struct scratch *s)
{
	char a[256];
	uint8_t noise[1024];

	memset(a, 'a', sizeof(a));
	s_write(s->www, "gz/255.txt", a, 255);
	s_write(s->www, "gz/256.txt", a, 256);
	s_noise(noise, sizeof(noise));
	s_write(s->www, "gz/noise.txt", noise, sizeof(noise));
}

/* s_populate - the tree most tests use: files, things to skip, links in and out */
static void s_populate(const struct scratch *s)
{
	static const uint8_t png[1024] = { 0x89, 'P', 'N', 'G' };
	char target[PATH_MAX];

	s_write_str(s->www, "index.html", s_index);
	s_write(s->www, "assets/" HEX "/main.js", s_big_js, s_big_js_len);
	s_write(s->www, "assets/" HEX "/logo.png", png, sizeof(png));
	s_write_str(s->www, "assets/main.js", s_small_js);
	s_write_str(s->www, "assets/x.js", s_small_js);
	s_write_str(s->www, "robots.txt", s_robots);
	s_write_str(s->www, "empty.txt", "");
	s_write_str(s->www, "deep/a/b/c.txt", "deep\n");
	s_write_str(s->www, "sub/index.html", "<p>sub</p>\n");
	s_gzip_bounds(s);
	/* loaded, but never answered: paths the API owns */
	s_write_str(s->www, "api/x.txt", "not the API\n");
	s_write_str(s->www, "healthz", "not healthz\n");
	/* skipped: hidden, or names outside [A-Za-z0-9._~-] */
	s_write_str(s->www, ".hidden", "hidden\n");
	s_write_str(s->www, ".git/config", "[core]\n");
	s_write_str(s->www, "bad name.txt", "x\n");
	s_write_str(s->www, "a:b.js", "x\n");
	s_write_str(s->www, "caf\xc3\xa9.txt", "x\n");
	snprintf(target, sizeof(target), "%s/pipe", s->www);
	assert_int_equal(mkfifo(target, 0644), 0);
	/* links: out of the directory (skipped), inside it (followed) */
	s_write_str(s->secret, "passwd", SECRET "\n");
	s_write_str(s->secret, "index.html", SECRET "\n");
	snprintf(target, sizeof(target), "%s/passwd", s->secret);
	s_link(target, s->www, "leak.txt");
	s_link("../secret/passwd", s->www, "leak-rel.txt");
	s_link("../../secret/passwd", s->www, "sub/leak.txt");
	s_link(s->secret, s->www, "leakdir");
	s_link("nowhere.txt", s->www, "dangling.txt");
	s_link("..", s->www, "sub/up"); /* the directory itself: not inside, skipped */
	s_link("robots.txt", s->www, "alias.txt");
	s_link("assets/" HEX, s->www, "lib");
}

/* ---- ingress_web_load: the usual tree ------------------------------------------------- */

struct load_fx {
	struct scratch s;
	struct ingress_web *w;
};

/* s_scratch_loaded - the usual tree in a new scratch directory, loaded; -1 (all undone) if not */
static int s_scratch_loaded(struct scratch *s, struct ingress_web **ret)
{
	s_scratch_new(s);
	s_populate(s);
	if (ingress_web_load(s->www, ret) < 0) {
		test_rmtree(s->top); /* no teardown after a failed setup */
		return -1;
	}
	return 0;
}

static int s_load_setup(void **state)
{
	struct load_fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	if (s_scratch_loaded(&f->s, &f->w) < 0) {
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int s_load_teardown(void **state)
{
	struct load_fx *f = *state;

	f->w = ingress_web_free(f->w);
	assert_int_equal(test_rmtree(f->s.top), 0);
	free(f);
	return 0;
}

/* s_file - the loaded file at url (which must be there) */
static const struct web_file *s_file(const struct ingress_web *w, const char *url)
{
	for (size_t i = 0; i < w->n; i++)
		if (strcmp(w->files[i].path, url) == 0)
			return &w->files[i];
	fail_msg("%s was not loaded", url);
	return NULL;
}

static void test_load_files(void **state)
{
	struct load_fx *f = *state;
	const struct ingress_web *w = f->w;
	size_t total = w->page.len + w->page.gz_len;

	/* exactly these, sorted: nothing skipped was taken, nothing outside */
	assert_int_equal(w->n, ELEMENTSOF(s_served));
	for (size_t i = 0; i < w->n; i++) {
		assert_string_equal(w->files[i].path, s_served[i]);
		assert_null(memmem(w->files[i].data, w->files[i].len, SECRET, strlen(SECRET)));
		total += w->files[i].len + w->files[i].gz_len;
	}
	assert_int_equal(w->total, total); /* files and gzip copies */
	assert_string_equal(w->page.path, "");
	assert_int_equal(w->page.len, strlen(s_index));
	assert_memory_equal(w->page.data, s_index, w->page.len);
	assert_string_equal(w->page.type, HTML_TYPE);
	assert_string_equal(w->page.cache, "no-cache");
	assert_null(w->page.gz); /* under 256 bytes */
	assert_int_equal(s_file(w, "/empty.txt")->len, 0);
	assert_int_equal(s_file(w, "/alias.txt")->len, strlen(s_robots));
	assert_memory_equal(s_file(w, "/alias.txt")->data, s_robots, strlen(s_robots));
	assert_int_equal(s_file(w, "/lib/main.js")->len, s_big_js_len);
	assert_memory_equal(s_file(w, "/lib/main.js")->data, s_big_js, s_big_js_len);
}

static void test_load_types(void **state)
{
	static const struct {
		const char *url, *type, *cache;
		bool gz;
	} cases[] = {
		{ BIG_JS_URL, JS_TYPE, IMMUTABLE, true },
		{ "/assets/" HEX "/logo.png", "image/png", IMMUTABLE, false },
		{ "/assets/main.js", JS_TYPE, "no-cache", false }, /* small */
		{ "/lib/main.js", JS_TYPE, "no-cache", true },     /* not under /assets/<hex>/ */
		{ "/robots.txt", "text/plain; charset=utf-8", "no-cache", false },
		{ "/sub/index.html", HTML_TYPE, "no-cache", false },
		{ "/healthz", "application/octet-stream", "no-cache", false },
	};
	struct load_fx *f = *state;

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		const struct web_file *file = s_file(f->w, cases[i].url);

		if (strcmp(file->type, cases[i].type) != 0 || strcmp(file->cache, cases[i].cache) != 0 ||
		    (file->gz != NULL) != cases[i].gz)
			fail_msg("%s: %s, %s, gzip %d", cases[i].url, file->type, file->cache,
				 file->gz != NULL);
	}
}

/* s_gunzip_equal - gz is one gzip member whose content is want, nothing after it */
static void s_gunzip_equal(const uint8_t *gz, size_t gz_len, const void *want, size_t want_len)
{
	z_stream z = { 0 };
	uint8_t *out = malloc(want_len + 1);
	int r;

	assert_non_null(out);
	assert_int_equal(inflateInit2(&z, 16 + MAX_WBITS), Z_OK);
	z.next_in = (Bytef *)gz;
	z.avail_in = (uInt)gz_len;
	z.next_out = out;
	z.avail_out = (uInt)want_len + 1;
	r = inflate(&z, Z_FINISH);
	inflateEnd(&z);
	assert_int_equal(r, Z_STREAM_END);
	assert_int_equal(z.avail_in, 0);
	assert_int_equal(z.total_out, want_len);
	assert_memory_equal(out, want, want_len);
	free(out);
}

/* s_etag_ok - "\"" 22 base64url characters suffix "\"" */
static void s_etag_ok(const char *etag, const char *suffix)
{
	static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	size_t n = strlen(etag), s = strlen(suffix);

	assert_int_equal(n, 24 + s);
	assert_int_equal(etag[0], '"');
	for (size_t i = 1; i <= 22; i++)
		assert_non_null(strchr(b64url, etag[i]));
	assert_memory_equal(etag + 23, suffix, s);
	assert_int_equal(etag[n - 1], '"');
}

static void test_load_gzip(void **state)
{
	struct load_fx *f = *state;
	const struct web_file *big = s_file(f->w, BIG_JS_URL);

	assert_non_null(big->gz);
	assert_true(big->gz_len <= big->len - big->len / 10);
	s_gunzip_equal(big->gz, big->gz_len, s_big_js, s_big_js_len);
	s_etag_ok(big->etag, "");
	s_etag_ok(big->etag_gz, "-gz");
	assert_memory_equal(big->etag, big->etag_gz, 23); /* the same content */
	/* small, or not worth it, or not compressible: sent as it is */
	assert_null(s_file(f->w, "/assets/main.js")->gz);
	assert_string_equal(s_file(f->w, "/assets/main.js")->etag_gz, "");
	assert_null(s_file(f->w, "/assets/" HEX "/logo.png")->gz);
	assert_null(s_file(f->w, "/empty.txt")->gz);
	assert_null(s_file(f->w, "/gz/255.txt")->gz);
	assert_null(s_file(f->w, "/gz/noise.txt")->gz);
	assert_non_null(s_file(f->w, "/gz/256.txt")->gz);
	s_gunzip_equal(s_file(f->w, "/gz/256.txt")->gz, s_file(f->w, "/gz/256.txt")->gz_len,
		       s_file(f->w, "/gz/256.txt")->data, 256);
}

static void test_load_etags(void **state)
{
	struct load_fx *f = *state;
	struct ingress_web *again = NULL;
	const struct web_file *robots = s_file(f->w, "/robots.txt");

	s_etag_ok(robots->etag, "");
	s_etag_ok(f->w->page.etag, "");
	s_etag_ok(s_file(f->w, "/empty.txt")->etag, "");
	/* same content, same tag; other content, other tag */
	assert_string_equal(s_file(f->w, "/alias.txt")->etag, robots->etag);
	assert_string_equal(s_file(f->w, "/lib/main.js")->etag, s_file(f->w, BIG_JS_URL)->etag);
	assert_string_equal(s_file(f->w, "/assets/x.js")->etag, s_file(f->w, "/assets/main.js")->etag);
	assert_string_not_equal(s_file(f->w, "/assets/main.js")->etag, robots->etag);
	assert_string_not_equal(f->w->page.etag, robots->etag);
	/* stable across loads; a changed file gets a new one */
	s_write_str(f->s.www, "robots.txt", "User-agent: *\nDisallow: /app\n");
	assert_int_equal(ingress_web_load(f->s.www, &again), 0);
	assert_int_equal(again->n, f->w->n);
	assert_string_equal(again->page.etag, f->w->page.etag);
	assert_string_equal(s_file(again, BIG_JS_URL)->etag, s_file(f->w, BIG_JS_URL)->etag);
	assert_string_equal(s_file(again, BIG_JS_URL)->etag_gz, s_file(f->w, BIG_JS_URL)->etag_gz);
	assert_string_not_equal(s_file(again, "/robots.txt")->etag, robots->etag);
	assert_string_not_equal(s_file(again, "/alias.txt")->etag, robots->etag);
	again = ingress_web_free(again);
}

/* ---- ingress_web_find ------------------------------------------------------------------ */

#define PAGE "(page)"

struct find_case {
	const char *path;
	const char *file;  /* the file's URL path, PAGE, or NULL: none */
	const char *route; /* *ret_route when found */
};

static const struct find_case s_find[] = {
	/* the page, for the client's routes only */
	{ "/", PAGE, "/" },
	{ "/login", PAGE, "/login" },
	{ "/app", PAGE, "/app" },
	{ "/app/", PAGE, "/app" },
	{ "/app/x/y", PAGE, "/app" },
	{ "/join/abc", PAGE, "/join/{code}" },
	{ "/join/a%62c", PAGE, "/join/{code}" },
	{ "/join/", NULL, NULL },
	{ "/join", NULL, NULL },
	{ "/join/a/b", NULL, NULL },
	{ "/join/a%2Fb", NULL, NULL },
	{ "/index.html", NULL, NULL },
	{ "/login/", NULL, NULL },
	{ "/Login", NULL, NULL },
	{ "/appx", NULL, NULL },
	{ "/application", NULL, NULL },
	{ "/nope", NULL, NULL },
	/* files at their own path */
	{ BIG_JS_URL, BIG_JS_URL, BIG_JS_URL },
	{ "/assets/main.js", "/assets/main.js", "/assets/main.js" },
	{ "/%72obots.txt", "/robots.txt", "/robots.txt" },
	{ "/alias.txt", "/alias.txt", "/alias.txt" },
	{ "/lib/main.js", "/lib/main.js", "/lib/main.js" },
	{ "/deep/a/b/c.txt", "/deep/a/b/c.txt", "/deep/a/b/c.txt" },
	{ "/sub/index.html", "/sub/index.html", "/sub/index.html" },
	{ "/deep/a/b", NULL, NULL },
	{ "/deep", NULL, NULL },
	{ "/sub/", NULL, NULL },
	{ "/assets", NULL, NULL },
	{ "/assets/", NULL, NULL },
	{ "/assets//main.js", NULL, NULL },
	{ "/assets/" HEX "/../main.js", NULL, NULL },
	{ BIG_JS_URL "/", NULL, NULL },
	{ "/assets/nope.js", NULL, NULL },
	/* skipped when loading */
	{ "/.hidden", NULL, NULL },
	{ "/.git/config", NULL, NULL },
	{ "/bad%20name.txt", NULL, NULL },
	{ "/a:b.js", NULL, NULL },
	{ "/caf%C3%A9.txt", NULL, NULL },
	{ "/pipe", NULL, NULL },
	{ "/leak.txt", NULL, NULL },
	{ "/leak-rel.txt", NULL, NULL },
	{ "/sub/leak.txt", NULL, NULL },
	{ "/leakdir/passwd", NULL, NULL },
	{ "/leakdir/index.html", NULL, NULL },
	{ "/dangling.txt", NULL, NULL },
	{ "/sub/up/robots.txt", NULL, NULL },
	/* what the API owns is never a file, however it is spelt */
	{ "/api/x.txt", NULL, NULL },
	{ "/%61pi/x.txt", NULL, NULL },
	{ "/healthz", NULL, NULL },
	{ "/%68ealthz", NULL, NULL },
};

static void test_find(void **state)
{
	struct load_fx *f = *state;

	for (size_t i = 0; i < ELEMENTSOF(s_find); i++) {
		const struct find_case *t = &s_find[i];
		const char *route = "(unset)";
		const struct web_file *got = ingress_web_find(f->w, t->path, &route);
		const char *name = !got ? "(none)" : got == &f->w->page ? PAGE : got->path;

		if (strcmp(name, t->file ? t->file : "(none)") != 0)
			fail_msg("%s: found %s, expected %s", t->path, name, t->file ? t->file : "(none)");
		if (t->route && strcmp(route, t->route) != 0)
			fail_msg("%s: route %s, expected %s", t->path, route, t->route);
		assert_ptr_equal(ingress_web_find(f->w, t->path, NULL), got);
	}
	assert_null(ingress_web_find(NULL, "/", NULL));
}

static void test_answer(void **state)
{
	enum inm { INM_NONE, INM_PLAIN, INM_GZ, INM_WEAK_GZ, INM_STAR, INM_OTHER };
	static const struct {
		enum inm inm;
		const char *ae;
		int status;
		bool gzip;
	} cases[] = {
		{ INM_NONE, NULL, 200, false },
		{ INM_NONE, "gzip", 200, true },
		{ INM_NONE, "gzip;q=0", 200, false },
		{ INM_PLAIN, NULL, 304, false },
		{ INM_PLAIN, "gzip", 200, true }, /* another representation */
		{ INM_GZ, "gzip", 304, true },
		{ INM_GZ, NULL, 200, false },
		{ INM_WEAK_GZ, "x-gzip", 304, true },
		{ INM_STAR, NULL, 304, false },
		{ INM_OTHER, "gzip", 200, true },
	};
	struct load_fx *f = *state;
	const struct web_file *big = s_file(f->w, BIG_JS_URL);
	char weak[WEB_ETAG_MAX + 2];
	struct web_answer page;

	snprintf(weak, sizeof(weak), "W/%s", big->etag_gz);
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		const char *inm[] = { NULL, big->etag, big->etag_gz, weak, "*", "\"other\"" };
		struct web_answer a;

		ingress_web_answer(big, inm[cases[i].inm], cases[i].ae, &a);
		if (a.status != cases[i].status || a.gzip != cases[i].gzip)
			fail_msg("case %zu: %d gzip %d", i, a.status, a.gzip);
		assert_string_equal(a.etag, a.gzip ? big->etag_gz : big->etag);
		assert_ptr_equal(a.body, a.gzip ? big->gz : big->data);
		assert_int_equal(a.len, a.status == 304 ? 0 : a.gzip ? big->gz_len : big->len);
	}
	/* no gzip copy: always as it is */
	ingress_web_answer(&f->w->page, NULL, "gzip", &page);
	assert_int_equal(page.status, 200);
	assert_false(page.gzip);
	assert_ptr_equal(page.body, f->w->page.data);
	assert_int_equal(page.len, f->w->page.len);
}

/* ---- ingress_web_load: refusals and limits ------------------------------------------------- */

static int s_scratch_setup(void **state)
{
	struct scratch *s = calloc(1, sizeof(*s));

	assert_non_null(s);
	s_scratch_new(s);
	*state = s;
	return 0;
}

static int s_scratch_teardown(void **state)
{
	struct scratch *s = *state;

	assert_int_equal(test_rmtree(s->top), 0);
	free(s);
	return 0;
}

/* s_load_fails - ingress_web_load(dir) returns err and leaves *ret alone */
static void s_load_fails(const char *dir, int err)
{
	struct ingress_web *w = NULL;
	int r = ingress_web_load(dir, &w);

	if (r != err)
		fail_msg("%s: %d, expected %d", dir, r, err);
	assert_null(w);
}

/* s_load_ok - ingress_web_load(dir) succeeds with n files beside the page */
static void s_load_ok(const char *dir, size_t n)
{
	struct ingress_web *w = NULL;

	assert_int_equal(ingress_web_load(dir, &w), 0);
	assert_int_equal(w->n, n);
	ingress_web_free(w);
}

static void test_load_needs_index(void **state)
{
	struct scratch *s = *state;
	char path[PATH_MAX];

	s_load_fails(s->www, -ENOENT); /* empty */
	s_write_str(s->www, "assets/main.js", s_small_js);
	s_write_str(s->www, "sub/index.html", s_index);
	s_write_str(s->www, ".index.html", s_index);
	s_load_fails(s->www, -ENOENT);
	/* a link that leads out is no page either */
	s_write_str(s->secret, "index.html", s_index);
	snprintf(path, sizeof(path), "%s/index.html", s->secret);
	s_link(path, s->www, "index.html");
	s_load_fails(s->www, -ENOENT);
	/* a directory called index.html neither */
	snprintf(path, sizeof(path), "%s/index.html", s->www);
	assert_int_equal(unlink(path), 0);
	s_mkdirs(s->www, "index.html");
	s_load_fails(s->www, -ENOENT);
	assert_int_equal(rmdir(path), 0);
	s_write_str(s->www, "index.html", s_index);
	s_load_ok(s->www, 2);
}

static void test_load_not_a_dir(void **state)
{
	struct scratch *s = *state;
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/nope", s->www);
	s_load_fails(path, -ENOENT);
	s_write_str(s->www, "index.html", s_index);
	snprintf(path, sizeof(path), "%s/index.html", s->www);
	s_load_fails(path, -ENOTDIR);
}

static void test_load_file_max(void **state)
{
	struct scratch *s = *state;

	s_write_str(s->www, "index.html", s_index);
	s_sparse(s->www, "assets/big.bin", WEB_FILE_MAX);
	s_load_ok(s->www, 1);
	s_sparse(s->www, "assets/big.bin", (off_t)WEB_FILE_MAX + 1);
	s_load_fails(s->www, -EFBIG);
	/* the page too */
	s_sparse(s->www, "assets/big.bin", 1);
	s_sparse(s->www, "index.html", (off_t)WEB_FILE_MAX + 1);
	s_load_fails(s->www, -EFBIG);
}

static void test_load_total_max(void **state)
{
	struct scratch *s = *state;
	const size_t files = WEB_TOTAL_MAX / WEB_FILE_MAX;
	char name[32];

	s_write_str(s->www, "index.html", s_index);
	for (size_t i = 0; i < files; i++) {
		snprintf(name, sizeof(name), "blob%zu.bin", i);
		s_sparse(s->www, name, WEB_FILE_MAX - (i == 0 ? (off_t)strlen(s_index) : 0));
	}
	s_load_ok(s->www, files); /* exactly WEB_TOTAL_MAX */
	s_sparse(s->www, "blob0.bin", WEB_FILE_MAX - (off_t)strlen(s_index) + 1);
	s_load_fails(s->www, -EFBIG);
}

static void test_load_files_max(void **state)
{
	struct scratch *s = *state;
	char name[32];

	s_write_str(s->www, "index.html", s_index);
	for (size_t i = 0; i < WEB_FILES_MAX; i++) {
		snprintf(name, sizeof(name), "%s/f%zu.txt", i % 2 ? "more" : "some", i);
		s_write_str(s->www, name, "x");
	}
	s_load_ok(s->www, WEB_FILES_MAX); /* the page does not count */
	s_write_str(s->www, "one-more.txt", "x");
	s_load_fails(s->www, -E2BIG);
}

static void test_load_depth(void **state)
{
	struct scratch *s = *state;
	char rel[256] = "", url[sizeof(rel) + 1];
	struct ingress_web *w = NULL;

	s_write_str(s->www, "index.html", s_index);
	for (int i = 1; i <= WEB_DEPTH_MAX; i++)
		snprintf(rel + strlen(rel), sizeof(rel) - strlen(rel), "d%d/", i);
	strcat(rel, "x.txt");
	s_write_str(s->www, rel, "deep\n");
	assert_int_equal(ingress_web_load(s->www, &w), 0);
	snprintf(url, sizeof(url), "/%s", rel);
	assert_non_null(ingress_web_find(w, url, NULL));
	w = ingress_web_free(w);
	/* one more level, even an empty one */
	*strrchr(rel, '/') = '\0';
	strcat(rel, "/too-deep");
	s_mkdirs(s->www, rel);
	s_load_fails(s->www, -ELOOP);
}

static void test_load_link_loop(void **state)
{
	struct scratch *s = *state;

	s_write_str(s->www, "index.html", s_index);
	s_write_str(s->www, "a/x.txt", "x\n");
	s_link("..", s->www, "a/top");  /* the directory itself: skipped */
	s_link(".", s->www, "loop");    /* the same */
	s_load_ok(s->www, 1);
	s_link(".", s->www, "a/self");  /* inside, endless: stopped by the depth limit */
	s_load_fails(s->www, -ELOOP);
}

/* ---- end to end over HTTP --------------------------------------------------------------- */

struct srv_fx {
	struct scratch s;
	struct ingress_web *w;
	struct event_base *base;
	struct sembark_config cfg;
	struct ingress app;
	struct test_loop_thread loop;
	int port;
};

static void s_server_start(struct srv_fx *f)
{
	const struct http_server_limits lim = {
		.http = { .max_header_bytes = 8192, .max_headers = 32 },
		.max_connections = 16,
		.idle_timeout_ms = 2000,
		.request_timeout_ms = 2000,
	};
	const struct http_server_hooks hooks = {
		.head = ingress_on_head, .request = ingress_on_request, .userdata = &f->app,
	};
	int fd = -1;

	assert_int_equal(ingress_listen_open("127.0.0.1:0", false, &fd), 0);
	f->port = ingress_listen_port(fd);
	assert_true(f->port > 0);
	assert_int_equal(http_server_new(f->base, fd, &lim, &hooks, &f->app.srv), 0);
}

static int s_srv_setup(void **state)
{
	struct srv_fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	if (s_scratch_loaded(&f->s, &f->w) < 0) {
		free(f);
		return -1;
	}
	f->base = event_base_new();
	assert_non_null(f->base);
	config_defaults(&f->cfg);
	/* no backends, no CSRF key: nothing here may need them */
	f->app = (struct ingress){ .cfg = &f->cfg, .web = f->w };
	s_server_start(f);
	assert_int_equal(test_loop_thread_start(&f->loop, f->base), 0);
	*state = f;
	return 0;
}

static void s_stop_in_loop(void *arg)
{
	struct srv_fx *f = arg;

	f->app.srv = http_server_free(f->app.srv);
	test_loop_thread_end(&f->loop);
}

static int s_srv_teardown(void **state)
{
	struct srv_fx *f = *state;

	test_in_loop(f->base, s_stop_in_loop, f);
	test_loop_thread_join(&f->loop);
	event_base_free(f->base);
	f->w = ingress_web_free(f->w);
	assert_int_equal(test_rmtree(f->s.top), 0);
	free(f);
	return 0;
}

/* s_request - method path with extra header lines (each ending in \r\n) on a new connection */
static void s_request(struct srv_fx *f, const char *method, const char *path, const char *extra,
		      struct test_http_resp *r)
{
	char req[2048];

	snprintf(req, sizeof(req), "%s %s HTTP/1.1\r\nHost: t\r\n%s\r\n", method, path,
		 extra ? extra : "");
	test_http_exchange(f->port, req, r);
}

/* s_check_file - a 200 (or 304) for file f as sent to this client */
static void s_check_file(const struct test_http_resp *r, const struct web_file *file, bool gzip)
{
	assert_string_equal(test_http_header(r, "ETag"), gzip ? file->etag_gz : file->etag);
	assert_string_equal(test_http_header(r, "Cache-Control"), file->cache);
	assert_int_equal(test_http_header_count(r, "Cache-Control"), 1);
	if (file->gz)
		assert_string_equal(test_http_header(r, "Vary"), "Accept-Encoding");
	else
		assert_null(test_http_header(r, "Vary"));
	assert_string_equal(test_http_header(r, "X-Content-Type-Options"), "nosniff");
	assert_non_null(strstr(test_http_header(r, "Content-Security-Policy"), "default-src 'self'"));
	if (r->status == 304) {
		assert_null(test_http_header(r, "Content-Length"));
		assert_null(test_http_header(r, "Content-Encoding"));
		return;
	}
	assert_int_equal(r->status, 200);
	assert_string_equal(test_http_header(r, "Content-Type"), file->type);
	assert_int_equal(strtoul(test_http_header(r, "Content-Length"), NULL, 10),
			 gzip ? file->gz_len : file->len);
	if (gzip)
		assert_string_equal(test_http_header(r, "Content-Encoding"), "gzip");
	else
		assert_null(test_http_header(r, "Content-Encoding"));
}

static void test_http_page(void **state)
{
	static const char *const paths[] = { "/", "/login", "/app", "/app/x/y", "/join/abc",
					     "/?next=/app", "/join/abc?x=1" };
	struct srv_fx *f = *state;
	struct test_http_resp r;

	for (size_t i = 0; i < ELEMENTSOF(paths); i++) {
		s_request(f, "GET", paths[i], "Accept-Encoding: gzip\r\n", &r);
		if (r.status != 200)
			fail_msg("%s: %d", paths[i], r.status);
		s_check_file(&r, &f->w->page, false); /* no gzip copy: small */
		assert_string_equal(test_http_header(&r, "Content-Type"), HTML_TYPE);
		assert_string_equal(test_http_header(&r, "Cache-Control"), "no-cache");
		assert_non_null(strstr(test_http_header(&r, "Content-Security-Policy"),
				       "frame-ancestors 'none'"));
		assert_string_equal(test_http_header(&r, "X-Frame-Options"), "DENY");
		assert_int_equal(r.body_len, strlen(s_index));
		assert_memory_equal(r.body, s_index, r.body_len);
	}
}

static void test_http_head(void **state)
{
	struct srv_fx *f = *state;
	const struct web_file *big = s_file(f->w, BIG_JS_URL);
	struct test_http_client *c = malloc(sizeof(*c));
	struct test_http_resp r;

	assert_non_null(c);
	test_http_open(c, f->port);
	test_http_send_str(c, "HEAD / HTTP/1.1\r\nHost: t\r\n\r\n");
	assert_int_equal(test_http_read(c, &r, true), 0);
	s_check_file(&r, &f->w->page, false);
	test_http_send_str(c, "HEAD " BIG_JS_URL " HTTP/1.1\r\nHost: t\r\nAccept-Encoding: gzip\r\n"
			      "Connection: close\r\n\r\n");
	assert_int_equal(test_http_read(c, &r, true), 0);
	s_check_file(&r, big, true);
	test_http_expect_eof(c); /* no body came after either head */
	test_http_close(c);
	free(c);
}

static void test_http_gzip(void **state)
{
	static const struct gzip_case cases[] = {
		{ NULL, false }, { "gzip", true }, { "br, gzip", true }, { "*", true },
		{ "gzip;q=0", false }, { "identity", false }, { "gzip;q=0, *", false },
	};
	struct srv_fx *f = *state;
	const struct web_file *big = s_file(f->w, BIG_JS_URL);
	struct test_http_resp r;
	char extra[128];

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		snprintf(extra, sizeof(extra), "Accept-Encoding: %s\r\n", cases[i].ae);
		s_request(f, "GET", BIG_JS_URL, cases[i].ae ? extra : NULL, &r);
		s_check_file(&r, big, cases[i].gzip);
		assert_string_equal(test_http_header(&r, "Cache-Control"), IMMUTABLE);
		if (cases[i].gzip) {
			s_gunzip_equal((const uint8_t *)r.body, r.body_len, s_big_js, s_big_js_len);
			continue;
		}
		assert_int_equal(r.body_len, s_big_js_len);
		assert_memory_equal(r.body, s_big_js, s_big_js_len);
	}
	/* without a gzip copy: as it is, and no Vary */
	s_request(f, "GET", "/assets/main.js", "Accept-Encoding: gzip\r\n", &r);
	s_check_file(&r, s_file(f->w, "/assets/main.js"), false);
	assert_string_equal(r.body, s_small_js);
	assert_string_equal(test_http_header(&r, "Cache-Control"), "no-cache");
	s_request(f, "GET", "/assets/" HEX "/logo.png", "Accept-Encoding: gzip\r\n", &r);
	s_check_file(&r, s_file(f->w, "/assets/" HEX "/logo.png"), false);
	assert_string_equal(test_http_header(&r, "Content-Type"), "image/png");
}

/* s_send_read - one request on c's connection, its response */
static void s_send_read(struct test_http_client *c, const char *req, struct test_http_resp *r)
{
	test_http_send_str(c, req);
	assert_int_equal(test_http_read(c, r, false), 0);
}

static void test_http_not_modified(void **state)
{
	struct srv_fx *f = *state;
	const struct web_file *big = s_file(f->w, BIG_JS_URL);
	struct test_http_client *c = malloc(sizeof(*c));
	struct test_http_resp r;
	char req[512];

	assert_non_null(c);
	test_http_open(c, f->port); /* one connection: a 304 must carry no body bytes */
	snprintf(req, sizeof(req), "GET / HTTP/1.1\r\nHost: t\r\nIf-None-Match: %s\r\n\r\n",
		 f->w->page.etag);
	s_send_read(c, req, &r);
	assert_int_equal(r.status, 304);
	assert_int_equal(r.body_len, 0);
	s_check_file(&r, &f->w->page, false);
	snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: t\r\nAccept-Encoding: gzip\r\n"
		 "If-None-Match: \"x\", W/%s\r\n\r\n", BIG_JS_URL, big->etag_gz);
	s_send_read(c, req, &r);
	assert_int_equal(r.status, 304);
	s_check_file(&r, big, true);
	s_send_read(c, "GET /robots.txt HTTP/1.1\r\nHost: t\r\nIf-None-Match: *\r\n\r\n", &r);
	assert_int_equal(r.status, 304);
	/* the identity tag does not name the gzip copy */
	snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: t\r\nAccept-Encoding: gzip\r\n"
		 "If-None-Match: %s\r\n\r\n", BIG_JS_URL, big->etag);
	s_send_read(c, req, &r);
	s_check_file(&r, big, true);
	s_gunzip_equal((const uint8_t *)r.body, r.body_len, s_big_js, s_big_js_len);
	s_send_read(c, "GET / HTTP/1.1\r\nHost: t\r\nIf-None-Match: \"other\"\r\n"
		       "Connection: close\r\n\r\n", &r);
	s_check_file(&r, &f->w->page, false);
	assert_string_equal(r.body, s_index);
	test_http_expect_eof(c);
	test_http_close(c);
	free(c);
}

/* s_check_error - a JSON error answer, never the page, never a file */
static void s_check_error(const char *what, const struct test_http_resp *r, int status,
			  const char *code)
{
	char want[64];

	if (r->status != status)
		fail_msg("%s: status %d, expected %d", what, r->status, status);
	snprintf(want, sizeof(want), "{\"error\":\"%s\",\"message\":\"", code);
	if (strncmp(r->body, want, strlen(want)) != 0)
		fail_msg("%s: body %s", what, r->body);
	assert_string_equal(test_http_header(r, "Content-Type"), JSON_TYPE);
	assert_string_equal(test_http_header(r, "Cache-Control"), "no-store");
	assert_null(test_http_header(r, "ETag"));
	assert_null(strchr(r->body, '<'));
	assert_null(strstr(r->body, SECRET));
}

static void test_http_methods(void **state)
{
	static const struct {
		const char *method, *path;
		int status;
	} cases[] = {
		{ "POST", "/", 405 },
		{ "DELETE", "/assets/x.js", 405 },
		{ "PUT", "/login", 405 },
		{ "POST", "/join/abc", 405 },
		{ "PATCH", BIG_JS_URL, 405 },
		{ "OPTIONS", "/app/x", 405 },
		/* no such file: no such resource */
		{ "DELETE", "/assets/nope.js", 404 },
		{ "POST", "/nope", 404 },
		{ "POST", "/index.html", 404 },
		{ "POST", "/api/x", 404 },
	};
	struct srv_fx *f = *state;
	struct test_http_resp r;

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		s_request(f, cases[i].method, cases[i].path, "Content-Length: 0\r\n", &r);
		if (cases[i].status == 404) {
			s_check_error(cases[i].path, &r, 404, "not_found");
			assert_null(test_http_header(&r, "Allow"));
			continue;
		}
		s_check_error(cases[i].path, &r, 405, "method_not_allowed");
		assert_string_equal(test_http_header(&r, "Allow"), "GET, HEAD");
	}
}

static void test_http_not_found(void **state)
{
	static const char *const paths[] = {
		"/index.html", "/nope", "/.hidden", "/.git/config", "/%2e%2e/etc/passwd",
		"/%2E%2E/%2E%2E/etc/passwd", "/../secret/passwd", "/assets/..%2f..%2fsecret",
		"/assets%5c..%5csecret", "/assets/" HEX "/..%2f..%2f..%2fsecret/passwd",
		"/assets/%2e%2e/%2e%2e/secret/passwd", "/a%00b", "/api/x", "/api/nope", "/api",
		"/api/x.txt", "/%61pi/x.txt", "/%68ealthz", "/leak.txt", "/leak-rel.txt",
		"/sub/leak.txt", "/leakdir/passwd", "/dangling.txt", "/pipe", "/join/", "/join/a/b",
		"/login/", "/bad%20name.txt", "/sub/", "/deep", "/assets//main.js",
	};
	struct srv_fx *f = *state;
	struct test_http_resp r;

	for (size_t i = 0; i < ELEMENTSOF(paths); i++) {
		s_request(f, "GET", paths[i], "Accept-Encoding: gzip\r\n", &r);
		s_check_error(paths[i], &r, 404, "not_found");
		s_request(f, "HEAD", paths[i], NULL, &r);
		if (r.status != 404)
			fail_msg("HEAD %s: %d", paths[i], r.status);
	}
}

static void test_http_files(void **state)
{
	static const char *const paths[] = { "/robots.txt", "/alias.txt", "/%72obots.txt",
					     "/deep/a/b/c.txt", "/sub/index.html", "/lib/main.js",
					     "/empty.txt" };
	struct srv_fx *f = *state;
	struct test_http_resp r;

	for (size_t i = 0; i < ELEMENTSOF(paths); i++) {
		const struct web_file *file = ingress_web_find(f->w, paths[i], NULL);

		assert_non_null(file);
		s_request(f, "GET", paths[i], NULL, &r);
		s_check_file(&r, file, false);
		assert_int_equal(r.body_len, file->len);
		assert_memory_equal(r.body, file->data, file->len);
	}
	/* the routes' own paths are not the web table's */
	s_request(f, "GET", "/.well-known/security.txt", NULL, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(test_http_header(&r, "Content-Type"), "text/plain; charset=utf-8");
	assert_null(test_http_header(&r, "ETag"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_path_decode),
		cmocka_unit_test(test_path_decode_length),
		cmocka_unit_test(test_accepts_gzip),
		cmocka_unit_test(test_etag_matches),
		cmocka_unit_test(test_type),
		cmocka_unit_test(test_name_ok),
		cmocka_unit_test(test_immutable),
		cmocka_unit_test_setup_teardown(test_load_files, s_load_setup, s_load_teardown),
		cmocka_unit_test_setup_teardown(test_load_types, s_load_setup, s_load_teardown),
		cmocka_unit_test_setup_teardown(test_load_gzip, s_load_setup, s_load_teardown),
		cmocka_unit_test_setup_teardown(test_load_etags, s_load_setup, s_load_teardown),
		cmocka_unit_test_setup_teardown(test_find, s_load_setup, s_load_teardown),
		cmocka_unit_test_setup_teardown(test_answer, s_load_setup, s_load_teardown),
		cmocka_unit_test_setup_teardown(test_load_needs_index, s_scratch_setup, s_scratch_teardown),
		cmocka_unit_test_setup_teardown(test_load_not_a_dir, s_scratch_setup, s_scratch_teardown),
		cmocka_unit_test_setup_teardown(test_load_file_max, s_scratch_setup, s_scratch_teardown),
		cmocka_unit_test_setup_teardown(test_load_total_max, s_scratch_setup, s_scratch_teardown),
		cmocka_unit_test_setup_teardown(test_load_files_max, s_scratch_setup, s_scratch_teardown),
		cmocka_unit_test_setup_teardown(test_load_depth, s_scratch_setup, s_scratch_teardown),
		cmocka_unit_test_setup_teardown(test_load_link_loop, s_scratch_setup, s_scratch_teardown),
		cmocka_unit_test_setup_teardown(test_http_page, s_srv_setup, s_srv_teardown),
		cmocka_unit_test_setup_teardown(test_http_head, s_srv_setup, s_srv_teardown),
		cmocka_unit_test_setup_teardown(test_http_gzip, s_srv_setup, s_srv_teardown),
		cmocka_unit_test_setup_teardown(test_http_not_modified, s_srv_setup, s_srv_teardown),
		cmocka_unit_test_setup_teardown(test_http_methods, s_srv_setup, s_srv_teardown),
		cmocka_unit_test_setup_teardown(test_http_not_found, s_srv_setup, s_srv_teardown),
		cmocka_unit_test_setup_teardown(test_http_files, s_srv_setup, s_srv_teardown),
	};

	signal(SIGPIPE, SIG_IGN);
	evthread_use_pthreads();
	s_make_big_js();
	log_open("ingressd-test");
	/* loading warns about every file it skips, and these trees skip many on purpose */
	log_set_level(LOG_LEVEL_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
