package web

import (
	"encoding/csv"
	"io"
	"net/http"
	"strconv"
	"strings"

	"roster/internal/account"
	"roster/internal/authz"
	"roster/internal/errs"
	"roster/internal/group"
)

// A group's members: adding one goes through a preview that says what the propagation rule
// will also do ("This will also make Alice a learner of Region and Company"), then a
// confirmation; removing one takes a role and a source; the list downloads as CSV.

type groupAddData struct {
	G       *group.Group
	U       *account.User
	Role    string
	Login   string // what the caller typed: the confirmation adds the account it names
	Ident   string // how the account is shown: username and email to those who may see it, else Login
	Also    string // the sentence naming the other groups the person will join, or ""
	Already bool   // the person already holds the role here by hand: nothing will change
}

// groupAddPreview finds the account named by login (username or email) and shows what adding
// it with role will do, with a button to confirm.
func (w *Web) groupAddPreview(rw http.ResponseWriter, r *http.Request) {
	if w.requireLogin(rw, r) == nil {
		return
	}
	id, ok := w.groupID(rw, r)
	if !ok {
		return
	}
	ctx := r.Context()
	q := r.URL.Query()
	login, role := strings.TrimSpace(q.Get("login")), q.Get("role")
	p := w.page(rw, r, "groups.add.title")
	back := func(status int) {
		addFormErrors(p)
		w.groupRender(rw, r, p, id, &groupPageData{Login: login, AddRole: role}, status)
	}
	if !group.ValidRole(role) {
		p.Fields["add_role"] = p.L.T("groups.bad_role")
		back(http.StatusUnprocessableEntity)
		return
	}
	// Looking accounts up is for those who may add them: ask first, so that nobody else can
	// learn which logins exist. PreviewAdd checks again.
	if err := authz.CanGrantRole(ctx, w.db, id, role); err != nil {
		back(showError(p, err))
		return
	}
	if login == "" {
		p.Fields["login"] = p.L.T("groups.login_required")
		back(http.StatusUnprocessableEntity)
		return
	}
	u, err := w.Accounts.UserByLogin(ctx, w.db, login)
	if errs.Is(err, errs.NotFound) {
		p.Fields["login"] = p.L.T("groups.no_account", login)
		back(http.StatusUnprocessableEntity)
		return
	}
	if err != nil {
		back(showError(p, err))
		return
	}
	also, err := w.Groups.PreviewNamedAdd(ctx, id, u.ID, role)
	if err != nil {
		back(showError(p, err))
		return
	}
	g, err := w.Groups.Get(ctx, id)
	if err != nil {
		w.groupMessage(rw, r, p, err)
		return
	}
	// The address of someone outside the caller's sight is not shown: only what they typed.
	d := &groupAddData{G: g, U: u, Role: role, Login: login, Ident: login}
	if authz.CanViewUser(ctx, w.db, u.ID) == nil {
		d.Ident = u.Username + ", " + u.Email
	}
	if len(also) > 0 {
		names := make([]string, len(also))
		for i, a := range also {
			names[i] = a.Name
		}
		d.Also = p.L.T("groups.add.also", u.Name(), joinAnd(p.L, names))
	}
	// Already there by hand? Then confirming changes nothing; say so.
	key := u.Username
	if key == "" {
		key = u.Email
	}
	same, _, err := w.Groups.Members(ctx, id, group.MemberFilter{Q: key, Role: role, Limit: group.MaxLimit})
	if err != nil {
		back(showError(p, err))
		return
	}
	for _, m := range same {
		if m.UserID == u.ID && m.Source.Kind == group.SourceManual {
			d.Already = true
		}
	}
	p.Data = d
	w.render(rw, r, http.StatusOK, "group_add", p)
}

// groupAdd adds the member confirmed on the preview.
func (w *Web) groupAdd(rw http.ResponseWriter, r *http.Request) {
	if w.requireLogin(rw, r) == nil {
		return
	}
	id, ok := w.groupID(rw, r)
	if !ok {
		return
	}
	if err := parseForm(rw, r); err != nil {
		w.badForm(rw, r)
		return
	}
	// The account is the one the login typed on the preview names (an older form sends its
	// id: then it must be one the caller may see).
	role := formValue(r, "role")
	if err := w.addConfirmed(r, id, role); err != nil {
		p := w.page(rw, r, "groups.title")
		status := showError(p, err)
		addFormErrors(p)
		w.groupRender(rw, r, p, id, &groupPageData{AddRole: role}, status)
		return
	}
	http.Redirect(rw, r, groupURL(id)+"?done=added#members", http.StatusSeeOther)
}

