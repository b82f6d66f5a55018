package oneroster

// SetSnapshotMin changes the size from which lists keep their keys between pages, and
// returns the function that puts it back.
func SetSnapshotMin(n int) func() {
	old := snapshotMin
	snapshotMin = n
	return func() { snapshotMin = old }
}
