package bulk

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"roster/internal/authz"
	"roster/internal/errs"
	"roster/internal/store"
)

// Statuses of an import batch.
const (
	StatusApplying    = "applying"    // Run is applying it
	StatusApplied     = "applied"     // done; Undo may revert it
	StatusUndone      = "undone"      // reverted by Undo
	StatusFailed      = "failed"      // the apply stopped on an error; what it committed was rolled back
	StatusInterrupted = "interrupted" // the server stopped during the apply; rolled back by Recover
)

// Batch is one import batch, with its progress.
type Batch struct {
	ID        int64      `json:"id"`
	Format    string     `json:"format"`
	Status    string     `json:"status"`
	CreatedBy int64      `json:"created_by,omitempty"`
	Summary   Summary    `json:"summary"`
	RowsTotal int        `json:"rows_total"`
	RowsDone  int        `json:"rows_done"`
	CreatedAt time.Time  `json:"created_at"`
	AppliedAt *time.Time `json:"applied_at,omitempty"`
	UndoneAt  *time.Time `json:"undone_at,omitempty"`
	// Failure says why a failed apply failed, line by line (nothing of it stayed applied).
	Failure []Failure `json:"failure,omitempty"`
}

// Failure is one reason an apply failed: a row that failed when written, or the error that
// stopped the apply, with the line it was on (0 when it was on none). Code and Params are
// the catalog's key ("email_no_dot"; "internal" for a fault of ours, whose cause is only in
// the server's log); Message is the English text.
type Failure struct {
	Line    int    `json:"line,omitempty"`
	Column  int    `json:"column,omitempty"`
	Field   string `json:"field,omitempty"`
	Code    string `json:"code,omitempty"`
	Params  errs.P `json:"params,omitempty"`
	Message string `json:"message"`
}

// FieldError is f as the catalogs translate it.
func (f Failure) FieldError() errs.FieldError {
	return errs.FieldError{Field: f.Field, Line: f.Line, Column: f.Column, Code: f.Code, Params: f.Params, Message: f.Message}
}

// maxFailures caps the reasons a failed batch keeps.
const maxFailures = 500

// lineError ties an error of applying a row to the row's line.
type lineError struct {
	line int
	err  error
}

func (e *lineError) Error() string { return fmt.Sprintf("line %d: %v", e.line, e.err) }
func (e *lineError) Unwrap() error { return e.err }

// atLine returns err tied to line (nil for nil).
func atLine(line int, err error) error {
	if err == nil {
		return nil
	}
	return &lineError{line: line, err: err}
}

// failures lists why an apply failed: the rows of rep that failed when written, or else the
// error err that stopped it.
func failures(rep *Report, err error) []Failure {
	var out []Failure
	if errors.Is(err, errRowsFailed) && rep != nil {
		for _, r := range rep.Rows {
			for _, f := range r.Errors {
				if len(out) == maxFailures {
					return out
				}
				out = append(out, Failure{Line: r.Line, Column: f.Column, Field: f.Field, Code: f.Code, Params: f.Params, Message: f.Message})
			}
		}
		return out
	}
	var le *lineError
	line := 0
	if errors.As(err, &le) {
		line = le.line
	}
	e := errs.As(err)
	switch {
	case e.Code == errs.Internal || e.Code == errs.Unavailable:
		return []Failure{{Line: line, Code: "internal", Message: "internal error"}}
	case len(e.Fields) > 0:
		for _, f := range e.Fields {
			out = append(out, Failure{Line: max(line, f.Line), Column: f.Column, Field: f.Field, Code: f.Code, Params: f.Params, Message: f.Message})
		}
		return out
	}
	return []Failure{{Line: line, Code: e.Key, Params: e.Params, Message: e.Message}}
}

