/*
 * fuzz-authd-validate.c - libFuzzer harness for authd's account-field
 * checks (services/authd/validate.c) and its reading of a JSON body's
 * fields (services/authd/fields.c).
 *
 * An input that is a JSON object is read as authd reads a body
 * (json_loadb with JSON_REJECT_DUPLICATES): "email", "name" and
 * "password" through authd_field_str, which must return a string exactly
 * when the member is one (with its length), and otherwise note "is
 * required" or "must be a string". Any other input is cut at 0xff bytes
 * into email, name and password (the password may hold NUL bytes).
 *
 * Each value is then checked against a reference written here from
 * API.md's rules and validate.c's header comment, with its own strict
 * UTF-8 decoder (Unicode table 3-7) and a linear scan of the linked-in
 * common-password list: the same answer (and, for passwords, the same
 * reason), and an accepted email or name written out as the reference
 * makes it; an accepted email validates again to itself.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "authd.h"
#include "common_passwords.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool s_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

static void s_trim(const char **s, size_t *n)
{
	while (*n && s_space((unsigned char)**s))
		(*s)++, (*n)--;
	while (*n && s_space((unsigned char)(*s)[*n - 1]))
		(*n)--;
}

/* s_utf8 - one strict UTF-8 sequence at s: its length and code point, or -1 */
static int s_utf8(const unsigned char *s, size_t n, uint32_t *cp)
{
	static const struct {
		unsigned char lo, hi, len, lo2, hi2; /* lead byte range, length, second byte range */
	} t[] = {
		{ 0x00, 0x7f, 1, 0, 0 },       { 0xc2, 0xdf, 2, 0x80, 0xbf },
		{ 0xe0, 0xe0, 3, 0xa0, 0xbf }, { 0xe1, 0xec, 3, 0x80, 0xbf },
		{ 0xed, 0xed, 3, 0x80, 0x9f }, { 0xee, 0xef, 3, 0x80, 0xbf },
		{ 0xf0, 0xf0, 4, 0x90, 0xbf }, { 0xf1, 0xf3, 4, 0x80, 0xbf },
		{ 0xf4, 0xf4, 4, 0x80, 0x8f },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (s[0] < t[i].lo || s[0] > t[i].hi)
			continue;
		if (n < t[i].len)
			return -1;
		if (t[i].len == 1) {
			*cp = s[0];
			return 1;
		}
		if (s[1] < t[i].lo2 || s[1] > t[i].hi2)
			return -1;
		*cp = s[0] & (0x7f >> t[i].len);
		for (size_t k = 1; k < t[i].len; k++) {
			if ((s[k] & 0xc0) != 0x80)
				return -1;
			*cp = *cp << 6 | (s[k] & 0x3f);
		}
		return t[i].len;
	}
	return -1;
}

/* ---- email --------------------------------------------------------------- */

static bool s_in(char c, const char *set)
{
	return c && strchr(set, c);
}

#define LOWER_DIGIT "abcdefghijklmnopqrstuvwxyz0123456789"

