-- Ids are never given again: identity columns already never reuse a value (SQLite's 0017
-- rebuilds its tables with AUTOINCREMENT).
SELECT 1;