// recordFailure keeps on a failed batch why it failed, and how many rows failed.
func (s *Service) recordFailure(ctx context.Context, batchID int64, rep *Report, err error) error {
	list := failures(rep, err)
	body, jerr := json.Marshal(list)
	if jerr != nil {
		return jerr
	}
	n := 0
	if rep != nil {
		n = rep.Summary.Errors
	}
	return s.db.Tx(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE import_batches SET failure = $1, errors = $2 WHERE id = $3`, string(body), n, batchID)
		return errs.Wrap(err, "bulk: record failure")
	})
}

// BatchRow is one line of an applied batch's report.
type BatchRow struct {
	Line     int      `json:"line"`
	Action   string   `json:"action"`
	UserID   int64    `json:"user_id,omitempty"`
	Changes  []string `json:"changes,omitempty"`  // update: the columns changed
	Messages []string `json:"messages,omitempty"` // errors and notes, in English
	// Remarks are the Messages as codes with parameters, for pages in the reader's language
	// (none for rows recorded before they were kept).
	Remarks []errs.Stored `json:"-"`
}

// progress adds n rows to the batch's rows_done, in the transaction that applied them.
func (s *Service) progress(ctx context.Context, q store.Querier, batchID int64, n int) error {
	_, err := q.ExecContext(ctx, `UPDATE import_batches SET rows_done = rows_done + $1 WHERE id = $2`, n, batchID)
	return errs.Wrap(err, "bulk: progress")
}

const batchColumns = `id, format, status, COALESCE(created_by, 0), created, updated, enrolled, skipped, errors, rows_total,
	rows_done, created_at, applied_at, undone_at, failure`

func scanBatch(r rowScanner) (*Batch, error) {
	var b Batch
	var created int64
	var applied, undone sql.NullInt64
	var failure string
	if err := r.Scan(&b.ID, &b.Format, &b.Status, &b.CreatedBy, &b.Summary.Created, &b.Summary.Updated, &b.Summary.Enrolled,
		&b.Summary.Skipped, &b.Summary.Errors, &b.RowsTotal, &b.RowsDone, &created, &applied, &undone, &failure); err != nil {
		return nil, err
	}
	if failure != "" {
		_ = json.Unmarshal([]byte(failure), &b.Failure)
	}
	b.Summary.Rows = b.RowsTotal
	b.CreatedAt = time.Unix(created, 0).UTC()
	if applied.Valid {
		t := time.Unix(applied.Int64, 0).UTC()
		b.AppliedAt = &t
	}
	if undone.Valid {
		t := time.Unix(undone.Int64, 0).UTC()
		b.UndoneAt = &t
	}
	return &b, nil
}

// Batch returns one import batch with its progress. Platform administrators only. Errors:
// Unauthorized/Forbidden, NotFound.
func (s *Service) Batch(ctx context.Context, id int64) (*Batch, error) {
	if err := authz.RequirePlatformAdmin(ctx); err != nil {
		return nil, err
	}
	b, err := scanBatch(s.db.QueryRowContext(ctx, `SELECT `+batchColumns+` FROM import_batches WHERE id = $1`, id))
	if store.IsNoRows(err) {
		return nil, errs.Coded(errs.NotFound, "import_not_found", errs.P{"batch": id})
	}
	return b, errs.Wrap(err, "bulk: batch")
}

// Batches lists the latest import batches, newest first. Platform administrators only.
func (s *Service) Batches(ctx context.Context, limit int) ([]*Batch, error) {
	if err := authz.RequirePlatformAdmin(ctx); err != nil {
		return nil, err
	}
	var out []*Batch
	err := scanAll(ctx, s.db, `SELECT `+batchColumns+` FROM import_batches ORDER BY id DESC LIMIT $1`, []any{limit},
		func(r rowScanner) error {
			b, err := scanBatch(r)
			if err == nil {
				out = append(out, b)
			}
			return err
		})
	return out, err
}

// BatchRows calls fn with each line of a batch's report, in file order. Platform
// administrators only.
func (s *Service) BatchRows(ctx context.Context, id int64, fn func(BatchRow) error) error {
	if err := authz.RequirePlatformAdmin(ctx); err != nil {
		return err
	}
	return scanAll(ctx, s.db, `SELECT line, action, COALESCE(user_id, 0), before, message, codes, packed FROM import_rows
		WHERE batch_id = $1 ORDER BY line`, []any{id}, func(r rowScanner) error {
		var row BatchRow
		var before, msg, codes, packed string
		if err := r.Scan(&row.Line, &row.Action, &row.UserID, &before, &msg, &codes, &packed); err != nil {
			return err
		}
		if packed != "" { // a run of lines that each created an account, and say nothing else
			lines, err := unpackRows(packed)
			if err != nil {
				return err
			}
			for _, l := range lines {
				if err := fn(BatchRow{Line: int(l[0]), Action: row.Action, UserID: l[1]}); err != nil {
					return err
				}
			}
			return nil
		}
		if codes != "" {
			if err := json.Unmarshal([]byte(codes), &row.Remarks); err != nil {
				return err
			}
		}
		if before != "" {
			var m map[string]any
			if jsonUnmarshal(before, &m) == nil {
				for k := range m {
					row.Changes = append(row.Changes, k)
				}
				sortStrings(row.Changes)
			}
		}
		if msg != "" {
			row.Messages = strings.Split(msg, "\n")
		}
		return fn(row)
	})
}

// Recover rolls back the batches whose apply stopped with its process (their lease ran out):
// what their committed transactions wrote is reverted as Undo does (a transaction holds whole
// rows, so no row is ever half applied), the accounts they created are deleted for good (they
// were never activated, never billable), and they are marked interrupted. They are not
// continued: the person imports the file again, which then gives exactly its people. serve
// calls it at start and every minute (any instance may: a live apply renews its lease), and
// Begin before each import. It returns the batches rolled back.
func (s *Service) Recover(ctx context.Context) ([]int64, error) {
	ctx = authz.With(ctx, authz.System)
	var ids []int64
	if err := scanAll(ctx, s.db, `SELECT id FROM import_batches WHERE status = 'applying' AND alive_until < $1 ORDER BY id`,
		[]any{s.db.Now().Unix()}, func(r rowScanner) error {
			var id int64
			err := r.Scan(&id)
			ids = append(ids, id)
			return err
		}); err != nil {
		return nil, err
	}
	for _, id := range ids {
		if _, err := s.undo(ctx, id, false, StatusInterrupted); err != nil && !errs.Is(err, errs.Conflict) {
			return nil, err // Conflict: another instance rolled it back meanwhile
		}
	}
	return ids, nil
}

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }

func sortStrings(s []string) { slices.Sort(s) }
