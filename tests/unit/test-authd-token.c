/*
 * test-authd-token.c - unit tests of services/authd/token.c (and the
 * small format helpers of calls.c and team.c it works with): hex
 * encoding, SHA-256 against the FIPS 180-2 vectors, session tokens (40
 * lowercase hex from 20 CSPRNG bytes, their hash = SHA-256 of the text,
 * malformed tokens refused), invite codes (32 hex = 128 bits), the bytea
 * parameter form, the constant-time comparison of a stored hash, uuid
 * targets and invite URLs. Table-driven; libsodium for real.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "services/authd/authd.h"

static bool s_is_lower_hex(const char *s, size_t len)
{
	if (strlen(s) != len)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

static void test_hex(void **state)
{
	static const struct {
		const uint8_t in[4];
		size_t len;
		const char *out;
	} cases[] = {
		{ { 0 }, 0, "" },
		{ { 0x00 }, 1, "00" },
		{ { 0xff, 0x0a }, 2, "ff0a" },
		{ { 0xde, 0xad, 0xbe, 0xef }, 4, "deadbeef" },
		{ { 0x01, 0x23, 0x45, 0x67 }, 4, "01234567" },
	};
	char out[16];

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		memset(out, 'X', sizeof(out));
		sodium_bin2hex(out, sizeof(out), cases[i].in, cases[i].len); /* what token.c uses */
		assert_string_equal(out, cases[i].out);
	}
}

