/*
 * pw_job.c - sembark-authd's password jobs: a verify and/or a hash that
 * runs on the hash pool (pool.c, password.c) and finishes back on the loop
 * with the op's own continuation, which answers the request. Sign-up,
 * invite acceptance, login, token (accounts.c) and password change
 * (sessions.c) use them. The job holds the only copies of passwords and is
 * wiped when freed. Loop thread, except s_work on a pool thread, which
 * touches only the job. A job is a task (task.c): before and after the
 * hash it runs its statements in steps, and it is freed when it answered
 * and waits for nothing (neither a statement nor the pool).
 *
 * Overload: a job carries its request's deadline. authd_pw_admit() refuses
 * at once (503 with Retry-After) a request whose hash the pool could not
 * finish by then, before anything is recorded for it; a queued job a
 * worker reaches only after its deadline is not hashed at all (its answer
 * would find nobody: ingressd has answered 503 already). A job runs its
 * first statements before it reaches the pool, so admission counts the
 * jobs admitted and not yet queued (s_coming) as work ahead: a burst that
 * arrives at once is not all admitted on an empty queue. Refusals are
 * counted and logged at most every 10 s, and sent after a pause of
 * SHED_PAUSE_MS: a client that does not honour Retry-After and asks again
 * at once (a script, a load generator) would otherwise turn the CPU the
 * hashes need into thousands of refusals a second; with the pause a
 * connection asks at most 40 times a second, and every refusal is still
 * answered in well under 50 ms.
 */
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <jansson.h>
#include <sodium.h>

#include "authd.h"
#include "log.h"

#define SHED_LOG_EVERY_US (10 * 1000000LL)
/* what admission keeps back for the statements after the hash and the way
 * back to ingressd, and for hashes slower than the pool's average */
#define PW_AFTER_HASH_US (100 * 1000LL)
#define PW_ESTIMATE_SLACK 8 /* a queue of hashes may take 1/8 longer than its estimate */
#define SHED_PAUSE_MS 25     /* a refusal is sent this long after it was decided */

/* A refusal waiting for its pause to end. */
struct shed_reply {
	struct rpc_request *req;
	int64_t retry_after;
};

static uint64_t s_shed, s_expired; /* loop thread */
static size_t s_coming;             /* jobs admitted, not yet on the pool */
static int64_t s_shed_logged_us;

/* s_note_shed - count a refused or dropped job; a warning at most every 10 s */
static void s_note_shed(bool expired)
{
	int64_t now = mono_us();

	if (expired)
		s_expired++;
	else
		s_shed++;
	if (now - s_shed_logged_us < SHED_LOG_EVERY_US && s_shed_logged_us)
		return;
	s_shed_logged_us = now;
	log_warning("password work refused: the hash pool is overloaded",
		    LOG_I("refused_total", s_shed), LOG_I("expired_total", s_expired));
}

/* s_send_refusal - 503 service_unavailable with Retry-After; *req = NULL */
static void s_send_refusal(struct rpc_request **req, int64_t retry_after)
{
	const struct authd_reply_extra x = { .retry_after = retry_after };

	authd_reply(req, 503,
		    json_pack("{s:s, s:s}", "error", "service_unavailable", "message",
			      "too many logins at once; try again in a moment"),
		    &x);
}

static void s_refusal_due(evutil_socket_t fd, short what, void *userdata)
{
	struct shed_reply *r = userdata;

	s_send_refusal(&r->req, r->retry_after);
	free(r);
}

/* s_refuse - answer *req with the refusal after SHED_PAUSE_MS (at once when that fails) */
static void s_refuse(struct authd *a, struct rpc_request **req, int64_t retry_after)
{
	const struct timeval pause = { 0, SHED_PAUSE_MS * 1000 };
	struct shed_reply *r = calloc(1, sizeof(*r));

	if (r) {
		*r = (struct shed_reply){ .req = *req, .retry_after = retry_after };
		if (event_base_once(a->b.d.base, -1, EV_TIMEOUT, s_refusal_due, r, &pause) == 0) {
			*req = NULL;
			return;
		}
		free(r);
	}
	s_send_refusal(req, retry_after);
}

