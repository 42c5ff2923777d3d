/*
 * codec.c - sembark's msgpack wire codec: the message table of
 * messages.def turned into one descriptor per body, one generic strict
 * encoder and one generic strict decoder driven by those descriptors, and
 * the thin per-message ipc_encode_/ipc_decode_/ipc_free_ wrappers ipc.h
 * declares. This file is the single place where bytes from another daemon
 * are checked; it runs in every daemon's loop thread, holds no state and
 * no privileges, and is fuzzed by tests/fuzz/fuzz-ipc.c.
 *
 * Decoding is two passes over the frame: a structural scan (no allocation)
 * that bounds nesting and the number of msgpack objects the frame may
 * declare, so that msgpack-c, which allocates for a map's declared size
 * before reading it, never allocates more than the largest valid message
 * needs; then msgpack_unpack_next() and a walk over the descriptor.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <msgpack.h>

#include "codec.h"
#include "ipc.h"
#include "macro.h"
#include "util.h"

/* ---- table ------------------------------------------------------------- */

#define MSG(e, wname, fields, from, to) \
	IPC_DESC_DEFINE(s_desc_##fields, fields, wname, IPC_MSG_##e, from, to)
#include "messages.def"
#undef MSG

static const struct ipc_desc *(*const s_table[_IPC_MSG_MAX])(void) = {
#define MSG(e, wname, fields, from, to) [IPC_MSG_##e] = s_desc_##fields,
#include "messages.def"
#undef MSG
};

/* ipc_desc_get - the descriptor of a table message, NULL when t is invalid */
const struct ipc_desc *ipc_desc_get(enum ipc_msg_type t)
{
	if ((int)t < 0 || t >= _IPC_MSG_MAX)
		return NULL;
	return s_table[t]();
}

/* ipc_msg_type_to_str - the wire name of t, NULL when t is invalid */
const char *ipc_msg_type_to_str(enum ipc_msg_type t)
{
	const struct ipc_desc *d = ipc_desc_get(t);

	return d ? d->name : NULL;
}

/* ipc_msg_type_from_str - the type named s[0..len), or _IPC_MSG_INVALID */
enum ipc_msg_type ipc_msg_type_from_str(const char *s, size_t len)
{
	if (!s)
		return _IPC_MSG_INVALID;
	for (int t = 0; t < _IPC_MSG_MAX; t++) {
		const char *name = s_table[t]()->name;

		if (strlen(name) == len && memcmp(name, s, len) == 0)
			return (enum ipc_msg_type)t;
	}
	return _IPC_MSG_INVALID;
}

/* ipc_msg_allowed - may a sender in `from` send t to a receiver in `to`? */
bool ipc_msg_allowed(enum ipc_msg_type t, enum ipc_peer from, enum ipc_peer to)
{
	const struct ipc_desc *d = ipc_desc_get(t);

	return d && (d->from & (unsigned)from) && (d->to & (unsigned)to);
}

static size_t s_max_objects_all(void)
{
	size_t m = 0;

	for (int t = 0; t < _IPC_MSG_MAX; t++)
		m = MAX(m, s_table[t]()->max_objects);
	return m;
}

/* ---- ipc_buf ----------------------------------------------------------- */

/* ipc_buf_init - an empty buffer */
void ipc_buf_init(struct ipc_buf *b)
{
	*b = (struct ipc_buf){ 0 };
}

/* ipc_buf_reset - forget the contents, keep the memory */
void ipc_buf_reset(struct ipc_buf *b)
{
	b->size = 0;
}

/* ipc_buf_done - free the memory */
void ipc_buf_done(struct ipc_buf *b)
{
	free(b->data);
	ipc_buf_init(b);
}

static int s_buf_reserve(struct ipc_buf *b, size_t n)
{
	size_t want = b->size + n, alloc = b->alloc ? b->alloc : 256;
	char *p;

	if (want <= b->alloc)
		return 0;
	while (alloc < want)
		alloc *= 2;
	p = realloc(b->data, alloc);
	if (!p)
		return -ENOMEM;
	b->data = p;
	b->alloc = alloc;
	return 0;
}

struct s_writer {
	struct ipc_buf *b;
	int r;
};

/* msgpack_packer_write callback: append to the buffer, never past IPC_FRAME_MAX */
static int s_write(void *data, const char *p, size_t n)
{
	struct s_writer *w = data;

	if (w->r < 0)
		return -1;
	if (n == 0)
		return 0;
	if (n > IPC_FRAME_MAX - w->b->size) {
		w->r = -EINVAL;
		return -1;
	}
	w->r = s_buf_reserve(w->b, n);
	if (w->r < 0)
		return -1;
	memcpy(w->b->data + w->b->size, p, n);
	w->b->size += n;
	return 0;
}

/* ---- structural pre-scan ----------------------------------------------- */

struct s_scan {
	const uint8_t *p;
	size_t len;
	size_t off;
	size_t objects;
	size_t max_objects;
};

static int s_scan_uint(struct s_scan *s, size_t width, size_t *ret)
{
	size_t v = 0;

	if (width > s->len - s->off)
		return -EBADMSG;
	for (size_t i = 0; i < width; i++)
		v = (v << 8) | s->p[s->off + i];
	s->off += width;
	*ret = v;
	return 0;
}

static int s_scan_skip(struct s_scan *s, size_t n)
{
	if (n > s->len - s->off)
		return -EBADMSG;
	s->off += n;
	return 0;
}

static int s_scan_value(struct s_scan *s, unsigned depth);

static int s_scan_items(struct s_scan *s, size_t n, unsigned depth)
{
	int r;

	if (depth >= IPC_DEPTH_MAX)
		return -EBADMSG;
	for (size_t i = 0; i < n; i++) {
		r = s_scan_value(s, depth + 1);
		if (r < 0)
			return r;
	}
	return 0;
}

/* a str/bin/ext with a big-endian length of `width` bytes (+1 ext type byte) */
static int s_scan_sized(struct s_scan *s, size_t width, size_t extra)
{
	size_t n;
	int r = s_scan_uint(s, width, &n);

	if (r < 0)
		return r;
	return s_scan_skip(s, n + extra);
}

static int s_scan_counted(struct s_scan *s, size_t width, size_t mult, unsigned depth)
{
	size_t n;
	int r = s_scan_uint(s, width, &n);

	if (r < 0)
		return r;
	if (n > s->max_objects)
		return -EBADMSG;
	return s_scan_items(s, n * mult, depth);
}

static int s_scan_fixed(struct s_scan *s, uint8_t c, unsigned depth)
{
	if (c <= 0x7f || c >= 0xe0 || c == 0xc0 || c == 0xc2 || c == 0xc3)
		return 0;
	if (c >= 0x80 && c <= 0x8f)
		return s_scan_items(s, 2u * (c & 0x0f), depth);
	if (c >= 0x90 && c <= 0x9f)
		return s_scan_items(s, c & 0x0f, depth);
	if (c >= 0xa0 && c <= 0xbf)
		return s_scan_skip(s, c & 0x1f);
	return -ENOENT; /* not a fixed-form byte */
}

static int s_scan_value(struct s_scan *s, unsigned depth)
{
	static const uint8_t fixext[] = { 2, 3, 5, 9, 17 };   /* 0xd4..0xd8 */
	static const uint8_t scalar[] = { 4, 8, 1, 2, 4, 8, 1, 2, 4, 8 }; /* 0xca..0xd3 */
	uint8_t c;
	int r;

	if (s->off >= s->len || ++s->objects > s->max_objects)
		return -EBADMSG;
	c = s->p[s->off++];
	r = s_scan_fixed(s, c, depth);
	if (r != -ENOENT)
		return r;
	if (c >= 0xc4 && c <= 0xc6)
		return s_scan_sized(s, 1u << (c - 0xc4), 0);
	if (c >= 0xc7 && c <= 0xc9)
		return s_scan_sized(s, 1u << (c - 0xc7), 1);
	if (c >= 0xca && c <= 0xd3)
		return s_scan_skip(s, scalar[c - 0xca]);
	if (c >= 0xd4 && c <= 0xd8)
		return s_scan_skip(s, fixext[c - 0xd4]);
	if (c >= 0xd9 && c <= 0xdb)
		return s_scan_sized(s, 1u << (c - 0xd9), 0);
	if (c == 0xdc || c == 0xdd)
		return s_scan_counted(s, c == 0xdc ? 2 : 4, 1, depth);
	if (c == 0xde || c == 0xdf)
		return s_scan_counted(s, c == 0xde ? 2 : 4, 2, depth);
	return -EBADMSG; /* 0xc1 */
}

/* ---- envelope ---------------------------------------------------------- */

struct s_env {
	const msgpack_object_str *type;
	uint64_t id;
	const msgpack_object_map *body;
};

static bool s_str_eq(const msgpack_object_str *s, const char *c)
{
	size_t n = strlen(c);

	return s->size == n && memcmp(s->ptr, c, n) == 0;
}

/* scan, then unpack exactly one object spanning the whole frame */
static int s_unpack(const void *buf, size_t len, size_t max_objects, msgpack_unpacked *u)
{
	struct s_scan s = { .p = buf, .len = len, .max_objects = max_objects };
	size_t off = 0;
	int r;

	if (!buf || len == 0 || len > IPC_FRAME_MAX)
		return -EBADMSG;
	r = s_scan_value(&s, 0);
	if (r < 0 || s.off != len)
		return -EBADMSG;
	if (msgpack_unpack_next(u, buf, len, &off) != MSGPACK_UNPACK_SUCCESS || off != len)
		return -EBADMSG;
	return 0;
}

static int s_env_value(unsigned i, const msgpack_object *v, struct s_env *env)
{
	if (i == 0 && v->type == MSGPACK_OBJECT_POSITIVE_INTEGER && v->via.u64 == IPC_VERSION)
		return 0;
	if (i == 1 && v->type == MSGPACK_OBJECT_STR)
		env->type = &v->via.str;
	else if (i == 2 && v->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
		env->id = v->via.u64;
	else if (i == 3 && v->type == MSGPACK_OBJECT_MAP)
		env->body = &v->via.map;
	else
		return -EBADMSG;
	return 0;
}

static int s_env_entry(const msgpack_object_kv *kv, unsigned *seen, struct s_env *env)
{
	static const char *const keys[] = { "v", "type", "id", "body" };
	unsigned i;

	if (kv->key.type != MSGPACK_OBJECT_STR)
		return -EBADMSG;
	for (i = 0; i < ELEMENTSOF(keys) && !s_str_eq(&kv->key.via.str, keys[i]); i++)
		;
	if (i == ELEMENTSOF(keys) || (*seen & (1u << i)))
		return -EBADMSG;
	*seen |= 1u << i;
	return s_env_value(i, &kv->val, env);
}

static int s_envelope(const msgpack_object *o, struct s_env *ret)
{
	struct s_env env = { 0 };
	unsigned seen = 0;
	int r;

	if (o->type != MSGPACK_OBJECT_MAP || o->via.map.size != 4)
		return -EBADMSG;
	for (uint32_t i = 0; i < 4; i++) {
		r = s_env_entry(&o->via.map.ptr[i], &seen, &env);
		if (r < 0)
			return r;
	}
	*ret = env;
	return 0;
}

/* ipc_peek - validate the envelope and return its type and id */
int ipc_peek(const void *buf, size_t len, enum ipc_msg_type *ret_type, uint64_t *ret_id)
{
	_cleanup_(msgpack_unpacked_destroy) msgpack_unpacked u;
	enum ipc_msg_type t;
	struct s_env env;
	int r;

	msgpack_unpacked_init(&u);
	r = s_unpack(buf, len, s_max_objects_all(), &u);
	if (r < 0)
		return r;
	r = s_envelope(&u.data, &env);
	if (r < 0)
		return r;
	t = ipc_msg_type_from_str(env.type->ptr, env.type->size);
	if (t == _IPC_MSG_INVALID)
		return -EBADMSG;
	if (ret_type)
		*ret_type = t;
	if (ret_id)
		*ret_id = env.id;
	return 0;
}

/* ---- body decoding ----------------------------------------------------- */

#define AT(msg, off, T) ((T *)((char *)(msg) + (off)))

/* a msgpack str of at most max bytes, valid UTF-8 without NUL, into dst[max + 1] */
static int s_get_str(const msgpack_object *o, size_t max, char *dst)
{
	if (o->type != MSGPACK_OBJECT_STR || o->via.str.size > max ||
	    !util_utf8_valid(o->via.str.ptr, o->via.str.size))
		return -EBADMSG;
	memcpy(dst, o->via.str.ptr, o->via.str.size);
	dst[o->via.str.size] = 0;
	return 0;
}

static int s_get_blob(const struct ipc_field *f, const msgpack_object *o, void *msg)
{
	char *p;

	if (o->type != MSGPACK_OBJECT_BIN || o->via.bin.size > f->max)
		return -EBADMSG;
	p = malloc(o->via.bin.size + 1);
	if (!p)
		return -ENOMEM;
	if (o->via.bin.size > 0)
		memcpy(p, o->via.bin.ptr, o->via.bin.size);
	p[o->via.bin.size] = 0;
	*AT(msg, f->off, char *) = p;
	*AT(msg, f->aux, size_t) = o->via.bin.size;
	return 0;
}

static int s_get_i64(const msgpack_object *o, int64_t *ret)
{
	if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
		*ret = o->via.i64;
	else if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER && o->via.u64 <= INT64_MAX)
		*ret = (int64_t)o->via.u64;
	else
		return -EBADMSG;
	return 0;
}

static bool s_kv_key_seen(const struct ipc_field *f, const char *kv, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(kv + i * f->kv_size, key) == 0)
			return true;
	return false;
}

