-- The participants list of a course, folded per person (internal/course, participants.go):
-- what the list filters and sorts on, with each sort's position precomputed, so that a page
-- reads one course's rows by an index instead of folding its enrolments and sorting its people
-- on every request. Writes do not keep it row by row: they mark the course stale
-- (course_participants_state.stale), a statement that changes nothing when the course is
-- already marked; the next list of a stale course rebuilds its rows in one statement.
CREATE TABLE course_participants_state (
    course_id   INTEGER PRIMARY KEY REFERENCES courses (id) ON DELETE CASCADE, -- the rowid: one lookup
    stale       BOOLEAN NOT NULL DEFAULT true,
    built_at    BIGINT  NOT NULL DEFAULT 0,
    -- The first start or end of an enrolment after built_at: the statuses hold until then.
    valid_until BIGINT,
    total       INTEGER NOT NULL DEFAULT 0 -- the course's rows
);

-- Positions: each sort's order as a number (ties broken as the list breaks them: by last name,
-- first name, and id in the sort's direction), with an index each, so that a page is the first
-- rows of an index. Only the last access changes between rebuilds (course_access's triggers
-- write it here); its sort reads (access, pos) or (access, dpos).
CREATE TABLE course_participants (
    course_id BIGINT  NOT NULL REFERENCES courses (id) ON DELETE CASCADE,
    user_id   BIGINT  NOT NULL,
    st        INTEGER NOT NULL, -- 2 active, 1 not current, 0 suspended (at built_at)
    pos       INTEGER NOT NULL, -- last name, first name, id
    dpos      INTEGER NOT NULL, -- minus the position by last name, first name, id descending
    fpos      INTEGER NOT NULL, -- first name, last name, id
    epos      INTEGER NOT NULL, -- address, id
    ra        INTEGER NOT NULL, -- least role, then names; rd: descending
    rd        INTEGER NOT NULL,
    ma        INTEGER NOT NULL, -- least method id
    md        INTEGER NOT NULL,
    ga        INTEGER NOT NULL, -- first course group's name, people in none last
    gd        INTEGER NOT NULL,
    sa        INTEGER NOT NULL, -- status
    sd        INTEGER NOT NULL,
    access    BIGINT  NOT NULL, -- course_access.last_access_at; never: 9223372036854775807
    ln        TEXT    NOT NULL, -- lower(last_name)
    fn        TEXT    NOT NULL, -- lower(first_name)
    email     TEXT    NOT NULL, -- email_norm
    username  TEXT    NOT NULL,
    -- What a search reads: fn || ' ' || ln, email and username, joined by the character 1.
    search    TEXT    NOT NULL,
    roles     TEXT    NOT NULL, -- ',role,role,'
    methods   TEXT    NOT NULL, -- ',id,id,'
    mtypes    TEXT    NOT NULL, -- ',type,type,'
    groups    TEXT    NOT NULL, -- ',id,id,' (',,' in none)
    PRIMARY KEY (course_id, user_id)
) WITHOUT ROWID;
CREATE INDEX course_participants_pos ON course_participants (course_id, pos);
CREATE INDEX course_participants_fpos ON course_participants (course_id, fpos);
CREATE INDEX course_participants_epos ON course_participants (course_id, epos);
CREATE INDEX course_participants_ra ON course_participants (course_id, ra);
CREATE INDEX course_participants_rd ON course_participants (course_id, rd);
CREATE INDEX course_participants_ma ON course_participants (course_id, ma);
CREATE INDEX course_participants_md ON course_participants (course_id, md);
CREATE INDEX course_participants_ga ON course_participants (course_id, ga);
CREATE INDEX course_participants_gd ON course_participants (course_id, gd);
CREATE INDEX course_participants_sa ON course_participants (course_id, sa);
CREATE INDEX course_participants_sd ON course_participants (course_id, sd);
CREATE INDEX course_participants_access ON course_participants (course_id, access, pos);
CREATE INDEX course_participants_daccess ON course_participants (course_id, access, dpos);

INSERT INTO course_participants_state (course_id) SELECT id FROM courses;

CREATE TRIGGER course_participants_course AFTER INSERT ON courses
BEGIN
    INSERT INTO course_participants_state (course_id) VALUES (NEW.id);
