-- 0002_logs.sql - the log records sembark-logd stores, in daily partitions.
--
-- logs is partitioned by day on `at` (UTC days) with no default partition:
-- a row for a day without a partition is refused, so logd creates the
-- partitions ahead of time (and on demand) through
-- sembark_ensure_log_partitions(), which runs as the owner because
-- sembark_logd may not run DDL. Retention (a later migration) drops whole
-- partitions named logs_pYYYYMMDD, never deletes rows.
--
-- sembark_logd may INSERT and SELECT, nothing else.

CREATE TABLE logs (
	at timestamptz NOT NULL,
	service text NOT NULL,
	level text NOT NULL,
	message text NOT NULL,
	fields jsonb NOT NULL DEFAULT '{}'
) PARTITION BY RANGE (at);

CREATE INDEX logs_at_idx ON logs (at);
CREATE INDEX logs_service_at_idx ON logs (service, at);

GRANT INSERT, SELECT ON logs TO sembark_logd;

-- sembark_ensure_log_partitions - make sure the daily partitions of logs
-- for from_day .. from_day + days - 1 exist; returns how many it created.
-- Day bounds are UTC midnights whatever the caller's TimeZone/DateStyle. Concurrent
-- callers are serialised by a transaction-scoped advisory lock.
CREATE FUNCTION sembark_ensure_log_partitions(from_day date, days int) RETURNS int
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
		RAISE EXCEPTION 'sembark_ensure_log_partitions: from_day % out of range', from_day;
	END IF;
	IF days IS NULL OR days < 1 OR days > 400 THEN
		RAISE EXCEPTION 'sembark_ensure_log_partitions: days % out of range 1..400', days;
	END IF;
	-- key: 'sembark' || 0x02 (0x01 is sembarkctl migrate's session lock)
	PERFORM pg_advisory_xact_lock(8315172556318599938);
	FOR i IN 0 .. days - 1 LOOP
		d := from_day + i;
		part := 'logs_p' || to_char(d, 'YYYYMMDD');
		CONTINUE WHEN to_regclass(format('public.%I', part)) IS NOT NULL;
		EXECUTE format('CREATE TABLE IF NOT EXISTS public.%I PARTITION OF public.logs '
			       'FOR VALUES FROM (%L) TO (%L)', part,
			       d::timestamp AT TIME ZONE 'UTC',
			       (d + 1)::timestamp AT TIME ZONE 'UTC');
		created := created + 1;
	END LOOP;
	RETURN created;
END
$$;

REVOKE ALL ON FUNCTION sembark_ensure_log_partitions(date, int) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION sembark_ensure_log_partitions(date, int) TO sembark_logd;
