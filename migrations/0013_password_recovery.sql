-- 0013_password_recovery.sql - getting back in after a forgotten password
-- (POST /api/password/forgot and /api/password/reset), and the outbox of
-- the mails that carry the link.
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
-- the mail, and goes once the relay has accepted it). The mail daemon
-- that drains it (issue 13, not yet built) gets its own role with SELECT,
-- UPDATE and DELETE; sembark_authd may only INSERT.

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
	template text NOT NULL CHECK (template IN ('password_reset', 'password_changed')),
	params jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(params) = 'object'),
	attempts int NOT NULL DEFAULT 0 CHECK (attempts >= 0),
	next_attempt_at timestamptz NOT NULL DEFAULT now(),
	last_error text CHECK (length(last_error) <= 512)
);

CREATE INDEX mail_outbox_due_idx ON mail_outbox (next_attempt_at, id);
CREATE INDEX mail_outbox_user_idx ON mail_outbox (user_id);

GRANT SELECT, INSERT, UPDATE, DELETE ON password_resets TO sembark_authd;
GRANT INSERT ON mail_outbox TO sembark_authd;
