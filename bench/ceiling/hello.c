/*
 * hello.c - the ceiling of bench/run.sh for HTTP: the barest libevent
 * server, evhttp on one thread answering every request 200 "hello" with
 * keep-alive, nothing else. ingressd runs one libevent loop too, so a
 * route of ingressd over this server's rate, measured in the same run
 * with the same wrk settings, says what ingressd's own work costs.
 *
 * Usage: hello PORT (binds 127.0.0.1 only). Stops on SIGINT/SIGTERM.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>

static void s_hello(struct evhttp_request *req, void *arg)
{
	struct evbuffer *out = evhttp_request_get_output_buffer(req);

	(void)arg;
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", "text/plain");
	evbuffer_add(out, "hello\n", 6);
	evhttp_send_reply(req, 200, "OK", NULL);
}

static void s_stop(evutil_socket_t sig, short what, void *base)
{
	(void)sig;
	(void)what;
	event_base_loopexit(base, NULL);
}

int main(int argc, char **argv)
{
	struct event_base *base;
	struct evhttp *http;
	struct event *sigint, *sigterm;
	long port = argc == 2 ? strtol(argv[1], NULL, 10) : 0;

	if (port < 1 || port > 65535) {
		fprintf(stderr, "usage: hello PORT\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	base = event_base_new();
	http = base ? evhttp_new(base) : NULL;
	if (!http || evhttp_bind_socket(http, "127.0.0.1", (unsigned short)port) < 0) {
		fprintf(stderr, "hello: cannot listen on 127.0.0.1:%ld\n", port);
		return 1;
	}
	evhttp_set_gencb(http, s_hello, NULL);
	sigint = evsignal_new(base, SIGINT, s_stop, base);
	sigterm = evsignal_new(base, SIGTERM, s_stop, base);
	if (!sigint || !sigterm || evsignal_add(sigint, NULL) < 0 || evsignal_add(sigterm, NULL) < 0)
		return 1;
	printf("hello: listening on 127.0.0.1:%ld\n", port);
	fflush(stdout);
	event_base_dispatch(base);
	event_free(sigint);
	event_free(sigterm);
	evhttp_free(http);
	event_base_free(base);
	return 0;
}
