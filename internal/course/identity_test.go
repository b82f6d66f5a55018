package course_test

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"roster/internal/account"
	"roster/internal/course"
	"roster/internal/group"
	"roster/internal/store"
	"roster/internal/store/storetest"
)

// TestParticipantsHideIdentity: the participants list, its search, its sort and its
// downloads show a participant's address and username to a caller who may not see the
// account only when the site setting users.show_identity shows them; a platform
// administrator, and a group administrator of the group the participant belongs to, see them
// whatever the setting.
func TestParticipantsHideIdentity(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, _ *storetest.Clock) {
		s := course.NewService(db, course.Config{})
		gs := group.NewService(db)
		c := mustCourse(t, s, "identity")
		north, err := gs.Create(admin, group.Group{Name: "North", Visibility: group.Private})
		if err != nil {
			t.Fatal(err)
		}
		teacher := addUser(t, db, "Tea", "Cher")  // teaches, administers nothing
		head := addUser(t, db, "Head", "Teacher") // teaches, group admin of North
		ann := addUser(t, db, "Ann", "Archer")    // learner of North
		bob := addUser(t, db, "Bob", "Brown")     // in no group
		mustEnrol(t, s, c.ID, "teacher", teacher, head)
		mustEnrol(t, s, c.ID, "student", ann, bob)
		for u, role := range map[int64]string{head: group.GroupAdmin, ann: group.Learner} {
			if err := gs.AddMember(admin, north.ID, u, role, ""); err != nil {
				t.Fatal(err)
			}
		}
		// Addresses and usernames as the services store them: lower case.
		if _, err := db.ExecContext(context.Background(), `UPDATE users SET email_norm = lower(email), username = lower(username)`); err != nil {
			t.Fatal(err)
		}
		var annEmail, annUser string
		if err := db.QueryRowContext(context.Background(), `SELECT email, username FROM users WHERE id = $1`, ann).
			Scan(&annEmail, &annUser); err != nil {
			t.Fatal(err)
		}
		set := func(v string) {
			t.Helper()
			if _, err := db.ExecContext(context.Background(), `INSERT INTO settings (key, value) VALUES ($1, $2)
				ON CONFLICT (key) DO UPDATE SET value = excluded.value`, account.SettingShowIdentity, v); err != nil {
				t.Fatal(err)
			}
		}
		list := func(ctx context.Context, f course.ParticipantFilter) map[int64]course.Participant {
			t.Helper()
			f.Limit = course.All
			page, err := s.Participants(ctx, c.ID, f)
			if err != nil {
				t.Fatal(err)
			}
			out := map[int64]course.Participant{}
			for _, p := range page.Items {
				out[p.UserID] = p
			}
			return out
		}
		download := func(ctx context.Context, format string) string {
			t.Helper()
			var buf bytes.Buffer
			if err := s.Export(ctx, c.ID, course.ParticipantFilter{}, nil, format, &buf); err != nil {
				t.Fatal(err)
			}
			return buf.String()
		}

		// Default setting (email shown): everyone sees addresses, usernames only where allowed.
		got := list(as(teacher), course.ParticipantFilter{})
		if p := got[ann]; p.Email != annEmail || p.EmailHidden || p.Username != "" || !p.UsernameHidden {
			t.Errorf("default, teacher: %+v", p)
		}
		if p := list(as(head), course.ParticipantFilter{})[ann]; p.Username != annUser || p.UsernameHidden {
			t.Errorf("default, group admin of the learner's group: %+v", p)
		}
		// A shown address is searched.
		if hit := list(as(teacher), course.ParticipantFilter{Q: "bob.brown"}); len(hit) != 1 {
			t.Errorf("default, teacher searching a shown address: %v", hit)
		}

		set("none")
		for name, ctx := range map[string]context.Context{"teacher": as(teacher), "group admin": as(head)} {
			got := list(ctx, course.ParticipantFilter{})
			if p := got[bob]; p.Email != "" || p.Username != "" || !p.EmailHidden || !p.UsernameHidden || p.LastName != "Brown" {
				t.Errorf("%s sees the identity of someone in no group: %+v", name, p)
			}
			// Searching by a hidden field matches nothing: no probing an address.
			if hit := list(ctx, course.ParticipantFilter{Q: "bob.brown"}); len(hit) != 0 {
				t.Errorf("%s found a hidden username or address: %v", name, hit)
			}
			if hit := list(ctx, course.ParticipantFilter{Q: "brow"}); len(hit) != 1 {
				t.Errorf("%s: the name still matches: %v", name, hit)
			}
			for _, format := range []string{course.CSV, course.JSON, course.ODS} {
				if out := download(ctx, format); strings.Contains(strings.ToLower(out), "bob.brown") {
					t.Errorf("%s: the %s download shows a hidden address or username", name, format)
				}
			}
		}
		got = list(as(teacher), course.ParticipantFilter{})
		if p := got[ann]; p.Email != "" || !p.EmailHidden {
			t.Errorf("teacher sees the address of a learner of a group they do not administer: %+v", p)
		}
		if hit := list(as(teacher), course.ParticipantFilter{Q: "@example.org"}); len(hit) != 0 {
			t.Errorf("teacher probes addresses: %v", hit)
		}
		// The group administrator sees the people of their group, and finds them by address.
		got = list(as(head), course.ParticipantFilter{})
		if p := got[ann]; p.Email != annEmail || p.Username != annUser || p.EmailHidden {
			t.Errorf("group admin of the learner's group: %+v", p)
		}
		if hit := list(as(head), course.ParticipantFilter{Q: strings.ToLower(annEmail)}); len(hit) != 1 || hit[ann].UserID != ann {
			t.Errorf("group admin searching an address they see: %v", hit)
		}
		var j struct {
			Items []course.JSONParticipant `json:"items"`
		}
		if err := json.Unmarshal([]byte(download(as(head), course.JSON)), &j); err != nil {
			t.Fatal(err)
		}
		var emails []string
		for _, p := range j.Items {
			emails = append(emails, p.Email)
		}
		if !slices.Contains(emails, annEmail) || strings.Contains(strings.ToLower(strings.Join(emails, " ")), "bob.brown") {
			t.Errorf("group admin's JSON download: %v", emails)
		}
		// Sorting by address orders the hidden ones as empty, so the order tells nothing.
		page, err := s.Participants(as(teacher), c.ID, course.ParticipantFilter{Sort: "email", Limit: course.All})
		if err != nil || len(page.Items) != 4 {
			t.Fatalf("sort by hidden address: %v %v", page, err)
		}
		if n := names(page); !slices.Equal(n, []string{"Archer Ann", "Brown Bob", "Cher Tea", "Teacher Head"}) {
			t.Errorf("sort by hidden address is by name: %v", n)
		}
		// A platform administrator sees everything.
		if p := list(admin, course.ParticipantFilter{})[bob]; p.Email == "" || p.Username == "" || p.EmailHidden {
			t.Errorf("platform administrator: %+v", p)
		}
	})
}
