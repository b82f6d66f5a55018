-- roster:sqlite-autoincrement
-- Ids are never given again: after this SQL the runner rebuilds every table whose id is an
-- INTEGER PRIMARY KEY without AUTOINCREMENT (see store.rebuildAutoincrement). PostgreSQL
-- identity columns never reuse a value.

-- The import that created an account: not billable while that import is still applying, and
-- deleted for good if it does not complete (account.PurgeImportTx).
ALTER TABLE users ADD COLUMN created_by_import BIGINT;
CREATE INDEX users_created_by_import ON users (created_by_import) WHERE created_by_import IS NOT NULL;

-- An import being applied is a lease its process renews; when it runs out the process is gone
-- and any instance rolls the import back (bulk.Service.Recover).
ALTER TABLE import_batches ADD COLUMN alive_until BIGINT NOT NULL DEFAULT 0;

-- Each instance's last successful health check: /healthz commits a write here, so that a full
-- disk or a read-only database shows in the health check and not only in users' requests.
CREATE TABLE instance_heartbeats (
    instance TEXT   PRIMARY KEY,
    seen_at  BIGINT NOT NULL
);

-- Files previewed and waiting for Apply (owner: bulk): kept in the database so that any
-- instance can apply what another previewed. The token is shown once; only its hash is kept.
CREATE TABLE import_uploads (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    token_hash   TEXT    NOT NULL UNIQUE,
    user_id      BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    session_hash TEXT    NOT NULL,
    options      TEXT    NOT NULL,
    size         BIGINT  NOT NULL,
    taken        BOOLEAN NOT NULL DEFAULT false,
    created_at   BIGINT  NOT NULL,
    expires_at   BIGINT  NOT NULL
);
CREATE INDEX import_uploads_expiry ON import_uploads (expires_at);
CREATE TABLE import_upload_chunks (
    upload_id BIGINT  NOT NULL REFERENCES import_uploads (id) ON DELETE CASCADE,
    seq       INTEGER NOT NULL,
    data      BLOB    NOT NULL,
    PRIMARY KEY (upload_id, seq)
);

-- A sync run holds its source with a lease its process renews (sis.RunLease): the run of a
-- process that died is taken over once the lease runs out, not after hours.
ALTER TABLE sync_runs ADD COLUMN alive_until BIGINT NOT NULL DEFAULT 0;

-- An email's Message-ID, given at its first claim and kept for every attempt: a message sent
-- again after a crash carries the same one, whatever the configuration has become.
ALTER TABLE outbox ADD COLUMN message_id TEXT NOT NULL DEFAULT '';
