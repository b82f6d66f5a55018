package store

// MigrateTo applies the migrations up to version last (tests of a migration).
var MigrateTo = (*DB).migrateTo
