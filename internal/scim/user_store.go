package scim

import (
	"context"
	"database/sql"
	"strings"

	"roster/internal/errs"
	"roster/internal/store"
)

// SCIM's own tables of users: scim_users (the userName, externalId, scope, version and the
// columns filters name), scim_user_docs (the rest of the resource) and scim_user_values (the
// emails and phone numbers, one row each). The account itself (users) is the account
// package's: it is read here, and written through account.Service only.

const userSelect = `SELECT u.id, u.email, u.first_name, u.last_name, u.status, u.created_at, u.updated_at,
	s.user_name, s.external_id, COALESCE(d.doc, '{}'), s.version, s.scope_group_id
	FROM users u JOIN scim_users s ON s.user_id = u.id LEFT JOIN scim_user_docs d ON d.user_id = u.id`

// inScope is the condition on s (scim_users) and u (users) for the accounts a token of group
// $1 sees: provisioned under its group or below, not deleted through SCIM, not erased.
const inScope = ` s.scope_group_id IN (SELECT descendant_id FROM group_paths WHERE ancestor_id = $1)
	AND s.deleted_at IS NULL AND u.deleted_at IS NULL`

func scanUserRow(sc interface{ Scan(...any) error }) (*userRow, error) {
	var u userRow
	err := sc.Scan(&u.ID, &u.Email, &u.First, &u.Last, &u.Status, &u.Created, &u.Updated,
		&u.UserName, &u.ExternalID, &u.Doc, &u.Version, &u.Scope)
	return &u, err
}

// loadUser reads one account in scope; forUpdate locks its SCIM row until the transaction
// ends. Errors: NotFound.
func loadUser(ctx context.Context, q store.Querier, d store.Dialect, scopeID int64, id string, forUpdate bool) (*userRow, error) {
	n, ok := parseID(id)
	if !ok {
		return nil, noUser(id)
	}
	lock := ""
	if forUpdate {
		lock = d.ForUpdateOf("s")
	}
	u, err := scanUserRow(q.QueryRowContext(ctx, userSelect+` WHERE u.id = $2 AND`+inScope+lock, scopeID, n))
	if store.IsNoRows(err) {
		return nil, noUser(id)
	}
	if err != nil {
		return nil, errs.Wrap(err, "scim: load user")
	}
	return u, nil
}

// userGroups returns the SCIM groups (below the scope group) each account belongs to through
// SCIM memberships.
func userGroups(ctx context.Context, q store.Querier, scopeID int64, ids []int64) (map[int64][]groupRef, error) {
	out := map[int64][]groupRef{}
	for len(ids) > 0 {
		part := ids[:min(len(ids), 500)]
		ids = ids[len(part):]
		args := []any{scopeID}
		for _, id := range part {
			args = append(args, id)
		}
		rows, err := q.QueryContext(ctx, `SELECT DISTINCT m.user_id, g.id, g.name FROM group_members m
			JOIN groups g ON g.id = m.group_id
			JOIN group_paths p ON p.descendant_id = g.id AND p.ancestor_id = $1 AND p.depth > 0
			WHERE m.source_kind = 'scim' AND m.user_id IN (`+store.Placeholders(2, len(part))+`)
			ORDER BY m.user_id, g.id`, args...)
		if err != nil {
			return nil, errs.Wrap(err, "scim: user groups")
		}
		for rows.Next() {
			var uid int64
			var g groupRef
			if err := rows.Scan(&uid, &g.ID, &g.Name); err != nil {
				rows.Close()
				return nil, errs.Wrap(err, "scim: user groups")
			}
			out[uid] = append(out[uid], g)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, errs.Wrap(err, "scim: user groups")
		}
	}
	return out, nil
}

// isUnder reports whether group g is top or below it.
func isUnder(ctx context.Context, q store.Querier, g, top int64) (bool, error) {
	var one int
	err := q.QueryRowContext(ctx, `SELECT 1 FROM group_paths WHERE ancestor_id = $1 AND descendant_id = $2`, top, g).Scan(&one)
	if store.IsNoRows(err) {
		return false, nil
	}
	if err != nil {
		return false, errs.Wrap(err, "scim: scope")
	}
	return true, nil
}

// usersByID returns the accounts with these ids, in this order, as resources, and fills
// etags (when not nil) with their versions: a projection may leave meta out.
func (s *Service) usersByID(ctx context.Context, q store.Querier, scopeID int64, ids []int64, proj projection,
	etags map[int64]string) ([]any, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	args := []any{scopeID}
	for _, id := range ids {
		args = append(args, id)
	}
	rows, err := q.QueryContext(ctx, userSelect+` WHERE u.id IN (`+store.Placeholders(2, len(ids))+`) AND`+inScope, args...)
	if err != nil {
		return nil, errs.Wrap(err, "scim: users")
	}
	byID := map[int64]*userRow{}
	for rows.Next() {
		u, err := scanUserRow(rows)
		if err != nil {
			rows.Close()
			return nil, errs.Wrap(err, "scim: users")
		}
		byID[u.ID] = u
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, errs.Wrap(err, "scim: users")
	}
	var groups map[int64][]groupRef
	if proj.wants("groups") {
		if groups, err = userGroups(ctx, q, scopeID, ids); err != nil {
			return nil, err
		}
	}
	out := make([]any, 0, len(ids))
	for _, id := range ids {
		if u := byID[id]; u != nil {
			out = append(out, proj.apply(s.userResource(u, groups[id])))
			if etags != nil {
				etags[id] = u.etag()
			}
		}
	}
	return out, nil
}

