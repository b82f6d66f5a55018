-- An import writes, besides each person's account, enrolment and membership, what it did for
-- its report and its undo. A run of rows that each created an account and have nothing else to
-- say (no message, no update, no group) is now one import_rows row: packed holds its lines and
-- the accounts they created, a JSON array of [line, user_id] pairs, line is the first of them
-- and user_id is NULL. Likewise the enrolments (or places) of a batch that differ only by the
-- person are one import_changes row: user_ids holds the people, a JSON array, and user_id is 0.
-- Rows written before keep '' in both columns: one line, one person, as they were.
ALTER TABLE import_rows ADD COLUMN packed TEXT NOT NULL DEFAULT '';
ALTER TABLE import_changes ADD COLUMN user_ids TEXT NOT NULL DEFAULT '';
