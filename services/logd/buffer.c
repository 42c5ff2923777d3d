/*
 * buffer.c - logd's bounded ring of items waiting for PostgreSQL, oldest
 * first: one ring of log records, one of audit events (struct
 * logd_item_type says which: slot size, time, memory charged, what a slot
 * owns). Capped by its slot count ([logs] buffer_records) and by
 * LOGD_BUFFER_BYTES_MAX of charged memory: when full, the oldest item is
 * dropped (and counted) to make room, except while a flush is sending the
 * oldest (busy), when the newcomer is dropped instead.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "logd.h"

static size_t s_bytes(const struct logd_buffer *b, const void *item)
{
	return b->type->bytes ? b->type->bytes(item) : 0;
}

static void s_item_done(const struct logd_buffer *b, void *item)
{
	if (b->type->done)
		b->type->done(item);
}

static void *s_slot(const struct logd_buffer *b, size_t i)
{
	return b->slots + ((b->head + i) % b->cap) * b->type->size;
}

/* logd_buffer_init - an empty ring of cap items of this type (zeroed pages: cheap until used) */
int logd_buffer_init(struct logd_buffer *b, const struct logd_item_type *type, size_t cap)
{
	*b = (struct logd_buffer){ .type = type };
	if (cap == 0)
		return -EINVAL;
	b->slots = calloc(cap, type->size);
	if (!b->slots)
		return -ENOMEM;
	b->cap = cap;
	return 0;
}

/* logd_buffer_done - free every item and the ring */
void logd_buffer_done(struct logd_buffer *b)
{
	logd_buffer_pop(b, b->count);
	free(b->slots);
	*b = (struct logd_buffer){ .type = b->type };
}

static bool s_full(const struct logd_buffer *b, size_t add)
{
	return b->count == b->cap || b->bytes + add > LOGD_BUFFER_BYTES_MAX;
}

/* logd_buffer_push - append *item, taking what it owns (item is zeroed), evicting when full */
void logd_buffer_push(struct logd_buffer *b, void *item)
{
	size_t add = s_bytes(b, item);

	if (!b->slots) {
		s_item_done(b, item);
		return;
	}
	while (b->count > 0 && s_full(b, add)) {
		b->dropped++;
		if (b->busy) {
			s_item_done(b, item);
			return;
		}
		logd_buffer_pop(b, 1);
	}
	memcpy(s_slot(b, b->count), item, b->type->size);
	memset(item, 0, b->type->size);
	b->count++;
	b->bytes += add;
}

/* logd_buffer_peek - the i-th oldest item, NULL past the end */
void *logd_buffer_peek(const struct logd_buffer *b, size_t i)
{
	if (i >= b->count)
		return NULL;
	return s_slot(b, i);
}

/* logd_buffer_time - when the i-th oldest item happened (i < count) */
int64_t logd_buffer_time(const struct logd_buffer *b, size_t i)
{
	return b->type->time_us(logd_buffer_peek(b, i));
}

/* logd_buffer_pop - free the n oldest items */
void logd_buffer_pop(struct logd_buffer *b, size_t n)
{
	n = MIN(n, b->count);
	while (n-- > 0) {
		void *item = s_slot(b, 0);

		b->bytes -= MIN(s_bytes(b, item), b->bytes);
		s_item_done(b, item);
		b->head = (b->head + 1) % b->cap;
		b->count--;
	}
	if (b->count == 0)
		b->head = 0;
}
