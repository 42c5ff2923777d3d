/*
 * session_cache.c - sembark-authd's cache of live sessions: token hash ->
 * the session, its user and team, and when it dies. It answers the
 * session check of most authenticated calls without PostgreSQL, and stays
 * coherent with PostgreSQL and with every other authd through NOTIFY
 * (migrations/0007_session_notify.sql; sessions.c listens):
 *
 *   - an entry is trusted only while the listening connection is up; when
 *     it goes, the cache is emptied and unused until it is back (a change
 *     announced meanwhile would be missed);
 *   - every notification bumps a generation; a lookup's answer is cached
 *     only when no notification came while it was on its way, so an answer
 *     read before a change never outlives the change;
 *   - absolute expiry and the idle timeout are checked on every use from
 *     the times PostgreSQL gave, turned into this host's monotonic clock
 *     (no clock skew between hosts); an entry that looks dead is dropped
 *     and PostgreSQL asked, since another authd may have used it since;
 *   - an entry older than [auth] session_cache_ttl is asked again anyway.
 *
 * Strings live in the entry's own allocation, so an entry costs about
 * 300 bytes. A full cache ([auth] session_cache_max) is emptied at once.
 * A leaf: it calls nothing of authd. Loop thread.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "authd.h"
#include "log.h"

#define BUCKETS_MIN 64

/* One cached session. The three texts follow the struct: email, name, team name. */
struct authd_cache_entry {
	struct authd_cache_entry *next; /* bucket chain */
	uint8_t hash[AUTHD_HASH_BYTES];
	char id[UTIL_UUID_LEN + 1];
	char user_id[UTIL_UUID_LEN + 1];
	char team_id[UTIL_UUID_LEN + 1];
	char role[AUTHD_ROLE_MAX + 1];
	char created_at[AUTHD_TIME_MAX];
	char expires_at[AUTHD_TIME_MAX];
	bool two_factor_required, two_factor_pending, email_verified;
	int64_t expires_us; /* mono_us() at which the session dies */
	int64_t used_us;    /* mono_us() of its last use we know of */
	int64_t fetched_us; /* mono_us() when PostgreSQL said so */
	char texts[];
};

static size_t s_bucket(const struct authd_cache *c, const uint8_t hash[AUTHD_HASH_BYTES])
{
	uint64_t k;

	memcpy(&k, hash, sizeof(k)); /* a SHA-256: already uniform */
	return (size_t)(k & (c->nbuckets - 1));
}

static void s_entry_free(struct authd_cache_entry *e)
{
	sodium_memzero(e, sizeof(*e)); /* the token hash */
	free(e);
}

/* authd_cache_init - an empty cache for at most max entries (0: never caches) */
int authd_cache_init(struct authd_cache *c, size_t max, int ttl_s)
{
	size_t n = BUCKETS_MIN;

	while (n < max / 2 && n < ((size_t)1 << 24))
		n <<= 1;
	*c = (struct authd_cache){ .max = max, .ttl_us = (int64_t)ttl_s * 1000000, .nbuckets = n };
	if (max == 0)
		return 0;
	c->buckets = calloc(n, sizeof(*c->buckets));
	return c->buckets ? 0 : -ENOMEM;
}

/* s_drop_all - every entry goes */
static void s_drop_all(struct authd_cache *c)
{
	for (size_t i = 0; c->buckets && i < c->nbuckets && c->count > 0; i++)
		while (c->buckets[i]) {
			struct authd_cache_entry *e = c->buckets[i];

			c->buckets[i] = e->next;
			s_entry_free(e);
			c->count--;
		}
	c->count = 0;
}

/* authd_cache_clear - forget every entry; answers on their way are not kept */
void authd_cache_clear(struct authd_cache *c)
{
	c->gen++;
	s_drop_all(c);
}

/* authd_cache_done - free everything */
void authd_cache_done(struct authd_cache *c)
{
	authd_cache_clear(c);
	free(c->buckets);
	c->buckets = NULL;
}

/* authd_cache_set_up - the notification connection is up (use the cache) or down (empty, unused) */
void authd_cache_set_up(struct authd_cache *c, bool up)
{
	if (c->up != up)
		log_info(up ? "session cache in use" : "session cache off until notifications are back",
			 LOG_I("entries_dropped", c->count));
	authd_cache_clear(c);
	c->up = up;
}

