package web

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"roster/internal/authz"
	"roster/internal/bulk"
	"roster/internal/course"
	"roster/internal/errs"
	"roster/internal/group"
	"roster/internal/httpx"
)

// /admin/imports: bulk imports for platform administrators (the service checks). A file is
// uploaded (or spreadsheet rows pasted) and previewed; the server keeps its copy (a temporary
// file), under a random token bound to the person and the session that uploaded it, so that Apply reads exactly the bytes the
// preview showed. Apply checks it again, records the batch and applies it in the background;
// the batch page shows the progress (static/imports.js polls /admin/imports/{id}/progress),
// then the per-row report, downloadable as CSV, and offers Undo.

const (
	maxImportUpload = 256 << 20     // an uploaded file
	maxImportField  = 16 << 20      // a pasted text, other fields far less
	uploadTTL       = 2 * time.Hour // an uploaded file waits this long for Apply
	importListLimit = 50            // batches listed
	importPageRows  = 2000          // report rows shown on the page (the CSV has them all)
)

// importUpload is a previewed file kept for Apply.
type importUpload struct {
	path    string
	userID  int64
	session [32]byte // hash of the session cookie it was uploaded in
	opts    bulk.Options
	created time.Time
}

// uploads holds the previewed files by token.
var uploads = struct {
	sync.Mutex
	m map[string]*importUpload
}{m: map[string]*importUpload{}}

func keepUpload(u *importUpload) string {
	b := make([]byte, 16)
	rand.Read(b)
	token := hex.EncodeToString(b)
	uploads.Lock()
	defer uploads.Unlock()
	for k, old := range uploads.m {
		if time.Since(old.created) > uploadTTL {
			os.Remove(old.path)
			delete(uploads.m, k)
		}
	}
	uploads.m[token] = u
	return token
}

// sessionOf identifies the session of r without keeping its token.
func sessionOf(r *http.Request) [32]byte { return sha256.Sum256([]byte(httpx.SessionToken(r))) }

// takeUpload removes and returns the upload of token when it belongs to userID in session.
func takeUpload(token string, userID int64, session [32]byte) *importUpload {
	uploads.Lock()
	defer uploads.Unlock()
	u := uploads.m[token]
	if u == nil || u.userID != userID || u.session != session || time.Since(u.created) > uploadTTL {
		return nil
	}
	delete(uploads.m, token)
	return u
}

func putBackUpload(token string, u *importUpload) {
	uploads.Lock()
	defer uploads.Unlock()
	uploads.m[token] = u
}

// bulkService returns the import service.
func (w *Web) bulkService() *bulk.Service {
	groups, courses := w.Groups, w.Courses
	if groups == nil {
		groups = group.NewService(w.db)
	}
	if courses == nil {
		courses = course.NewService(w.db, course.Config{BaseURL: w.cfg.BaseURL})
	}
	return bulk.NewService(w.db, w.Accounts, groups, courses)
}

type importForm struct {
	Format     string
	Mode       string
	MatchEmail bool
	UserField  string // enrolments: username, email, idnumber; "" any
	ValidOnly  bool
	Notify     bool
	Paste      string
}

func (f importForm) options() bulk.Options {
	return bulk.Options{Format: f.Format, Mode: f.Mode, MatchEmail: f.MatchEmail, UserField: f.UserField, ValidOnly: f.ValidOnly, Notify: f.Notify,
		CreateGroups: true}
}

type importsData struct {
	Form       importForm
	Formats    []string
	Modes      []string
	UserFields []string
	Preview    *bulk.Report
	Rows       []bulk.RowResult // the preview's rows shown: the first ones, and every error
	MoreRows   int              // rows of the preview not shown
	Token      string
	CanApply   bool
	Batches    []*bulk.Batch
}