/* s_ref_email - RFC 5321 dot-atom @ two or more LDH labels, ASCII, lower-cased */
static bool s_ref_email(const char *in, char out[AUTHD_EMAIL_MAX + 1])
{
	const char *s = in, *at;
	size_t n = strlen(in), labels = 0;
	char buf[AUTHD_EMAIL_MAX + 1], *label, *save = NULL;

	s_trim(&s, &n);
	if (n > AUTHD_EMAIL_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		buf[i] = s[i] >= 'A' && s[i] <= 'Z' ? (char)(s[i] + 32) : s[i];
	buf[n] = '\0';
	at = strchr(buf, '@');
	if (!at || at == buf || strchr(at + 1, '@') || buf[0] == '.' || at[-1] == '.' ||
	    strstr(buf, ".."))
		return false;
	for (const char *p = buf; p < at; p++)
		if (!s_in(*p, LOWER_DIGIT ".!#$%&'*+-/=?^_`{|}~"))
			return false;
	if (at[1] == '\0' || at[1] == '.' || buf[n - 1] == '.')
		return false;
	memcpy(out, buf, n + 1);
	for (label = strtok_r(buf + (at - buf) + 1, ".", &save); label;
	     label = strtok_r(NULL, ".", &save)) {
		size_t l = strlen(label);

		if (strspn(label, LOWER_DIGIT "-") != l || label[0] == '-' || label[l - 1] == '-')
			return false;
		labels++;
	}
	return labels >= 2;
}

static void s_check_email(const char *in)
{
	char out[AUTHD_EMAIL_MAX + 1], want[AUTHD_EMAIL_MAX + 1], again[AUTHD_EMAIL_MAX + 1];
	const char *why = NULL;
	int r = authd_validate_email(in, out, &why);

	if ((r == 0) != s_ref_email(in, want) || (r < 0 && !why))
		abort();
	if (r == 0 && (strcmp(out, want) != 0 || authd_validate_email(out, again, &why) != 0 ||
		       strcmp(again, out) != 0))
		abort();
}

/* ---- name ---------------------------------------------------------------- */

static bool s_ref_name(const char *in, const char **ret_s, size_t *ret_n)
{
	const char *s = in;
	size_t n = strlen(in), chars = 0;
	uint32_t cp;

	s_trim(&s, &n);
	for (size_t i = 0; i < n; chars++) {
		int l = s_utf8((const unsigned char *)s + i, n - i, &cp);

		if (l < 0 || cp < 0x20 || (cp >= 0x7f && cp <= 0x9f))
			return false;
		i += (size_t)l;
	}
	*ret_s = s;
	*ret_n = n;
	return chars >= 1 && chars <= AUTHD_NAME_MAX_CHARS;
}

static void s_check_name(const char *in)
{
	char out[AUTHD_NAME_MAX_BYTES + 1];
	const char *why = NULL, *s = NULL;
	size_t n = 0;
	int r = authd_validate_name(in, out, &why);
	bool ok = s_ref_name(in, &s, &n);

	if ((r == 0) != ok || (r < 0 && !why))
		abort();
	if (r == 0 && (strlen(out) != n || memcmp(out, s, n) != 0))
		abort();
}

/* ---- password -------------------------------------------------------------- */

/* s_fold - lower-cased ASCII of s (K and I signs folded), false if anything else is left */
static bool s_fold(const char *s, size_t n, char *out, size_t *ret_n)
{
	size_t o = 0;
	uint32_t cp;

	for (size_t i = 0; i < n;) {
		int l = s_utf8((const unsigned char *)s + i, n - i, &cp);

		if (l < 0)
			return false;
		cp = cp == 0x212a ? 'k' : cp == 0x130 ? 'i' : cp;
		if (cp >= 0x80)
			return false;
		out[o++] = cp >= 'A' && cp <= 'Z' ? (char)(cp + 32) : (char)cp;
		i += (size_t)l;
	}
	*ret_n = o;
	return true;
}

/* The list as a hash set of its lines, built here without validate.c's index. */
#define SET_SIZE 65536 /* a power of two, over 2x the list */
static struct {
	const char *s;
	size_t n;
} s_set[SET_SIZE];

static uint32_t s_hash(const char *s, size_t n)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < n; i++)
		h = (h ^ (uint8_t)s[i]) * 16777619u;
	return h;
}

static void s_set_build(void)
{
	const char *p = authd_common_passwords_start, *end = authd_common_passwords_end;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t l = (size_t)((nl ? nl : end) - p);

		if (l && p[l - 1] == '\r')
			l--;
		for (uint32_t h = s_hash(p, l) & (SET_SIZE - 1); l; h = (h + 1) & (SET_SIZE - 1)) {
			if (!s_set[h].s) {
				s_set[h].s = p, s_set[h].n = l;
				break;
			}
		}
		p = nl ? nl + 1 : end;
	}
}

/* s_ref_common - the folded password is a line of the list */
static bool s_ref_common(const char *pw, size_t len)
{
	static bool built;
	char folded[AUTHD_PASSWORD_MAX_BYTES];
	size_t n;

	if (!built)
		s_set_build();
	built = true;
	if (len > sizeof(folded) || !s_fold(pw, len, folded, &n))
		return false;
	for (uint32_t h = s_hash(folded, n) & (SET_SIZE - 1); s_set[h].s; h = (h + 1) & (SET_SIZE - 1))
		if (s_set[h].n == n && memcmp(s_set[h].s, folded, n) == 0)
			return true;
	return false;
}

