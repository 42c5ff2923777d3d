/*
 * status_ingress.c - `sembarkctl status`'s probe of ingressd, which has no
 * IPC endpoint: GET /healthz at [ingress] listen (a wildcard address
 * asked on loopback), over TLS when [ingress] tls_cert_file is set, within
 * the same deadline as the backends. The certificate is not checked: the
 * probe sends nothing secret and reads only the status code, and the
 * certificate names the public host, not the listening address.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <openssl/ssl.h>

#include "ctl.h"

/* s_target - host and port of "http://<listen>/healthz"; a wildcard host becomes loopback */
static int s_target(const char *listen, char *host, size_t host_size, int *ret_port)
{
	char url[CONFIG_STR_MAX + 32];
	struct evhttp_uri *uri;
	const char *h;
	int r = -EINVAL;

	if (strncmp(listen, "*:", 2) == 0)
		snprintf(url, sizeof(url), "http://127.0.0.1%s/healthz", listen + 1);
	else
		snprintf(url, sizeof(url), "http://%s/healthz", listen);
	uri = evhttp_uri_parse(url);
	if (!uri)
		return -EINVAL;
	h = evhttp_uri_get_host(uri);
	*ret_port = evhttp_uri_get_port(uri);
	if (h && *ret_port > 0) {
		if (strcmp(h, "0.0.0.0") == 0 || !*h)
			h = "127.0.0.1";
		else if (strcmp(h, "::") == 0)
			h = "::1";
		r = snprintf(host, host_size, "%s", h) < (int)host_size ? 0 : -EINVAL;
	}
	evhttp_uri_free(uri);
	return r;
}

static void s_answered(struct evhttp_request *req, void *userdata)
{
	struct status_ingress *p = userdata;

	if (p->done)
		return;
	p->http_status = req ? evhttp_request_get_response_code(req) : 0;
	p->done = true;
	if (--*p->waiting == 0)
		event_base_loopexit(p->base, NULL);
}

/* s_tls_connection - a client bufferevent_openssl for host:port, certificate unchecked */
static struct evhttp_connection *s_tls_connection(struct status_ingress *p, const char *host,
						  int port)
{
	struct bufferevent *bev;
	SSL *ssl;

	p->ssl_ctx = SSL_CTX_new(TLS_client_method());
	if (!p->ssl_ctx)
		return NULL;
	SSL_CTX_set_verify(p->ssl_ctx, SSL_VERIFY_NONE, NULL);
	ssl = SSL_new(p->ssl_ctx);
	if (!ssl)
		return NULL;
	bev = bufferevent_openssl_socket_new(p->base, -1, ssl, BUFFEREVENT_SSL_CONNECTING,
					     BEV_OPT_CLOSE_ON_FREE);
	if (!bev) {
		SSL_free(ssl);
		return NULL;
	}
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	return evhttp_connection_base_bufferevent_new(p->base, NULL, bev, host,
						      (unsigned short)port);
}

/* s_send - connect and send GET /healthz; s_answered gets the answer */
static int s_send(struct status_ingress *p, const struct sembark_config *cfg, int deadline_ms)
{
	struct timeval tv = { deadline_ms / 1000, (deadline_ms % 1000) * 1000 };
	struct evhttp_request *req;
	char host[CONFIG_STR_MAX];
	int port, r;

	r = s_target(cfg->ingress.listen, host, sizeof(host), &port);
	if (r < 0)
		return r;
	p->conn = p->tls ? s_tls_connection(p, host, port)
			 : evhttp_connection_base_new(p->base, NULL, host, (unsigned short)port);
	if (!p->conn)
		return -ENOMEM;
	evhttp_connection_set_timeout_tv(p->conn, &tv);
	evhttp_connection_set_retries(p->conn, 0);
	req = evhttp_request_new(s_answered, p);
	if (!req)
		return -ENOMEM;
	evhttp_add_header(evhttp_request_get_output_headers(req), "Host", cfg->ingress.listen);
	if (evhttp_make_request(p->conn, req, EVHTTP_REQ_GET, "/healthz") < 0)
		return -EIO; /* the request is freed by evhttp */
	return 0;
}

/* status_ingress_start - GET /healthz; counted done exactly once, also when it fails */
int status_ingress_start(struct status_ingress *p, struct event_base *base,
			 const struct sembark_config *cfg, int deadline_ms, size_t *waiting)
{
	int r;

	*p = (struct status_ingress){
		.base = base,
		.waiting = waiting,
		.tls = *cfg->ingress.tls_cert_file != '\0',
	};
	snprintf(p->where, sizeof(p->where), "%s://%s", p->tls ? "https" : "http",
		 cfg->ingress.listen);
	r = s_send(p, cfg, deadline_ms);
	if (r < 0 && !p->done) {
		p->done = true;
		--*waiting;
	}
	return r;
}

/* status_ingress_free - close the connection; accepts one never started */
void status_ingress_free(struct status_ingress *p)
{
	if (p->conn)
		evhttp_connection_free(p->conn);
	p->conn = NULL;
	if (p->ssl_ctx)
		SSL_CTX_free(p->ssl_ctx);
	p->ssl_ctx = NULL;
}
