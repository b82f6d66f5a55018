-- The site's role map: role names that files from elsewhere (Moodle's flat enrolment file, its
-- "Upload users" role columns, its "upload enrolment methods" file) use, mapped to course roles.
-- Platform administrators edit it; a name it lacks must be a course role's shortname, or the
-- row that uses it is an error. The defaults are Moodle's standard role shortnames and ids.
CREATE TABLE course_role_map (
    name       TEXT   PRIMARY KEY,                                   -- lower case, as files write it
    role       TEXT   NOT NULL REFERENCES course_roles (shortname),
    updated_at BIGINT NOT NULL
);
INSERT INTO course_role_map (name, role, updated_at) VALUES
    ('student', 'student', 0),
    ('5', 'student', 0),
    ('teacher', 'non_editing_teacher', 0),
    ('noneditingteacher', 'non_editing_teacher', 0),
    ('4', 'non_editing_teacher', 0),
    ('editingteacher', 'teacher', 0),
    ('teacheredit', 'teacher', 0),
    ('teacher_editing', 'teacher', 0),
    ('3', 'teacher', 0),
    ('manager', 'teacher', 0),
    ('1', 'teacher', 0),
    ('guest', 'guest', 0),
    ('6', 'guest', 0);

-- A OneRoster source may create the courses of classes whose course does not exist.
ALTER TABLE sis_sources ADD COLUMN create_courses BOOLEAN NOT NULL DEFAULT false;