// addConfirmed adds the account named by the login typed on the preview (an older form sends
// its id: then it must be one the caller may see, see group.Service.AddMember).
func (w *Web) addConfirmed(r *http.Request, groupID int64, role string) error {
	ctx := r.Context()
	login := strings.TrimSpace(formValue(r, "login"))
	if login == "" {
		userID, _ := strconv.ParseInt(formValue(r, "user_id"), 10, 64)
		return w.Groups.AddMember(ctx, groupID, userID, role, "")
	}
	// The right first, so that nobody else learns which logins exist.
	if err := authz.CanGrantRole(ctx, w.db, groupID, role); err != nil {
		return err
	}
	u, err := w.Accounts.UserByLogin(ctx, w.db, login)
	if err != nil {
		return err
	}
	return w.Groups.AddNamedMember(ctx, groupID, u.ID, role)
}

// groupRemove removes one membership: a person's role from one source.
func (w *Web) groupRemove(rw http.ResponseWriter, r *http.Request) {
	if w.requireLogin(rw, r) == nil {
		return
	}
	id, ok := w.groupID(rw, r)
	if !ok {
		return
	}
	if err := parseForm(rw, r); err != nil {
		w.badForm(rw, r)
		return
	}
	userID, _ := strconv.ParseInt(formValue(r, "user_id"), 10, 64)
	if err := w.Groups.RemoveMember(r.Context(), id, userID, formValue(r, "role"), formValue(r, "source")); err != nil {
		p := w.page(rw, r, "groups.title")
		status := showError(p, err)
		for _, msg := range p.Fields {
			p.Error = msg // the row's hidden fields have nowhere to show a message
		}
		w.groupRender(rw, r, p, id, &groupPageData{}, status)
		return
	}
	http.Redirect(rw, r, groupURL(id)+"?done=removed#members", http.StatusSeeOther)
}

// groupMembersCSV downloads the members matching the page's search and role filter.
func (w *Web) groupMembersCSV(rw http.ResponseWriter, r *http.Request) {
	if w.requireLogin(rw, r) == nil {
		return
	}
	id, ok := w.groupID(rw, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	out := &csvDownload{rw: rw, name: "group-" + strconv.FormatInt(id, 10) + "-members.csv"}
	f := group.MemberFilter{Q: q.Get("q"), Role: q.Get("role")}
	var err error
	if q.Get("headers") == "codes" {
		err = w.Groups.MembersCSV(r.Context(), id, f, out)
	} else {
		err = w.membersCSVIn(r, w.page(rw, r, "").L, id, f, out)
	}
	if err != nil && !out.started {
		p := w.page(rw, r, "groups.title")
		w.groupMessage(rw, r, p, err)
		return
	}
	if err != nil {
		// Part of the file is sent already: all that is left is to log it.
		w.log.Error("web: members csv", "group", id, "err", err)
	}
}

// csvDownload sends the download's headers with its first bytes, so that an error found
// before anything is written can still be a page.
type csvDownload struct {
	rw      http.ResponseWriter
	name    string
	started bool
}

func (c *csvDownload) Write(b []byte) (int, error) {
	if !c.started {
		c.started = true
		h := c.rw.Header()
		h.Set("Content-Type", "text/csv; charset=utf-8")
		h.Set("Content-Disposition", `attachment; filename="`+c.name+`"`)
		h.Set("Cache-Control", "no-store")
	}
	return c.rw.Write(b)
}

// addFormErrors moves the messages about the add form's fields beside them: the service
// names the person user_id (the form asks for a login) and the role role (a name the members
// filter uses too).
func addFormErrors(p *Page) {
	for from, to := range map[string]string{"user_id": "login", "role": "add_role"} {
		if msg, ok := p.Fields[from]; ok {
			delete(p.Fields, from)
			p.Fields[to] = msg
		}
	}
}

// joinAnd joins names as "A, B and C" in the page's language.
func joinAnd(l Localizer, names []string) string {
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " " + l.T("groups.and") + " " + names[len(names)-1]
}

// membersCSVIn writes the members CSV in the person's language: a byte order mark (so that
// spreadsheets read accents right), headers, roles and sources in words. ?headers=codes keeps
// the machine file.
func (w *Web) membersCSVIn(r *http.Request, l Localizer, id int64, f group.MemberFilter, out *csvDownload) error {
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(w.Groups.MembersCSV(r.Context(), id, f, pw)) }()
	defer pr.Close()
	in := csv.NewReader(pr)
	header, err := in.Read()
	if err != nil {
		return err // nothing sent yet: the caller shows the error as a page
	}
	cw := csv.NewWriter(out)
	if _, err := io.WriteString(out, "\ufeff"); err != nil {
		return err
	}
	col := map[string]int{}
	words := make([]string, len(header))
	for i, h := range header {
		col[h] = i
		words[i] = l.T("export.col." + h)
	}
	if err := cw.Write(words); err != nil {
		return err
	}
	for {
		rec, err := in.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if i, ok := col["role"]; ok && i < len(rec) {
			rec[i] = l.Label("group_role", rec[i])
		}
		if i, ok := col["source"]; ok && i < len(rec) {
			kind, _, _ := strings.Cut(rec[i], ":")
			rec[i] = l.Label("source", kind)
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
