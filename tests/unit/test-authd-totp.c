/*
 * test-authd-totp.c - unit tests of services/authd/totp.c: HOTP against
 * RFC 4226 appendix D, TOTP against RFC 6238 appendix B (SHA-1), the
 * window and replay rule of authd_totp_check, base32 against RFC 4648's
 * vectors, the otpauth:// URI, sealing bound to key and user, recovery
 * codes. libsodium and OpenSSL for real.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include <sodium.h>

#include "services/authd/authd.h"

static const uint8_t s_rfc_key[] = "12345678901234567890"; /* 20 bytes and a NUL */

static void test_hotp_rfc4226(void **state)
{
	static const uint32_t want[] = { 755224, 287082, 359152, 969429, 338314,
					 254676, 287922, 162583, 399871, 520489 };

	(void)state;
	for (uint64_t c = 0; c < 10; c++)
		assert_int_equal(authd_hotp(s_rfc_key, 20, c, 6), want[c]);
	assert_int_equal(authd_hotp(s_rfc_key, 20, 0, 5), UINT32_MAX);
	assert_int_equal(authd_hotp(s_rfc_key, 20, 0, 9), UINT32_MAX);
}

static void test_totp_rfc6238(void **state)
{
	static const struct {
		int64_t t;
		uint32_t code;
	} cases[] = {
		{ 59, 94287082 },         { 1111111109, 7081804 }, { 1111111111, 14050471 },
		{ 1234567890, 89005924 }, { 2000000000, 69279037 }, { 20000000000, 65353130 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(authd_hotp(s_rfc_key, 20, (uint64_t)(cases[i].t / 30), 8),
				 cases[i].code);
}

static void s_code_at(int64_t t, char out[7])
{
	snprintf(out, 7, "%06u", (unsigned)authd_hotp(s_rfc_key, 20, (uint64_t)(t / 30), 6));
}

static void test_check_window_and_replay(void **state)
{
	const int64_t now = 1700000015; /* a step begins at 1700000010 */
	char code[7];
	int64_t step = 0;

	(void)state;
	s_code_at(now, code);
	assert_int_equal(authd_totp_check(s_rfc_key, 20, now, code, -1, &step), 0);
	assert_int_equal(step, now / 30);
	/* good once: the same step again, or an earlier one, is refused */
	assert_int_equal(authd_totp_check(s_rfc_key, 20, now, code, step, &step), -EACCES);
	s_code_at(now - 30, code);
	assert_int_equal(authd_totp_check(s_rfc_key, 20, now, code, now / 30, &step), -EACCES);
	/* one step either side is drift, two is not */
	assert_int_equal(authd_totp_check(s_rfc_key, 20, now, code, -1, &step), 0);
	assert_int_equal(step, now / 30 - 1);
	s_code_at(now + 30, code);
	assert_int_equal(authd_totp_check(s_rfc_key, 20, now, code, -1, &step), 0);
	assert_int_equal(step, now / 30 + 1);
	s_code_at(now - 60, code);
	assert_int_equal(authd_totp_check(s_rfc_key, 20, now, code, -1, &step), -EACCES);
	s_code_at(now + 60, code);
	assert_int_equal(authd_totp_check(s_rfc_key, 20, now, code, -1, &step), -EACCES);
}

static void test_check_malformed(void **state)
{
	static const char *const bad[] = { "", "12345", "1234567", "12a456", " 123456",
					   "123456 ", "12 456", "-12345" };

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int64_t step = 42;

		assert_int_equal(authd_totp_check(s_rfc_key, 20, 1700000000, bad[i], -1, &step),
				 -EINVAL);
		assert_int_equal(step, 42);
	}
}

static void test_base32_rfc4648(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "", "" },           { "f", "my" },           { "fo", "mzxq" },
		{ "foo", "mzxw6" },   { "foob", "mzxw6yq" },   { "fooba", "mzxw6ytb" },
		{ "foobar", "mzxw6ytboi" },
	};
	char out[32];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n = authd_base32((const uint8_t *)cases[i].in, strlen(cases[i].in), out,
					sizeof(out));

		assert_string_equal(out, cases[i].out);
		assert_int_equal(n, strlen(cases[i].out));
	}
	assert_int_equal(authd_base32((const uint8_t *)"foobar", 6, out, 10), 0); /* needs 11 */
	assert_int_equal(authd_base32((const uint8_t *)"foobar", 6, out, 11), 10);
}

static void test_uri(void **state)
{
	char uri[512];

	(void)state;
	assert_int_equal(authd_totp_uri("Acme Inc", "a+b@example.org", s_rfc_key, uri,
					sizeof(uri)),
			 0);
	assert_string_equal(uri, "otpauth://totp/Acme%20Inc:a%2Bb%40example.org"
				 "?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Acme%20Inc"
				 "&algorithm=SHA1&digits=6&period=30");
	assert_int_equal(authd_totp_uri("Acme Inc", "a+b@example.org", s_rfc_key, uri, 40),
			 -ENOBUFS);
	assert_null(memchr(uri, 'G', 40)); /* nothing of the secret left in a short buffer */
}