/* s_unlink - take the entry *pp out of its chain and free it */
static void s_unlink(struct authd_cache *c, struct authd_cache_entry **pp)
{
	struct authd_cache_entry *e = *pp;

	*pp = e->next;
	s_entry_free(e);
	c->count--;
}

static struct authd_cache_entry **s_find(struct authd_cache *c, const uint8_t hash[AUTHD_HASH_BYTES])
{
	struct authd_cache_entry **pp;

	if (!c->buckets)
		return NULL;
	for (pp = &c->buckets[s_bucket(c, hash)]; *pp; pp = &(*pp)->next)
		if (sodium_memcmp((*pp)->hash, hash, AUTHD_HASH_BYTES) == 0)
			return pp;
	return NULL;
}

/* s_texts_out - the entry's three texts into s */
static void s_texts_out(const struct authd_cache_entry *e, struct authd_session *s)
{
	const char *p = e->texts;

	snprintf(s->email, sizeof(s->email), "%s", p);
	p += strlen(p) + 1;
	snprintf(s->name, sizeof(s->name), "%s", p);
	p += strlen(p) + 1;
	snprintf(s->team_name, sizeof(s->team_name), "%s", p);
}

/*
 * authd_cache_get - the live session of hash, if the cache may answer:
 * 0 and *s (and *touch when last_used_at is due a write: the entry then
 * counts as used now), or -ENOENT (ask PostgreSQL). An entry that looks
 * dead or is past the TTL is dropped.
 */
int authd_cache_get(struct authd_cache *c, const uint8_t hash[AUTHD_HASH_BYTES],
		    const struct authd_cache_times *t, struct authd_session *s, bool *touch)
{
	struct authd_cache_entry **pp = c->up ? s_find(c, hash) : NULL;
	struct authd_cache_entry *e = pp ? *pp : NULL;
	int64_t now = mono_us();

	if (!e) {
		c->misses++;
		return -ENOENT;
	}
	if (now >= e->expires_us || now - e->fetched_us >= c->ttl_us ||
	    (t->idle_us > 0 && now - e->used_us >= t->idle_us)) {
		s_unlink(c, pp);
		c->misses++;
		return -ENOENT;
	}
	*s = (struct authd_session){ 0 };
	memcpy(s->id, e->id, sizeof(s->id));
	memcpy(s->user_id, e->user_id, sizeof(s->user_id));
	memcpy(s->team_id, e->team_id, sizeof(s->team_id));
	memcpy(s->role, e->role, sizeof(s->role));
	memcpy(s->created_at, e->created_at, sizeof(s->created_at));
	memcpy(s->expires_at, e->expires_at, sizeof(s->expires_at));
	s->two_factor_required = e->two_factor_required;
	s->two_factor_pending = e->two_factor_pending;
	s->email_verified = e->email_verified;
	s_texts_out(e, s);
	*touch = now - e->used_us >= t->touch_us;
	if (*touch)
		e->used_us = now;
	c->hits++;
	return 0;
}

/* s_entry_new - an entry holding s (its texts copied behind it) */
static struct authd_cache_entry *s_entry_new(const struct authd_session *s)
{
	size_t le = strlen(s->email) + 1, ln = strlen(s->name) + 1, lt = strlen(s->team_name) + 1;
	struct authd_cache_entry *e = calloc(1, sizeof(*e) + le + ln + lt);

	if (!e)
		return NULL;
	memcpy(e->id, s->id, sizeof(e->id));
	memcpy(e->user_id, s->user_id, sizeof(e->user_id));
	memcpy(e->team_id, s->team_id, sizeof(e->team_id));
	memcpy(e->role, s->role, sizeof(e->role));
	memcpy(e->created_at, s->created_at, sizeof(e->created_at));
	memcpy(e->expires_at, s->expires_at, sizeof(e->expires_at));
	e->two_factor_required = s->two_factor_required;
	e->two_factor_pending = s->two_factor_pending;
	e->email_verified = s->email_verified;
	memcpy(e->texts, s->email, le);
	memcpy(e->texts + le, s->name, ln);
	memcpy(e->texts + le + ln, s->team_name, lt);
	return e;
}

