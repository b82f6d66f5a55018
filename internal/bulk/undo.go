package bulk

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strconv"
	"strings"

	"roster/internal/account"
	"roster/internal/audit"
	"roster/internal/authz"
	"roster/internal/course"
	"roster/internal/errs"
	"roster/internal/group"
	"roster/internal/i18n"
	"roster/internal/store"
)

// UndoReport says what undoing a batch does (or did).
type UndoReport struct {
	BatchID           int64 `json:"batch_id"`
	Done              bool  `json:"done"`                // false for a preview
	Memberships       int   `json:"memberships_removed"` // group memberships
	Unenrolled        int   `json:"unenrolled"`          // enrolments the import added
	Reenrolled        int   `json:"reenrolled"`          // enrolments it removed, put back
	Reverted          int   `json:"reverted"`            // accounts whose update is reverted
	Deleted           int   `json:"deleted"`             // accounts it created, deleted
	Kept              int   `json:"kept"`                // accounts it created, kept: used since
	CourseGroupPlaces int   `json:"course_group_places_removed"`
	Methods           int   `json:"methods_reverted,omitempty"` // methods format: methods added, changed or deleted, reverted
	Purged            int   `json:"purged,omitempty"`           // accounts of a run that did not complete, deleted for good
	GroupsDeleted     int   `json:"groups_deleted,omitempty"`   // groups a groups file created
	GroupsKept        int   `json:"groups_kept,omitempty"`      // the same, kept: not empty any more
	deleteAfterCommit []int64
	groupsAfterCommit []int64
}

var errDryRun = errors.New("dry run")

// Undo reverts an applied import batch: the memberships and enrolments it added are removed,
// the enrolments it removed are put back, its updates are reverted, and the accounts it
// created are deleted unless they have been used since (logged in, or given memberships or
// enrolments by something else), in which case they are kept and counted. With preview, it
// says what it would do and changes nothing. Platform administrators only. Errors:
// Unauthorized/Forbidden, NotFound (batch), Conflict (already undone).
func (s *Service) Undo(ctx context.Context, batchID int64, preview bool) (*UndoReport, error) {
	if err := authz.RequirePlatformAdmin(ctx); err != nil {
		return nil, err
	}
	return s.undo(ctx, batchID, preview, StatusUndone)
}

// undo reverts a batch and gives it the status final: undone (Undo), failed or interrupted
// (an apply that stopped, rolled back; those may still be applying).
func (s *Service) undo(ctx context.Context, batchID int64, preview bool, final string) (*UndoReport, error) {
	var rep UndoReport
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		rep = UndoReport{BatchID: batchID}
		var status string
		lock := ""
		if tx.Dialect == store.Postgres {
			lock = " FOR UPDATE" // two instances recovering one batch: the second sees it done
		}
		err := tx.QueryRowContext(ctx, `SELECT status FROM import_batches WHERE id = $1`+lock, batchID).Scan(&status)
		if store.IsNoRows(err) {
			return errs.Coded(errs.NotFound, "import_not_found", errs.P{"batch": batchID})
		}
		if err != nil {
			return errs.Wrap(err, "bulk: batch")
		}
		switch {
		case status == StatusUndone:
			return errs.Coded(errs.Conflict, "import_already_undone", errs.P{"batch": batchID})
		case status == StatusFailed || status == StatusInterrupted:
			return errs.Coded(errs.Conflict, "import_rolled_back", errs.P{"batch": batchID})
		case status == StatusApplying && final == StatusUndone:
			return errs.Coded(errs.Conflict, "import_still_applying", errs.P{"batch": batchID})
		}
		if err := s.undoMemberships(ctx, tx, batchID, &rep); err != nil {
			return err
		}
		if err := s.undoChanges(ctx, tx, batchID, &rep); err != nil {
			return err
		}
		if final != StatusUndone {
			// A run that did not complete: the accounts it created never were the platform's.
			n, err := s.accounts.PurgeImportTx(ctx, tx, batchID)
			if err != nil {
				return err
			}
			rep.Purged = n
		}
		if err := s.undoUsers(ctx, tx, batchID, &rep); err != nil {
			return err
		}
		if err := scanAll(ctx, tx, `SELECT group_id FROM import_rows WHERE batch_id = $1 AND group_id IS NOT NULL
			AND action = 'create' ORDER BY line DESC`, []any{batchID}, func(r rowScanner) error {
			var id int64
			if err := r.Scan(&id); err != nil {
				return err
			}
			rep.groupsAfterCommit = append(rep.groupsAfterCommit, id)
			return nil
		}); err != nil {
			return err
		}
		if preview {
			return errDryRun
		}
		if _, err := tx.ExecContext(ctx, `UPDATE import_batches SET status = $1, undone_at = $2 WHERE id = $3`,
			final, tx.Now.Unix(), batchID); err != nil {
			return errs.Wrap(err, "bulk: undo")
		}
		return audit.Record(ctx, tx, audit.Event{Action: "import.undo", TargetType: "import", TargetID: strconv.FormatInt(batchID, 10),
			Details: map[string]any{"memberships": rep.Memberships, "unenrolled": rep.Unenrolled, "reverted": rep.Reverted,
				"deleted": len(rep.deleteAfterCommit), "kept": rep.Kept}})
	})
	if preview && errors.Is(err, errDryRun) {
		return &rep, nil
	}
	if err != nil {
		return nil, err
	}
	rep.Done = true
	for _, id := range rep.deleteAfterCommit {
		if err := s.accounts.DeleteUser(ctx, id); err != nil && !errs.Is(err, errs.NotFound) {
			return &rep, err
		}
	}
	// The groups a groups file created, sub-groups first (a file names a parent before its
	// children); a group that has members or sub-groups of its own since is kept.
	for _, id := range rep.groupsAfterCommit {
		err := s.groups.Delete(ctx, id, false)
		switch {
		case err == nil:
			rep.GroupsDeleted++
		case errs.Is(err, errs.Conflict):
			rep.GroupsKept++
		case !errs.Is(err, errs.NotFound):
			return &rep, err
		}
	}
	return &rep, nil
}

