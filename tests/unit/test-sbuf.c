/*
 * test-sbuf.c - unit tests of shared/sbuf.c: a table of puts and the
 * string they build (empty, binary-safe lengths, growth across many
 * reallocations), sbuf_take handing the string over and emptying the
 * buffer, "" from an untouched buffer, a buffer marked out of memory
 * staying so (later puts ignored, take NULL, nothing leaked: ASan), and
 * sbuf_printf below and above its stack buffer.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "sbuf.h"

static void test_puts(void **state)
{
	static const struct {
		const char *parts[4];
		const char *want;
	} cases[] = {
		{ { NULL }, "" },
		{ { "", NULL }, "" },
		{ { "a", NULL }, "a" },
		{ { "{", "\"x\"", ",NULL", "}" }, "{\"x\",NULL}" },
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		struct sbuf b = { 0 };
		char *s;

		for (size_t k = 0; k < 4 && cases[i].parts[k]; k++)
			sbuf_puts(&b, cases[i].parts[k]);
		assert_false(b.oom);
		s = sbuf_take(&b);
		assert_non_null(s);
		assert_string_equal(s, cases[i].want);
		assert_null(b.data); /* taken: the buffer is empty again */
		assert_int_equal(b.len, 0);
		free(s);
	}
}

static void test_put_and_grow(void **state)
{
	struct sbuf b = { 0 };
	char *s;

	sbuf_put(&b, "abcdef", 3);
	assert_int_equal(b.len, 3);
	assert_string_equal(b.data, "abc");
	for (int i = 0; i < 10000; i++)
		sbuf_put(&b, "0123456789", 10);
	assert_int_equal(b.len, 3 + 100000);
	assert_true(b.cap > b.len);
	assert_int_equal(b.data[b.len], '\0');
	assert_memory_equal(b.data + b.len - 10, "0123456789", 10);
	s = sbuf_take(&b);
	assert_int_equal(strlen(s), 100003);
	free(s);
	sbuf_puts(&b, "again");
	sbuf_done(&b);
	assert_null(b.data);
	sbuf_done(&b); /* twice is harmless */
}

static void test_oom_sticky(void **state)
{
	struct sbuf b = { 0 };

	sbuf_puts(&b, "kept until take");
	sbuf_put(&b, "x", SIZE_MAX / 2); /* more than can ever be had */
	assert_true(b.oom);
	sbuf_puts(&b, "ignored");
	assert_int_equal(b.len, strlen("kept until take"));
	assert_null(sbuf_take(&b)); /* and freed */
	assert_null(b.data);
	assert_false(b.oom);
}

/* sbuf_printf: short text in one go, text longer than its stack buffer through vasprintf */
static void test_printf(void **state)
{
	struct sbuf b = { 0 };
	char want[1200], *s;

	sbuf_printf(&b, "%s=%d;", "a", 42);
	sbuf_printf(&b, "%0*d", 1000, 7);
	s = sbuf_take(&b);
	assert_non_null(s);
	snprintf(want, sizeof(want), "a=42;%0*d", 1000, 7);
	assert_string_equal(s, want);
	assert_int_equal(strlen(s), 1005);
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_puts),
		cmocka_unit_test(test_put_and_grow),
		cmocka_unit_test(test_oom_sticky),
		cmocka_unit_test(test_printf),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