// noUser is the error of an id that names no account in scope.
func noUser(id string) error { return errs.Coded(errs.NotFound, "scim_no_user", errs.P{"id": id}) }

// userByName finds the live account with this (normalised) username, with the scope and the
// deletion mark of its SCIM row when it has one. found is false when there is none.
func userByName(ctx context.Context, q store.Querier, username string) (id int64, scope, deleted sql.NullInt64, found bool, err error) {
	err = q.QueryRowContext(ctx, `SELECT u.id, s.scope_group_id, s.deleted_at FROM users u
		LEFT JOIN scim_users s ON s.user_id = u.id WHERE u.username = $1 AND u.deleted_at IS NULL`,
		username).Scan(&id, &scope, &deleted)
	if store.IsNoRows(err) {
		return 0, scope, deleted, false, nil
	}
	if err != nil {
		return 0, scope, deleted, false, errs.Wrap(err, "scim: find user")
	}
	return id, scope, deleted, true, nil
}

// scimUserColumns are the columns of scim_users a record writes, and their values.
func scimUserColumns(id, scopeID int64, rec *userRecord, now int64) ([]string, []any) {
	cols := []string{"user_id", "scope_group_id", "user_name", "external_id", "version", "created_at", "updated_at"}
	args := []any{id, scopeID, rec.UserName, rec.ExternalID, 1, now, now}
	for i, c := range userCols {
		cols = append(cols, c.col)
		args = append(args, rec.Cols[i])
	}
	return cols, args
}

// writeSCIMUser stores rec over the SCIM rows of account id (its row, document and values),
// making them when there are none (an account provisioned anew under scopeID), and counts a
// new version. fresh says the account was just created: it has no values to clear. The row,
// the document and the values go in one round trip (store.Tx.ExecAll).
func writeSCIMUser(ctx context.Context, tx *store.Tx, id, scopeID int64, rec *userRecord, fresh bool) error {
	if !fresh {
		if _, err := tx.ExecContext(ctx, `DELETE FROM scim_user_values WHERE user_id = $1`, id); err != nil {
			return errs.Wrap(err, "scim: user values")
		}
	}
	cols, args := scimUserColumns(id, scopeID, rec, tx.Now.Unix())
	set := []string{"user_name = excluded.user_name", "external_id = excluded.external_id",
		"updated_at = excluded.updated_at", "version = scim_users.version + 1"}
	for _, c := range userCols {
		set = append(set, c.col+" = excluded."+c.col)
	}
	stmts := []store.Stmt{
		{SQL: `INSERT INTO scim_users (` + strings.Join(cols, ", ") + `) VALUES (` + store.Placeholders(1, len(args)) +
			`) ON CONFLICT (user_id) DO UPDATE SET ` + strings.Join(set, ", "), Args: args},
		{SQL: `INSERT INTO scim_user_docs (user_id, doc) VALUES ($1, $2) ON CONFLICT (user_id) DO UPDATE SET doc = excluded.doc`,
			Args: []any{id, rec.Doc}},
	}
	if v, ok := valuesStmt(id, rec.Values); ok {
		stmts = append(stmts, v)
	}
	return errs.Wrap(tx.ExecAll(ctx, stmts...), "scim: write user")
}

// valuesStmt writes the multi-valued attributes of account id; ok is false when there are
// none.
func valuesStmt(id int64, values []valueRow) (st store.Stmt, ok bool) {
	if len(values) == 0 {
		return st, false
	}
	rows := make([]string, len(values))
	args := make([]any, 0, 7*len(values))
	for i, v := range values {
		rows[i] = "(" + store.Placeholders(len(args)+1, 7) + ")"
		args = append(args, id, v.Attr, i, v.Type, v.ValueNorm, v.Display, v.Primary)
	}
	return store.Stmt{SQL: `INSERT INTO scim_user_values (user_id, attr, ord, type, value_norm, display, is_primary)
		VALUES ` + strings.Join(rows, ", "), Args: args}, true
}

// setSCIMDeleted marks the SCIM row of account id deleted (SCIM no longer shows it), or no
// longer deleted, and counts a new version when it marks it.
func setSCIMDeleted(ctx context.Context, tx *store.Tx, id int64, deleted bool) error {
	q := `UPDATE scim_users SET deleted_at = NULL WHERE user_id = $1`
	args := []any{id}
	if deleted {
		q = `UPDATE scim_users SET deleted_at = $2, version = version + 1 WHERE user_id = $1`
		args = append(args, tx.Now.Unix())
	}
	_, err := tx.ExecContext(ctx, q, args...)
	return errs.Wrap(err, "scim: mark user")
}
