package web

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"roster/internal/course"
	"roster/internal/errs"
)

type enrolData struct {
	Roles  []course.Role
	Groups []course.PickGroup
	Picked []course.Candidate // after an error: the people who were ticked, ticked again
}

func (w *Web) enrolDialog(r *http.Request, courseID int64, roles []course.Role, picked []int64) *enrolData {
	groups, err := w.Courses.PickableGroups(r.Context())
	if err != nil {
		w.log.Error("enrol dialog groups", "err", err)
	}
	d := &enrolData{Roles: roles, Groups: groups}
	if len(picked) > 0 {
		if d.Picked, err = w.Courses.Candidates(r.Context(), courseID, picked); err != nil {
			w.log.Error("enrol dialog people", "err", err)
		}
	}
	return d
}

// courseEnrolSearch answers the dialog's search as one types: JSON [{id, first_name,
// last_name, email, enrolled}].
func (w *Web) courseEnrolSearch(rw http.ResponseWriter, r *http.Request) {
	id, ok := w.courseID(rw, r)
	if !ok {
		return
	}
	found, err := w.Courses.SearchUsers(r.Context(), id, r.URL.Query().Get("q"))
	rw.Header().Set("Content-Type", "application/json")
	rw.Header().Set("Cache-Control", "no-store")
	if err != nil {
		p := w.page(rw, r, "participants.title")
		rw.WriteHeader(showError(p, err))
		json.NewEncoder(rw).Encode(map[string]string{"error": p.Error})
		return
	}
	json.NewEncoder(rw).Encode(found)
}

// courseEnrolSubmit enrols the ticked people and the current members of the ticked groups.
func (w *Web) courseEnrolSubmit(rw http.ResponseWriter, r *http.Request) {
	id, ok := w.courseForm(rw, r, true)
	if !ok {
		return
	}
	p := w.page(rw, r, "participants.title")
	req := course.EnrolRequest{Role: formValue(r, "role")}
	for _, v := range r.PostForm["user"] {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			req.UserIDs = append(req.UserIDs, n)
		}
	}
	for _, v := range r.PostForm["group"] {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			req.GroupIDs = append(req.GroupIDs, n)
		}
	}
	var err error
	if req.StartsAt, err = formDate(r, "starts_at"); err == nil {
		if days := formValue(r, "duration_days"); days != "" {
			n, convErr := strconv.Atoi(days)
			if convErr != nil || n < 0 {
				n = -1
			}
			req.Duration = time.Duration(n) * 24 * time.Hour
		}
		var res *course.EnrolResult
		if res, err = w.Courses.Enrol(r.Context(), id, req); err == nil {
			http.Redirect(rw, r, "/courses/"+strconv.FormatInt(id, 10)+"/participants?done=enrol&n="+strconv.Itoa(res.Enrolled), http.StatusSeeOther)
			return
		}
	}
	if errs.Is(err, errs.Unauthorized) {
		w.courseError(rw, r, p, err)
		return
	}
	w.participantsRender(rw, r, p, id, err)
}

// courseEnrolJS is the dialog's script: search as one types, tick the people found. Served
// from here rather than static/ so that the courses feature stays in its own files.
func (w *Web) courseEnrolJS(rw http.ResponseWriter, r *http.Request) {
	rw.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	rw.Header().Set("Cache-Control", "public, max-age=300")
	rw.Write([]byte(enrolJS))
}

const enrolJS = `"use strict";
(function () {
  var box = document.getElementById("enrol-search");
  if (!box) return;
  var out = document.getElementById("enrol-results");
  var picked = document.getElementById("enrol-picked");
  var url = box.getAttribute("data-url");
  var timer = null, seq = 0;
  function chosen(id) { return picked.querySelector('input[value="' + id + '"]'); }
  function add(u) {
    if (chosen(u.id)) return;
    var label = document.createElement("label");
    label.className = "check";
    var cb = document.createElement("input");
    cb.type = "checkbox"; cb.name = "user"; cb.value = u.id; cb.checked = true;
    label.appendChild(cb);
    label.appendChild(document.createTextNode(" " + u.first_name + " " + u.last_name + " <" + u.email + ">"));
    picked.appendChild(label);
  }
  function show(list) {
    out.textContent = "";
    list.forEach(function (u) {
      var b = document.createElement("button");
      b.type = "button"; b.className = "link enrol-hit";
      b.textContent = u.first_name + " " + u.last_name + " — " + u.email + (u.enrolled ? " ✓" : "");
      b.addEventListener("click", function () { add(u); });
      var li = document.createElement("li");
      li.appendChild(b);
      out.appendChild(li);
    });
  }
  box.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(function () {
      var mine = ++seq;
      fetch(url + "?q=" + encodeURIComponent(box.value), { credentials: "same-origin" })
        .then(function (r) { return r.json(); })
        .then(function (list) { if (mine === seq && Array.isArray(list)) show(list); });
    }, 150);
  });
  var all = document.getElementById("select-all");
  if (all) all.addEventListener("change", function () {
    document.querySelectorAll('input[name="user"][form="bulk"]').forEach(function (c) { c.checked = all.checked; });
  });
})();
`
