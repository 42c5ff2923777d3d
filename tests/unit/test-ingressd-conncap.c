/*
 * test-ingressd-conncap.c - sembark-ingressd's count of connections per
 * client address (conncap.c) and the client key it counts under
 * (client_addr.c): the cap, addresses kept apart (IPv4, IPv6 per /64,
 * IPv4-mapped IPv6 as IPv4), a closed connection giving its place back,
 * entries wiped at zero, the full table, and exact counts across many
 * addresses sharing buckets.
 */
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cmocka.h>

#include "macro.h"
#include "services/ingressd/ingressd.h"

static const uint8_t A4[4] = { 192, 0, 2, 1 };
static const uint8_t B4[4] = { 192, 0, 2, 2 };
static const uint8_t A6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 2, 0, 0, 0, 0, 0, 0, 0, 1 };
static const uint8_t A6_SAME64[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 2, 9, 9, 9, 9, 9, 9, 9, 9 };
static const uint8_t A6_OTHER64[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 3, 0, 0, 0, 0, 0, 0, 0, 1 };

static struct ingress_client_key s_key(const uint8_t *addr, size_t len)
{
	struct ingress_client_key k;

	assert_int_equal(ingress_client_key_make(addr, len, &k), 0);
	return k;
}

static struct ingress_client_key s_key_n(uint32_t i)
{
	uint8_t a[4] = { 10, (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i };

	return s_key(a, 4);
}

static struct ingress_conncap *s_new(unsigned per_address, size_t entries)
{
	struct ingress_conncap *cc = NULL;