END;
-- Enrolments added: no trigger. A row trigger cost a sync adding 500,000 enrolments about 2 s
-- (a third of its time); the course package's two inserts (EnrolManyTx, a method's sync) mark
-- the courses they enrolled people in, once a statement (internal/course, markStale).
CREATE TRIGGER course_participants_enrol_delete AFTER DELETE ON course_enrolments
BEGIN
    UPDATE course_participants_state SET stale = true WHERE course_id = OLD.course_id AND NOT stale;
END;
CREATE TRIGGER course_participants_enrol_update AFTER UPDATE OF course_id, method_id, user_id, role, status, starts_at, ends_at
ON course_enrolments
WHEN NEW.course_id IS NOT OLD.course_id OR NEW.method_id IS NOT OLD.method_id OR NEW.user_id IS NOT OLD.user_id
    OR NEW.role IS NOT OLD.role OR NEW.status IS NOT OLD.status OR NEW.starts_at IS NOT OLD.starts_at
    OR NEW.ends_at IS NOT OLD.ends_at
BEGIN
    UPDATE course_participants_state SET stale = true WHERE course_id IN (OLD.course_id, NEW.course_id) AND NOT stale;
END;
CREATE TRIGGER course_participants_member_insert AFTER INSERT ON course_group_members
BEGIN
    UPDATE course_participants_state SET stale = true
    WHERE course_id = (SELECT course_id FROM course_groups WHERE id = NEW.course_group_id) AND NOT stale;
END;
CREATE TRIGGER course_participants_member_delete AFTER DELETE ON course_group_members
BEGIN
    UPDATE course_participants_state SET stale = true
    WHERE course_id = (SELECT course_id FROM course_groups WHERE id = OLD.course_group_id) AND NOT stale;
END;
CREATE TRIGGER course_participants_member_update AFTER UPDATE OF course_group_id, user_id ON course_group_members
BEGIN
    UPDATE course_participants_state SET stale = true
    WHERE course_id IN (SELECT course_id FROM course_groups WHERE id IN (OLD.course_group_id, NEW.course_group_id)) AND NOT stale;
END;
CREATE TRIGGER course_participants_group_update AFTER UPDATE OF name, course_id ON course_groups
BEGIN
    UPDATE course_participants_state SET stale = true WHERE course_id IN (OLD.course_id, NEW.course_id) AND NOT stale;
END;
CREATE TRIGGER course_participants_group_delete AFTER DELETE ON course_groups
BEGIN
    UPDATE course_participants_state SET stale = true WHERE course_id = OLD.course_id AND NOT stale;
END;
CREATE TRIGGER course_participants_method_update AFTER UPDATE OF type ON course_methods
WHEN NEW.type IS NOT OLD.type
BEGIN
    UPDATE course_participants_state SET stale = true WHERE course_id = NEW.course_id AND NOT stale;
END;
-- A person's names, address or username: every course they are enrolled in.
CREATE TRIGGER course_participants_user_update AFTER UPDATE OF first_name, last_name, email_norm, username ON users
WHEN NEW.first_name IS NOT OLD.first_name OR NEW.last_name IS NOT OLD.last_name
    OR NEW.email_norm IS NOT OLD.email_norm OR NEW.username IS NOT OLD.username
BEGIN
    UPDATE course_participants_state SET stale = true
    WHERE course_id IN (SELECT course_id FROM course_enrolments WHERE user_id = NEW.id) AND NOT stale;
END;
-- The last access changes on every visit: it is written into the person's row (when the
-- course has one) rather than marking the course.
CREATE TRIGGER course_participants_access_insert AFTER INSERT ON course_access
BEGIN
    UPDATE course_participants SET access = NEW.last_access_at WHERE course_id = NEW.course_id AND user_id = NEW.user_id;
END;
CREATE TRIGGER course_participants_access_update AFTER UPDATE OF last_access_at ON course_access
BEGIN
    UPDATE course_participants SET access = NEW.last_access_at WHERE course_id = NEW.course_id AND user_id = NEW.user_id;
END;
CREATE TRIGGER course_participants_access_delete AFTER DELETE ON course_access
BEGIN
    UPDATE course_participants SET access = 9223372036854775807 WHERE course_id = OLD.course_id AND user_id = OLD.user_id;
END;
