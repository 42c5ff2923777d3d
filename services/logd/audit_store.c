/*
 * audit_store.c - logd's stream of audit events (batch.c writes it on the
 * asynchronous pool, on store.c's timers, like the log records): its rows
 * of the day-partitioned `audit_events` table, moved out of authd's
 * outbox (audit_outbox.c) by the same statement, in the order authd
 * wrote them (ids follow it; an absent actor or subject, "" in the
 * arrays, is NULL),
 * daily partitions from the SECURITY DEFINER function
 * sembark_ensure_audit_partitions, and the messages that name it.
 */
#include "logd.h"

/* s_row - an event's column values, in the order of insert_sql's arrays */
static void s_row(const void *item, const char **p)
{
	const struct logd_audit *ev = item;

	p[0] = ev->at;
	p[1] = ev->team_id;
	p[2] = ev->event;
	p[3] = ev->actor_id;
	p[4] = ev->actor_email;
	p[5] = ev->subject_id;
	p[6] = ev->subject_email;
	p[7] = ev->outbox_id_text;
}

const struct logd_stream_type logd_audit_stream = {
	.item = &logd_audit_type,
	.ensure_sql = DB_PARTITIONS_ENSURE_SQL("sembark_ensure_audit_partitions"),
	.table = "audit_events",
	.created = "audit partitions created",
	.refused = "audit event refused by the database",
	.failed = "audit flush failed, events kept",
	.recovered = "audit flush recovered",
	/* into audit_events and out of the outbox at once; rows already moved are skipped */
	.insert_sql = "WITH moved AS (DELETE FROM audit_outbox WHERE id = ANY($8::bigint[]) "
		      "RETURNING id) "
		      "INSERT INTO audit_events (at, team_id, event, actor_id, actor_email, "
		      "subject_id, subject_email) "
		      "SELECT at, team_id, event, NULLIF(actor_id, '')::uuid, NULLIF(actor_email, ''), "
		      "NULLIF(subject_id, '')::uuid, NULLIF(subject_email, '') "
		      "FROM unnest($1::timestamptz[], $2::uuid[], $3::text[], $4::text[], $5::text[], "
		      "$6::text[], $7::text[], $8::bigint[]) WITH ORDINALITY AS x(at, team_id, event, "
		      "actor_id, actor_email, subject_id, subject_email, outbox_id, k) "
		      "WHERE outbox_id IN (SELECT id FROM moved) ORDER BY k",
	.ncols = 8,
	.row = s_row,
};

/* logd_audit_add - buffer an event (copied; *ev is zeroed) */
void logd_audit_add(struct logd *l, struct logd_audit *ev)
{
	logd_buffer_push(&l->audit.buf, ev);
}
