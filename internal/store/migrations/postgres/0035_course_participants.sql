-- The participants list of a course, folded per person (internal/course, participants.go):
-- what the list filters and sorts on, with each sort's position precomputed, so that a page
-- reads one course's rows by an index instead of folding its enrolments and sorting its people
-- on every request. Writes do not keep it row by row: they mark the course stale
-- (course_participants_state.stale), a statement that changes nothing when the course is
-- already marked; the next list of a stale course rebuilds its rows in one statement.
--
-- Concurrency: every write that marks a course first takes a KEY SHARE lock on its state row
-- (held to its commit; writers do not block each other). A rebuild takes the row FOR UPDATE
-- SKIP LOCKED: while a write of the course is in progress it does not rebuild (the list is
-- then read from the enrolments, as before), and a write that starts during a rebuild waits
-- for it and marks the course again. So a write never lands unseen between a rebuild's read
-- and its clearing of the mark.
CREATE TABLE course_participants_state (
    course_id   BIGINT  PRIMARY KEY REFERENCES courses (id) ON DELETE CASCADE,
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
);
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

CREATE FUNCTION course_participants_course() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO course_participants_state (course_id) SELECT id FROM new_rows ON CONFLICT DO NOTHING;
    RETURN NULL;
END $$;
CREATE TRIGGER course_participants_course AFTER INSERT ON courses
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION course_participants_course();

-- course_participants_mark marks the courses given stale, after locking their state rows.
CREATE FUNCTION course_participants_mark(ids BIGINT[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM course_participants_state WHERE course_id = ANY (ids) ORDER BY course_id FOR KEY SHARE;
    UPDATE course_participants_state SET stale = true WHERE course_id = ANY (ids) AND NOT stale;
END $$;

CREATE FUNCTION course_participants_enrol() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM course_participants_mark(ARRAY(SELECT DISTINCT course_id FROM changed_rows));
    RETURN NULL;
END $$;
CREATE TRIGGER course_participants_enrol_insert AFTER INSERT ON course_enrolments
    REFERENCING NEW TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION course_participants_enrol();
CREATE TRIGGER course_participants_enrol_delete AFTER DELETE ON course_enrolments
    REFERENCING OLD TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION course_participants_enrol();

CREATE FUNCTION course_participants_enrol_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM course_participants_mark(ARRAY(
        SELECT o.course_id FROM old_rows o JOIN new_rows n ON n.id = o.id
        WHERE (n.course_id, n.method_id, n.user_id, n.role, n.status, n.starts_at, n.ends_at)
            IS DISTINCT FROM (o.course_id, o.method_id, o.user_id, o.role, o.status, o.starts_at, o.ends_at)
        UNION SELECT n.course_id FROM old_rows o JOIN new_rows n ON n.id = o.id WHERE n.course_id <> o.course_id));
    RETURN NULL;
END $$;
CREATE TRIGGER course_participants_enrol_update AFTER UPDATE ON course_enrolments
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION course_participants_enrol_changed();

CREATE FUNCTION course_participants_members() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM course_participants_mark(ARRAY(SELECT DISTINCT g.course_id FROM changed_rows c
        JOIN course_groups g ON g.id = c.course_group_id));
    RETURN NULL;
END $$;
CREATE TRIGGER course_participants_member_insert AFTER INSERT ON course_group_members
    REFERENCING NEW TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION course_participants_members();
CREATE TRIGGER course_participants_member_delete AFTER DELETE ON course_group_members
    REFERENCING OLD TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION course_participants_members();

CREATE FUNCTION course_participants_members_moved() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM course_participants_mark(ARRAY(SELECT g.course_id FROM old_rows c JOIN course_groups g ON g.id = c.course_group_id
        UNION SELECT g.course_id FROM new_rows c JOIN course_groups g ON g.id = c.course_group_id));
    RETURN NULL;
END $$;
CREATE TRIGGER course_participants_member_update AFTER UPDATE ON course_group_members
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION course_participants_members_moved();

-- A course group renamed or deleted (its members go with it: their rows name no group any more).
CREATE FUNCTION course_participants_groups() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM course_participants_mark(ARRAY(SELECT DISTINCT course_id FROM changed_rows));
    RETURN NULL;
END $$;
CREATE TRIGGER course_participants_group_update AFTER UPDATE ON course_groups
    REFERENCING NEW TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION course_participants_groups();
CREATE TRIGGER course_participants_group_delete AFTER DELETE ON course_groups
    REFERENCING OLD TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION course_participants_groups();

CREATE FUNCTION course_participants_method() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.type IS DISTINCT FROM OLD.type THEN
        PERFORM course_participants_mark(ARRAY[NEW.course_id]);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER course_participants_method_update AFTER UPDATE OF type ON course_methods
    FOR EACH ROW EXECUTE FUNCTION course_participants_method();

-- A person's names, address or username: every course they are enrolled in.
CREATE FUNCTION course_participants_users() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM course_participants_mark(ARRAY(SELECT DISTINCT e.course_id FROM old_rows o JOIN new_rows n ON n.id = o.id
        JOIN course_enrolments e ON e.user_id = n.id
        WHERE (n.first_name, n.last_name, n.email_norm, n.username)
            IS DISTINCT FROM (o.first_name, o.last_name, o.email_norm, o.username)));
    RETURN NULL;
END $$;
CREATE TRIGGER course_participants_user_update AFTER UPDATE ON users
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION course_participants_users();

-- The last access changes on every visit: it is written into the person's row (when the
-- course has one) rather than marking the course.
CREATE FUNCTION course_participants_access() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM course_participants_state WHERE course_id IN (SELECT course_id FROM changed_rows)
        ORDER BY course_id FOR KEY SHARE;
    IF TG_OP = 'DELETE' THEN
        UPDATE course_participants p SET access = 9223372036854775807 FROM changed_rows c
        WHERE p.course_id = c.course_id AND p.user_id = c.user_id;
    ELSE
        UPDATE course_participants p SET access = c.last_access_at FROM changed_rows c
        WHERE p.course_id = c.course_id AND p.user_id = c.user_id AND p.access IS DISTINCT FROM c.last_access_at;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER course_participants_access_insert AFTER INSERT ON course_access
    REFERENCING NEW TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION course_participants_access();
CREATE TRIGGER course_participants_access_update AFTER UPDATE ON course_access
    REFERENCING NEW TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION course_participants_access();
CREATE TRIGGER course_participants_access_delete AFTER DELETE ON course_access
    REFERENCING OLD TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION course_participants_access();
