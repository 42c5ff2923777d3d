/*
 * pw_job.c - sembark-authd's password jobs: a verify and/or a hash that
 * runs on the hash pool (pool.c, password.c) and finishes back on the loop
 * with the op's own continuation, which answers the request. Sign-up,
 * invite acceptance, login, token (accounts.c) and password change
 * (sessions.c) use them. The job holds the only copies of passwords and is
 * wiped when freed. Loop thread, except s_work on a pool thread, which
 * touches only the job.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "authd.h"
#include "log.h"

/* authd_pw_job_new - zeroed job for req (taken from *req); on failure answers 503 */
struct authd_pw_job *authd_pw_job_new(struct authd *a, struct rpc_request **req,
				      void (*finish)(struct authd_pw_job *j))
{
	struct authd_pw_job *j = calloc(1, sizeof(*j));

	if (!j) {
		authd_reply_error(req, 503, "service_unavailable", "out of memory, try again");
		return NULL;
	}
	j->a = a;
	j->req = req ? TAKE_PTR(*req) : NULL;
	j->finish = finish;
	authd_hash_policy(&a->b.d.cfg, &j->policy);
	return j;
}

/* authd_pw_job_free - wipe (passwords) and free; accepts NULL */
void authd_pw_job_free(struct authd_pw_job *j)
{
	if (!j)
		return;
	sodium_memzero(j, sizeof(*j));
	free(j);
}

/* s_work - on a pool thread: verify, then hash when asked (and verified) */
static void s_work(void *p)
{
	struct authd_pw_job *j = p;
	const char *pw = j->new_password_len ? j->new_password : j->password;
	size_t len = j->new_password_len ? j->new_password_len : j->password_len;

	if (j->do_verify)
		j->verify_r = authd_password_verify(j->stored, j->password, j->password_len);
	if (j->do_hash && (!j->do_verify || j->verify_r == 0))
		j->hash_r = authd_password_hash(&j->policy, pw, len, j->hash);
}

/* s_done - back on the loop: the op's finish answers, then the job goes */
static void s_done(void *p)
{
	struct authd_pw_job *j = p;

	j->finish(j);
	if (j->req)
		abort(); /* a finish that did not answer: our bug */
	authd_pw_job_free(j);
}

/* authd_pw_job_submit - run on the pool; on failure answers 503 and frees j */
int authd_pw_job_submit(struct authd_pw_job *j)
{
	int r = authd_pool_submit(j->a->pool, s_work, s_done, j);

	if (r < 0) {
		log_error_errno(r, "cannot queue a password job");
		authd_reply_error(&j->req, 503, "service_unavailable", "busy, try again");
		authd_pw_job_free(j);
	}
	return r;
}

