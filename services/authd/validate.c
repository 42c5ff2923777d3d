/*
 * validate.c - sembark-authd's checks of every field of an account request
 * (API.md "Accounts"), made before anything touches the database or the
 * hashing pool. The input is a NUL-terminated string from a decoded
 * message (email, names) or bytes with a length (password); outputs are
 * written only on success, and a refusal comes with a short English
 * reason for the API's "fields" map.
 *
 * Email: ASCII whitespace trimmed, ASCII lower-cased, at most 254 bytes,
 * in the dot-atom form of RFC 5321 (no quoted local parts, no address
 * literals): local part of atext and single inner dots, one '@', a domain
 * of at least two labels of letters, digits and inner hyphens. Only ASCII
 * is accepted: one account per email needs one spelling per address, and
 * Unicode addresses have several (case, normalisation forms).
 *
 * Names: ASCII whitespace trimmed, strict UTF-8, 1..100 code points, no
 * control characters (C0, DEL, C1). Passwords: never trimmed; strict
 * UTF-8 without NUL, 12+ code points, at most 128 bytes, compared lower-
 * cased with the email and the common-password list (data/, linked in by
 * common_passwords.S, indexed here once, at authd's start, as a hash set:
 * one lookup is a hash and, on average, about one comparison). Strict
 * UTF-8 is shared/util.c's util_utf8_next: no overlong form, surrogate or
 * code point above U+10FFFF.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "authd.h"
#include "common_passwords.h"
#include "util.h"

#define WHY_EMAIL "must be a valid email address"
#define WHY_EMAIL_LONG "must be at most 254 characters"
#define WHY_NAME_LEN "must be 1 to 100 characters"
#define WHY_UTF8 "must be valid UTF-8"
#define WHY_CONTROL "must not contain control characters"
#define WHY_PW_SHORT "must be at least 12 characters"
#define WHY_PW_LONG "must be at most 128 bytes"
#define WHY_PW_NUL "must not contain NUL characters"
#define WHY_PW_COMMON "is too common"
#define WHY_PW_EMAIL "must not be your email"

#define COMMON_SLOTS (1u << 15)            /* hash set slots, a power of two (256 KiB) */
#define COMMON_MAX (COMMON_SLOTS / 4 * 3)  /* entries indexed at most; the shipped list has 15,456 */

static bool is_space(unsigned char c)
{
	return c == ' ' || (c >= '\t' && c <= '\r');
}

static char ascii_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* trim - *ret_s, *ret_n: s without leading and trailing ASCII whitespace */
static void trim(const char *s, size_t n, const char **ret_s, size_t *ret_n)
{
	while (n > 0 && is_space((unsigned char)s[0]))
		s++, n--;
	while (n > 0 && is_space((unsigned char)s[n - 1]))
		n--;
	*ret_s = s;
	*ret_n = n;
}

static bool is_control(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f);
}

/* ---- email ------------------------------------------------------------- */

static bool is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* is_atext - RFC 5322 atext, lower-case input */
static bool is_atext(char c)
{
	return is_alnum(c) || (c && strchr("!#$%&'*+-/=?^_`{|}~", c));
}

/* local_ok - dot-atom: atext runs separated by single dots */
static bool local_ok(const char *s, size_t n)
{
	if (n == 0 || s[0] == '.' || s[n - 1] == '.')
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '.' ? s[i + 1] == '.' : !is_atext(s[i]))
			return false;
	}
	return true;
}

/* domain_ok - two or more labels of letters, digits and inner hyphens */
static bool domain_ok(const char *s, size_t n)
{
	size_t labels = 0, start = 0;

	for (size_t i = 0; i <= n; i++) {
		if (i < n && s[i] != '.') {
			if (!is_alnum(s[i]) && s[i] != '-')
				return false;
			continue;
		}
		if (i == start || s[start] == '-' || s[i - 1] == '-')
			return false;
		labels++;
		start = i + 1;
	}
	return labels >= 2;
}

