package course_test

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"roster/internal/course"
	"roster/internal/store"
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
