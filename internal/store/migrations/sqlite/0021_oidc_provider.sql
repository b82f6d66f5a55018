-- Roster as an OpenID Connect provider (internal/oidcp): the registered clients, the keys that
-- sign ID tokens and access tokens, and the state of logins and tokens, shared by every
-- instance. Bearer secrets (client secrets, auth request ids, codes, refresh tokens) are stored
-- as SHA-256 only.
CREATE TABLE oidc_clients (
    id                        INTEGER PRIMARY KEY AUTOINCREMENT,
    client_id                 TEXT    NOT NULL UNIQUE,
    secret_hash               TEXT    NOT NULL DEFAULT '',   -- '' for public clients (PKCE)
    public                    BOOLEAN NOT NULL DEFAULT false,
    name                      TEXT    NOT NULL,
    redirect_uris             TEXT    NOT NULL DEFAULT '[]', -- JSON arrays
    post_logout_redirect_uris TEXT    NOT NULL DEFAULT '[]',
    grant_types               TEXT    NOT NULL DEFAULT '[]',
    scopes                    TEXT    NOT NULL DEFAULT '[]',
    group_id                  BIGINT  NOT NULL DEFAULT 0,    -- client credentials: subtree; 0 = all
    created_at                BIGINT  NOT NULL,
    updated_at                BIGINT  NOT NULL
);

-- Signing keys (RSA, PKCS#8 PEM, sealed with the site's secret key: 'sealed:' + base64). A key signs from created_at until a newer key exists; it
-- stays in the JWKS until retire_at, when every token it signed has expired.
CREATE TABLE oidc_keys (
    kid         TEXT   PRIMARY KEY,
    private_pem TEXT   NOT NULL,                             -- 'sealed:...' (PEM in clear only without a key)
    created_at  BIGINT NOT NULL,
    retire_at   BIGINT                                       -- NULL while it signs
);

-- Authorization requests between /oidc/authorize and the code exchange.
CREATE TABLE oidc_auth_requests (
    id_hash        TEXT    PRIMARY KEY,
    client_id      TEXT    NOT NULL,
    redirect_uri   TEXT    NOT NULL,
    scopes         TEXT    NOT NULL DEFAULT '[]',
    state          TEXT    NOT NULL DEFAULT '',
    nonce          TEXT    NOT NULL DEFAULT '',
    response_type  TEXT    NOT NULL,
    response_mode  TEXT    NOT NULL DEFAULT '',
    prompt         TEXT    NOT NULL DEFAULT '',
    challenge      TEXT    NOT NULL DEFAULT '',
    challenge_method TEXT  NOT NULL DEFAULT '',
    user_id        BIGINT,                                   -- set when the person has logged in
    auth_time      BIGINT,
    code_hash      TEXT    UNIQUE,
    code_used      BOOLEAN NOT NULL DEFAULT false,
    created_at     BIGINT  NOT NULL,
    expires_at     BIGINT  NOT NULL
);
CREATE INDEX oidc_auth_requests_expires ON oidc_auth_requests (expires_at);

-- Access tokens are JWTs; the row (by its jti) says whether it is still valid. Refresh tokens
-- are opaque, stored hashed, and replaced at every use.
CREATE TABLE oidc_tokens (
    id           TEXT    PRIMARY KEY,                        -- jti of the access token
    client_id    TEXT    NOT NULL,
    user_id      BIGINT,                                     -- NULL for client credentials
    scopes       TEXT    NOT NULL DEFAULT '[]',
    audience     TEXT    NOT NULL DEFAULT '[]',
    auth_time    BIGINT,
    refresh_hash TEXT    UNIQUE,
    refresh_expires_at BIGINT,
    code_hash    TEXT,                                       -- the code they came from: revoked if it is replayed
    created_at   BIGINT  NOT NULL,
    expires_at   BIGINT  NOT NULL
);
CREATE INDEX oidc_tokens_user ON oidc_tokens (user_id);
CREATE INDEX oidc_tokens_client ON oidc_tokens (client_id);
CREATE INDEX oidc_tokens_code ON oidc_tokens (code_hash);
