-- Configured sources of the student-information-system sync: platform administrators name a
-- source (its enrolments are those its course_methods of type 'sis' carry under that name),
-- say where it is read from, what happens to people it no longer lists, and when it runs.
CREATE TABLE sis_sources (
    id              INTEGER PRIMARY KEY,
    name            TEXT    NOT NULL UNIQUE,
    kind            TEXT    NOT NULL,                      -- csv | oneroster | sql
    location        TEXT    NOT NULL,                      -- a path, or for sql a postgres:// URL (a secret)
    query           TEXT    NOT NULL DEFAULT '',           -- sql: returns course, user, role[, group, starts, ends]
    action          TEXT    NOT NULL DEFAULT 'suspend',    -- suspend | unenrol | keep
    threshold       REAL    NOT NULL DEFAULT 10,           -- percent
    schedule        TEXT    NOT NULL DEFAULT '0 2 * * *',  -- 5-field cron expression, UTC
    create_accounts BOOLEAN NOT NULL DEFAULT false,
    account_auth    TEXT    NOT NULL DEFAULT 'cas',        -- cas | oidc: the auth of created accounts
    enabled         BOOLEAN NOT NULL DEFAULT true,
    last_checked_at BIGINT,                                -- the scheduler's last look (Unix seconds)
    created_at      BIGINT  NOT NULL,
    updated_at      BIGINT  NOT NULL
);
