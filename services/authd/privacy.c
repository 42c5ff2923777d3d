/*
 * privacy.c - a person's data rights: GET /api/me/export (everything
 * stored about the caller, one JSON document), DELETE /api/me (the
 * caller's account erased, password proven again) and DELETE /api/team
 * (the owner erases the team and every member). The work is two SECURITY
 * DEFINER functions of migrations/0014_export_erasure.sql, each one
 * transaction over tables that are not authd's (telemetry, audit): authd
 * only ever passes the id of the session it has just checked. The purge
 * (purge.c) runs sembark_erasure_sweep() for writes that were under way,
 * ERASE_SWEEP_DELAY_S after an erasure and then every hour.
 */
#include <errno.h>
#include <string.h>

#include <jansson.h>

#include "authd.h"
#include "log.h"

/* the sweep after an erasure, once writes under way then have ended (statement timeouts) */
#define ERASE_SWEEP_DELAY_S 10
/* the largest export one api.reply carries (its body is at most 1 MiB) */
#define EXPORT_MAX_BYTES (1024 * 1024 - 1024)

static const char s_export_sql[] = "SELECT sembark_export_user($1::uuid)::text";
static const char s_erase_sql[] =
	"SELECT result, coalesce(team_id::text, ''), n::text, "
	"CASE WHEN team_gone THEN 't' ELSE 'f' END FROM sembark_erase_account($1::uuid, $2::boolean)";

/* authd_privacy_prepare - declare this file's statements on the async pool */
int authd_privacy_prepare(struct authd *a)
{
	static const struct authd_stmt_def defs[] = {
		{ AUTHD_STMT_EXPORT, s_export_sql, 1 },
		{ AUTHD_STMT_ERASE, s_erase_sql, 2 },
	};

	return authd_stmts_add(a, defs, ELEMENTSOF(defs));
}

/* ---- GET /api/me/export --------------------------------------------------------- */

static void s_exported(struct authd_task *t, int r, const PGresult *res)
{
	struct authd_ctx *c = (struct authd_ctx *)t;
	const char *text;
	size_t len;
	json_t *doc;

	if (r < 0) {
		authd_reply_db(&c->req, r, t->sqlstate, "export");
		return;
	}
	if (PQntuples(res) != 1 || PQgetisnull(res, 0, 0)) {
		authd_reply_unauthenticated(&c->req, true); /* erased meanwhile */
		return;
	}
	text = PQgetvalue(res, 0, 0);
	len = (size_t)PQgetlength(res, 0, 0);
	if (len > EXPORT_MAX_BYTES) {
		log_warning("export too large for one answer", LOG_S("user_id", c->s.user_id),
			    LOG_I("bytes", (int64_t)len));
		authd_reply_error(&c->req, 413, "export_too_large",
				  "your data is larger than one export can hold; contact the operator");
		return;
	}
	doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(doc)) {
		json_decref(doc);
		authd_reply_db(&c->req, -EIO, "", "export");
		return;
	}
	log_info("data exported", LOG_S("user_id", c->s.user_id), LOG_I("bytes", (int64_t)len));
	authd_reply(&c->req, 200, doc, NULL);
}

/* authd_op_me_export - everything stored about the caller, one JSON document */
void authd_op_me_export(struct authd_ctx *c)
{
	authd_task_query(&c->t, AUTHD_STMT_EXPORT, 1, (const char *const[]){ c->s.user_id },
			 s_exported);
}

/* ---- DELETE /api/me, DELETE /api/team ---------------------------------------- */

static void s_erased(struct authd_task *t, int r, const PGresult *res)
{
	struct authd_pw_job *j = (struct authd_pw_job *)t;
	struct authd_reply_extra x = { .clear_token = true };
	char result[32], team[UTIL_UUID_LEN + 1], n[16], gone[2];
	const struct authd_col cols[] = {
		AUTHD_COL(result), AUTHD_COL(team), AUTHD_COL(n), AUTHD_COL(gone),
	};

	if (r == 0 && authd_one_row(res, cols, ELEMENTSOF(cols)) < 0)
		r = -EIO;
	if (r < 0) {
		authd_reply_db(&j->req, r, t->sqlstate, "erasure");
		return;
	}
	if (strcmp(result, "owner_with_members") == 0) {
		authd_reply_error(&j->req, 409, "team_has_members",
				  "the owner cannot leave a team with members: delete the team instead");
		return;
	}
	if (strcmp(result, "forbidden") == 0) {
		authd_reply_error(&j->req, 403, "forbidden", "only the owner may delete the team");
		return;
	}
	if (strcmp(result, "erased") != 0) {
		authd_reply_unauthenticated(&j->req, true);
		return;
	}
	if (gone[0] == 't')
		authd_cache_clear(&j->a->cache); /* every member's sessions, at once */
	else
		authd_cache_forget_user(&j->a->cache, j->s.user_id);
	log_info(gone[0] == 't' ? "team erased" : "account erased", LOG_S("team_id", team),
		 LOG_S("accounts", n));
	authd_purge_soon(j->a, ERASE_SWEEP_DELAY_S);
	authd_reply(&j->req, 204, NULL, &x);
}

static void s_erase(struct authd_pw_job *j, bool whole_team)
{
	authd_task_query(&j->t, AUTHD_STMT_ERASE, 2,
			 (const char *const[]){ j->s.user_id, whole_team ? "true" : "false" },
			 s_erased);
}

static void s_account_proven(struct authd_pw_job *j)
{
	s_erase(j, false);
}

static void s_team_proven(struct authd_pw_job *j)
{
	s_erase(j, true);
}

/* authd_op_me_delete - {password}: the caller's account erased (an owner alone: the team too) */
void authd_op_me_delete(struct authd_ctx *c)
{
	authd_reauth_body(c, "account erasure", s_account_proven);
}

/* authd_op_team_delete - {password}: the owner erases the team and every member */
void authd_op_team_delete(struct authd_ctx *c)
{
	authd_reauth_body(c, "team erasure", s_team_proven);
}
