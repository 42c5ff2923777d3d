/*
 * fuzz-redact.c - libFuzzer harness for logd's redaction
 * (services/logd/redact.c), the last guard of "no IP address, token or
 * credential is ever stored". The input is log text; its first half and
 * second half are also put around known secrets, each on its own line:
 *
 *   Authorization: Bearer <opaque token>   password=<word>
 *   <40 hex digits (a session token)>      <an IPv4 address>   <an IPv6 address>
 *
 * Only the first 512 bytes are read and one secret (the first byte
 * chooses) is tried per input: redaction under ASan is some hundred
 * nanoseconds a byte, and a log message is at most a few hundred bytes.
 *
 * Properties: none of those secrets is left in the output, whatever text
 * surrounds them; redacting the output again changes nothing and counts
 * nothing; valid UTF-8 stays valid UTF-8; the count is zero exactly when
 * the text is unchanged; logd_redact_key agrees with its list.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "logd.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const s_secrets[] = {
	"sbk_Zq7-Tx.y9~W/K+Rv=", "Zq7TxW9yKRvPassWord", "0123456789abcdef0123456789abcdef01234567",
	"198.51.100.23", "2001:db8:85a3::8a2e:370:7334",
};

/* s_redact - logd_redact of s, checked: idempotent, counting, UTF-8 kept */
static char *s_redact(const char *s)
{
	size_t n = 0, n2 = 9;
	char *out = logd_redact(s, &n), *again;

	if (!out)
		abort();
	if ((n == 0) != (strcmp(out, s) == 0)) {
		fprintf(stderr, "%zu redactions, text %s\n", n, strcmp(out, s) ? "changed" : "same");
		abort();
	}
	if (util_utf8_valid(s, strlen(s)) && !util_utf8_valid(out, strlen(out)))
		abort();
	again = logd_redact(out, &n2);
	if (!again || n2 != 0 || strcmp(again, out) != 0) {
		fprintf(stderr, "not idempotent:\n once:  %s\n twice: %s\n", out, again);
		abort();
	}
	free(again);
	return out;
}

/* s_check_secret - secret i on its own line between the input's halves */
static void s_check_secret(const char *a, const char *b, size_t i)
{
	static const char *const before[] = { "Authorization: Bearer ", "password=", "", "", "" };

	char *text, line[128], *out;

	if (strstr(a, s_secrets[i]) || strstr(b, s_secrets[i]))
		return; /* the input's own copy may rightly stay */
	snprintf(line, sizeof(line), "%s%s", before[i], s_secrets[i]);
	if (asprintf(&text, "%s\n%s\n%s", a, line, b) < 0)
		abort();
	out = s_redact(text);
	if (strstr(out, s_secrets[i])) {
		fprintf(stderr, "secret left: %s\n in: %s\n out: %s\n", s_secrets[i], text, out);
		abort();
	}
	free(out);
	free(text);
}

/* s_check_key - logd_redact_key against its documented list */
static void s_check_key(const char *key)
{
	static const char *const exact[] = { "password", "passwd", "secret", "token",
					     "authorization", "cookie", "set_cookie",
					     "bearer", "api_key", "sembark_session" };
	static const char *const suffix[] = { "_password", "_secret", "_token", "_cookie" };
	size_t n = strlen(key);
	bool want = false;

	for (size_t i = 0; i < sizeof(exact) / sizeof(exact[0]); i++)
		want = want || strcasecmp(key, exact[i]) == 0;
	for (size_t i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++)
		want = want || (n > strlen(suffix[i]) &&
				strcasecmp(key + n - strlen(suffix[i]), suffix[i]) == 0);
	if (logd_redact_key(key) != want)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text, *a, *b;
	size_t len;

	size = size > 512 ? 512 : size;
	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	len = strlen(text); /* the text ends at a NUL, as a C string does */
	free(s_redact(text));
	s_check_key(text);
	a = strndup(text, len / 2);
	b = text + len / 2;
	if (!a)
		abort();
	s_check_secret(a, b, size ? data[0] % (sizeof(s_secrets) / sizeof(s_secrets[0])) : 0);
	free(a);
	free(text);
	return 0;
}
