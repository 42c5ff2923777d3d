/*
 * conncap.c - sembark-ingressd's count of the connections each client
 * address holds ([ingress] max_connections_per_address), kept in this
 * process's memory only, like the request rate (ratelimit.c): the key is
 * the client key of client_addr.c (IPv4 whole, IPv6 per /64), never
 * written anywhere else, never logged, and wiped as soon as the address
 * holds no connection.
 *
 * The count must be exact (an entry that gave way would let its address
 * past the cap), so this is a chained hash table, not the rate table's
 * lossy buckets: a fixed pool of max_entries entries (one per connection
 * at most, so the server's max_connections is always enough) and a bucket
 * head per entry rounded up to a power of two, indexed by SipHash with a
 * random key. No memory is allocated after ingress_conncap_new().
 */
#include <errno.h>
#include <stdlib.h>

#include <sodium.h>

#include "ingressd.h"
#include "macro.h"

#define NONE UINT32_MAX

struct cc_entry {
	struct ingress_client_key key; /* len 0: free */
	uint32_t count;                /* connections held */
	uint32_t next;                 /* the next in its bucket or the free list; NONE: last */
};

struct ingress_conncap {
	uint32_t per_address;
	uint32_t n_buckets; /* a power of two */
	uint32_t free;      /* the first free entry; NONE: full */
	size_t used;        /* addresses holding a connection */
	size_t n_entries;
	unsigned char hash_key[CLIENT_HASH_KEY_BYTES];
	uint32_t *heads;    /* n_buckets */
	struct cc_entry *e; /* n_entries */
};

/* ingress_conncap_new - per_address (>= 1) connections per address, for max_entries addresses */
int ingress_conncap_new(unsigned per_address, size_t max_entries, struct ingress_conncap **ret)
{
	struct ingress_conncap *cc;
	uint32_t n = 1;

	if (per_address == 0 || max_entries == 0 || max_entries >= NONE / 2)
		return -EINVAL;
	while (n < max_entries)
		n *= 2;
	cc = calloc(1, sizeof(*cc));
	if (!cc)
		return -ENOMEM;
	cc->heads = malloc(n * sizeof(*cc->heads));
	cc->e = calloc(max_entries, sizeof(*cc->e));
	if (!cc->heads || !cc->e || ingress_client_hash_key_new(cc->hash_key) < 0) {
		int r = cc->heads && cc->e ? -EIO : -ENOMEM;

		ingress_conncap_free(cc);
		return r;
	}
	cc->per_address = per_address;
	cc->n_buckets = n;
	cc->n_entries = max_entries;
	for (uint32_t i = 0; i < n; i++)
		cc->heads[i] = NONE;
	for (size_t i = 0; i < max_entries; i++)
		cc->e[i].next = i + 1 < max_entries ? (uint32_t)(i + 1) : NONE;
	cc->free = 0;
	*ret = cc;
	return 0;
}

/* ingress_conncap_free - wipe and free; accepts NULL; returns NULL */
struct ingress_conncap *ingress_conncap_free(struct ingress_conncap *cc)
{
	if (!cc)
		return NULL;
	if (cc->e)
		sodium_memzero(cc->e, cc->n_entries * sizeof(*cc->e));
	free(cc->e);
	free(cc->heads);
	free(cc);
	return NULL;
}

static uint32_t *s_bucket(struct ingress_conncap *cc, const struct ingress_client_key *k)
{
	return &cc->heads[ingress_client_key_hash(k, cc->hash_key) & (cc->n_buckets - 1)];
}

/* s_link - where the index of k's entry is kept (a bucket head or an entry's next) */
static uint32_t *s_link(struct ingress_conncap *cc, const struct ingress_client_key *k)
{
	uint32_t *link = s_bucket(cc, k);

	while (*link != NONE && !ingress_client_key_equal(&cc->e[*link].key, k))
		link = &cc->e[*link].next;
	return link;
}

/* s_add - a new entry for k at the head of its bucket; NULL when every entry is in use */
static struct cc_entry *s_add(struct ingress_conncap *cc, const struct ingress_client_key *k)
{
	uint32_t *head = s_bucket(cc, k), i = cc->free;
	struct cc_entry *e;

	if (i == NONE)
		return NULL;
	e = &cc->e[i];
	cc->free = e->next;
	*e = (struct cc_entry){ .key = *k, .next = *head };
	*head = i;
	cc->used++;
	return e;
}

/* ingress_conncap_take - one more connection of k: 0, -EUSERS over the cap, -ENOSPC table full */
int ingress_conncap_take(struct ingress_conncap *cc, const struct ingress_client_key *k)
{
	uint32_t *link = s_link(cc, k);
	struct cc_entry *e = *link != NONE ? &cc->e[*link] : s_add(cc, k);

	if (!e)
		return -ENOSPC;
	if (e->count >= cc->per_address)
		return -EUSERS;
	e->count++;
	return 0;
}

/* ingress_conncap_give - a connection of k taken before has closed */
void ingress_conncap_give(struct ingress_conncap *cc, const struct ingress_client_key *k)
{
	uint32_t *link = s_link(cc, k), i = *link;
	struct cc_entry *e;

	if (i == NONE)
		return; /* not ours: a bug elsewhere, but nothing to undo here */
	e = &cc->e[i];
	if (e->count > 1) {
		e->count--;
		return;
	}
	*link = e->next;
	sodium_memzero(e, sizeof(*e));
	e->next = cc->free;
	cc->free = i;
	cc->used--;
}

/* ingress_conncap_held - connections k holds */
unsigned ingress_conncap_held(struct ingress_conncap *cc, const struct ingress_client_key *k)
{
	uint32_t i = *s_link(cc, k);

	return i == NONE ? 0 : cc->e[i].count;
}

/* ingress_conncap_size - addresses holding at least one connection */
size_t ingress_conncap_size(const struct ingress_conncap *cc)
{
	return cc->used;
}
