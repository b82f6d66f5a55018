package store

// MigrateTo applies the migrations up to version last (tests of a migration).
var MigrateTo = (*DB).migrateTo

// ExplainWrite is explainWrite (the read-only file system cannot be made in a test).
var ExplainWrite = explainWrite
