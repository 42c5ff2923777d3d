/*
 * fuzz-csrf.c - libFuzzer harness for ingressd's CSRF token check
 * (services/ingressd/csrf.c). The input's first line is a binding id (a
 * browser id or a session token, or neither), the next byte pair an edit
 * (where, what), the rest an X-XSRF-TOKEN header value as a client sends it.
 *
 * Properties:
 *  - the id is accepted as a browser id exactly when it is 32 lowercase hex,
 *    as a session token exactly when it is 40 (the reference is here);
 *  - a token issued for a binding verifies for it, and not for another
 *    binding nor under another key; changed in any one byte it never
 *    verifies (no second spelling of a token: base64url without padding
 *    and its spare bits must be exact);
 *  - the header decoder agrees with a reference %XX decoder (refusing NUL,
 *    a bad escape, or what does not fit), and decoding a token in which
 *    any characters were %-encoded gives the token, which then verifies;
 *  - a header verifies exactly when a reference check written here (its
 *    own strict base64url decoder, HMAC-SHA-256 under the key derived as
 *    csrf.c's comment says) accepts it: the fuzzer learns issued tokens
 *    from comparisons, so it does send valid ones.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "ingressd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct ingress_csrf *s_key, *s_other_key;
static unsigned char s_ref_key[crypto_auth_hmacsha256_BYTES];

static void s_init(void)
{
	static const char a[] = "fuzz-csrf key material, 32 bytes or more", b[] =
		"fuzz-csrf other key, 32 bytes or more....", ctx[] = "sembark xsrf key v1";
	crypto_auth_hmacsha256_state st;

	if (s_key)
		return;
	if (ingress_csrf_new(a, sizeof(a) - 1, &s_key) < 0 ||
	    ingress_csrf_new(b, sizeof(b) - 1, &s_other_key) < 0)
		abort();
	crypto_auth_hmacsha256_init(&st, (const unsigned char *)a, sizeof(a) - 1);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)ctx, sizeof(ctx) - 1);
	crypto_auth_hmacsha256_final(&st, s_ref_key);
}

/* s_ref_b64 - decode exactly n bytes from base64url s (no padding), canonical only */
static bool s_ref_b64(const char *s, size_t len, unsigned char *out, size_t n)
{
	static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	char again[64];
	uint32_t acc = 0;
	size_t bits = 0, o = 0;

	if (len != (n * 8 + 5) / 6 || len >= sizeof(again))
		return false;
	for (size_t i = 0; i < len; i++) {
		const char *p = s[i] ? memchr(abc, s[i], 64) : NULL;

		if (!p)
			return false;
		acc = acc << 6 | (uint32_t)(p - abc);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(acc >> bits);
		}
	}
	sodium_bin2base64(again, sizeof(again), out, n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	return o == n && memcmp(again, s, len) == 0; /* no other spelling of the same bytes */
}

/* s_ref_verify - the reference: token's MAC is HMAC(key, "xsrf|" binding "|" nonce) */
static bool s_ref_verify(const struct csrf_binding *b, const char *t, size_t len)
{
	unsigned char nonce[CSRF_NONCE_BYTES], mac[32], want[32];
	crypto_auth_hmacsha256_state st;

	if (len != CSRF_TOKEN_LEN || t[22] != '.' || !s_ref_b64(t, 22, nonce, sizeof(nonce)) ||
	    !s_ref_b64(t + 23, 43, mac, sizeof(mac)))
		return false;
	crypto_auth_hmacsha256_init(&st, s_ref_key, sizeof(s_ref_key));
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)"xsrf|", 5);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)b->s, strlen(b->s));
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)"|", 1);
	crypto_auth_hmacsha256_update(&st, nonce, sizeof(nonce));
	crypto_auth_hmacsha256_final(&st, want);
	return memcmp(mac, want, sizeof(mac)) == 0;
}

static bool s_lower_hex_ref(const char *s, size_t n, size_t want)
{
	if (n != want)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!strchr("0123456789abcdef", s[i]) || s[i] == '\0')
			return false;
	return true;
}

/* s_ref_decode - the reference %XX decoder: length, or -1 */
static int s_ref_decode(const char *in, char *out, size_t size)
{
	static const char hex[] = "0123456789abcdef0123456789ABCDEF";
	size_t n = 0, len = strlen(in);

	for (size_t i = 0; i < len; i++) {
		char c = in[i];

		if (c == '%') {
			const char *h, *l;

			if (i + 2 >= len)
				return -1;
			h = strchr(hex, in[i + 1]);
			l = h ? strchr(hex, in[i + 2]) : NULL;
			if (!h || !l)
				return -1;
			c = (char)(((h - hex) % 16) * 16 + (l - hex) % 16);
			i += 2;
		}
		if (c == '\0' || n + 1 >= size)
			return -1;
		out[n++] = c;
	}
	out[n] = '\0';
	return (int)n;
}

