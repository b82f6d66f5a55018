package web

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"roster/internal/errs"
	"roster/internal/i18n"
	"roster/internal/sis"
)

// /admin/sync: platform administrators configure the sources of the student-information-
// system sync (sis.Service checks the right), run them now or dry, and read each run's
// report. Every POST redirects back (post-redirect-get).

type syncRunView struct {
	sis.RunRecord
	Duration     string
	Kept         int
	Created      int
	Courses      int
	SkippedTotal int
	SkippedRows  []sis.Issue
	// MessageCode is the run's message as a code (runs recorded before codes have none).
	MessageCode   string
	MessageParams errs.P
	Stop          string // the threshold's verdict, in the person's language
}

type syncData struct {
	Sources []*sis.Config
	Runs    []syncRunView
	Form    sis.Config // the create or edit form
	Editing string     // the name of the source edited ("" to create)
	Kinds   []string
	Actions []string
	Auths   []string
	// Warning says, on top, that the run just made was stopped by the threshold (or that a
	// real run would be), and why.
	Warning string
}

func (w *Web) adminSync(rw http.ResponseWriter, r *http.Request) {
	if w.requireLogin(rw, r) == nil {
		return
	}
	p := w.page(rw, r, "sync.title")
	d := &syncData{Form: sis.Config{Kind: sis.KindCSV, Action: sis.ActionSuspend, Threshold: sis.DefaultThreshold,
		Schedule: sis.DefaultSchedule, AccountAuth: "cas", Enabled: true}}
	q := r.URL.Query()
	if name := q.Get("edit"); name != "" && w.SIS != nil {
		c, err := w.SIS.Get(r.Context(), name)
		if err != nil {
			w.render(rw, r, showError(p, err), "message", p)
			return
		}
		d.Form, d.Editing = *c, c.Name
	}
	switch {
	case q.Get("saved") != "":
		p.Notice = p.L.T("sync.saved", q.Get("saved"))
	case q.Get("deleted") != "":
		p.Notice = p.L.T("sync.deleted", q.Get("deleted"))
	case q.Get("ran") != "":
		n := func(k string) int { v, _ := strconv.Atoi(q.Get(k)); return v }
		p.Notice = p.L.T("sync.ran", q.Get("ran"), n("added"), n("changed"), n("removed"))
	case q.Get("failed") != "":
		p.Error = p.L.T("sync.failed", q.Get("failed"))
	}
	w.syncRender(rw, r, p, d, http.StatusOK)
}

func (w *Web) syncRender(rw http.ResponseWriter, r *http.Request, p *Page, d *syncData, status int) {
	if u := currentUser(r); u == nil || !u.IsAdmin || w.SIS == nil {
		p.Error = p.L.T("error.forbidden")
		w.render(rw, r, http.StatusForbidden, "message", p)
		return
	}
	var err error
	if d.Sources, err = w.SIS.List(r.Context()); err != nil {
		w.render(rw, r, showError(p, err), "message", p)
		return
	}
	runs, err := sis.Runs(r.Context(), w.db, "", 50)
	if err != nil {
		w.render(rw, r, showError(p, err), "message", p)
		return
	}
	for _, run := range runs {
		v := syncRunView{RunRecord: run, Duration: i18n.Duration(p.L.Lang, time.Duration(run.DurationMS)*time.Millisecond)}
		var rep struct {
			Skipped      []sis.Issue `json:"skipped"`
			SkippedTotal int         `json:"skipped_total"`
			Kept         int         `json:"kept"`
			Created      int         `json:"created"`
			Courses      int         `json:"courses_created"`
			Code         string      `json:"message_code"`
			Params       errs.P      `json:"message_params"`
		}
		if json.Unmarshal(run.Report, &rep) == nil {
			v.SkippedRows, v.SkippedTotal, v.Kept, v.Created, v.Courses = rep.Skipped, rep.SkippedTotal, rep.Kept, rep.Created, rep.Courses
			v.MessageCode, v.MessageParams = rep.Code, rep.Params
			if rep.Code == "sync_threshold" || rep.Code == "sync_would_stop" {
				v.Stop = errs.Text(p.L.Lang, rep.Code, rep.Params)
			}
		}
		if id := r.URL.Query().Get("stopped"); id != "" && id == strconv.FormatInt(run.ID, 10) && v.Stop != "" {
			key := "sync.stopped_banner"
			if run.DryRun {
				key = "sync.dry_run_would_stop_banner"
			}
			d.Warning = p.L.T(key, run.Source, v.Stop)
		}
		d.Runs = append(d.Runs, v)
	}
	d.Kinds = []string{sis.KindCSV, sis.KindOneRoster, sis.KindSQL}
	d.Actions = []string{sis.ActionSuspend, sis.ActionUnenrol, sis.ActionKeep}
	d.Auths = []string{"cas", "oidc"}
	p.Data = d
	w.render(rw, r, status, "admin_sync", p)
}

