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
	"roster/internal/i18n"
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
		key := "cli.undo_preview"
		if rep.Done {
			key = "cli.undo_done"
		}
		fmt.Fprintln(m.Stdout, m.t(key, fmt.Sprint(undo), rep.Memberships, rep.Unenrolled, rep.CourseGroupPlaces, rep.Reverted,
			rep.Reenrolled, rep.Deleted, rep.Kept))
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
	m.printReport(rep)
	switch {
	case rep.Applied:
		fmt.Fprintln(m.Stdout, m.t("cli.import_applied", fmt.Sprint(rep.BatchID)))
	case rep.Summary.Errors > 0:
		return errors.New(m.t("cli.import_errors"))
	default:
		fmt.Fprintln(m.Stdout, m.t("cli.import_preview"))
	}
	return nil
}

// printReport writes one line per row that is not a plain create, then the totals, in the
// command line's language.
func (m *Main) printReport(rep *bulk.Report) {
	w, lang := m.Stdout, m.lang()
	for _, r := range rep.Rows {
		var parts []string
		for _, e := range r.Errors {
			parts = append(parts, strings.TrimPrefix(e.Field+i18n.T(lang, "punct.colon")+e.In(lang), i18n.T(lang, "punct.colon")))
		}
		if len(r.Changes) > 0 {
			parts = append(parts, m.t("cli.import_changes", strings.Join(r.Changes, ", ")))
		}
		for _, n := range r.Remarks {
			parts = append(parts, n.In(lang))
		}
		line := m.t("cli.import_line", strconv.Itoa(r.Line), m.t("cli.action."+r.Action))
		if len(parts) > 0 {
			line += " (" + strings.Join(parts, "; ") + ")"
		}
		fmt.Fprintln(w, line)
	}
	s := rep.Summary
	fmt.Fprint(w, m.t("cli.import_totals", s.Created, s.Updated, s.Enrolled, s.Skipped, s.Errors))
	if s.Deleted > 0 {
		fmt.Fprint(w, m.t("cli.import_deleted", s.Deleted))
	}
	fmt.Fprintln(w)
}
