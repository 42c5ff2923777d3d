/*
 * test-ingressd-ratelimit.c - sembark-ingressd's per-client-address rate
 * (ratelimit.c) on a made-up clock: the burst of L, the steady rate, the
 * Retry-After seconds, addresses kept apart (IPv4, IPv6 per /64), refused
 * requests not counted, the bounded table with eviction, and the sweep.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "macro.h"
#include "services/ingressd/ingressd.h"

#define S 1000000LL /* µs in a second */
#define T0 (1000 * S)

static const uint8_t A4[4] = { 192, 0, 2, 1 };
static const uint8_t B4[4] = { 192, 0, 2, 2 };
static const uint8_t A6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 2, 0, 0, 0, 0, 0, 0, 0, 1 };
static const uint8_t A6_SAME64[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 2, 9, 9, 9, 9, 9, 9, 9, 9 };
static const uint8_t A6_OTHER64[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 3, 0, 0, 0, 0, 0, 0, 0, 1 };

static struct ingress_ratelimit *s_new(unsigned per_minute, size_t entries)
{
	struct ingress_ratelimit *rl = NULL;

	assert_int_equal(ingress_ratelimit_new(per_minute, entries, &rl), 0);
	return rl;
}

static void test_new(void **state)
{
	struct ingress_ratelimit *rl = NULL;
	static const struct {
		size_t entries, capacity;
	} caps[] = { { 8, 8 }, { 15, 8 }, { 16, 16 }, { 100000, 65536 },
		     { RATELIMIT_ENTRIES, RATELIMIT_ENTRIES } };

	assert_int_equal(ingress_ratelimit_new(0, 1024, &rl), -EINVAL);
	assert_int_equal(ingress_ratelimit_new(5, RATELIMIT_WAYS - 1, &rl), -EINVAL);
	assert_null(rl);
	for (size_t i = 0; i < ELEMENTSOF(caps); i++) {
		rl = s_new(5, caps[i].entries);
		assert_int_equal(ingress_ratelimit_capacity(rl), caps[i].capacity);
		assert_int_equal(ingress_ratelimit_size(rl), 0);
		rl = ingress_ratelimit_free(rl);
	}
	assert_null(ingress_ratelimit_free(NULL));
}

/* A step: at time t, what take() answers for addr. */
struct step {
	int64_t t;
	const uint8_t *addr;
	size_t len;
	int want; /* 0 allowed, else Retry-After seconds */
};

struct window_case {
	const char *name;
	unsigned per_minute;
	struct step steps[16];
	size_t n;
};

static const struct window_case s_windows[] = {
	{ "burst of 3, then one every 20 s", 3,
	  { { T0, A4, 4, 0 }, { T0, A4, 4, 0 }, { T0, A4, 4, 0 }, { T0, A4, 4, 20 },
	    { T0 + 1 * S, A4, 4, 19 }, { T0 + 19 * S + 1, A4, 4, 1 }, { T0 + 20 * S, A4, 4, 0 },
	    { T0 + 20 * S, A4, 4, 20 }, { T0 + 40 * S, A4, 4, 0 }, { T0 + 100 * S, A4, 4, 0 },
	    { T0 + 100 * S, A4, 4, 0 }, { T0 + 100 * S, A4, 4, 0 }, { T0 + 100 * S, A4, 4, 20 } },
	  13 },
	{ "addresses are apart", 1,
	  { { T0, A4, 4, 0 }, { T0, A4, 4, 60 }, { T0, B4, 4, 0 }, { T0, B4, 4, 60 },
	    { T0, A6, 16, 0 }, { T0, A6, 16, 60 }, { T0, A6_OTHER64, 16, 0 },
	    { T0 + 60 * S, A4, 4, 0 }, { T0 + 60 * S, B4, 4, 0 } },
	  9 },
	{ "IPv6 counts per /64", 2,
	  { { T0, A6, 16, 0 }, { T0, A6_SAME64, 16, 0 }, { T0, A6, 16, 30 },
	    { T0, A6_SAME64, 16, 30 } },
	  4 },
	{ "refused requests are not counted", 2,
	  { { T0, A4, 4, 0 }, { T0, A4, 4, 0 }, { T0 + 1 * S, A4, 4, 29 }, { T0 + 2 * S, A4, 4, 28 },
	    { T0 + 10 * S, A4, 4, 20 }, { T0 + 30 * S, A4, 4, 0 }, { T0 + 30 * S, A4, 4, 30 } },
	  7 },
	{ "Retry-After rounds up, at least 1", 60,
	  { { T0, A4, 4, 0 }, { T0 + 1, A4, 4, 0 } },
	  2 },
	{ "other address sizes are not limited", 1,
	  { { T0, A4, 3, 0 }, { T0, A4, 3, 0 }, { T0, A4, 0, 0 } },
	  3 },
};

static void test_windows(void **state)
{
	for (size_t i = 0; i < ELEMENTSOF(s_windows); i++) {
		const struct window_case *w = &s_windows[i];
		struct ingress_ratelimit *rl = s_new(w->per_minute, 1024);

		for (size_t j = 0; j < w->n; j++) {
			const struct step *s = &w->steps[j];
			int got = ingress_ratelimit_take(rl, s->addr, s->len, s->t);

			if (got != s->want)
				fail_msg("%s, step %zu: %d, expected %d", w->name, j, got, s->want);
		}
		ingress_ratelimit_free(rl);
	}
}