static void test_seal_open(void **state)
{
	uint8_t key[AUTHD_TOTP_KEY_BYTES], other[AUTHD_TOTP_KEY_BYTES];
	uint8_t secret[AUTHD_TOTP_SECRET_BYTES], back[AUTHD_TOTP_SECRET_BYTES];
	uint8_t a[AUTHD_TOTP_SEALED_BYTES], b[AUTHD_TOTP_SEALED_BYTES];
	const char *user = "6b0c8f3e-2d1a-4c55-9a8e-1f2b3c4d5e6f";

	(void)state;
	assert_int_equal(AUTHD_TOTP_KEY_BYTES, crypto_aead_xchacha20poly1305_ietf_KEYBYTES);
	assert_int_equal(AUTHD_TOTP_SEALED_BYTES,
			 crypto_aead_xchacha20poly1305_ietf_NPUBBYTES + AUTHD_TOTP_SECRET_BYTES +
				 crypto_aead_xchacha20poly1305_ietf_ABYTES);
	randombytes_buf(key, sizeof(key));
	randombytes_buf(other, sizeof(other));
	authd_totp_secret_new(secret);
	authd_totp_seal(key, user, secret, a);
	authd_totp_seal(key, user, secret, b);
	assert_memory_not_equal(a, b, sizeof(a)); /* a fresh nonce each time */
	assert_int_equal(authd_totp_open(key, user, a, back), 0);
	assert_memory_equal(back, secret, sizeof(secret));
	assert_int_equal(authd_totp_open(key, "6b0c8f3e-2d1a-4c55-9a8e-1f2b3c4d5e60", a, back),
			 -EBADMSG); /* moved to another account */
	assert_int_equal(authd_totp_open(other, user, a, back), -EBADMSG);
	for (size_t i = 0; i < sizeof(a); i += 7) {
		a[i] ^= 1;
		assert_int_equal(authd_totp_open(key, user, a, back), -EBADMSG);
		a[i] ^= 1;
	}
}

static void test_secret_random(void **state)
{
	uint8_t a[AUTHD_TOTP_SECRET_BYTES], b[AUTHD_TOTP_SECRET_BYTES];

	(void)state;
	authd_totp_secret_new(a);
	authd_totp_secret_new(b);
	assert_memory_not_equal(a, b, sizeof(a));
}

static void test_recovery_codes(void **state)
{
	char code[AUTHD_RECOVERY_CODE_LEN + 1], typed[64], other[AUTHD_RECOVERY_CODE_LEN + 1];
	uint8_t hash[AUTHD_HASH_BYTES], again[AUTHD_HASH_BYTES], h2[AUTHD_HASH_BYTES];

	(void)state;
	authd_recovery_code_new(code, hash);
	assert_int_equal(strlen(code), AUTHD_RECOVERY_CODE_LEN);
	for (size_t i = 0; i < AUTHD_RECOVERY_CODE_LEN; i++) {
		if (i % 5 == 4)
			assert_int_equal(code[i], '-');
		else
			assert_non_null(strchr("abcdefghijklmnopqrstuvwxyz234567", code[i]));
	}
	assert_int_equal(authd_recovery_code_hash(code, again), 0);
	assert_memory_equal(hash, again, sizeof(hash));
	/* typed in upper case, without dashes, with blanks */
	for (size_t i = 0, n = 0; i <= AUTHD_RECOVERY_CODE_LEN; i++) {
		char c = code[i];

		if (c == '-')
			c = ' ';
		typed[n++] = (char)(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
	}
	assert_int_equal(authd_recovery_code_hash(typed, again), 0);
	assert_memory_equal(hash, again, sizeof(hash));
	authd_recovery_code_new(other, h2);
	assert_string_not_equal(code, other);
	assert_memory_not_equal(hash, h2, sizeof(hash));
	assert_int_equal(authd_recovery_code_hash("abcd-efgh-ijkl-mno", again), -EINVAL);
	assert_int_equal(authd_recovery_code_hash("abcd-efgh-ijkl-mnopq", again), -EINVAL);
	assert_int_equal(authd_recovery_code_hash("abcd-efgh-ijkl-mno1", again), -EINVAL);
	assert_int_equal(authd_recovery_code_hash("abcd_efgh_ijkl_mnop", again), -EINVAL);
	assert_int_equal(authd_recovery_code_hash("", again), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hotp_rfc4226),
		cmocka_unit_test(test_totp_rfc6238),
		cmocka_unit_test(test_check_window_and_replay),
		cmocka_unit_test(test_check_malformed),
		cmocka_unit_test(test_base32_rfc4648),
		cmocka_unit_test(test_uri),
		cmocka_unit_test(test_seal_open),
		cmocka_unit_test(test_secret_random),
		cmocka_unit_test(test_recovery_codes),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
