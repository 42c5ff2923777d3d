/*
 * client_addr.c - sembark-ingressd's view of a client address as the key
 * of the in-memory per-client tables (the request rate, ratelimit.c; the
 * connections held, conncap.c): the raw bytes of a socket address (an
 * IPv4-mapped IPv6 address is IPv4), and the key they count under: an
 * IPv4 address whole, an IPv6 address by its /64, the unit one subscriber
 * gets. Keys are hashed with SipHash under a random key of the table, so
 * no one can aim many addresses at one bucket. Never a string: an address
 * is neither printed nor logged here.
 */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include <sodium.h>

#include "ingressd.h"

_Static_assert(CLIENT_HASH_KEY_BYTES == crypto_shorthash_KEYBYTES, "SipHash key size");

/* ingress_client_addr - the raw address of sa: 4 bytes (IPv4, IPv4-mapped) or 16 (IPv6) */
int ingress_client_addr(const struct sockaddr *sa, size_t sa_len, uint8_t out[static 16],
			size_t *ret_len)
{
	static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;

	if (sa->sa_family == AF_INET && sa_len >= sizeof(struct sockaddr_in)) {
		memcpy(out, &((const struct sockaddr_in *)sa)->sin_addr, 4);
		*ret_len = 4;
	} else if (sa->sa_family == AF_INET6 && sa_len >= sizeof(*s6) &&
		   memcmp(&s6->sin6_addr, v4mapped, 12) == 0) {
		memcpy(out, (const uint8_t *)&s6->sin6_addr + 12, 4);
		*ret_len = 4;
	} else if (sa->sa_family == AF_INET6 && sa_len >= sizeof(*s6)) {
		memcpy(out, &s6->sin6_addr, 16);
		*ret_len = 16;
	} else {
		return -EAFNOSUPPORT;
	}
	return 0;
}

/* ingress_client_key_make - the key addr (4 or 16 bytes) counts under; -EAFNOSUPPORT */
int ingress_client_key_make(const uint8_t *addr, size_t len, struct ingress_client_key *ret)
{
	if (len != 4 && len != 16)
		return -EAFNOSUPPORT;
	*ret = (struct ingress_client_key){ .len = (uint8_t)(len == 16 ? 8 : 4) };
	memcpy(ret->b, addr, ret->len);
	return 0;
}

/* ingress_client_key_equal - the same key? */
bool ingress_client_key_equal(const struct ingress_client_key *a, const struct ingress_client_key *b)
{
	return a->len == b->len && memcmp(a->b, b->b, a->len) == 0;
}

/* ingress_client_key_hash - SipHash-2-4 of k under hash_key */
uint64_t ingress_client_key_hash(const struct ingress_client_key *k,
				 const unsigned char hash_key[static CLIENT_HASH_KEY_BYTES])
{
	unsigned char h[crypto_shorthash_BYTES];
	uint64_t v;

	crypto_shorthash(h, k->b, k->len, hash_key);
	memcpy(&v, h, sizeof(v));
	return v;
}

/* ingress_client_hash_key_new - a fresh random key for ingress_client_key_hash; -EIO */
int ingress_client_hash_key_new(unsigned char out[static CLIENT_HASH_KEY_BYTES])
{
	if (sodium_init() < 0)
		return -EIO;
	randombytes_buf(out, CLIENT_HASH_KEY_BYTES);
	return 0;
}
