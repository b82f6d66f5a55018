-- An import row's errors and notes as codes with parameters (a JSON array of
-- {"field", "code", "params", "message"}), so that each reader gets them in their own language;
-- message keeps the English text for the report file and the API.
ALTER TABLE import_rows ADD COLUMN codes TEXT NOT NULL DEFAULT '';