/*
 * authd_cache_put - remember what PostgreSQL said about hash, asked when
 * the generation was gen: expires_in_us and used_ago_us relative to the
 * moment it answered. Not kept when a notification came meanwhile, or
 * while the cache is off.
 */
void authd_cache_put(struct authd_cache *c, const uint8_t hash[AUTHD_HASH_BYTES],
		     const struct authd_session *s, int64_t expires_in_us, int64_t used_ago_us,
		     uint64_t gen)
{
	struct authd_cache_entry **pp, *e;
	int64_t now = mono_us();

	if (!c->up || !c->buckets || gen != c->gen)
		return;
	pp = s_find(c, hash);
	if (pp)
		s_unlink(c, pp);
	if (c->count >= c->max) {
		log_info("session cache full, emptied", LOG_I("entries", c->count));
		s_drop_all(c); /* no change happened: answers on their way stay good */
	}
	e = s_entry_new(s);
	if (!e)
		return;
	memcpy(e->hash, hash, AUTHD_HASH_BYTES);
	e->expires_us = now + expires_in_us;
	e->used_us = now - MAX(used_ago_us, (int64_t)0);
	e->fetched_us = now;
	e->next = c->buckets[s_bucket(c, hash)];
	c->buckets[s_bucket(c, hash)] = e;
	c->count++;
}

/* authd_cache_forget - hash's entry goes (this authd ended the session) */
void authd_cache_forget(struct authd_cache *c, const uint8_t hash[AUTHD_HASH_BYTES])
{
	struct authd_cache_entry **pp = s_find(c, hash);

	c->gen++;
	if (pp)
		s_unlink(c, pp);
}

/* Which entries a scan drops: of a session id, a user, or a team. */
enum cache_key { KEY_SESSION, KEY_USER, KEY_TEAM };

static bool s_matches(const struct authd_cache_entry *e, enum cache_key k, const char *v)
{
	const char *field = k == KEY_SESSION ? e->id : k == KEY_USER ? e->user_id : e->team_id;

	return strcmp(field, v) == 0;
}

/* s_forget_where - every entry whose key k is v goes */
static void s_forget_where(struct authd_cache *c, enum cache_key k, const char *v)
{
	c->gen++;
	for (size_t i = 0; c->buckets && i < c->nbuckets && c->count > 0; i++) {
		struct authd_cache_entry **pp = &c->buckets[i];

		while (*pp)
			if (s_matches(*pp, k, v))
				s_unlink(c, pp);
			else
				pp = &(*pp)->next;
	}
}

/* authd_cache_forget_session - the entry of session id goes (revoked here) */
void authd_cache_forget_session(struct authd_cache *c, const char *id)
{
	s_forget_where(c, KEY_SESSION, id);
}

/* authd_cache_forget_user - every session of user_id goes (changed here) */
void authd_cache_forget_user(struct authd_cache *c, const char *user_id)
{
	s_forget_where(c, KEY_USER, user_id);
}

/*
 * authd_cache_notify - one notification of channel sembark_sessions:
 * "s<64 hex>", "u<uuid>", "t<uuid>", "*"; anything else empties the cache.
 */
void authd_cache_notify(struct authd_cache *c, const char *payload)
{
	uint8_t hash[AUTHD_HASH_BYTES];
	size_t len = strlen(payload);
	char uuid[UTIL_UUID_LEN + 1];

	if (payload[0] == 's' && len == 1 + 2 * AUTHD_HASH_BYTES &&
	    sodium_hex2bin(hash, sizeof(hash), payload + 1, len - 1, NULL, NULL, NULL) == 0) {
		authd_cache_forget(c, hash);
		return;
	}
	if ((payload[0] == 'u' || payload[0] == 't') && util_uuid_normalize(payload + 1, uuid) == 0) {
		s_forget_where(c, payload[0] == 'u' ? KEY_USER : KEY_TEAM, uuid);
		return;
	}
	if (strcmp(payload, "*") != 0)
		log_warning("unknown session notification, cache emptied");
	authd_cache_clear(c);
}
