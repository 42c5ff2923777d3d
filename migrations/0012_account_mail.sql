-- 0012_account_mail.sql - what mails an account: getting back in after a
-- forgotten password (POST /api/password/forgot and /api/password/reset),
-- proving an email is the person's (POST /api/email/verify), and the
-- outbox of the mails that carry the links.
--
-- password_resets: one row per link sent, keyed by the SHA-256 of its
-- token (20 random bytes; the token itself is only in the mail). A link
-- lives one hour and is good once (used_at). Using one sets the new
-- password, ends every session of the account and voids its other links.
-- authd's purge deletes rows an hour after they expired.
--
-- mail_outbox: each mail authd wants sent, written inside the statement of
-- the action it belongs to, so a mail exists exactly when its action
-- committed. It holds the recipient, a template name and its parameters
-- (for a reset, the link with its token: the row is the only copy besides
-- the mail, and goes once the relay has accepted it). sembark-maild drains
-- it with its own role (0013_maild.sql); sembark_authd may only INSERT.
--
-- email_verifications: the link a new account gets (and may ask again),
-- the SHA-256 of a 20-byte token, 24 hours, good once (the row goes).
-- users.email_verified_at says when the email was proven.

CREATE TABLE password_resets (
	token_hash bytea PRIMARY KEY CHECK (length(token_hash) = 32),
	user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	created_at timestamptz NOT NULL DEFAULT now(),
	expires_at timestamptz NOT NULL,
	used_at timestamptz,
	CHECK (expires_at > created_at)
);

CREATE INDEX password_resets_user_idx ON password_resets (user_id, created_at);
CREATE INDEX password_resets_expires_idx ON password_resets (expires_at);

CREATE TABLE mail_outbox (
	id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	created_at timestamptz NOT NULL DEFAULT now(),
	-- whose mail it is: erasing them drops what still waits for them
	user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	to_addr text NOT NULL CHECK (length(to_addr) BETWEEN 3 AND 254),
	template text NOT NULL CHECK (template IN ('password_reset', 'password_changed',
						   'verify_email')),
	params jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(params) = 'object'),
	attempts int NOT NULL DEFAULT 0 CHECK (attempts >= 0),
	next_attempt_at timestamptz NOT NULL DEFAULT now(),
	last_error text CHECK (length(last_error) <= 512)
);

CREATE INDEX mail_outbox_due_idx ON mail_outbox (next_attempt_at, id);
CREATE INDEX mail_outbox_user_idx ON mail_outbox (user_id);

GRANT SELECT, INSERT, UPDATE, DELETE ON password_resets TO sembark_authd;
GRANT INSERT ON mail_outbox TO sembark_authd;

ALTER TABLE users ADD COLUMN email_verified_at timestamptz;

CREATE TABLE email_verifications (
	token_hash bytea PRIMARY KEY CHECK (length(token_hash) = 32),
	user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	created_at timestamptz NOT NULL DEFAULT now(),
	expires_at timestamptz NOT NULL,
	CHECK (expires_at > created_at)
);

CREATE INDEX email_verifications_user_idx ON email_verifications (user_id, created_at);
CREATE INDEX email_verifications_expires_idx ON email_verifications (expires_at);

GRANT SELECT, INSERT, UPDATE, DELETE ON email_verifications TO sembark_authd;

-- A cached session says whether its email is verified (GET /api/me): that
-- change is announced too (migrations 0007, 0011).
CREATE OR REPLACE FUNCTION sembark_users_changed() RETURNS trigger
	LANGUAGE plpgsql AS $$
BEGIN
	PERFORM sembark_notify_rows('u', ARRAY(
		SELECT n.id::text FROM now_rows n JOIN old_rows o ON o.id = n.id
		 WHERE (n.role, n.name, n.email, n.team_id, n.totp_secret IS NULL,
			n.email_verified_at IS NULL)
		       IS DISTINCT FROM (o.role, o.name, o.email, o.team_id, o.totp_secret IS NULL,
					 o.email_verified_at IS NULL)));
	RETURN NULL;
END
$$;
