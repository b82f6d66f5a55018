package oneroster

// SetSnapshotMin changes the size from which lists keep their keys between pages, and
// returns the function that puts it back.
func SetSnapshotMin(n int) func() {
	old := snapshotMin
	snapshotMin = n
	return func() { snapshotMin = old }
}

// SetOverlap turns on or off reading a first page while the whole list's keys are read.
func SetOverlap(on bool) { overlapFirstPage = on }
