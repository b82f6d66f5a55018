-- The student-information-system sync: one row per run of a source (a CSV file, a OneRoster
-- bundle, a configured name), with its report; and, on each enrolment, the run that last
-- wrote it, so an enrolment can say which run made it.
--
-- A source's enrolments are those of the course_methods of type 'sis' whose name is the
-- source's name (one such method per course and source, created by the first run that enrols
-- someone in the course).
CREATE TABLE sync_runs (
    id          INTEGER PRIMARY KEY,
    source      TEXT    NOT NULL,                 -- the source's name
    status      TEXT    NOT NULL,                 -- running | done | dry_run | stopped | failed
    dry_run     BOOLEAN NOT NULL DEFAULT false,
    action      TEXT    NOT NULL DEFAULT 'suspend', -- suspend | unenrol | keep
    added       INTEGER NOT NULL DEFAULT 0,
    changed     INTEGER NOT NULL DEFAULT 0,
    removed     INTEGER NOT NULL DEFAULT 0,
    skipped     INTEGER NOT NULL DEFAULT 0,
    message     TEXT    NOT NULL DEFAULT '',      -- why it stopped or failed
    report      TEXT    NOT NULL DEFAULT '{}',    -- JSON: skipped rows with file, line and reason
    started_at  BIGINT  NOT NULL,
    finished_at BIGINT,
    duration_ms BIGINT  NOT NULL DEFAULT 0
);
CREATE INDEX sync_runs_source ON sync_runs (source, id);
-- One run at a time per source.
CREATE UNIQUE INDEX sync_runs_one_running ON sync_runs (source) WHERE status = 'running';

ALTER TABLE course_enrolments ADD COLUMN sync_run_id BIGINT;
