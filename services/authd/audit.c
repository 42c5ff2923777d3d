/*
 * audit.c - sembark-authd's audit hooks: one audit.event frame per event
 * API.md lists (team_created, login, login_failed, logout, member_joined,
 * invite_rotated, role_changed, member_removed, session_revoked,
 * password_changed), pushed to logd through the daemon's log PUSH socket
 * ([ipc] log_sink, runtime/daemon.c), the same fire-and-forget path as log
 * records. Never blocks (ZMQ_DONTWAIT): when logd is away and the queue
 * is full the event is dropped and counted. Loop thread only (the PUSH
 * socket is also used by log.c on this thread).
 *
 * An event carries the team, the actor and the subject ({id, email} or
 * none), never a token, password or address.
 */
#include <errno.h>
#include <stdio.h>

#include <zmq.h>

#include "authd.h"
#include "log.h"

static uint64_t s_dropped, s_next_id;

static void s_copy(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src ? src : "");
}

static void s_who(const struct authd_who *w, char *id, size_t id_size, char *email,
		  size_t email_size)
{
	s_copy(id, id_size, w ? w->id : NULL);
	s_copy(email, email_size, w ? w->email : NULL);
}

/* authd_audit - push one audit.event to logd, never blocking (drops counted) */
void authd_audit(struct authd *a, const char *event, const char *team_id,
		 const struct authd_who *actor, const struct authd_who *subject)
{
	struct ipc_audit_event m = { .time_us = now_us() };
	struct ipc_buf out;
	int r;

	s_copy(m.event, sizeof(m.event), event);
	s_copy(m.team_id, sizeof(m.team_id), team_id);
	s_who(actor, m.actor_id, sizeof(m.actor_id), m.actor_email, sizeof(m.actor_email));
	s_who(subject, m.subject_id, sizeof(m.subject_id), m.subject_email,
	      sizeof(m.subject_email));
	ipc_buf_init(&out);
	r = ipc_encode_audit_event(&out, ++s_next_id, &m);
	if (r == 0 && a->b.d.log_push &&
	    zmq_send(a->b.d.log_push, out.data, out.size, ZMQ_DONTWAIT) < 0)
		r = -errno;
	else if (r == 0 && !a->b.d.log_push)
		r = -ENOTCONN;
	ipc_buf_done(&out);
	if (r < 0) {
		s_dropped++;
		log_debug("audit event dropped", LOG_S("event", event), LOG_I("dropped", s_dropped));
	}
}

/* authd_audit_dropped - events the PUSH refused */
uint64_t authd_audit_dropped(void)
{
	return s_dropped;
}
