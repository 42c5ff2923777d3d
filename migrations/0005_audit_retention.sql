-- 0005_audit_retention.sql - the audit trail, and retention by dropping
-- whole daily partitions.
--
-- audit_events holds what authd reports (team_created, login, ...): who
-- did it (actor), to whom (subject), in which team, when. No IP address,
-- token or password has a column here. It is partitioned by UTC day on
-- `at` like logs (audit_events_pYYYYMMDD), with no default partition:
-- sembark-logd creates days ahead of time, and on demand when a row finds
-- no partition, through sembark_ensure_audit_partitions().
--
-- Retention never deletes rows of logs or audit_events and never flags
-- them: sembark_drop_log_partitions(cutoff) and
-- sembark_drop_audit_partitions(cutoff) DROP every partition whose whole
-- range ends at or before cutoff (callers pass now - retention_days), and
-- return the names they dropped. With daily partitions a row therefore
-- lives between retention_days and retention_days + 1 days.
--
-- DDL runs only inside these SECURITY DEFINER functions, owned by the
-- schema owner: sembark_logd may INSERT and SELECT audit_events and
-- EXECUTE the four partition functions, nothing else. The helpers
-- sembark_ensure_day_partitions() and sembark_drop_day_partitions() are
-- the owner's alone (sembarkctl calls the public ones).

CREATE TABLE audit_events (
	id bigserial NOT NULL,
	at timestamptz NOT NULL,
	team_id uuid NOT NULL,
	event text NOT NULL CHECK (event ~ '^[a-z_]{1,32}$'),
	actor_id uuid,
	actor_email text CHECK (length(actor_email) <= 254),
	subject_id uuid,
	subject_email text CHECK (length(subject_email) <= 254)
) PARTITION BY RANGE (at);

-- GET /api/audit: one team, newest first, keyset paging on (at, id).
CREATE INDEX audit_events_team_at_idx ON audit_events (team_id, at DESC, id DESC);

GRANT INSERT, SELECT ON audit_events TO sembark_logd;
GRANT USAGE ON SEQUENCE audit_events_id_seq TO sembark_logd;

-- sembark_ensure_day_partitions - the daily partitions of parent (logs or
-- audit_events) for from_day .. from_day + days - 1, named
-- <parent>_pYYYYMMDD, bounds at UTC midnights; returns how many it made.
-- Serialised with every other partition change of logs/audit_events by
-- the transaction advisory lock 'sembark' || 0x02.
CREATE FUNCTION sembark_ensure_day_partitions(parent text, from_day date, days int) RETURNS int
	LANGUAGE plpgsql
	SET search_path = pg_catalog, public
	SET TimeZone = 'UTC'
	SET DateStyle = 'ISO, YMD'
AS $$
DECLARE
	d date;
	part text;
	created int := 0;
BEGIN
	IF parent IS NULL OR parent NOT IN ('logs', 'audit_events') THEN
		RAISE EXCEPTION 'sembark_ensure_day_partitions: % is not a day-partitioned table', parent;
	END IF;
	IF from_day IS NULL OR from_day < date '2000-01-01' OR from_day > date '9000-01-01' THEN
		RAISE EXCEPTION 'sembark_ensure_day_partitions: from_day % out of range', from_day;
	END IF;
	IF days IS NULL OR days < 1 OR days > 400 THEN
		RAISE EXCEPTION 'sembark_ensure_day_partitions: days % out of range 1..400', days;
	END IF;
	PERFORM pg_advisory_xact_lock(8315172556318599938);
	FOR i IN 0 .. days - 1 LOOP
		d := from_day + i;
		part := parent || '_p' || to_char(d, 'YYYYMMDD');
		CONTINUE WHEN to_regclass(format('public.%I', part)) IS NOT NULL;
		EXECUTE format('CREATE TABLE public.%I PARTITION OF public.%I '
			       'FOR VALUES FROM (%L) TO (%L)', part, parent,
			       d::timestamp AT TIME ZONE 'UTC',
			       (d + 1)::timestamp AT TIME ZONE 'UTC');
		created := created + 1;
	END LOOP;
	RETURN created;
END
$$;

REVOKE ALL ON FUNCTION sembark_ensure_day_partitions(text, date, int) FROM PUBLIC;

