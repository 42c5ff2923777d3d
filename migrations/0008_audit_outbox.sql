-- 0008_audit_outbox.sql - audit events that are never lost once an
-- action was answered.
--
-- sembark-authd writes each audit event into audit_outbox inside the
-- very statement that performs the action (a data-modifying CTE), so the
-- event commits with the action or not at all: an answered 2xx implies a
-- stored event, whatever logd is doing at that moment. sembark-logd
-- moves the rows into audit_events: it reads them in id order, redacts
-- the emails, and inserts them with one statement that also deletes them
-- from the outbox (rows another logd, or an earlier try, already moved
-- are skipped), so each event lands in audit_events exactly once. A
-- statement-level trigger announces new rows on the channel sembark_audit
-- (at commit), so logd moves them at once; it also looks every few
-- seconds, for what was written while it was away.
--
-- Privileges: sembark_authd may only INSERT (it never reads the trail);
-- sembark_logd may SELECT and DELETE (it never writes an event itself).

-- The rows of audit_events, with their checks, before they get there.
CREATE TABLE audit_outbox (LIKE audit_events INCLUDING CONSTRAINTS);
ALTER TABLE audit_outbox
	ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY,
	ADD PRIMARY KEY (id),
	ALTER COLUMN at SET DEFAULT now();

GRANT INSERT ON audit_outbox TO sembark_authd;
GRANT USAGE ON SEQUENCE audit_outbox_id_seq TO sembark_authd;
GRANT SELECT, DELETE ON audit_outbox TO sembark_logd;

CREATE FUNCTION sembark_audit_written() RETURNS trigger
	LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pg_notify('sembark_audit', '');
	RETURN NULL;
END
$$;

CREATE TRIGGER audit_outbox_notify AFTER INSERT ON audit_outbox
	FOR EACH STATEMENT EXECUTE FUNCTION sembark_audit_written();
