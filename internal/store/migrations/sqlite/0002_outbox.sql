-- Every email Roster sends, written in the same transaction as the change that causes it.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    template        TEXT    NOT NULL,                 -- password_reset, account_setup, invitation, ...
    to_addr         TEXT    NOT NULL,
    to_name         TEXT    NOT NULL DEFAULT '',
    user_id         BIGINT,
    language        TEXT    NOT NULL DEFAULT 'en',
    subject         TEXT    NOT NULL,
    text_body       TEXT    NOT NULL,
    html_body       TEXT    NOT NULL,
    status          TEXT    NOT NULL DEFAULT 'queued', -- queued | sent | failed
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT    NOT NULL DEFAULT '',
    created_at      BIGINT  NOT NULL,
    next_attempt_at BIGINT  NOT NULL,                 -- not before this time
    claimed_until   BIGINT  NOT NULL DEFAULT 0,       -- a worker holds it until then
    sent_at         BIGINT
);
-- The worker's queue: only queued messages, oldest due first (a claim moves next_attempt_at
-- to the claim's end, so claimed messages leave the due range).
CREATE INDEX outbox_due ON outbox (next_attempt_at, id) WHERE status = 'queued';
CREATE INDEX outbox_to ON outbox (lower(to_addr), id); -- admins look mail up by address
