/*
 * test-ipc-ops.c - ipc/operations.def as data (ipc/ops.c): every row is
 * well-formed and its own (wire names and routes unique, methods and
 * owners valid), lookup by wire name finds each row and nothing else, and
 * the role rule of WHO as a table.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "macro.h"
#include "ops.h"

static void test_rows(void **state)
{
	static const char *const methods[] = { "GET", "POST", "PATCH", "DELETE" };

	for (size_t i = 0; i < _IPC_OP_MAX; i++) {
		const struct ipc_op_info *a = &ipc_ops[i];
		bool method_ok = false;

		assert_int_equal(a->op, (int)i);
		assert_true(a->wire && a->wire[0] && strlen(a->wire) <= 32);
		assert_true(strncmp(a->path, "/api/", 5) == 0);
		for (size_t m = 0; m < ELEMENTSOF(methods); m++)
			method_ok = method_ok || strcmp(a->method, methods[m]) == 0;
		assert_true(method_ok);
		assert_true(a->daemon == IPC_PEER_AUTHD || a->daemon == IPC_PEER_TELEMETRYD ||
			    a->daemon == IPC_PEER_LOGD);
		assert_true(a->who >= IPC_WHO_ANYONE && a->who < _IPC_WHO_MAX);
		/* a body is JSON; GET rows take none (a DELETE may: a password that
		 * confirms it); only authd's may skip the session */
		if (a->flags & IPC_OPF_JSON)
			assert_true(strcmp(a->method, "GET") != 0);
		if (a->who == IPC_WHO_ANYONE)
			assert_int_equal(a->daemon, IPC_PEER_AUTHD);
		for (size_t j = i + 1; j < _IPC_OP_MAX; j++) {
			const struct ipc_op_info *b = &ipc_ops[j];

			assert_string_not_equal(a->wire, b->wire);
			assert_false(strcmp(a->method, b->method) == 0 && strcmp(a->path, b->path) == 0);
		}
	}
}

static void test_from_wire(void **state)
{
	for (size_t i = 0; i < _IPC_OP_MAX; i++)
		assert_int_equal(ipc_op_from_wire(ipc_ops[i].wire), (int)i);
	assert_int_equal(ipc_op_from_wire(""), _IPC_OP_INVALID);
	assert_int_equal(ipc_op_from_wire("LOGIN"), _IPC_OP_INVALID);
	assert_int_equal(ipc_op_from_wire("login "), _IPC_OP_INVALID);
	assert_int_equal(ipc_op_from_wire("audit.list.x"), _IPC_OP_INVALID);
	assert_int_equal(ipc_op_from_wire("login"), IPC_OP_LOGIN);
	assert_int_equal(ipc_op_from_wire("audit.list"), IPC_OP_AUDIT_LIST);
}

static void test_allows(void **state)
{
	static const struct {
		enum ipc_op_who who;
		const char *role;
		bool ok;
	} cases[] = {
		{ IPC_WHO_ANYONE, "", true },        { IPC_WHO_ANYONE, "owner", true },
		{ IPC_WHO_SESSION, "", false },      { IPC_WHO_SESSION, "member", true },
		{ IPC_WHO_SESSION, "Member", false }, { IPC_WHO_ADMIN, "member", false },
		{ IPC_WHO_ADMIN, "admin", true },    { IPC_WHO_ADMIN, "owner", true },
		{ IPC_WHO_OWNER, "admin", false },   { IPC_WHO_OWNER, "owner", true },
		{ IPC_WHO_OWNER, "superuser", false }, { _IPC_WHO_INVALID, "owner", false },
		{ _IPC_WHO_MAX, "owner", false },
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++)
		if (ipc_op_allows(cases[i].who, cases[i].role) != cases[i].ok)
			fail_msg("case %zu: who %d role \"%s\"", i, cases[i].who, cases[i].role);
	assert_true(ipc_role_rank("owner") > ipc_role_rank("admin"));
	assert_true(ipc_role_rank("admin") > ipc_role_rank("member"));
	assert_int_equal(ipc_role_rank("x"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows),
		cmocka_unit_test(test_from_wire),
		cmocka_unit_test(test_allows),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
