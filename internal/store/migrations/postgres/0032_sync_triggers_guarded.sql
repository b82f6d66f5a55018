-- Nothing changes here: PostgreSQL's course_sync triggers (0008, 0029) run once per
-- statement, over transition tables. 0032 makes SQLite's row triggers ask first whether any
-- synced method is concerned (see its file).
SELECT 1;
