-- Accounts, sessions, tokens, throttling, audit and settings.
CREATE TABLE users (
    id             INTEGER PRIMARY KEY,
    username       TEXT    NOT NULL UNIQUE,            -- always lower case
    email          TEXT    NOT NULL DEFAULT '',        -- where mail is delivered; may be empty
    email_norm     TEXT    NOT NULL DEFAULT '',        -- lower-cased email, for login and lookups
    first_name     TEXT    NOT NULL DEFAULT '',
    last_name      TEXT    NOT NULL DEFAULT '',
    language       TEXT    NOT NULL DEFAULT '',
    status         TEXT    NOT NULL DEFAULT 'active',  -- active | suspended
    auth           TEXT    NOT NULL DEFAULT 'local',   -- local | cas | oidc
    password_hash  TEXT    NOT NULL DEFAULT '',
    is_admin       BOOLEAN NOT NULL DEFAULT false,     -- platform administrator
    idnumber       TEXT    NOT NULL DEFAULT '',        -- external id (student information system)
    custom_fields  TEXT    NOT NULL DEFAULT '{}',      -- JSON object
    created_at     BIGINT  NOT NULL,
    updated_at     BIGINT  NOT NULL,
    activated_at   BIGINT,                             -- billing starts
    deactivated_at BIGINT,                             -- billing stops (suspended or deleted)
    last_login_at  BIGINT,
    delete_at      BIGINT,                             -- automatic deletion date
    deleted_at     BIGINT                              -- anonymised
);
CREATE INDEX users_email_norm ON users (email_norm);
CREATE INDEX users_idnumber ON users (idnumber);
CREATE INDEX users_last_name ON users (last_name, first_name);

CREATE TABLE sessions (
    id_hash      TEXT   PRIMARY KEY,                   -- SHA-256 of the cookie value
    user_id      BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    ip           TEXT   NOT NULL DEFAULT '',
    user_agent   TEXT   NOT NULL DEFAULT ''
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE api_tokens (
    id            INTEGER PRIMARY KEY,
    name          TEXT    NOT NULL,
    token_hash    TEXT    NOT NULL UNIQUE,             -- SHA-256 of the token
    user_id       BIGINT  REFERENCES users (id) ON DELETE CASCADE, -- acts as this user; NULL: platform admin
    scim_group_id BIGINT,                              -- SCIM provisioning under this group
    created_at    BIGINT  NOT NULL,
    last_used_at  BIGINT,
    revoked_at    BIGINT
);

CREATE TABLE one_time_tokens (
    token_hash TEXT   PRIMARY KEY,                     -- SHA-256 of the token
    purpose    TEXT   NOT NULL,                        -- first_admin | password_reset | account_setup
    user_id    BIGINT REFERENCES users (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT,
    used_at    BIGINT
);
CREATE INDEX one_time_tokens_user ON one_time_tokens (user_id, purpose);

CREATE TABLE login_throttle (
    key          TEXT    PRIMARY KEY,                  -- "login:NAME" or "ip:ADDR"
    failures     INTEGER NOT NULL,
    window_start BIGINT  NOT NULL,
    locked_until BIGINT  NOT NULL DEFAULT 0
);

CREATE TABLE audit_events (
    id          INTEGER PRIMARY KEY,
    at          BIGINT  NOT NULL,
    actor_id    BIGINT,
    action      TEXT    NOT NULL,
    target_type TEXT    NOT NULL DEFAULT '',
    target_id   TEXT    NOT NULL DEFAULT '',
    ip          TEXT    NOT NULL DEFAULT '',
    details     TEXT    NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_events_at ON audit_events (at);

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
