-- 0004_telemetry.sql - the telemetry events sembark-telemetryd stores, in
-- daily partitions, and the table that makes a re-sent event a duplicate.
--
-- telemetry_events holds exactly the fields API.md "Telemetry" names and
-- nothing else: no IP address, no user agent, no device or install id.
-- Client events carry the client's app_version, os_version and display
-- size; the server's own sign_in/sign_out events (recorded when authd
-- logs a user in or out) have NULL there, which the CHECKs below enforce.
--
-- Partitioned by day of occurred_at (UTC) with no default partition: a row
-- for a day without a partition is refused (SQLSTATE 23514), and
-- telemetryd then creates it through sembark_ensure_telemetry_partitions()
-- and retries; it also creates the days of the accepted window ahead of
-- time. Retention drops whole partitions through
-- sembark_drop_telemetry_partitions(cutoff), never deletes rows.
--
-- Dedupe: telemetry_seen keeps (user_id, event_id) of every stored event
-- for 8 days. telemetryd inserts there first (ON CONFLICT DO NOTHING
-- RETURNING) and stores only the events that were new, in the same
-- statement, so an event re-sent with the same id is a duplicate whatever
-- its occurred_at and whichever day partition it would land in. Events
-- older than 7 days are refused anyway, so a seen row older than 8 days can
-- never match an acceptable event again; telemetryd deletes those.
--
-- sembark_telemetryd may INSERT and SELECT telemetry_events, INSERT,
-- SELECT and DELETE telemetry_seen, and EXECUTE the two functions.

CREATE TABLE telemetry_events (
	id uuid NOT NULL,
	team_id uuid NOT NULL,
	user_id uuid NOT NULL,
	type text NOT NULL,
	occurred_at timestamptz NOT NULL,
	received_at timestamptz NOT NULL DEFAULT now(),
	app_version text,
	os_version text,
	display_width int,
	display_height int,
	attrs jsonb NOT NULL DEFAULT '{}',
	CONSTRAINT telemetry_events_type_check CHECK (type IN ('sign_in', 'sign_out',
		'feature_interaction', 'crash', 'error', 'network_status', 'connectivity')),
	-- client events carry every client field, server events none
	CONSTRAINT telemetry_events_client_check CHECK (
		CASE WHEN type IN ('sign_in', 'sign_out')
		THEN app_version IS NULL AND os_version IS NULL
		     AND display_width IS NULL AND display_height IS NULL
		ELSE coalesce(char_length(app_version) BETWEEN 1 AND 64
			      AND char_length(os_version) BETWEEN 1 AND 64
			      AND display_width BETWEEN 1 AND 20000
			      AND display_height BETWEEN 1 AND 20000, false)
		END),
	CONSTRAINT telemetry_events_attrs_check CHECK (jsonb_typeof(attrs) = 'object')
) PARTITION BY RANGE (occurred_at);

-- the summary reads one team's days
CREATE INDEX telemetry_events_team_at_idx ON telemetry_events (team_id, occurred_at);

CREATE TABLE telemetry_seen (
	user_id uuid NOT NULL,
	event_id uuid NOT NULL,
	seen_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (user_id, event_id)
);

-- purging by age; rows arrive in seen_at order, so a BRIN index is enough
CREATE INDEX telemetry_seen_seen_at_idx ON telemetry_seen USING brin (seen_at);

GRANT INSERT, SELECT ON telemetry_events TO sembark_telemetryd;
GRANT INSERT, SELECT, DELETE ON telemetry_seen TO sembark_telemetryd;

-- sembark_ensure_telemetry_partitions - make sure the daily partitions of
-- telemetry_events for from_day .. from_day + days - 1 exist; returns how
-- many it created. Day bounds are UTC midnights whatever the caller's
-- TimeZone/DateStyle. Concurrent callers are serialised by a
-- transaction-scoped advisory lock.
CREATE FUNCTION sembark_ensure_telemetry_partitions(from_day date, days int) RETURNS int
	LANGUAGE plpgsql
	SECURITY DEFINER
	SET search_path = pg_catalog, public
	SET TimeZone = 'UTC'
	SET DateStyle = 'ISO, YMD'
