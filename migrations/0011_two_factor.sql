-- 0011_two_factor.sql - two-factor login with a time-based one-time
-- password (RFC 6238), optional per user.
--
-- users.totp_secret is the secret sealed by sembark-authd
-- (services/authd/totp.c: a 24-byte nonce, the 20-byte secret encrypted
-- with XChaCha20-Poly1305 under a key only authd holds, a 16-byte tag;
-- the user id is the associated data, so a sealed secret copied to
-- another row does not open). totp_pending is a secret being enrolled:
-- it becomes totp_secret when the person proves with a code that their
-- app holds it. totp_last_step is the last 30-second step a code was
-- accepted for: a code is good once.
--
-- login_challenges is the first factor done: a password login of an
-- account with two-factor on answers a ticket (20 random bytes, only
-- their SHA-256 stored here), which the code must follow within 5
-- minutes and at most 5 wrong codes. totp_recovery_codes hold the SHA-256
-- of the ten one-use codes shown at enrolment.

ALTER TABLE users
	ADD COLUMN totp_secret bytea CHECK (length(totp_secret) = 60),
	ADD COLUMN totp_pending bytea CHECK (length(totp_pending) = 60),
	ADD COLUMN totp_last_step bigint NOT NULL DEFAULT -1 CHECK (totp_last_step >= -1),
	ADD COLUMN totp_enabled_at timestamptz,
	ADD CONSTRAINT users_totp_enabled_check CHECK ((totp_secret IS NULL) = (totp_enabled_at IS NULL));

CREATE TABLE totp_recovery_codes (
	user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	code_hash bytea NOT NULL CHECK (length(code_hash) = 32),
	PRIMARY KEY (user_id, code_hash)
);

CREATE TABLE login_challenges (
	ticket_hash bytea PRIMARY KEY CHECK (length(ticket_hash) = 32),
	user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	device_name text NOT NULL CHECK (length(device_name) BETWEEN 1 AND 400),
	attempts int NOT NULL DEFAULT 0 CHECK (attempts BETWEEN 0 AND 5),
	created_at timestamptz NOT NULL DEFAULT now(),
	expires_at timestamptz NOT NULL,
	CHECK (expires_at > created_at AND expires_at <= created_at + interval '5 minutes')
);

CREATE INDEX login_challenges_user_idx ON login_challenges (user_id);
CREATE INDEX login_challenges_expires_idx ON login_challenges (expires_at);

GRANT SELECT, INSERT, UPDATE, DELETE ON totp_recovery_codes, login_challenges TO sembark_authd;

-- The owner may require two-factor login of the whole team: a member
-- without it then has a session that can do nothing but turn it on
-- (services/authd/README.md, "Two-factor login").
ALTER TABLE teams ADD COLUMN require_two_factor boolean NOT NULL DEFAULT false;

-- What a cached session says now includes whether its user has two-factor
-- login on and whether the team requires it (migrations/0007): those
-- changes are announced too.
CREATE OR REPLACE FUNCTION sembark_users_changed() RETURNS trigger
	LANGUAGE plpgsql AS $$
BEGIN
	PERFORM sembark_notify_rows('u', ARRAY(
		SELECT n.id::text FROM now_rows n JOIN old_rows o ON o.id = n.id
		 WHERE (n.role, n.name, n.email, n.team_id, n.totp_secret IS NULL)
		       IS DISTINCT FROM (o.role, o.name, o.email, o.team_id, o.totp_secret IS NULL)));
	RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION sembark_teams_changed() RETURNS trigger
	LANGUAGE plpgsql AS $$
BEGIN
	PERFORM sembark_notify_rows('t', ARRAY(
		SELECT n.id::text FROM now_rows n JOIN old_rows o ON o.id = n.id
		 WHERE (n.name, n.require_two_factor) IS DISTINCT FROM (o.name, o.require_two_factor)));
	RETURN NULL;
END
$$;
