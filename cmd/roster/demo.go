package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"roster/internal/account"
	"roster/internal/authz"
	"roster/internal/bulk"
	"roster/internal/course"
	"roster/internal/group"
	"roster/internal/invite"
	"roster/internal/store"
)

// demo fills an empty database with a platform a newcomer can explore: a platform
// administrator (a one-time set-up link is printed), the group trees of a company and of a
// university, teachers and trainers, fifty learners, courses with manual enrolments, group
// syncs, a meta link and self enrolment, pending invitations (their emails wait in the
// outbox) and an import in the history. Everything goes through the services, as the pages
// would do it. It refuses a database that already has accounts, groups or courses.
func (m *Main) demo(ctx context.Context, args []string) error {
	fs, cfg, err := m.flags("demo")
	if err != nil {
		return err
	}
	if err := m.parse(fs, cfg, args); err != nil {
		return err
	}
	db, err := m.open(ctx, cfg)
	if err != nil {
		return err
	}
	var used int
	if err := db.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM users) + (SELECT count(*) FROM groups) + (SELECT count(*) FROM courses)`).Scan(&used); err != nil {
		return err
	}
	if used > 0 {
		return fmt.Errorf("demo: the database is not empty (it has accounts, groups or courses): the demo fills only a new database")
	}
	s := newServices(db, cfg, m.Log)
	d := &demoBuilder{m: m, db: db, s: s, sys: authz.With(ctx, authz.System), users: map[string]int64{}, groups: map[string]int64{},
		courses: map[string]int64{}}
	link, err := d.build()
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	fmt.Fprintln(m.Stdout, m.t("cli.demo_ready", len(d.users), len(d.groups), len(d.courses), d.invited))
	fmt.Fprintln(m.Stdout, m.t("cli.demo_admin"))
	fmt.Fprintln(m.Stdout, link)
	return nil
}

type demoBuilder struct {
	m       *Main
	db      *store.DB
	s       *services
	sys     context.Context
	admin   context.Context
	users   map[string]int64
	groups  map[string]int64
	courses map[string]int64
	invited int
}

var demoFirst = []string{"Alice", "Bruno", "Chloé", "David", "Emma", "Farid", "Gabrielle", "Hugo", "Inès", "Jules", "Karima",
	"Louis", "Manon", "Nicolas", "Océane", "Paul", "Quentin", "Rose", "Samir", "Théo", "Ursula", "Victor", "Wendy", "Xavier", "Yasmine"}
var demoLast = []string{"Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau"}

func (d *demoBuilder) user(username, first, last string, admin bool) (int64, error) {
	email := username + "@demo.example"
	var id int64
	err := d.db.Tx(d.sys, func(tx *store.Tx) error {
		u, err := d.s.accounts.CreateUser(d.sys, tx, account.NewUser{Username: username, Email: email, FirstName: first, LastName: last,
			IsAdmin: admin, Language: "fr"})
		if err != nil {
			return err
		}
		id = u.ID
		return nil
	})
	d.users[username] = id
	return id, err
}

func (d *demoBuilder) group(key, name, idnumber, parent string) error {
	g, err := d.s.groups.Create(d.sys, group.Group{Name: name, IDNumber: idnumber, ParentID: d.groups[parent], Visibility: group.Private})
	if err != nil {
		return err
	}
	d.groups[key] = g.ID
	return nil
}

func (d *demoBuilder) course(short, full string) error {
	c, err := d.s.courses.Create(d.sys, course.Course{Shortname: short, Fullname: full, Visible: true})
	if err != nil {
		return err
	}
	d.courses[short] = c.ID
	return nil
}

func (d *demoBuilder) build() (string, error) {
	adminID, err := d.user("admin", "Ada", "Admin", true)
	if err != nil {
		return "", err
	}
	d.admin = authz.With(d.sys, &authz.Principal{UserID: adminID, PlatformAdmin: true})
	// The group trees: a company and a university.
	for _, g := range [][4]string{
		{"acme", "Acme Industries", "ACME", ""},
		{"acme-sales", "Sales", "ACME-SALES", "acme"},
		{"acme-eng", "Engineering", "ACME-ENG", "acme"},
		{"acme-backend", "Backend team", "ACME-ENG-BACK", "acme-eng"},
		{"acme-frontend", "Frontend team", "ACME-ENG-FRONT", "acme-eng"},
		{"uni", "Université d'Exemple", "UNI", ""},
		{"sci", "Faculté des sciences", "UNI-SCI", "uni"},
		{"l1info", "Licence 1 Informatique 2026", "L1-INFO-2026", "sci"},
		{"m1data", "Master 1 Science des données 2026", "M1-DATA-2026", "sci"},
		{"arts", "Faculté des lettres", "UNI-ARTS", "uni"},
		{"l1hist", "Licence 1 Histoire 2026", "L1-HIST-2026", "arts"},
	} {
		if err := d.group(g[0], g[1], g[2], g[3]); err != nil {
			return "", err
		}
	}
	// Teachers, trainers and a group administrator.
	staff := []struct{ username, first, last, group, role string }{
		{"marie.curie", "Marie", "Curie", "sci", group.Trainer},
		{"alan.turing", "Alan", "Turing", "l1info", group.Trainer},
		{"simone.veil", "Simone", "Veil", "arts", group.Trainer},
		{"grace.hopper", "Grace", "Hopper", "acme-eng", group.Trainer},
		{"henri.ford", "Henri", "Ford", "acme", group.GroupAdmin},
	}
	for _, st := range staff {
		id, err := d.user(st.username, st.first, st.last, false)
		if err != nil {
			return "", err
		}
		if err := d.s.groups.AddMember(d.admin, d.groups[st.group], id, st.role, ""); err != nil {
			return "", err
		}
	}
	// Fifty learners: thirty students (L1 Informatique, M1 Data, L1 Histoire), twenty employees.
	places := []string{"l1info", "l1info", "m1data", "l1hist", "l1info", "acme-sales", "acme-backend", "acme-frontend", "m1data", "l1hist"}
	n := 0
	for i := 0; n < 50; i++ {
		first, last := demoFirst[i%len(demoFirst)], demoLast[(i/len(demoFirst)+i)%len(demoLast)]
		username := strings.ToLower(asciiFold(first) + "." + asciiFold(last))
		if _, taken := d.users[username]; taken {
			continue
		}
		id, err := d.user(username, first, last, false)
		if err != nil {
			return "", err
		}
		place := places[n%len(places)]
		if n >= 30 && !strings.HasPrefix(place, "acme") {
			place = []string{"acme-sales", "acme-backend", "acme-frontend"}[n%3]
		}
		if err := d.s.groups.AddMember(d.admin, d.groups[place], id, group.Learner, ""); err != nil {
			return "", err
		}
		n++
	}
	// Courses and their methods.
	for _, c := range [][2]string{
		{"INFO101", "Introduction à la programmation"},
		{"INFO102", "Algorithmique (suit INFO101)"},
		{"DATA201", "Apprentissage statistique"},
		{"HIST101", "Histoire contemporaine"},
		{"ACME-ONBOARD", "Acme onboarding"},
		{"ACME-SECURITY", "Security awareness (self enrolment)"},
	} {
		if err := d.course(c[0], c[1]); err != nil {
			return "", err
		}
	}
	sync := func(short, grp string, subgroups bool) error {
		_, err := d.s.courses.AddMethod(d.admin, d.courses[short], course.Method{Type: course.GroupSync, GroupID: d.groups[grp], Subgroups: subgroups})
		return err
	}
	for _, sc := range []struct {
		short, grp string
		sub        bool
	}{{"INFO101", "l1info", false}, {"DATA201", "m1data", false}, {"HIST101", "l1hist", false}, {"ACME-ONBOARD", "acme", true}} {
		if err := sync(sc.short, sc.grp, sc.sub); err != nil {
			return "", err
		}
	}
	for _, t := range []struct{ short, user, role string }{{"INFO101", "alan.turing", course.Teacher}, {"INFO102", "alan.turing", course.Teacher},
		{"DATA201", "marie.curie", course.Teacher}, {"INFO101", "marie.curie", course.NonEditingTeacher}, {"HIST101", "simone.veil", course.Teacher},
		{"ACME-ONBOARD", "grace.hopper", course.Teacher}, {"ACME-SECURITY", "grace.hopper", course.Teacher}} {
		if _, err := d.s.courses.Enrol(d.admin, d.courses[t.short], course.EnrolRequest{UserIDs: []int64{d.users[t.user]}, Role: t.role}); err != nil {
			return "", err
		}
	}
	// INFO102 follows INFO101: its teachers stay teachers, its students students.
	if _, err := d.s.courses.AddMethod(d.admin, d.courses["INFO102"], course.Method{Type: course.Meta, LinkedCourseID: d.courses["INFO101"]}); err != nil {
		return "", err
	}
	if _, err := d.s.courses.AddMethod(d.admin, d.courses["ACME-SECURITY"], course.Method{Type: course.Self, EnrolKey: "acme2026"}); err != nil {
		return "", err
	}
	// Pending invitations: two external examiners into HIST101, two new hires into Acme Sales.
	res, err := d.s.invites.Invite(d.admin, invite.Request{Emails: "examiner.one@partner.example, examiner.two@partner.example",
		CourseID: d.courses["HIST101"], Language: "fr"})
	if err != nil {
		return "", err
	}
	d.invited += len(res)
	res, err = d.s.invites.Invite(d.admin, invite.Request{Emails: "new.hire1@demo.example, new.hire2@demo.example",
		Groups: []invite.Grant{{GroupID: d.groups["acme-sales"], Role: group.Learner}}, Language: "en"})
	if err != nil {
		return "", err
	}
	d.invited += len(res)
	// An import in the history: Moodle's flat file enrolling two students into HIST101 for the
	// spring term.
	flat := []byte("add,student,alice.martin,HIST101,2027-01-15,2027-06-30\nadd,student,bruno.bernard@demo.example,HIST101,2027-01-15,2027-06-30\n")
	svc := bulk.NewService(d.db, d.s.accounts, d.s.groups, d.s.courses)
	rep, err := svc.Apply(d.admin, func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(flat)), nil },
		bulk.Options{Format: bulk.FormatEnrolments})
	if err != nil {
		return "", err
	}
	if rep.Summary.Errors > 0 || !rep.Applied {
		return "", fmt.Errorf("the demo import has errors: %+v", rep.Rows)
	}
	// Group syncs and meta links reconcile at once when added; members added later queue them.
	follower := course.NewFollower(d.db, d.m.Log)
	ctx, cancel := context.WithTimeout(d.sys, time.Minute)
	defer cancel()
	if _, err := follower.Drain(ctx); err != nil {
		return "", err
	}
	var link string
	err = d.db.Tx(d.sys, func(tx *store.Tx) error {
		var err error
		link, err = d.s.accounts.IssueSetupLink(d.sys, tx, adminID)
		return err
	})
	return link, err
}

// asciiFold drops the accents of the demo's names for their usernames.
func asciiFold(s string) string {
	r := strings.NewReplacer("é", "e", "è", "e", "ê", "e", "ë", "e", "à", "a", "â", "a", "î", "i", "ï", "i", "ô", "o", "ù", "u", "û", "u", "ç", "c",
		"É", "E", "Î", "I")
	return r.Replace(s)
}
