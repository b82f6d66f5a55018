package course_test

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"roster/internal/course"
	"roster/internal/group"
	"roster/internal/store"
	"roster/internal/store/storetest"
	"roster/internal/testenv"
)

// countHandler counts log records at error level.
type countHandler struct{ errors atomic.Int64 }

func (h *countHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *countHandler) Handle(_ context.Context, r slog.Record) error {
	if r.Level >= slog.LevelError {
		h.errors.Add(1)
	}
	return nil
}
func (h *countHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *countHandler) WithGroup(string) slog.Handler      { return h }

// With the database gone, the follower backs off: a few tries and one error logged over what
// would have been thirty polls, and it does not stop.
func TestFollowerBacksOffWhileTheDatabaseIsDown(t *testing.T) {
	dead := fmt.Sprintf("postgres://roster@127.0.0.1:%d/none?sslmode=disable&connect_timeout=1", testenv.FreePort(t))
	sqlDB, err := sql.Open("pgx", dead)
	if err != nil {
		t.Fatal(err)
	}
	defer sqlDB.Close()
	h := &countHandler{}
	f := course.NewFollower(&store.DB{DB: sqlDB, Dialect: store.Postgres, Now: time.Now}, slog.New(h))
	f.Interval = 100 * time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := f.Run(ctx); err != context.DeadlineExceeded {
		t.Fatalf("Run stopped early: %v", err)
	}
	if n := h.errors.Load(); n < 1 || n > 2 {
		t.Fatalf("%d errors logged in 3 s (poll every 100 ms)", n)
	}
}

// Two instances share the sync queue: followers draining it at once enrol each member of the
// group once, and leave the queue empty.
func TestTwoFollowersShareTheQueue(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		s := course.NewService(db, course.Config{})
		gs := group.NewService(db)
		g, err := gs.Create(admin, group.Group{Name: "Year 2", Visibility: group.Private})
		if err != nil {
			t.Fatal(err)
		}
		c := mustCourse(t, s, "PHYS")
		if _, err := s.AddMethod(admin, c.ID, course.Method{Type: course.GroupSync, GroupID: g.ID}); err != nil {
			t.Fatal(err)
		}
		const n = 60
		log := slog.New(slog.DiscardHandler)
		a, b := course.NewFollower(db, log), course.NewFollower(db, log)
		var wg sync.WaitGroup
		errc := make(chan error, 2*n)
		for i := range n {
			if err := gs.AddMember(admin, g.ID, addUser(t, db, "P", fmt.Sprint(i)), group.Learner, ""); err != nil {
				t.Fatal(err)
			}
			if i%10 == 0 { // the two drain while members keep coming
				for _, f := range []*course.Follower{a, b} {
					wg.Go(func() {
						if _, err := f.Drain(context.Background()); err != nil {
							errc <- err
						}
					})
				}
			}
		}
		wg.Wait()
		for _, f := range []*course.Follower{a, b} {
			if _, err := f.Drain(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		close(errc)
		for err := range errc {
			t.Fatal(err)
		}
		var enrolled, queued int
		if err := db.QueryRowContext(context.Background(), `SELECT count(*) FROM course_enrolments WHERE course_id = $1`, c.ID).Scan(&enrolled); err != nil {
			t.Fatal(err)
		}
		if err := db.QueryRowContext(context.Background(), `SELECT count(*) FROM course_sync_queue`).Scan(&queued); err != nil {
			t.Fatal(err)
		}
		if enrolled != n || queued != 0 {
			t.Fatalf("enrolled %d of %d, %d queued", enrolled, n, queued)
		}
	})
}
