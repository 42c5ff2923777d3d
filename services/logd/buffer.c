/*
 * buffer.c - logd's bounded ring of records waiting for PostgreSQL,
 * oldest first. Capped by [logs] buffer_records and by
 * LOGD_BUFFER_BYTES_MAX: when full, the oldest record is dropped (and
 * counted) to make room, except while a flush is sending the oldest
 * (busy), when the newcomer is dropped instead.
 */
#include <errno.h>
#include <stdlib.h>

#include "logd.h"

/* logd_buffer_init - an empty ring of cap records */
int logd_buffer_init(struct logd_buffer *b, size_t cap)
{
	*b = (struct logd_buffer){ 0 };
	if (cap == 0)
		return -EINVAL;
	b->slots = calloc(cap, sizeof(*b->slots));
	if (!b->slots)
		return -ENOMEM;
	b->cap = cap;
	return 0;
}

/* logd_buffer_done - free every record and the ring */
void logd_buffer_done(struct logd_buffer *b)
{
	logd_buffer_pop(b, b->count);
	free(b->slots);
	*b = (struct logd_buffer){ 0 };
}

static bool s_full(const struct logd_buffer *b, size_t add)
{
	return b->count == b->cap || b->bytes + add > LOGD_BUFFER_BYTES_MAX;
}

/* logd_buffer_push - append *rec, taking its strings (rec is emptied) */
void logd_buffer_push(struct logd_buffer *b, struct logd_rec *rec)
{
	struct logd_rec *slot;

	while (b->count > 0 && s_full(b, rec->bytes)) {
		if (b->busy) {
			logd_record_done(rec);
			b->dropped++;
			return;
		}
		logd_buffer_pop(b, 1);
		b->dropped++;
	}
	slot = &b->slots[(b->head + b->count) % b->cap];
	*slot = *rec;
	rec->msg = NULL;
	rec->fields = NULL;
	b->count++;
	b->bytes += slot->bytes;
}

/* logd_buffer_peek - the i-th oldest record, NULL past the end */
struct logd_rec *logd_buffer_peek(struct logd_buffer *b, size_t i)
{
	if (i >= b->count)
		return NULL;
	return &b->slots[(b->head + i) % b->cap];
}

/* logd_buffer_pop - free the n oldest records */
void logd_buffer_pop(struct logd_buffer *b, size_t n)
{
	n = MIN(n, b->count);
	while (n-- > 0) {
		struct logd_rec *rec = &b->slots[b->head];

		b->bytes -= MIN(rec->bytes, b->bytes);
		logd_record_done(rec);
		b->head = (b->head + 1) % b->cap;
		b->count--;
	}
	if (b->count == 0)
		b->head = 0;
}
