/*
 * test-backend-pong.c - unit tests of backend_pong_queue (runtime/backend.c):
 * queue depths land in pong's queues map as decimal strings (0 and
 * UINT64_MAX included), a ninth is left out rather than overflowing, and
 * a pong so filled (with a version) encodes and decodes to the same map.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "backend.h"
#include "ipc.h"
#include "macro.h"

static void test_queues_as_decimal(void **state)
{
	struct ipc_pong pong = { 0 };

	backend_pong_queue(&pong, "db_queued", 0);
	backend_pong_queue(&pong, "hash_pending", UINT64_MAX);
	assert_int_equal(pong.queues_n, 2);
	assert_string_equal(pong.queues[0].key, "db_queued");
	assert_string_equal(pong.queues[0].value, "0");
	assert_string_equal(pong.queues[1].key, "hash_pending");
	assert_string_equal(pong.queues[1].value, "18446744073709551615");
}

static void test_ninth_left_out(void **state)
{
	struct ipc_pong pong = { 0 };
	char name[16];

	for (unsigned i = 0; i < ELEMENTSOF(pong.queues) + 1; i++) {
		snprintf(name, sizeof(name), "q%u", i);
		backend_pong_queue(&pong, name, i);
	}
	assert_int_equal(pong.queues_n, ELEMENTSOF(pong.queues));
	assert_string_equal(pong.queues[ELEMENTSOF(pong.queues) - 1].value, "7");
}

static void test_round_trip(void **state)
{
	struct ipc_pong pong = { .service = "logd", .database = true, .pid = 7, .uptime_s = 9,
				 .version = "0.1.0" };
	struct ipc_pong back;
	struct ipc_buf buf;
	uint64_t id;

	backend_pong_queue(&pong, "logs_buffered", 12);
	backend_pong_queue(&pong, "logs_dropped", 3);
	ipc_buf_init(&buf);
	assert_int_equal(ipc_encode_pong(&buf, 5, &pong), 0);
	assert_int_equal(ipc_decode_pong(buf.data, buf.size, &id, &back), 0);
	assert_int_equal(id, 5);
	assert_string_equal(back.version, "0.1.0");
	assert_int_equal(back.queues_n, 2);
	assert_string_equal(back.queues[1].key, "logs_dropped");
	assert_string_equal(back.queues[1].value, "3");
	ipc_free_pong(&back);
	ipc_buf_done(&buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_queues_as_decimal),
		cmocka_unit_test(test_ninth_left_out),
		cmocka_unit_test(test_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