static int s_get_kv(const struct ipc_field *f, const msgpack_object *o, void *msg)
{
	char *kv = AT(msg, f->off, char);
	int r;

	if (o->type != MSGPACK_OBJECT_MAP || o->via.map.size > f->max)
		return -EBADMSG;
	for (uint32_t i = 0; i < o->via.map.size; i++) {
		char *e = kv + i * f->kv_size;

		r = s_get_str(&o->via.map.ptr[i].key, f->kmax, e);
		if (r < 0 || s_kv_key_seen(f, kv, i, e))
			return -EBADMSG;
		r = s_get_str(&o->via.map.ptr[i].val, f->vmax, e + f->kv_voff);
		if (r < 0)
			return r;
	}
	*AT(msg, f->aux, size_t) = o->via.map.size;
	return 0;
}

static int s_get_field(const struct ipc_field *f, const msgpack_object *o, void *msg)
{
	switch (f->type) {
	case IPC_FT_STR:
	case IPC_FT_OPT_STR:
		return s_get_str(o, f->max, AT(msg, f->off, char));
	case IPC_FT_BLOB:
		return s_get_blob(f, o, msg);
	case IPC_FT_U64:
		if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
			return -EBADMSG;
		*AT(msg, f->off, uint64_t) = o->via.u64;
		return 0;
	case IPC_FT_I64:
		return s_get_i64(o, AT(msg, f->off, int64_t));
	case IPC_FT_OPT_I64:
		*AT(msg, f->aux, bool) = true;
		return s_get_i64(o, AT(msg, f->off, int64_t));
	case IPC_FT_BOOL:
		if (o->type != MSGPACK_OBJECT_BOOLEAN)
			return -EBADMSG;
		*AT(msg, f->off, bool) = o->via.boolean;
		return 0;
	case IPC_FT_KV:
		return s_get_kv(f, o, msg);
	default:
		abort(); /* descriptor table corrupt */
	}
}

