/*
 * ipc.h - sembark's wire protocol between daemons: ZeroMQ frames each
 * holding one msgpack map {v: IPC_VERSION, type: "name", id: u64, body: {}}.
 * The message table is ipc/messages.def; this header turns it into an
 * enum, one C struct per body, and one strict encoder/decoder per message.
 *
 * Decoders are the single place where bytes from another process are
 * checked: wrong msgpack type, missing, unknown or duplicate field, string
 * over its bound or with a NUL, map or array over its cap, wrong version,
 * type not matching, frame over IPC_FRAME_MAX, or trailing bytes all give
 * -EBADMSG, never a crash. ret_* outputs are written only on success.
 */
#ifndef SEMBARK_IPC_H
#define SEMBARK_IPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IPC_VERSION 10
#define IPC_FRAME_MAX (2u * 1024 * 1024) /* ZMQ_MAXMSGSIZE default, see [ipc] max_msg_bytes */

enum ipc_peer {
	IPC_PEER_INGRESSD = 1 << 0,
	IPC_PEER_AUTHD = 1 << 1,
	IPC_PEER_TELEMETRYD = 1 << 2,
	IPC_PEER_LOGD = 1 << 3,
	IPC_PEER_CTL = 1 << 4,
	IPC_PEER_BACKENDS = IPC_PEER_AUTHD | IPC_PEER_TELEMETRYD | IPC_PEER_LOGD,
	IPC_PEER_ANY = 0x1f,
};

enum ipc_msg_type {
#define MSG(e, name, fields, from, to) IPC_MSG_##e,
#include "messages.def"
#undef MSG
	_IPC_MSG_MAX,
	_IPC_MSG_INVALID = -1,
};

/* A growable output buffer for encoders (wraps msgpack_sbuffer's layout). */
struct ipc_buf {
	char *data;
	size_t size;
	size_t alloc;
};
void ipc_buf_init(struct ipc_buf *b);
void ipc_buf_reset(struct ipc_buf *b); /* size = 0, keeps memory */
void ipc_buf_done(struct ipc_buf *b);  /* frees */

/* ---- generated body structs ------------------------------------------- */

#define IPC_S_STR(n, max) char n[(max) + 1];
#define IPC_S_OPT_STR(n, max) char n[(max) + 1];
#define IPC_S_BLOB(n, max) char *n; size_t n##_len;
#define IPC_S_U64(n) uint64_t n;
#define IPC_S_I64(n) int64_t n;
#define IPC_S_OPT_I64(n) int64_t n; bool has_##n;
#define IPC_S_BOOL(n) bool n;
#define IPC_S_KV(n, count, kmax, vmax) \
	struct { char key[(kmax) + 1]; char value[(vmax) + 1]; } n[count]; size_t n##_n;

#define MSG(e, name, fields, from, to) \
	struct ipc_##fields { int _empty_; IPC_FIELDS_##fields(IPC_S) };
#include "messages.def"
#undef MSG

/* ---- table ------------------------------------------------------------- */

const char *ipc_msg_type_to_str(enum ipc_msg_type t);
enum ipc_msg_type ipc_msg_type_from_str(const char *s, size_t len);
/* ipc_msg_allowed - may `from` send t to `to` (the peer graph)? */
bool ipc_msg_allowed(enum ipc_msg_type t, enum ipc_peer from, enum ipc_peer to);

/*
 * ipc_peek - validate the envelope (map of exactly v, type, id, body; v ==
 * IPC_VERSION; known type; body a map; no trailing bytes) and return its
 * type and id. The body itself is checked by the per-message decoder.
 */
int ipc_peek(const void *buf, size_t len, enum ipc_msg_type *ret_type, uint64_t *ret_id);

/* ---- one encoder / decoder / free per message ------------------------- */
/*
 * ipc_encode_<name>(out, id, msg): append one whole frame to out (out is
 * reset first). Returns 0 or -EINVAL when msg breaks its own bounds.
 * ipc_decode_<name>(buf, len, ret_id, ret): strict, see top of file; on
 * success *ret owns any BLOB memory: release with ipc_free_<name>(ret).
 */
#define MSG(e, name, fields, from, to)                                                  \
	int ipc_encode_##fields(struct ipc_buf *out, uint64_t id, const struct ipc_##fields *msg); \
	int ipc_decode_##fields(const void *buf, size_t len, uint64_t *ret_id,           \
				struct ipc_##fields *ret);                                \
	void ipc_free_##fields(struct ipc_##fields *msg);
#include "messages.def"
#undef MSG

/* ipc_encode_error_reply - shorthand for an error frame */
int ipc_encode_error_reply(struct ipc_buf *out, uint64_t id, const char *code, const char *message);

#endif