	assert_int_equal(ingress_conncap_new(per_address, entries, &cc), 0);
	return cc;
}

static void test_new(void **state)
{
	struct ingress_conncap *cc = NULL;

	assert_int_equal(ingress_conncap_new(0, 16, &cc), -EINVAL);
	assert_int_equal(ingress_conncap_new(4, 0, &cc), -EINVAL);
	assert_null(cc);
	cc = s_new(1, 1);
	assert_int_equal(ingress_conncap_size(cc), 0);
	assert_null(ingress_conncap_free(cc));
	assert_null(ingress_conncap_free(NULL));
}

static void test_key(void **state)
{
	struct ingress_client_key k, a6 = s_key(A6, 16);
	uint8_t five[5] = { 0 };

	assert_int_equal(ingress_client_key_make(five, 5, &k), -EAFNOSUPPORT);
	assert_int_equal(a6.len, 8);
	assert_true(ingress_client_key_equal(&a6, &(struct ingress_client_key){ 0 }) == false);
	k = s_key(A6_SAME64, 16);
	assert_true(ingress_client_key_equal(&a6, &k));
	k = s_key(A6_OTHER64, 16);
	assert_false(ingress_client_key_equal(&a6, &k));
	k = s_key(A4, 4);
	assert_int_equal(k.len, 4);
	assert_memory_equal(k.b, A4, 4);
}

static void test_client_addr(void **state)
{
	struct sockaddr_in in4 = { .sin_family = AF_INET };
	struct sockaddr_in6 in6 = { .sin6_family = AF_INET6 };
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	uint8_t out[16];
	size_t len = 0;

	memcpy(&in4.sin_addr, A4, 4);
	assert_int_equal(ingress_client_addr((struct sockaddr *)&in4, sizeof(in4), out, &len), 0);
	assert_int_equal(len, 4);
	assert_memory_equal(out, A4, 4);
	assert_int_equal(ingress_client_addr((struct sockaddr *)&in4, 4, out, &len), -EAFNOSUPPORT);

	memcpy(&in6.sin6_addr, A6, 16);
	assert_int_equal(ingress_client_addr((struct sockaddr *)&in6, sizeof(in6), out, &len), 0);
	assert_int_equal(len, 16);
	assert_memory_equal(out, A6, 16);

	/* ::ffff:192.0.2.2 is 192.0.2.2 */
	memset(&in6.sin6_addr, 0, 16);
	memset((uint8_t *)&in6.sin6_addr + 10, 0xff, 2);
	memcpy((uint8_t *)&in6.sin6_addr + 12, B4, 4);
	assert_int_equal(ingress_client_addr((struct sockaddr *)&in6, sizeof(in6), out, &len), 0);
	assert_int_equal(len, 4);
	assert_memory_equal(out, B4, 4);

	assert_int_equal(ingress_client_addr((struct sockaddr *)&un, sizeof(un), out, &len),
			 -EAFNOSUPPORT);
}

/* N connections, then the next is refused; others are not; a close gives a place back. */
static void test_cap(void **state)
{
	struct ingress_conncap *cc = s_new(3, 64);
	struct ingress_client_key a = s_key(A4, 4), b = s_key(B4, 4);

	for (int i = 0; i < 3; i++)
		assert_int_equal(ingress_conncap_take(cc, &a), 0);
	assert_int_equal(ingress_conncap_take(cc, &a), -EUSERS);
	assert_int_equal(ingress_conncap_take(cc, &a), -EUSERS);
	assert_int_equal(ingress_conncap_held(cc, &a), 3); /* refusals are not counted */
	assert_int_equal(ingress_conncap_take(cc, &b), 0);
	assert_int_equal(ingress_conncap_size(cc), 2);
	ingress_conncap_give(cc, &a);
	assert_int_equal(ingress_conncap_held(cc, &a), 2);
	assert_int_equal(ingress_conncap_take(cc, &a), 0);
	assert_int_equal(ingress_conncap_take(cc, &a), -EUSERS);
	ingress_conncap_free(cc);
}

/* IPv6 counts per /64: two addresses of one /64 share the cap, another /64 has its own. */
static void test_ipv6_per_64(void **state)
{
	struct ingress_conncap *cc = s_new(2, 64);
	struct ingress_client_key a = s_key(A6, 16), same = s_key(A6_SAME64, 16);
	struct ingress_client_key other = s_key(A6_OTHER64, 16);

	assert_int_equal(ingress_conncap_take(cc, &a), 0);
	assert_int_equal(ingress_conncap_take(cc, &same), 0);
	assert_int_equal(ingress_conncap_take(cc, &a), -EUSERS);
	assert_int_equal(ingress_conncap_take(cc, &same), -EUSERS);
	assert_int_equal(ingress_conncap_take(cc, &other), 0);
	assert_int_equal(ingress_conncap_held(cc, &a), 2);
	assert_int_equal(ingress_conncap_size(cc), 2);
	ingress_conncap_free(cc);
}

/* An address that holds nothing any more is forgotten; giving an unknown key changes nothing. */
static void test_forget(void **state)
{
	struct ingress_conncap *cc = s_new(2, 8);
	struct ingress_client_key a = s_key(A4, 4), b = s_key(B4, 4);

	assert_int_equal(ingress_conncap_take(cc, &a), 0);
	assert_int_equal(ingress_conncap_take(cc, &a), 0);
	ingress_conncap_give(cc, &b);
	assert_int_equal(ingress_conncap_size(cc), 1);
	ingress_conncap_give(cc, &a);
	ingress_conncap_give(cc, &a);
	assert_int_equal(ingress_conncap_size(cc), 0);
	assert_int_equal(ingress_conncap_held(cc, &a), 0);
	ingress_conncap_give(cc, &a);
	assert_int_equal(ingress_conncap_size(cc), 0);
	assert_int_equal(ingress_conncap_take(cc, &a), 0);
	ingress_conncap_free(cc);
}

/* max_entries addresses at most: the next is refused until one is forgotten. */
static void test_full(void **state)
{
	struct ingress_conncap *cc = s_new(5, 4);
	struct ingress_client_key k;

	for (uint32_t i = 0; i < 4; i++) {
		k = s_key_n(i);
		assert_int_equal(ingress_conncap_take(cc, &k), 0);
	}
	k = s_key_n(4);
	assert_int_equal(ingress_conncap_take(cc, &k), -ENOSPC);
	k = s_key_n(0);
	assert_int_equal(ingress_conncap_take(cc, &k), 0); /* one already held: no new entry */
	k = s_key_n(2);
	ingress_conncap_give(cc, &k);
	k = s_key_n(4);
	assert_int_equal(ingress_conncap_take(cc, &k), 0);
	assert_int_equal(ingress_conncap_size(cc), 4);
	ingress_conncap_free(cc);
}

/*
 * Many addresses in a table as small as it may be (bucket chains of
 * several): every count exact, whatever order the closes come in.
 */
static void test_many(void **state)
{
	enum { N = 3000, CAP = 3 };
	struct ingress_conncap *cc = s_new(CAP, N);
	struct ingress_client_key k;

	for (int round = 0; round < CAP + 1; round++) {
		for (uint32_t i = 0; i < N; i++) {
			k = s_key_n(i);
			assert_int_equal(ingress_conncap_take(cc, &k), round < CAP ? 0 : -EUSERS);
		}
	}
	assert_int_equal(ingress_conncap_size(cc), N);
	/* close one of each odd address, then every connection of the even ones */
	for (uint32_t i = 1; i < N; i += 2) {
		k = s_key_n(i);
		ingress_conncap_give(cc, &k);
	}
	for (uint32_t i = 0; i < N; i += 2) {
		k = s_key_n(i);
		for (int j = 0; j < CAP; j++)
			ingress_conncap_give(cc, &k);
	}
	assert_int_equal(ingress_conncap_size(cc), N / 2);
	for (uint32_t i = 0; i < N; i++) {
		k = s_key_n(i);
		assert_int_equal(ingress_conncap_held(cc, &k), i % 2 ? CAP - 1 : 0);
	}
	ingress_conncap_free(cc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_new),        cmocka_unit_test(test_key),
		cmocka_unit_test(test_client_addr), cmocka_unit_test(test_cap),
		cmocka_unit_test(test_ipv6_per_64), cmocka_unit_test(test_forget),
		cmocka_unit_test(test_full),       cmocka_unit_test(test_many),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
