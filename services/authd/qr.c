/*
 * qr.c - the enrolment QR code of two-factor login as an SVG path, made
 * by libqrencode (Debian's libqrencode4) from the otpauth:// URI, so the
 * secret never leaves sembark for a QR service and the browser client
 * only draws a path (no script builds markup). Each run of dark modules
 * in a row is one rectangle "M<x> <y>h<n>v1h-<n>z" in module units; the
 * client adds the quiet zone around the size x size square.
 */
#include <errno.h>
#include <stdio.h>

#include <qrencode.h>
#include <sodium.h>

#include "authd.h"
#include "sbuf.h"

/* s_row - the rectangles of row y's dark runs */
static void s_row(const QRcode *qr, int y, struct sbuf *out)
{
	const unsigned char *row = qr->data + (size_t)y * (size_t)qr->width;

	for (int x = 0; x < qr->width;) {
		int n = 0;
		char rect[64];

		while (x + n < qr->width && (row[x + n] & 1))
			n++;
		if (n == 0) {
			x++;
			continue;
		}
		snprintf(rect, sizeof(rect), "M%d %dh%dv1h-%dz", x, y, n, n);
		sbuf_puts(out, rect);
		x += n;
	}
}

/*
 * authd_qr_path - text as a QR code (error correction M, 8-bit mode): the
 * SVG path of its dark modules (malloc'ed) and its width in modules.
 * Returns 0, -ENOMEM, or -EINVAL when text does not fit a QR code.
 */
int authd_qr_path(const char *text, char **ret_path, int *ret_size)
{
	QRcode *qr = QRcode_encodeString8bit(text, 0, QR_ECLEVEL_M);
	struct sbuf out = { 0 };

	if (!qr)
		return errno == ENOMEM ? -ENOMEM : -EINVAL;
	for (int y = 0; y < qr->width; y++)
		s_row(qr, y, &out);
	*ret_size = qr->width;
	/* the modules spell the secret: wiped before they are freed */
	sodium_memzero(qr->data, (size_t)qr->width * (size_t)qr->width);
	QRcode_free(qr);
	*ret_path = sbuf_take(&out);
	return *ret_path ? 0 : -ENOMEM;
}
