/*
 * wellknown.c - sembark-ingressd's /.well-known/ documents: security.txt
 * (RFC 9116), built from [ingress] security_contact, security_txt_days
 * and public_origin. Plain text, answered without any backend.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "daemon.h"
#include "ingressd.h"

#define SECURITY_TXT_MAX 1024

/* s_rfc3339 - "2026-11-29T05:00:00Z" */
static int s_rfc3339(time_t t, char buf[static 32])
{
	struct tm tm;

	if (!gmtime_r(&t, &tm) || strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		return -EOVERFLOW;
	return 0;
}

/* ingress_security_txt - RFC 9116 text for this config at now_us; length or -ENOBUFS */
int ingress_security_txt(const struct sembark_config *cfg, int64_t now_us, char *buf, size_t size)
{
	const char *origin = cfg->ingress.public_origin;
	size_t olen = strlen(origin);
	time_t expires = (time_t)(now_us / 1000000) + (time_t)cfg->ingress.security_txt_days * 86400;
	char when[32];
	int n;

	if (s_rfc3339(expires, when) < 0)
		return -EOVERFLOW;
	while (olen > 0 && origin[olen - 1] == '/')
		olen--;
	n = snprintf(buf, size,
		     "Contact: %s\n"
		     "Expires: %s\n"
		     "Preferred-Languages: en\n"
		     "Canonical: %.*s/.well-known/security.txt\n",
		     cfg->ingress.security_contact, when, (int)olen, origin);
	if (n < 0 || (size_t)n >= size)
		return -ENOBUFS;
	return n;
}

/* ingress_handle_security_txt - GET /.well-known/security.txt */
void ingress_handle_security_txt(struct ingress *app, struct http_exchange *ex)
{
	char text[SECURITY_TXT_MAX];
	int n;

	if (app->cfg->ingress.security_contact[0] == '\0') {
		http_respond_error(ex, 404, "not_found", "no security contact is configured");
		return;
	}
	n = ingress_security_txt(app->cfg, now_us(), text, sizeof(text));
	if (n < 0) {
		http_respond_error(ex, 503, "service_unavailable", "security.txt is unavailable");
		return;
	}
	http_respond(ex, 200, "text/plain; charset=utf-8", text, (size_t)n, NULL, 0);
}
