package store

// MigrateTo applies the migrations up to version last (tests of a migration).
var MigrateTo = (*DB).migrateTo

// ExplainWrite is explainWrite (the read-only file system cannot be made in a test).
var ExplainWrite = explainWrite

// Prepared returns how many statements db keeps prepared (InsertMany reuses them).
func Prepared(db *DB) int {
	db.stmts.mu.Lock()
	defer db.stmts.mu.Unlock()
	return len(db.stmts.m)
}
