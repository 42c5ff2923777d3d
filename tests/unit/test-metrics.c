/*
 * test-metrics.c - unit tests of shared/metrics.c: a histogram's buckets
 * written cumulative with +Inf, _sum and _count (labels joined with le);
 * values whole as integers, others with %.9g, infinities; a family's
 * HELP and TYPE lines; label values escaped (backslash, quote, newline)
 * and a label that does not fit leaving the labels as they were.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "metrics.h"
#include "sbuf.h"

static char *s_take(struct sbuf *b)
{
	char *s = sbuf_take(b);

	assert_non_null(s);
	return s;
}

static void test_histogram(void **state)
{
	static const double bounds[] = { 0.5, 1, 2.5 };
	struct metrics_hist h;
	struct sbuf b = { 0 };
	char *s;

	metrics_hist_init(&h, bounds, ELEMENTSOF(bounds));
	metrics_hist_observe(&h, 0.1);
	metrics_hist_observe(&h, 0.5); /* on a bound: that bucket (le) */
	metrics_hist_observe(&h, 2);
	metrics_hist_observe(&h, 7);
	metrics_hist_write(&b, "x_seconds", "route=\"/a\"", &h);
	s = s_take(&b);
	assert_string_equal(s, "x_seconds_bucket{route=\"/a\",le=\"0.5\"} 2\n"
			       "x_seconds_bucket{route=\"/a\",le=\"1\"} 2\n"
			       "x_seconds_bucket{route=\"/a\",le=\"2.5\"} 3\n"
			       "x_seconds_bucket{route=\"/a\",le=\"+Inf\"} 4\n"
			       "x_seconds_sum{route=\"/a\"} 9.6\n"
			       "x_seconds_count{route=\"/a\"} 4\n");
	free(s);
}

static void test_histogram_no_labels(void **state)
{
	static const double bounds[] = { 1 };
	struct metrics_hist h;
	struct sbuf b = { 0 };
	char *s;

	metrics_hist_init(&h, bounds, 1);
	metrics_hist_write(&b, "y", NULL, &h);
	s = s_take(&b);
	assert_string_equal(s, "y_bucket{le=\"1\"} 0\ny_bucket{le=\"+Inf\"} 0\ny_sum 0\ny_count 0\n");
	free(s);
}

static void test_values(void **state)
{
	static const struct {
		double v;
		const char *want;
	} cases[] = {
		{ 0, "v 0\n" },
		{ 42, "v 42\n" },
		{ 9007199254740991.0, "v 9007199254740991\n" },
		{ 1e300, "v 1e+300\n" },
		{ 0.25, "v 0.25\n" },
		{ -3, "v -3\n" },
		{ INFINITY, "v +Inf\n" },
		{ -INFINITY, "v -Inf\n" },
		{ NAN, "v NaN\n" },
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		struct sbuf b = { 0 };
		char *s;

		metrics_sample(&b, "v", "", cases[i].v);
		s = s_take(&b);
		assert_string_equal(s, cases[i].want);
		free(s);
	}
}

static void test_family(void **state)
{
	struct sbuf b = { 0 };
	char *s;

	metrics_one(&b, "up", "gauge", "1 when up", 1);
	s = s_take(&b);
	assert_string_equal(s, "# HELP up 1 when up\n# TYPE up gauge\nup 1\n");
	free(s);
}

static void test_labels(void **state)
{
	char labels[METRICS_LABELS_MAX] = "";
	char small[16] = "";

	assert_int_equal(metrics_label(labels, sizeof(labels), "route", "/api/{id}"), 0);
	assert_int_equal(metrics_label(labels, sizeof(labels), "odd", "a\\b\"c\nd"), 0);
	assert_string_equal(labels, "route=\"/api/{id}\",odd=\"a\\\\b\\\"c\\nd\"");

	assert_int_equal(metrics_label(small, sizeof(small), "k", "vvvvv"), 0); /* k="vvvvv": 9 */
	assert_int_equal(metrics_label(small, sizeof(small), "k", "ww"), -ENOBUFS); /* ,k="ww" needs 17 */
	assert_string_equal(small, "k=\"vvvvv\"");
	assert_int_equal(metrics_label(small, sizeof(small), "k", "\"\"\""), -ENOBUFS);
	assert_string_equal(small, "k=\"vvvvv\"");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_histogram),
		cmocka_unit_test(test_histogram_no_labels),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_family),
		cmocka_unit_test(test_labels),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
