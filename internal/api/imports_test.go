package api

import (
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"roster/internal/audit"
	"roster/internal/authz"
	"roster/internal/course"
	"roster/internal/group"
	"roster/internal/store"
	"roster/internal/store/storetest"
)

func TestImportsAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, _ *storetest.Clock) {
		r := newRig(t, db)
		courses := course.NewService(db, course.Config{})
		mux := http.NewServeMux()
		New(Config{}, Services{Log: slog.New(slog.DiscardHandler), DB: db, Accounts: r.accounts, Groups: group.NewService(db),
			Courses: courses}).Routes(mux)
		r.h = http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			ctx := audit.WithIP(req.Context(), "192.0.2.7")
			if p := r.who[req.Header.Get("X-As")]; p != nil {
				ctx = authz.With(ctx, p)
			}
			mux.ServeHTTP(w, req.WithContext(ctx))
		})
		if _, err := courses.Create(authz.With(bg, authz.System), course.Course{Shortname: "math102", Fullname: "Maths", Visible: true}); err != nil {
			t.Fatal(err)
		}
		file := "username,firstname,lastname,email,course1,role1\nann,Ann,A,ann@x.org,math102,student\nbob,Bob,B,bob@x.org,nope,student\n"
		var rep ImportReport
		code, body := r.do("admin", "POST", "/api/v1/imports?format=moodle&mode=apply", file, &rep)
		if code != 200 || rep.Applied || rep.Summary.Created != 1 || rep.Summary.Errors != 1 || len(rep.Rows) != 2 ||
			rep.Rows[1].Errors[0].Line != 3 || rep.Rows[1].Errors[0].Field != "course1" {
			t.Fatalf("with an error: %d %s", code, body)
		}
		if !strings.Contains(body, `"summary":{"created":1,"updated":0,"enrolled":1,"skipped":0,"errors":1,"rows":2,"billable":1}`) {
			t.Errorf("summary shape: %s", body)
		}
		rep = ImportReport{}
		code, body = r.do("admin", "POST", "/api/v1/imports?format=moodle&mode=apply&valid_only=true", file, &rep)
		if code != 200 || !rep.Applied || rep.BatchID == "" || rep.Summary.Enrolled != 1 {
			t.Fatalf("valid only: %d %s", code, body)
		}
		var undo ImportUndo
		code, body = r.do("admin", "POST", "/api/v1/imports/"+rep.BatchID+"/undo", "", &undo)
		if code != 200 || undo.Done || undo.Deleted != 1 || undo.Unenrolled != 1 {
			t.Fatalf("undo preview: %d %s", code, body)
		}
		code, body = r.do("admin", "POST", "/api/v1/imports/"+rep.BatchID+"/undo?mode=apply", "", &undo)
		if code != 200 || !undo.Done || undo.Deleted != 1 || undo.BatchID != rep.BatchID {
			t.Fatalf("undo: %d %s", code, body)
		}
		if code, body := r.do("admin", "POST", "/api/v1/imports/"+rep.BatchID+"/undo?mode=apply", "", nil); code != 409 {
			t.Fatalf("undo twice: %d %s", code, body)
		}
		if code, _ := r.do("admin", "POST", "/api/v1/imports/999/undo?mode=bad", "", nil); code != 422 {
			t.Fatalf("bad mode: %d", code)
		}
		if code, body := r.do("admin", "POST", "/api/v1/imports?format=moodle", "username,shoe\n", nil); code != 422 ||
			!strings.Contains(body, `"line":1`) || !strings.Contains(body, "shoe") {
			t.Errorf("bad header: %d %s", code, body)
		}
		if code, body := r.do("admin", "POST", "/api/v1/imports?format=xml", "x", nil); code != 422 || !strings.Contains(body, `"field":"format"`) {
			t.Errorf("bad format: %d %s", code, body)
		}
		if code, _ := r.do("", "POST", "/api/v1/imports?format=moodle", file, nil); code != 401 {
			t.Errorf("anonymous: %d", code)
		}
		// update_passwords: an update-only file with just username,password sets the password.
		if code, body := r.do("admin", "POST", "/api/v1/imports?format=moodle&mode=apply", "username,firstname,lastname,email\nzed,Zed,Z,zed@x.org\n", nil); code != 200 {
			t.Fatalf("zed: %d %s", code, body)
		}
		pw := "username,password\nzed,Correct-Horse-Battery-9\n"
		rep = ImportReport{}
		code, body = r.do("admin", "POST", "/api/v1/imports?format=moodle&type=update_only&mode=apply", pw, &rep)
		if code != 200 || rep.Summary.Updated != 0 || rep.Summary.Skipped != 1 {
			t.Errorf("passwords without the option: %d %s", code, body)
		}
		rep = ImportReport{}
		code, body = r.do("admin", "POST", "/api/v1/imports?format=moodle&type=update_only&update_passwords=true&mode=apply", pw, &rep)
		if code != 200 || !rep.Applied || rep.Summary.Updated != 1 || len(rep.Rows) != 1 || strings.Join(rep.Rows[0].Changes, ",") != "password" ||
			strings.Contains(body, "Correct-Horse") {
			t.Errorf("update_passwords: %d %s", code, body)
		}
		if _, err := r.accounts.Login(bg, "zed", "Correct-Horse-Battery-9", "192.0.2.7"); err != nil {
			t.Errorf("zed's imported password: %v", err)
		}
		if code, body := r.do("admin", "POST", "/api/v1/imports?format=moodle&update_passwords=maybe", pw, nil); code != 422 ||
			!strings.Contains(body, `"field":"update_passwords"`) {
			t.Errorf("bad update_passwords: %d %s", code, body)
		}
		// format=methods: a group sync and a meta link across courses, previewed then applied.
		sys := authz.With(bg, authz.System)
		if _, err := courses.Create(sys, course.Course{Shortname: "film1", Fullname: "Film", Visible: true}); err != nil {
			t.Fatal(err)
		}
		if _, err := group.NewService(db).Create(sys, group.Group{Name: "Promo", IDNumber: "PROMO"}); err != nil {
			t.Fatal(err)
		}
		methods := "operation,method,shortname,metacohort,disabled,group,role\nadd,cohort,math102,PROMO,0,,student\nadd,meta,film1,math102,0,,\nadd,meta,film1,math102,0,,\n"
		rep = ImportReport{}
		if code, body := r.do("admin", "POST", "/api/v1/imports?format=methods&valid_only=true", methods, &rep); code != 200 || rep.Applied ||
			rep.Summary.Created != 2 || rep.Summary.Errors != 1 || rep.Rows[2].Errors[0].Field != "metacohort" {
			t.Fatalf("methods preview: %d %s", code, body)
		}
		rep = ImportReport{}
		if code, body := r.do("admin", "POST", "/api/v1/imports?format=methods&mode=apply&valid_only=true", methods, &rep); code != 200 || !rep.Applied ||
			rep.Summary.Created != 2 {
			t.Fatalf("methods apply: %d %s", code, body)
		}
		var n int
		if err := db.QueryRowContext(bg, `SELECT count(*) FROM course_methods WHERE type IN ('group_sync', 'meta')`).Scan(&n); err != nil || n != 2 {
			t.Errorf("methods: %d %v", n, err)
		}
		if code, body := r.do("admin", "POST", "/api/v1/imports?format=enrolments&user_field=nickname", "add,student,ann,math102\n", nil); code != 422 ||
			!strings.Contains(body, `"field":"user_field"`) {
			t.Errorf("bad user field: %d %s", code, body)
		}
		r.user("cid", "cid@x.org")
		rep = ImportReport{}
		if code, body := r.do("admin", "POST", "/api/v1/imports?format=enrolments&user_field=email", "add,student,cid@x.org,film1\n", &rep); code != 200 ||
			rep.Summary.Enrolled != 1 {
			t.Errorf("by email: %d %s", code, body)
		}
	})
}
