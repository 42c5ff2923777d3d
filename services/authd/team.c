/*
 * team.c - sembark-authd's team ops: the member list, the invite link
 * (show, rotate) and member management (role change, removal). Loop
 * thread; every query runs on the asynchronous pool (task.c: the op goes
 * on in a step with the answer) and is scoped to the caller's team, so an
 * id of another team is simply not found (404), never visible.
 *
 * Rules beyond calls.c's role table (API.md leaves these to us):
 * - member.update (owner only): the owner's own role cannot be changed
 *   (403 forbidden); the new role is "admin" or "member" (422 otherwise).
 * - member.remove (owner or admin): the owner can never be removed (403);
 *   an admin may remove members only, not another admin nor themself (403);
 *   the owner may remove admins and members. Removing a member deletes the
 *   account, and with it (ON DELETE CASCADE) every session: they end at once.
 * - One live invite code per team (invites.team_id is the key): rotating
 *   replaces the row, so the old code is dead in the same statement.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "authd.h"
#include "log.h"

#define TEAM_MEMBERS_MAX "1000" /* keeps the answer well under 1 MiB */

#define MEMBER_KEYS "id, name, email, role"
#define MEMBER_COLS_RAW MEMBER_KEYS ", created_at"
#define MEMBER_COLS MEMBER_KEYS ", " AUTHD_SQL_TS("created_at")

static int s_read_member(const PGresult *res, int row, struct authd_member *m)
{
	const struct authd_col cols[] = {
		AUTHD_COL(m->id), AUTHD_COL(m->name), AUTHD_COL(m->email), AUTHD_COL(m->role),
		AUTHD_COL(m->joined_at),
	};

	return authd_get_texts(res, row, cols, ELEMENTSOF(cols));
}

static json_t *s_member_json(const struct authd_member *m)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:s}", "id", m->id, "name", m->name, "email",
			 m->email, "role", m->role, "joined_at", m->joined_at);
}

/* authd_invite_url - <[ingress] public_origin>/join/<code> into out */
int authd_invite_url(const struct authd *a, const char *code, char *out, size_t size)
{
	const char *origin = a->b.d.cfg.ingress.public_origin;
	size_t n = strlen(origin);
	int k;

	while (n > 0 && origin[n - 1] == '/')
		n--;
	k = snprintf(out, size, "%.*s/join/%s", (int)n, origin, code);
	return k < 0 || (size_t)k >= size ? -E2BIG : 0;
}

static const char s_members_sql[] =
	"SELECT " MEMBER_COLS " FROM users WHERE team_id = $1::uuid "
	"ORDER BY created_at, id LIMIT " TEAM_MEMBERS_MAX;
static const char s_invite_show_sql[] =
	"SELECT code, " AUTHD_SQL_TS("created_at") " FROM invites WHERE team_id = $1::uuid";
/* $4, $5: the caller (actor); NULL for a team's first code, made when shown: no event */
static const char s_invite_rotate_sql[] =
	"WITH i AS (INSERT INTO invites (team_id, code, code_hash) VALUES ($1::uuid, $2, $3::bytea) "
	"           ON CONFLICT (team_id) DO UPDATE SET code = EXCLUDED.code, "
	"           code_hash = EXCLUDED.code_hash, created_at = now() "
	"           RETURNING team_id, created_at), "
	AUTHD_SQL_AUDIT("'invite_rotated'", "i.team_id", "$4::uuid", "$5", "NULL", "NULL",
			"i WHERE $4::uuid IS NOT NULL") " "
	"SELECT " AUTHD_SQL_TS("created_at") " FROM i";
static const char s_member_get_sql[] =
	"SELECT " MEMBER_COLS " FROM users WHERE id = $1::uuid AND team_id = $2::uuid";
