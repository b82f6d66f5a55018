package sis

import (
	"context"
	"sort"
	"strconv"
	"strings"

	"roster/internal/errs"
	"roster/internal/store"
)

// Batching: values are ids, Unix times and course role shortnames read from the database, so
// they are written into the statements as literals rather than bound. SQLite's driver binds
// parameters in time quadratic in their number; literals keep each statement to a handful of
// parameters, and a few hundred rows per statement and some thousands per transaction keep
// both databases fast without holding SQLite's single writer lock for the whole run.
const (
	rowsPerStatement = 500
	rowsPerTx        = 20000
)

// apply writes a plan: the missing sis methods, then additions, changes and removals, in
// batches. Each batch is its own transaction; a run interrupted half-way is completed by the
// next one (the diff only sees what is left to do).
func apply(ctx context.Context, db *store.DB, source, action string, runID int64, p *Plan, methods map[int64]int64) error {
	adds := p.Add
	if err := ensureMethods(ctx, db, source, action, adds, methods); err != nil {
		return err
	}
	// Additions.
	for start := 0; start < len(adds); start += rowsPerTx {
		batch := adds[start:min(start+rowsPerTx, len(adds))]
		err := db.Tx(ctx, func(tx *store.Tx) error {
			now := tx.Now.Unix()
			for s := 0; s < len(batch); s += rowsPerStatement {
				var b strings.Builder
				b.WriteString(`INSERT INTO course_enrolments (course_id, method_id, user_id, role, status, starts_at, ends_at, sync_run_id, created_at, updated_at) VALUES `)
				for i, k := range batch[s:min(s+rowsPerStatement, len(batch))] {
					w := p.Want[k]
					if i > 0 {
						b.WriteString(", ")
					}
					b.WriteString("(" + strings.Join([]string{num(k.Course()), num(methods[k.Course()]), num(k.User()), quote(w.Role), "'active'",
						nullNum(w.Starts), nullNum(w.Ends), num(runID), num(now), num(now)}, ", ") + ")")
				}
				b.WriteString(` ON CONFLICT (method_id, user_id) DO NOTHING`)
				if _, err := tx.ExecContext(ctx, b.String()); err != nil {
					return errs.Wrap(err, "sis: enrol")
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	// Changes, grouped by what they become so that one statement updates many enrolments.
	groups := map[Want][]int64{}
	for _, c := range p.Change {
		groups[c.Want] = append(groups[c.Want], c.ID)
	}
	wants := make([]Want, 0, len(groups))
	for w := range groups {
		wants = append(wants, w)
	}
	sort.Slice(wants, func(i, j int) bool {
		a, b := wants[i], wants[j]
		if a.Role != b.Role {
			return a.Role < b.Role
		}
		if a.Starts != b.Starts {
			return a.Starts < b.Starts
		}
		return a.Ends < b.Ends
	})
	var stmts []func(now int64) string
	for _, w := range wants {
		for _, ids := range idChunks(groups[w]) {
			stmts = append(stmts, func(now int64) string {
				// A suspension by hand stays; one by the sync is lifted.
				return `UPDATE course_enrolments SET role = ` + quote(w.Role) + `, starts_at = ` + nullNum(w.Starts) + `, ends_at = ` + nullNum(w.Ends) +
					`, status = CASE WHEN sync_suspended THEN 'active' ELSE status END, sync_suspended = false, sync_run_id = ` + num(runID) +
					`, updated_at = ` + num(now) + ` WHERE id IN (` + ids + `)`
			})
		}
	}
	for _, ids := range idChunks(removalIDs(p.Suspend)) {
		stmts = append(stmts, func(now int64) string {
			return `UPDATE course_enrolments SET status = 'suspended', sync_suspended = true, sync_run_id = ` + num(runID) +
				`, updated_at = ` + num(now) + ` WHERE id IN (` + ids + `) AND status = 'active'`
		})
	}
	for _, ids := range idChunks(removalIDs(p.Unenrol)) {
		stmts = append(stmts, func(int64) string { return `DELETE FROM course_enrolments WHERE id IN (` + ids + `)` })
	}
	// Course groups: the old placements of regrouped and unenrolled people go (before the
	// enrolments are deleted, in the same batches), the new ones are made after.
	var unplace []Key
	for _, c := range p.Change {
		if c.Regroup {
			unplace = append(unplace, c.Key)
		}
	}
	for _, r := range p.Unenrol {
		unplace = append(unplace, r.Key)
	}
	for s := 0; s < len(unplace); s += rowsPerStatement {
		var b strings.Builder
		for i, k := range unplace[s:min(s+rowsPerStatement, len(unplace))] {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(" + num(methods[k.Course()]) + ", " + num(k.User()) + ")")
		}
		pairs := b.String()
		stmts = append([]func(int64) string{func(int64) string {
			return `DELETE FROM course_group_members WHERE (method_id, user_id) IN (VALUES ` + pairs + `)`
		}}, stmts...)
	}
	per := rowsPerTx / rowsPerStatement
	for start := 0; start < len(stmts); start += per {
		batch := stmts[start:min(start+per, len(stmts))]
		err := db.Tx(ctx, func(tx *store.Tx) error {
			for _, s := range batch {
				if _, err := tx.ExecContext(ctx, s(tx.Now.Unix())); err != nil {
					return errs.Wrap(err, "sis: apply")
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return placeInGroups(ctx, db, p, adds, methods)
}

// placeInGroups puts the people added or regrouped into their course groups, creating the
// groups a course lacks.
func placeInGroups(ctx context.Context, db *store.DB, p *Plan, adds []Key, methods map[int64]int64) error {
	type placement struct {
		key   Key
		group string
	}
	var place []placement
	for _, k := range adds {
		if g := p.Want[k].Group; g != "" {
			place = append(place, placement{k, g})
		}
	}
	for _, c := range p.Change {
		if c.Regroup && c.Want.Group != "" {
			place = append(place, placement{c.Key, c.Want.Group})
		}
	}
	if len(place) == 0 {
		return nil
	}
	type courseGroup struct {
		course int64
		name   string
	}
	ids := map[courseGroup]int64{}
	var wanted []courseGroup
	for _, pl := range place {
		cg := courseGroup{pl.key.Course(), pl.group}
		if _, ok := ids[cg]; !ok {
			ids[cg] = 0
			wanted = append(wanted, cg)
		}
	}
	return db.Tx(ctx, func(tx *store.Tx) error {
		now := num(tx.Now.Unix())
		for s := 0; s < len(wanted); s += 200 {
			var b strings.Builder
			var args []any
			for i, cg := range wanted[s:min(s+200, len(wanted))] {
				if i > 0 {
					b.WriteString(", ")
				}
				args = append(args, cg.name)
				b.WriteString("(" + num(cg.course) + ", $" + strconv.Itoa(len(args)) + ", " + now + ")")
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO course_groups (course_id, name, created_at) VALUES `+b.String()+
				` ON CONFLICT (course_id, name) DO NOTHING`, args...); err != nil {
				return errs.Wrap(err, "sis: course groups")
			}
		}
		courses := map[int64]bool{}
		var list []int64
		for _, cg := range wanted {
			if !courses[cg.course] {
				courses[cg.course] = true
				list = append(list, cg.course)
			}
		}
		for _, in := range idChunks(list) {
			rows, err := tx.QueryContext(ctx, `SELECT id, course_id, name FROM course_groups WHERE course_id IN (`+in+`)`)
			if err != nil {
				return errs.Wrap(err, "sis: course groups")
			}
			for rows.Next() {
				var id int64
				var cg courseGroup
				if err := rows.Scan(&id, &cg.course, &cg.name); err != nil {
					rows.Close()
					return errs.Wrap(err, "sis: course groups")
				}
				if _, ok := ids[cg]; ok {
					ids[cg] = id
				}
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return errs.Wrap(err, "sis: course groups")
			}
		}
		for s := 0; s < len(place); s += rowsPerStatement {
			var b strings.Builder
			for i, pl := range place[s:min(s+rowsPerStatement, len(place))] {
				if i > 0 {
					b.WriteString(", ")
				}
				g := ids[courseGroup{pl.key.Course(), pl.group}]
				b.WriteString("(" + num(g) + ", " + num(pl.key.User()) + ", " + num(methods[pl.key.Course()]) + ", " + now + ")")
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO course_group_members (course_group_id, user_id, method_id, created_at) VALUES `+
				b.String()+` ON CONFLICT DO NOTHING`); err != nil {
				return errs.Wrap(err, "sis: course group members")
			}
		}
		return nil
	})
}

// ensureMethods creates the source's sis method in every course it adds people to and lacks
// one, and fills methods (course id → method id).
func ensureMethods(ctx context.Context, db *store.DB, source, action string, adds []Key, methods map[int64]int64) error {
	var missing []int64
	for i, k := range adds {
		c := k.Course()
		if _, ok := methods[c]; !ok && (i == 0 || adds[i-1].Course() != c) {
			missing = append(missing, c)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	removal := "suspend"
	if action == ActionUnenrol {
		removal = "unenrol"
	}
	return db.Tx(ctx, func(tx *store.Tx) error {
		now := num(tx.Now.Unix())
		for s := 0; s < len(missing); s += rowsPerStatement {
			var b strings.Builder
			b.WriteString(`INSERT INTO course_methods (course_id, type, name, role, removal, created_at, updated_at) VALUES `)
			for i, c := range missing[s:min(s+rowsPerStatement, len(missing))] {
				if i > 0 {
					b.WriteString(", ")
				}
				b.WriteString("(" + num(c) + ", 'sis', $1, 'student', '" + removal + "', " + now + ", " + now + ")")
			}
			if _, err := tx.ExecContext(ctx, b.String(), source); err != nil {
				return errs.Wrap(err, "sis: add methods")
			}
		}
		rows, err := tx.QueryContext(ctx, `SELECT id, course_id FROM course_methods WHERE type = 'sis' AND name = $1`, source)
		if err != nil {
			return errs.Wrap(err, "sis: methods")
		}
		defer rows.Close()
		for rows.Next() {
			var id, c int64
			if err := rows.Scan(&id, &c); err != nil {
				return errs.Wrap(err, "sis: methods")
			}
			methods[c] = id
		}
		return rows.Err()
	})
}

// idChunks writes ids as comma-separated literals, a thousand at a time.
func idChunks(ids []int64) []string {
	var out []string
	for s := 0; s < len(ids); s += 1000 {
		var b strings.Builder
		for i, id := range ids[s:min(s+1000, len(ids))] {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(num(id))
		}
		out = append(out, b.String())
	}
	return out
}

func num(n int64) string { return strconv.FormatInt(n, 10) }

func nullNum(n int64) string {
	if n == 0 {
		return "NULL"
	}
	return num(n)
}

// quote writes a string literal (course role shortnames come from the database, but quote
// anyway).
func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func removalIDs(rs []Removal) []int64 {
	ids := make([]int64, len(rs))
	for i, r := range rs {
		ids[i] = r.ID
	}
	return ids
}
