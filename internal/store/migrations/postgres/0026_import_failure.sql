-- Why an import's apply failed, for its page: a JSON list of {line, field, code, params,
-- message} (the rows that failed when written, or the error that stopped it and its line).
ALTER TABLE import_batches ADD COLUMN failure TEXT NOT NULL DEFAULT '';
