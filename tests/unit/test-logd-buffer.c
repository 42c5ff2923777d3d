/*
 * test-logd-buffer.c - unit tests of sembark-logd's buffer
 * (services/logd/buffer.c) holding log records, which own heap strings
 * and are charged their size: a table of pushes (slot cap, byte cap
 * LOGD_BUFFER_BYTES_MAX, busy) and what must remain, the newcomer freed
 * when it is the one dropped, and every string freed by pop and done
 * (AddressSanitizer finds a leak or a double free). The eviction of fixed
 * slots (audit events) is in test-logd-audit.c.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "services/logd/logd.h"

#define BIG (LOGD_BUFFER_BYTES_MAX / 2 - 1) /* two fit, not three */

/* s_rec - a record of time t charged bytes, with heap strings */
static struct logd_rec s_rec(int64_t t, size_t bytes)
{
	struct logd_rec rec = { .time_us = t, .bytes = bytes };

	rec.msg = strdup("m");
	rec.fields = strdup("{}");
	assert_non_null(rec.msg);
	assert_non_null(rec.fields);
	return rec;
}

struct push_case {
	const char *name;
	size_t cap;
	size_t bytes[6];     /* charge of each push (0: end) */
	bool busy_from_last; /* the last push happens while a flush is busy */
	size_t count;        /* then: items kept */
	uint64_t dropped;
	int64_t oldest, newest; /* their times (push i has time i + 1) */
};

static const struct push_case s_cases[] = {
	{ "fits", 4, { 10, 10, 10 }, false, 3, 0, 1, 3 },
	{ "slots full: oldest goes", 2, { 10, 10, 10, 10 }, false, 2, 2, 3, 4 },
	{ "bytes full: oldest goes", 9, { BIG, BIG, BIG }, false, 2, 1, 2, 3 },
	{ "bytes full: as many as needed go", 9, { BIG / 2, BIG / 2, BIG, BIG + BIG / 2 }, false,
	  1, 3, 4, 4 },
	{ "busy: newcomer goes", 2, { 10, 10, 10 }, true, 2, 1, 1, 2 },
	{ "busy, bytes full: newcomer goes", 9, { BIG, BIG, BIG }, true, 2, 1, 1, 2 },
};

static void test_push(void **state)
{
	for (size_t c = 0; c < sizeof(s_cases) / sizeof(s_cases[0]); c++) {
		const struct push_case *k = &s_cases[c];
		struct logd_buffer b;
		size_t n = 0;

		assert_int_equal(logd_buffer_init(&b, &logd_rec_type, k->cap), 0);
		while (n < 6 && k->bytes[n])
			n++;
		for (size_t i = 0; i < n; i++) {
			struct logd_rec rec = s_rec((int64_t)i + 1, k->bytes[i]);

			b.busy = k->busy_from_last && i == n - 1;
			logd_buffer_push(&b, &rec);
			assert_null(rec.msg); /* taken, even when dropped */
			assert_null(rec.fields);
		}
		b.busy = false;
		if (b.count != k->count || b.dropped != k->dropped ||
		    logd_buffer_time(&b, 0) != k->oldest ||
		    logd_buffer_time(&b, b.count - 1) != k->newest)
			fail_msg("%s: count %zu dropped %llu", k->name, b.count,
				 (unsigned long long)b.dropped);
		logd_buffer_done(&b);
	}
}

static void test_pop_and_bytes(void **state)
{
	struct logd_buffer b;
	struct logd_rec rec;

	assert_int_equal(logd_buffer_init(&b, &logd_rec_type, 3), 0);
	for (int i = 1; i <= 3; i++) {
		rec = s_rec(i, 100);
		logd_buffer_push(&b, &rec);
	}
	assert_int_equal(b.bytes, 300);
	assert_string_equal(((struct logd_rec *)logd_buffer_peek(&b, 2))->fields, "{}");
	logd_buffer_pop(&b, 2);
	assert_int_equal(b.count, 1);
	assert_int_equal(b.bytes, 100);
	assert_int_equal(logd_buffer_time(&b, 0), 3);
	logd_buffer_pop(&b, 5);
	assert_int_equal(b.count, 0);
	assert_int_equal(b.bytes, 0);
	assert_null(logd_buffer_peek(&b, 0));
	rec = s_rec(4, 100); /* wraps around to slot 0 */
	logd_buffer_push(&b, &rec);
	assert_int_equal(logd_buffer_time(&b, 0), 4);
	logd_buffer_done(&b); /* frees the one left */
	assert_int_equal(b.count, 0);
	rec = s_rec(5, 100); /* after done: freed, not kept */
	logd_buffer_push(&b, &rec);
	assert_int_equal(b.count, 0);
	assert_int_equal(logd_buffer_init(&b, &logd_rec_type, 0), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_push),
		cmocka_unit_test(test_pop_and_bytes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
