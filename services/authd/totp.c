/*
 * totp.c - the second factor's primitives, kept apart from any flow: RFC
 * 4226 HOTP and RFC 6238 TOTP (HMAC-SHA-1, 6 digits, 30 s steps: what
 * every authenticator app reads), secrets from libsodium's generator,
 * their base32 form and otpauth:// URI for enrolment, sealing a secret
 * for storage (XChaCha20-Poly1305 under a key only authd holds, the user
 * id as associated data so a sealed secret cannot be moved to another
 * account), and recovery codes (80 random bits shown once, stored as
 * SHA-256 like session tokens).
 *
 * A code is accepted for the current step or one either side (clock
 * drift), and never for a step at or before the last one used (RFC 6238
 * section 5.2: a code is good once).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sodium.h>

#include "authd.h"

static const char s_base32[] = "abcdefghijklmnopqrstuvwxyz234567";

/* authd_totp_secret_new - a new secret from the CSPRNG */
void authd_totp_secret_new(uint8_t out[AUTHD_TOTP_SECRET_BYTES])
{
	randombytes_buf(out, AUTHD_TOTP_SECRET_BYTES);
}

/* authd_hotp - RFC 4226: the code of counter under key, digits (6..8) long */
uint32_t authd_hotp(const uint8_t *key, size_t len, uint64_t counter, unsigned digits)
{
	static const uint32_t mod[] = { 1000000, 10000000, 100000000 };
	uint8_t msg[8], mac[EVP_MAX_MD_SIZE];
	unsigned mac_len = 0, off;
	uint32_t bin;

	for (int i = 7; i >= 0; i--) {
		msg[i] = (uint8_t)(counter & 0xff);
		counter >>= 8;
	}
	if (digits < 6 || digits > 8 ||
	    !HMAC(EVP_sha1(), key, (int)len, msg, sizeof(msg), mac, &mac_len) || mac_len != 20)
		return UINT32_MAX;
	off = mac[19] & 0x0f;
	bin = (uint32_t)(mac[off] & 0x7f) << 24 | (uint32_t)mac[off + 1] << 16 |
	      (uint32_t)mac[off + 2] << 8 | mac[off + 3];
	sodium_memzero(mac, sizeof(mac));
	return bin % mod[digits - 6];
}

/* s_code_text - the code as exactly AUTHD_TOTP_DIGITS digits */
static void s_code_text(uint32_t code, char out[AUTHD_TOTP_DIGITS + 1])
{
	snprintf(out, AUTHD_TOTP_DIGITS + 1, "%0*u", AUTHD_TOTP_DIGITS, (unsigned)code);
}

/* s_code_wellformed - exactly AUTHD_TOTP_DIGITS ASCII digits */
static bool s_code_wellformed(const char *code)
{
	size_t n = 0;

	for (; code[n]; n++)
		if (n >= AUTHD_TOTP_DIGITS || code[n] < '0' || code[n] > '9')
			return false;
	return n == AUTHD_TOTP_DIGITS;
}

/*
 * authd_totp_check - is code the TOTP of key at unix time now (a step
 * either side accepted)? Steps at or before last_step (the last one used,
 * -1 for none) are refused. Every candidate step is computed and compared
 * in constant time, so timing tells nothing of which one matched.
 * Returns 0 and the matching step in *ret_step, -EINVAL for a code that is
 * not AUTHD_TOTP_DIGITS digits, -EACCES for a wrong or reused code.
 */
int authd_totp_check(const uint8_t *key, size_t len, int64_t now, const char *code,
		     int64_t last_step, int64_t *ret_step)
{
	int64_t step = now / AUTHD_TOTP_STEP, found = -1;

	if (!s_code_wellformed(code))
		return -EINVAL;
	for (int64_t s = step - AUTHD_TOTP_SKEW; s <= step + AUTHD_TOTP_SKEW; s++) {
		char want[AUTHD_TOTP_DIGITS + 1];
		bool same;

		if (s < 0)
			continue;
		s_code_text(authd_hotp(key, len, (uint64_t)s, AUTHD_TOTP_DIGITS), want);
		same = sodium_memcmp(want, code, AUTHD_TOTP_DIGITS) == 0;
		if (same && s > last_step && found < 0)
			found = s;
	}
	if (found < 0)
		return -EACCES;
	*ret_step = found;
	return 0;
}

/* authd_base32 - RFC 4648 base32 of in, lower case, no padding; 0 if out is too small */
size_t authd_base32(const uint8_t *in, size_t len, char *out, size_t size)
{
	size_t n = 0;
	unsigned buf = 0, bits = 0;

	if (size < (len * 8 + 4) / 5 + 1)
		return 0;
	for (size_t i = 0; i < len; i++) {
		buf = (buf << 8 | in[i]) & 0xfff;
		bits += 8;
		while (bits >= 5) {
			out[n++] = s_base32[(buf >> (bits - 5)) & 31];
			bits -= 5;
		}
	}
	if (bits > 0)
		out[n++] = s_base32[(buf << (5 - bits)) & 31];
	out[n] = '\0';
	return n;
}