/*
 * authd_pw_admit - can the pool hash for c, and c still answer, before its
 * deadline? Else 503 + Retry-After, sent after SHED_PAUSE_MS. The estimate
 * gets a margin: a job admitted on the estimate alone could finish its
 * hash in time and still answer late (its statements, a slower hash), and
 * then ingressd answers a 503 without a Retry-After after the whole wait.
 */
bool authd_pw_admit(struct authd_ctx *c)
{
	int64_t wait = authd_pool_wait_us(c->a->pool, s_coming);
	int64_t need = wait + wait / PW_ESTIMATE_SLACK + PW_AFTER_HASH_US;

	if (mono_us() + need <= c->deadline_us)
		return true;
	s_note_shed(false);
	s_refuse(c->a, &c->req, MAX((wait + 999999) / 1000000, (int64_t)1));
	return false;
}

static void s_task_free(struct authd_task *t)
{
	authd_pw_job_free((struct authd_pw_job *)t);
}

/* authd_pw_job_new - zeroed job for req (taken from *req), due by deadline_us (0: none) */
struct authd_pw_job *authd_pw_job_new(struct authd *a, struct rpc_request **req,
				      int64_t deadline_us, void (*finish)(struct authd_pw_job *j))
{
	struct authd_pw_job *j = calloc(1, sizeof(*j));

	if (!j) {
		authd_reply_error(req, 503, "service_unavailable", "out of memory, try again");
		return NULL;
	}
	j->a = a;
	j->req = req ? TAKE_PTR(*req) : NULL;
	j->finish = finish;
	j->deadline_us = deadline_us;
	j->coming = true;
	s_coming++;
	j->t = (struct authd_task){ .a = a, .reqp = &j->req, .deadline_us = deadline_us,
				    .free = s_task_free };
	authd_hash_policy(&a->b.d.cfg, &j->policy);
	return j;
}

/* s_arrived - j is on the pool (or will never be): no longer counted as coming */
static void s_arrived(struct authd_pw_job *j)
{
	if (j->coming)
		s_coming--;
	j->coming = false;
}

/* authd_pw_job_free - wipe (passwords) and free; accepts NULL */
void authd_pw_job_free(struct authd_pw_job *j)
{
	if (!j)
		return;
	s_arrived(j);
	sodium_memzero(j, sizeof(*j));
	free(j);
}

/* s_work - on a pool thread: verify, then hash when asked (and verified) */
static void s_work(void *p)
{
	struct authd_pw_job *j = p;
	const char *pw = j->new_password_len ? j->new_password : j->password;
	size_t len = j->new_password_len ? j->new_password_len : j->password_len;

	j->worked = true;
	if (j->do_verify)
		j->verify_r = authd_password_verify(j->stored, j->password, j->password_len);
	if (j->do_hash && (!j->do_verify || j->verify_r == 0))
		j->hash_r = authd_password_hash(&j->policy, pw, len, j->hash);
}

/* s_done - back on the loop: the op's finish answers, then the job goes */
static void s_done(void *p)
{
	struct authd_pw_job *j = p;

	j->t.waiting = false; /* back from the pool */
	if (!j->worked) { /* reached after its deadline: nobody waits any more */
		s_note_shed(true);
		authd_reply_error(&j->req, 503, "service_unavailable", "busy, try again");
	} else {
		j->finish(j);
	}
	authd_task_settle(&j->t);
}

/* authd_pw_job_submit - run on the pool (j waits for it); on failure answers 503 */
int authd_pw_job_submit(struct authd_pw_job *j)
{
	int r;

	s_arrived(j);
	j->t.waiting = true;
	r = authd_pool_submit_by(j->a->pool, s_work, s_done, j, j->deadline_us);
	if (r < 0) {
		j->t.waiting = false;
		log_error_errno(r, "cannot queue a password job");
		authd_reply_error(&j->req, 503, "service_unavailable", "busy, try again");
	}
	return r;
}

/* authd_pw_job_start - begin j's work with begin(j), then settle it (freed if it is over) */
void authd_pw_job_start(struct authd_pw_job *j, void (*begin)(struct authd_pw_job *j))
{
	begin(j);
	authd_task_settle(&j->t);
}