AS $$
DECLARE
	d date;
	part text;
	created int := 0;
BEGIN
	IF from_day IS NULL OR from_day < date '2000-01-01' OR from_day > date '9000-01-01' THEN
		RAISE EXCEPTION 'sembark_ensure_telemetry_partitions: from_day % out of range', from_day;
	END IF;
	IF days IS NULL OR days < 1 OR days > 400 THEN
		RAISE EXCEPTION 'sembark_ensure_telemetry_partitions: days % out of range 1..400', days;
	END IF;
	-- key: 'sembark' || 0x04
	PERFORM pg_advisory_xact_lock(8315172556318599940);
	FOR i IN 0 .. days - 1 LOOP
		d := from_day + i;
		part := 'telemetry_events_p' || to_char(d, 'YYYYMMDD');
		CONTINUE WHEN to_regclass(format('public.%I', part)) IS NOT NULL;
		EXECUTE format('CREATE TABLE IF NOT EXISTS public.%I PARTITION OF public.telemetry_events '
			       'FOR VALUES FROM (%L) TO (%L)', part,
			       d::timestamp AT TIME ZONE 'UTC',
			       (d + 1)::timestamp AT TIME ZONE 'UTC');
		created := created + 1;
	END LOOP;
	RETURN created;
END
$$;

-- sembark_drop_telemetry_partitions - drop (DROP TABLE: the rows are gone
-- for good, at once) every daily partition of telemetry_events whose whole
-- day ends at or before cutoff; returns the names dropped. sembarkctl (the
-- owner) may pass any cutoff, e.g. for `retention --now`; the daemon role
-- may not reach into the last day, so a confused or compromised telemetryd
-- cannot wipe recent data through it.
CREATE FUNCTION sembark_drop_telemetry_partitions(cutoff timestamptz) RETURNS SETOF text
	LANGUAGE plpgsql
	SECURITY DEFINER
	SET search_path = pg_catalog, public
	SET TimeZone = 'UTC'
	SET DateStyle = 'ISO, YMD'
AS $$
DECLARE
	part text;
	d date;
BEGIN
	IF cutoff IS NULL OR NOT isfinite(cutoff) THEN
		RAISE EXCEPTION 'sembark_drop_telemetry_partitions: cutoff % is not a finite time', cutoff;
	END IF;
	IF session_user = 'sembark_telemetryd' AND cutoff > now() - interval '1 day' THEN
		RAISE EXCEPTION 'sembark_drop_telemetry_partitions: cutoff % is within the last day', cutoff;
	END IF;
	PERFORM pg_advisory_xact_lock(8315172556318599940);
	FOR part IN
		SELECT c.relname
		  FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
		 WHERE i.inhparent = 'public.telemetry_events'::regclass
		   AND c.relname ~ '^telemetry_events_p[0-9]{8}$'
		 ORDER BY c.relname
	LOOP
		d := to_date(substr(part, 19, 8), 'YYYYMMDD');
		CONTINUE WHEN (d + 1)::timestamp AT TIME ZONE 'UTC' > cutoff;
		EXECUTE format('DROP TABLE public.%I', part);
		RETURN NEXT part;
	END LOOP;
	RETURN;
END
$$;

REVOKE ALL ON FUNCTION sembark_ensure_telemetry_partitions(date, int) FROM PUBLIC;
REVOKE ALL ON FUNCTION sembark_drop_telemetry_partitions(timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION sembark_ensure_telemetry_partitions(date, int) TO sembark_telemetryd;
GRANT EXECUTE ON FUNCTION sembark_drop_telemetry_partitions(timestamptz) TO sembark_telemetryd;