/* $4: the role before (an unchanged role is no event); $5, $6: the caller */
static const char s_member_role_sql[] =
	"WITH m AS (UPDATE users SET role = $3 WHERE id = $1::uuid AND team_id = $2::uuid"
	"           AND role <> 'owner' RETURNING " MEMBER_COLS_RAW "), "
	AUTHD_SQL_AUDIT("'role_changed'", "$2::uuid", "$5::uuid", "$6", "m.id", "m.email",
			"m WHERE m.role <> $4") " "
	"SELECT " MEMBER_COLS " FROM m";
/* $4, $5: the caller */
static const char s_member_delete_sql[] =
	"WITH m AS (DELETE FROM users WHERE id = $1::uuid AND team_id = $2::uuid AND role = $3"
	"           AND role <> 'owner' RETURNING id, email), "
	AUTHD_SQL_AUDIT("'member_removed'", "$2::uuid", "$4::uuid", "$5", "m.id", "m.email", "m") " "
	"SELECT id FROM m";

/* authd_team_prepare - declare this file's statements on the async pool */
int authd_team_prepare(struct authd *a)
{
	static const struct authd_stmt_def defs[] = {
		{ AUTHD_STMT_TEAM_MEMBERS, s_members_sql, 1 },
		{ AUTHD_STMT_INVITE_SHOW, s_invite_show_sql, 1 },
		{ AUTHD_STMT_INVITE_ROTATE, s_invite_rotate_sql, 5 },
		{ AUTHD_STMT_MEMBER_GET, s_member_get_sql, 2 },
		{ AUTHD_STMT_MEMBER_ROLE, s_member_role_sql, 6 },
		{ AUTHD_STMT_MEMBER_DELETE, s_member_delete_sql, 5 },
	};

	return authd_stmts_add(a, defs, ELEMENTSOF(defs));
}

static void s_members(struct authd_task *t, int r, const PGresult *res)
{
	struct authd_ctx *c = (struct authd_ctx *)t;
	struct authd_member m;
	json_t *list;

	if (r < 0) {
		authd_reply_db(&c->req, r, t->sqlstate, "team");
		return;
	}
	list = json_array();
	for (int i = 0; list && i < PQntuples(res); i++)
		if (s_read_member(res, i, &m) == 0)
			json_array_append_new(list, s_member_json(&m));
	authd_reply(&c->req, 200, json_pack("{s:o, s:o}", "team", authd_json_team(&c->s),
					    "members", list), NULL);
}

/* authd_op_team - the team and its members, oldest first */
void authd_op_team(struct authd_ctx *c)
{
	authd_task_query(&c->t, AUTHD_STMT_TEAM_MEMBERS, 1, (const char *const[]){ c->s.team_id },
			 s_members);
}

/* ---- invite link ------------------------------------------------------------ */

static void s_reply_invite(struct authd_ctx *c, const char *code, const char *created_at)
{
	char url[CONFIG_STR_MAX + 64];

	if (authd_invite_url(c->a, code, url, sizeof(url)) < 0) {
		authd_reply_error(&c->req, 503, "service_unavailable", "cannot build the link");
		return;
	}
	authd_reply(&c->req, 200, json_pack("{s:s, s:s}", "invite_url", url, "created_at",
					    created_at), NULL);
}

/*
 * s_new_code - a fresh code for the team (c->code), replacing the old one;
 * then step. audited: a rotation by the caller (invite_rotated), not a
 * team's first code.
 */
static void s_new_code(struct authd_ctx *c, bool audited, authd_step_fn step)
{
	char hash[AUTHD_BYTEA_MAX + 1];
	uint8_t h[AUTHD_HASH_BYTES];
	const char *actor = audited ? c->s.user_id : NULL;
	const char *actor_email = audited ? c->s.email : NULL;

	authd_invite_new(c->code, h);
	authd_bytea(h, hash);
	authd_task_query(&c->t, AUTHD_STMT_INVITE_ROTATE, 5,
			 (const char *const[]){ c->s.team_id, c->code, hash, actor, actor_email },
			 step);
}

