/*
 * task.c - how an authd op (an auth.call's struct authd_ctx, or a password
 * job's struct authd_pw_job) waits for PostgreSQL without the loop
 * waiting: it runs one statement at a time on the asynchronous pool
 * (shared/pgq.c) and continues in a step function with the answer. The
 * owner lives until its request was answered and no statement of it is
 * pending: every place an op returns to (the handler's caller, a step's
 * caller, a job's finish) "settles" it, and settling frees it then. A leaf:
 * it calls nothing of authd but the owner's free. Loop thread.
 */
#include <stdio.h>
#include <stdlib.h>

#include "authd.h"
#include "log.h"

/* s_deadline_ms - the time the owner has left, or the statement timeout when it has none */
static int s_deadline_ms(const struct authd_task *t)
{
	int64_t left;

	if (!t->deadline_us)
		return t->a->b.d.cfg.database.statement_timeout_ms;
	left = (t->deadline_us - mono_us()) / 1000;
	return (int)MAX(MIN(left, (int64_t)600000), (int64_t)50);
}

/* s_answer - the statement of t ended: continue, then settle */
static void s_answer(int r, const PGresult *res, const char *sqlstate, void *userdata)
{
	struct authd_task *t = userdata;

	t->waiting = false;
	snprintf(t->sqlstate, sizeof(t->sqlstate), "%s", sqlstate ? sqlstate : "");
	t->step(t, r, res);
	authd_task_settle(t);
}

/* authd_task_query - run stmt for t; step continues with the answer (at once on a failure to queue) */
void authd_task_query(struct authd_task *t, enum authd_stmt stmt, int n,
		      const char *const *params, authd_step_fn step)
{
	int r;

	if (t->waiting)
		abort(); /* one statement at a time: our bug */
	t->step = step;
	t->waiting = true;
	t->sqlstate[0] = '\0';
	r = pgq_run(t->a->b.pgq, t->a->stmt[stmt], n, params, s_deadline_ms(t), s_answer, t, NULL);
	if (r < 0) {
		t->waiting = false;
		step(t, r, NULL);
	}
}

/* authd_task_settle - the op returned to us: free its owner unless it still waits */
void authd_task_settle(struct authd_task *t)
{
	if (t->waiting)
		return;
	if (*t->reqp)
		abort(); /* an op that neither answered nor waits: our bug */
	t->free(t);
}

/* authd_fire - a write nobody waits for (last_used_at, a dead row, a purge) */
void authd_fire(struct authd *a, enum authd_stmt stmt, int n, const char *const *params)
{
	int r = pgq_run(a->b.pgq, a->stmt[stmt], n, params,
			a->b.d.cfg.database.statement_timeout_ms, NULL, NULL, NULL);

	if (r < 0)
		log_debug("cannot queue a database write", LOG_I("error", r));
}

/* authd_stmts_add - declare n statements on the pool (at start); -E2BIG when full */
int authd_stmts_add(struct authd *a, const struct authd_stmt_def *defs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int r = pgq_statement(a->b.pgq, defs[i].sql, defs[i].nparams);

		if (r < 0)
			return r;
		a->stmt[defs[i].id] = r;
	}
	return 0;
}
