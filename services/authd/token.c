/*
 * token.c - sembark-authd's secrets on the wire: session tokens (20 bytes
 * from libsodium's CSPRNG, 40 lowercase hex characters) and invite codes
 * (16 bytes, 32 hex), and the SHA-256 of that text, which is all the
 * database keeps of a token (and what invite codes are looked up by).
 * Pure functions on the loop thread; nothing here is logged. Hashes read
 * back from the database are compared in constant time.
 */
#include <errno.h>
#include <string.h>

#include <sodium.h>

#include "authd.h"

static int s_nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* s_unhex - exactly 2 * len lowercase hex characters into len bytes */
static int s_unhex(const char *in, uint8_t *out, size_t len)
{
	if (!in || strnlen(in, 2 * len + 1) != 2 * len)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		int hi = s_nibble(in[2 * i]), lo = s_nibble(in[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -EINVAL;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

/* authd_sha256 - SHA-256 of len bytes */
void authd_sha256(const void *in, size_t len, uint8_t out[AUTHD_HASH_BYTES])
{
	crypto_hash_sha256(out, in, len);
}

/* authd_bytea - "\\x<64 hex>", a SHA-256 as a bytea text parameter */
void authd_bytea(const uint8_t hash[AUTHD_HASH_BYTES], char out[AUTHD_BYTEA_MAX + 1])
{
	out[0] = '\\';
	out[1] = 'x';
	sodium_bin2hex(out + 2, AUTHD_BYTEA_MAX - 1, hash, AUTHD_HASH_BYTES);
}

/* s_secret_new - bytes random bytes as hex in out, and the SHA-256 of that text */
static void s_secret_new(size_t bytes, char *out, uint8_t hash[AUTHD_HASH_BYTES])
{
	uint8_t raw[AUTHD_TOKEN_BYTES];

	randombytes_buf(raw, bytes);
	sodium_bin2hex(out, 2 * bytes + 1, raw, bytes);
	sodium_memzero(raw, sizeof(raw));
	authd_sha256(out, 2 * bytes, hash);
}

/*
 * s_secret_hash - the SHA-256 of a secret's text, once it is exactly
 * 2 * bytes lowercase hex characters (what s_secret_new hands out).
 */
static int s_secret_hash(const char *hex, size_t bytes, uint8_t out[AUTHD_HASH_BYTES])
{
	uint8_t raw[AUTHD_TOKEN_BYTES];
	int r;

	r = s_unhex(hex, raw, bytes);
	sodium_memzero(raw, sizeof(raw));
	if (r == 0)
		authd_sha256(hex, 2 * bytes, out);
	return r;
}

/* authd_token_new - 20 CSPRNG bytes as 40 hex, and their SHA-256 */
void authd_token_new(char out[AUTHD_TOKEN_HEX + 1], uint8_t hash[AUTHD_HASH_BYTES])
{
	s_secret_new(AUTHD_TOKEN_BYTES, out, hash);
}

/* authd_token_hash - SHA-256 of a well-formed token; -EINVAL otherwise */
int authd_token_hash(const char *token, uint8_t out[AUTHD_HASH_BYTES])
{
	return s_secret_hash(token, AUTHD_TOKEN_BYTES, out);
}

/* authd_invite_new - 16 CSPRNG bytes as 32 hex, and their SHA-256 */
void authd_invite_new(char out[AUTHD_INVITE_HEX + 1], uint8_t hash[AUTHD_HASH_BYTES])
{
	s_secret_new(AUTHD_INVITE_BYTES, out, hash);
}

/* authd_invite_hash - SHA-256 of a well-formed invite code; -EINVAL otherwise */
int authd_invite_hash(const char *code, uint8_t out[AUTHD_HASH_BYTES])
{
	return s_secret_hash(code, AUTHD_INVITE_BYTES, out);
}

/* authd_hash_equal_hex - does hex (64 chars, from the database) name hash? constant time */
bool authd_hash_equal_hex(const char *hex, const uint8_t hash[AUTHD_HASH_BYTES])
{
	uint8_t other[AUTHD_HASH_BYTES];

	if (s_unhex(hex, other, sizeof(other)) < 0)
		return false;
	return sodium_memcmp(other, hash, AUTHD_HASH_BYTES) == 0;
}
