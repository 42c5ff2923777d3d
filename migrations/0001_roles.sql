-- 0001_roles.sql - the database roles of the daemons that talk to PostgreSQL.
--
-- One LOGIN role per daemon: sembark_authd, sembark_telemetryd, sembark_logd
-- (sembark-ingressd has no database access at all). They own nothing; later
-- migrations grant each exactly the table privileges it needs. The schema
-- owner (the role sembarkctl connects as) keeps DDL to itself: nobody else
-- may create objects in schema public, connect to the database or execute
-- a function unless a migration grants it.
--
-- Passwords are set by `sembarkctl migrate` through
-- sembark_set_role_password(), from the files/credentials named in the
-- config; this file holds no secret.

DO $$
DECLARE
	r text;
	bad boolean;
BEGIN
	FOREACH r IN ARRAY ARRAY['sembark_authd', 'sembark_telemetryd', 'sembark_logd'] LOOP
		SELECT rolsuper OR rolcreatedb OR rolcreaterole OR rolreplication
		       OR rolbypassrls OR rolinherit OR NOT rolcanlogin
		  INTO bad
		  FROM pg_catalog.pg_roles WHERE rolname = r;
		IF NOT FOUND THEN
			EXECUTE format('CREATE ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE '
				       'NOINHERIT NOREPLICATION NOBYPASSRLS', r);
		ELSIF bad THEN
			-- fail closed: an existing role with more rights than ours
			-- is not silently adopted
			RAISE EXCEPTION 'role % exists with attributes sembark does not allow', r
				USING HINT = 'ALTER ROLE it to LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE '
					     'NOINHERIT NOREPLICATION NOBYPASSRLS, or drop it';
		END IF;
	END LOOP;
END
$$;

-- Nobody but the owner and the roles named here may connect or make
-- temporary tables.
DO $$
BEGIN
	EXECUTE format('REVOKE ALL ON DATABASE %I FROM PUBLIC', current_database());
	EXECUTE format('GRANT CONNECT ON DATABASE %I TO sembark_authd, sembark_telemetryd, sembark_logd',
		       current_database());
END
$$;

REVOKE ALL ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO sembark_authd, sembark_telemetryd, sembark_logd;

-- Functions the owner creates from now on are not executable by PUBLIC;
-- each migration grants EXECUTE to the one role that needs it.
ALTER DEFAULT PRIVILEGES REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;

-- sembark_set_role_password - set the password of one daemon role.
-- Called by sembarkctl (as the owner) with bind parameters; `password` is
-- normally a SCRAM-SHA-256 verifier computed on the client, so the clear
-- text never reaches the server. Any other role name is refused.
CREATE FUNCTION sembark_set_role_password(role text, password text) RETURNS void
	LANGUAGE plpgsql
	SET search_path = pg_catalog
AS $$
BEGIN
	IF role IS NULL OR role NOT IN ('sembark_authd', 'sembark_telemetryd', 'sembark_logd') THEN
		RAISE EXCEPTION 'sembark_set_role_password: role % is not a sembark daemon role', role;
	END IF;
	IF password IS NULL OR length(password) = 0 THEN
		RAISE EXCEPTION 'sembark_set_role_password: empty password for %', role;
	END IF;
	EXECUTE format('ALTER ROLE %I PASSWORD %L', role, password);
END
$$;

REVOKE ALL ON FUNCTION sembark_set_role_password(text, text) FROM PUBLIC;
