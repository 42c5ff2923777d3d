/*
 * team.c - sembark-authd's team ops: the member list, the invite link
 * (show, rotate) and member management (role change, removal). Loop
 * thread; every query is scoped to the caller's team, so an id of another
 * team is simply not found (404), never visible.
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

struct member {
	char id[UTIL_UUID_LEN + 1];
	char name[AUTHD_NAME_MAX_BYTES + 1];
	char email[AUTHD_EMAIL_MAX + 1];
	char role[AUTHD_ROLE_MAX + 1];
	char joined_at[AUTHD_TIME_MAX];
};

#define MEMBER_COLS "id, name, email, role, " AUTHD_SQL_TS("created_at")

static int s_read_member(const PGresult *res, int row, struct member *m)
{
	const struct authd_col cols[] = {
		AUTHD_COL(m->id), AUTHD_COL(m->name), AUTHD_COL(m->email), AUTHD_COL(m->role),
		AUTHD_COL(m->joined_at),
	};

	return authd_get_texts(res, row, cols, ELEMENTSOF(cols));
}

static json_t *s_member_json(const struct member *m)
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

/* authd_op_team - the team and its members, oldest first */
void authd_op_team(struct authd_ctx *c)
{
	_cleanup_pgresult_ PGresult *res = NULL;
	const char *params[] = { c->s.team_id };
	struct member m;
	json_t *list;
	int r;

	r = db_query(c->a->b.db, &res,
		     "SELECT " MEMBER_COLS " FROM users WHERE team_id = $1::uuid "
		     "ORDER BY created_at, id LIMIT " TEAM_MEMBERS_MAX,
		     1, params);
	if (r < 0) {
		authd_reply_db(&c->req, r, c->a, "team");
		return;
	}
	list = json_array();
	for (int i = 0; list && i < PQntuples(res); i++)
		if (s_read_member(res, i, &m) == 0)
			json_array_append_new(list, s_member_json(&m));
	authd_reply(&c->req, 200, json_pack("{s:o, s:o}", "team", authd_json_team(&c->s),
					    "members", list), NULL);
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

/* s_new_code - a fresh code for the team, replacing the old one */
static int s_new_code(struct authd_ctx *c, char code[AUTHD_INVITE_HEX + 1],
		      char created_at[AUTHD_TIME_MAX])
{
	_cleanup_pgresult_ PGresult *res = NULL;
	char hash[AUTHD_BYTEA_MAX + 1];
	const char *params[] = { c->s.team_id, code, hash };
	uint8_t h[AUTHD_HASH_BYTES];
	int r;

	authd_invite_new(code, h);
	authd_bytea(h, hash);
	r = db_query(c->a->b.db, &res,
		     "INSERT INTO invites (team_id, code, code_hash) VALUES ($1::uuid, $2, $3::bytea) "
		     "ON CONFLICT (team_id) DO UPDATE SET code = EXCLUDED.code, "
		     "code_hash = EXCLUDED.code_hash, created_at = now() "
		     "RETURNING " AUTHD_SQL_TS("created_at"),
		     3, params);
	if (r == 0)
		r = db_get_text(res, 0, 0, created_at, AUTHD_TIME_MAX) < 0 ? -EIO : 0;
	return r;
}

/* authd_op_team_invite - the live invite link (made now if the team has none) */
void authd_op_team_invite(struct authd_ctx *c)
{
	_cleanup_pgresult_ PGresult *res = NULL;
	const char *params[] = { c->s.team_id };
	char code[AUTHD_INVITE_HEX + 1], created_at[AUTHD_TIME_MAX];
	int r;

	r = db_query(c->a->b.db, &res,
		     "SELECT code, " AUTHD_SQL_TS("created_at") " FROM invites WHERE team_id = $1::uuid",
		     1, params);
	if (r == 0 && PQntuples(res) == 1)
		r = db_get_text(res, 0, 0, code, sizeof(code)) < 0 ||
				    db_get_text(res, 0, 1, created_at, sizeof(created_at)) < 0
			    ? -EIO
			    : 0;
	else if (r == 0)
		r = s_new_code(c, code, created_at);
	if (r < 0) {
		authd_reply_db(&c->req, r, c->a, "team.invite");
		return;
	}
	s_reply_invite(c, code, created_at);
}

/* authd_op_team_invite_rotate - a new invite code; the old one is dead at once */
void authd_op_team_invite_rotate(struct authd_ctx *c)
{
	const struct authd_who me = { c->s.user_id, c->s.email };
	char code[AUTHD_INVITE_HEX + 1], created_at[AUTHD_TIME_MAX];
	int r;

	r = s_new_code(c, code, created_at);
	if (r < 0) {
		authd_reply_db(&c->req, r, c->a, "team.invite.rotate");
		return;
	}
	log_info("invite rotated", LOG_S("team_id", c->s.team_id), LOG_S("user_id", c->s.user_id));
	authd_audit(c->a, "invite_rotated", c->s.team_id, &me, NULL);
	s_reply_invite(c, code, created_at);
}

/* ---- members ---------------------------------------------------------------- */

/* s_target - the member c->target of the caller's team; answers 404 / 503 itself */
static int s_target(struct authd_ctx *c, struct member *m)
{
	_cleanup_pgresult_ PGresult *res = NULL;
	const char *params[] = { c->target, c->s.team_id };
	int r;

	if (!util_uuid_canonical(c->target)) {
		authd_reply_error(&c->req, 404, "not_found", "no such member");
		return -ENOENT;
	}
	r = db_query(c->a->b.db, &res,
		     "SELECT " MEMBER_COLS " FROM users WHERE id = $1::uuid AND team_id = $2::uuid",
		     2, params);
	if (r == 0 && PQntuples(res) != 1) {
		authd_reply_error(&c->req, 404, "not_found", "no such member");
		return -ENOENT;
	}
	if (r == 0 && s_read_member(res, 0, m) < 0)
		r = -EIO;
	if (r < 0)
		authd_reply_db(&c->req, r, c->a, "member lookup");
	return r;
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

static int s_set_role(struct authd_ctx *c, const char *role, struct member *m)
{
	_cleanup_pgresult_ PGresult *res = NULL;
	const char *params[] = { c->target, c->s.team_id, role };
	int r;

	r = db_query(c->a->b.db, &res,
		     "UPDATE users SET role = $3 WHERE id = $1::uuid AND team_id = $2::uuid"
		     " AND role <> 'owner' RETURNING " MEMBER_COLS,
		     3, params);
	if (r < 0)
		return r;
	if (PQntuples(res) != 1)
		return -ENOENT;
	return s_read_member(res, 0, m) < 0 ? -EIO : 0;
}

static void s_audit_member(struct authd_ctx *c, const char *event, const struct member *m)
{
	const struct authd_who me = { c->s.user_id, c->s.email };
	const struct authd_who them = { m->id, m->email };

	authd_audit(c->a, event, c->s.team_id, &me, &them);
}

/* authd_op_member_update - the owner makes a member admin, or an admin member */
void authd_op_member_update(struct authd_ctx *c)
{
	struct member m;
	const char *role;
	bool changed;
	int r;

	if (s_target(c, &m) < 0)
		return;
	if (strcmp(m.role, "owner") == 0) {
		s_forbidden(c, "the owner's role cannot be changed");
		return;
	}
	role = s_role_field(c);
	if (!role)
		return;
	changed = strcmp(m.role, role) != 0;
	r = s_set_role(c, role, &m);
	if (r == -ENOENT) {
		authd_reply_error(&c->req, 404, "not_found", "no such member");
		return;
	}
	if (r < 0) {
		authd_reply_db(&c->req, r, c->a, "member.update");
		return;
	}
	if (changed) {
		log_info("role changed", LOG_S("user_id", c->s.user_id), LOG_S("member_id", m.id),
			 LOG_S("role", m.role));
		s_audit_member(c, "role_changed", &m);
	}
	authd_reply(&c->req, 200, s_member_json(&m), NULL);
}

/* s_may_remove - NULL when the caller may remove m, else why not */
static const char *s_may_remove(const struct authd_ctx *c, const struct member *m)
{
	if (strcmp(m->role, "owner") == 0)
		return "the owner cannot be removed";
	if (strcmp(c->s.role, "owner") != 0 && strcmp(m->role, "admin") == 0)
		return "only the owner can remove an admin";
	return NULL;
}

static int s_delete_member(struct authd_ctx *c, const struct member *m)
{
	_cleanup_pgresult_ PGresult *res = NULL;
	const char *params[] = { m->id, c->s.team_id, m->role };
	int r;

	r = db_query(c->a->b.db, &res,
		     "DELETE FROM users WHERE id = $1::uuid AND team_id = $2::uuid AND role = $3"
		     " AND role <> 'owner' RETURNING id",
		     3, params);
	if (r == 0 && PQntuples(res) != 1)
		r = -ENOENT;
	return r;
}

/* authd_op_member_remove - a member leaves the team; their sessions end at once */
void authd_op_member_remove(struct authd_ctx *c)
{
	struct member m;
	const char *why;
	int r;

	if (s_target(c, &m) < 0)
		return;
	why = s_may_remove(c, &m);
	if (why) {
		s_forbidden(c, why);
		return;
	}
	r = s_delete_member(c, &m);
	if (r == -ENOENT) {
		authd_reply_error(&c->req, 404, "not_found", "no such member");
		return;
	}
	if (r < 0) {
		authd_reply_db(&c->req, r, c->a, "member.remove");
		return;
	}
	log_info("member removed", LOG_S("user_id", c->s.user_id), LOG_S("member_id", m.id));
	s_audit_member(c, "member_removed", &m);
	authd_reply(&c->req, 204, NULL, NULL);
}
