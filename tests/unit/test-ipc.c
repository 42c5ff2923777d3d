/*
 * test-ipc.c - unit tests of ipc/codec.c: every message of messages.def and
 * a test-only message covering every field type (STR, OPT_STR, BLOB, U64,
 * I64, OPT_I64, BOOL, KV) are round-tripped, then attacked frame by frame:
 * truncation at every length, wrong msgpack type for every field, missing,
 * unknown and duplicate fields, bounds, NUL, invalid UTF-8, integer ranges,
 * envelope damage, trailing bytes, oversized frames, declared sizes that
 * would make msgpack-c allocate gigabytes, and type/decoder mismatches.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <msgpack.h>

#include "codec.h"
#include "ipc.h"
#include "macro.h"
#include "util.h"

/* ---- test-only messages ------------------------------------------------ */

#define IPC_FIELDS_test_all(F) \
	F##_STR(s, 8)          \
	F##_OPT_STR(os, 8)     \
	F##_BLOB(b, 16)        \
	F##_U64(u)             \
	F##_I64(i)             \
	F##_OPT_I64(oi)        \
	F##_BOOL(t)            \
	F##_KV(kv, 3, 4, 5)
struct ipc_test_all {
	int _empty_;
	IPC_FIELDS_test_all(IPC_S)
};
IPC_DESC_DEFINE(test_all_desc, test_all, "test.all", _IPC_MSG_INVALID, 0, 0)

#define IPC_FIELDS_test_big(F) F##_BLOB(b, 3u * 1024 * 1024)
struct ipc_test_big {
	int _empty_;
	IPC_FIELDS_test_big(IPC_S)
};
IPC_DESC_DEFINE(test_big_desc, test_big, "test.big", _IPC_MSG_INVALID, 0, 0)

/* every table message, then the test message */
static const struct ipc_desc *desc_at(size_t i)
{
	return i < _IPC_MSG_MAX ? ipc_desc_get((enum ipc_msg_type)i) : test_all_desc();
}
#define N_DESCS ((size_t)_IPC_MSG_MAX + 1)

#define AT(msg, off, T) ((T *)((char *)(msg) + (off)))

/* ---- samples ----------------------------------------------------------- */

/* exactly max bytes of valid UTF-8 mixing 2-byte and 1-byte characters */
static void fill_str(char *dst, size_t max, char tag)
{
	size_t n = 0;

	while (max - n >= 2) {
		memcpy(dst + n, "\xc3\xa9", 2);
		n += 2;
	}
	if (n < max)
		dst[n++] = tag;
	dst[n] = 0;
}

static void fill_kv(const struct ipc_field *f, void *msg)
{
	char *kv = AT(msg, f->off, char);

	for (size_t i = 0; i < f->max; i++) {
		char *e = kv + i * f->kv_size;

		snprintf(e, f->kmax + 1, "%0*zu", (int)f->kmax, i);
		fill_str(e + f->kv_voff, f->vmax, 'v');
	}
	*AT(msg, f->aux, size_t) = f->max;
}

static void fill_field(const struct ipc_field *f, void *msg)
{
	char *p;

	switch (f->type) {
	case IPC_FT_STR:
	case IPC_FT_OPT_STR:
		fill_str(AT(msg, f->off, char), f->max, 's');
		break;
	case IPC_FT_BLOB:
		p = malloc(f->max + 1);
		assert_non_null(p);
		for (size_t i = 0; i < f->max; i++)
			p[i] = (char)(i * 37);
		p[f->max] = 0;
		*AT(msg, f->off, char *) = p;
		*AT(msg, f->aux, size_t) = f->max;
		break;
	case IPC_FT_U64:
		*AT(msg, f->off, uint64_t) = UINT64_MAX;
		break;
	case IPC_FT_I64:
		*AT(msg, f->off, int64_t) = INT64_MIN;
		break;
	case IPC_FT_OPT_I64:
		*AT(msg, f->off, int64_t) = INT64_MAX;
		*AT(msg, f->aux, bool) = true;
		break;
	case IPC_FT_BOOL:
		*AT(msg, f->off, bool) = true;
		break;
	case IPC_FT_KV:
		fill_kv(f, msg);
		break;
	default:
		fail();
	}
}

/* a heap body with every field at its largest valid value */
static void *sample_new(const struct ipc_desc *d)
{
	void *msg = calloc(1, d->size);

	assert_non_null(msg);
	for (size_t i = 0; i < d->nfields; i++)
		fill_field(&d->fields[i], msg);
	return msg;
}

static void sample_free(const struct ipc_desc *d, void *msg)
{
	ipc_codec_free(d, msg);
	free(msg);
}

static void assert_blob_equal(const struct ipc_field *f, const void *a, const void *b)
{
	size_t n = *AT(a, f->aux, const size_t);

	assert_int_equal(n, *AT(b, f->aux, const size_t));
	assert_memory_equal(*AT(a, f->off, char *const), *AT(b, f->off, char *const), n);
	assert_int_equal((*AT(b, f->off, char *const))[n], 0);
}

/* field by field (BLOB by content), then the whole struct without BLOB pointers */
static void assert_body_equal(const struct ipc_desc *d, const void *a, const void *b)
{
	_cleanup_free_ char *ca = malloc(d->size), *cb = malloc(d->size);

	assert_non_null(ca);
	assert_non_null(cb);
	memcpy(ca, a, d->size);
	memcpy(cb, b, d->size);
	for (size_t i = 0; i < d->nfields; i++) {
		const struct ipc_field *f = &d->fields[i];

		if (f->type != IPC_FT_BLOB)
			continue;
		assert_blob_equal(f, a, b);
		*AT(ca, f->off, char *) = NULL;
		*AT(cb, f->off, char *) = NULL;
	}
	assert_memory_equal(ca, cb, d->size);
}

