-- 0003_accounts.sql - what sembark-authd owns: teams, their users, one live
-- invite code per team, sessions, and the per-email login failures that
-- throttling counts.
--
-- Secrets at rest: a session token is stored only as the SHA-256 of its
-- text (token_hash); an invite code is stored in the clear (owners and
-- admins must be able to see the live invite link again) and looked up by
-- the SHA-256 of its text (code_hash), so the lookup's timing depends on
-- a hash, not on the code. Password hashes are bcrypt/argon2id strings.
-- No table has a column for an IP address. login_failures holds the
-- SHA-256 of the normalised email, never the email itself (failed logins
-- for emails without an account leave no readable trace).
--
-- sembark_authd may SELECT, INSERT, UPDATE and DELETE these five tables
-- and nothing else (no TRUNCATE, no DDL, no other table).

CREATE TABLE teams (
	id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	name text NOT NULL CHECK (length(name) BETWEEN 1 AND 400),
	created_at timestamptz NOT NULL DEFAULT now()
);

-- One account per email across all teams; emails are stored normalised
-- (trimmed, lower case). created_at is the member's joined_at.
CREATE TABLE users (
	id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	team_id uuid NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
	email text NOT NULL UNIQUE CHECK (length(email) BETWEEN 3 AND 254 AND email = lower(email)),
	name text NOT NULL CHECK (length(name) BETWEEN 1 AND 400),
	password_hash text NOT NULL CHECK (length(password_hash) BETWEEN 1 AND 255),
	role text NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
	created_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX users_team_idx ON users (team_id, created_at);
-- a team has exactly one owner (the sign-up user)
CREATE UNIQUE INDEX users_one_owner_idx ON users (team_id) WHERE role = 'owner';

-- team_id is the key: one live code per team; rotating replaces the row.
CREATE TABLE invites (
	team_id uuid PRIMARY KEY REFERENCES teams (id) ON DELETE CASCADE,
	code text NOT NULL UNIQUE CHECK (code ~ '^[0-9a-f]{32}$'),
	code_hash bytea NOT NULL UNIQUE CHECK (length(code_hash) = 32),
	created_at timestamptz NOT NULL DEFAULT now()
);

-- A session ends when its row goes: logout, revocation, password change,
-- member removal (ON DELETE CASCADE from users) all delete rows, so every
-- authd sees the end at once.
CREATE TABLE sessions (
	id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	token_hash bytea NOT NULL UNIQUE CHECK (length(token_hash) = 32),
	user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	created_at timestamptz NOT NULL DEFAULT now(),
	expires_at timestamptz NOT NULL,
	last_used_at timestamptz NOT NULL DEFAULT now(),
	device_name text NOT NULL CHECK (length(device_name) BETWEEN 1 AND 400),
	CHECK (expires_at > created_at)
);

CREATE INDEX sessions_user_idx ON sessions (user_id, created_at);
CREATE INDEX sessions_expires_idx ON sessions (expires_at);

-- One row per failed (or in-progress) login attempt for an email.
CREATE TABLE login_failures (
	email_hash bytea NOT NULL CHECK (length(email_hash) = 32),
	at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX login_failures_email_at_idx ON login_failures (email_hash, at);
CREATE INDEX login_failures_at_idx ON login_failures (at);

GRANT SELECT, INSERT, UPDATE, DELETE ON teams, users, invites, sessions, login_failures
	TO sembark_authd;
