package web

import (
	"bytes"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"roster/internal/course"
	"roster/internal/errs"
)

type participantsData struct {
	Course  *course.Course
	Rights  course.Rights
	Filter  url.Values // the filters as typed, for the form and the links
	Roles   []course.Role
	Groups  []course.Group
	Methods []course.Method
	Page    *course.Page
	PerPage string // "20", "50", "100" or "all"
	PageNum int
	Pages   int
	Query   string // the filters and sort as a query string, for the download and page links
	Sort    string
	Desc    bool
	Now     time.Time
	Enrol   *enrolData
	// EnrolOpen shows the "Enrol users" dialog open (?enrol=1, or after its error), with the
	// role and groups chosen.
	EnrolOpen   bool
	EnrolError  string
	EnrolRole   string
	EnrolGroups []string
	EnrolUsers  []int64 // the people ticked when the dialog came back with an error
	EnrolStart  string  // and the start date and duration typed
	EnrolDays   string
	Mailto      string // after "send a message": the mailto link of the selection
	Selected    int
	// HiddenAddresses: selected people whose address the caller may not see (course.Participant.EmailHidden).
	HiddenAddresses int
}

// GroupPicked reports whether the dialog's group id was ticked.
func (d *participantsData) GroupPicked(id int64) bool {
	return slices.Contains(d.EnrolGroups, strconv.FormatInt(id, 10))
}

// F is the value of a filter as typed.
func (d *participantsData) F(key string) string { return d.Filter.Get(key) }

// Statuses, PerPages and Formats are the choices the page offers.
func (d *participantsData) Statuses() []string {
	return []string{course.Active, course.Suspended, course.NotCurrent}
}

// PerPages lists the page sizes.
func (d *participantsData) PerPages() []string { return []string{"20", "50", "100", "all"} }

// Formats lists the download formats.
func (d *participantsData) Formats() []string {
	return []string{course.CSV, course.XLSX, course.ODS, course.JSON}
}

// PageNums lists the page numbers to link: the first, the last, and ten around the current.
func (d *participantsData) PageNums() []int {
	var out []int
	for n := 1; n <= d.Pages; n++ {
		if n == 1 || n == d.Pages || (n >= d.PageNum-5 && n <= d.PageNum+5) {
			out = append(out, n)
		}
	}
	return out
}

// SortLink returns the query string that sorts by col (reversing the order when it is the
// current column).
func (d *participantsData) SortLink(col string) string {
	v := cloneValues(d.Filter)
	s := col
	if d.Sort == col && !d.Desc {
		s = "-" + col
	}
	v.Set("sort", s)
	v.Del("page")
	return "?" + v.Encode()
}

// Arrow shows the order of the column the list is sorted by: ▲ ascending, ▼ descending.
func (d *participantsData) Arrow(col string) string {
	switch {
	case d.Sort != col:
		return ""
	case d.Desc:
		return " ▼"
	default:
		return " ▲"
	}
}

// DownloadLink returns the link that downloads every filtered row in a format.
func (d *participantsData) DownloadLink(format string) string {
	v := cloneValues(d.Filter)
	v.Del("page")
	v.Del("perpage")
	v.Set("format", format)
	return "/courses/" + strconv.FormatInt(d.Course.ID, 10) + "/participants/download?" + v.Encode()
}

// PageLink returns the query string of page n.
func (d *participantsData) PageLink(n int) string {
	v := cloneValues(d.Filter)
	v.Set("page", strconv.Itoa(n))
	return "?" + v.Encode()
}

// RoleName is the name of a role short name in lang.
func (d *participantsData) RoleName(short, lang string) string {
	for _, r := range d.Roles {
		if r.Shortname == short {
			return r.NameIn(lang)
		}
	}
	return short
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		if len(vs) > 0 && vs[0] != "" {
			out[k] = append([]string(nil), vs...)
		}
	}
	return out
}

// courseParticipants is the participants list: filters, sort, pages, bulk actions, downloads
// and the "Enrol users" dialog.
func (w *Web) courseParticipants(rw http.ResponseWriter, r *http.Request) {
	id, ok := w.courseID(rw, r)
	if !ok {
		return
	}
	p := w.page(rw, r, "participants.title")
	w.participantsRender(rw, r, p, id, nil)
}