/* ---- hand-made frames -------------------------------------------------- */

enum kind { K_NIL, K_TRUE, K_POS, K_BIGPOS, K_NEG, K_FLOAT, K_STR, K_BIN, K_ARRAY, K_MAP, K_EXT, _K_MAX };

static void pk_str(msgpack_packer *pk, const char *s, size_t n)
{
	msgpack_pack_str(pk, n);
	msgpack_pack_str_body(pk, s, n);
}

static void pk_cstr(msgpack_packer *pk, const char *s)
{
	pk_str(pk, s, strlen(s));
}

static void pk_kind(msgpack_packer *pk, const void *arg)
{
	switch (*(const enum kind *)arg) {
	case K_NIL: msgpack_pack_nil(pk); break;
	case K_TRUE: msgpack_pack_true(pk); break;
	case K_POS: msgpack_pack_uint64(pk, 7); break;
	case K_BIGPOS: msgpack_pack_uint64(pk, UINT64_MAX); break;
	case K_NEG: msgpack_pack_int64(pk, -7); break;
	case K_FLOAT: msgpack_pack_double(pk, 1.5); break;
	case K_STR: pk_cstr(pk, "x"); break;
	case K_BIN: msgpack_pack_bin(pk, 1); msgpack_pack_bin_body(pk, "x", 1); break;
	case K_ARRAY: msgpack_pack_array(pk, 0); break;
	case K_MAP: msgpack_pack_map(pk, 0); break;
	case K_EXT: msgpack_pack_ext(pk, 1, 1); msgpack_pack_ext_body(pk, "x", 1); break;
	default: fail();
	}
}

static bool kind_ok(enum ipc_ftype t, enum kind k)
{
	switch (t) {
	case IPC_FT_STR:
	case IPC_FT_OPT_STR: return k == K_STR;
	case IPC_FT_BLOB: return k == K_BIN;
	case IPC_FT_U64: return k == K_POS || k == K_BIGPOS;
	case IPC_FT_I64:
	case IPC_FT_OPT_I64: return k == K_POS || k == K_NEG;
	case IPC_FT_BOOL: return k == K_TRUE;
	case IPC_FT_KV: return k == K_MAP;
	default: return false;
	}
}

static void pk_valid(msgpack_packer *pk, const struct ipc_field *f)
{
	switch (f->type) {
	case IPC_FT_STR:
	case IPC_FT_OPT_STR: pk_cstr(pk, "a"); break;
	case IPC_FT_BLOB: msgpack_pack_bin(pk, 2); msgpack_pack_bin_body(pk, "\0b", 2); break;
	case IPC_FT_U64: msgpack_pack_uint64(pk, 3); break;
	case IPC_FT_I64:
	case IPC_FT_OPT_I64: msgpack_pack_int64(pk, -3); break;
	case IPC_FT_BOOL: msgpack_pack_false(pk); break;
	case IPC_FT_KV:
		msgpack_pack_map(pk, 1);
		pk_cstr(pk, "k");
		pk_cstr(pk, "v");
		break;
	default: fail();
	}
}

typedef void (*put_fn)(msgpack_packer *pk, const void *arg);

/* how pack_frame bends the body */
struct body_spec {
	int field;      /* field whose value `put` writes, -1: none */
	put_fn put;
	const void *arg;
	int omit;       /* field left out, -1: none */
	int dup;        /* field written twice, -1: none */
	bool unknown;   /* an extra field "zz" */
};
#define BODY_OK ((struct body_spec){ .field = -1, .omit = -1, .dup = -1 })

static void pk_field(msgpack_packer *pk, const struct ipc_desc *d, int i, const struct body_spec *bs)
{
	pk_cstr(pk, d->fields[i].name);
	if (i == bs->field)
		bs->put(pk, bs->arg);
	else
		pk_valid(pk, &d->fields[i]);
}

static void pk_body(msgpack_packer *pk, const struct ipc_desc *d, const struct body_spec *bs)
{
	size_t n = d->nfields - (bs->omit >= 0) + (bs->dup >= 0) + bs->unknown;

	msgpack_pack_map(pk, n);
	for (int i = 0; i < (int)d->nfields; i++) {
		if (i == bs->omit)
			continue;
		pk_field(pk, d, i, bs);
		if (i == bs->dup)
			pk_field(pk, d, i, bs);
	}
	if (bs->unknown) {
		pk_cstr(pk, "zz");
		msgpack_pack_uint64(pk, 1);
	}
}

static void frame_init(msgpack_sbuffer *sb, msgpack_packer *pk)
{
	msgpack_sbuffer_init(sb);
	msgpack_packer_init(pk, sb, msgpack_sbuffer_write);
}

static void pack_frame(msgpack_sbuffer *sb, const struct ipc_desc *d, const struct body_spec *bs)
{
	msgpack_packer pk;

	frame_init(sb, &pk);
	msgpack_pack_map(&pk, 4);
	pk_cstr(&pk, "v");
	msgpack_pack_uint64(&pk, IPC_VERSION);
	pk_cstr(&pk, "type");
	pk_cstr(&pk, d->name);
	pk_cstr(&pk, "id");
	msgpack_pack_uint64(&pk, 77);
	pk_cstr(&pk, "body");
	pk_body(&pk, d, bs);
}

/*
 * Decode buf[0..len) (copied to a heap block of exactly len bytes so ASan
 * sees any over-read) and check the result; on failure, outputs untouched.
 */
