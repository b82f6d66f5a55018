-- Import batches: every bulk file applied, with its rows, so that it can be reported after
-- and undone. Memberships an import adds carry the source import:<batch> in group_members;
-- the enrolments and course-group places it adds or removes are listed in import_changes.
CREATE TABLE import_batches (
    id         INTEGER PRIMARY KEY,
    format     TEXT    NOT NULL,                    -- moodle | tsv | groups | enrolments
    options    TEXT    NOT NULL DEFAULT '{}',       -- JSON: upload type, matching, ...
    status     TEXT    NOT NULL DEFAULT 'applying', -- applying | applied | undone
    created_by BIGINT,                              -- the user who ran it; NULL: command line or token
    created    INTEGER NOT NULL DEFAULT 0,
    updated    INTEGER NOT NULL DEFAULT 0,
    enrolled   INTEGER NOT NULL DEFAULT 0,
    skipped    INTEGER NOT NULL DEFAULT 0,
    errors     INTEGER NOT NULL DEFAULT 0,
    created_at BIGINT  NOT NULL,
    applied_at BIGINT,
    undone_at  BIGINT
);

-- One row per line of the file: what happened to it. user_id has no foreign key: undoing a
-- batch deletes the accounts it created, and the report stays.
CREATE TABLE import_rows (
    batch_id BIGINT  NOT NULL REFERENCES import_batches (id) ON DELETE CASCADE,
    line     INTEGER NOT NULL,
    action   TEXT    NOT NULL,                      -- create | update | enrol | unenrol | skip | error
    user_id  BIGINT,
    group_id BIGINT,                                -- groups format: the group created
    before   TEXT    NOT NULL DEFAULT '',           -- update: JSON of the changed columns before
    message  TEXT    NOT NULL DEFAULT '',           -- errors and notes, one per line
    PRIMARY KEY (batch_id, line)
);

-- Enrolments and course-group places an import added (kind enrol, course_group) or removed
-- (kind unenrol, with what undo puts back).
CREATE TABLE import_changes (
    batch_id  BIGINT  NOT NULL REFERENCES import_batches (id) ON DELETE CASCADE,
    kind      TEXT    NOT NULL,                     -- enrol | unenrol | course_group
    course_id BIGINT  NOT NULL,
    ref_id    BIGINT  NOT NULL,                     -- the method (enrol, unenrol) or course group
    user_id   BIGINT  NOT NULL,
    role      TEXT    NOT NULL DEFAULT '',
    status    TEXT    NOT NULL DEFAULT 'active',
    starts_at BIGINT,
    ends_at   BIGINT
);
CREATE INDEX import_changes_batch ON import_changes (batch_id);