static const char *s_ref_password(const char *pw, size_t len, const char *email)
{
	char folded[AUTHD_PASSWORD_MAX_BYTES];
	size_t chars = 0, fn, en = strlen(email), pn = len;
	const char *e = email, *p = pw;
	uint32_t cp;

	if (len > AUTHD_PASSWORD_MAX_BYTES)
		return "must be at most 128 bytes";
	for (size_t i = 0; i < len; chars++) {
		int l = s_utf8((const unsigned char *)pw + i, len - i, &cp);

		if (l < 0)
			return "must be valid UTF-8";
		if (cp == 0)
			return "must not contain NUL characters";
		i += (size_t)l;
	}
	if (chars < AUTHD_PASSWORD_MIN_CHARS)
		return "must be at least 12 characters";
	s_trim(&e, &en);
	s_trim(&p, &pn);
	if (en && s_fold(p, pn, folded, &fn) && fn == en) {
		bool same = true;

		for (size_t i = 0; i < en; i++)
			same = same && folded[i] == (e[i] >= 'A' && e[i] <= 'Z' ? e[i] + 32 : e[i]);
		if (same)
			return "must not be your email";
	}
	return s_ref_common(pw, len) ? "is too common" : NULL;
}

static void s_check_password(const char *pw, size_t len, const char *email)
{
	const char *why = NULL, *want = s_ref_password(pw, len, email);
	int r = authd_validate_password(pw, len, email, &why);

	if ((r == 0) != !want || (want && (!why || strcmp(why, want) != 0))) {
		fprintf(stderr, "validate: %d %s, reference: %s\n", r, why ? why : "-",
			want ? want : "accepted");
		abort();
	}
	if (authd_password_is_common(pw, len) != (len <= AUTHD_PASSWORD_MAX_BYTES &&
						  s_ref_common(pw, len)))
		abort();
}

/* ---- the body -------------------------------------------------------------- */

/* s_field - authd_field_str's promises for body[key] */
static const char *s_field(json_t *body, const char *key, json_t *fields, size_t *len)
{
	json_t *v = json_object_get(body, key), *noted;
	const char *s = authd_field_str(body, key, fields, false, len);

	noted = json_object_get(fields, key);
	if (json_is_string(v)) {
		if (s != json_string_value(v) || *len != json_string_length(v) || noted)
			abort();
	} else if (s || !json_is_string(noted) ||
		   strcmp(json_string_value(noted), v && !json_is_null(v) ? "must be a string"
									: "is required") != 0) {
		abort();
	}
	return s;
}

static void s_check_body(json_t *body)
{
	json_t *fields = json_object();
	const char *email, *name, *pw;
	size_t el = 0, nl = 0, pl = 0;
	char norm[AUTHD_EMAIL_MAX + 1];
	const char *why;

	if (!fields)
		abort();
	email = s_field(body, "email", fields, &el);
	name = s_field(body, "name", fields, &nl);
	pw = s_field(body, "password", fields, &pl);
	if (email)
		s_check_email(email);
	if (name)
		s_check_name(name);
	if (pw)
		s_check_password(pw, pl, email && authd_validate_email(email, norm, &why) == 0
						  ? norm : "");
	json_decref(fields);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *body = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
	const uint8_t *a, *b;
	char *buf;
	size_t el, nl;

	if (json_is_object(body)) {
		s_check_body(body);
		json_decref(body);
		return 0;
	}
	json_decref(body);
	/* email 0xff name 0xff password (the rest) */
	a = memchr(data, 0xff, size);
	el = a ? (size_t)(a - data) : size;
	b = a ? memchr(a + 1, 0xff, size - el - 1) : NULL;
	nl = a ? (b ? (size_t)(b - a - 1) : size - el - 1) : 0;
	buf = malloc(size + 2);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[el] = '\0';
	buf[el + 1 + nl] = '\0'; /* size + 1 when no name */
	s_check_email(buf);
	s_check_name(buf + el + 1);
	if (b)
		s_check_password(buf + el + nl + 2, size - el - nl - 2, buf);
	else
		s_check_password("", 0, buf);
	free(buf);
	return 0;
}
