/*
 * redact.c - the last guard of "no IP address, token or credential is
 * ever stored": before a log record or an audit event is buffered, every
 * part of its text that looks like one of these is replaced. Deliberately
 * generous (a false positive costs a version string, a miss costs a
 * promise). Five passes, in this order:
 *
 *   credentials  an Authorization, Proxy-Authorization, Cookie or
 *                Set-Cookie value ("Authorization: Bearer x", "cookie=a=b;
 *                c=d" up to the end of the line or the closing quote),
 *                a session or XSRF cookie ("sembark_session=...",
 *                "XSRF-TOKEN=..."), "password=", "passwd=", "secret=",
 *                "token=" values, and "Bearer <token>": the value becomes
 *                "[redacted]", the name stays;
 *   IPv6         a maximal run of [0-9A-Fa-f:.], not starting with '.',
 *                that holds "::" and a hex digit, or seven colons or
 *                more, or that inet_pton() accepts with at least two
 *                colons: "[ip]" (so ::ffff:10.0.0.1 and fe80::1 are one
 *                redaction each; in "x.::1" the run is "::1", as it is
 *                once a credential pass took the '.' away);
 *   IPv4         four dot-separated runs of 1-3 digits, not preceded by a
 *                digit or '.': "[ip]";
 *   hex tokens   a run of 32 or more hex digits (session tokens, their
 *                hashes, invite codes): "[token]".
 *   credentials  again: a key glued to an address or a token
 *                ("2001:db8::1token=x") is a key once that is "[ip]", so
 *                the result is final (redacting it again changes nothing).
 *
 * Left alone: versions (2.4.1), dates (2026-11-29), times (05:00:00.123),
 * UUIDs, MAC addresses. Only ASCII bytes are matched and values end at
 * ASCII bytes, so valid UTF-8 stays valid. Every replacement is counted
 * (logd_redactions()); logd reports the count in its own log.
 */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "logd.h"
#include "sbuf.h"

#define IP_MARK "[ip]"
#define TOKEN_MARK "[token]"
#define HEX_TOKEN_MIN 32
#define V6_TEXT_MAX 64 /* longer runs are never an address inet_pton accepts */

static uint64_t s_total;

