package bulk_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"roster/internal/billing"
	"roster/internal/bulk"
	"roster/internal/errs"
	"roster/internal/group"
	"roster/internal/store"
	"roster/internal/store/storetest"
)

// TestProgressAndRecover applies a tsv file in transactions of 2 rows, checks the progress
// counters and the billable count, then simulates a crash after the first transaction: the
// batch is left applying with 2 rows committed; Recover rolls it back (the accounts and
// memberships it made are gone) and marks it interrupted, and Undo refuses it.
func TestProgressAndRecover(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		e := newEnv(t, db)
		e.svc.BatchSize = 2
		if _, err := e.groups.Create(admin, group.Group{Name: "Class A", IDNumber: "CLA"}); err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		for i := range 5 {
			fmt.Fprintf(&b, "p%d@x.org\tP%d\tPerson\tCLA\tlearner\n", i, i)
		}
		file := []byte(b.String())
		rep, err := e.svc.Preview(admin, strings.NewReader(b.String()), bulk.Options{Format: bulk.FormatTSV})
		if err != nil || rep.Summary.Billable != 5 || rep.Summary.Rows != 5 {
			t.Fatalf("preview %+v %v", rep.Summary, err)
		}
		var seen []int
		bulk.SetAfterBatch(e.svc, func(id int64) error {
			bt, err := e.svc.Batch(admin, id)
			if err != nil || bt.Status != bulk.StatusApplying || bt.RowsTotal != 5 {
				t.Errorf("batch %+v %v", bt, err)
			}
			seen = append(seen, bt.RowsDone)
			return nil
		})
		rep, err = e.svc.Apply(admin, opener(file), bulk.Options{Format: bulk.FormatTSV})
		if err != nil || !rep.Applied || fmt.Sprint(seen) != "[2 4 5]" {
			t.Fatalf("apply %+v %v %v", rep, err, seen)
		}
		bt, _ := e.svc.Batch(admin, rep.BatchID)
		if bt.Status != bulk.StatusApplied || bt.RowsDone != 5 {
			t.Fatalf("after apply %+v", bt)
		}
		if _, err := e.svc.Undo(admin, rep.BatchID, false); err != nil {
			t.Fatal(err)
		}
		// Undone accounts of an applied import stay billed for this month: they were active.
		base := billable(t, db, clock)
		rowsBefore := e.count(t, `SELECT COUNT(*) FROM users`)

		// The crash: the process dies after the first transaction (Begin and run without Run's
		// own rollback).
		file = []byte(strings.ReplaceAll(string(file), "@x.org", "@y.org"))
		_, id, err := e.svc.Begin(admin, opener(file), bulk.Options{Format: bulk.FormatTSV})
		if err != nil || id == 0 {
			t.Fatal(id, err)
		}
		crash := errors.New("crash")
		bulk.SetAfterBatch(e.svc, func(int64) error { return crash })
		if _, err := bulk.RunNoRollback(e.svc, admin, id, opener(file), bulk.Options{Format: bulk.FormatTSV}); !errors.Is(err, crash) {
			t.Fatal(err)
		}
		bulk.SetAfterBatch(e.svc, nil)
		bt, _ = e.svc.Batch(admin, id)
		if bt.Status != bulk.StatusApplying || bt.RowsDone != 2 {
			t.Fatalf("after crash %+v", bt)
		}
		if n := e.count(t, `SELECT COUNT(*) FROM users WHERE email LIKE '%@y.org' AND deleted_at IS NULL`); n != 2 {
			t.Fatalf("committed accounts %d", n)
		}
		// The accounts of a run that has not completed are not billable.
		if n := billable(t, db, clock); n != base {
			t.Fatalf("billable while the import is unfinished: %d, want %d", n, base)
		}
		if _, err := e.svc.Undo(admin, id, true); !errs.Is(err, errs.Conflict) {
			t.Fatalf("undo while applying: %v", err)
		}
		// While its lease holds, the apply may be alive on another instance: nothing is
		// rolled back, and another import waits.
		if ids, err := e.svc.Recover(admin); err != nil || len(ids) != 0 {
			t.Fatalf("recovered a live import: %v %v", ids, err)
		}
		if _, _, err := e.svc.Begin(admin, opener(file), bulk.Options{Format: bulk.FormatTSV}); !errs.Is(err, errs.Conflict) {
			t.Fatalf("second import while one applies: %v", err)
		}
		clock.Advance(bulk.DefaultLease + time.Second)
		ids, err := e.svc.Recover(admin)
		if err != nil || fmt.Sprint(ids) != fmt.Sprint([]int64{id}) {
			t.Fatal(ids, err)
		}
		bt, _ = e.svc.Batch(admin, id)
		if bt.Status != bulk.StatusInterrupted {
			t.Fatalf("after recover %+v", bt)
		}
		// Deleted for good: no erased row stays behind, none is billable.
		if n := e.count(t, `SELECT COUNT(*) FROM users`); n != rowsBefore {
			t.Fatalf("%d account rows, want %d as before the import", n, rowsBefore)
		}
		if n := e.count(t, `SELECT COUNT(*) FROM group_members WHERE source_kind = 'import'`); n != 0 {
			t.Fatalf("memberships left %d", n)
		}
		if n := billable(t, db, clock); n != base {
			t.Fatalf("billable after the rollback: %d, want %d", n, base)
		}
		if _, err := e.svc.Undo(admin, id, false); !errs.Is(err, errs.Conflict) {
			t.Fatalf("undo after recover: %v", err)
		}
		if ids, _ := e.svc.Recover(admin); len(ids) != 0 {
			t.Fatal(ids)
		}
		// Importing the file again gives exactly its people, and a second run changes nothing.
		rep, err = e.svc.Apply(admin, opener(file), bulk.Options{Format: bulk.FormatTSV})
		if err != nil || !rep.Applied || rep.Summary.Created != 5 {
			t.Fatalf("again %+v %v", rep, err)
		}
		if n := billable(t, db, clock); n != base+5 {
			t.Fatalf("billable %d, want %d + the file's 5 people", n, base)
		}
		rep, err = e.svc.Apply(admin, opener(file), bulk.Options{Format: bulk.FormatTSV, Mode: bulk.AddUpdate})
		if err != nil || rep.Summary.Created != 0 || rep.Summary.Updated != 0 {
			t.Fatalf("second run %+v %v", rep.Summary, err)
		}
		if n := billable(t, db, clock); n != base+5 {
			t.Fatalf("billable %d after a second run", n)
		}

		// A failing apply rolls itself back and is marked failed.
		file = []byte(strings.ReplaceAll(string(file), "@y.org", "@z.org"))
		bulk.SetAfterBatch(e.svc, func(int64) error { return crash })
		if _, err := e.svc.Apply(admin, opener(file), bulk.Options{Format: bulk.FormatTSV}); !errors.Is(err, crash) {
			t.Fatal(err)
		}
		bulk.SetAfterBatch(e.svc, nil)
		if n := e.count(t, `SELECT COUNT(*) FROM import_batches WHERE status = 'failed'`); n != 1 {
			t.Fatalf("failed batches %d", n)
		}
		if n := e.count(t, `SELECT COUNT(*) FROM users WHERE email LIKE '%@z.org' AND deleted_at IS NULL`); n != 0 {
			t.Fatalf("accounts left %d", n)
		}
	})
}

// billable counts the accounts billable this month, as the billing report does.
func billable(t *testing.T, db *store.DB, clock *storetest.Clock) int {
	t.Helper()
	r, err := billing.MonthReport(admin, db, clock.T)
	if err != nil {
		t.Fatal(err)
	}
	return r.Billable
}
