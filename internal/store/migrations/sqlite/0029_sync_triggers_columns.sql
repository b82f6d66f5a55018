-- Nothing changes here: SQLite's course_sync triggers (0008) already watch only the columns a
-- group sync or a meta link follows; 0029 makes PostgreSQL's do the same (see its file).
SELECT 1;
