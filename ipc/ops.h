/*
 * ops.h - the HTTP API operations of ipc/operations.def as C: an enum, one
 * row of data per operation (wire name, route, owning daemon, who may call
 * it, ingressd's flags), lookup by wire name, and the role rule every
 * daemon applies to WHO. Pure data and functions: no I/O.
 */
#ifndef SEMBARK_IPC_OPS_H
#define SEMBARK_IPC_OPS_H

#include <stdbool.h>
#include <stddef.h>

#include "ipc.h"

enum ipc_op {
#define IPC_OP(e, stem, wire, method, path, daemon, who, flags) IPC_OP_##e,
#include "operations.def"
#undef IPC_OP
	_IPC_OP_MAX,
	_IPC_OP_INVALID = -1,
};

/* Who may call an operation (checked by the daemon that owns it). */
enum ipc_op_who {
	IPC_WHO_ANYONE,
	IPC_WHO_SESSION, /* any live session */
	IPC_WHO_ADMIN,   /* owner or admin */
	IPC_WHO_OWNER,
	_IPC_WHO_MAX,
	_IPC_WHO_INVALID = -1,
};

/* What ingressd does for an operation's route (FLAGS in operations.def). */
enum ipc_op_flags {
	IPC_OPF_NONE = 0,
	IPC_OPF_JSON = 1 << 0,      /* a JSON object body, passed on */
	IPC_OPF_BIG_BODY = 1 << 1,  /* body limit [ingress] max_telemetry_body */
	IPC_OPF_QUERY = 1 << 2,     /* the query string is passed on */
	IPC_OPF_RATE = 1 << 3,      /* counted against [ingress] client_rate_limit */
	IPC_OPF_ANON_CSRF = 1 << 4, /* CSRF token required even without a session */
	IPC_OPF_NATIVE = 1 << 5,    /* native clients: no CSRF, sets no cookie */
	IPC_OPF_ACCEPTED = 1 << 6,  /* a 202 reply passes to the client */
	IPC_OPF_BEFORE_2FA = 1 << 7, /* allowed to a session that must turn two-factor login on first */
};

/* One operation. */
struct ipc_op_info {
	enum ipc_op op;
	const char *wire;      /* auth.call / api.call op */
	const char *method;    /* "GET", "POST", "PATCH", "DELETE" */
	const char *path;      /* route pattern */
	enum ipc_peer daemon;  /* IPC_PEER_AUTHD, _TELEMETRYD or _LOGD */
	enum ipc_op_who who;
	unsigned flags;        /* IPC_OPF_* */
};

extern const struct ipc_op_info ipc_ops[_IPC_OP_MAX];

/*
 * IPC_OP_HANDLER(self, daemon, stem) - for a table of daemon self's
 * handlers built from operations.def: self_op_<stem> for its own rows,
 * NULL for another daemon's. self and daemon: authd, telemetryd, logd.
 */
#define IPC_OP_HANDLER(self, daemon, stem) IPC_OP_HANDLER_##self##_##daemon(self, stem)
#define IPC_OP_HANDLER_MINE(self, stem) self##_op_##stem
#define IPC_OP_HANDLER_authd_authd IPC_OP_HANDLER_MINE
#define IPC_OP_HANDLER_authd_telemetryd(self, stem) NULL
#define IPC_OP_HANDLER_authd_logd(self, stem) NULL
#define IPC_OP_HANDLER_telemetryd_authd(self, stem) NULL
#define IPC_OP_HANDLER_telemetryd_telemetryd IPC_OP_HANDLER_MINE
#define IPC_OP_HANDLER_telemetryd_logd(self, stem) NULL
#define IPC_OP_HANDLER_logd_authd(self, stem) NULL
#define IPC_OP_HANDLER_logd_telemetryd(self, stem) NULL
#define IPC_OP_HANDLER_logd_logd IPC_OP_HANDLER_MINE

/* ipc_op_from_wire - the operation of a wire name, _IPC_OP_INVALID when none */
enum ipc_op ipc_op_from_wire(const char *wire);
/* ipc_role_rank - owner 3, admin 2, member 1, anything else 0 */
int ipc_role_rank(const char *role);
/* ipc_op_allows - may a session of this role call an operation for `who`? */
bool ipc_op_allows(enum ipc_op_who who, const char *role);

#endif
