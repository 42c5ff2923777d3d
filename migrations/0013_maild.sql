-- 0013_maild.sql - the role of sembark-maild, the only process that talks
-- SMTP: it drains mail_outbox (migration 0012) and may do nothing else.
--
-- sembark_maild may SELECT, UPDATE and DELETE mail_outbox (take the due
-- mails, note a failed try, forget a delivered or given-up one) and no
-- other table; it never inserts (authd queues mails inside the statements
-- of their actions). Created and checked like the other daemon roles
-- (0001_roles.sql); its password is set by `sembarkctl migrate` from
-- [database] maild_password_file / the credential db-maild-password.

DO $$
DECLARE
	bad boolean;
BEGIN
	SELECT rolsuper OR rolcreatedb OR rolcreaterole OR rolreplication
	       OR rolbypassrls OR rolinherit OR NOT rolcanlogin
	  INTO bad
	  FROM pg_catalog.pg_roles WHERE rolname = 'sembark_maild';
	IF NOT FOUND THEN
		CREATE ROLE sembark_maild LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE
			NOINHERIT NOREPLICATION NOBYPASSRLS;
	ELSIF bad THEN
		RAISE EXCEPTION 'role sembark_maild exists with attributes sembark does not allow'
			USING HINT = 'ALTER ROLE it to LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE '
				     'NOINHERIT NOREPLICATION NOBYPASSRLS, or drop it';
	END IF;
	EXECUTE format('GRANT CONNECT ON DATABASE %I TO sembark_maild', current_database());
END
$$;

GRANT USAGE ON SCHEMA public TO sembark_maild;
GRANT SELECT, UPDATE, DELETE ON mail_outbox TO sembark_maild;

-- a new mail wakes maild at once (it also looks every few seconds)
CREATE FUNCTION sembark_mail_queued() RETURNS trigger
	LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pg_notify('sembark_mail', '');
	RETURN NULL;
END
$$;

CREATE TRIGGER mail_outbox_notify AFTER INSERT ON mail_outbox
	FOR EACH STATEMENT EXECUTE FUNCTION sembark_mail_queued();

CREATE OR REPLACE FUNCTION sembark_set_role_password(role text, password text) RETURNS void
	LANGUAGE plpgsql
	SET search_path = pg_catalog
AS $$
BEGIN
	IF role IS NULL OR role NOT IN ('sembark_authd', 'sembark_telemetryd', 'sembark_logd',
					'sembark_maild') THEN
		RAISE EXCEPTION 'sembark_set_role_password: role % is not a sembark daemon role', role;
	END IF;
	IF password IS NULL OR length(password) = 0 THEN
		RAISE EXCEPTION 'sembark_set_role_password: empty password for %', role;
	END IF;
	EXECUTE format('ALTER ROLE %I PASSWORD %L', role, password);
END
$$;
