-- OpenID Connect: the max_age of an authorization request (seconds; NULL: none asked;
-- prompt=login is max_age 0), which makes a person whose login is older log in again.
ALTER TABLE oidc_auth_requests ADD COLUMN max_age BIGINT;

-- The password hashes still to wrap in argon2id (account.WrapPasswords): an import's fast
-- hash, or an imported bcrypt or SHA-512 crypt one. The task looks for them every minute;
-- with this index, finding none reads nothing. (The condition is written as the task's query
-- writes it, which SQLite requires to use a partial index.)
CREATE INDEX users_password_unwrapped ON users (id)
    WHERE (password_hash LIKE '$roster-fast$%' OR password_hash LIKE '$2%' OR password_hash LIKE '$6$%');
