/*
 * test-authd-password.c - unit tests of services/authd/password.c with the
 * real libxcrypt and libsodium: bcrypt and argon2id round trips, all 128
 * bytes counting (no cut at bcrypt's 72), wrong passwords (-EACCES), a
 * table of garbage stored hashes (-EINVAL, no crash), the needs_rehash
 * table, and the dummy hash (a mismatch, as costly as a real verify, made
 * once even when asked from several threads). Prints the time of one
 * cost-12 bcrypt hash on this machine.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "services/authd/authd.h"

static const struct authd_hash_policy s_bcrypt4 = { AUTHD_HASH_BCRYPT, 4 };
static const struct authd_hash_policy s_bcrypt5 = { AUTHD_HASH_BCRYPT, 5 };
static const struct authd_hash_policy s_bcrypt8 = { AUTHD_HASH_BCRYPT, 8 };
static const struct authd_hash_policy s_bcrypt12 = { AUTHD_HASH_BCRYPT, 12 };
static const struct authd_hash_policy s_argon2id = { AUTHD_HASH_ARGON2ID, 12 };

static int64_t s_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void s_hash(const struct authd_hash_policy *pol, const char *pw, char out[AUTHD_HASH_MAX])
{
	assert_int_equal(authd_password_hash(pol, pw, strlen(pw), out), 0);
}

static int s_verify(const char *stored, const char *pw)
{
	return authd_password_verify(stored, pw, strlen(pw));
}

static void test_round_trip(void **state)
{
	static const struct {
		const struct authd_hash_policy *pol;
		const char *prefix;
	} cases[] = {
		{ &s_bcrypt4, "$2b$04$" },
		{ &s_bcrypt5, "$2b$05$" },
		{ &s_argon2id, "$argon2id$v=19$" },
	};
	static const char *pws[] = {
		"correct horse battery staple",
		"12345678901",                  /* validation is not password.c's job */
		"pâsswörd ünïcödé ☃ 🔑",
	};
	char h[AUTHD_HASH_MAX], h2[AUTHD_HASH_MAX];

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		for (size_t k = 0; k < ELEMENTSOF(pws); k++) {
			s_hash(cases[i].pol, pws[k], h);
			assert_memory_equal(h, cases[i].prefix, strlen(cases[i].prefix));
			if (cases[i].pol->alg == AUTHD_HASH_BCRYPT)
				assert_int_equal(strlen(h), 60);
			assert_int_equal(s_verify(h, pws[k]), 0);
			assert_int_equal(s_verify(h, "correct horse battery stapl"), -EACCES);
			assert_int_equal(s_verify(h, ""), -EACCES);
			/* salted: the same password never gives the same string */
			s_hash(cases[i].pol, pws[k], h2);
			assert_string_not_equal(h, h2);
			assert_int_equal(s_verify(h2, pws[k]), 0);
		}
	}
}

static void test_cost12(void **state)
{
	char h[AUTHD_HASH_MAX];
	int64_t t0, t1;

	t0 = s_now_ns();
	s_hash(&s_bcrypt12, "a fairly ordinary passphrase", h);
	t1 = s_now_ns();
	printf("bcrypt cost 12: one hash took %.1f ms\n", (double)(t1 - t0) / 1e6);
	assert_memory_equal(h, "$2b$12$", 7);
	assert_int_equal(s_verify(h, "a fairly ordinary passphrase"), 0);
	assert_int_equal(s_verify(h, "a fairly ordinary passphrasE"), -EACCES);
	assert_false(authd_password_needs_rehash(&s_bcrypt12, h));
}

/* passwords that share their first 72 (or 127) bytes must not share a hash */
static void test_no_truncation(void **state)
{
	static const struct {
		size_t shared, total;
	} cases[] = { { 72, 100 }, { 72, 73 }, { 71, 72 }, { 127, 128 } };
	const struct authd_hash_policy *pols[] = { &s_bcrypt4, &s_argon2id };
	char a[AUTHD_PASSWORD_MAX_BYTES + 1], b[AUTHD_PASSWORD_MAX_BYTES + 1];
	char h[AUTHD_HASH_MAX];

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		for (size_t p = 0; p < ELEMENTSOF(pols); p++) {
			memset(a, 'x', cases[i].total);
			memset(b, 'x', cases[i].total);
			memset(a + cases[i].shared, 'A', cases[i].total - cases[i].shared);
			memset(b + cases[i].shared, 'B', cases[i].total - cases[i].shared);
			assert_int_equal(authd_password_hash(pols[p], a, cases[i].total, h), 0);
			assert_int_equal(authd_password_verify(h, a, cases[i].total), 0);
			assert_int_equal(authd_password_verify(h, b, cases[i].total), -EACCES);
			/* nor its 72-byte prefix */
			assert_int_equal(authd_password_verify(h, a, cases[i].shared), -EACCES);
		}
	}
}