static bool s_field_optional(const struct ipc_field *f)
{
	return f->type == IPC_FT_OPT_STR || f->type == IPC_FT_OPT_I64;
}

static int s_field_index(const struct ipc_desc *d, const msgpack_object *key)
{
	if (key->type != MSGPACK_OBJECT_STR)
		return -EBADMSG;
	for (size_t i = 0; i < d->nfields; i++)
		if (s_str_eq(&key->via.str, d->fields[i].name))
			return (int)i;
	return -EBADMSG;
}

static int s_decode_body(const struct ipc_desc *d, const msgpack_object_map *m, void *msg)
{
	bool seen[IPC_FIELDS_MAX] = { false };
	int i, r;

	if (m->size > d->nfields)
		return -EBADMSG;
	for (uint32_t k = 0; k < m->size; k++) {
		i = s_field_index(d, &m->ptr[k].key);
		if (i < 0 || seen[i])
			return -EBADMSG;
		seen[i] = true;
		r = s_get_field(&d->fields[i], &m->ptr[k].val, msg);
		if (r < 0)
			return r;
	}
	for (size_t f = 0; f < d->nfields; f++)
		if (!seen[f] && !s_field_optional(&d->fields[f]))
			return -EBADMSG;
	return 0;
}

/* ipc_codec_free - release what a decoded body owns (BLOBs) */
void ipc_codec_free(const struct ipc_desc *d, void *msg)
{
	if (!msg)
		return;
	for (size_t i = 0; i < d->nfields; i++) {
		const struct ipc_field *f = &d->fields[i];

		if (f->type != IPC_FT_BLOB)
			continue;
		free(*AT(msg, f->off, char *));
		*AT(msg, f->off, char *) = NULL;
		*AT(msg, f->aux, size_t) = 0;
	}
}