/* L = 60: one a second after the burst; the 61st at once says 1 s. */
static void test_burst_exact(void **state)
{
	struct ingress_ratelimit *rl = s_new(60, 1024);

	for (int i = 0; i < 60; i++)
		assert_int_equal(ingress_ratelimit_take(rl, A4, 4, T0), 0);
	assert_int_equal(ingress_ratelimit_take(rl, A4, 4, T0), 1);
	assert_int_equal(ingress_ratelimit_take(rl, A4, 4, T0 + S), 0);
	assert_int_equal(ingress_ratelimit_take(rl, A4, 4, T0 + S), 1);
	ingress_ratelimit_free(rl);
}

static void s_addr(uint32_t i, uint8_t out[4])
{
	out[0] = 10;
	out[1] = (uint8_t)(i >> 16);
	out[2] = (uint8_t)(i >> 8);
	out[3] = (uint8_t)i;
}

/* The table never grows past its capacity; a full bucket evicts. */
static void test_bounded(void **state)
{
	struct ingress_ratelimit *rl = s_new(1, 64);
	uint8_t a[4];

	for (uint32_t i = 0; i < 10000; i++) {
		s_addr(i, a);
		assert_int_equal(ingress_ratelimit_take(rl, a, 4, T0 + i), 0);
		assert_true(ingress_ratelimit_size(rl) <= 64);
	}
	assert_int_equal(ingress_ratelimit_size(rl), 64);
	/* the most recent ones are still limited */
	s_addr(9999, a);
	assert_int_equal(ingress_ratelimit_take(rl, a, 4, T0 + 10000), 60);
	ingress_ratelimit_free(rl);
}

/* In a full bucket, the entry closest to expiry gives way, not a fresh one. */
static void test_eviction_order(void **state)
{
	struct ingress_ratelimit *rl = s_new(1, RATELIMIT_WAYS); /* one bucket */
	uint8_t a[4];

	for (uint32_t i = 0; i < RATELIMIT_WAYS; i++) {
		s_addr(i, a);
		assert_int_equal(ingress_ratelimit_take(rl, a, 4, T0 + i * S), 0);
	}
	s_addr(100, a);
	assert_int_equal(ingress_ratelimit_take(rl, a, 4, T0 + 10 * S), 0); /* evicts address 0 */
	for (uint32_t i = 1; i < RATELIMIT_WAYS; i++) {
		s_addr(i, a);
		assert_true(ingress_ratelimit_take(rl, a, 4, T0 + 10 * S) > 0);
	}
	s_addr(100, a);
	assert_int_equal(ingress_ratelimit_take(rl, a, 4, T0 + 10 * S), 60);
	/* at T0 + 62 s, addresses 1 and 2 no longer limit: a newcomer takes
	 * one of their places and every live entry stays */
	s_addr(200, a);
	assert_int_equal(ingress_ratelimit_take(rl, a, 4, T0 + 62 * S), 0);
	for (uint32_t i = 3; i < RATELIMIT_WAYS; i++) {
		s_addr(i, a);
		assert_true(ingress_ratelimit_take(rl, a, 4, T0 + 62 * S) > 0);
	}
	s_addr(100, a);
	assert_true(ingress_ratelimit_take(rl, a, 4, T0 + 62 * S) > 0);
	ingress_ratelimit_free(rl);
}

static void test_sweep(void **state)
{
	struct ingress_ratelimit *rl = s_new(2, 1024);

	assert_int_equal(ingress_ratelimit_take(rl, A4, 4, T0), 0);
	assert_int_equal(ingress_ratelimit_take(rl, B4, 4, T0 + 20 * S), 0);
	/* while A4 still limits: were A6 to share its bucket, A4 must not give way (at
	 * T0 + 40 s, past A4's 30 s, it would, and the count below would be 2) */
	assert_int_equal(ingress_ratelimit_take(rl, A6, 16, T0 + 25 * S), 0);
	assert_int_equal(ingress_ratelimit_size(rl), 3);
	ingress_ratelimit_sweep(rl, T0 + 29 * S);
	assert_int_equal(ingress_ratelimit_size(rl), 3);
	ingress_ratelimit_sweep(rl, T0 + 30 * S); /* A4's one request is 30 s old */
	assert_int_equal(ingress_ratelimit_size(rl), 2);
	ingress_ratelimit_sweep(rl, T0 + 70 * S);
	assert_int_equal(ingress_ratelimit_size(rl), 0);
	/* and a swept address starts afresh */
	assert_int_equal(ingress_ratelimit_take(rl, A4, 4, T0 + 70 * S), 0);
	assert_int_equal(ingress_ratelimit_take(rl, A4, 4, T0 + 70 * S), 0);
	assert_int_equal(ingress_ratelimit_take(rl, A4, 4, T0 + 70 * S), 30);
	ingress_ratelimit_free(rl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_new),
		cmocka_unit_test(test_windows),
		cmocka_unit_test(test_burst_exact),
		cmocka_unit_test(test_bounded),
		cmocka_unit_test(test_eviction_order),
		cmocka_unit_test(test_sweep),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