/* s_uri_escape - percent-encode all but RFC 3986's unreserved characters */
static bool s_uri_escape(const char *in, char *out, size_t size)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = 0;

	for (; *in; in++) {
		unsigned char c = (unsigned char)*in;
		bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			     (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';

		if (n + (plain ? 1 : 3) >= size)
			return false;
		if (plain) {
			out[n++] = (char)c;
		} else {
			out[n++] = '%';
			out[n++] = hex[c >> 4];
			out[n++] = hex[c & 15];
		}
	}
	out[n] = '\0';
	return true;
}

/*
 * authd_totp_uri - the otpauth:// URI an authenticator app reads from the
 * enrolment QR code (Key Uri Format): label "issuer:account", the secret
 * in upper-case base32. Returns 0, -ENOBUFS when out is too small.
 */
int authd_totp_uri(const char *issuer, const char *account,
		   const uint8_t secret[AUTHD_TOTP_SECRET_BYTES], char *out, size_t size)
{
	char b32[AUTHD_TOTP_BASE32_MAX + 1], is[3 * AUTHD_TOTP_ISSUER_MAX + 1],
		acc[3 * AUTHD_EMAIL_MAX + 1];
	int n;

	if (strlen(issuer) > AUTHD_TOTP_ISSUER_MAX || strlen(account) > AUTHD_EMAIL_MAX ||
	    !s_uri_escape(issuer, is, sizeof(is)) || !s_uri_escape(account, acc, sizeof(acc)))
		return -ENOBUFS;
	authd_base32(secret, AUTHD_TOTP_SECRET_BYTES, b32, sizeof(b32));
	for (char *p = b32; *p; p++)
		if (*p >= 'a' && *p <= 'z')
			*p = (char)(*p - 'a' + 'A');
	n = snprintf(out, size,
		     "otpauth://totp/%s:%s?secret=%s&issuer=%s&algorithm=SHA1&digits=%d&period=%d",
		     is, acc, b32, is, AUTHD_TOTP_DIGITS, AUTHD_TOTP_STEP);
	sodium_memzero(b32, sizeof(b32));
	if (n < 0 || (size_t)n >= size) {
		sodium_memzero(out, size);
		return -ENOBUFS;
	}
	return 0;
}

/* authd_totp_seal - out = nonce || XChaCha20-Poly1305(secret), user_id as associated data */
void authd_totp_seal(const uint8_t key[AUTHD_TOTP_KEY_BYTES], const char *user_id,
		     const uint8_t secret[AUTHD_TOTP_SECRET_BYTES],
		     uint8_t out[AUTHD_TOTP_SEALED_BYTES])
{
	uint8_t *nonce = out, *box = out + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;

	randombytes_buf(nonce, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
	crypto_aead_xchacha20poly1305_ietf_encrypt(box, NULL, secret, AUTHD_TOTP_SECRET_BYTES,
						   (const uint8_t *)user_id, strlen(user_id), NULL,
						   nonce, key);
}

/* authd_totp_open - the secret sealed for user_id; -EBADMSG if forged, moved or the key is another */
int authd_totp_open(const uint8_t key[AUTHD_TOTP_KEY_BYTES], const char *user_id,
		    const uint8_t sealed[AUTHD_TOTP_SEALED_BYTES],
		    uint8_t secret[AUTHD_TOTP_SECRET_BYTES])
{
	const uint8_t *nonce = sealed, *box = sealed + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;

	if (crypto_aead_xchacha20poly1305_ietf_decrypt(
		    secret, NULL, NULL, box,
		    AUTHD_TOTP_SEALED_BYTES - crypto_aead_xchacha20poly1305_ietf_NPUBBYTES,
		    (const uint8_t *)user_id, strlen(user_id), nonce, key) != 0) {
		sodium_memzero(secret, AUTHD_TOTP_SECRET_BYTES);
		return -EBADMSG;
	}
	return 0;
}

/*
 * authd_recovery_code_new - a recovery code as shown once ("abcd-efgh-
 * ijkl-mnop": 16 base32 characters, 80 bits) and the SHA-256 of its
 * normal form, which is all that is stored.
 */
void authd_recovery_code_new(char out[AUTHD_RECOVERY_CODE_LEN + 1],
			     uint8_t hash[AUTHD_HASH_BYTES])
{
	uint8_t raw[10];
	char b32[17];
	size_t n = 0;

	randombytes_buf(raw, sizeof(raw));
	authd_base32(raw, sizeof(raw), b32, sizeof(b32));
	for (size_t i = 0; i < 16; i++) {
		if (i > 0 && i % 4 == 0)
			out[n++] = '-';
		out[n++] = b32[i];
	}
	out[n] = '\0';
	authd_sha256(b32, 16, hash);
	sodium_memzero(raw, sizeof(raw));
	sodium_memzero(b32, sizeof(b32));
}

/*
 * authd_recovery_code_hash - the hash of a code as a person typed it:
 * case, blanks and dashes ignored. -EINVAL unless 16 base32 characters
 * remain.
 */
int authd_recovery_code_hash(const char *typed, uint8_t hash[AUTHD_HASH_BYTES])
{
	char norm[17];
	size_t n = 0;

	for (; *typed; typed++) {
		char c = *typed;

		if (c == '-' || c == ' ')
			continue;
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (n >= 16 || !strchr(s_base32, c))
			return -EINVAL;
		norm[n++] = c;
	}
	if (n != 16)
		return -EINVAL;
	authd_sha256(norm, n, hash);
	sodium_memzero(norm, sizeof(norm));
	return 0;
}
