/*
 * csrf.c - sembark-ingressd's CSRF token: a signed double-submit token
 * (Sanctum's XSRF-TOKEN cookie, sent back in X-XSRF-TOKEN) bound to the
 * browser before login and to the session after it.
 *
 *   token   = base64url(nonce) "." base64url(HMAC-SHA-256(key, "xsrf|" binding "|" nonce))
 *   nonce   = 16 random bytes, fresh for every token
 *   binding = "b:" + the browser-binding cookie (32 random hex, HttpOnly), or
 *             "s:" + hex(SHA-256(session token))
 *
 * A token is valid only with the key of this deployment and only for the
 * binding it was made for: one taken from another browser or another
 * session, or made before login, does not verify. The key is derived from
 * the [ingress] csrf_key_file secret (>= 32 bytes) and lives in
 * sodium_malloc'ed memory, read-only, wiped when freed; it never leaves
 * ingressd. Pure code: no I/O, no logging.
 */
#include <errno.h>
#include <string.h>

#include <sodium.h>

#include "ingressd.h"
#include "util.h"

#define CSRF_MAC_BYTES crypto_auth_hmacsha256_BYTES
#define CSRF_NONCE_B64 22 /* base64url, no padding, of 16 bytes */
#define CSRF_MAC_B64 43   /* ... of 32 bytes */
#define CSRF_KEY_CONTEXT "sembark xsrf key v1"

_Static_assert(CSRF_TOKEN_LEN == CSRF_NONCE_B64 + 1 + CSRF_MAC_B64, "token length");

struct ingress_csrf {
	unsigned char key[crypto_auth_hmacsha256_KEYBYTES];
};

/* ingress_csrf_new - a key derived from len >= CSRF_KEY_MIN bytes, in sodium_malloc'ed memory */
int ingress_csrf_new(const void *material, size_t len, struct ingress_csrf **ret)
{
	crypto_auth_hmacsha256_state st;
	struct ingress_csrf *c;

	if (!material || len < CSRF_KEY_MIN)
		return -EINVAL;
	if (sodium_init() < 0)
		return -EIO;
	c = sodium_malloc(sizeof(*c));
	if (!c)
		return -ENOMEM;
	crypto_auth_hmacsha256_init(&st, material, len);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)CSRF_KEY_CONTEXT,
				      strlen(CSRF_KEY_CONTEXT));
	crypto_auth_hmacsha256_final(&st, c->key);
	sodium_memzero(&st, sizeof(st));
	sodium_mprotect_readonly(c);
	*ret = c;
	return 0;
}

/* ingress_csrf_free - wipe and free; accepts NULL; returns NULL */
struct ingress_csrf *ingress_csrf_free(struct ingress_csrf *c)
{
	if (c)
		sodium_free(c); /* wipes */
	return NULL;
}

static bool s_lower_hex(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

/* ingress_csrf_browser_id - a fresh browser-binding cookie value: 32 random lowercase hex */
void ingress_csrf_browser_id(char out[static CSRF_BROWSER_ID_LEN + 1])
{
	unsigned char b[CSRF_BROWSER_ID_LEN / 2];

	randombytes_buf(b, sizeof(b));
	sodium_bin2hex(out, CSRF_BROWSER_ID_LEN + 1, b, sizeof(b));
}

/* ingress_csrf_bind_browser - binding for a browser id (32 lowercase hex), else -EINVAL */
int ingress_csrf_bind_browser(const char *id, size_t len, struct csrf_binding *ret)
{
	if (!id || len != CSRF_BROWSER_ID_LEN || !s_lower_hex(id, len))
		return -EINVAL;
	memcpy(ret->s, "b:", 2);
	memcpy(ret->s + 2, id, len);
	ret->s[2 + len] = '\0';
	return 0;
}

/* ingress_csrf_bind_session - binding for a session token (40 lowercase hex): its SHA-256 */
int ingress_csrf_bind_session(const char *token, size_t len, struct csrf_binding *ret)
{
	unsigned char h[crypto_hash_sha256_BYTES];

	if (!token || len != INGRESS_TOKEN_LEN || !s_lower_hex(token, len))
		return -EINVAL;
	crypto_hash_sha256(h, (const unsigned char *)token, len);
	memcpy(ret->s, "s:", 2);
	sodium_bin2hex(ret->s + 2, sizeof(ret->s) - 2, h, sizeof(h));
	return 0;
}

static void s_mac(const struct ingress_csrf *c, const struct csrf_binding *b,
		  const unsigned char nonce[CSRF_NONCE_BYTES], unsigned char mac[CSRF_MAC_BYTES])
{
	crypto_auth_hmacsha256_state st;

	crypto_auth_hmacsha256_init(&st, c->key, sizeof(c->key));
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)"xsrf|", 5);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)b->s, strlen(b->s));
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)"|", 1);
	crypto_auth_hmacsha256_update(&st, nonce, CSRF_NONCE_BYTES);
	crypto_auth_hmacsha256_final(&st, mac);
	sodium_memzero(&st, sizeof(st));
}