// participantsRender shows the participants list; with enrolErr, the error of the "Enrol
// users" dialog, which stays open with the values chosen (never an empty page).
func (w *Web) participantsRender(rw http.ResponseWriter, r *http.Request, p *Page, id int64, enrolErr error) {
	ctx := r.Context()
	c, err := w.Courses.Get(ctx, id)
	if err != nil {
		w.courseError(rw, r, p, err)
		return
	}
	q := r.URL.Query()
	d := &participantsData{Course: c, Rights: w.Courses.RightsIn(ctx, id), Filter: cloneValues(q), Now: time.Now(),
		PerPage: q.Get("perpage"), PageNum: 1, EnrolOpen: q.Get("enrol") != ""}
	d.Filter.Del("enrol")
	status := http.StatusOK
	if enrolErr != nil {
		status = showError(p, enrolErr)
		topFields(p, "role", "starts_at", "duration", "ends_at")
		if d.Rights.ManageParticipants {
			d.EnrolError, p.Error = p.Error, "" // shown in the dialog, once
		}
		d.EnrolOpen = true
		d.EnrolRole = formValue(r, "role")
		d.EnrolStart, d.EnrolDays = formValue(r, "starts_at"), formValue(r, "duration_days")
		for _, v := range r.PostForm["group"] {
			d.EnrolGroups = append(d.EnrolGroups, v)
		}
		for _, v := range r.PostForm["user"] {
			if n, err := strconv.ParseInt(v, 10, 64); err == nil {
				d.EnrolUsers = append(d.EnrolUsers, n)
			}
		}
	}
	d.Filter.Del("done")
	d.Filter.Del("n")
	p.Data = d
	f, err := course.FilterFromQuery(q)
	if err != nil {
		p.Fields = map[string]string{}
		showError(p, err)
		f = course.ParticipantFilter{}
	}
	d.Sort, d.Desc = f.Sort, f.Desc
	if d.Sort == "" {
		d.Sort = "lastname"
	}
	switch d.PerPage {
	case "50", "100":
		f.Limit, _ = strconv.Atoi(d.PerPage)
	case "all":
		f.Limit = course.All
	default:
		d.PerPage, f.Limit = "20", 20
	}
	if n, err := strconv.Atoi(q.Get("page")); err == nil && n > 1 && f.Limit > 0 {
		d.PageNum = n
		f.Offset = (n - 1) * f.Limit
	}
	d.Page, err = w.Courses.Participants(ctx, id, f)
	if err != nil {
		w.courseError(rw, r, p, err)
		return
	}
	d.Pages = 1
	if f.Limit > 0 && d.Page.Total > 0 {
		d.Pages = (d.Page.Total + f.Limit - 1) / f.Limit
	}
	d.Query = d.Filter.Encode()
	if d.Roles, err = w.Courses.Roles(ctx); err == nil {
		d.Groups, err = w.Courses.Groups(ctx, id)
	}
	if err == nil {
		d.Methods, err = w.Courses.Methods(ctx, id)
	}
	if err != nil {
		w.courseError(rw, r, p, err)
		return
	}
	if d.Rights.ManageParticipants {
		d.Enrol = w.enrolDialog(r, id, d.Roles, d.EnrolUsers)
	}
	switch q.Get("done") {
	case "enrol":
		p.Notice = p.L.T("participants.done.enrol", atoi(q.Get("n")))
	case "unenrol":
		p.Notice = p.L.T("participants.done.unenrol", atoi(q.Get("n")))
	case "status", "dates":
		p.Notice = p.L.T("participants.done.changed", atoi(q.Get("n")))
	case "message":
		p.Notice = p.L.T("participants.done.message", atoi(q.Get("n")))
	}
	w.render(rw, r, status, "course_participants", p)
}

func atoi(s string) int { n, _ := strconv.Atoi(s); return n }

// courseParticipantsBulk applies an action to the selected people, then goes back to the list.
func (w *Web) courseParticipantsBulk(rw http.ResponseWriter, r *http.Request) {
	id, ok := w.courseForm(rw, r, true)
	if !ok {
		return
	}
	p := w.page(rw, r, "participants.title")
	ctx := r.Context()
	var users []int64
	for _, v := range r.PostForm["user"] {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			users = append(users, n)
		}
	}
	back := "/courses/" + strconv.FormatInt(id, 10) + "/participants?" + localQuery(r.PostFormValue("back"))
	if len(users) == 0 {
		p.Error = p.L.T("participants.none_selected")
		w.render(rw, r, http.StatusUnprocessableEntity, "message", p)
		return
	}
	action := r.PostFormValue("action")
	var (
		res  *course.BulkResult
		err  error
		done string
	)
	switch action {
	case "activate", "suspend":
		status := course.Active
		if action == "suspend" {
			status = course.Suspended
		}
		res, err = w.Courses.SetStatus(ctx, id, users, status)
		done = "status"
	case "dates":
		var starts, ends *time.Time
		if starts, err = formDate(r, "starts_at"); err == nil {
			ends, err = formDate(r, "ends_at")
		}
		if err == nil {
			res, err = w.Courses.SetDates(ctx, id, users, starts, ends)
		}
		done = "dates"
	case "unenrol":
		res, err = w.Courses.Unenrol(ctx, id, users, 0)
		done = "unenrol"
	case "message":
		var m *course.MessageResult
		m, err = w.Courses.SendMessage(ctx, id, users, r.PostFormValue("subject"), r.PostFormValue("body"))
		if err == nil {
			res, done = &course.BulkResult{Changed: m.Queued}, "message"
		}
	case "mailto":
		w.courseMessage(rw, r, p, id, users)
		return
	case "csv", "xlsx", "ods", "json":
		w.courseDownload(rw, r, id, course.ParticipantFilter{}, users, action)
		return
	default:
		err = errs.FieldCode("action", "choose_action")
	}
	if err != nil {
		w.courseError(rw, r, p, err)
		return
	}
	http.Redirect(rw, r, back+"&done="+done+"&n="+strconv.Itoa(res.Changed), http.StatusSeeOther)
}