/* authd_validate_email - trim, lower-case and check an email address */
int authd_validate_email(const char *in, char out[AUTHD_EMAIL_MAX + 1], const char **ret_why)
{
	char buf[AUTHD_EMAIL_MAX + 1];
	const char *s, *at;
	size_t n;

	if (!in) {
		*ret_why = WHY_EMAIL;
		return -EINVAL;
	}
	trim(in, strlen(in), &s, &n);
	if (n > AUTHD_EMAIL_MAX) {
		*ret_why = WHY_EMAIL_LONG;
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++)
		buf[i] = ascii_lower(s[i]);
	buf[n] = '\0';
	at = memchr(buf, '@', n);
	if (!at || !local_ok(buf, (size_t)(at - buf)) ||
	    !domain_ok(at + 1, n - (size_t)(at - buf) - 1)) {
		*ret_why = WHY_EMAIL;
		return -EINVAL;
	}
	memcpy(out, buf, n + 1);
	return 0;
}

/* ---- names ------------------------------------------------------------- */

/* authd_validate_name - trim; 1..100 code points, valid UTF-8, no control characters */
int authd_validate_name(const char *in, char out[AUTHD_NAME_MAX_BYTES + 1], const char **ret_why)
{
	const char *s;
	size_t n, i = 0, chars = 0;
	uint32_t cp;
	int len;

	if (!in) {
		*ret_why = WHY_NAME_LEN;
		return -EINVAL;
	}
	trim(in, strlen(in), &s, &n);
	while (i < n && chars <= AUTHD_NAME_MAX_CHARS) {
		len = util_utf8_next((const unsigned char *)s + i, n - i, &cp);
		if (len < 0 || is_control(cp)) {
			*ret_why = len < 0 ? WHY_UTF8 : WHY_CONTROL;
			return -EINVAL;
		}
		i += (size_t)len;
		chars++;
	}
	if (chars < 1 || chars > AUTHD_NAME_MAX_CHARS) {
		*ret_why = WHY_NAME_LEN;
		return -EINVAL;
	}
	memcpy(out, s, n); /* n <= 4 * 100 */
	out[n] = '\0';
	return 0;
}

/* ---- passwords --------------------------------------------------------- */

/*
 * fold_ascii - the simple lower-case of pw into out if it is all ASCII
 * then (U+212A KELVIN SIGN and U+0130 become 'k' and 'i'); false when
 * any other non-ASCII code point is left, which nothing on the list or in
 * an email can equal. pw is valid UTF-8 of at most 128 bytes.
 */
static bool fold_ascii(const char *pw, size_t len, char out[AUTHD_PASSWORD_MAX_BYTES],
		       size_t *ret_n)
{
	size_t i = 0, o = 0;
	uint32_t cp;
	int l;

	while (i < len) {
		l = util_utf8_next((const unsigned char *)pw + i, len - i, &cp);
		if (l < 0)
			return false;
		if (cp == 0x212a)
			cp = 'k';
		else if (cp == 0x130)
			cp = 'i';
		if (cp >= 0x80)
			return false;
		out[o++] = ascii_lower((char)cp);
		i += (size_t)l;
	}
	*ret_n = o;
	return true;
}

/*
 * The common-password list as a hash set (open addressing, linear
 * probing) over the linked-in bytes: a slot holds an entry's offset and
 * length, len 0 when free. Built once (authd's start-up asks for the
 * count), read-only afterwards, so threads may look up without a lock.
 */
struct common_slot {
	uint32_t off;
	uint32_t len;
};

static struct common_slot common[COMMON_SLOTS];
static size_t n_common;
static pthread_once_t common_once = PTHREAD_ONCE_INIT;

/* common_hash - FNV-1a (64-bit) of n bytes */
static uint64_t common_hash(const char *s, size_t n)
{
	uint64_t h = 0xcbf29ce484222325u;

	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 0x100000001b3u;
	}
	return h;
}

