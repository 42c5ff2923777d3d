/*
 * log_sink.c - the log frame: every record shared/log.c hands over becomes
 * one ipc log.record frame on the process's ZeroMQ PUSH socket to
 * sembark-logd ([ipc] log_sink), sent with ZMQ_DONTWAIT, so logging never
 * waits for logd; a frame that cannot be queued is dropped and counted by
 * log.c. Texts are bounded and made well-formed UTF-8 (log_copy_text)
 * before they are encoded. The socket is daemon.c's; log.c calls us on
 * its forwarding thread only.
 */
#include <stdbool.h>
#include <stdio.h>

#include <zmq.h>

#include "ipc.h"
#include "log.h"
#include "log_sink.h"
#include "macro.h"

static struct ipc_log_record s_wire;
static struct ipc_buf s_wire_buf;
static bool s_wire_buf_ready;
static uint64_t s_wire_id;

/* s_wire_fill - the record as a log.record body: bounded, well-formed UTF-8 */
static void s_wire_fill(struct ipc_log_record *m, const struct log_record *rec)
{
	const char *level = log_level_to_string(rec->level);
	size_t n = 0;

	m->time_us = rec->time_us;
	log_copy_text(m->service, sizeof(m->service), rec->service ? rec->service : "",
		      sizeof(m->service) - 1);
	log_copy_text(m->level, sizeof(m->level), level ? level : "error", SIZE_MAX);
	log_copy_text(m->msg, sizeof(m->msg), rec->msg ? rec->msg : "", LOG_MSG_MAX);
	for (const struct log_field *f = rec->fields;
	     f && f->type != LOG_FIELD_END && n < ELEMENTSOF(m->fields); f++, n++) {
		log_copy_text(m->fields[n].key, sizeof(m->fields[n].key),
			      log_key_ok(f->key) ? f->key : "bad_key", LOG_KEY_MAX);
		if (f->type == LOG_FIELD_INT)
			snprintf(m->fields[n].value, sizeof(m->fields[n].value), "%lld", f->i);
		else
			log_copy_text(m->fields[n].value, sizeof(m->fields[n].value),
				      f->s ? f->s : "", LOG_VALUE_MAX);
	}
	m->fields_n = n;
}

/* s_push - encode and hand to the PUSH socket without waiting; false: dropped */
static bool s_push(const struct log_record *rec, void *socket)
{
	if (!s_wire_buf_ready) {
		ipc_buf_init(&s_wire_buf);
		s_wire_buf_ready = true;
	}
	s_wire_fill(&s_wire, rec);
	return ipc_encode_log_record(&s_wire_buf, ++s_wire_id, &s_wire) == 0 &&
	       zmq_send(socket, s_wire_buf.data, s_wire_buf.size, ZMQ_DONTWAIT) >= 0;
}

/* log_sink_attach - records go to logd through this PUSH socket (not owned) */
void log_sink_attach(void *zmq_push_socket)
{
	log_attach_sink(s_push, zmq_push_socket);
}

/* log_sink_detach - stop before the socket is closed; frees the frame buffer */
void log_sink_detach(void)
{
	log_detach_sink();
	if (s_wire_buf_ready) {
		ipc_buf_done(&s_wire_buf);
		s_wire_buf_ready = false;
	}
}
