/*
 * authd.h - sembark-authd's private state and prototypes, grouped by the
 * file that defines them. authd owns teams, users, invites and sessions; it answers ingressd over
 * a ROUTER (shared/backend.c) and talks to PostgreSQL as the role
 * sembark_authd.
 */
#ifndef SEMBARK_AUTHD_H
#define SEMBARK_AUTHD_H

#include "backend.h"

struct authd {
	struct backend b; /* first: handlers get &authd.b */
};

/* ipc.c */
extern const backend_handler_fn authd_handlers[_IPC_MSG_MAX];

#endif
