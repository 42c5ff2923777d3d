-- 0007_session_notify.sql - what keeps every authd's session cache
-- coherent: each change that ends a session, or changes what a session
-- says about its user or team, is announced on the channel
-- sembark_sessions when it commits (NOTIFY is transactional: a rolled
-- back change announces nothing). Each authd LISTENs on a connection of
-- its own; while that connection is down its cache is empty and unused.
--
-- Payloads (one notification each; PostgreSQL folds identical ones of a
-- transaction into one):
--   s<64 hex>   the session with this token hash is gone
--   u<uuid>     this user changed (role, name, email, team): forget their sessions
--   t<uuid>     this team changed (name): forget its members' sessions
--   *           too many at once (more than 100 rows in one statement):
--               forget everything
--
-- Rows of sessions go on logout, revocation, a password change, member
-- removal (ON DELETE CASCADE from users), the purge of expired sessions,
-- and when a dead session's token is presented. The triggers are
-- statement-level with transition tables: one trigger call per
-- statement, whatever its row count. They run as the role that changed
-- the rows (sembark_authd, or the owner for sembarkctl): pg_notify needs
-- no privilege; sembark_authd is granted EXECUTE on the one helper they
-- call (a trigger function itself is not checked when it fires).

CREATE FUNCTION sembark_notify_rows(kind text, keys text[]) RETURNS void
	LANGUAGE plpgsql AS $$
BEGIN
	IF cardinality(keys) > 100 THEN
		PERFORM pg_notify('sembark_sessions', '*');
	ELSE
		PERFORM pg_notify('sembark_sessions', kind || k) FROM unnest(keys) AS k;
	END IF;
END
$$;

GRANT EXECUTE ON FUNCTION sembark_notify_rows(text, text[]) TO sembark_authd;

CREATE FUNCTION sembark_sessions_gone() RETURNS trigger
	LANGUAGE plpgsql AS $$
BEGIN
	PERFORM sembark_notify_rows('s', ARRAY(SELECT encode(token_hash, 'hex') FROM gone));
	RETURN NULL;
END
$$;

CREATE TRIGGER sessions_gone_notify AFTER DELETE ON sessions
	REFERENCING OLD TABLE AS gone
	FOR EACH STATEMENT EXECUTE FUNCTION sembark_sessions_gone();

CREATE FUNCTION sembark_users_changed() RETURNS trigger
	LANGUAGE plpgsql AS $$
BEGIN
	PERFORM sembark_notify_rows('u', ARRAY(
		SELECT n.id::text FROM now_rows n JOIN old_rows o ON o.id = n.id
		 WHERE (n.role, n.name, n.email, n.team_id)
		       IS DISTINCT FROM (o.role, o.name, o.email, o.team_id)));
	RETURN NULL;
END
$$;

CREATE TRIGGER users_changed_notify AFTER UPDATE ON users
	REFERENCING OLD TABLE AS old_rows NEW TABLE AS now_rows
	FOR EACH STATEMENT EXECUTE FUNCTION sembark_users_changed();

CREATE FUNCTION sembark_teams_changed() RETURNS trigger
	LANGUAGE plpgsql AS $$
BEGIN
	PERFORM sembark_notify_rows('t', ARRAY(
		SELECT n.id::text FROM now_rows n JOIN old_rows o ON o.id = n.id
		 WHERE n.name IS DISTINCT FROM o.name));
	RETURN NULL;
END
$$;

CREATE TRIGGER teams_changed_notify AFTER UPDATE ON teams
	REFERENCING OLD TABLE AS old_rows NEW TABLE AS now_rows
	FOR EACH STATEMENT EXECUTE FUNCTION sembark_teams_changed();