/* common_find - the slot holding s (n bytes), else the free slot it would go in */
static size_t common_find(const char *s, size_t n)
{
	const size_t mask = COMMON_SLOTS - 1;
	size_t i = (size_t)common_hash(s, n) & mask;

	/* never more than COMMON_MAX of COMMON_SLOTS are taken: a free slot ends the probe */
	while (common[i].len != 0 &&
	       (common[i].len != n || memcmp(authd_common_passwords_start + common[i].off, s, n) != 0))
		i = (i + 1) & mask;
	return i;
}

/* common_index - one entry per distinct non-empty line of the linked-in list */
static void common_index(void)
{
	const char *base = authd_common_passwords_start;
	size_t size = (size_t)(authd_common_passwords_end - base), start = 0;

	for (size_t i = 0; i <= size && n_common < COMMON_MAX; i++) {
		if (i < size && base[i] != '\n')
			continue;
		size_t end = i;
		if (end > start && base[end - 1] == '\r')
			end--;
		if (end > start) {
			size_t slot = common_find(base + start, end - start);

			if (common[slot].len == 0) {
				common[slot] = (struct common_slot){ (uint32_t)start,
								     (uint32_t)(end - start) };
				n_common++;
			}
		}
		start = i + 1;
	}
}

/* is_common_folded - is an already lower-cased candidate in the set? */
static bool is_common_folded(const char *s, size_t n)
{
	pthread_once(&common_once, common_index);
	return n > 0 && common[common_find(s, n)].len != 0;
}

/* authd_password_is_common - on the shipped list (case-insensitive)? */
bool authd_password_is_common(const char *pw, size_t len)
{
	char folded[AUTHD_PASSWORD_MAX_BYTES];
	size_t n;
	bool r;

	if (!pw || len > AUTHD_PASSWORD_MAX_BYTES || !fold_ascii(pw, len, folded, &n))
		return false;
	r = is_common_folded(folded, n);
	explicit_bzero(folded, sizeof(folded));
	return r;
}

/* authd_common_passwords_count - entries indexed (the first call builds the set) */
size_t authd_common_passwords_count(void)
{
	pthread_once(&common_once, common_index);
	return n_common;
}

/* equals_email - pw (trimmed, lower-cased) is the normalised email? */
static bool equals_email(const char *pw, size_t len, const char *email)
{
	char folded[AUTHD_PASSWORD_MAX_BYTES];
	const char *e, *p;
	size_t en, pn, n;
	bool r = false;

	if (!email)
		return false;
	trim(email, strlen(email), &e, &en);
	trim(pw, len, &p, &pn);
	if (en > 0 && fold_ascii(p, pn, folded, &n) && n == en) {
		r = true;
		for (size_t i = 0; i < n; i++)
			r &= folded[i] == ascii_lower(e[i]);
	}
	explicit_bzero(folded, sizeof(folded));
	return r;
}

/* count_chars - code points of valid UTF-8 pw without NUL, or a reason */
static int count_chars(const char *pw, size_t len, size_t *ret_chars, const char **ret_why)
{
	size_t i = 0, chars = 0;
	uint32_t cp;
	int l;

	while (i < len) {
		l = util_utf8_next((const unsigned char *)pw + i, len - i, &cp);
		if (l < 0 || cp == 0) {
			*ret_why = l < 0 ? WHY_UTF8 : WHY_PW_NUL;
			return -EINVAL;
		}
		i += (size_t)l;
		chars++;
	}
	*ret_chars = chars;
	return 0;
}

/* authd_validate_password - API.md's password policy; email may be NULL */
int authd_validate_password(const char *pw, size_t len, const char *email, const char **ret_why)
{
	const char *why = NULL;
	size_t chars;

	if (!pw)
		why = WHY_PW_SHORT;
	else if (len > AUTHD_PASSWORD_MAX_BYTES)
		why = WHY_PW_LONG;
	else if (count_chars(pw, len, &chars, &why) < 0)
		;
	else if (chars < AUTHD_PASSWORD_MIN_CHARS)
		why = WHY_PW_SHORT;
	else if (equals_email(pw, len, email))
		why = WHY_PW_EMAIL;
	else if (authd_password_is_common(pw, len))
		why = WHY_PW_COMMON;
	if (why) {
		*ret_why = why;
		return -EINVAL;
	}
	return 0;
}
