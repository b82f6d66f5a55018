-- The accounts that are not anonymised, in id order: counting and paging them (the OneRoster
-- users collection, 100,000 people paged by 1,000) reads this index alone. (SQLite's planner
-- does not pick a partial index for this; it has (deleted_at, id), which PostgreSQL does not
-- walk in id order.)
CREATE INDEX users_live ON users (id) WHERE deleted_at IS NULL;
