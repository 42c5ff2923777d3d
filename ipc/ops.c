/*
 * ops.c - ipc/operations.def as data (see ops.h): the one row each HTTP
 * API operation has, built by the preprocessor, and the two rules read
 * from it everywhere: lookup by wire name and who may call.
 */
#include <string.h>

#include "macro.h"
#include "ops.h"

#define OPS_DAEMON_authd IPC_PEER_AUTHD
#define OPS_DAEMON_telemetryd IPC_PEER_TELEMETRYD
#define OPS_DAEMON_logd IPC_PEER_LOGD

const struct ipc_op_info ipc_ops[_IPC_OP_MAX] = {
#define IPC_OP(e, stem, wire_, method_, path_, daemon_, who_, flags_)                         \
	[IPC_OP_##e] = { .op = IPC_OP_##e, .wire = wire_, .method = #method_, .path = path_, \
			 .daemon = OPS_DAEMON_##daemon_, .who = IPC_WHO_##who_, .flags = (flags_) },
#include "operations.def"
#undef IPC_OP
};

/* ipc_op_from_wire - the operation of a wire name, _IPC_OP_INVALID when none */
enum ipc_op ipc_op_from_wire(const char *wire)
{
	for (size_t i = 0; i < ELEMENTSOF(ipc_ops); i++)
		if (strcmp(ipc_ops[i].wire, wire) == 0)
			return ipc_ops[i].op;
	return _IPC_OP_INVALID;
}

/* ipc_role_rank - owner 3, admin 2, member 1, anything else 0 */
int ipc_role_rank(const char *role)
{
	if (strcmp(role, "owner") == 0)
		return 3;
	if (strcmp(role, "admin") == 0)
		return 2;
	if (strcmp(role, "member") == 0)
		return 1;
	return 0;
}

/* ipc_op_allows - may a session of this role call an operation for `who`? */
bool ipc_op_allows(enum ipc_op_who who, const char *role)
{
	static const int need[_IPC_WHO_MAX] = {
		[IPC_WHO_ANYONE] = 0,
		[IPC_WHO_SESSION] = 1,
		[IPC_WHO_ADMIN] = 2,
		[IPC_WHO_OWNER] = 3,
	};

	return who >= 0 && who < _IPC_WHO_MAX && ipc_role_rank(role) >= need[who];
}
