/*
 * password.c - sembark-authd's password hashing policy: bcrypt ("$2b$",
 * libxcrypt) or argon2id (libsodium), verification of a stored hash,
 * whether a stored hash was made under another policy, and the dummy hash
 * an unknown email is checked against. Everything here blocks for the
 * length of a hash: it runs on pool.c's worker threads, never on the loop.
 * Stored hashes come from the database and are parsed strictly; a bad one
 * is -EINVAL, never a crash. Password material is wiped after use.
 *
 * bcrypt reads at most 72 bytes, so it never sees the password itself but
 * base64(HMAC-SHA-256(key = PREHASH_KEY, message = the whole password)):
 * 44 characters without NUL, the same for every password length, so all
 * 128 bytes count. The stored string is an ordinary "$2b$<cost>$..." hash.
 *
 * argon2id uses libsodium's INTERACTIVE limits (2 passes, 64 MiB): about
 * 80 ms a hash on the development machine, where bcrypt cost 12 takes
 * about 210 ms. Its memory is taken once per concurrent hash (64 MiB times
 * the pool's threads), which a login server can afford; MODERATE (256 MiB,
 * several times slower) would make that 1 GiB with four threads.
 *
 * The dummy hash of a policy is made at first use under a mutex and kept
 * for the life of the process; authd's main.c asks for it once at start so
 * no login pays for it. Its password is random and forgotten at once.
 */
#include <crypt.h>
#include <errno.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "authd.h"

#define PREHASH_KEY "sembark bcrypt prehash v1"
#define BCRYPT_PREFIX "$2b$"
#define BCRYPT_LEN 60 /* "$2b$" cost(2) "$" salt(22) hash(31) */
#define BCRYPT_COST_MIN 4
#define BCRYPT_COST_MAX 31
#define ARGON2ID_PREFIX "$argon2id$"
#define ARGON2ID_OPSLIMIT crypto_pwhash_argon2id_OPSLIMIT_INTERACTIVE
#define ARGON2ID_MEMLIMIT crypto_pwhash_argon2id_MEMLIMIT_INTERACTIVE
/* base64 (with padding) of a 32-byte MAC: 44 characters and a NUL */
#define PREHASH_B64 sodium_base64_ENCODED_LEN(crypto_auth_hmacsha256_BYTES, \
					      sodium_base64_VARIANT_ORIGINAL)

_Static_assert(crypto_pwhash_argon2id_STRBYTES <= AUTHD_HASH_MAX, "argon2id string fits");
_Static_assert(PREHASH_B64 <= 72, "the pre-hash fits in bcrypt's 72 bytes");

static bool is_bcrypt_b64(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '/';
}

/* bcrypt_cost - cost of a well-formed "$2b$NN$<53 chars>" string, else -EINVAL */
static int bcrypt_cost(const char *stored)
{
	int cost;

	if (strnlen(stored, BCRYPT_LEN + 1) != BCRYPT_LEN ||
	    strncmp(stored, BCRYPT_PREFIX, strlen(BCRYPT_PREFIX)) != 0)
		return -EINVAL;
	if (stored[4] < '0' || stored[4] > '9' || stored[5] < '0' || stored[5] > '9' ||
	    stored[6] != '$')
		return -EINVAL;
	cost = (stored[4] - '0') * 10 + (stored[5] - '0');
	if (cost < BCRYPT_COST_MIN || cost > BCRYPT_COST_MAX)
		return -EINVAL;
	for (size_t i = 7; i < BCRYPT_LEN; i++)
		if (!is_bcrypt_b64(stored[i]))
			return -EINVAL;
	return cost;
}

/* is_argon2id - a string libsodium decodes as an argon2id hash? */
static bool is_argon2id(const char *stored)
{
	if (strncmp(stored, ARGON2ID_PREFIX, strlen(ARGON2ID_PREFIX)) != 0 ||
	    strnlen(stored, crypto_pwhash_argon2id_STRBYTES) >= crypto_pwhash_argon2id_STRBYTES)
		return false;
	/* -1: not decodable; 0 or 1: a valid string (same or other limits) */
	return crypto_pwhash_argon2id_str_needs_rehash(stored, ARGON2ID_OPSLIMIT,
						       ARGON2ID_MEMLIMIT) >= 0;
}