/* ipc_codec_decode - the generic strict decoder behind every ipc_decode_<name> */
int ipc_codec_decode(const struct ipc_desc *d, const void *buf, size_t len, uint64_t *ret_id,
		     void *ret)
{
	_cleanup_(msgpack_unpacked_destroy) msgpack_unpacked u;
	_cleanup_free_ void *tmp = NULL;
	struct s_env env;
	int r;

	msgpack_unpacked_init(&u);
	if (!ret)
		return -EINVAL;
	r = s_unpack(buf, len, d->max_objects, &u);
	if (r < 0)
		return r;
	r = s_envelope(&u.data, &env);
	if (r < 0)
		return r;
	if (!s_str_eq(env.type, d->name))
		return -EBADMSG;
	tmp = calloc(1, d->size);
	if (!tmp)
		return -ENOMEM;
	r = s_decode_body(d, env.body, tmp);
	if (r < 0) {
		ipc_codec_free(d, tmp);
		return r;
	}
	memcpy(ret, tmp, d->size);
	if (ret_id)
		*ret_id = env.id;
	return 0;
}

/* ---- encoding ---------------------------------------------------------- */

/* a C string in a char[max + 1]: NUL within bounds, valid UTF-8 */
static int s_put_str(msgpack_packer *pk, const char *s, size_t max)
{
	size_t n = strnlen(s, max + 1);

	if (n > max || !util_utf8_valid(s, n))
		return -EINVAL;
	msgpack_pack_str(pk, n);
	msgpack_pack_str_body(pk, s, n);
	return 0;
}