// courseMessage shows the addresses of the selection and a link that opens the reader's mail
// program with them in Bcc: the secondary way to write to them ("message" sends through
// Roster's outbox).
func (w *Web) courseMessage(rw http.ResponseWriter, r *http.Request, p *Page, id int64, users []int64) {
	ctx := r.Context()
	c, err := w.Courses.Get(ctx, id)
	if err != nil {
		w.courseError(rw, r, p, err)
		return
	}
	page, err := w.Courses.Participants(ctx, id, course.ParticipantFilter{Limit: course.All})
	if err != nil {
		w.courseError(rw, r, p, err)
		return
	}
	keep := map[int64]bool{}
	for _, u := range users {
		keep[u] = true
	}
	var addrs []string
	hidden := 0
	for _, it := range page.Items {
		switch {
		case !keep[it.UserID]:
		case it.EmailHidden:
			hidden++
		case it.Email != "":
			addrs = append(addrs, it.Email)
		}
	}
	p.Title = p.L.T("participants.message.title")
	d := &participantsData{Course: c, Selected: len(addrs), HiddenAddresses: hidden}
	d.Mailto = "mailto:?bcc=" + url.QueryEscape(strings.Join(addrs, ",")) + "&subject=" + url.QueryEscape(c.Fullname)
	d.Filter = url.Values{"addresses": {strings.Join(addrs, ", ")}}
	p.Data = d
	w.render(rw, r, http.StatusOK, "course_message", p)
}

// courseParticipantsDownload sends every row the filters select, as CSV, XLSX, ODS or JSON.
func (w *Web) courseParticipantsDownload(rw http.ResponseWriter, r *http.Request) {
	id, ok := w.courseID(rw, r)
	if !ok {
		return
	}
	f, err := course.FilterFromQuery(r.URL.Query())
	if err != nil {
		p := w.page(rw, r, "participants.title")
		w.courseError(rw, r, p, err)
		return
	}
	w.courseDownload(rw, r, id, f, nil, r.URL.Query().Get("format"))
}

func (w *Web) courseDownload(rw http.ResponseWriter, r *http.Request, id int64, f course.ParticipantFilter, only []int64, format string) {
	var buf bytes.Buffer
	// Headers and values in the person's language; ?headers=codes keeps the machine headers.
	var words *course.Words
	if r.URL.Query().Get("headers") != "codes" {
		l := w.page(rw, r, "").L
		words = &course.Words{
			Header: func(col string) string { return l.T("export.col." + col) },
			Value: func(col, v string) string {
				switch col {
				case "roles":
					return l.Role(v, v)
				case "methods":
					return l.Label("method", v)
				case "status":
					return l.T("participants.status." + v)
				}
				return v
			},
			Time: func(t time.Time) string { return l.DateTime(t) },
		}
	}
	if err := w.Courses.ExportIn(r.Context(), id, f, only, format, &buf, words); err != nil {
		p := w.page(rw, r, "participants.title")
		w.courseError(rw, r, p, err)
		return
	}
	rw.Header().Set("Content-Type", course.Formats[format])
	rw.Header().Set("Content-Disposition", `attachment; filename="participants-`+strconv.FormatInt(id, 10)+`.`+format+`"`)
	rw.Header().Set("Cache-Control", "no-store")
	rw.Write(buf.Bytes())
}

// parseBigForm reads a form that may carry a whole course's selection.
func parseBigForm(rw http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(rw, r.Body, 2<<20)
	if err := r.ParseForm(); err != nil {
		return err
	}
	isoDates(r)
	return nil
}

// formDate reads an optional YYYY-MM-DD date field (midnight UTC).
func formDate(r *http.Request, field string) (*time.Time, error) {
	v := formValue(r, field)
	if v == "" {
		return nil, nil
	}
	t, err := time.Parse("2006-01-02", v)
	if err != nil {
		return nil, errs.FieldCode(field, "bad_date")
	}
	return &t, nil
}

// localQuery keeps a query string for a redirect only if it is one (no path, no scheme).
func localQuery(q string) string {
	v, err := url.ParseQuery(q)
	if err != nil {
		return ""
	}
	return v.Encode()
}