func (w *Web) importsPage(rw http.ResponseWriter, r *http.Request, p *Page, d *importsData, status int) {
	d.Formats = bulk.Formats
	d.UserFields = []string{"", bulk.UserUsername, bulk.UserEmail, bulk.UserIDNumber}
	if d.Preview != nil {
		d.Rows, d.MoreRows = previewRows(d.Preview.Rows)
	}
	d.Modes = []string{bulk.AddNew, bulk.AddUpdate, bulk.UpdateOnly}
	batches, err := w.bulkService().Batches(r.Context(), importListLimit)
	if err != nil {
		w.render(rw, r, showError(p, err), "message", p)
		return
	}
	d.Batches = batches
	p.Data = d
	w.render(rw, r, status, "admin_imports", p)
}

func (w *Web) adminImports(rw http.ResponseWriter, r *http.Request) {
	if w.requireLogin(rw, r) == nil {
		return
	}
	p := w.page(rw, r, "imports.title")
	if err := authz.RequirePlatformAdmin(r.Context()); err != nil {
		w.render(rw, r, showError(p, err), "message", p)
		return
	}
	w.importsPage(rw, r, p, &importsData{Form: importForm{Format: bulk.FormatMoodle, Mode: bulk.AddNew}}, http.StatusOK)
}

// adminImportPreview reads the multipart form as a stream: the file part is copied to a
// temporary file, the pasted text too (as the tsv format); the other fields are small.
func (w *Web) adminImportPreview(rw http.ResponseWriter, r *http.Request) {
	u := w.requireLogin(rw, r)
	if u == nil {
		return
	}
	p := w.page(rw, r, "imports.title")
	if err := authz.RequirePlatformAdmin(r.Context()); err != nil {
		w.render(rw, r, showError(p, err), "message", p)
		return
	}
	d := &importsData{}
	tmp, err := os.CreateTemp("", "roster-import-*")
	if err != nil {
		w.render(rw, r, showError(p, errs.Wrap(err, "import: spool")), "message", p)
		return
	}
	keep := false
	defer func() {
		tmp.Close()
		if !keep {
			os.Remove(tmp.Name())
		}
	}()
	size, err := readImportForm(rw, r, tmp, &d.Form)
	if err != nil {
		var maxErr *http.MaxBytesError
		if errors.As(err, &maxErr) {
			p.Error = p.L.T("imports.too_large", maxImportUpload>>20)
			w.importsPage(rw, r, p, d, http.StatusRequestEntityTooLarge)
			return
		}
		p.Error = p.L.T("imports.bad_form")
		w.importsPage(rw, r, p, d, http.StatusBadRequest)
		return
	}
	if size == 0 && d.Form.Paste != "" {
		d.Form.Format = bulk.FormatTSV
		n, _ := io.WriteString(tmp, d.Form.Paste)
		size = int64(n)
	}
	if size == 0 {
		p.Fields["file"] = p.L.T("imports.no_file")
		w.importsPage(rw, r, p, d, http.StatusUnprocessableEntity)
		return
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		w.render(rw, r, showError(p, errs.Wrap(err, "import: spool")), "message", p)
		return
	}
	rep, err := w.bulkService().Preview(r.Context(), tmp, d.Form.options())
	if err != nil {
		w.importsPage(rw, r, p, d, showError(p, err))
		return
	}
	keep = true
	d.Preview = rep
	d.CanApply = rep.Summary.Errors == 0 || d.Form.ValidOnly
	d.Token = keepUpload(&importUpload{path: tmp.Name(), userID: u.ID, session: sessionOf(r), opts: d.Form.options(), created: time.Now()})
	w.importsPage(rw, r, p, d, http.StatusOK)
}

