-- Courses, course roles, course groups, enrolment methods, enrolments and the queue that keeps
-- synced methods (group sync, meta links) following their source within seconds.
--
-- Roles are rows, not constants, so that platform administrators can name their own (for
-- instance "Secretariat") with the rights of one of the four built-in roles (base_role).
CREATE TABLE course_roles (
    shortname  TEXT    PRIMARY KEY,                 -- teacher | non_editing_teacher | student | guest | custom
    name       TEXT    NOT NULL,
    base_role  TEXT    NOT NULL,                    -- the built-in role whose rights it has
    builtin    BOOLEAN NOT NULL DEFAULT false,
    sort_order INTEGER NOT NULL DEFAULT 100,
    created_at BIGINT  NOT NULL
);
INSERT INTO course_roles (shortname, name, base_role, builtin, sort_order, created_at) VALUES
    ('teacher', 'Teacher', 'teacher', true, 10, 0),
    ('non_editing_teacher', 'Non-editing teacher', 'non_editing_teacher', true, 20, 0),
    ('student', 'Student', 'student', true, 30, 0),
    ('guest', 'Guest', 'guest', true, 40, 0);

CREATE TABLE courses (
    id         INTEGER PRIMARY KEY,
    shortname  TEXT    NOT NULL,
    fullname   TEXT    NOT NULL,
    visible    BOOLEAN NOT NULL DEFAULT true,
    starts_at  BIGINT,                              -- NULL: open; later: holds invitations until then
    created_at BIGINT  NOT NULL,
    updated_at BIGINT  NOT NULL
);
CREATE UNIQUE INDEX courses_shortname ON courses (lower(shortname));

-- Named subsets of a course's participants.
CREATE TABLE course_groups (
    id         INTEGER PRIMARY KEY,
    course_id  BIGINT  NOT NULL REFERENCES courses (id) ON DELETE CASCADE,
    name       TEXT    NOT NULL,
    created_at BIGINT  NOT NULL
);
CREATE UNIQUE INDEX course_groups_name ON course_groups (course_id, name);

-- One row per method instance. The columns of each type are used by it alone:
-- self: enrol_key, max_enrolled, enrol_starts_at, enrol_ends_at;
-- group_sync: group_id, subgroups, group_role, course_group_id, removal;
-- meta: linked_course_id, linked_roles (comma-separated, '' for every role), removal.
-- Guest access is an enabled method of type guest (at most one per course).
CREATE TABLE course_methods (
    id               INTEGER PRIMARY KEY,
    course_id        BIGINT  NOT NULL REFERENCES courses (id) ON DELETE CASCADE,
    type             TEXT    NOT NULL,              -- manual | self | group_sync | meta | sis | guest | invitation
    name             TEXT    NOT NULL DEFAULT '',
    enabled          BOOLEAN NOT NULL DEFAULT true,
    role             TEXT    NOT NULL DEFAULT 'student' REFERENCES course_roles (shortname),
    send_welcome     BOOLEAN NOT NULL DEFAULT false,
    enrol_period     BIGINT  NOT NULL DEFAULT 0,    -- seconds; 0: no end by default
    enrol_key        TEXT    NOT NULL DEFAULT '',
    max_enrolled     INTEGER NOT NULL DEFAULT 0,    -- 0: no cap
    enrol_starts_at  BIGINT,
    enrol_ends_at    BIGINT,
    group_id         BIGINT  REFERENCES groups (id) ON DELETE SET NULL,
    subgroups        BOOLEAN NOT NULL DEFAULT false,
    group_role       TEXT    NOT NULL DEFAULT '',   -- '' every member; else one group role
    course_group_id  BIGINT  REFERENCES course_groups (id) ON DELETE SET NULL,
    linked_course_id BIGINT  REFERENCES courses (id) ON DELETE CASCADE,
    linked_roles     TEXT    NOT NULL DEFAULT '',
    removal          TEXT    NOT NULL DEFAULT 'unenrol', -- unenrol | suspend
    created_at       BIGINT  NOT NULL,
    updated_at       BIGINT  NOT NULL
);
CREATE INDEX course_methods_course ON course_methods (course_id);
CREATE INDEX course_methods_group ON course_methods (group_id) WHERE group_id IS NOT NULL;
CREATE INDEX course_methods_linked ON course_methods (linked_course_id) WHERE linked_course_id IS NOT NULL;
CREATE UNIQUE INDEX course_methods_one_guest ON course_methods (course_id) WHERE type = 'guest';
CREATE UNIQUE INDEX course_methods_one_invitation ON course_methods (course_id) WHERE type = 'invitation';

