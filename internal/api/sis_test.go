package api

import (
	"context"
	"strings"
	"testing"

	"roster/internal/sis"
	"roster/internal/store"
	"roster/internal/store/storetest"
)

func TestSyncRunsAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		r := newRig(t, db)
		r.exec(`INSERT INTO courses (shortname, fullname, created_at, updated_at) VALUES ('bio', 'Biology', 0, 0)`)
		r.user("ann", "ann@example.org")
		src, err := sis.ReadCSV(strings.NewReader("course,user,role\nbio,ann,student\nbio,zed,student\n"), "n.csv")
		if err != nil {
			t.Fatal(err)
		}
		src.Name = "nightly"
		if _, err := sis.Run(context.Background(), db, src, sis.RunOptions{}); err != nil {
			t.Fatal(err)
		}
		var out List[SyncRun]
		if code, body := r.do("admin", "GET", "/api/v1/sync/runs?source=nightly", "", &out); code != 200 {
			t.Fatalf("%d %s", code, body)
		}
		if len(out.Items) != 1 || out.Items[0].Added != 1 || out.Items[0].Skipped != 1 || out.Items[0].Status != "done" ||
			!strings.Contains(string(out.Items[0].Report), `"line":3`) {
			t.Errorf("runs: %+v", out.Items)
		}
		if code, _ := r.do("", "GET", "/api/v1/sync/runs", "", nil); code != 401 && code != 403 {
			t.Errorf("anonymous: %d", code)
		}
	})
}