/* s_code_made - a new code is stored: answer with it (its audit is the caller's) */
static bool s_code_made(struct authd_ctx *c, int r, const PGresult *res, const char *what)
{
	char created_at[AUTHD_TIME_MAX];

	if (r == 0 && db_get_text(res, 0, 0, created_at, sizeof(created_at)) < 0)
		r = -EIO;
	if (r < 0) {
		authd_reply_db(&c->req, r, c->t.sqlstate, what);
		return false;
	}
	s_reply_invite(c, c->code, created_at);
	return true;
}

static void s_first_code(struct authd_task *t, int r, const PGresult *res)
{
	(void)s_code_made((struct authd_ctx *)t, r, res, "team.invite");
}

static void s_invite_shown(struct authd_task *t, int r, const PGresult *res)
{
	struct authd_ctx *c = (struct authd_ctx *)t;
	char code[AUTHD_INVITE_HEX + 1], created_at[AUTHD_TIME_MAX];

	if (r == 0 && PQntuples(res) == 0) {
		s_new_code(c, false, s_first_code); /* a team without a code gets one now */
		return;
	}
	if (r == 0 && (db_get_text(res, 0, 0, code, sizeof(code)) < 0 ||
		       db_get_text(res, 0, 1, created_at, sizeof(created_at)) < 0))
		r = -EIO;
	if (r < 0) {
		authd_reply_db(&c->req, r, t->sqlstate, "team.invite");
		return;
	}
	s_reply_invite(c, code, created_at);
}

/* authd_op_team_invite - the live invite link (made now if the team has none) */
void authd_op_team_invite(struct authd_ctx *c)
{
	authd_task_query(&c->t, AUTHD_STMT_INVITE_SHOW, 1, (const char *const[]){ c->s.team_id },
			 s_invite_shown);
}

static void s_rotated(struct authd_task *t, int r, const PGresult *res)
{
	struct authd_ctx *c = (struct authd_ctx *)t;
	if (!s_code_made(c, r, res, "team.invite.rotate"))
		return;
	log_info("invite rotated", LOG_S("team_id", c->s.team_id), LOG_S("user_id", c->s.user_id));
}

/* authd_op_team_invite_rotate - a new invite code; the old one is dead at once */
void authd_op_team_invite_rotate(struct authd_ctx *c)
{
	s_new_code(c, true, s_rotated);
}

/* ---- members ---------------------------------------------------------------- */

/* s_target - look up the member c->target of the caller's team; then step, or 404 now */
static void s_target(struct authd_ctx *c, authd_step_fn step)
{
	if (!util_uuid_canonical(c->target)) {
		authd_reply_error(&c->req, 404, "not_found", "no such member");
		return;
	}
	authd_task_query(&c->t, AUTHD_STMT_MEMBER_GET, 2,
			 (const char *const[]){ c->target, c->s.team_id }, step);
}

/* s_target_found - the member into c->member; false when answered (404, 503) */
static bool s_target_found(struct authd_ctx *c, int r, const PGresult *res)
{
	if (r == 0 && PQntuples(res) != 1) {
		authd_reply_error(&c->req, 404, "not_found", "no such member");
		return false;
	}
	if (r == 0 && s_read_member(res, 0, &c->member) < 0)
		r = -EIO;
	if (r < 0) {
		authd_reply_db(&c->req, r, c->t.sqlstate, "member lookup");
		return false;
	}
	return true;
}

static void s_forbidden(struct authd_ctx *c, const char *why)
{
	log_info("access denied", LOG_S("op", c->op->wire), LOG_S("user_id", c->s.user_id),
		 LOG_S("reason", why));
	authd_reply_error(&c->req, 403, "forbidden", why);
}