-- user × method × role. A person enrolled by several methods has several rows; the
-- participants list folds them into one. sync_suspended marks rows a synced method suspended
-- (removal = suspend), so that coming back into the source reactivates them and nothing else.
CREATE TABLE course_enrolments (
    id             INTEGER PRIMARY KEY,
    course_id      BIGINT  NOT NULL REFERENCES courses (id) ON DELETE CASCADE,
    method_id      BIGINT  NOT NULL REFERENCES course_methods (id) ON DELETE CASCADE,
    user_id        BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role           TEXT    NOT NULL REFERENCES course_roles (shortname),
    status         TEXT    NOT NULL DEFAULT 'active', -- active | suspended
    starts_at      BIGINT,
    ends_at        BIGINT,
    sync_suspended BOOLEAN NOT NULL DEFAULT false,
    created_at     BIGINT  NOT NULL,
    updated_at     BIGINT  NOT NULL
);
CREATE UNIQUE INDEX course_enrolments_method_user ON course_enrolments (method_id, user_id);
-- Covers the participants list: folding a course's enrolments per person reads the index alone.
CREATE INDEX course_enrolments_course_user ON course_enrolments (course_id, user_id, status, starts_at, ends_at, role, method_id);
CREATE INDEX course_enrolments_user ON course_enrolments (user_id, course_id);

-- Course group membership with its source: method_id 0 for a person placed by hand, else the
-- group_sync method that placed them (and removes them).
CREATE TABLE course_group_members (
    course_group_id BIGINT NOT NULL REFERENCES course_groups (id) ON DELETE CASCADE,
    user_id         BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    method_id       BIGINT NOT NULL DEFAULT 0,
    created_at      BIGINT NOT NULL,
    PRIMARY KEY (course_group_id, user_id, method_id)
);
CREATE INDEX course_group_members_user ON course_group_members (user_id);
CREATE INDEX course_group_members_method ON course_group_members (method_id, user_id);

-- Last access of a person to a course (the participants list shows it and filters on it).
CREATE TABLE course_access (
    course_id      BIGINT NOT NULL REFERENCES courses (id) ON DELETE CASCADE,
    user_id        BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    last_access_at BIGINT NOT NULL,
    PRIMARY KEY (course_id, user_id)
);

-- Synced methods whose source changed. Triggers write here whatever changes group_members
-- (pages, API, imports, SCIM, the nightly sync) or the enrolments a meta link follows; the
-- course sync follower reconciles each queued method and deletes its row.
CREATE TABLE course_sync_queue (
    method_id BIGINT PRIMARY KEY
);

-- SQLite triggers: INSERT ... WHERE NOT EXISTS rather than OR IGNORE, because the conflict
-- policy of the outer statement (a foreign-key action, an INSERT OR REPLACE) overrides the one
-- written in a trigger.
CREATE TRIGGER course_sync_group_insert AFTER INSERT ON group_members
BEGIN
    INSERT INTO course_sync_queue (method_id)
    SELECT DISTINCT m.id FROM group_paths p JOIN course_methods m ON m.group_id = p.ancestor_id
    WHERE p.descendant_id = NEW.group_id AND m.type = 'group_sync' AND (p.depth = 0 OR m.subgroups)
      AND NOT EXISTS (SELECT 1 FROM course_sync_queue q WHERE q.method_id = m.id);