static int s_put_blob(msgpack_packer *pk, const struct ipc_field *f, const void *msg)
{
	const char *p = *AT(msg, f->off, char *const);
	size_t n = *AT(msg, f->aux, const size_t);

	if (n > f->max || (n > 0 && !p))
		return -EINVAL;
	msgpack_pack_bin(pk, n);
	msgpack_pack_bin_body(pk, p, n);
	return 0;
}

static int s_put_kv(msgpack_packer *pk, const struct ipc_field *f, const void *msg)
{
	const char *kv = AT(msg, f->off, const char);
	size_t n = *AT(msg, f->aux, const size_t);
	int r;

	if (n > f->max)
		return -EINVAL;
	msgpack_pack_map(pk, n);
	for (size_t i = 0; i < n; i++) {
		const char *e = kv + i * f->kv_size;

		if (s_kv_key_seen(f, kv, i, e))
			return -EINVAL;
		r = s_put_str(pk, e, f->kmax);
		if (r < 0)
			return r;
		r = s_put_str(pk, e + f->kv_voff, f->vmax);
		if (r < 0)
			return r;
	}
	return 0;
}

static bool s_field_present(const struct ipc_field *f, const void *msg)
{
	if (f->type == IPC_FT_OPT_STR)
		return *AT(msg, f->off, const char) != 0;
	if (f->type == IPC_FT_OPT_I64)
		return *AT(msg, f->aux, const bool);
	return true;
}

