-- roster:sqlite-autoincrement
-- Ids are never given again: the runner rebuilds every table whose id is an INTEGER PRIMARY
-- KEY without AUTOINCREMENT (see store.rebuildAutoincrement). PostgreSQL identity columns never
-- reuse a value, so its 0017 has nothing of this.
SELECT 1;