func (s *Service) undoMemberships(ctx context.Context, tx *store.Tx, batchID int64, rep *UndoReport) error {
	type m struct {
		g, u int64
		role string
	}
	var list []m
	if err := scanAll(ctx, tx, `SELECT group_id, user_id, role FROM group_members
		WHERE source_kind = 'import' AND source_ref = $1 AND source_kind <> 'propagated'`, []any{batchID}, func(r rowScanner) error {
		var x m
		if err := r.Scan(&x.g, &x.u, &x.role); err != nil {
			return err
		}
		list = append(list, x)
		return nil
	}); err != nil {
		return err
	}
	source := group.Source{Kind: group.SourceImport, Ref: batchID}.String()
	for _, x := range list {
		if err := group.RemoveMemberTx(ctx, tx, x.g, x.u, x.role, source); err != nil && !errs.Is(err, errs.NotFound) {
			return err
		}
		rep.Memberships++
	}
	return nil
}

func (s *Service) undoChanges(ctx context.Context, tx *store.Tx, batchID int64, rep *UndoReport) error {
	type c struct {
		kind              string
		course, ref, user int64
		role, status      string
		starts, ends      sql.NullInt64
	}
	var list []c
	if err := scanAll(ctx, tx, `SELECT kind, course_id, ref_id, user_id, role, status, starts_at, ends_at, user_ids
		FROM import_changes WHERE batch_id = $1`, []any{batchID}, func(r rowScanner) error {
		var x c
		var ids string
		if err := r.Scan(&x.kind, &x.course, &x.ref, &x.user, &x.role, &x.status, &x.starts, &x.ends, &ids); err != nil {
			return err
		}
		if ids == "" {
			list = append(list, x)
			return nil
		}
		var users []int64 // the same change for each of these people
		if err := json.Unmarshal([]byte(ids), &users); err != nil {
			return errs.Wrap(err, "bulk: packed import changes")
		}
		for _, u := range users {
			x.user = u
			list = append(list, x)
		}
		return nil
	}); err != nil {
		return err
	}
	// By kind, many rows a call: course groups first (an enrolment removed takes its person
	// out of the course's groups, which would leave the placements uncounted), then the
	// enrolments the import added, the dates it changed, the enrolments it removed.
	var (
		places          []course.Placement
		enrols, redates []course.EnrolRow
		unenrols        []course.EnrolRow
	)
	for _, x := range list {
		row := course.EnrolRow{CourseID: x.course, MethodID: x.ref, UserID: x.user, Role: x.role, Status: x.status,
			StartsAt: x.starts.Int64, EndsAt: x.ends.Int64}
		switch x.kind {
		case "enrol":
			enrols = append(enrols, row)
		case "course_group":
			places = append(places, course.Placement{GroupID: x.ref, UserID: x.user})
		case "redate":
			redates = append(redates, row)
		case "unenrol":
			unenrols = append(unenrols, row)
		}
	}
	n, err := course.UnplaceManyTx(ctx, tx, places)
	if err != nil {
		return err
	}
	rep.CourseGroupPlaces += n
	gone, err := course.UnenrolManyTx(ctx, tx, enrols)
	if err != nil {
		return err
	}
	rep.Unenrolled += len(gone)
	if _, err := course.RedateManyTx(ctx, tx, redates); err != nil {
		return err
	}
	back, err := course.EnrolManyTx(ctx, tx, unenrols)
	if err != nil {
		return err
	}
	rep.Reenrolled += len(back)
	for i := len(list) - 1; i >= 0; i-- {
		if x := list[i]; strings.HasPrefix(x.kind, "method_") {
			n, err := undoMethod(ctx, tx, x.kind, x.course, x.ref, x.role, x.status)
			if err != nil {
				return errs.Wrap(err, "bulk: undo "+x.kind)
			}
			rep.Methods += n
		}
	}
	return nil
}

