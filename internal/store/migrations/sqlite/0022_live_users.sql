-- The accounts that are not anonymised, in id order: counting and paging them (the OneRoster
-- users collection, 100,000 people paged by 1,000) reads this index alone. (SQLite's planner
-- does not pick a partial index for this, as PostgreSQL's does: here it is (deleted_at, id).)
CREATE INDEX users_live ON users (deleted_at, id);