-- sembark_drop_day_partitions - DROP every partition of parent whose range
-- ends at or before cutoff (its upper bound, read from the catalog, so the
-- partition's name plays no part), oldest first; returns the names
-- dropped. A partition without a finite upper bound (DEFAULT, MAXVALUE)
-- is never dropped. Waits at most 5 s for locks rather than stall its
-- caller's loop. The owner (sembarkctl retention --now) may pass any
-- cutoff; sembark_logd (retention_days >= 1) may not reach into the last
-- day, so a confused or compromised logd cannot wipe recent records.
CREATE FUNCTION sembark_drop_day_partitions(parent text, cutoff timestamptz) RETURNS SETOF text
	LANGUAGE plpgsql
	SET search_path = pg_catalog, public
	SET TimeZone = 'UTC'
	SET DateStyle = 'ISO, YMD'
	SET lock_timeout = '5s'
AS $$
DECLARE
	part text;
BEGIN
	IF parent IS NULL OR parent NOT IN ('logs', 'audit_events') THEN
		RAISE EXCEPTION 'sembark_drop_day_partitions: % is not a day-partitioned table', parent;
	END IF;
	IF cutoff IS NULL OR NOT isfinite(cutoff) THEN
		RAISE EXCEPTION 'sembark_drop_day_partitions: cutoff must be a finite time';
	END IF;
	IF session_user = 'sembark_logd' AND cutoff > now() - interval '23 hours' THEN
		RAISE EXCEPTION 'sembark_drop_day_partitions: cutoff % is within the last day', cutoff;
	END IF;
	PERFORM pg_advisory_xact_lock(8315172556318599938);
	FOR part IN
		SELECT p.part
		  FROM (SELECT c.relname AS part,
			       (regexp_match(pg_get_expr(c.relpartbound, c.oid),
					     'TO \(''([^'']+)''\)'))[1] AS upper
			  FROM pg_inherits i
			  JOIN pg_class c ON c.oid = i.inhrelid
			  JOIN pg_namespace n ON n.oid = c.relnamespace
			 WHERE i.inhparent = format('public.%I', parent)::regclass
			   AND n.nspname = 'public') p
		 WHERE p.upper IS NOT NULL AND p.upper::timestamptz <= cutoff
		 ORDER BY p.upper::timestamptz, p.part
	LOOP
		EXECUTE format('DROP TABLE public.%I', part);
		RETURN NEXT part;
	END LOOP;
	RETURN;
END
$$;

REVOKE ALL ON FUNCTION sembark_drop_day_partitions(text, timestamptz) FROM PUBLIC;

-- sembark_ensure_audit_partitions - like sembark_ensure_log_partitions,
-- for audit_events; returns how many partitions it created.
CREATE FUNCTION sembark_ensure_audit_partitions(from_day date, days int) RETURNS int
	LANGUAGE sql
	SECURITY DEFINER
	SET search_path = pg_catalog, public
AS $$
	SELECT public.sembark_ensure_day_partitions('audit_events', from_day, days);
$$;

-- sembark_drop_log_partitions - drop the daily partitions of logs whose
-- whole day is before cutoff; the names dropped.
CREATE FUNCTION sembark_drop_log_partitions(cutoff timestamptz) RETURNS SETOF text
	LANGUAGE sql
	SECURITY DEFINER
	SET search_path = pg_catalog, public
AS $$
	SELECT public.sembark_drop_day_partitions('logs', cutoff);
$$;

-- sembark_drop_audit_partitions - the same for audit_events.
CREATE FUNCTION sembark_drop_audit_partitions(cutoff timestamptz) RETURNS SETOF text
	LANGUAGE sql
	SECURITY DEFINER
	SET search_path = pg_catalog, public
AS $$
	SELECT public.sembark_drop_day_partitions('audit_events', cutoff);
$$;

REVOKE ALL ON FUNCTION sembark_ensure_audit_partitions(date, int) FROM PUBLIC;
REVOKE ALL ON FUNCTION sembark_drop_log_partitions(timestamptz) FROM PUBLIC;
REVOKE ALL ON FUNCTION sembark_drop_audit_partitions(timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION sembark_ensure_audit_partitions(date, int) TO sembark_logd;
GRANT EXECUTE ON FUNCTION sembark_drop_log_partitions(timestamptz) TO sembark_logd;
GRANT EXECUTE ON FUNCTION sembark_drop_audit_partitions(timestamptz) TO sembark_logd;
