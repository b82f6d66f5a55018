-- Welcome emails held until their course opens: one row per person and course, written in the
-- enrolling transaction when the method sends a welcome and the course has a start date in
-- the future; the course.welcome task sends the rows whose course has opened and deletes them
-- (a person no longer enrolled by then gets nothing).
CREATE TABLE course_welcome_due (
    course_id  BIGINT NOT NULL REFERENCES courses (id) ON DELETE CASCADE,
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role       TEXT   NOT NULL DEFAULT '',   -- the role they were enrolled with, for the email
    created_at BIGINT NOT NULL,
    PRIMARY KEY (course_id, user_id)
);
CREATE INDEX course_welcome_due_user ON course_welcome_due (user_id);
