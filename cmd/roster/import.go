package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"roster/internal/authz"
	"roster/internal/bulk"
)

// importFile previews (default) or applies a bulk file and prints the report:
//
//	roster import FILE [--format moodle|tsv|groups|enrolments] [--apply] [--mode add_new|add_update|update_only]
//	              [--match-email] [--allow-renames] [--valid-only] [--create-groups=false] [--update-passwords]
//	roster import --undo BATCH [--apply]
//
// It exits non-zero when the file has errors and nothing was applied.
func (m *Main) importFile(ctx context.Context, args []string) error {
	fs, cfg, err := m.flags("import")
	if err != nil {
		return err
	}
	var o bulk.Options
	var apply bool
	var undo int64
	fs.StringVar(&o.Format, "format", bulk.FormatMoodle, "moodle, tsv, groups, enrolments or methods")
	fs.BoolVar(&apply, "apply", false, "apply the file (default: preview only)")
	fs.StringVar(&o.Mode, "mode", bulk.AddNew, "upload type: add_new, add_update or update_only")
	fs.BoolVar(&o.MatchEmail, "match-email", false, "find existing accounts by email instead of username")
	fs.StringVar(&o.UserField, "user-field", "", "enrolments: how the file names people: username, email or idnumber (default: any field that matches exactly one account)")
	fs.BoolVar(&o.AllowRenames, "allow-renames", false, "with --match-email, a different username renames the account")
	fs.BoolVar(&o.ValidOnly, "valid-only", false, "apply the valid rows of a file that has errors")
	fs.BoolVar(&o.CreateGroups, "create-groups", true, "cohort columns naming an unknown group idnumber create it")
	fs.BoolVar(&o.Notify, "notify", false, "email new accounts without a password a set-your-password link")
	fs.BoolVar(&o.UpdatePasswords, "update-passwords", false, "set the password of existing local accounts from the file's password column (their sessions end)")
	fs.Int64Var(&undo, "undo", 0, "undo the import batch with this id (preview unless --apply)")
	// The file may come before, between or after the flags.
	var files []string
	for {
		if err := fs.Parse(args); err != nil {
			return errUsage
		}
		if fs.NArg() == 0 {
			break
		}
		files = append(files, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if err := cfg.Finish(); err != nil {
		return err
	}
	if (len(files) != 1) == (undo == 0) {
		fmt.Fprintln(m.Stderr, "usage: roster import FILE [--format moodle|tsv|groups|enrolments|methods] [--user-field username|email|idnumber] [--apply], or roster import --undo BATCH [--apply]")
		return errUsage
	}
	db, err := m.open(ctx, cfg)
	if err != nil {
		return err
	}
	s := newServices(db, cfg, m.Log)
	svc := bulk.NewService(db, s.accounts, s.groups, s.courses)
	ctx = authz.With(ctx, authz.System)
	if undo != 0 {
		rep, err := svc.Undo(ctx, undo, !apply)
		if err != nil {
			return err
		}
		verb := "would remove"
		if rep.Done {
			verb = "removed"
		}
		fmt.Fprintf(m.Stdout, "batch %d: %s %d memberships, %d enrolments, %d course-group places; reverted %d updates, "+
			"put back %d enrolments; deleted %d accounts, kept %d used since\n", undo, verb, rep.Memberships, rep.Unenrolled,
			rep.CourseGroupPlaces, rep.Reverted, rep.Reenrolled, rep.Deleted, rep.Kept)
		return nil
	}
	path := files[0]
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("import: %w", err)
	}
	open := func() (io.ReadCloser, error) { return os.Open(path) }
	var rep *bulk.Report
	if apply {
		rep, err = svc.Apply(ctx, open, o)
	} else {
		var f io.ReadCloser
		if f, err = open(); err != nil {
			return err
		}
		rep, err = svc.Preview(ctx, f, o)
		f.Close()
	}
	if err != nil {
		return err
	}
	printReport(m.Stdout, rep)
	switch {
	case rep.Applied:
		fmt.Fprintf(m.Stdout, "applied as import batch %d (undo: roster import --undo %d --apply)\n", rep.BatchID, rep.BatchID)
	case rep.Summary.Errors > 0:
		return errors.New("the file has errors: nothing was applied (fix them, or apply the valid rows with --valid-only)")
	default:
		fmt.Fprintln(m.Stdout, "preview only: nothing was written (run again with --apply)")
	}
	return nil
}

// printReport writes one line per row that is not a plain create, then the totals.
func printReport(w io.Writer, rep *bulk.Report) {
	for _, r := range rep.Rows {
		var parts []string
		for _, e := range r.Errors {
			parts = append(parts, strings.TrimPrefix(e.Field+": "+e.Message, ": "))
		}
		if len(r.Changes) > 0 {
			parts = append(parts, "changes "+strings.Join(r.Changes, ", "))
		}
		parts = append(parts, r.Notes...)
		line := "line " + strconv.Itoa(r.Line) + ": " + r.Action
		if len(parts) > 0 {
			line += " (" + strings.Join(parts, "; ") + ")"
		}
		fmt.Fprintln(w, line)
	}
	s := rep.Summary
	fmt.Fprintf(w, "created %d, updated %d, enrolled %d, skipped %d, errors %d", s.Created, s.Updated, s.Enrolled, s.Skipped, s.Errors)
	if s.Deleted > 0 {
		fmt.Fprintf(w, ", deleted %d", s.Deleted)
	}
	fmt.Fprintln(w)
}