static void test_sha256_vectors(void **state)
{
	static const struct {
		const char *in;
		const char *hex;
	} cases[] = {
		{ "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
		{ "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
		{ "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
		  "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
	};
	uint8_t h[AUTHD_HASH_BYTES];
	char hex[2 * AUTHD_HASH_BYTES + 1];

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		authd_sha256(cases[i].in, strlen(cases[i].in), h);
		sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
		assert_string_equal(hex, cases[i].hex);
	}
}

static void test_bytea(void **state)
{
	uint8_t h[AUTHD_HASH_BYTES];
	char out[AUTHD_BYTEA_MAX + 1];

	for (size_t i = 0; i < sizeof(h); i++)
		h[i] = (uint8_t)i;
	authd_bytea(h, out);
	assert_int_equal(strlen(out), AUTHD_BYTEA_MAX);
	assert_memory_equal(out, "\\x000102", 8);
	assert_string_equal(out + AUTHD_BYTEA_MAX - 2, "1f");
}

static void test_token_new(void **state)
{
	char tok[AUTHD_TOKEN_HEX + 1], prev[AUTHD_TOKEN_HEX + 1] = "";
	uint8_t h[AUTHD_HASH_BYTES], again[AUTHD_HASH_BYTES], direct[AUTHD_HASH_BYTES];

	for (int i = 0; i < 1000; i++) {
		authd_token_new(tok, h);
		assert_true(s_is_lower_hex(tok, AUTHD_TOKEN_HEX));
		assert_string_not_equal(tok, prev);
		/* the stored hash is the SHA-256 of the token's text */
		crypto_hash_sha256(direct, (const unsigned char *)tok, AUTHD_TOKEN_HEX);
		assert_memory_equal(h, direct, sizeof(h));
		assert_int_equal(authd_token_hash(tok, again), 0);
		assert_memory_equal(h, again, sizeof(h));
		memcpy(prev, tok, sizeof(tok));
	}
}

static void test_token_bits(void **state)
{
	/* 20 bytes of CSPRNG output: over 200 tokens every nibble position
	 * takes many values (a constant or truncated token would not) */
	char tok[AUTHD_TOKEN_HEX + 1];
	uint8_t h[AUTHD_HASH_BYTES];
	unsigned seen[AUTHD_TOKEN_HEX] = { 0 };

	for (int i = 0; i < 200; i++) {
		authd_token_new(tok, h);
		for (int k = 0; k < AUTHD_TOKEN_HEX; k++)
			seen[k] |= 1u << (tok[k] <= '9' ? tok[k] - '0' : tok[k] - 'a' + 10);
	}
	for (int k = 0; k < AUTHD_TOKEN_HEX; k++)
		assert_true(__builtin_popcount(seen[k]) >= 12);
}

static void test_token_malformed(void **state)
{
	static const char *const bad[] = {
		"",
		"0123456789abcdef0123456789abcdef0123456",   /* 39 */
		"0123456789abcdef0123456789abcdef012345678", /* 41 */
		"0123456789ABCDEF0123456789abcdef01234567",  /* upper case */
		"0123456789abcdef0123456789abcdef0123456g",  /* not hex */
		"0123456789abcdef0123456789abcdef 1234567",  /* space */
		"0123456789abcdef0123456789abcdef01234567\n",
		"0123456789abcdef0123456789abcdef",          /* an invite code */
	};
	uint8_t h[AUTHD_HASH_BYTES];

	for (size_t i = 0; i < ELEMENTSOF(bad); i++)
		assert_int_equal(authd_token_hash(bad[i], h), -EINVAL);
	assert_int_equal(authd_token_hash(NULL, h), -EINVAL);
	assert_int_equal(authd_token_hash("0123456789abcdef0123456789abcdef01234567", h), 0);
}

static void test_invite_codes(void **state)
{
	char code[AUTHD_INVITE_HEX + 1], other[AUTHD_INVITE_HEX + 1];
	uint8_t h[AUTHD_HASH_BYTES], h2[AUTHD_HASH_BYTES], direct[AUTHD_HASH_BYTES];

	assert_true(AUTHD_INVITE_BYTES * 8 >= 128);
	authd_invite_new(code, h);
	authd_invite_new(other, h2);
	assert_true(s_is_lower_hex(code, AUTHD_INVITE_HEX));
	assert_string_not_equal(code, other);
	crypto_hash_sha256(direct, (const unsigned char *)code, AUTHD_INVITE_HEX);
	assert_memory_equal(h, direct, sizeof(h));
	assert_int_equal(authd_invite_hash(code, h2), 0);
	assert_memory_equal(h, h2, sizeof(h));
	assert_int_equal(authd_invite_hash("0123456789abcdef0123456789abcdef01234567", h2), -EINVAL);
	assert_int_equal(authd_invite_hash("0123456789abcdef0123456789abcdeF", h2), -EINVAL);
	assert_int_equal(authd_invite_hash("../../etc/passwd", h2), -EINVAL);
	assert_int_equal(authd_invite_hash("", h2), -EINVAL);
}

static void test_hash_equal_hex(void **state)
{
	uint8_t h[AUTHD_HASH_BYTES];
	char hex[2 * AUTHD_HASH_BYTES + 1];

	authd_sha256("x", 1, h);
	sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
	assert_true(authd_hash_equal_hex(hex, h));
	hex[63] = hex[63] == '0' ? '1' : '0'; /* last nibble differs */
	assert_false(authd_hash_equal_hex(hex, h));
	hex[63] = '\0'; /* too short */
	assert_false(authd_hash_equal_hex(hex, h));
	assert_false(authd_hash_equal_hex("", h));
	assert_false(authd_hash_equal_hex(NULL, h));
}

static void test_uuid_valid(void **state)
{
	static const struct {
		const char *s;
		bool ok;
	} cases[] = {
		{ "0b5c6a8e-4a43-4c43-9a3e-6f1c1b9d2f10", true },
		{ "00000000-0000-0000-0000-000000000000", true },
		{ "0B5C6A8E-4A43-4C43-9A3E-6F1C1B9D2F10", false },
		{ "0b5c6a8e4a434c439a3e6f1c1b9d2f10", false },
		{ "0b5c6a8e-4a43-4c43-9a3e-6f1c1b9d2f1", false },
		{ "0b5c6a8e-4a43-4c43-9a3e-6f1c1b9d2f100", false },
		{ "0b5c6a8e-4a43-4c43-9a3e_6f1c1b9d2f10", false },
		{ "'; DROP TABLE users; --", false },
		{ "", false },
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++)
		assert_int_equal(util_uuid_canonical(cases[i].s), cases[i].ok);
}

static void test_invite_url(void **state)
{
	static const struct {
		const char *origin;
		const char *url;
	} cases[] = {
		{ "http://127.0.0.1:8080", "http://127.0.0.1:8080/join/00112233445566778899aabbccddeeff" },
		{ "https://app.example.com/", "https://app.example.com/join/00112233445566778899aabbccddeeff" },
	};
	static struct authd a;
	char out[CONFIG_STR_MAX + 64];

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		snprintf(a.b.d.cfg.ingress.public_origin, CONFIG_STR_MAX, "%s", cases[i].origin);
		assert_int_equal(authd_invite_url(&a, "00112233445566778899aabbccddeeff", out,
						  sizeof(out)), 0);
		assert_string_equal(out, cases[i].url);
	}
	assert_int_equal(authd_invite_url(&a, "00112233445566778899aabbccddeeff", out, 10), -E2BIG);
}

static void test_role_rank(void **state)
{
	assert_true(ipc_role_rank("owner") > ipc_role_rank("admin"));
	assert_true(ipc_role_rank("admin") > ipc_role_rank("member"));
	assert_true(ipc_role_rank("member") > 0);
	assert_int_equal(ipc_role_rank("Owner"), 0);
	assert_int_equal(ipc_role_rank(""), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hex),
		cmocka_unit_test(test_sha256_vectors),
		cmocka_unit_test(test_bytea),
		cmocka_unit_test(test_token_new),
		cmocka_unit_test(test_token_bits),
		cmocka_unit_test(test_token_malformed),
		cmocka_unit_test(test_invite_codes),
		cmocka_unit_test(test_hash_equal_hex),
		cmocka_unit_test(test_uuid_valid),
		cmocka_unit_test(test_invite_url),
		cmocka_unit_test(test_role_rank),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