var undoColumns = map[string]bool{"first_name": true, "last_name": true, "idnumber": true, "language": true, "auth": true,
	"email": true, "custom_fields": true, "username": true}

func (s *Service) undoUsers(ctx context.Context, tx *store.Tx, batchID int64, rep *UndoReport) error {
	type r struct {
		action string
		user   int64
		before string
	}
	var list []r
	if err := scanAll(ctx, tx, `SELECT action, COALESCE(user_id, 0), before, packed FROM import_rows WHERE batch_id = $1
		AND action IN ('create', 'update') AND ((user_id IS NOT NULL AND user_id IN (SELECT id FROM users)) OR packed <> '')
		ORDER BY line`, []any{batchID}, func(rows rowScanner) error {
		var x r
		var packed string
		if err := rows.Scan(&x.action, &x.user, &x.before, &packed); err != nil {
			return err
		}
		if packed == "" {
			list = append(list, x)
			return nil
		}
		lines, err := unpackRows(packed) // accounts created, some perhaps gone since: see below
		if err != nil {
			return err
		}
		for _, l := range lines {
			list = append(list, r{action: x.action, user: l[1]})
		}
		return nil
	}); err != nil {
		return err
	}
	for _, x := range list {
		if x.action == "update" {
			before := map[string]string{}
			_ = json.Unmarshal([]byte(x.before), &before)
			fields := map[string]string{}
			for col, v := range before {
				if undoColumns[col] {
					fields[col] = v
				}
			}
			if err := s.accounts.SetFieldsTx(ctx, tx, x.user, fields); err != nil {
				if e := errs.As(err); e.Code == errs.Conflict && len(e.Fields) > 0 {
					return errs.Coded(errs.Conflict, "import_undo_taken", errs.P{"field": i18n.Label("label.user_field." + e.Fields[0].Field)})
				}
				return err
			}
			for col, v := range before {
				var err error
				switch {
				case col == "status" && v == account.StatusActive:
					err = s.accounts.ReactivateTx(ctx, tx, x.user)
				case col == "status":
					err = s.accounts.SuspendTx(ctx, tx, x.user)
				case col == "password":
					// Put back only while the account has the imported password: someone who
					// changed it since keeps theirs.
					_, err = s.accounts.UndoImportPasswordTx(ctx, tx, x.user, v)
				}
				if err != nil {
					return errs.Wrap(err, "bulk: revert update")
				}
			}
			rep.Reverted++
			continue
		}
		var exists, used int
		err := tx.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM users WHERE id = $1),
			(SELECT COUNT(*) FROM users WHERE id = $1 AND (last_login_at IS NOT NULL OR deleted_at IS NOT NULL)) +
			(SELECT COUNT(*) FROM group_members WHERE user_id = $1) +
			(SELECT COUNT(*) FROM course_enrolments WHERE user_id = $1)`, x.user).Scan(&exists, &used)
		if err != nil {
			return errs.Wrap(err, "bulk: account in use")
		}
		if exists == 0 { // purged (a run that did not complete) or deleted for good since
			continue
		}
		if used > 0 {
			rep.Kept++
			continue
		}
		rep.Deleted++
		rep.deleteAfterCommit = append(rep.deleteAfterCommit, x.user)
	}
	return nil
}
