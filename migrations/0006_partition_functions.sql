-- 0006_partition_functions.sql - one implementation of daily partition
-- upkeep: the per-table functions of 0002 (logs) and 0004 (telemetry)
-- become thin calls of the generic ones 0005 added, which learn
-- telemetry_events.
--
-- 0002 and 0004 each wrote their own loop (sembark_ensure_log_partitions,
-- sembark_ensure_telemetry_partitions, sembark_drop_telemetry_partitions);
-- 0005 then added sembark_ensure_day_partitions(parent, from_day, days)
-- and sembark_drop_day_partitions(parent, cutoff) for logs and
-- audit_events. Applied migrations are never edited (sembarkctl refuses a
-- changed file by its checksum), so this file replaces the functions.
--
-- CREATE OR REPLACE keeps each function's owner and grants; every
-- per-table function keeps its signature, SECURITY DEFINER and SET
-- clauses, and the grants are stated again, so each daemon role may call
-- exactly what it could before. What each table keeps of its own:
--
--   parent            advisory lock      a daemon role may not drop
--   logs              'sembark' || 0x02  sembark_logd: after now() - 23 hours
--   audit_events      'sembark' || 0x02  sembark_logd: after now() - 23 hours
--   telemetry_events  'sembark' || 0x04  sembark_telemetryd: after now() - 1 day
--
-- telemetry_events' drop now goes the generic way: a partition is chosen
-- by its upper bound in the catalog (no longer by its name), and locks
-- are waited for at most 5 s (lock_timeout), as for logs and audit_events.

-- sembark_partition_rule - the lock key, the daemon role and the interval
-- it may not reach into, of a day-partitioned table; no row for any other.
CREATE FUNCTION sembark_partition_rule(parent text, OUT lock_key bigint, OUT role name,
				       OUT recent interval)
	LANGUAGE sql
	IMMUTABLE
	SET search_path = pg_catalog
AS $$
	SELECT r.lock_key, r.role, r.recent
	  FROM (VALUES ('logs', 8315172556318599938, 'sembark_logd'::name, interval '23 hours'),
		       ('audit_events', 8315172556318599938, 'sembark_logd'::name,
			interval '23 hours'),
		       ('telemetry_events', 8315172556318599940, 'sembark_telemetryd'::name,
			interval '1 day')) AS r(parent, lock_key, role, recent)
	 WHERE r.parent = sembark_partition_rule.parent;
$$;

REVOKE ALL ON FUNCTION sembark_partition_rule(text) FROM PUBLIC;

CREATE OR REPLACE FUNCTION sembark_ensure_day_partitions(parent text, from_day date, days int)
	RETURNS int
	LANGUAGE plpgsql
	SET search_path = pg_catalog, public
	SET TimeZone = 'UTC'
	SET DateStyle = 'ISO, YMD'
AS $$
DECLARE
	rule record;
	d date;
	part text;
	created int := 0;
BEGIN
	SELECT * INTO rule FROM public.sembark_partition_rule(parent);
	IF rule.lock_key IS NULL THEN
		RAISE EXCEPTION 'sembark_ensure_day_partitions: % is not a day-partitioned table', parent;
	END IF;
	IF from_day IS NULL OR from_day < date '2000-01-01' OR from_day > date '9000-01-01' THEN
		RAISE EXCEPTION 'sembark_ensure_day_partitions: from_day % out of range', from_day;
	END IF;
	IF days IS NULL OR days < 1 OR days > 400 THEN
		RAISE EXCEPTION 'sembark_ensure_day_partitions: days % out of range 1..400', days;
	END IF;
	PERFORM pg_advisory_xact_lock(rule.lock_key);
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

CREATE OR REPLACE FUNCTION sembark_drop_day_partitions(parent text, cutoff timestamptz)
	RETURNS SETOF text
	LANGUAGE plpgsql
	SET search_path = pg_catalog, public
	SET TimeZone = 'UTC'
	SET DateStyle = 'ISO, YMD'
	SET lock_timeout = '5s'
AS $$
DECLARE
	rule record;
	part text;
BEGIN
	SELECT * INTO rule FROM public.sembark_partition_rule(parent);
	IF rule.lock_key IS NULL THEN
		RAISE EXCEPTION 'sembark_drop_day_partitions: % is not a day-partitioned table', parent;
	END IF;
	IF cutoff IS NULL OR NOT isfinite(cutoff) THEN
		RAISE EXCEPTION 'sembark_drop_day_partitions: cutoff must be a finite time';
	END IF;
	IF session_user = rule.role AND cutoff > now() - rule.recent THEN
		RAISE EXCEPTION 'sembark_drop_day_partitions: cutoff % is within the last day', cutoff;
	END IF;
	PERFORM pg_advisory_xact_lock(rule.lock_key);
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

-- the per-table functions of 0002 and 0004, now thin calls

CREATE OR REPLACE FUNCTION sembark_ensure_log_partitions(from_day date, days int) RETURNS int
	LANGUAGE sql
	SECURITY DEFINER
	SET search_path = pg_catalog, public
	SET TimeZone = 'UTC'
	SET DateStyle = 'ISO, YMD'
AS $$
	SELECT public.sembark_ensure_day_partitions('logs', from_day, days);
$$;

CREATE OR REPLACE FUNCTION sembark_ensure_telemetry_partitions(from_day date, days int) RETURNS int
	LANGUAGE sql
	SECURITY DEFINER
	SET search_path = pg_catalog, public
	SET TimeZone = 'UTC'
	SET DateStyle = 'ISO, YMD'
AS $$
	SELECT public.sembark_ensure_day_partitions('telemetry_events', from_day, days);
$$;

CREATE OR REPLACE FUNCTION sembark_drop_telemetry_partitions(cutoff timestamptz)
	RETURNS SETOF text
	LANGUAGE sql
	SECURITY DEFINER
	SET search_path = pg_catalog, public
	SET TimeZone = 'UTC'
	SET DateStyle = 'ISO, YMD'
AS $$
	SELECT public.sembark_drop_day_partitions('telemetry_events', cutoff);
$$;

-- the grants as 0001, 0002, 0004 and 0005 left them (CREATE OR REPLACE kept them)
REVOKE ALL ON FUNCTION sembark_ensure_day_partitions(text, date, int) FROM PUBLIC;
REVOKE ALL ON FUNCTION sembark_drop_day_partitions(text, timestamptz) FROM PUBLIC;
REVOKE ALL ON FUNCTION sembark_ensure_log_partitions(date, int) FROM PUBLIC;
REVOKE ALL ON FUNCTION sembark_ensure_telemetry_partitions(date, int) FROM PUBLIC;
REVOKE ALL ON FUNCTION sembark_drop_telemetry_partitions(timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION sembark_ensure_log_partitions(date, int) TO sembark_logd;
GRANT EXECUTE ON FUNCTION sembark_ensure_telemetry_partitions(date, int) TO sembark_telemetryd;
GRANT EXECUTE ON FUNCTION sembark_drop_telemetry_partitions(timestamptz) TO sembark_telemetryd;