/* s_role_field - body.role, "admin" or "member"; answers 422 otherwise */
static const char *s_role_field(struct authd_ctx *c)
{
	json_t *fields = json_object();
	const char *role = authd_field_str(c->body, "role", fields, false, NULL);

	if (role && strcmp(role, "admin") != 0 && strcmp(role, "member") != 0) {
		authd_field_set(fields, "role", "must be admin or member");
		role = NULL;
	}
	if (role) {
		json_decref(fields);
		return role;
	}
	authd_reply_invalid(&c->req, fields);
	return NULL;
}

static void s_role_set(struct authd_task *t, int r, const PGresult *res)
{
	struct authd_ctx *c = (struct authd_ctx *)t;
	struct authd_member m;

	if (r == 0 && PQntuples(res) != 1) {
		authd_reply_error(&c->req, 404, "not_found", "no such member");
		return;
	}
	if (r == 0 && s_read_member(res, 0, &m) < 0)
		r = -EIO;
	if (r < 0) {
		authd_reply_db(&c->req, r, t->sqlstate, "member.update");
		return;
	}
	if (strcmp(c->member.role, m.role) != 0) {
		authd_cache_forget_user(&c->a->cache, m.id); /* others hear it through NOTIFY */
		log_info("role changed", LOG_S("user_id", c->s.user_id), LOG_S("member_id", m.id),
			 LOG_S("role", m.role));
	}
	authd_reply(&c->req, 200, s_member_json(&m), NULL);
}

static void s_update_target(struct authd_task *t, int r, const PGresult *res)
{
	struct authd_ctx *c = (struct authd_ctx *)t;
	const char *role;

	if (!s_target_found(c, r, res))
		return;
	if (strcmp(c->member.role, "owner") == 0) {
		s_forbidden(c, "the owner's role cannot be changed");
		return;
	}
	role = s_role_field(c);
	if (role)
		authd_task_query(t, AUTHD_STMT_MEMBER_ROLE, 6,
				 (const char *const[]){ c->target, c->s.team_id, role, c->member.role,
							c->s.user_id, c->s.email },
				 s_role_set);
}

/* authd_op_member_update - the owner makes a member admin, or an admin member */
void authd_op_member_update(struct authd_ctx *c)
{
	s_target(c, s_update_target);
}

/* s_may_remove - NULL when the caller may remove m, else why not */
static const char *s_may_remove(const struct authd_ctx *c, const struct authd_member *m)
{
	if (strcmp(m->role, "owner") == 0)
		return "the owner cannot be removed";
	if (strcmp(c->s.role, "owner") != 0 && strcmp(m->role, "admin") == 0)
		return "only the owner can remove an admin";
	return NULL;
}

static void s_removed(struct authd_task *t, int r, const PGresult *res)
{
	struct authd_ctx *c = (struct authd_ctx *)t;

	if (r == 0 && PQntuples(res) != 1) {
		authd_reply_error(&c->req, 404, "not_found", "no such member");
		return;
	}
	if (r < 0) {
		authd_reply_db(&c->req, r, t->sqlstate, "member.remove");
		return;
	}
	authd_cache_forget_user(&c->a->cache, c->member.id);
	log_info("member removed", LOG_S("user_id", c->s.user_id),
		 LOG_S("member_id", c->member.id));
	authd_reply(&c->req, 204, NULL, NULL);
}

static void s_remove_target(struct authd_task *t, int r, const PGresult *res)
{
	struct authd_ctx *c = (struct authd_ctx *)t;
	const char *why;

	if (!s_target_found(c, r, res))
		return;
	why = s_may_remove(c, &c->member);
	if (why) {
		s_forbidden(c, why);
		return;
	}
	authd_task_query(t, AUTHD_STMT_MEMBER_DELETE, 5,
			 (const char *const[]){ c->member.id, c->s.team_id, c->member.role,
						c->s.user_id, c->s.email },
			 s_removed);
}

/* authd_op_member_remove - a member leaves the team; their sessions end at once */
void authd_op_member_remove(struct authd_ctx *c)
{
	s_target(c, s_remove_target);
}
