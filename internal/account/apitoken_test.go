package account

import (
	"database/sql"
	"testing"
	"time"

	"roster/internal/authz"
	"roster/internal/errs"
	"roster/internal/secret"
	"roster/internal/store"
	"roster/internal/store/storetest"
)

func TestAPITokens(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		s := newService(t, db)
		a := mustCreate(t, s, NewUser{Username: "amartin", Email: "alice@example.org"})

		_, err := s.CreateAPIToken(bg, "x", 0, 0)
		wantCode(t, err, errs.Unauthorized)
		_, err = s.CreateAPIToken(authz.With(bg, s.PrincipalFor(a)), "x", 0, 0)
		wantCode(t, err, errs.Forbidden)
		_, err = s.CreateAPIToken(adminCtx, " ", 0, 0)
		wantCode(t, err, errs.Invalid)
		_, err = s.CreateAPIToken(adminCtx, "x", a.ID+99, 0)
		wantCode(t, err, errs.Invalid)

		platform, err := s.CreateAPIToken(adminCtx, "nightly sync", 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		asUser, _ := s.CreateAPIToken(adminCtx, "alice's script", a.ID, 0)
		scim, _ := s.CreateAPIToken(adminCtx, "entra", 0, 42)
		if auditCount(t, db, "token.create") != 3 {
			t.Fatal("token.create events")
		}
		var stored int
		db.QueryRowContext(bg, `SELECT count(*) FROM api_tokens WHERE token_hash IN ($1, $2, $3)`,
			secret.Hash(platform), secret.Hash(asUser), secret.Hash(scim)).Scan(&stored)
		if stored != 3 {
			t.Fatal("tokens not stored as their SHA-256")
		}

		p, err := s.TokenPrincipal(bg, platform)
		if err != nil || !p.PlatformAdmin || p.UserID != 0 || p.TokenID == 0 {
			t.Fatalf("platform: %+v %v", p, err)
		}
		p, err = s.TokenPrincipal(bg, asUser)
		if err != nil || p.PlatformAdmin || p.UserID != a.ID {
			t.Fatalf("user: %+v %v", p, err)
		}
		p, err = s.TokenPrincipal(bg, scim)
		if err != nil || p.PlatformAdmin || p.SCIMGroupID != 42 {
			t.Fatalf("scim: %+v %v", p, err)
		}
		_, err = s.TokenPrincipal(bg, "nope")
		wantCode(t, err, errs.Unauthorized)

		// last_used_at is written at most once a minute.
		used := func() int64 {
			var v sql.NullInt64
			db.QueryRowContext(bg, `SELECT last_used_at FROM api_tokens WHERE token_hash = $1`, secret.Hash(platform)).Scan(&v)
			return v.Int64
		}
		first := used()
		if first != clock.T.Unix() {
			t.Fatalf("last_used_at %d", first)
		}
		clock.Advance(30 * time.Second)
		s.TokenPrincipal(bg, platform)
		if used() != first {
			t.Fatal("written within the minute")
		}
		clock.Advance(31 * time.Second)
		s.TokenPrincipal(bg, platform)
		if used() != clock.T.Unix() {
			t.Fatal("not written after a minute")
		}

		// A suspended user's tokens stop working; revoked tokens too.
		db.ExecContext(bg, `UPDATE users SET status = 'suspended' WHERE id = $1`, a.ID)
		_, err = s.TokenPrincipal(bg, asUser)
		wantCode(t, err, errs.Unauthorized)
		p, _ = s.TokenPrincipal(bg, platform)
		if err := s.RevokeAPIToken(adminCtx, p.TokenID); err != nil {
			t.Fatal(err)
		}
		_, err = s.TokenPrincipal(bg, platform)
		wantCode(t, err, errs.Unauthorized)
		wantCode(t, s.RevokeAPIToken(adminCtx, p.TokenID), errs.NotFound)
	})
}
