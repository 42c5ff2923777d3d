/*
 * render.c - a mail from its template: the headers (From, To, Subject
 * from the template's first line, Date, Message-ID, plain UTF-8 text,
 * Auto-Submitted), then the body with {{name}}, {{token}} and {{origin}}
 * replaced, every line ending in CRLF (the links are made here, from
 * [ingress] public_origin and the token, so no address is stored with a mail). Values go into the body only,
 * with control characters turned into spaces, so nothing a person typed
 * can add a header; an address with a character that could end or split
 * a header is refused. Pure: no allocation, no clock, no randomness.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "maild.h"
#include "macro.h"

extern const char maild_tpl_password_reset[];
extern const char maild_tpl_password_changed[];
extern const char maild_tpl_verify_email[];

static const struct {
	const char *name;
	const char *text;
} s_templates[] = {
	{ "password_reset", maild_tpl_password_reset },
	{ "password_changed", maild_tpl_password_changed },
	{ "verify_email", maild_tpl_verify_email },
};

struct out {
	char *p;
	size_t size, len;
	bool full;
};

static void s_put(struct out *o, const char *s, size_t n)
{
	if (o->full || n >= o->size - o->len) {
		o->full = true;
		return;
	}
	memcpy(o->p + o->len, s, n);
	o->len += n;
	o->p[o->len] = '\0';
}

static void s_printf(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void s_printf(struct out *o, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(buf)) {
		o->full = true;
		return;
	}
	s_put(o, buf, (size_t)n);
}

/* s_value - a value in the body: control characters (CR, LF, ...) become spaces */
static void s_value(struct out *o, const char *v)
{
	for (const char *c = v ? v : ""; *c; c++) {
		char ch = ((unsigned char)*c < 0x20 || *c == 0x7f) ? ' ' : *c;

		s_put(o, &ch, 1);
	}
}

static const char *s_lookup(const struct mail_values *v, const char *key, size_t len)
{
	if (len == 4 && memcmp(key, "name", 4) == 0)
		return v->name;
	if (len == 5 && memcmp(key, "token", 5) == 0)
		return v->token;
	if (len == 6 && memcmp(key, "origin", 6) == 0)
		return v->origin;
	return NULL;
}

/* s_body - the body with placeholders replaced and LF turned into CRLF */
static void s_body(struct out *o, const char *body, const struct mail_values *v)
{
	for (const char *c = body; *c; c++) {
		const char *end;

		if (c[0] == '{' && c[1] == '{' && (end = strstr(c + 2, "}}")) &&
		    s_lookup(v, c + 2, (size_t)(end - c - 2))) {
			s_value(o, s_lookup(v, c + 2, (size_t)(end - c - 2)));
			c = end + 1;
		} else if (*c == '\n') {
			s_put(o, "\r\n", 2);
		} else if (*c != '\r') {
			s_put(o, c, 1);
		}
	}
}

/* s_address_ok - one plain address: printable ASCII, no blank, bracket, comma or quote */
static bool s_address_ok(const char *a)
{
	if (!*a || strlen(a) > 254 || !strchr(a, '@'))
		return false;
	for (const char *c = a; *c; c++)
		if (*c <= ' ' || *c >= 0x7f || strchr("<>,;\"()\\[]", *c))
			return false;
	return true;
}

static void s_date(int64_t now, char out[64])
{
	time_t t = (time_t)now;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 64, "%a, %d %b %Y %H:%M:%S +0000", &tm);
}

/* maild_render - the whole message of template `name` (see maild.h) */
int maild_render(const char *name, const struct mail_values *v, const char *from, const char *to,
		 int64_t now, const char *msgid, char *out, size_t size)
{
	struct out o = { .p = out, .size = size };
	const char *text = NULL, *nl, *body;
	char date[64];

	for (size_t i = 0; i < ELEMENTSOF(s_templates); i++)
		if (strcmp(s_templates[i].name, name) == 0)
			text = s_templates[i].text;
	if (!text)
		return -ENOENT;
	if (!s_address_ok(from) || !s_address_ok(to) || strspn(msgid, "0123456789abcdef") != strlen(msgid))
		return -EINVAL;
	nl = strchr(text, '\n');
	if (strncmp(text, "Subject: ", 9) != 0 || !nl || nl[1] != '\n')
		return -ENOENT; /* not a template of ours */
	body = nl + 2;
	if (size == 0)
		return -ENOBUFS;
	out[0] = '\0';
	s_date(now, date);
	s_printf(&o, "From: sembark <%s>\r\nTo: <%s>\r\n", from, to);
	s_put(&o, text, (size_t)(nl - text));
	s_printf(&o, "\r\nDate: %s\r\nMessage-ID: <%s@%s>\r\n", date, msgid, strchr(from, '@') + 1);
	s_printf(&o, "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
		     "Content-Transfer-Encoding: 8bit\r\nAuto-Submitted: auto-generated\r\n\r\n");
	s_body(&o, body, v);
	if (o.full)
		return -ENOBUFS;
	return (int)o.len;
}
