-- Single sign-on: identity providers (CAS, OpenID Connect), the identities they vouch for,
-- the login flows under way and the CAS tickets of open sessions (for single logout).
CREATE TABLE sso_providers (
    id         INTEGER PRIMARY KEY,
    kind       TEXT    NOT NULL,                   -- cas | oidc
    slug       TEXT    NOT NULL UNIQUE,            -- in URLs: /sso/{slug}/login
    name       TEXT    NOT NULL,                   -- the button on the login page
    enabled    BOOLEAN NOT NULL DEFAULT true,
    settings   TEXT    NOT NULL DEFAULT '{}',      -- JSON: server, client, mapping, rules, switches
    created_at BIGINT  NOT NULL,
    updated_at BIGINT  NOT NULL
);

-- A person as a provider knows them (CAS user, OIDC sub): how a returning person is found,
-- whatever their email has become since.
CREATE TABLE sso_identities (
    id            INTEGER PRIMARY KEY,
    provider_id   BIGINT  NOT NULL REFERENCES sso_providers (id) ON DELETE CASCADE,
    subject       TEXT    NOT NULL,
    user_id       BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at    BIGINT  NOT NULL,
    last_login_at BIGINT  NOT NULL,
    UNIQUE (provider_id, subject),
    UNIQUE (provider_id, user_id)
);
CREATE INDEX sso_identities_user ON sso_identities (user_id);

-- A login started at /sso/{slug}/login: state (SHA-256), nonce (SHA-256), the PKCE verifier
-- and where to go after. Single use, short-lived.
CREATE TABLE sso_flows (
    state_hash  TEXT    PRIMARY KEY,
    provider_id BIGINT  NOT NULL REFERENCES sso_providers (id) ON DELETE CASCADE,
    nonce_hash  TEXT    NOT NULL DEFAULT '',
    verifier    TEXT    NOT NULL DEFAULT '',
    next        TEXT    NOT NULL DEFAULT '/',
    created_at  BIGINT  NOT NULL,
    expires_at  BIGINT  NOT NULL,
    used_at     BIGINT
);
CREATE INDEX sso_flows_expires ON sso_flows (expires_at);

-- The CAS service ticket (SHA-256) that opened a session, so that the CAS server's single
-- logout request (SessionIndex = ticket) ends that session. Goes with the session.
CREATE TABLE sso_cas_sessions (
    ticket_hash  TEXT   PRIMARY KEY,
    provider_id  BIGINT NOT NULL REFERENCES sso_providers (id) ON DELETE CASCADE,
    session_hash TEXT   NOT NULL REFERENCES sessions (id_hash) ON DELETE CASCADE,
    user_id      BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   BIGINT NOT NULL
);
CREATE INDEX sso_cas_sessions_session ON sso_cas_sessions (session_hash);
