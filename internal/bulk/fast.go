package bulk

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"

	"roster/internal/audit"
	"roster/internal/authz"
	"roster/internal/errs"
	"roster/internal/group"
	"roster/internal/store"
)

// The batch paths below write, for many rows at once, exactly what account.CreateUser (its
// insertUser) and group.AddMemberTx write for one: the same rows, the same audit events. One
// statement per row costs ~50 µs of statement preparation on SQLite, and those two functions
// take about ten statements per imported person: 100,000 people would take minutes instead
// of seconds. TestBatchPathsMatchServices keeps both paths equal; when account or group
// change what they write, that test fails. Multi-row statements stay under rowsPer's bind
// parameters (on SQLite few: its driver binds $N in quadratic time).

// createUsers inserts the accounts of the batch's create plans, marked as the import's
// (account.HoldForImportTx: not billable until it is applied). A username or email taken since
// the check (another writer) turns that row into an error.
func (s *Service) createUsers(ctx context.Context, tx *store.Tx, list []*applied, hashes map[int]string, shared bool, batchID int64) error {
	if len(list) == 0 {
		return nil
	}
	// Re-check within the transaction: usernames (the unique index would fail the batch) and
	// emails (no index enforces them).
	names, emails := make([]string, 0, len(list)), make([]string, 0, len(list))
	for _, a := range list {
		names = append(names, a.plan.New.Username)
		if e := strings.ToLower(a.plan.New.Email); e != "" {
			emails = append(emails, e)
		}
	}
	takenName, err := existing(ctx, tx, `SELECT username FROM users WHERE username`, names)
	if err != nil {
		return err
	}
	takenEmail := map[string]bool{}
	if !shared {
		if takenEmail, err = existing(ctx, tx, `SELECT email_norm FROM users WHERE deleted_at IS NULL AND email_norm`, emails); err != nil {
			return err
		}
	}
	var ok []*applied
	for _, a := range list {
		switch n := a.plan.New; {
		case takenName[n.Username]:
			a.plan.fail("username", "username_taken_by", errs.P{"username": n.Username})
		case takenEmail[strings.ToLower(n.Email)]:
			a.plan.fail("email", "email_used_by", errs.P{"email": n.Email})
		default:
			ok = append(ok, a)
			continue
		}
		a.plan.Action = ActError
	}
	now := tx.Now.Unix()
	const cols = 11 // values per account
	byName := map[string]*applied{}
	for len(ok) > 0 {
		chunk := ok[:min(rowsPer(tx.Dialect, cols), len(ok))]
		ok = ok[len(chunk):]
		q := newBuf(tx.Dialect, `INSERT INTO users (username, email, email_norm, first_name, last_name, language, status, auth,
			password_hash, is_admin, idnumber, custom_fields, created_at, updated_at, activated_at, created_by_import) VALUES `)
		for i, a := range chunk {
			n := a.plan.New
			custom := []byte("{}")
			if len(n.CustomFields) > 0 {
				custom, _ = json.Marshal(n.CustomFields)
			}
			q.tuple(i == 0, n.Username, n.Email, strings.ToLower(n.Email), n.FirstName, n.LastName, n.Language, sqlText("'active'"),
				n.Auth, hashes[a.plan.Row.Line], sqlText("false"), n.IDNumber, string(custom), now, now, now, batchID)
			byName[n.Username] = a
		}
		q.add(` RETURNING id, username`)
		if err := scanQ(ctx, tx, q, func(r rowScanner) error {
			var id int64
			var name string
			if err := r.Scan(&id, &name); err != nil {
				return err
			}
			byName[name].userID = id
			return nil
		}); err != nil {
			return err
		}
		events := make([]event, 0, len(chunk))
		for _, a := range chunk {
			events = append(events, event{"user.create", "user", a.userID, map[string]any{"username": a.plan.New.Username,
				"admin": false, "auth": a.plan.New.Auth}})
		}
		if err := recordEvents(ctx, tx, events); err != nil {
			return err
		}
	}
	return nil
}

type rowScanner = interface{ Scan(...any) error }

// existing returns which of keys the query (ending in the column to match) finds.
func existing(ctx context.Context, tx *store.Tx, query string, keys []string) (map[string]bool, error) {
	found := map[string]bool{}
	for len(keys) > 0 {
		n := min(lookupSize(tx.Dialect), len(keys))
		q := newBuf(tx.Dialect, query)
		q.in(keys[:n])
		keys = keys[n:]
		if err := scanQ(ctx, tx, q, func(r rowScanner) error {
			var k string
			if err := r.Scan(&k); err != nil {
				return err
			}
			found[k] = true
			return nil
		}); err != nil {
			return nil, err
		}
	}
	return found, nil
}

type event struct {
	action, targetType string
	target             int64
	details            map[string]any
}

