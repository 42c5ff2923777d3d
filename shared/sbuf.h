/*
 * sbuf.h - a growing NUL-terminated string, for text built piece by
 * piece (logd's redactor output, telemetryd's array literals). Running
 * out of memory is sticky: every later put is ignored and `oom` stays
 * set, so a caller checks once at the end. Never logs.
 */
#ifndef SEMBARK_SBUF_H
#define SEMBARK_SBUF_H

#include <stdbool.h>
#include <stddef.h>

/* Zero-initialised it is the empty string. */
struct sbuf {
	char *data; /* NULL until the first put; else NUL-terminated */
	size_t len, cap;
	bool oom;
};

/* sbuf_put - append n bytes of s (they may hold no NUL) */
void sbuf_put(struct sbuf *b, const char *s, size_t n);
/* sbuf_puts - append the string s */
void sbuf_puts(struct sbuf *b, const char *s);
/* sbuf_printf - append printf's text (a failure to format marks the buffer oom) */
void sbuf_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* sbuf_take - the string, now the caller's ("" when nothing was put); NULL after oom; b is emptied */
char *sbuf_take(struct sbuf *b);
/* sbuf_done - free the string; b is emptied */
void sbuf_done(struct sbuf *b);

#endif
