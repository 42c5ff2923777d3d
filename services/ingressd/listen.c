/*
 * listen.c - sembark-ingressd's listening sockets: those systemd passed
 * (socket activation, checked with sd_is_socket_inet: the public one, and
 * the metrics one when a socket named "metrics" came too), else one bound to
 * [ingress] listen ("host:port", "[v6]:port", "*:port"; port 0 = any
 * free port) with SO_REUSEADDR and, when [ingress] reuse_port is set,
 * SO_REUSEPORT so that several ingressd processes can share the port.
 * Runs before privileges are dropped.
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <systemd/sd-daemon.h>

#include "ingressd.h"
#include "macro.h"

#define LISTEN_BACKLOG 4096

static int s_copy(char *dst, size_t size, const char *src, size_t len)
{
	if (len >= size)
		return -EINVAL;
	memcpy(dst, src, len);
	dst[len] = '\0';
	return 0;
}

static bool s_port_ok(const char *p)
{
	size_t n = strlen(p);

	return n > 0 && n <= 5 && strspn(p, "0123456789") == n && atoi(p) <= 65535;
}

/* ingress_listen_split - "host:port" or "[v6]:port" into host ("" = any) and port */
int ingress_listen_split(const char *spec, char *host, size_t host_size, char *port,
			 size_t port_size)
{
	const char *h = spec, *colon;
	size_t hlen;

	if (spec[0] == '[') {
		const char *end = strchr(spec, ']');

		if (!end || end[1] != ':')
			return -EINVAL;
		h = spec + 1;
		hlen = (size_t)(end - h);
		colon = end + 1;
	} else {
		colon = strrchr(spec, ':');
		if (!colon)
			return -EINVAL;
		hlen = (size_t)(colon - spec);
		if (memchr(spec, ':', hlen))
			return -EINVAL; /* an IPv6 address needs brackets */
	}
	if (!s_port_ok(colon + 1))
		return -EINVAL;
	if (hlen == 1 && h[0] == '*')
		hlen = 0;
	if (s_copy(host, host_size, h, hlen) < 0)
		return -EINVAL;
	return s_copy(port, port_size, colon + 1, strlen(colon + 1));
}

/*
 * ingress_listen_systemd - the sockets systemd passed: the public one
 * (exactly one not named "metrics"), and the one named "metrics" (-1 when
 * none); 0, -ENOENT when none came, -E2BIG when two public ones, -errno
 */
int ingress_listen_systemd(int *ret_fd, int *ret_metrics_fd)
{
	char **names = NULL;
	int n = sd_listen_fds_with_names(1, &names), r = 0;
	int fd = -1, metrics = -1;

	for (int i = 0; i < n && r >= 0; i++) {
		int s = SD_LISTEN_FDS_START + i;
		bool is_metrics = names && names[i] && strcmp(names[i], "metrics") == 0;

		r = sd_is_socket_inet(s, AF_UNSPEC, SOCK_STREAM, 1, 0);
		if (r == 0)
			r = -ENOTSOCK;
		else if (r > 0 && (is_metrics ? metrics : fd) >= 0)
			r = -E2BIG;
		else if (r > 0 && is_metrics)
			metrics = s;
		else if (r > 0)
			fd = s;
	}
	for (int i = 0; names && i < n; i++)
		free(names[i]);
	free(names);
	if (n < 0)
		return n;
	if (r < 0)
		return r;
	if (fd < 0)
		return n == 0 ? -ENOENT : -EBADF;
	*ret_fd = fd;
	*ret_metrics_fd = metrics;
	return 0;
}

static int s_bind_one(const struct addrinfo *ai, bool reuse_port)
{
	_cleanup_close_ int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
					ai->ai_protocol);
	int one = 1;

	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
		return -errno;
	if (reuse_port && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0)
		return -errno;
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, LISTEN_BACKLOG) < 0)
		return -errno;
	return TAKE_FD(fd);
}

/* ingress_listen_open - bind and listen on spec */
int ingress_listen_open(const char *spec, bool reuse_port, int *ret_fd)
{
	struct addrinfo hints = {
		.ai_family = AF_UNSPEC,
		.ai_socktype = SOCK_STREAM,
		.ai_flags = AI_PASSIVE | AI_NUMERICSERV,
	};
	struct addrinfo *res = NULL;
	char host[256], port[8];
	int r = ingress_listen_split(spec, host, sizeof(host), port, sizeof(port));

	if (r < 0)
		return r;
	if (getaddrinfo(host[0] ? host : NULL, port, &hints, &res) != 0)
		return -EADDRNOTAVAIL;
	r = -EADDRNOTAVAIL;
	for (const struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		r = s_bind_one(ai, reuse_port);
		if (r >= 0)
			break;
	}
	freeaddrinfo(res);
	if (r < 0)
		return r;
	*ret_fd = r;
	return 0;
}

/* ingress_listen_port - the local port of a socket, or -errno */
int ingress_listen_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return -errno;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return -EAFNOSUPPORT;
}