static void test_hash_refuses(void **state)
{
	static const struct authd_hash_policy bad[] = {
		{ AUTHD_HASH_BCRYPT, 3 }, { AUTHD_HASH_BCRYPT, 32 }, { AUTHD_HASH_BCRYPT, -1 },
		{ (enum authd_hash_alg)7, 12 },
	};
	char pw[AUTHD_PASSWORD_MAX_BYTES + 1];
	char h[AUTHD_HASH_MAX];

	memset(pw, 'p', sizeof(pw));
	assert_int_equal(authd_password_hash(&s_bcrypt4, pw, 128, h), 0);
	assert_int_equal(authd_password_hash(&s_bcrypt4, pw, 129, h), -EINVAL);
	assert_int_equal(authd_password_hash(&s_argon2id, pw, 129, h), -EINVAL);
	assert_int_equal(authd_password_hash(&s_bcrypt4, "with\0nul inside", 15, h), -EINVAL);
	for (size_t i = 0; i < ELEMENTSOF(bad); i++)
		assert_int_equal(authd_password_hash(&bad[i], "long enough password", 20, h),
				 -EINVAL);
	assert_null(authd_password_dummy(&bad[0]));
}

static void test_garbage_stored(void **state)
{
	static const char *cases[] = {
		"",
		"$2b$",
		"$2b$99$x",
		"$2b$04$",
		"$2b$04$!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!",
		"$2b$03$abcdefghijklmnopqrstuuabcdefghijklmnopqrstuvwxyz01234",
		"$2b$32$abcdefghijklmnopqrstuuabcdefghijklmnopqrstuvwxyz01234",
		"$2b$4$abcdefghijklmnopqrstuuabcdefghijklmnopqrstuvwxyz012345",
		"$2b$04$abcdefghijklmnopqrstuuabcdefghijklmnopqrstuvwxyz0123",
		"$2b$04$abcdefghijklmnopqrstuuabcdefghijklmnopqrstuvwxyz012345",
		"$2a$04$abcdefghijklmnopqrstuuabcdefghijklmnopqrstuvwxyz01234",
		"$2y$04$abcdefghijklmnopqrstuuabcdefghijklmnopqrstuvwxyz01234",
		"$argon2id$garbage",
		"$argon2id$v=19$m=65536,t=2,p=1$",
		"$argon2id$v=19$m=65536,t=2,p=1$c2FsdHNhbHQ$!!!",
		"$argon2i$v=19$m=65536,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=1,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaA",
		"$1$salt$hash",
		"$6$saltsalt$hash",
		"*0",
		"plaintext password",
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		assert_int_equal(s_verify(cases[i], "whatever password"), -EINVAL);
		assert_true(authd_password_needs_rehash(&s_bcrypt4, cases[i]));
		assert_true(authd_password_needs_rehash(&s_argon2id, cases[i]));
	}
}

/* random bytes, and real hashes cut or with one byte changed */
static void test_garbage_random(void **state)
{
	char buf[AUTHD_HASH_MAX], h[AUTHD_HASH_MAX];
	const struct authd_hash_policy *pols[] = { &s_bcrypt4, &s_argon2id };
	int r;

	for (int i = 0; i < 2000; i++) {
		size_t n = 1 + randombytes_uniform(AUTHD_HASH_MAX - 1);

		randombytes_buf(buf, n);
		buf[n - 1] = '\0';
		if (i % 2) {
			const char *prefix = i % 4 == 1 ? "$2b$04$" : "$argon2id$";

			memcpy(buf, prefix, MIN(n - 1, strlen(prefix)));
		}
		r = s_verify(buf, "whatever password");
		assert_true(r == -EINVAL || r == -EACCES);
	}
	for (size_t p = 0; p < ELEMENTSOF(pols); p++) {
		s_hash(pols[p], "the real password", h);
		for (size_t cut = 0; cut < strlen(h); cut += 3) {
			memcpy(buf, h, cut);
			buf[cut] = '\0';
			r = s_verify(buf, "the real password");
			/* a shorter argon2id tag can still be well-formed: a mismatch */
			if (pols[p]->alg == AUTHD_HASH_BCRYPT)
				assert_int_equal(r, -EINVAL);
			else
				assert_true(r == -EINVAL || r == -EACCES);
		}
		for (size_t k = 0; k < strlen(h); k += 3) {
			memcpy(buf, h, strlen(h) + 1);
			buf[k] ^= 0x41;
			r = s_verify(buf, "the real password");
			assert_true(r == -EINVAL || r == -EACCES);
		}
	}
}