static void expect_decode(const struct ipc_desc *d, const void *buf, size_t len, int expected)
{
	_cleanup_free_ char *copy = malloc(len ? len : 1), *ret = malloc(d->size);
	_cleanup_free_ char *pattern = malloc(d->size);
	uint64_t id = 0x5a5a;
	int r;

	assert_non_null(copy);
	assert_non_null(ret);
	assert_non_null(pattern);
	memcpy(copy, buf, len);
	memset(ret, 0xa5, d->size);
	memset(pattern, 0xa5, d->size);
	r = ipc_codec_decode(d, copy, len, &id, ret);
	assert_int_equal(r, expected);
	if (r < 0) {
		assert_memory_equal(ret, pattern, d->size);
		assert_int_equal(id, 0x5a5a);
	} else {
		ipc_codec_free(d, ret);
	}
}

static void expect_spec(const struct ipc_desc *d, const struct body_spec *bs, int expected)
{
	msgpack_sbuffer sb;

	pack_frame(&sb, d, bs);
	expect_decode(d, sb.data, sb.size, expected);
	msgpack_sbuffer_destroy(&sb);
}

/* ---- round trips ------------------------------------------------------- */

static void roundtrip_desc(const struct ipc_desc *d)
{
	void *a = sample_new(d), *b = calloc(1, d->size);
	struct ipc_buf buf;
	enum ipc_msg_type t;
	uint64_t id = 0, pid = 0;

	assert_non_null(b);
	ipc_buf_init(&buf);
	assert_int_equal(ipc_codec_encode(d, &buf, 1234567, a), 0);
	assert_int_equal(ipc_codec_decode(d, buf.data, buf.size, &id, b), 0);
	assert_int_equal(id, 1234567);
	assert_body_equal(d, a, b);
	if (d->type != _IPC_MSG_INVALID) {
		assert_int_equal(ipc_peek(buf.data, buf.size, &t, &pid), 0);
		assert_int_equal(t, d->type);
		assert_int_equal(pid, 1234567);
	}
	ipc_buf_done(&buf);
	sample_free(d, a);
	sample_free(d, b);
}

static void test_roundtrip_generic(void **state)
{
	for (size_t i = 0; i < N_DESCS; i++)
		roundtrip_desc(desc_at(i));
}

