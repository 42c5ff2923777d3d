-- 0014_export_erasure.sql - a person's right to take out and to erase
-- what sembark stores about them (OWASP ASVS 8.3.2): GET /api/me/export,
-- DELETE /api/me and DELETE /api/team.
--
-- What is stored about a person is spread over tables that belong to
-- three roles: authd's (users, sessions, two-factor), telemetryd's
-- (telemetry_events, telemetry_seen) and logd's (audit_events), and authd
-- may read or change none of the last two. Two SECURITY DEFINER functions
-- owned by the owner do these two things and nothing else, each in one
-- transaction: sembark_export_user(uid) reads everything about one user
-- (one snapshot, one JSON document, never a hash, a token or a secret);
-- sembark_erase_account(uid, whole_team) erases one account, or the team of
-- its owner with every member. sembark_authd may EXECUTE them; authd calls
-- them only with the user id of the session it has just checked (and the
-- password proven again, for erasure).
--
-- Erasing a person deletes their users row (sessions, recovery codes and
-- login tickets go with it: ON DELETE CASCADE), their telemetry and
-- dedupe rows, their login failures, and replaces them in audit events
-- (stored, and still in authd's outbox) by the placeholder: id NULL, email
-- '[erased]'. The events themselves stay (the team's trail keeps that
-- something happened) until retention drops their day.
--
-- A write already under way when the erasure commits could bring data
-- back: logd moving an outbox row it read just before, telemetryd
-- committing a batch it validated just before. erased_users remembers an
-- erased id for a day: a trigger on audit_events puts the placeholder on
-- a row naming one as it is inserted; telemetryd's batch statement stores
-- no event of one; and sembark_erasure_sweep(), which authd's hourly purge
-- runs, erases again whatever came in between and forgets the ids older
-- than a day. The ids are random UUIDs that point at nothing any more.

CREATE TABLE erased_users (
	user_id uuid PRIMARY KEY,
	team_id uuid NOT NULL,
	erased_at timestamptz NOT NULL DEFAULT now()
);

GRANT SELECT ON erased_users TO sembark_telemetryd;

-- sembark_erase_traces - the telemetry, dedupe rows and audit names of the
-- users ids of team tid (the owner's helper; users rows are the caller's).
CREATE FUNCTION sembark_erase_traces(tid uuid, ids uuid[]) RETURNS void
	LANGUAGE plpgsql
	SET search_path = pg_catalog, public
AS $$
BEGIN
	DELETE FROM public.telemetry_events WHERE team_id = tid AND user_id = ANY (ids);
	DELETE FROM public.telemetry_seen WHERE user_id = ANY (ids);
	UPDATE public.audit_events SET actor_id = NULL, actor_email = '[erased]'
	 WHERE team_id = tid AND actor_id = ANY (ids);
	UPDATE public.audit_events SET subject_id = NULL, subject_email = '[erased]'
	 WHERE team_id = tid AND subject_id = ANY (ids);
	UPDATE public.audit_outbox SET actor_id = NULL, actor_email = '[erased]'
	 WHERE actor_id = ANY (ids);
	UPDATE public.audit_outbox SET subject_id = NULL, subject_email = '[erased]'
	 WHERE subject_id = ANY (ids);
END
$$;

REVOKE ALL ON FUNCTION sembark_erase_traces(uuid, uuid[]) FROM PUBLIC;

-- sembark_erase_account - erase user uid (whole_team: the team of uid, who
-- must be its owner, with every member). One row: result 'erased' (n
-- accounts, team_gone when the team went too), 'not_found', 'forbidden'
-- (whole_team by someone not the owner) or 'owner_with_members' (the
-- owner alone while others remain: erase the team instead). An owner
-- alone in the team takes the team with them.
CREATE FUNCTION sembark_erase_account(uid uuid, whole_team boolean,
		OUT result text, OUT team_id uuid, OUT n int, OUT team_gone boolean)
	LANGUAGE plpgsql
	SECURITY DEFINER
	SET search_path = pg_catalog, public
AS $$
DECLARE
	u record;
	ids uuid[];
	emails text[];
BEGIN
	n := 0;
	team_gone := false;
	SELECT x.team_id, x.role INTO u FROM public.users x WHERE x.id = uid;
	IF NOT FOUND THEN
		result := 'not_found';
		RETURN;
	END IF;
	team_id := u.team_id;
	-- no one joins, and no role changes, while this runs
	PERFORM 1 FROM public.teams t WHERE t.id = u.team_id FOR UPDATE;
	SELECT array_agg(x.id), array_agg(x.email) INTO ids, emails
	  FROM (SELECT y.id, y.email FROM public.users y WHERE y.team_id = u.team_id
		 ORDER BY y.id FOR UPDATE) x;
	IF whole_team AND u.role <> 'owner' THEN
		result := 'forbidden';
		RETURN;
	END IF;
	IF NOT whole_team THEN
		IF u.role = 'owner' AND cardinality(ids) > 1 THEN
			result := 'owner_with_members';
			RETURN;
		END IF;
		IF u.role <> 'owner' THEN
			SELECT ARRAY[y.id], ARRAY[y.email] INTO ids, emails
			  FROM public.users y WHERE y.id = uid;
		END IF;
	END IF;
	team_gone := u.role = 'owner';

	INSERT INTO public.erased_users (user_id, team_id)
	SELECT i, u.team_id FROM unnest(ids) AS i ON CONFLICT DO NOTHING;
	PERFORM public.sembark_erase_traces(u.team_id, ids);
	DELETE FROM public.login_failures
	 WHERE email_hash IN (SELECT sha256(convert_to(e, 'UTF8')) FROM unnest(emails) AS e);
	IF team_gone THEN
		DELETE FROM public.teams t WHERE t.id = u.team_id; -- invites, users, sessions go along
	ELSE
		DELETE FROM public.users y WHERE y.id = ANY (ids);
	END IF;
	INSERT INTO public.audit_outbox (event, team_id, actor_id, actor_email, subject_id,
					 subject_email)
	VALUES (CASE WHEN team_gone THEN 'team_erased' ELSE 'account_erased' END, u.team_id,
		NULL, '[erased]', NULL, '[erased]');
	n := cardinality(ids);
	result := 'erased';
END
$$;

REVOKE ALL ON FUNCTION sembark_erase_account(uuid, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION sembark_erase_account(uuid, boolean) TO sembark_authd;

-- sembark_erasure_sweep - erase again what a write under way brought back
-- for an id erased within the day, then forget the older ids; how many
-- ids it looked at.
CREATE FUNCTION sembark_erasure_sweep() RETURNS int
	LANGUAGE plpgsql
	SECURITY DEFINER
	SET search_path = pg_catalog, public
AS $$
DECLARE
	t record;
	n int := 0;
BEGIN
	DELETE FROM public.erased_users WHERE erased_at < now() - interval '1 day';
	FOR t IN SELECT e.team_id, array_agg(e.user_id) AS ids FROM public.erased_users e
		 GROUP BY e.team_id LOOP
		PERFORM public.sembark_erase_traces(t.team_id, t.ids);
		n := n + cardinality(t.ids);
	END LOOP;
	RETURN n;
END
$$;

REVOKE ALL ON FUNCTION sembark_erasure_sweep() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION sembark_erasure_sweep() TO sembark_authd;

-- An audit event naming an erased id on its way into audit_events (logd
-- moving a row it read before the erasure) gets the placeholder.
CREATE FUNCTION sembark_audit_erased() RETURNS trigger
	LANGUAGE plpgsql
	SECURITY DEFINER
	SET search_path = pg_catalog, public
AS $$
BEGIN
	IF NEW.actor_id IS NOT NULL
	   AND EXISTS (SELECT FROM public.erased_users e WHERE e.user_id = NEW.actor_id) THEN
		NEW.actor_id := NULL;
		NEW.actor_email := '[erased]';
	END IF;
	IF NEW.subject_id IS NOT NULL
	   AND EXISTS (SELECT FROM public.erased_users e WHERE e.user_id = NEW.subject_id) THEN
		NEW.subject_id := NULL;
		NEW.subject_email := '[erased]';
	END IF;
	RETURN NEW;
END
$$;

REVOKE ALL ON FUNCTION sembark_audit_erased() FROM PUBLIC;

CREATE TRIGGER audit_events_erased BEFORE INSERT ON audit_events
	FOR EACH ROW EXECUTE FUNCTION sembark_audit_erased();

-- sembark_export_user - everything stored about user uid, as one JSON
-- document (NULL when there is no such user): the account, the team, the
-- sessions (without their token hashes), whether two-factor login is on
-- (never the secret or the recovery codes), their telemetry events and the
-- audit events where they are actor or subject.
CREATE FUNCTION sembark_export_user(uid uuid) RETURNS jsonb
	LANGUAGE sql
	STABLE
	SECURITY DEFINER
	SET search_path = pg_catalog, public
AS $$
	SELECT jsonb_build_object(
		'format', 'sembark-export-1',
		'exported_at', now(),
		'account', jsonb_build_object(
			'id', u.id, 'email', u.email, 'name', u.name, 'role', u.role,
			'created_at', u.created_at, 'email_verified_at', u.email_verified_at,
			'two_factor', jsonb_build_object(
				'enabled', u.totp_secret IS NOT NULL,
				'enabled_at', u.totp_enabled_at,
				'recovery_codes_left', (SELECT count(*) FROM public.totp_recovery_codes r
							WHERE r.user_id = u.id))),
		'team', jsonb_build_object(
			'id', t.id, 'name', t.name, 'created_at', t.created_at,
			'require_two_factor', t.require_two_factor),
		'sessions', coalesce((SELECT jsonb_agg(jsonb_build_object(
				'id', s.id, 'created_at', s.created_at, 'expires_at', s.expires_at,
				'last_used_at', s.last_used_at, 'device_name', s.device_name)
				ORDER BY s.created_at, s.id)
			FROM public.sessions s WHERE s.user_id = u.id), '[]'),
		'telemetry_events', coalesce((SELECT jsonb_agg(jsonb_build_object(
				'id', e.id, 'type', e.type, 'occurred_at', e.occurred_at,
				'received_at', e.received_at, 'app_version', e.app_version,
				'os_version', e.os_version, 'display_width', e.display_width,
				'display_height', e.display_height, 'attrs', e.attrs)
				ORDER BY e.occurred_at, e.id)
			FROM public.telemetry_events e
			WHERE e.team_id = u.team_id AND e.user_id = u.id), '[]'),
		'audit_events', coalesce((SELECT jsonb_agg(jsonb_build_object(
				'id', a.id, 'at', a.at, 'event', a.event,
				'actor', jsonb_build_object('id', a.actor_id, 'email', a.actor_email),
				'subject', jsonb_build_object('id', a.subject_id, 'email', a.subject_email))
				ORDER BY a.at, a.id)
			FROM (SELECT * FROM public.audit_events x
			       WHERE x.team_id = u.team_id AND (x.actor_id = u.id OR x.subject_id = u.id)
			      UNION ALL
			      SELECT * FROM public.audit_outbox x
			       WHERE x.team_id = u.team_id AND (x.actor_id = u.id OR x.subject_id = u.id)) a),
			'[]'))
	FROM public.users u JOIN public.teams t ON t.id = u.team_id
	WHERE u.id = uid;
$$;

REVOKE ALL ON FUNCTION sembark_export_user(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION sembark_export_user(uuid) TO sembark_authd;