END;
CREATE TRIGGER course_sync_group_delete AFTER DELETE ON group_members
BEGIN
    INSERT INTO course_sync_queue (method_id)
    SELECT DISTINCT m.id FROM group_paths p JOIN course_methods m ON m.group_id = p.ancestor_id
    WHERE p.descendant_id = OLD.group_id AND m.type = 'group_sync' AND (p.depth = 0 OR m.subgroups)
      AND NOT EXISTS (SELECT 1 FROM course_sync_queue q WHERE q.method_id = m.id);
END;
-- Recomputing propagation after a move or a visibility change moves rows from one group to
-- another with an UPDATE of group_id: both groups' methods are queued.
CREATE TRIGGER course_sync_group_update AFTER UPDATE OF group_id ON group_members
BEGIN
    INSERT INTO course_sync_queue (method_id)
    SELECT DISTINCT m.id FROM group_paths p JOIN course_methods m ON m.group_id = p.ancestor_id
    WHERE p.descendant_id IN (OLD.group_id, NEW.group_id) AND m.type = 'group_sync' AND (p.depth = 0 OR m.subgroups)
      AND NOT EXISTS (SELECT 1 FROM course_sync_queue q WHERE q.method_id = m.id);
END;
-- A group moved: the sub-tree of a method's group changed.
CREATE TRIGGER course_sync_paths_insert AFTER INSERT ON group_paths
BEGIN
    INSERT INTO course_sync_queue (method_id)
    SELECT DISTINCT id FROM course_methods WHERE group_id = NEW.ancestor_id AND type = 'group_sync' AND subgroups
      AND NOT EXISTS (SELECT 1 FROM course_sync_queue q WHERE q.method_id = course_methods.id);
END;
CREATE TRIGGER course_sync_paths_delete AFTER DELETE ON group_paths
BEGIN
    INSERT INTO course_sync_queue (method_id)
    SELECT DISTINCT id FROM course_methods WHERE group_id = OLD.ancestor_id AND type = 'group_sync' AND subgroups
      AND NOT EXISTS (SELECT 1 FROM course_sync_queue q WHERE q.method_id = course_methods.id);
END;
-- The method's group was deleted (group_id set to NULL) or changed.
CREATE TRIGGER course_sync_method_group AFTER UPDATE OF group_id ON course_methods
BEGIN
    INSERT INTO course_sync_queue (method_id) SELECT NEW.id
    WHERE NOT EXISTS (SELECT 1 FROM course_sync_queue q WHERE q.method_id = NEW.id);
END;
CREATE TRIGGER course_sync_meta_insert AFTER INSERT ON course_enrolments
BEGIN
    INSERT INTO course_sync_queue (method_id)
    SELECT DISTINCT id FROM course_methods WHERE linked_course_id = NEW.course_id AND type = 'meta'
      AND NOT EXISTS (SELECT 1 FROM course_sync_queue q WHERE q.method_id = course_methods.id);
END;
CREATE TRIGGER course_sync_meta_delete AFTER DELETE ON course_enrolments
BEGIN
    INSERT INTO course_sync_queue (method_id)
    SELECT DISTINCT id FROM course_methods WHERE linked_course_id = OLD.course_id AND type = 'meta'
      AND NOT EXISTS (SELECT 1 FROM course_sync_queue q WHERE q.method_id = course_methods.id);
END;
CREATE TRIGGER course_sync_meta_update AFTER UPDATE OF status, role ON course_enrolments
BEGIN
    INSERT INTO course_sync_queue (method_id)
    SELECT DISTINCT id FROM course_methods WHERE linked_course_id = NEW.course_id AND type = 'meta'
      AND NOT EXISTS (SELECT 1 FROM course_sync_queue q WHERE q.method_id = course_methods.id);
END;