/* one function per table message, through the generated wrappers */
#define MSG(e, wname, fields, from, to)                                                     \
	static void rt_##fields(void)                                                       \
	{                                                                                   \
		const struct ipc_desc *d = ipc_desc_get(IPC_MSG_##e);                       \
		struct ipc_##fields *a = sample_new(d), *b = calloc(1, sizeof(*b));         \
		struct ipc_buf buf;                                                         \
		uint64_t id = 0;                                                            \
		assert_non_null(b);                                                         \
		ipc_buf_init(&buf);                                                         \
		assert_int_equal(ipc_encode_##fields(&buf, UINT64_MAX, a), 0);              \
		assert_int_equal(ipc_decode_##fields(buf.data, buf.size, &id, b), 0);       \
		assert_true(id == UINT64_MAX);                                              \
		assert_body_equal(d, a, b);                                                 \
		ipc_free_##fields(a);                                                       \
		ipc_free_##fields(b);                                                       \
		free(a);                                                                    \
		free(b);                                                                    \
		ipc_buf_done(&buf);                                                         \
	}
#include "messages.def"
#undef MSG

static void (*const roundtrips[])(void) = {
#define MSG(e, wname, fields, from, to) rt_##fields,
#include "messages.def"
#undef MSG
};

static void test_roundtrip_wrappers(void **state)
{
	for (size_t i = 0; i < ELEMENTSOF(roundtrips); i++)
		roundtrips[i]();
}

static void test_roundtrip_minimal(void **state)
{
	struct ipc_test_all a = { .s = "", .u = 0, .i = 0 }, b;
	struct ipc_buf buf;
	uint64_t id;

	ipc_buf_init(&buf);
	assert_int_equal(ipc_codec_encode(test_all_desc(), &buf, 0, &a), 0);
	assert_int_equal(ipc_codec_decode(test_all_desc(), buf.data, buf.size, &id, &b), 0);
	assert_int_equal(id, 0);
	assert_string_equal(b.os, "");
	assert_false(b.has_oi);
	assert_int_equal(b.kv_n, 0);
	assert_int_equal(b.b_len, 0);
	assert_non_null(b.b);
	assert_int_equal(b.b[0], 0);
	ipc_codec_free(test_all_desc(), &b);
	assert_null(b.b);
	ipc_buf_done(&buf);
}

/* optional fields may be absent, and are left out by the encoder when unset */
static void test_optional_absent(void **state)
{
	const struct ipc_desc *d = test_all_desc();

	for (int i = 0; i < (int)d->nfields; i++) {
		struct body_spec bs = BODY_OK;
		bool opt = d->fields[i].type == IPC_FT_OPT_STR || d->fields[i].type == IPC_FT_OPT_I64;

		bs.omit = i;
		expect_spec(d, &bs, opt ? 0 : -EBADMSG);
	}
}

/* ---- attacks ----------------------------------------------------------- */

#define TRUNCATE_EDGE 2048   /* every length this close to either end */
#define TRUNCATE_SAMPLES 256 /* and this many evenly spaced in between */

/* s_next_cut - the next truncation length to try after len */
static size_t s_next_cut(size_t len, size_t size)
{
	size_t step = MAX(size / TRUNCATE_SAMPLES, (size_t)1);

	if (len < TRUNCATE_EDGE || len + TRUNCATE_EDGE >= size)
		return len + 1;
	return MIN(len + step, size - TRUNCATE_EDGE);
}

/* every cut of a frame is refused: all lengths for small frames; for big
 * ones (BLOBs at their bound) the ends and a sample, so the test stays
 * linear in the frame size */
static void truncate_desc(const struct ipc_desc *d)
{
	void *a = sample_new(d);
	struct ipc_buf buf;

	ipc_buf_init(&buf);
	assert_int_equal(ipc_codec_encode(d, &buf, 99, a), 0);
	for (size_t len = 0; len < buf.size; len = s_next_cut(len, buf.size)) {
		_cleanup_free_ char *copy = malloc(len ? len : 1);

		assert_non_null(copy);
		memcpy(copy, buf.data, len);
		expect_decode(d, copy, len, -EBADMSG);
		assert_int_equal(ipc_peek(copy, len, NULL, NULL), -EBADMSG);
	}
	expect_decode(d, buf.data, buf.size, 0);
	ipc_buf_done(&buf);
	sample_free(d, a);
}

static void test_truncated(void **state)
{
	for (size_t i = 0; i < N_DESCS; i++)
		truncate_desc(desc_at(i));
}

static void test_wrong_types(void **state)
{
	for (size_t di = 0; di < N_DESCS; di++) {
		const struct ipc_desc *d = desc_at(di);

		for (int f = 0; f < (int)d->nfields; f++) {
			for (enum kind k = 0; k < _K_MAX; k++) {
				struct body_spec bs = BODY_OK;

				bs.field = f;
				bs.put = pk_kind;
				bs.arg = &k;
				expect_spec(d, &bs, kind_ok(d->fields[f].type, k) ? 0 : -EBADMSG);
			}
		}
	}
}

static void test_missing_unknown_duplicate(void **state)
{
	for (size_t di = 0; di < N_DESCS; di++) {
		const struct ipc_desc *d = desc_at(di);
		struct body_spec bs = BODY_OK;

		expect_spec(d, &bs, 0);
		bs.unknown = true;
		expect_spec(d, &bs, -EBADMSG);
		for (int f = 0; f < (int)d->nfields; f++) {
			bool opt = d->fields[f].type == IPC_FT_OPT_STR ||
				   d->fields[f].type == IPC_FT_OPT_I64;

			bs = BODY_OK;
			bs.omit = f;
			expect_spec(d, &bs, opt ? 0 : -EBADMSG);
			bs = BODY_OK;
			bs.dup = f;
			expect_spec(d, &bs, -EBADMSG);
			/* duplicate with the count unchanged: the seen[] check, not the size check */
			bs.omit = (f + 1) % (int)d->nfields;
			if (bs.omit != f)
				expect_spec(d, &bs, -EBADMSG);
		}
	}
}

struct raw {
	const char *s;
	size_t n;
};

static void pk_raw_str(msgpack_packer *pk, const void *arg)
{
	const struct raw *r = arg;

	pk_str(pk, r->s, r->n);
}

static void pk_raw_bin(msgpack_packer *pk, const void *arg)
{
	const struct raw *r = arg;

	msgpack_pack_bin(pk, r->n);
	msgpack_pack_bin_body(pk, r->s, r->n);
}

static const struct {
	const char *s;
	size_t n;
	bool valid;
} utf8_cases[] = {
	{ "", 0, true },
	{ "plain", 5, true },
	{ "\xc3\xa9", 2, true },          /* é */
	{ "\xe2\x82\xac", 3, true },      /* € */
	{ "\xf0\x9d\x84\x9e", 4, true },  /* U+1D11E */
	{ "\xf4\x8f\xbf\xbf", 4, true },  /* U+10FFFF */
	{ "\xed\x9f\xbf", 3, true },      /* U+D7FF */
	{ "a\0b", 3, false },             /* NUL */
	{ "\0", 1, false },
	{ "\xff", 1, false },
	{ "\x80", 1, false },             /* lone continuation */
	{ "\xc3", 1, false },             /* truncated */
	{ "\xe2\x82", 2, false },
	{ "\xc0\x80", 2, false },         /* overlong NUL */
	{ "\xc1\xbf", 2, false },
	{ "\xe0\x80\x80", 3, false },     /* overlong */
	{ "\xf0\x80\x80\x80", 4, false }, /* overlong */
	{ "\xed\xa0\x80", 3, false },     /* surrogate */
	{ "\xf4\x90\x80\x80", 4, false }, /* > U+10FFFF */
	{ "\xf5\x80\x80\x80", 4, false },
	{ "\xc3\x28", 2, false },
};

static void test_utf8(void **state)
{
	for (size_t i = 0; i < ELEMENTSOF(utf8_cases); i++)
		assert_int_equal(util_utf8_valid(utf8_cases[i].s, utf8_cases[i].n), utf8_cases[i].valid);
}

/* every STR/OPT_STR field of every message: NUL, invalid UTF-8, bounds */
static void test_string_fields(void **state)
{
	static char big[4096];

	memset(big, 'a', sizeof(big));
	for (size_t di = 0; di < N_DESCS; di++) {
		const struct ipc_desc *d = desc_at(di);

		for (int f = 0; f < (int)d->nfields; f++) {
			const struct ipc_field *fl = &d->fields[f];
			struct body_spec bs = BODY_OK;
			struct raw r;

			if (fl->type != IPC_FT_STR && fl->type != IPC_FT_OPT_STR)
				continue;
			assert_true(fl->max < sizeof(big));
			bs.field = f;
			bs.put = pk_raw_str;
			bs.arg = &r;
			for (size_t c = 0; c < ELEMENTSOF(utf8_cases); c++) {
				r = (struct raw){ utf8_cases[c].s, utf8_cases[c].n };
				if (r.n <= fl->max)
					expect_spec(d, &bs, utf8_cases[c].valid ? 0 : -EBADMSG);
			}
			r = (struct raw){ big, fl->max };
			expect_spec(d, &bs, 0);
			r = (struct raw){ big, fl->max + 1 };
			expect_spec(d, &bs, -EBADMSG);
		}
	}
}

static void test_blob_bounds(void **state)
{
	const struct ipc_desc *d = test_all_desc();
	struct body_spec bs = BODY_OK;
	char bytes[17] = { 0 };
	struct raw r = { bytes, 16 };

	bs.field = 2;
	assert_string_equal(d->fields[2].name, "b");
	bs.put = pk_raw_bin;
	bs.arg = &r;
	expect_spec(d, &bs, 0);
	r.n = 0;
	expect_spec(d, &bs, 0);
	r.n = 17;
	expect_spec(d, &bs, -EBADMSG);
	bs.put = pk_raw_str; /* a str is not a bin */
	r.n = 1;
	bytes[0] = 'x';
	expect_spec(d, &bs, -EBADMSG);
}

static void pk_u64(msgpack_packer *pk, const void *arg)
{
	msgpack_pack_uint64(pk, *(const uint64_t *)arg);
}

static void pk_i64(msgpack_packer *pk, const void *arg)
{
	msgpack_pack_int64(pk, *(const int64_t *)arg);
}

static void test_integer_ranges(void **state)
{
	const struct ipc_desc *d = test_all_desc();
	struct body_spec bs = BODY_OK;
	uint64_t u;
	int64_t i;

	static const struct {
		int field;
		bool is_u;
		uint64_t u;
		int64_t i;
		int expected;
	} cases[] = {
		{ 3, true, 0, 0, 0 },
		{ 3, true, UINT64_MAX, 0, 0 },
		{ 3, false, 0, -1, -EBADMSG },
		{ 3, false, 0, INT64_MIN, -EBADMSG },
		{ 4, false, 0, INT64_MIN, 0 },
		{ 4, true, INT64_MAX, 0, 0 },
		{ 4, true, (uint64_t)INT64_MAX + 1, 0, -EBADMSG },
		{ 4, true, UINT64_MAX, 0, -EBADMSG },
		{ 5, false, 0, INT64_MIN, 0 },
		{ 5, true, (uint64_t)INT64_MAX + 1, 0, -EBADMSG },
	};

	for (size_t c = 0; c < ELEMENTSOF(cases); c++) {
		bs.field = cases[c].field;
		u = cases[c].u;
		i = cases[c].i;
		bs.put = cases[c].is_u ? pk_u64 : pk_i64;
		bs.arg = cases[c].is_u ? (const void *)&u : (const void *)&i;
		expect_spec(d, &bs, cases[c].expected);
	}
}

/* KV: count, key and value bounds, duplicates, types, nesting */
enum kv_case { KV_FULL, KV_OVER, KV_KEY_MAX, KV_KEY_OVER, KV_VAL_OVER, KV_DUP, KV_KEY_INT,
	       KV_VAL_INT, KV_VAL_MAP, KV_KEY_NUL, KV_VAL_BADUTF8, _KV_MAX };

static void pk_kv_case(msgpack_packer *pk, const void *arg)
{
	enum kv_case c = *(const enum kv_case *)arg;
	size_t n = c == KV_FULL || c == KV_OVER ? 3 + (c == KV_OVER) : 2;

	msgpack_pack_map(pk, n);
	for (size_t i = 0; i + 1 < n; i++) {
		char key[2] = { (char)('a' + i), 0 };

		pk_cstr(pk, key);
		pk_cstr(pk, "vvvvv");
	}
	switch (c) {
	case KV_FULL: case KV_OVER: pk_cstr(pk, "z"); pk_cstr(pk, "v"); break;
	case KV_KEY_MAX: pk_cstr(pk, "kkkk"); pk_cstr(pk, ""); break;
	case KV_KEY_OVER: pk_cstr(pk, "kkkkk"); pk_cstr(pk, "v"); break;
	case KV_VAL_OVER: pk_cstr(pk, "k"); pk_cstr(pk, "vvvvvv"); break;
	case KV_DUP: pk_cstr(pk, "a"); pk_cstr(pk, "v"); break;
	case KV_KEY_INT: msgpack_pack_uint64(pk, 1); pk_cstr(pk, "v"); break;
	case KV_VAL_INT: pk_cstr(pk, "k"); msgpack_pack_uint64(pk, 1); break;
	case KV_VAL_MAP: pk_cstr(pk, "k"); msgpack_pack_map(pk, 0); break;
	case KV_KEY_NUL: pk_str(pk, "k\0", 2); pk_cstr(pk, "v"); break;
	case KV_VAL_BADUTF8: pk_cstr(pk, "k"); pk_str(pk, "\xc0\x80", 2); break;
	default: fail();
	}
}

static void test_kv(void **state)
{
	const struct ipc_desc *d = test_all_desc();
	struct body_spec bs = BODY_OK;

	bs.field = 7;
	assert_string_equal(d->fields[7].name, "kv");
	bs.put = pk_kv_case;
	for (enum kv_case c = 0; c < _KV_MAX; c++) {
		bs.arg = &c;
		expect_spec(d, &bs, c == KV_FULL || c == KV_KEY_MAX ? 0 : -EBADMSG);
	}
}

/* envelope damage */
enum env_case { ENV_OK, ENV_REORDERED, ENV_VNEXT, ENV_V0, ENV_VNEG, ENV_VSTR, ENV_NO_V, ENV_EXTRA,
		ENV_DUP_V, ENV_TYPE_UNKNOWN, ENV_TYPE_INT, ENV_TYPE_PREFIX, ENV_ID_NEG,
		ENV_ID_STR, ENV_BODY_ARRAY, ENV_BODY_NIL, ENV_KEY_INT, ENV_KEY_BIN, ENV_NOT_MAP,
		ENV_EMPTY_MAP, _ENV_MAX };

static void pk_env_entry(msgpack_packer *pk, const char *key, enum env_case c)
{
	pk_cstr(pk, key);
	if (strcmp(key, "v") == 0 && c == ENV_VNEXT)
		msgpack_pack_uint64(pk, IPC_VERSION + 1);
	else if (strcmp(key, "v") == 0 && c == ENV_V0)
		msgpack_pack_uint64(pk, 0);
	else if (strcmp(key, "v") == 0 && c == ENV_VNEG)
		msgpack_pack_int64(pk, -1);
	else if (strcmp(key, "v") == 0 && c == ENV_VSTR)
		pk_cstr(pk, "2");
	else if (strcmp(key, "v") == 0)
		msgpack_pack_uint64(pk, IPC_VERSION);
	else if (strcmp(key, "type") == 0 && c == ENV_TYPE_UNKNOWN)
		pk_cstr(pk, "pinq");
	else if (strcmp(key, "type") == 0 && c == ENV_TYPE_PREFIX)
		pk_cstr(pk, "pin");
	else if (strcmp(key, "type") == 0 && c == ENV_TYPE_INT)
		msgpack_pack_uint64(pk, IPC_MSG_PING);
	else if (strcmp(key, "type") == 0)
		pk_cstr(pk, "ping");
	else if (strcmp(key, "id") == 0 && c == ENV_ID_NEG)
		msgpack_pack_int64(pk, -5);
	else if (strcmp(key, "id") == 0 && c == ENV_ID_STR)
		pk_cstr(pk, "5");
	else if (strcmp(key, "id") == 0)
		msgpack_pack_uint64(pk, 5);
	else if (c == ENV_BODY_ARRAY)
		msgpack_pack_array(pk, 0);
	else if (c == ENV_BODY_NIL)
		msgpack_pack_nil(pk);
	else
		msgpack_pack_map(pk, 0);
}

static void pack_env(msgpack_sbuffer *sb, enum env_case c)
{
	static const char *const order[] = { "v", "type", "id", "body" };
	static const char *const reordered[] = { "body", "id", "v", "type" };
	const char *const *keys = c == ENV_REORDERED ? reordered : order;
	msgpack_packer pk;
	size_t n = c == ENV_NO_V ? 3 : c == ENV_EXTRA ? 5 : c == ENV_EMPTY_MAP ? 0 : 4;

	frame_init(sb, &pk);
	if (c == ENV_NOT_MAP) {
		msgpack_pack_array(&pk, 4);
		for (size_t i = 0; i < 4; i++)
			pk_cstr(&pk, order[i]);
		return;
	}
	msgpack_pack_map(&pk, n);
	/* NO_V leaves out "v"; DUP_V leaves out "body" and writes "v" twice */
	for (size_t i = c == ENV_NO_V; i < (c == ENV_DUP_V ? 3u : 4u) && n > 0; i++) {
		if (i == 0 && c == ENV_KEY_INT) {
			msgpack_pack_uint64(&pk, 0);
			msgpack_pack_uint64(&pk, 1);
		} else if (i == 0 && c == ENV_KEY_BIN) {
			msgpack_pack_bin(&pk, 1);
			msgpack_pack_bin_body(&pk, "v", 1);
			msgpack_pack_uint64(&pk, 1);
		} else {
			pk_env_entry(&pk, keys[i], c);
		}
	}
	if (c == ENV_EXTRA)
		pk_env_entry(&pk, "x", c);
	if (c == ENV_DUP_V)
		pk_env_entry(&pk, "v", c);
}

static void test_envelope(void **state)
{
	const struct ipc_desc *d = ipc_desc_get(IPC_MSG_PING);

	for (enum env_case c = 0; c < _ENV_MAX; c++) {
		msgpack_sbuffer sb;
		int expected = c == ENV_OK || c == ENV_REORDERED ? 0 : -EBADMSG;
		enum ipc_msg_type t = _IPC_MSG_INVALID;
		uint64_t id = 0;

		pack_env(&sb, c);
		expect_decode(d, sb.data, sb.size, expected);
		assert_int_equal(ipc_peek(sb.data, sb.size, &t, &id), expected);
		if (expected == 0) {
			assert_int_equal(t, IPC_MSG_PING);
			assert_int_equal(id, 5);
		} else {
			assert_int_equal(t, _IPC_MSG_INVALID);
			assert_int_equal(id, 0);
		}
		msgpack_sbuffer_destroy(&sb);
	}
}

static void test_trailing_and_size(void **state)
{
	msgpack_sbuffer sb;
	const struct ipc_desc *d = ipc_desc_get(IPC_MSG_PING);
	_cleanup_free_ char *big = calloc(1, IPC_FRAME_MAX + 1);

	assert_non_null(big);
	pack_env(&sb, ENV_OK);
	msgpack_sbuffer_write(&sb, "\xc0", 1);
	expect_decode(d, sb.data, sb.size, -EBADMSG);
	assert_int_equal(ipc_peek(sb.data, sb.size, NULL, NULL), -EBADMSG);
	/* a valid frame padded with zero bytes (each a valid msgpack 0) to over the max */
	memcpy(big, sb.data, sb.size - 1);
	assert_int_equal(ipc_peek(big, IPC_FRAME_MAX + 1, NULL, NULL), -EBADMSG);
	expect_decode(d, big, IPC_FRAME_MAX + 1, -EBADMSG);
	assert_int_equal(ipc_peek(big, sb.size - 1, NULL, NULL), 0);
	assert_int_equal(ipc_peek(NULL, 0, NULL, NULL), -EBADMSG);
	msgpack_sbuffer_destroy(&sb);
}

/* declared sizes far beyond the frame must fail before msgpack-c allocates */
static void test_declared_sizes(void **state)
{
#define RAW(s) { s, sizeof(s) - 1 }
	static const struct raw cases[] = {
		RAW("\xdf\xff\xff\xff\xff"),
		RAW("\xdd\xff\xff\xff\xff"),
		RAW("\xdb\xff\xff\xff\xff"),
		RAW("\xc6\xff\xff\xff\xff"),
		RAW("\xc9\xff\xff\xff\xff\x01"),
		RAW("\x84\xa1v\x01\xa4type\xa4ping\xa2id\x01\xa4" "body\xdf\xff\xff\xff\xff"),
		RAW("\x84\xa1v\x01\xa4type\xa4ping\xa2id\x01\xa4" "body\xde\x10\x00"),
		RAW("\x84\xa1v\x01\xa4type\xa4ping\xa2id\x01\xa4" "body\x81\xa1k\x81\xa1k\x80"),
		RAW("\xc1"),
		RAW("\x91\x91\x91\x91\x91\x91\x90"),
		RAW("\x81\xa1v\x81\xa1v\x81\xa1v\x80"),
	};
#undef RAW

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		assert_int_equal(ipc_peek(cases[i].s, cases[i].n, NULL, NULL), -EBADMSG);
		expect_decode(ipc_desc_get(IPC_MSG_PING), cases[i].s, cases[i].n, -EBADMSG);
	}
}

/* a frame of type X given to the decoder of Y */
static void test_type_mismatch(void **state)
{
	for (size_t x = 0; x < N_DESCS; x++) {
		const struct ipc_desc *dx = desc_at(x);
		void *a = sample_new(dx);
		struct ipc_buf buf;

		ipc_buf_init(&buf);
		assert_int_equal(ipc_codec_encode(dx, &buf, 1, a), 0);
		for (size_t y = 0; y < N_DESCS; y++)
			expect_decode(desc_at(y), buf.data, buf.size, x == y ? 0 : -EBADMSG);
		ipc_buf_done(&buf);
		sample_free(dx, a);
	}
}

static void test_type_mismatch_wrappers(void **state)
{
	struct ipc_pong pong = { .service = "authd", .pid = 1 };
	struct ipc_error err;
	struct ipc_buf buf;
	uint64_t id = 3;

	ipc_buf_init(&buf);
	assert_int_equal(ipc_encode_pong(&buf, 9, &pong), 0);
	memset(&err, 0x11, sizeof(err));
	assert_int_equal(ipc_decode_error(buf.data, buf.size, &id, &err), -EBADMSG);
	assert_int_equal(id, 3);
	assert_int_equal(err.code[0], 0x11);
	ipc_buf_done(&buf);
}

/* ---- encoder bounds ---------------------------------------------------- */

static void encode_expect(const struct ipc_desc *d, const void *msg, int expected)
{
	struct ipc_buf buf;

	ipc_buf_init(&buf);
	assert_int_equal(ipc_codec_encode(d, &buf, 1, msg), expected);
	if (expected < 0)
		assert_int_equal(buf.size, 0);
	ipc_buf_done(&buf);
}

static void test_encode_bounds(void **state)
{
	const struct ipc_desc *d = test_all_desc();
	struct ipc_test_all *m = sample_new(d);
	char *blob = m->b;

	encode_expect(d, m, 0);
	memset(m->s, 'x', sizeof(m->s)); /* no NUL within the bound */
	encode_expect(d, m, -EINVAL);
	strcpy(m->s, "\xc0\x80");
	encode_expect(d, m, -EINVAL);
	strcpy(m->s, "ok");
	m->kv_n = 4;
	encode_expect(d, m, -EINVAL);
	m->kv_n = 3;
	strcpy(m->kv[1].key, m->kv[0].key);
	encode_expect(d, m, -EINVAL);
	strcpy(m->kv[1].key, "b");
	memset(m->kv[2].value, 'v', sizeof(m->kv[2].value));
	encode_expect(d, m, -EINVAL);
	strcpy(m->kv[2].value, "v");
	m->b_len = 17;
	encode_expect(d, m, -EINVAL);
	m->b = NULL;
	m->b_len = 1;
	encode_expect(d, m, -EINVAL);
	m->b_len = 0;
	encode_expect(d, m, 0);
	m->b = blob;
	sample_free(d, m);
	encode_expect(d, NULL, -EINVAL);
}

/* a frame over IPC_FRAME_MAX is refused by the encoder and the decoder */
static void test_frame_max(void **state)
{
	const struct ipc_desc *d = test_big_desc();
	struct ipc_test_big m = { 0 }, ret;
	struct ipc_buf buf;
	msgpack_sbuffer sb;
	struct body_spec bs = BODY_OK;
	struct raw r;

	m.b_len = IPC_FRAME_MAX;
	m.b = calloc(1, m.b_len);
	assert_non_null(m.b);
	ipc_buf_init(&buf);
	assert_int_equal(ipc_codec_encode(d, &buf, 1, &m), -EINVAL);
	assert_int_equal(buf.size, 0);
	m.b_len = IPC_FRAME_MAX - 64;
	assert_int_equal(ipc_codec_encode(d, &buf, 1, &m), 0);
	assert_int_equal(ipc_codec_decode(d, buf.data, buf.size, NULL, &ret), 0);
	ipc_codec_free(d, &ret);
	bs.field = 0;
	bs.put = pk_raw_bin;
	bs.arg = &r;
	r = (struct raw){ m.b, IPC_FRAME_MAX };
	pack_frame(&sb, d, &bs);
	expect_decode(d, sb.data, sb.size, -EBADMSG);
	msgpack_sbuffer_destroy(&sb);
	ipc_buf_done(&buf);
	free(m.b);
}

static void test_error_reply(void **state)
{
	char longmsg[400];
	struct ipc_error e;
	struct ipc_buf buf;
	uint64_t id;

	/* 'x' then 2-byte characters: the cut at 256 bytes falls inside one */
	longmsg[0] = 'x';
	for (size_t i = 1; i + 2 < sizeof(longmsg); i += 2)
		memcpy(longmsg + i, "\xc3\xa9", 2);
	longmsg[sizeof(longmsg) - 1] = 0;
	ipc_buf_init(&buf);
	assert_int_equal(ipc_encode_error_reply(&buf, 8, "bad_message", longmsg), 0);
	assert_int_equal(ipc_decode_error(buf.data, buf.size, &id, &e), 0);
	assert_int_equal(id, 8);
	assert_string_equal(e.code, "bad_message");
	assert_int_equal(strlen(e.message), 255);
	assert_true(util_utf8_valid(e.message, strlen(e.message)));
	assert_int_equal(ipc_encode_error_reply(&buf, 8, "c", NULL), 0);
	memset(longmsg, 'c', 65);
	longmsg[65] = 0;
	assert_int_equal(ipc_encode_error_reply(&buf, 8, longmsg, "m"), -EINVAL);
	longmsg[64] = 0;
	assert_int_equal(ipc_encode_error_reply(&buf, 8, longmsg, "m"), 0);
	ipc_buf_done(&buf);
}

/* ---- table ------------------------------------------------------------- */

static void test_names(void **state)
{
	for (int t = 0; t < _IPC_MSG_MAX; t++) {
		const char *s = ipc_msg_type_to_str((enum ipc_msg_type)t);

		assert_non_null(s);
		assert_int_equal(ipc_msg_type_from_str(s, strlen(s)), t);
		assert_int_equal(ipc_msg_type_from_str(s, strlen(s) - 1), _IPC_MSG_INVALID);
	}
	assert_null(ipc_msg_type_to_str(_IPC_MSG_INVALID));
	assert_null(ipc_msg_type_to_str(_IPC_MSG_MAX));
	assert_int_equal(ipc_msg_type_from_str("log.record\0", 11), _IPC_MSG_INVALID);
	assert_int_equal(ipc_msg_type_from_str(NULL, 0), _IPC_MSG_INVALID);
	assert_string_equal(ipc_msg_type_to_str(IPC_MSG_LOG_RECORD), "log.record");
}

static void test_allowed(void **state)
{
	static const struct {
		enum ipc_msg_type t;
		enum ipc_peer from, to;
		bool allowed;
	} cases[] = {
		{ IPC_MSG_LOG_RECORD, IPC_PEER_INGRESSD, IPC_PEER_LOGD, true },
		{ IPC_MSG_LOG_RECORD, IPC_PEER_AUTHD, IPC_PEER_LOGD, true },
		{ IPC_MSG_LOG_RECORD, IPC_PEER_INGRESSD, IPC_PEER_AUTHD, false },
		{ IPC_MSG_PING, IPC_PEER_INGRESSD, IPC_PEER_AUTHD, true },
		{ IPC_MSG_PING, IPC_PEER_ANY, IPC_PEER_TELEMETRYD, true },
		{ IPC_MSG_PING, IPC_PEER_AUTHD, IPC_PEER_INGRESSD, false },
		{ IPC_MSG_PING, IPC_PEER_ANY, IPC_PEER_CTL, false },
		{ IPC_MSG_PONG, IPC_PEER_AUTHD, IPC_PEER_INGRESSD, true },
		{ IPC_MSG_PONG, IPC_PEER_INGRESSD, IPC_PEER_AUTHD, false },
		{ IPC_MSG_ERROR, IPC_PEER_LOGD, IPC_PEER_CTL, true },
		{ IPC_MSG_ERROR, IPC_PEER_INGRESSD, IPC_PEER_AUTHD, false },
		{ _IPC_MSG_INVALID, IPC_PEER_ANY, IPC_PEER_ANY, false },
		{ _IPC_MSG_MAX, IPC_PEER_ANY, IPC_PEER_ANY, false },
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++)
		assert_int_equal(ipc_msg_allowed(cases[i].t, cases[i].from, cases[i].to),
				 cases[i].allowed);
}

static void test_buf(void **state)
{
	struct ipc_buf b;
	struct ipc_pong p = { .service = "x" };

	ipc_buf_init(&b);
	assert_null(b.data);
	assert_int_equal(ipc_encode_pong(&b, 1, &p), 0);
	assert_true(b.size > 0 && b.alloc >= b.size);
	ipc_buf_reset(&b);
	assert_int_equal(b.size, 0);
	assert_non_null(b.data);
	ipc_buf_done(&b);
	assert_null(b.data);
	assert_int_equal(b.alloc, 0);
	ipc_buf_done(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip_generic),
		cmocka_unit_test(test_roundtrip_wrappers),
		cmocka_unit_test(test_roundtrip_minimal),
		cmocka_unit_test(test_optional_absent),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_wrong_types),
		cmocka_unit_test(test_missing_unknown_duplicate),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_string_fields),
		cmocka_unit_test(test_blob_bounds),
		cmocka_unit_test(test_integer_ranges),
		cmocka_unit_test(test_kv),
		cmocka_unit_test(test_envelope),
		cmocka_unit_test(test_trailing_and_size),
		cmocka_unit_test(test_declared_sizes),
		cmocka_unit_test(test_type_mismatch),
		cmocka_unit_test(test_type_mismatch_wrappers),
		cmocka_unit_test(test_encode_bounds),
		cmocka_unit_test(test_frame_max),
		cmocka_unit_test(test_error_reply),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_allowed),
		cmocka_unit_test(test_buf),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
