package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"strconv"
	"time"

	"roster/internal/errs"
	"roster/internal/store"
)

// Health endpoints, served before authentication (any headers), never cached:
//
//	/livez   the process answers: 200 "ok" (for a supervisor that restarts a hung process)
//	/healthz the instance can serve: the database answers and takes a small write (this
//	         instance's heartbeat row, committed), so a full disk or a read-only database shows
//	/readyz  the same as /healthz (for a load balancer that sends traffic only to ready ones)
//
// A failed check answers 503 with Retry-After and one line naming what failed.

// healthFirst sends the health paths straight to mux, where Routes registered them, before
// next (authentication and the rest): they answer the same whatever the request carries.
func healthFirst(mux http.Handler, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/livez", "/healthz", "/readyz":
			mux.ServeHTTP(w, r)
		default:
			next.ServeHTTP(w, r)
		}
	})
}

// instanceID names this process in instance_heartbeats.
var instanceID = newInstanceID()

func live(w http.ResponseWriter, r *http.Request) { healthAnswer(w, "") }

func ready(db *store.DB) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		healthAnswer(w, checkDatabase(r.Context(), db, instanceID))
	}
}

func healthAnswer(w http.ResponseWriter, problem string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if problem != "" {
		w.Header().Set("Retry-After", strconv.Itoa(errs.RetryUnavailable))
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte(problem + "\n"))
		return
	}
	w.Write([]byte("ok\n"))
}

// checkDatabase returns "" when the database answers and commits a write, else what failed.
func checkDatabase(ctx context.Context, db *store.DB, instance string) string {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		return "database unreachable"
	}
	err := db.Tx(ctx, func(tx *store.Tx) error {
		now := tx.Now.Unix()
		if _, err := tx.ExecContext(ctx, `INSERT INTO instance_heartbeats (instance, seen_at) VALUES ($1, $2)
			ON CONFLICT (instance) DO UPDATE SET seen_at = excluded.seen_at`, instance, now); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM instance_heartbeats WHERE seen_at < $1`, now-7*24*3600)
		return err
	})
	if err != nil {
		return "database cannot write (disk full or read-only?)"
	}
	return ""
}

// newInstanceID names this process in instance_heartbeats.
func newInstanceID() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}