static bool s_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool s_hex(char c)
{
	return s_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool s_alnum(char c)
{
	return s_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/*
 * What a pass's matcher found at in[i]: the text up to next is looked at
 * (next > i); [from, to) is replaced by mark, or nothing when mark is NULL.
 */
struct match {
	size_t from, to, next;
	const char *mark;
};

typedef bool (*match_fn)(const char *in, size_t i, struct match *m);

/* s_pass - in to out with every match replaced; unchanged text is copied in runs */
static void s_pass(const char *in, struct sbuf *out, size_t *count, match_fn match)
{
	size_t i = 0, copied = 0;
	struct match m;

	while (in[i]) {
		if (!match(in, i, &m)) {
			i++;
			continue;
		}
		if (m.mark) {
			sbuf_put(out, in + copied, m.from - copied);
			sbuf_puts(out, m.mark);
			(*count)++;
			copied = m.to;
		}
		i = m.next;
	}
	sbuf_put(out, in + copied, i - copied);
}

/* ---- credentials --------------------------------------------------------- */

enum cred_value {
	CRED_LINE, /* a header value: to the end of the line */
	CRED_WORD, /* a key=value value: to a space, ';', ',', '&' or quote */
};

struct cred_key {
	const char *name;
	bool colon;           /* "name: value" as well as "name=value" */
	enum cred_value value;
};

static const struct cred_key s_cred_keys[] = {
	{ "authorization", true, CRED_LINE }, /* also Proxy-Authorization */
	{ "cookie", true, CRED_LINE },        /* also Set-Cookie */
	{ "sembark_session", true, CRED_WORD },
	{ "xsrf-token", true, CRED_WORD },
	{ "password", false, CRED_WORD },
	{ "passwd", false, CRED_WORD },
	{ "secret", false, CRED_WORD },
	{ "token", false, CRED_WORD },
};

static size_t s_skip_blank(const char *s, size_t i)
{
	while (s[i] == ' ' || s[i] == '\t')
		i++;
	return i;
}

/* s_value_end - where the value starting at in[v] ends */
static size_t s_value_end(const char *in, size_t v, char quote, enum cred_value kind)
{
	size_t e = v;

	if (quote) {
		while (in[e] && in[e] != quote)
			e += in[e] == '\\' && in[e + 1] ? 2 : 1;
		return e;
	}
	if (kind == CRED_LINE)
		return v + strcspn(in + v, "\r\n");
	return v + strcspn(in + v, " \t\r\n;,&\"'");
}

/* s_cred_at - key k at in[i]: sets ret_v, ret_e to its value's extent */
static bool s_cred_at(const char *in, size_t i, const struct cred_key *k, size_t *ret_v,
		      size_t *ret_e)
{
	size_t n = strlen(k->name), j;
	char quote = '\0';

	if (strncasecmp(in + i, k->name, n) != 0)
		return false;
	j = i + n;
	if (in[j] == '"' || in[j] == '\'')
		j++;
	j = s_skip_blank(in, j);
	if (!(in[j] == '=' || (k->colon && in[j] == ':')))
		return false;
	j = s_skip_blank(in, j + 1);
	if (in[j] == '"' || in[j] == '\'')
		quote = in[j++];
	*ret_v = j;
	*ret_e = s_value_end(in, j, quote, k->value);
	return *ret_e > j;
}

/* s_bearer_at - "Bearer <token>" at in[i] */
static bool s_bearer_at(const char *in, size_t i, size_t *ret_v, size_t *ret_e)
{
	size_t v = i + 6, e;

	if (strncasecmp(in + i, "bearer", 6) != 0 || (in[v] != ' ' && in[v] != '\t'))
		return false;
	v = s_skip_blank(in, v);
	e = v + strspn(in + v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			       "0123456789-._~+/=");
	*ret_v = v;
	*ret_e = e;
	return e > v;
}

/* s_cred_first - can a key or "Bearer" start with c? (most bytes cannot: a quick no) */
static bool s_cred_first(char c)
{
	char l = (char)(c | 0x20);

	for (size_t k = 0; k < ELEMENTSOF(s_cred_keys); k++)
		if (s_cred_keys[k].name[0] == l)
			return true;
	return l == 'b';
}

static bool s_cred_any(const char *in, size_t i, size_t *ret_v, size_t *ret_e)
{
	if (!s_cred_first(in[i]) || (i > 0 && s_alnum(in[i - 1])))
		return false;
	for (size_t k = 0; k < ELEMENTSOF(s_cred_keys); k++)
		if (s_cred_at(in, i, &s_cred_keys[k], ret_v, ret_e))
			return true;
	return s_bearer_at(in, i, ret_v, ret_e);
}

/* s_is_mark - is [p, p + n) our own marker (so redacting twice changes nothing)? */
static bool s_is_mark(const char *p, size_t n)
{
	return n == strlen(LOGD_REDACTED) && memcmp(p, LOGD_REDACTED, n) == 0;
}

static bool s_match_credential(const char *in, size_t i, struct match *m)
{
	size_t v, e;

	if (!s_cred_any(in, i, &v, &e) || s_is_mark(in + v, e - v))
		return false;
	*m = (struct match){ .from = v, .to = e, .next = e, .mark = LOGD_REDACTED };
	return true;
}

/* ---- IPv6 ------------------------------------------------------------------ */

static bool s_v6_char(char c)
{
	return s_hex(c) || c == ':' || c == '.';
}

static bool s_v6_pton(const char *p, size_t n)
{
	char buf[V6_TEXT_MAX + 1];
	unsigned char addr[16];

	if (n > V6_TEXT_MAX)
		return false;
	memcpy(buf, p, n);
	buf[n] = '\0';
	return inet_pton(AF_INET6, buf, addr) == 1;
}

static bool s_ipv6_like(const char *p, size_t n)
{
	size_t colons = 0;
	bool hex = false, dbl = false;

	for (size_t i = 0; i < n; i++) {
		if (p[i] == ':') {
			colons++;
			dbl = dbl || (i > 0 && p[i - 1] == ':');
		} else if (s_hex(p[i])) {
			hex = true;
		}
	}
	return (dbl && hex) || colons >= 7 || (colons >= 2 && s_v6_pton(p, n));
}

static bool s_match_ipv6(const char *in, size_t i, struct match *m)
{
	size_t j = i;

	while (s_v6_char(in[j]))
		j++;
	if (j == i || in[i] == '.' || (j > i + 1 && in[i] == ':' && in[i + 1] != ':'))
		return false; /* "addr:2001:db8::1": the ':' is the text's; ".::1": so is the '.' */
	*m = (struct match){ .from = i, .to = j, .next = j,
			     .mark = s_ipv6_like(in + i, j - i) ? IP_MARK : NULL };
	return true;
}

/* ---- IPv4 ------------------------------------------------------------------ */

static size_t s_digits(const char *p)
{
	size_t n = 0;

	while (s_digit(p[n]))
		n++;
	return n;
}

/* s_ipv4_len - length of a dotted quad starting at p, 0 when none */
static size_t s_ipv4_len(const char *p)
{
	size_t off = 0;

	for (int g = 0; g < 4; g++) {
		size_t n = s_digits(p + off);

		if (n < 1 || n > 3)
			return 0;
		off += n;
		if (g < 3 && p[off++] != '.')
			return 0;
	}
	return off;
}

static bool s_match_ipv4(const char *in, size_t i, struct match *m)
{
	char prev = i > 0 ? in[i - 1] : '\0';
	size_t n;

	if (!s_digit(in[i]) || s_digit(prev) || prev == '.' || !(n = s_ipv4_len(in + i)))
		return false;
	*m = (struct match){ .from = i, .to = i + n, .next = i + n, .mark = IP_MARK };
	return true;
}

/* ---- hex tokens -------------------------------------------------------------- */

static bool s_match_hex(const char *in, size_t i, struct match *m)
{
	size_t j = i;

	while (s_hex(in[j]))
		j++;
	if (j == i)
		return false;
	*m = (struct match){ .from = i, .to = j, .next = j,
			     .mark = j - i >= HEX_TOKEN_MIN ? TOKEN_MARK : NULL };
	return true;
}

/* ---- entry points -------------------------------------------------------------- */

/* logd_redact - a malloc'ed copy of s with every match replaced */
char *logd_redact(const char *s, size_t *ret_n)
{
	static const match_fn passes[] = { s_match_credential, s_match_ipv6, s_match_ipv4,
					   s_match_hex, s_match_credential };
	_cleanup_free_ char *cur = strdup(s);
	size_t n = 0;

	if (!cur)
		return NULL;
	for (size_t p = 0; p < ELEMENTSOF(passes); p++) {
		struct sbuf out = { 0 };

		s_pass(cur, &out, &n, passes[p]);
		free(cur);
		cur = sbuf_take(&out);
		if (!cur)
			return NULL;
	}
	s_total += n;
	if (ret_n)
		*ret_n = n;
	return TAKE_PTR(cur);
}

/* logd_redact_key - is a field named key a secret whatever its value? */
bool logd_redact_key(const char *key)
{
	static const char *const exact[] = { "password", "passwd", "secret", "token",
					     "authorization", "cookie", "set_cookie",
					     "bearer", "api_key", "sembark_session" };
	static const char *const suffix[] = { "_password", "_secret", "_token", "_cookie" };
	size_t n = strlen(key);

	for (size_t i = 0; i < ELEMENTSOF(exact); i++)
		if (strcasecmp(key, exact[i]) == 0)
			return true;
	for (size_t i = 0; i < ELEMENTSOF(suffix); i++) {
		size_t m = strlen(suffix[i]);

		if (n > m && strcasecmp(key + n - m, suffix[i]) == 0)
			return true;
	}
	return false;
}

/* logd_redactions_add - count replacements made elsewhere (secret keys) */
void logd_redactions_add(uint64_t n)
{
	s_total += n;
}

/* logd_redactions - replacements since start */
uint64_t logd_redactions(void)
{
	return s_total;
}