/* s_binding - the id's binding; the id's kind checked against the reference */
static void s_binding(const char *id, size_t n, struct csrf_binding *b)
{
	bool browser = ingress_csrf_bind_browser(id, n, b) == 0;
	bool session = !browser && ingress_csrf_bind_session(id, n, b) == 0;

	if (browser != s_lower_hex_ref(id, n, CSRF_BROWSER_ID_LEN) ||
	    session != s_lower_hex_ref(id, n, INGRESS_TOKEN_LEN))
		abort();
	if (!browser && !session &&
	    ingress_csrf_bind_browser("0123456789abcdef0123456789abcdef", CSRF_BROWSER_ID_LEN, b) < 0)
		abort();
	if (strlen(b->s) > CSRF_BINDING_MAX)
		abort();
}

/* s_check_token - issue for b, then verify it as is, elsewhere and edited */
static void s_check_token(const struct csrf_binding *b, uint8_t where, uint8_t what,
			  const char *mask)
{
	char t[CSRF_TOKEN_LEN + 1], u[CSRF_TOKEN_LEN + 1], enc[3 * CSRF_TOKEN_LEN + 1],
		dec[CSRF_HEADER_MAX + 1];
	struct csrf_binding other;
	size_t e = 0;

	ingress_csrf_issue(s_key, b, t);
	if (strlen(t) != CSRF_TOKEN_LEN || !ingress_csrf_verify(s_key, b, t, CSRF_TOKEN_LEN) ||
	    !s_ref_verify(b, t, CSRF_TOKEN_LEN) ||
	    ingress_csrf_verify(s_other_key, b, t, CSRF_TOKEN_LEN))
		abort();
	other = *b;
	other.s[0] = other.s[0] == 'b' ? 's' : 'b';
	if (ingress_csrf_verify(s_key, &other, t, CSRF_TOKEN_LEN))
		abort();
	memcpy(u, t, sizeof(u));
	u[where % CSRF_TOKEN_LEN] = (char)what;
	if (memcmp(u, t, CSRF_TOKEN_LEN) != 0 && ingress_csrf_verify(s_key, b, u, CSRF_TOKEN_LEN))
		abort();
	if (ingress_csrf_verify(s_key, b, t, CSRF_TOKEN_LEN - 1) ||
	    ingress_csrf_verify(s_key, b, t, (size_t)where % CSRF_TOKEN_LEN))
		abort();
	for (size_t i = 0; i < CSRF_TOKEN_LEN; i++) /* %-encode where the mask says */
		if (mask[i % strlen(mask)] & (1 << (i % 7)))
			e += (size_t)sprintf(enc + e, "%%%02X", (unsigned char)t[i]);
		else
			enc[e++] = t[i];
	enc[e] = '\0';
	if (ingress_csrf_header_decode(enc, dec, sizeof(dec)) != CSRF_TOKEN_LEN ||
	    strcmp(dec, t) != 0 || !ingress_csrf_verify(s_key, b, dec, CSRF_TOKEN_LEN))
		abort();
}

/* s_check_header - a client's X-XSRF-TOKEN: decoded and verified as the reference does */
static void s_check_header(const struct csrf_binding *b, const char *header, size_t room)
{
	char got[CSRF_HEADER_MAX + 1], want[CSRF_HEADER_MAX + 1];
	int n = ingress_csrf_header_decode(header, got, room);
	int m = s_ref_decode(header, want, room);

	if (n != (m < 0 ? -EINVAL : m) || (n >= 0 && memcmp(got, want, (size_t)n + 1) != 0))
		abort();
	if (n >= 0 && ingress_csrf_verify(s_key, b, got, (size_t)n) != s_ref_verify(b, got, (size_t)n))
		abort();
	if (ingress_csrf_verify(s_key, b, header, strlen(header)) !=
	    s_ref_verify(b, header, strlen(header)))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), *rest;
	struct csrf_binding b;
	size_t id_len;
	uint8_t where = 0, what = 0;

	if (!text)
		return 0;
	s_init();
	memcpy(text, data, size);
	text[size] = '\0';
	rest = memchr(text, '\n', size);
	id_len = rest ? (size_t)(rest - text) : size;
	s_binding(text, id_len, &b);
	rest = rest ? rest + 1 : text + size;
	if (rest[0] && rest[1]) {
		where = (uint8_t)rest[0];
		what = (uint8_t)rest[1];
		rest += 2;
	}
	s_check_token(&b, where, what, rest[0] ? rest : "\x55");
	s_check_header(&b, rest, 1 + size % (CSRF_HEADER_MAX + 1));
	free(text);
	return 0;
}