static void test_needs_rehash(void **state)
{
	char b4[AUTHD_HASH_MAX], b5[AUTHD_HASH_MAX], a[AUTHD_HASH_MAX], a3[AUTHD_HASH_MAX];
	static const struct authd_hash_policy b12 = { AUTHD_HASH_BCRYPT, 12 };
	const struct {
		const struct authd_hash_policy *pol;
		const char *stored;
		bool expect;
	} cases[] = {
		{ &s_bcrypt4, b4, false },  { &s_bcrypt5, b5, false }, { &s_argon2id, a, false },
		{ &s_bcrypt5, b4, true },   { &s_bcrypt4, b5, true },  { &b12, b4, true },
		{ &s_argon2id, b4, true },  { &s_bcrypt4, a, true },   { &s_argon2id, a3, true },
		{ &s_bcrypt4, a3, true },
	};

	s_hash(&s_bcrypt4, "rehash test password", b4);
	s_hash(&s_bcrypt5, "rehash test password", b5);
	s_hash(&s_argon2id, "rehash test password", a);
	/* argon2id under other limits than the policy's */
	assert_int_equal(crypto_pwhash_str_alg(a3, "rehash test password", 20,
					       crypto_pwhash_OPSLIMIT_INTERACTIVE + 1,
					       crypto_pwhash_MEMLIMIT_INTERACTIVE / 4,
					       crypto_pwhash_ALG_ARGON2ID13),
			 0);
	assert_int_equal(s_verify(a3, "rehash test password"), 0);
	for (size_t i = 0; i < ELEMENTSOF(cases); i++)
		assert_int_equal(authd_password_needs_rehash(cases[i].pol, cases[i].stored),
				 cases[i].expect);
}

static int64_t s_min_verify_ns(const char *stored, int rounds)
{
	int64_t best = INT64_MAX;

	for (int i = 0; i < rounds; i++) {
		int64_t t0 = s_now_ns();

		assert_int_equal(s_verify(stored, "somebody's guess at it"), -EACCES);
		best = MIN(best, s_now_ns() - t0);
	}
	return best;
}

static void *s_dummy_thread(void *userdata)
{
	return (void *)authd_password_dummy(userdata);
}

static void test_dummy(void **state)
{
	const struct authd_hash_policy *pols[] = { &s_bcrypt8, &s_argon2id };
	char real[AUTHD_HASH_MAX];
	pthread_t t[4];
	void *got[4];

	for (size_t p = 0; p < ELEMENTSOF(pols); p++) {
		const char *d = authd_password_dummy(pols[p]);

		assert_non_null(d);
		assert_ptr_equal(authd_password_dummy(pols[p]), d); /* made once */
		assert_false(authd_password_needs_rehash(pols[p], d));
		s_hash(pols[p], "a real user's password", real);
		int64_t td = s_min_verify_ns(d, 3), tr = s_min_verify_ns(real, 3);
		printf("verify: dummy %.2f ms, real %.2f ms\n", td / 1e6, tr / 1e6);
		assert_true(td * 2 > tr && td < tr * 2);
	}
	/* first use from several threads at once: one hash, one pointer */
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, s_dummy_thread, (void *)&s_bcrypt5), 0);
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_join(t[i], &got[i]), 0);
	assert_non_null(got[0]);
	for (int i = 1; i < 4; i++)
		assert_ptr_equal(got[i], got[0]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_cost12),
		cmocka_unit_test(test_no_truncation),
		cmocka_unit_test(test_hash_refuses),
		cmocka_unit_test(test_garbage_stored),
		cmocka_unit_test(test_garbage_random),
		cmocka_unit_test(test_needs_rehash),
		cmocka_unit_test(test_dummy),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
