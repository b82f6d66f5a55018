package bulk

// SetSerial makes s apply row by row through the account and group services.
func SetSerial(s *Service, on bool) { s.serial = on }

// SetAfterBatch runs fn after each committed transaction of an apply.
func SetAfterBatch(s *Service, fn func(batchID int64) error) { s.afterBatch = fn }

// RunNoRollback applies a batch as Run does, without rolling it back on error: a crash.
var RunNoRollback = (*Service).run
