-- Import progress: an import batch is applied in the background, transaction by transaction;
-- rows_done counts the rows of the committed transactions, out of rows_total. Besides
-- applying | applied | undone, status is failed (the apply stopped on an error and was rolled
-- back) or interrupted (the server stopped during the apply; rolled back at the next start).
ALTER TABLE import_batches ADD COLUMN rows_total INTEGER NOT NULL DEFAULT 0;
ALTER TABLE import_batches ADD COLUMN rows_done INTEGER NOT NULL DEFAULT 0;
