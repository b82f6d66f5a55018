package main

import (
	"context"
	"fmt"
	"math"
	"runtime/debug"
	"strconv"
	"strings"

	"roster/internal/errs"
	"roster/internal/sis"
)

// errSyncStopped makes `roster sync` exit non-zero when the threshold stopped the run.
var errSyncStopped = fmt.Errorf("sync stopped")

// sync runs the student-information-system sync once: `roster sync [NAME | --source csv:PATH|
// oneroster:PATH|NAME] [--dry-run] [--action suspend|unenrol|keep] [--threshold PCT]`. It
// prints `added N, changed N, removed N`, then the skipped rows on stderr.
func (m *Main) sync(ctx context.Context, args []string) error {
	fs, cfg, err := m.flags("sync")
	if err != nil {
		return err
	}
	var spec, name, action string
	var dry, createCourses bool
	var threshold float64
	fs.StringVar(&spec, "source", "", "csv:PATH, oneroster:PATH (folder or zip) or a configured source's NAME")
	fs.StringVar(&name, "name", "", "the source's name (default csv or oneroster): its enrolments are those it made under this name")
	fs.BoolVar(&dry, "dry-run", false, "show the whole difference, apply nothing")
	fs.BoolVar(&createCourses, "create-courses", false, "oneroster: create the course of a class that has none (short name: classCode)")
	fs.StringVar(&action, "action", sis.ActionSuspend, "for people no longer listed: suspend, unenrol or keep")
	fs.Float64Var(&threshold, "threshold", sis.DefaultThreshold, "stop without applying when more than PCT % of the source's enrolments would be removed or suspended (100: no limit)")
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		spec, args = args[0], args[1:]
	}
	if err := m.parse(fs, cfg, args); err != nil {
		return err
	}
	if spec == "" {
		return fmt.Errorf("--source is required (csv:PATH, oneroster:PATH or a configured source's NAME)")
	}
	if threshold <= 0 {
		threshold = 1e-9 // 0 %: no removal at all (0 means the default in sis)
	}
	if debug.SetMemoryLimit(-1) == math.MaxInt64 { // GOMEMLIMIT not set
		debug.SetMemoryLimit(sis.MemoryLimit)
	}
	var rep *sis.Report
	if !strings.Contains(spec, ":") {
		// A configured source (the sources page): its own location, action, threshold and
		// account creation; --action, --threshold and --name do not apply.
		db, err := m.open(ctx, cfg)
		if err != nil {
			return err
		}
		svc := newServices(db, cfg, m.Log)
		if rep, err = svc.sis.RunConfigured(ctx, spec, dry); err != nil {
			return err
		}
	} else {
		src, err := sis.Open(spec, name)
		if err != nil {
			return err
		}
		db, err := m.open(ctx, cfg)
		if err != nil {
			return err
		}
		if rep, err = sis.Run(ctx, db, src, sis.RunOptions{Action: action, Threshold: threshold, DryRun: dry,
			CreateCourses: createCourses}); err != nil {
			return err
		}
	}
	summary := m.t("cli.sync_summary", rep.Added, rep.Changed, rep.Removed)
	if rep.Created > 0 {
		summary += m.t("cli.sync_accounts_created", rep.Created)
	}
	if rep.CoursesCreated > 0 {
		summary += m.t("cli.sync_courses_created", rep.CoursesCreated)
	}
	if rep.GroupsCreated+rep.GroupsRenamed+rep.GroupsMoved > 0 {
		summary += m.t("cli.sync_groups", rep.GroupsCreated, rep.GroupsRenamed, rep.GroupsMoved)
	}
	if rep.MembersAdded+rep.MembersRemoved > 0 {
		summary += m.t("cli.sync_members", rep.MembersAdded, rep.MembersRemoved)
	}
	fmt.Fprintln(m.Stdout, summary)
	if rep.Kept > 0 {
		fmt.Fprintln(m.Stdout, m.t("cli.sync_kept", rep.Kept))
	}
	if dry && rep.Plan != nil {
		printPlan(m, rep.Plan)
	}
	for i, is := range rep.Issues {
		if i == 50 {
			fmt.Fprintln(m.Stderr, m.t("cli.sync_more_skipped", len(rep.Issues)-50, fmt.Sprint(rep.RunID)))
			break
		}
		where := is.File
		if is.Line > 0 {
			where += ":" + strconv.Itoa(is.Line)
		}
		fmt.Fprintln(m.Stderr, m.t("cli.sync_skipped", where, is.In(m.lang())))
	}
	if rep.Message != "" {
		msg := rep.Message
		if rep.MessageCode != "" {
			msg = errs.Text(m.lang(), rep.MessageCode, rep.MessageParams)
		}
		fmt.Fprintln(m.Stderr, "roster sync:", msg)
	}
	if rep.Stopped() {
		return errSyncStopped
	}
	return nil
}

// printPlan shows a dry run's difference, one line per enrolment, by ids.
func printPlan(m *Main, p *sis.Plan) {
	for i, k := range p.Add {
		fmt.Fprintf(m.Stdout, "+ course %d user %d %s\n", k.Course(), k.User(), p.AddWant[i].Role)
	}
	for _, c := range p.Change {
		fmt.Fprintf(m.Stdout, "~ course %d user %d %s\n", c.Key.Course(), c.Key.User(), c.Want.Role)
	}
	for _, r := range p.Unenrol {
		fmt.Fprintf(m.Stdout, "- course %d user %d\n", r.Key.Course(), r.Key.User())
	}
	for _, r := range p.Suspend {
		fmt.Fprintf(m.Stdout, "- course %d user %d (suspend)\n", r.Key.Course(), r.Key.User())
	}
}