// syncForm reads the source form.
func syncForm(r *http.Request) sis.Config {
	c := sis.Config{Name: formValue(r, "name"), Kind: formValue(r, "kind"), Location: formValue(r, "location"),
		Query: r.PostFormValue("query"), Action: formValue(r, "action"), Schedule: formValue(r, "schedule"),
		CreateAccounts: r.PostFormValue("create_accounts") != "", AccountAuth: formValue(r, "account_auth"),
		CreateCourses: r.PostFormValue("create_courses") != "", Enabled: r.PostFormValue("enabled") != ""}
	if t := strings.TrimSpace(r.PostFormValue("threshold")); t != "" {
		v, err := strconv.ParseFloat(t, 64)
		if err != nil {
			v = -1 // reported by the service
		} else if v == 0 {
			v = 1e-9 // 0 %: no removal at all
		}
		c.Threshold = v
	}
	return c
}

// adminSyncSave creates a source (POST /admin/sync) or updates one (POST /admin/sync/{name}).
func (w *Web) adminSyncSave(rw http.ResponseWriter, r *http.Request) {
	if w.requireLogin(rw, r) == nil {
		return
	}
	if err := parseForm(rw, r); err != nil {
		w.badForm(rw, r)
		return
	}
	if w.SIS == nil {
		w.forbidden(rw, r)
		return
	}
	in := syncForm(r)
	name := r.PathValue("name")
	var c *sis.Config
	var err error
	if name == "" {
		c, err = w.SIS.Create(r.Context(), in)
	} else {
		c, err = w.SIS.Update(r.Context(), name, in)
	}
	if err != nil {
		p := w.page(rw, r, "sync.title")
		status := showError(p, err)
		w.syncRender(rw, r, p, &syncData{Form: in, Editing: name}, status)
		return
	}
	http.Redirect(rw, r, "/admin/sync?saved="+url.QueryEscape(c.Name), http.StatusSeeOther)
}

// adminSyncDelete removes a source's configuration.
func (w *Web) adminSyncDelete(rw http.ResponseWriter, r *http.Request) {
	if w.requireLogin(rw, r) == nil {
		return
	}
	if err := parseForm(rw, r); err != nil {
		w.badForm(rw, r)
		return
	}
	name := r.PathValue("name")
	if w.SIS == nil {
		w.forbidden(rw, r)
		return
	}
	if err := w.SIS.Delete(r.Context(), name); err != nil {
		p := w.page(rw, r, "sync.title")
		w.render(rw, r, showError(p, err), "message", p)
		return
	}
	http.Redirect(rw, r, "/admin/sync?deleted="+url.QueryEscape(name), http.StatusSeeOther)
}

// adminSyncRun runs a source now (dry=1: a dry run), then shows the page with its report
// first in the runs list.
func (w *Web) adminSyncRun(rw http.ResponseWriter, r *http.Request) {
	if w.requireLogin(rw, r) == nil {
		return
	}
	if err := parseForm(rw, r); err != nil {
		w.badForm(rw, r)
		return
	}
	name := r.PathValue("name")
	if w.SIS == nil {
		w.forbidden(rw, r)
		return
	}
	rep, err := w.SIS.RunNow(r.Context(), name, r.PostFormValue("dry") != "")
	if err != nil {
		var e *errs.Error
		if !errors.As(err, &e) {
			// The source could not be read: the run is recorded as failed, with why.
			http.Redirect(rw, r, "/admin/sync?failed="+url.QueryEscape(name), http.StatusSeeOther)
			return
		}
		p := w.page(rw, r, "sync.title")
		w.render(rw, r, showError(p, err), "message", p)
		return
	}
	if rep.Status == "stopped" || rep.MessageCode == "sync_would_stop" {
		// Stopped by the threshold (or a dry run that a real run would see stopped): a warning
		// on top says so and why, never "run done".
		http.Redirect(rw, r, "/admin/sync?stopped="+strconv.FormatInt(rep.RunID, 10)+"#runs", http.StatusSeeOther)
		return
	}
	// The notice is written by the page in the reader's language: the redirect carries numbers.
	q := url.Values{"ran": {name}, "added": {strconv.Itoa(rep.Added)}, "changed": {strconv.Itoa(rep.Changed)},
		"removed": {strconv.Itoa(rep.Removed)}}
	http.Redirect(rw, r, "/admin/sync?"+q.Encode()+"#runs", http.StatusSeeOther)
}