/* prehash - out = base64(HMAC-SHA-256(PREHASH_KEY, password)), NUL-terminated */
static void prehash(const char *password, size_t len, char out[PREHASH_B64])
{
	unsigned char mac[crypto_auth_hmacsha256_BYTES];
	crypto_auth_hmacsha256_state st;

	crypto_auth_hmacsha256_init(&st, (const unsigned char *)PREHASH_KEY, strlen(PREHASH_KEY));
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)password, len);
	crypto_auth_hmacsha256_final(&st, mac);
	sodium_bin2base64(out, PREHASH_B64, mac, sizeof(mac), sodium_base64_VARIANT_ORIGINAL);
	sodium_memzero(mac, sizeof(mac));
	sodium_memzero(&st, sizeof(st));
}

/* bcrypt_crypt - crypt_rn(prehash(password), setting) copied to out */
static int bcrypt_crypt(const char *setting, const char *password, size_t len,
			char out[AUTHD_HASH_MAX])
{
	char input[PREHASH_B64];
	struct crypt_data *data;
	const char *h;
	int r = 0;

	data = calloc(1, sizeof(*data));
	if (!data)
		return -ENOMEM;
	prehash(password, len, input);
	h = crypt_rn(input, setting, data, sizeof(*data));
	if (!h || h[0] == '*' || strlen(h) >= AUTHD_HASH_MAX)
		r = -EINVAL;
	else
		memcpy(out, h, strlen(h) + 1);
	sodium_memzero(input, sizeof(input));
	sodium_memzero(data, sizeof(*data));
	free(data);
	return r;
}

static int bcrypt_hash(int cost, const char *password, size_t len, char out[AUTHD_HASH_MAX])
{
	char setting[CRYPT_GENSALT_OUTPUT_SIZE];

	if (cost < BCRYPT_COST_MIN || cost > BCRYPT_COST_MAX)
		return -EINVAL;
	/* NULL random bytes: libxcrypt takes them from the OS */
	if (!crypt_gensalt_rn(BCRYPT_PREFIX, (unsigned long)cost, NULL, 0, setting,
			      sizeof(setting)))
		return errno > 0 ? -errno : -EIO;
	return bcrypt_crypt(setting, password, len, out);
}

static int argon2id_hash(const char *password, size_t len, char out[AUTHD_HASH_MAX])
{
	char h[crypto_pwhash_argon2id_STRBYTES];

	if (crypto_pwhash_argon2id_str(h, password, len, ARGON2ID_OPSLIMIT, ARGON2ID_MEMLIMIT) != 0)
		return -ENOMEM; /* the only failure with valid limits */
	memcpy(out, h, strlen(h) + 1);
	return 0;
}

/* authd_hash_policy - [auth] password_hash and bcrypt_cost as a policy */
void authd_hash_policy(const struct sembark_config *cfg, struct authd_hash_policy *ret)
{
	ret->alg = strcmp(cfg->auth.password_hash, "argon2id") == 0 ? AUTHD_HASH_ARGON2ID
								     : AUTHD_HASH_BCRYPT;
	ret->bcrypt_cost = cfg->auth.bcrypt_cost;
}

/* authd_password_hash - hash password under policy into out */
int authd_password_hash(const struct authd_hash_policy *policy, const char *password, size_t len,
			char out[AUTHD_HASH_MAX])
{
	if (!policy || !password || !out || len > AUTHD_PASSWORD_MAX_BYTES ||
	    memchr(password, '\0', len))
		return -EINVAL;
	if (sodium_init() < 0) /* idempotent and thread-safe */
		return -EIO;
	switch (policy->alg) {
	case AUTHD_HASH_BCRYPT:
		return bcrypt_hash(policy->bcrypt_cost, password, len, out);
	case AUTHD_HASH_ARGON2ID:
		return argon2id_hash(password, len, out);
	}
	return -EINVAL;
}

