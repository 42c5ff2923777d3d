/*
 * secret.h - secrets (database passwords, CSRF key, TLS key) read from a
 * systemd credential ($CREDENTIALS_DIRECTORY/<name>) or from a file named
 * in the config, held in sodium_malloc'ed, mlock'ed memory and wiped with
 * sodium_memzero when freed. Never from argv or the environment.
 */
#ifndef SEMBARK_SECRET_H
#define SEMBARK_SECRET_H

#include <stdbool.h>
#include <stddef.h>

#define SECRET_MAX 65536

struct secret {
	unsigned char *data; /* sodium_malloc'ed, NUL-terminated for text use */
	size_t len;          /* without the trailing NUL; a final newline is stripped */
};

/*
 * secret_load - read credential `credential` from $CREDENTIALS_DIRECTORY if
 * that exists and holds it, else the file at `path` (may be "" = none).
 * Returns 0, -ENOENT when neither is there, -EFBIG over SECRET_MAX,
 * -EPERM if the file is readable by group or others, -errno otherwise.
 */
int secret_load(const char *credential, const char *path, struct secret **ret);

/*
 * secret_credential_present - does $CREDENTIALS_DIRECTORY hold `credential`
 * (so that secret_load reads it, not the file)?
 */
bool secret_credential_present(const char *credential);

/* secret_free - wipe and free; accepts NULL; returns NULL */
struct secret *secret_free(struct secret *s);

static inline void secret_freep(struct secret **s)
{
	*s = secret_free(*s);
}

#endif
