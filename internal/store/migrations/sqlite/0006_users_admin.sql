-- Users administration: custom profile field definitions, closed billing periods, deletion
-- notices, the periodic tasks of `roster serve`, and indexes for the audit log.

-- Custom profile fields, defined by platform administrators. A user's values live in
-- users.custom_fields (a JSON object keyed by profile_fields.key).
CREATE TABLE profile_fields (
    id         INTEGER PRIMARY KEY,
    key        TEXT    NOT NULL UNIQUE,               -- [a-z0-9_], the JSON key
    label      TEXT    NOT NULL,
    kind       TEXT    NOT NULL,                      -- text | choice | date
    options    TEXT    NOT NULL DEFAULT '[]',         -- JSON array of strings, for choice
    required   BOOLEAN NOT NULL DEFAULT false,
    sort_order INTEGER NOT NULL DEFAULT 0,
    created_at BIGINT  NOT NULL,
    updated_at BIGINT  NOT NULL
);

-- Billing periods that are over: users.activated_at/deactivated_at hold the current (or last)
-- period; when a suspended account is reactivated, the period that ended is kept here, so
-- the months it covered stay billed and the months it was suspended stay free.
CREATE TABLE billing_periods (
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    started_at BIGINT NOT NULL,
    ended_at   BIGINT NOT NULL,
    PRIMARY KEY (user_id, started_at)
);
CREATE INDEX billing_periods_ended ON billing_periods (ended_at, started_at);

-- When the platform administrators were told that this account's deletion date is near;
-- cleared when the date changes.
ALTER TABLE users ADD COLUMN deletion_noticed_at BIGINT;
CREATE INDEX users_delete_at ON users (delete_at) WHERE delete_at IS NOT NULL AND deleted_at IS NULL;
CREATE INDEX users_billing ON users (activated_at, deactivated_at);

-- The periodic tasks: one row per task, claimed by moving next_run_at past now, so that
-- several `roster serve` never run the same task at once.
CREATE TABLE scheduled_tasks (
    name        TEXT    PRIMARY KEY,
    next_run_at BIGINT  NOT NULL,
    started_at  BIGINT,
    finished_at BIGINT,
    runs        BIGINT  NOT NULL DEFAULT 0,
    last_error  TEXT    NOT NULL DEFAULT ''
);

CREATE INDEX audit_events_actor ON audit_events (actor_id, id);
CREATE INDEX audit_events_target ON audit_events (target_id, id);
CREATE INDEX audit_events_action ON audit_events (action, id);