static int bcrypt_verify(const char *stored, const char *password, size_t len)
{
	char h[AUTHD_HASH_MAX];
	size_t n = strlen(stored);
	int r;

	r = bcrypt_crypt(stored, password, len, h);
	if (r < 0)
		return r;
	/* both are BCRYPT_LEN long when crypt_rn accepted the setting */
	if (strlen(h) != n)
		r = -EINVAL;
	else if (sodium_memcmp(h, stored, n) != 0)
		r = -EACCES;
	sodium_memzero(h, sizeof(h));
	return r;
}

static int argon2id_verify(const char *stored, const char *password, size_t len)
{
	errno = 0;
	if (crypto_pwhash_argon2id_str_verify(stored, password, len) == 0)
		return 0;
	/* libsodium sets EINVAL on a mismatch; ENOMEM means it could not try */
	return errno == ENOMEM ? -ENOMEM : -EACCES;
}

/* authd_password_verify - 0 on match, -EACCES on mismatch, -EINVAL for a bad stored hash */
int authd_password_verify(const char *stored, const char *password, size_t len)
{
	if (!stored || !password)
		return -EINVAL;
	if (sodium_init() < 0)
		return -EIO;
	if (bcrypt_cost(stored) >= 0)
		return bcrypt_verify(stored, password, len);
	if (is_argon2id(stored))
		return argon2id_verify(stored, password, len);
	return -EINVAL;
}

/* authd_password_needs_rehash - stored made under another algorithm or cost? */
bool authd_password_needs_rehash(const struct authd_hash_policy *policy, const char *stored)
{
	if (!policy || !stored)
		return true;
	switch (policy->alg) {
	case AUTHD_HASH_BCRYPT:
		return bcrypt_cost(stored) != policy->bcrypt_cost;
	case AUTHD_HASH_ARGON2ID:
		return strncmp(stored, ARGON2ID_PREFIX, strlen(ARGON2ID_PREFIX)) != 0 ||
		       crypto_pwhash_argon2id_str_needs_rehash(stored, ARGON2ID_OPSLIMIT,
							       ARGON2ID_MEMLIMIT) != 0;
	}
	return true;
}

/* One dummy per policy: [0] argon2id, [cost] bcrypt. Written once, never freed. */
static pthread_mutex_t dummy_lock = PTHREAD_MUTEX_INITIALIZER;
static char dummies[BCRYPT_COST_MAX + 1][AUTHD_HASH_MAX];

static int dummy_slot(const struct authd_hash_policy *policy)
{
	if (policy->alg == AUTHD_HASH_ARGON2ID)
		return 0;
	if (policy->alg == AUTHD_HASH_BCRYPT && policy->bcrypt_cost >= BCRYPT_COST_MIN &&
	    policy->bcrypt_cost <= BCRYPT_COST_MAX)
		return policy->bcrypt_cost;
	return -EINVAL;
}

/* make_dummy - hash a random password that nobody ever knows into slot */
static int make_dummy(const struct authd_hash_policy *policy, char out[AUTHD_HASH_MAX])
{
	unsigned char raw[32];
	char pw[sodium_base64_ENCODED_LEN(sizeof(raw), sodium_base64_VARIANT_ORIGINAL)];
	int r;

	randombytes_buf(raw, sizeof(raw));
	sodium_bin2base64(pw, sizeof(pw), raw, sizeof(raw), sodium_base64_VARIANT_ORIGINAL);
	r = authd_password_hash(policy, pw, strlen(pw), out);
	sodium_memzero(raw, sizeof(raw));
	sodium_memzero(pw, sizeof(pw));
	return r;
}

/* authd_password_dummy - a valid hash of a random password under policy, or NULL */
const char *authd_password_dummy(const struct authd_hash_policy *policy)
{
	const char *ret = NULL;
	int slot;

	if (!policy || (slot = dummy_slot(policy)) < 0)
		return NULL;
	pthread_mutex_lock(&dummy_lock);
	if (dummies[slot][0] != '\0' || make_dummy(policy, dummies[slot]) >= 0)
		ret = dummies[slot];
	pthread_mutex_unlock(&dummy_lock);
	return ret;
}
