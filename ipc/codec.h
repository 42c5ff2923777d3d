/*
 * codec.h - the inside of ipc/codec.c: one descriptor per message body,
 * generated from the X-macros of messages.def, and the one generic strict
 * encoder/decoder those descriptors drive. Daemons use ipc.h only; this
 * header is for codec.c itself, its unit test (which adds a test-only
 * message covering every field type) and the fuzz harness.
 */
#ifndef SEMBARK_IPC_CODEC_H
#define SEMBARK_IPC_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "ipc.h"
#include "macro.h"

#define IPC_FIELDS_MAX 64 /* fields per body, checked at compile time */
#define IPC_DEPTH_MAX 3   /* nested maps: envelope, body, KV field */
#define IPC_ENVELOPE_OBJECTS 9 /* map + 4 keys + v, type, id, body */

enum ipc_ftype {
	IPC_FT_STR,
	IPC_FT_OPT_STR,
	IPC_FT_BLOB,
	IPC_FT_U64,
	IPC_FT_I64,
	IPC_FT_OPT_I64,
	IPC_FT_BOOL,
	IPC_FT_KV,
	_IPC_FT_MAX,
	_IPC_FT_INVALID = -1,
};

/* One body field: where it lives in the C struct and what bounds it has. */
struct ipc_field {
	const char *name;
	enum ipc_ftype type;
	size_t off;     /* the value: char[], char *, integer, bool or KV array */
	size_t aux;     /* BLOB: name_len; OPT_I64: has_name; KV: name_n */
	size_t max;     /* STR, OPT_STR, BLOB: bytes; KV: entries */
	size_t kmax;    /* KV: key bytes */
	size_t vmax;    /* KV: value bytes */
	size_t kv_size; /* KV: sizeof one entry */
	size_t kv_voff; /* KV: offset of value inside an entry */
};

/* One message: wire name, peer graph, C struct size and its fields. */
struct ipc_desc {
	const char *name;
	int type; /* enum ipc_msg_type, or _IPC_MSG_INVALID for test messages */
	unsigned from;
	unsigned to;
	size_t size;
	const struct ipc_field *fields;
	size_t nfields;
	size_t max_objects; /* msgpack objects in the largest valid frame */
};

/* Field macros producing struct ipc_field initialisers; `ipc_d_t` is the
 * body struct, typedef'd inside the function IPC_DESC_DEFINE writes. */
#define IPC_DF_(n, t, ...) { .name = #n, .type = (t), .off = offsetof(ipc_d_t, n), __VA_ARGS__ },
#define IPC_D_STR(n, m) IPC_DF_(n, IPC_FT_STR, .max = (m))
#define IPC_D_OPT_STR(n, m) IPC_DF_(n, IPC_FT_OPT_STR, .max = (m))
#define IPC_D_BLOB(n, m) IPC_DF_(n, IPC_FT_BLOB, .aux = offsetof(ipc_d_t, n##_len), .max = (m))
#define IPC_D_U64(n) IPC_DF_(n, IPC_FT_U64, .max = 0)
#define IPC_D_I64(n) IPC_DF_(n, IPC_FT_I64, .max = 0)
#define IPC_D_OPT_I64(n) IPC_DF_(n, IPC_FT_OPT_I64, .aux = offsetof(ipc_d_t, has_##n))
#define IPC_D_BOOL(n) IPC_DF_(n, IPC_FT_BOOL, .max = 0)
#define IPC_D_KV(n, c, k, v)                                                             \
	IPC_DF_(n, IPC_FT_KV, .aux = offsetof(ipc_d_t, n##_n), .max = (c), .kmax = (k),  \
		.vmax = (v), .kv_size = sizeof(((ipc_d_t *)0)->n[0]),                     \
		.kv_voff = offsetof(__typeof__(((ipc_d_t *)0)->n[0]), value))

/* Field macros counting msgpack objects (key + value, KV entries). */
#define IPC_O_STR(n, m) +2
#define IPC_O_OPT_STR(n, m) +2
#define IPC_O_BLOB(n, m) +2
#define IPC_O_U64(n) +2
#define IPC_O_I64(n) +2
#define IPC_O_OPT_I64(n) +2
#define IPC_O_BOOL(n) +2
#define IPC_O_KV(n, c, k, v) +2 + 2 * (c)

/*
 * IPC_DESC_DEFINE - define `static const struct ipc_desc *fn(void)` for
 * the body IPC_FIELDS_<body_> / struct ipc_<body_>.
 */
#define IPC_DESC_DEFINE(fn, body_, wname, etype, from_, to_)                                    \
	static const struct ipc_desc *fn(void)                                                  \
	{                                                                                       \
		typedef struct ipc_##body_ ipc_d_t;                                             \
		static const struct ipc_field f_[] = { IPC_FIELDS_##body_(IPC_D){ .name = NULL } };   \
		static const struct ipc_desc d_ = {                                             \
			.name = (wname),                                                        \
			.type = (etype),                                                        \
			.from = (from_),                                                        \
			.to = (to_),                                                            \
			.size = sizeof(ipc_d_t),                                                \
			.fields = f_,                                                           \
			.nfields = ELEMENTSOF(f_) - 1,                                          \
			.max_objects = IPC_ENVELOPE_OBJECTS IPC_FIELDS_##body_(IPC_O),          \
		};                                                                              \
		_Static_assert(ELEMENTSOF(f_) - 1 <= IPC_FIELDS_MAX, "too many fields");        \
		return &d_;                                                                     \
	}

/* ipc_desc_get - the descriptor of a table message, NULL when t is invalid */
const struct ipc_desc *ipc_desc_get(enum ipc_msg_type t);

/* ipc_codec_encode - the generic encoder behind every ipc_encode_<name> */
int ipc_codec_encode(const struct ipc_desc *d, struct ipc_buf *out, uint64_t id, const void *msg);
/* ipc_codec_decode - the generic strict decoder behind every ipc_decode_<name> */
int ipc_codec_decode(const struct ipc_desc *d, const void *buf, size_t len, uint64_t *ret_id,
		     void *ret);
/* ipc_codec_free - release what a decoded body owns (BLOBs) */
void ipc_codec_free(const struct ipc_desc *d, void *msg);

#endif