// readImportForm streams the form: the file into tmp (its size returned), the fields into f.
func readImportForm(rw http.ResponseWriter, r *http.Request, tmp *os.File, f *importForm) (int64, error) {
	r.Body = http.MaxBytesReader(rw, r.Body, maxImportUpload+maxImportField)
	mr, err := r.MultipartReader()
	if err != nil {
		return 0, err
	}
	var size int64
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			return size, nil
		}
		if err != nil {
			return 0, err
		}
		if part.FormName() == "file" && part.FileName() != "" {
			n, err := io.Copy(tmp, io.LimitReader(part, maxImportUpload+1))
			if err != nil {
				return 0, err
			}
			if n > maxImportUpload {
				return 0, &http.MaxBytesError{Limit: maxImportUpload}
			}
			size += n
			continue
		}
		b, err := io.ReadAll(io.LimitReader(part, maxImportField+1))
		if err != nil {
			return 0, err
		}
		if len(b) > maxImportField {
			return 0, &http.MaxBytesError{Limit: maxImportField}
		}
		v := string(b)
		switch part.FormName() {
		case "format":
			f.Format = strings.TrimSpace(v)
		case "mode":
			f.Mode = strings.TrimSpace(v)
		case "match_email":
			f.MatchEmail = v != ""
		case "user_field":
			f.UserField = strings.TrimSpace(v)
		case "valid_only":
			f.ValidOnly = v != ""
		case "notify":
			f.Notify = v != ""
		case "paste":
			if strings.TrimSpace(v) != "" {
				f.Paste = strings.ReplaceAll(v, "\r\n", "\n")
			}
		}
	}
}

// adminImportApply checks the kept file again and starts applying it in the background.
func (w *Web) adminImportApply(rw http.ResponseWriter, r *http.Request) {
	u := w.requireLogin(rw, r)
	if u == nil {
		return
	}
	p := w.page(rw, r, "imports.title")
	if err := parseForm(rw, r); err != nil {
		p.Error = p.L.T("imports.bad_form")
		w.render(rw, r, http.StatusBadRequest, "message", p)
		return
	}
	if err := authz.RequirePlatformAdmin(r.Context()); err != nil {
		w.render(rw, r, showError(p, err), "message", p)
		return
	}
	token := formValue(r, "token")
	up := takeUpload(token, u.ID, sessionOf(r))
	if up == nil {
		p.Error = p.L.T("imports.expired")
		w.importsPage(rw, r, p, &importsData{Form: importForm{Format: bulk.FormatMoodle, Mode: bulk.AddNew}}, http.StatusGone)
		return
	}
	o := up.opts
	if formValue(r, "valid_only") != "" {
		o.ValidOnly = true
	}
	open := func() (io.ReadCloser, error) { return os.Open(up.path) }
	svc := w.bulkService()
	rep, id, err := svc.Begin(r.Context(), open, o)
	if err != nil || id == 0 {
		putBackUpload(token, up)
		d := &importsData{Form: importForm{Format: o.Format, Mode: o.Mode, MatchEmail: o.MatchEmail, UserField: o.UserField,
			ValidOnly: o.ValidOnly, Notify: o.Notify}, Preview: rep, Token: token}
		status := http.StatusUnprocessableEntity
		if err != nil {
			status = showError(p, err)
		} else {
			p.Error = p.L.T("imports.has_errors")
		}
		w.importsPage(rw, r, p, d, status)
		return
	}
	// The apply outlives the request; the principal stays. A crash leaves the batch applying:
	// the next start rolls it back (bulk.Service.Recover).
	ctx := context.WithoutCancel(r.Context())
	go func() {
		defer os.Remove(up.path)
		if _, err := svc.Run(ctx, id, open, o); err != nil {
			w.log.Error("import: apply failed, rolled back", "batch", id, "err", err)
		}
	}()
	http.Redirect(rw, r, "/admin/imports/"+strconv.FormatInt(id, 10), http.StatusSeeOther)
}

// previewRows keeps the first importPageRows rows of a preview, and the rows with errors
// after them (up to as many again).
func previewRows(rows []bulk.RowResult) ([]bulk.RowResult, int) {
	if len(rows) <= importPageRows {
		return rows, 0
	}
	out := rows[:importPageRows:importPageRows]
	for _, r := range rows[importPageRows:] {
		if r.Action == bulk.ActError && len(out) < 2*importPageRows {
			out = append(out, r)
		}
	}
	return out, len(rows) - len(out)
}