/* ingress_csrf_issue - a new token for this binding */
void ingress_csrf_issue(const struct ingress_csrf *c, const struct csrf_binding *b,
			char out[static CSRF_TOKEN_LEN + 1])
{
	const int v = sodium_base64_VARIANT_URLSAFE_NO_PADDING;
	unsigned char nonce[CSRF_NONCE_BYTES], mac[CSRF_MAC_BYTES];

	randombytes_buf(nonce, sizeof(nonce));
	s_mac(c, b, nonce, mac);
	sodium_bin2base64(out, CSRF_NONCE_B64 + 1, nonce, sizeof(nonce), v);
	out[CSRF_NONCE_B64] = '.';
	sodium_bin2base64(out + CSRF_NONCE_B64 + 1, CSRF_MAC_B64 + 1, mac, sizeof(mac), v);
}

/* s_b64_exact - decode exactly len base64url characters into exactly n bytes */
static bool s_b64_exact(const char *s, size_t len, unsigned char *out, size_t n)
{
	const char *end = NULL;
	size_t got = 0;

	if (!util_base64url_chars(s, len)) /* libsodium reads a byte >= 0x80 as '_' */
		return false;
	if (sodium_base642bin(out, n, s, len, NULL, &got, &end,
			      sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0)
		return false;
	return got == n && end == s + len;
}

/* ingress_csrf_verify - was token (len bytes) issued with this key for this binding? */
bool ingress_csrf_verify(const struct ingress_csrf *c, const struct csrf_binding *b,
			 const char *token, size_t len)
{
	unsigned char nonce[CSRF_NONCE_BYTES], mac[CSRF_MAC_BYTES], want[CSRF_MAC_BYTES];
	bool ok;

	if (!c || !token || len != CSRF_TOKEN_LEN || token[CSRF_NONCE_B64] != '.')
		return false;
	if (!s_b64_exact(token, CSRF_NONCE_B64, nonce, sizeof(nonce)) ||
	    !s_b64_exact(token + CSRF_NONCE_B64 + 1, CSRF_MAC_B64, mac, sizeof(mac)))
		return false;
	s_mac(c, b, nonce, want);
	ok = crypto_verify_32(mac, want) == 0;
	sodium_memzero(want, sizeof(want));
	return ok;
}

/* ingress_csrf_header_decode - X-XSRF-TOKEN value with %XX decoded: length, or -EINVAL */
int ingress_csrf_header_decode(const char *in, char *out, size_t size)
{
	size_t n = 0;

	if (!in || size == 0)
		return -EINVAL;
	for (const char *p = in; *p; p++) {
		int hi, lo;
		char ch = *p;

		if (ch == '%') {
			hi = util_hexval(p[1]);
			lo = hi < 0 ? -1 : util_hexval(p[2]);
			if (lo < 0)
				return -EINVAL;
			ch = (char)(hi << 4 | lo);
			p += 2;
		}
		if (n + 1 >= size || ch == '\0')
			return -EINVAL;
		out[n++] = ch;
	}
	out[n] = '\0';
	return (int)n;
}