// recordEvents writes audit events as audit.Record does, many per statement.
func recordEvents(ctx context.Context, tx *store.Tx, events []event) error {
	var actor any
	if p := authz.From(ctx); p != nil && p.UserID != 0 {
		actor = p.UserID
	}
	now, ip := tx.Now.Unix(), audit.IP(ctx)
	for len(events) > 0 {
		chunk := events[:min(rowsPer(tx.Dialect, 4), len(events))]
		events = events[len(chunk):]
		q := newBuf(tx.Dialect, `INSERT INTO audit_events (at, actor_id, action, target_type, target_id, ip, details) VALUES `)
		for i, e := range chunk {
			d, err := json.Marshal(e.details)
			if err != nil {
				return errs.Wrap(err, "bulk: audit")
			}
			q.tuple(i == 0, now, bigint{actor}, e.action, e.targetType, strconv.FormatInt(e.target, 10), ip, string(d))
		}
		if _, err := q.exec(ctx, tx); err != nil {
			return errs.Wrap(err, "bulk: audit")
		}
	}
	return nil
}

type membership struct {
	group, user int64
	role        string
}

// addMembers adds memberships with source (import:<batch>) and the learner rows the
// propagation rule implies, as group.AddMemberTx does one by one.
func (s *Service) addMembers(ctx context.Context, tx *store.Tx, list []membership, src group.Source, chains map[int64][]int64) error {
	now := tx.Now.Unix()
	var events []event
	for len(list) > 0 {
		chunk := list[:min(rowsPer(tx.Dialect, 2), len(list))]
		list = list[len(chunk):]
		q := newBuf(tx.Dialect, `INSERT INTO group_members (group_id, user_id, role, source_kind, source_ref, created_at) VALUES `)
		for i, m := range chunk {
			q.tuple(i == 0, m.group, m.user, m.role, src.Kind, src.Ref, now)
		}
		q.add(` ON CONFLICT DO NOTHING RETURNING group_id, user_id, role`)
		var added []membership
		if err := scanQ(ctx, tx, q, func(r rowScanner) error {
			var m membership
			if err := r.Scan(&m.group, &m.user, &m.role); err != nil {
				return err
			}
			added = append(added, m)
			return nil
		}); err != nil {
			return err
		}
		addedSet := map[membership]bool{}
		for _, m := range added {
			addedSet[m] = true
		}
		// Propagation, for every learner row (AddMemberTx re-asserts it even when the row existed).
		var props [][3]int64
		for _, m := range chunk {
			var also []int64
			if m.role == group.Learner {
				targets, err := chainTargets(ctx, tx, m.group, chains)
				if err != nil {
					return err
				}
				also = targets
				for _, t := range targets {
					props = append(props, [3]int64{t, m.user, m.group})
				}
			}
			if addedSet[m] {
				events = append(events, event{"group.member.add", "group", m.group, map[string]any{"user_id": m.user, "role": m.role,
					"source": src.String(), "propagated_to": also}})
			}
		}
		for len(props) > 0 {
			pc := props[:min(rowsPer(tx.Dialect, 2), len(props))]
			props = props[len(pc):]
			pq := newBuf(tx.Dialect, `INSERT INTO group_members (group_id, user_id, role, source_kind, source_ref, created_at) VALUES `)
			for i, p := range pc {
				pq.tuple(i == 0, p[0], p[1], sqlText("'learner'"), sqlText("'propagated'"), p[2], now)
			}
			pq.add(` ON CONFLICT DO NOTHING`)
			if _, err := pq.exec(ctx, tx); err != nil {
				return errs.Wrap(err, "bulk: propagate")
			}
		}
	}
	return recordEvents(ctx, tx, events)
}

// chainTargets returns the groups above g that a learner of g also joins (group.Propagation
// of its chain, without g itself; nil when none), cached per batch.
func chainTargets(ctx context.Context, tx *store.Tx, g int64, cache map[int64][]int64) ([]int64, error) {
	if t, ok := cache[g]; ok {
		return t, nil
	}
	var chain []group.Link
	if err := scanAll(ctx, tx, `SELECT g.id, g.visibility FROM group_paths p JOIN groups g ON g.id = p.ancestor_id
		WHERE p.descendant_id = $1 ORDER BY p.depth`, []any{g}, func(r rowScanner) error {
		var l group.Link
		var vis string
		if err := r.Scan(&l.ID, &vis); err != nil {
			return err
		}
		l.Public = vis == group.Public
		chain = append(chain, l)
		return nil
	}); err != nil {
		return nil, err
	}
	var targets []int64
	if t := group.Propagation(chain); len(t) > 1 {
		targets = t[1:]
	}
	cache[g] = targets
	return targets, nil
}

// scanQ runs q in tx and calls fn for every row.
func scanQ(ctx context.Context, tx *store.Tx, q *sqlBuf, fn func(rowScanner) error) error {
	rows, err := q.query(ctx, tx)
	if err != nil {
		return errs.Wrap(err, "bulk: query")
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return errs.Wrap(err, "bulk: scan")
		}
	}
	return errs.Wrap(rows.Err(), "bulk: rows")
}
