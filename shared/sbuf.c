/*
 * sbuf.c - a growing NUL-terminated string (see sbuf.h): the capacity
 * doubles (at least SBUF_MIN bytes), and a failed realloc leaves what was
 * built in place, marked oom, until sbuf_take or sbuf_done frees it.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "sbuf.h"

#define SBUF_MIN 64

/* sbuf_put - append n bytes of s (they may hold no NUL) */
void sbuf_put(struct sbuf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (n > SIZE_MAX / 2 - b->len) {
		b->oom = true;
		return;
	}
	if (b->len + n + 1 > b->cap) {
		size_t cap = MAX(MAX(b->cap * 2, b->len + n + 1), (size_t)SBUF_MIN);
		char *p = realloc(b->data, cap);

		if (!p) {
			b->oom = true;
			return;
		}
		b->data = p;
		b->cap = cap;
	}
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

/* sbuf_puts - append the string s */
void sbuf_puts(struct sbuf *b, const char *s)
{
	sbuf_put(b, s, strlen(s));
}

/* sbuf_printf - append printf's text (a failure to format marks the buffer oom) */
void sbuf_printf(struct sbuf *b, const char *fmt, ...)
{
	char small[256];
	char *big = NULL;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->oom = true;
		return;
	}
	if ((size_t)n < sizeof(small)) {
		sbuf_put(b, small, (size_t)n);
		return;
	}
	va_start(ap, fmt);
	n = vasprintf(&big, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->oom = true;
		return;
	}
	sbuf_put(b, big, (size_t)n);
	free(big);
}

/* sbuf_take - the string, now the caller's ("" when nothing was put); NULL after oom; b is emptied */
char *sbuf_take(struct sbuf *b)
{
	char *s;

	if (!b->oom && !b->data)
		sbuf_put(b, "", 0);
	if (b->oom) {
		sbuf_done(b);
		return NULL;
	}
	s = b->data;
	*b = (struct sbuf){ 0 };
	return s;
}

/* sbuf_done - free the string; b is emptied */
void sbuf_done(struct sbuf *b)
{
	free(b->data);
	*b = (struct sbuf){ 0 };
}
