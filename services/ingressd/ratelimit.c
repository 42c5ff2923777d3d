/*
 * ratelimit.c - sembark-ingressd's per-client-address request rate for
 * sign-up, login, token and invite requests ([ingress] client_rate_limit
 * a minute), kept in this process's memory only: the address is a hash
 * table key, never written anywhere else, never logged, and forgotten as
 * soon as it no longer limits anything.
 *
 * The rate is a GCRA (a token bucket kept as one time stamp per address):
 * with L a minute, a burst of L requests is allowed, then one every 60/L
 * seconds; a refused request is not counted. An entry whose time stamp has
 * passed is the same as no entry: it is free for reuse, and
 * ingress_ratelimit_sweep() (every minute, from main.c) wipes it.
 *
 * Memory is bounded: a fixed table of buckets of RATELIMIT_WAYS entries
 * (RATELIMIT_ENTRIES in all by default), indexed by the client key's hash
 * (client_addr.c: SipHash with a random key; IPv6 addresses count per
 * /64). When a bucket is full, the entry closest to expiry gives way.
 * Behind a proxy every client has the proxy's address and shares one
 * budget.
 */
#include <errno.h>

#include <sodium.h>

#include "ingressd.h"
#include "macro.h"

#define MINUTE_US (60 * 1000000LL)

struct rl_entry {
	int64_t tat;                   /* GCRA theoretical arrival time, monotonic µs; 0: free */
	struct ingress_client_key key; /* len 0: free */
};

struct ingress_ratelimit {
	int64_t interval_us; /* 60 s / L */
	int64_t burst_us;    /* 60 s - interval: L requests at once */
	size_t n_buckets;    /* a power of two */
	unsigned char hash_key[CLIENT_HASH_KEY_BYTES];
	struct rl_entry *e;  /* n_buckets * RATELIMIT_WAYS */
};

/* ingress_ratelimit_new - per_minute (>= 1) requests a minute per address, max_entries kept */
int ingress_ratelimit_new(unsigned per_minute, size_t max_entries, struct ingress_ratelimit **ret)
{
	struct ingress_ratelimit *rl;
	size_t n = 1;

	if (per_minute == 0 || max_entries < RATELIMIT_WAYS)
		return -EINVAL;
	while (n * 2 * RATELIMIT_WAYS <= max_entries)
		n *= 2;
	rl = calloc(1, sizeof(*rl));
	if (!rl)
		return -ENOMEM;
	if (ingress_client_hash_key_new(rl->hash_key) < 0) {
		free(rl);
		return -EIO;
	}
	rl->e = calloc(n * RATELIMIT_WAYS, sizeof(*rl->e));
	if (!rl->e) {
		free(rl);
		return -ENOMEM;
	}
	rl->n_buckets = n;
	rl->interval_us = MAX(MINUTE_US / per_minute, 1);
	rl->burst_us = MINUTE_US - rl->interval_us;
	*ret = rl;
	return 0;
}

/* ingress_ratelimit_free - accepts NULL; returns NULL */
struct ingress_ratelimit *ingress_ratelimit_free(struct ingress_ratelimit *rl)
{
	if (!rl)
		return NULL;
	sodium_memzero(rl->e, rl->n_buckets * RATELIMIT_WAYS * sizeof(*rl->e));
	free(rl->e);
	free(rl);
	return NULL;
}

static bool s_live(const struct rl_entry *e, int64_t now)
{
	return e->key.len != 0 && e->tat > now;
}

/* s_slot - the entry for key in its bucket: the one holding it, a free one, or the victim */
static struct rl_entry *s_slot(struct ingress_ratelimit *rl, const struct ingress_client_key *key,
			       int64_t now)
{
	uint64_t idx = ingress_client_key_hash(key, rl->hash_key);
	struct rl_entry *b = &rl->e[(idx & (rl->n_buckets - 1)) * RATELIMIT_WAYS], *pick = NULL;

	for (size_t i = 0; i < RATELIMIT_WAYS; i++) {
		struct rl_entry *e = &b[i];

		if (ingress_client_key_equal(&e->key, key))
			return e;
		if (!pick || (s_live(pick, now) && (!s_live(e, now) || e->tat < pick->tat)))
			pick = e;
	}
	pick->key = *key;
	pick->tat = 0;
	return pick;
}

/* ingress_ratelimit_take - count one request from addr at now_us: 0, or seconds to wait */
int ingress_ratelimit_take(struct ingress_ratelimit *rl, const uint8_t *addr, size_t len,
			   int64_t now_us)
{
	struct ingress_client_key key;
	struct rl_entry *e;
	int64_t tat, wait;

	if (ingress_client_key_make(addr, len, &key) < 0)
		return 0;
	e = s_slot(rl, &key, now_us);
	tat = MAX(e->tat, now_us);
	wait = tat - rl->burst_us - now_us;
	if (wait > 0)
		return (int)MIN((wait + 999999) / 1000000, 60);
	e->tat = tat + rl->interval_us;
	return 0;
}

/* ingress_ratelimit_sweep - wipe the entries that no longer limit anything at now_us */
void ingress_ratelimit_sweep(struct ingress_ratelimit *rl, int64_t now_us)
{
	for (size_t i = 0; i < rl->n_buckets * RATELIMIT_WAYS; i++)
		if (rl->e[i].key.len != 0 && !s_live(&rl->e[i], now_us))
			sodium_memzero(&rl->e[i], sizeof(rl->e[i]));
}

/* ingress_ratelimit_size - addresses being remembered */
size_t ingress_ratelimit_size(const struct ingress_ratelimit *rl)
{
	size_t n = 0;

	for (size_t i = 0; i < rl->n_buckets * RATELIMIT_WAYS; i++)
		n += rl->e[i].key.len != 0;
	return n;
}

/* ingress_ratelimit_capacity - entries the table can hold */
size_t ingress_ratelimit_capacity(const struct ingress_ratelimit *rl)
{
	return rl->n_buckets * RATELIMIT_WAYS;
}
