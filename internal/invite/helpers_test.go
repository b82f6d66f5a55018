package invite

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"testing"

	"roster/internal/account"
	"roster/internal/authz"
	"roster/internal/errs"
	"roster/internal/group"
	"roster/internal/mail"
	"roster/internal/store"
	"roster/internal/store/storetest"
)

var bg = context.Background()

const goodPassword = "correct-lantern-orbit-42"

// rig is one database with the services and a platform administrator.
type rig struct {
	t        testing.TB
	db       *store.DB
	clock    *storetest.Clock
	accounts *account.Service
	groups   *group.Service
	s        *Service
	adminID  int64
	admin    context.Context // a platform administrator, "Grace Hopper"
}

func newRig(t testing.TB, db *store.DB, clock *storetest.Clock) *rig {
	t.Helper()
	accounts := account.NewService(db, account.Config{BaseURL: "https://roster.test/"})
	r := &rig{t: t, db: db, clock: clock, accounts: accounts, groups: group.NewService(db),
		s: NewService(db, accounts, Config{BaseURL: "https://roster.test/"})}
	r.adminID = r.user("grace", "Grace", "Hopper", true)
	r.admin = authz.With(bg, &authz.Principal{UserID: r.adminID, PlatformAdmin: true})
	return r
}

// user inserts an account directly (no password) and returns its id.
func (r *rig) user(username, first, last string, admin bool) int64 {
	r.t.Helper()
	var id int64
	email := username + "@example.org"
	err := r.db.QueryRowContext(bg, `INSERT INTO users (username, email, email_norm, first_name, last_name, is_admin,
		created_at, updated_at, activated_at) VALUES ($1, $2, $2, $3, $4, $5, 0, 0, 0) RETURNING id`,
		username, email, first, last, admin).Scan(&id)
	if err != nil {
		r.t.Fatal(err)
	}
	return id
}

// as is the context of a (non-admin) account.
func as(userID int64) context.Context {
	return authz.With(bg, &authz.Principal{UserID: userID})
}

func (r *rig) group(parent int64, name, visibility string) int64 {
	r.t.Helper()
	g, err := r.groups.Create(r.admin, group.Group{ParentID: parent, Name: name, Visibility: visibility})
	if err != nil {
		r.t.Fatal(err)
	}
	return g.ID
}

func (r *rig) member(groupID, userID int64, role string) {
	r.t.Helper()
	if err := r.groups.AddMember(r.admin, groupID, userID, role, ""); err != nil {
		r.t.Fatal(err)
	}
}

// invite invites as ctx and fails the test on an error.
func (r *rig) invite(ctx context.Context, req Request) []Result {
	r.t.Helper()
	res, err := r.s.Invite(ctx, req)
	if err != nil {
		r.t.Fatalf("invite %q: %v", req.Emails, err)
	}
	return res
}

func outcomes(res []Result) string {
	var out []string
	for _, x := range res {
		out = append(out, x.Email+" "+x.Outcome)
	}
	return strings.Join(out, ", ")
}

type mailRow struct{ To, Template, Text string }

func (r *rig) outbox() []mailRow {
	r.t.Helper()
	rows, err := r.db.QueryContext(bg, `SELECT to_addr, template, text_body FROM outbox ORDER BY id`)
	if err != nil {
		r.t.Fatal(err)
	}
	defer rows.Close()
	var out []mailRow
	for rows.Next() {
		var m mailRow
		if err := rows.Scan(&m.To, &m.Template, &m.Text); err != nil {
			r.t.Fatal(err)
		}
		if m.Text, err = mail.OpenLinks(r.db.Key, m.Text); err != nil {
			r.t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

var tokenRE = regexp.MustCompile(`https://roster\.test/(?:invitation|account/setup)/([A-Za-z0-9_-]{43})\b`)

// lastToken returns the token of the latest email to addr.
func (r *rig) lastToken(addr string) string {
	r.t.Helper()
	mails := r.outbox()
	for i := len(mails) - 1; i >= 0; i-- {
		if strings.EqualFold(mails[i].To, addr) {
			m := tokenRE.FindStringSubmatch(mails[i].Text)
			if m == nil {
				r.t.Fatalf("no link in the mail to %s:\n%s", addr, mails[i].Text)
			}
			return m[1]
		}
	}
	r.t.Fatalf("no mail to %s", addr)
	return ""
}

func (r *rig) count(query string, args ...any) int {
	r.t.Helper()
	var n int
	if err := r.db.QueryRowContext(bg, query, args...).Scan(&n); err != nil {
		r.t.Fatal(err)
	}
	return n
}

// memberships lists a user's memberships as "group role", sorted.
func (r *rig) memberships(userID int64) []string {
	r.t.Helper()
	rows, err := r.db.QueryContext(bg, `SELECT g.name, m.role FROM group_members m JOIN groups g ON g.id = m.group_id
		WHERE m.user_id = $1`, userID)
	if err != nil {
		r.t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var g, role string
		if err := rows.Scan(&g, &role); err != nil {
			r.t.Fatal(err)
		}
		out = append(out, g+" "+role)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func wantCode(t testing.TB, err error, code errs.Code) *errs.Error {
	t.Helper()
	if err == nil || errs.CodeOf(err) != code {
		t.Fatalf("want %s, got %v", code, err)
	}
	return errs.As(err)
}

// wantField fails unless err is Invalid naming field.
func wantField(t testing.TB, err error, field string) {
	t.Helper()
	e := wantCode(t, err, errs.Invalid)
	for _, f := range e.Fields {
		if f.Field == field {
			return
		}
	}
	t.Fatalf("want a message on %s, got %+v", field, e.Fields)
}