static int s_put_value(msgpack_packer *pk, const struct ipc_field *f, const void *msg)
{
	switch (f->type) {
	case IPC_FT_STR:
	case IPC_FT_OPT_STR:
		return s_put_str(pk, AT(msg, f->off, const char), f->max);
	case IPC_FT_BLOB:
		return s_put_blob(pk, f, msg);
	case IPC_FT_U64:
		msgpack_pack_uint64(pk, *AT(msg, f->off, const uint64_t));
		return 0;
	case IPC_FT_I64:
	case IPC_FT_OPT_I64:
		msgpack_pack_int64(pk, *AT(msg, f->off, const int64_t));
		return 0;
	case IPC_FT_BOOL:
		if (*AT(msg, f->off, const bool))
			msgpack_pack_true(pk);
		else
			msgpack_pack_false(pk);
		return 0;
	case IPC_FT_KV:
		return s_put_kv(pk, f, msg);
	default:
		abort(); /* descriptor table corrupt */
	}
}

static void s_put_key(msgpack_packer *pk, const char *key)
{
	size_t n = strlen(key);

	msgpack_pack_str(pk, n);
	msgpack_pack_str_body(pk, key, n);
}

static int s_put_body(msgpack_packer *pk, const struct ipc_desc *d, const void *msg)
{
	size_t n = 0;
	int r;

	for (size_t i = 0; i < d->nfields; i++)
		n += s_field_present(&d->fields[i], msg);
	msgpack_pack_map(pk, n);
	for (size_t i = 0; i < d->nfields; i++) {
		if (!s_field_present(&d->fields[i], msg))
			continue;
		s_put_key(pk, d->fields[i].name);
		r = s_put_value(pk, &d->fields[i], msg);
		if (r < 0)
			return r;
	}
	return 0;
}

/* ipc_codec_encode - the generic encoder behind every ipc_encode_<name> */
int ipc_codec_encode(const struct ipc_desc *d, struct ipc_buf *out, uint64_t id, const void *msg)
{
	struct s_writer w = { .b = out, .r = 0 };
	msgpack_packer pk;
	int r;

	if (!out || !msg)
		return -EINVAL;
	ipc_buf_reset(out);
	msgpack_packer_init(&pk, &w, s_write);
	msgpack_pack_map(&pk, 4);
	s_put_key(&pk, "v");
	msgpack_pack_uint64(&pk, IPC_VERSION);
	s_put_key(&pk, "type");
	s_put_key(&pk, d->name);
	s_put_key(&pk, "id");
	msgpack_pack_uint64(&pk, id);
	s_put_key(&pk, "body");
	r = s_put_body(&pk, d, msg);
	if (r >= 0)
		r = w.r;
	if (r < 0)
		ipc_buf_reset(out);
	return r;
}

/* ---- per-message wrappers ---------------------------------------------- */

/* ipc_encode_<name>, ipc_decode_<name>, ipc_free_<name> - see ipc.h */
#define MSG(e, wname, fields, from, to)                                                    \
	int ipc_encode_##fields(struct ipc_buf *out, uint64_t id, const struct ipc_##fields *msg) \
	{                                                                                  \
		return ipc_codec_encode(s_desc_##fields(), out, id, msg);                  \
	}                                                                                  \
	int ipc_decode_##fields(const void *buf, size_t len, uint64_t *ret_id,             \
				struct ipc_##fields *ret)                                  \
	{                                                                                  \
		return ipc_codec_decode(s_desc_##fields(), buf, len, ret_id, ret);         \
	}                                                                                  \
	void ipc_free_##fields(struct ipc_##fields *msg)                                   \
	{                                                                                  \
		ipc_codec_free(s_desc_##fields(), msg);                                    \
	}
#include "messages.def"
#undef MSG

/* copy at most max bytes of s into dst[max + 1], cut at a UTF-8 boundary */
static void s_copy_cut(char *dst, const char *s, size_t max)
{
	size_t n = strnlen(s, max + 1);

	if (n > max) {
		n = max;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	memcpy(dst, s, n);
	dst[n] = 0;
}

/* ipc_encode_error_reply - an "error" frame; a long message is cut, a long code is -EINVAL */
int ipc_encode_error_reply(struct ipc_buf *out, uint64_t id, const char *code, const char *message)
{
	struct ipc_error e = { 0 };

	if (!code || strlen(code) >= sizeof(e.code))
		return -EINVAL;
	memcpy(e.code, code, strlen(code) + 1);
	s_copy_cut(e.message, message ? message : "", sizeof(e.message) - 1);
	return ipc_encode_error(out, id, &e);
}
