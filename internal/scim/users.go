package scim

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"roster/internal/account"
	"roster/internal/audit"
	"roster/internal/authz"
	"roster/internal/errs"
	"roster/internal/group"
	"roster/internal/store"
)

// userRow is an account as SCIM sees it.
type userRow struct {
	ID                   int64
	Email, First, Last   string
	Status               string
	Created, Updated     int64
	UserName, ExternalID string
	Doc                  string
	Version, Scope       int64
}

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

// loadUser reads one account in scope; forUpdate locks its row on PostgreSQL (SQLite's
// write transactions are exclusive already). Errors: 404.
func loadUser(ctx context.Context, q store.Querier, d store.Dialect, scopeID int64, id string, forUpdate bool) (*userRow, error) {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil || strconv.FormatInt(n, 10) != id {
		return nil, notFound("no user %q", id)
	}
	lock := ""
	if forUpdate && d == store.Postgres {
		lock = " FOR UPDATE OF s"
	}
	u, err := scanUserRow(q.QueryRowContext(ctx, userSelect+` WHERE u.id = $2 AND`+inScope+lock, scopeID, n))
	if store.IsNoRows(err) {
		return nil, notFound("no user %q", id)
	}
	if err != nil {
		return nil, errs.Wrap(err, "scim: load user")
	}
	return u, nil
}

func (u *userRow) etag() string { return fmt.Sprintf(`W/"%d-%d"`, u.Version, u.Updated) }

// object is the canonical resource without id, meta and groups: what PATCH and PUT start from.
// It is what SCIM last wrote, with the account's status as it is now (an administrator may
// have suspended it since): SCIM shows, filters and changes its own view, and Roster's
// columns follow each change it makes.
func (u *userRow) object() object {
	m := object{}
	if err := json.Unmarshal([]byte(u.Doc), &m); err != nil || m == nil {
		m = object{}
	}
	m["userName"] = u.UserName
	if u.ExternalID != "" {
		m["externalId"] = u.ExternalID
	}
	m["active"] = u.Status == account.StatusActive
	return m
}

// groupRef is one SCIM group an account belongs to.
type groupRef struct {
	ID   int64
	Name string
}

// resource is the full SCIM representation.
func (h *Handler) userResource(u *userRow, groups []groupRef) object {
	m := u.object()
	id := strconv.FormatInt(u.ID, 10)
	m["id"] = id
	m["schemas"] = usersType.schemaIDs(m[EnterpriseSchema] != nil)
	if len(groups) > 0 {
		list := make([]any, len(groups))
		for i, g := range groups {
			gid := strconv.FormatInt(g.ID, 10)
			list[i] = object{"value": gid, "display": g.Name, "$ref": h.location("/Groups", gid), "type": "direct"}
		}
		m["groups"] = list
	}
	m["meta"] = object{"resourceType": "User", "created": rfc3339(u.Created), "lastModified": rfc3339(u.Updated),
		"location": h.location("/Users", id), "version": u.etag()}
	return m
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

// userRecord is what a canonical User resource writes: Roster's columns, the filter columns
// and the document.
type userRecord struct {
	UserName, ExternalID, Given, Family, Email, Language string
	Active, ActiveSet                                    bool
	Cols                                                 []any // the scim_users columns of userCols, in order
	Values                                               []valueRow
	Doc                                                  string
}

type valueRow struct {
	Attr, Type, ValueNorm, Display string
	Primary                        bool
}

// userCols are the scim_users columns copied from the document, with their paths.
// They are lower-cased, except the case-exact ones (RFC 7643 caseExact).
var userCols = []struct {
	col, path string
	exact     bool
}{
	{"given_name", "name.givenName", false}, {"family_name", "name.familyName", false},
	{"display_name", "displayName", false}, {"nick_name", "nickName", false}, {"title", "title", false},
	{"user_type", "userType", false}, {"preferred_language", "preferredLanguage", false}, {"locale", "locale", false},
	{"timezone", "timezone", false}, {"employee_number", EnterpriseSchema + ":employeeNumber", false},
	{"cost_center", EnterpriseSchema + ":costCenter", false}, {"organization", EnterpriseSchema + ":organization", false},
	{"division", EnterpriseSchema + ":division", false}, {"department", EnterpriseSchema + ":department", false},
	{"manager_id", EnterpriseSchema + ":manager.value", true},
}

// getString reads a string at a canonical path ("name.givenName", "URN:attr.sub").
func getString(m object, path string) string {
	if strings.HasPrefix(path, EnterpriseSchema+":") {
		m, _ = m[EnterpriseSchema].(object)
		path = strings.TrimPrefix(path, EnterpriseSchema+":")
	}
	name, sub, hasSub := strings.Cut(path, ".")
	v := m[name]
	if hasSub {
		o, _ := v.(object)
		v = o[sub]
	}
	s, _ := v.(string)
	return s
}

// recordOf derives the record of a canonical User. Errors: invalidValue for a missing
// userName.
func recordOf(m object) (*userRecord, error) {
	r := &userRecord{UserName: strings.TrimSpace(getString(m, "userName")), ExternalID: getString(m, "externalId")}
	if r.UserName == "" {
		return nil, invalidValue("userName is required")
	}
	r.Given, r.Family = rosterNames(m, r.UserName)
	if b, ok := m["active"].(bool); ok {
		r.Active, r.ActiveSet = b, true
	}
	for _, lang := range []string{getString(m, "preferredLanguage"), getString(m, "locale")} {
		if l := strings.ToLower(lang); len(l) >= 2 && (l[:2] == "en" || l[:2] == "fr") && (len(l) == 2 || l[2] == '-' || l[2] == '_') {
			r.Language = l[:2]
			break
		}
	}
	for _, c := range userCols {
		v := getString(m, c.path)
		if !c.exact {
			v = strings.ToLower(v)
		}
		r.Cols = append(r.Cols, v)
	}
	// The delivery address: the primary email, else the first work one, else the first.
	emails, _ := m["emails"].([]any)
	bestRank := 0
	for _, e := range emails {
		eo, _ := e.(object)
		v := strings.TrimSpace(getString(eo, "value"))
		rank := 1
		switch {
		case v == "":
			continue
		case eo["primary"] == true:
			rank = 3
		case strings.EqualFold(getString(eo, "type"), "work"):
			rank = 2
		}
		if rank > bestRank {
			r.Email, bestRank = v, rank
		}
	}
	for _, attr := range []string{"emails", "phoneNumbers"} {
		list, _ := m[attr].([]any)
		for _, e := range list {
			eo, _ := e.(object)
			r.Values = append(r.Values, valueRow{Attr: attr, Type: strings.ToLower(getString(eo, "type")),
				ValueNorm: strings.ToLower(getString(eo, "value")), Display: strings.ToLower(getString(eo, "display")),
				Primary: eo["primary"] == true})
		}
	}
	doc := object{}
	for k, v := range m {
		switch k {
		case "id", "meta", "groups", "active", "userName", "externalId", "schemas":
		default:
			doc[k] = v
		}
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, errs.Wrap(err, "scim: user document")
	}
	r.Doc = string(b)
	return r, nil
}

// rosterNames are the first and last names of the Roster account, which requires both (its
// pages, lists and searches show them) while SCIM requires only userName. They come from
// name.givenName and name.familyName; a missing one from a displayName (else name.formatted)
// of two words or more: the first word is the given name, the rest the family name. A single
// word left (Entra's "Printer", a nickName, else the userName before any "@") stands for
// whichever names are missing. The SCIM resource keeps what the provider sent: a name
// derived here is not shown at /Users.
func rosterNames(m object, userName string) (given, family string) {
	given = strings.TrimSpace(getString(m, "name.givenName"))
	family = strings.TrimSpace(getString(m, "name.familyName"))
	if given != "" && family != "" {
		return given, family
	}
	var word string
	for _, src := range []string{getString(m, "displayName"), getString(m, "name.formatted")} {
		full := strings.Fields(src)
		if len(full) > 1 {
			if given == "" {
				given = full[0]
			}
			if family == "" {
				family = strings.Join(full[1:], " ")
			}
			return given, family
		}
		if len(full) == 1 && word == "" {
			word = full[0]
		}
	}
	if word == "" {
		word = strings.TrimSpace(getString(m, "nickName"))
	}
	if word == "" {
		word, _, _ = strings.Cut(userName, "@")
		if word == "" {
			word = userName
		}
	}
	if given == "" {
		given = word
	}
	if family == "" {
		family = word
	}
	return given, family
}

// newUser is the Roster account a record asks for; its Validate checks the fields Roster
// cares about (email syntax, username length).
func (h *Handler) newUser(r *userRecord) account.NewUser {
	return account.NewUser{Username: strings.ToLower(r.UserName), Email: r.Email, FirstName: r.Given,
		LastName: r.Family, Language: r.Language, Auth: h.cfg.Auth}
}

// validate normalises in (account.NewUser.Validate: the username's stored form, names
// trimmed) and reports Roster's field errors in SCIM's terms.
func validate(in *account.NewUser) error {
	if err := in.Validate(); err != nil {
		e := errs.As(err)
		names := map[string]string{"email": "emails", "first_name": "name.givenName", "last_name": "name.familyName",
			"username": "userName", "language": "preferredLanguage"}
		var parts []string
		for _, f := range e.Fields {
			n := names[f.Field]
			if n == "" {
				n = f.Field
			}
			parts = append(parts, n+": "+f.Message)
		}
		if len(parts) == 0 {
			parts = []string{e.Message}
		}
		return invalidValue("%s", strings.Join(parts, "; "))
	}
	return nil
}

// createUser provisions an account. If the userName belongs to an account that a SCIM client
// of this scope deleted and that is not erased yet, that account comes back (reactivated,
// its deletion date cleared) instead of a conflict.
//
// It returns the account as committed when it made a new one (the response needs no second
// read: every value is known here, and a fresh account belongs to no SCIM group yet), and
// only its id when it revived one.
func (h *Handler) createUserTx(ctx context.Context, scopeID int64, m object) (int64, *userRow, error) {
	rec, err := recordOf(m)
	if err != nil {
		return 0, nil, err
	}
	in := h.newUser(rec)
	if err := validate(&in); err != nil {
		return 0, nil, err
	}
	var (
		id  int64
		row *userRow
	)
	err = h.db.Tx(ctx, func(tx *store.Tx) error {
		row = nil
		var (
			existing  int64
			sScope    sql.NullInt64
			sDeleted  sql.NullInt64
			revivable bool
		)
		err := tx.QueryRowContext(ctx, `SELECT u.id, s.scope_group_id, s.deleted_at FROM users u
			LEFT JOIN scim_users s ON s.user_id = u.id WHERE u.username = $1 AND u.deleted_at IS NULL`,
			in.Username).Scan(&existing, &sScope, &sDeleted)
		switch {
		case store.IsNoRows(err):
		case err != nil:
			return errs.Wrap(err, "scim: find user")
		default:
			if sDeleted.Valid {
				revivable, err = isUnder(ctx, tx, sScope.Int64, scopeID)
				if err != nil {
					return err
				}
			}
			if !revivable {
				return newError(http.StatusConflict, "uniqueness", "userName %q is already taken", rec.UserName)
			}
		}
		if revivable {
			id = existing
			if _, err := tx.ExecContext(ctx, `UPDATE users SET delete_at = NULL, deletion_noticed_at = NULL WHERE id = $1`, id); err != nil {
				return errs.Wrap(err, "scim: revive user")
			}
			if _, err := tx.ExecContext(ctx, `UPDATE scim_users SET deleted_at = NULL WHERE user_id = $1`, id); err != nil {
				return errs.Wrap(err, "scim: revive user")
			}
			if !rec.ActiveSet {
				rec.Active, rec.ActiveSet = true, true
			}
			if err := h.writeUser(ctx, tx, id, rec, account.StatusSuspended, 0); err != nil {
				return err
			}
			return audit.Record(ctx, tx, scimEvent(ctx, "scim.user.restore", "user", id, map[string]any{"userName": rec.UserName}))
		}
		u, err := h.accounts.CreateUser(ctx, tx, in)
		if err != nil {
			return err
		}
		id = u.ID
		if err := group.AddMemberTx(ctx, tx, scopeID, id, group.Learner, group.SourceSCIM); err != nil {
			return err
		}
		if err := h.insertFresh(ctx, tx, id, rec, scopeID, scimEvent(ctx, "scim.user.create", "user", id,
			map[string]any{"userName": rec.UserName, "externalId": rec.ExternalID, "active": !rec.ActiveSet || rec.Active})); err != nil {
			return err
		}
		status := account.StatusActive
		if rec.ActiveSet && !rec.Active {
			if err := h.deactivate(ctx, tx, id); err != nil {
				return err
			}
			status = account.StatusSuspended
		}
		now := tx.Now.Unix()
		row = &userRow{ID: id, Email: u.Email, First: u.FirstName, Last: u.LastName, Status: status,
			Created: u.CreatedAt.Unix(), Updated: now, UserName: rec.UserName, ExternalID: rec.ExternalID,
			Doc: rec.Doc, Version: 1, Scope: scopeID}
		return nil
	})
	if err != nil {
		return 0, nil, err
	}
	return id, row, nil
}

// insertFresh writes the SCIM rows of an account account.CreateUser just made from rec in
// this transaction (row, document, values) and the audit event e. On PostgreSQL that is one
// statement (data-modifying WITH clauses), one round trip instead of four; SQLite, in the
// process, runs them one by one.
func (h *Handler) insertFresh(ctx context.Context, tx *store.Tx, id int64, rec *userRecord, scopeID int64, e audit.Event) error {
	now := tx.Now.Unix()
	type part struct {
		sql  string
		args []any
	}
	var parts []part
	// add builds one statement; arg numbers its parameters from first.
	add := func(first int, build func(arg func(any) string) string) {
		var args []any
		q := build(func(v any) string { args = append(args, v); return "$" + strconv.Itoa(first+len(args)-1) })
		parts = append(parts, part{q, args})
	}
	next := func() int {
		if tx.Dialect != store.Postgres {
			return 1
		}
		n := 1
		for _, p := range parts {
			n += len(p.args)
		}
		return n
	}
	add(next(), func(arg func(any) string) string {
		cols := []string{"user_id", "scope_group_id", "user_name", "external_id", "version", "created_at", "updated_at"}
		vals := []string{arg(id), arg(scopeID), arg(rec.UserName), arg(rec.ExternalID), "1", arg(now), arg(now)}
		for i, c := range userCols {
			cols = append(cols, c.col)
			vals = append(vals, arg(rec.Cols[i]))
		}
		return `INSERT INTO scim_users (` + strings.Join(cols, ", ") + `) VALUES (` + strings.Join(vals, ", ") + `)`
	})
	add(next(), func(arg func(any) string) string {
		return `INSERT INTO scim_user_docs (user_id, doc) VALUES (` + arg(id) + `, ` + arg(rec.Doc) + `)`
	})
	if len(rec.Values) > 0 {
		add(next(), func(arg func(any) string) string {
			rows := make([]string, len(rec.Values))
			uid := arg(id)
			for i, v := range rec.Values {
				rows[i] = "(" + uid + ", " + arg(v.Attr) + ", " + strconv.Itoa(i) + ", " + arg(v.Type) + ", " +
					arg(v.ValueNorm) + ", " + arg(v.Display) + ", " + arg(v.Primary) + ")"
			}
			return `INSERT INTO scim_user_values (user_id, attr, ord, type, value_norm, display, is_primary) VALUES ` +
				strings.Join(rows, ", ")
		})
	}
	if tx.Dialect != store.Postgres {
		for _, p := range parts {
			if _, err := tx.ExecContext(ctx, p.sql, p.args...); err != nil {
				return errs.Wrap(err, "scim: write user")
			}
		}
		return audit.Record(ctx, tx, e)
	}
	// The audit event, as audit.Record writes it.
	var actor any
	if p := authz.From(ctx); p != nil && p.UserID != 0 {
		actor = p.UserID
	}
	ip := e.IP
	if ip == "" {
		ip = audit.IP(ctx)
	}
	details := "{}"
	if len(e.Details) > 0 {
		b, err := json.Marshal(e.Details)
		if err != nil {
			return errs.Wrap(err, "scim: audit")
		}
		details = string(b)
	}
	add(next(), func(arg func(any) string) string {
		return `INSERT INTO audit_events (at, actor_id, action, target_type, target_id, ip, details) VALUES (` +
			arg(now) + `, ` + arg(actor) + `, ` + arg(e.Action) + `, ` + arg(e.TargetType) + `, ` + arg(e.TargetID) + `, ` +
			arg(ip) + `, ` + arg(details) + `)`
	})
	var (
		b    strings.Builder
		args []any
	)
	for i, p := range parts {
		args = append(args, p.args...)
		if i == len(parts)-1 {
			b.WriteString(p.sql)
			break
		}
		if i == 0 {
			b.WriteString("WITH ")
		} else {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "w%d AS (%s) ", i, p.sql)
	}
	if _, err := tx.ExecContext(ctx, b.String(), args...); err != nil {
		return errs.Wrap(err, "scim: write user")
	}
	return nil
}

// writeUser stores rec over account id (whose status is status before the change): Roster's
// columns, the SCIM row, document and values, and the activation change with what it
// implies. scopeID is the scope of a SCIM row that does not exist yet. A new account is
// written by insertFresh instead.
func (h *Handler) writeUser(ctx context.Context, tx *store.Tx, id int64, rec *userRecord, status string, scopeID int64) error {
	now := tx.Now.Unix()
	in := h.newUser(rec)
	if err := validate(&in); err != nil {
		return err
	}
	if err := account.CheckUsernameLookalikes(ctx, tx, in.Username, id); errs.Is(err, errs.Conflict) {
		return newError(http.StatusConflict, "uniqueness", "userName %q looks the same as an existing one", rec.UserName)
	} else if err != nil {
		return err
	}
	if err := h.checkEmail(ctx, tx, id, in.Email); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `UPDATE users SET username = $2, email = $3, email_norm = $4, first_name = $5,
		last_name = $6, language = $7, updated_at = $8 WHERE id = $1`,
		id, in.Username, in.Email, strings.ToLower(in.Email), in.FirstName, in.LastName, in.Language, now)
	if store.IsUnique(err) {
		return newError(http.StatusConflict, "uniqueness", "userName %q is already taken", rec.UserName)
	}
	if err != nil {
		return errs.Wrap(err, "scim: update user")
	}
	// One statement inserts the SCIM row of a new account or updates an existing one.
	cols := []string{"user_id", "scope_group_id", "user_name", "external_id", "version", "created_at", "updated_at"}
	args := []any{id, scopeID, rec.UserName, rec.ExternalID, 1, now, now}
	set := []string{"user_name = excluded.user_name", "external_id = excluded.external_id",
		"updated_at = excluded.updated_at", "version = scim_users.version + 1"}
	for i, c := range userCols {
		cols = append(cols, c.col)
		args = append(args, rec.Cols[i])
		set = append(set, c.col+" = excluded."+c.col)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO scim_users (`+strings.Join(cols, ", ")+`) VALUES (`+
		store.Placeholders(1, len(args))+`) ON CONFLICT (user_id) DO UPDATE SET `+strings.Join(set, ", "), args...); err != nil {
		return errs.Wrap(err, "scim: write user")
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO scim_user_docs (user_id, doc) VALUES ($1, $2)
		ON CONFLICT (user_id) DO UPDATE SET doc = excluded.doc`, id, rec.Doc); err != nil {
		return errs.Wrap(err, "scim: user document")
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM scim_user_values WHERE user_id = $1`, id); err != nil {
		return errs.Wrap(err, "scim: user values")
	}
	if len(rec.Values) > 0 {
		var (
			rows []string
			vals []any
		)
		for i, v := range rec.Values {
			rows = append(rows, "("+store.Placeholders(len(vals)+1, 7)+")")
			vals = append(vals, id, v.Attr, i, v.Type, v.ValueNorm, v.Display, v.Primary)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO scim_user_values (user_id, attr, ord, type, value_norm, display, is_primary)
			VALUES `+strings.Join(rows, ", "), vals...); err != nil {
			return errs.Wrap(err, "scim: user values")
		}
	}
	if !rec.ActiveSet {
		return nil
	}
	switch {
	case rec.Active && status != account.StatusActive:
		return h.reactivate(ctx, tx, id)
	case !rec.Active && status == account.StatusActive:
		return h.deactivate(ctx, tx, id)
	}
	return nil
}

// checkEmail refuses an address another account uses, unless the platform allows shared
// addresses (the rule account.CreateUser applies).
func (h *Handler) checkEmail(ctx context.Context, tx *store.Tx, self int64, email string) error {
	if email == "" {
		return nil
	}
	shared, err := account.SharedEmailAllowed(ctx, tx)
	if err != nil || shared {
		return err
	}
	var one int
	err = tx.QueryRowContext(ctx, `SELECT 1 FROM users WHERE email_norm = $1 AND id <> $2 AND deleted_at IS NULL LIMIT 1`,
		strings.ToLower(email), self).Scan(&one)
	if err == nil {
		return newError(http.StatusConflict, "uniqueness", "another account has the email %q", email)
	}
	if !store.IsNoRows(err) {
		return errs.Wrap(err, "scim: check email")
	}
	return nil
}

// deactivate suspends an account and, in the same transaction, ends its sessions and revokes
// its API tokens: a leaver is out at once, whatever they had open (an administrator's
// suspension keeps the tokens, SCIM's does not).
func (h *Handler) deactivate(ctx context.Context, tx *store.Tx, id int64) error {
	if err := h.accounts.SuspendTx(ctx, tx, id); err != nil {
		return err
	}
	revoked, err := h.accounts.RevokeUserTokensTx(ctx, tx, id)
	if err != nil {
		return err
	}
	return audit.Record(ctx, tx, scimEvent(ctx, "scim.user.deactivate", "user", id, map[string]any{"tokens_revoked": revoked}))
}

// reactivate makes a suspended account active again (account.ReactivateTx keeps the billing
// period that ended with the suspension).
func (h *Handler) reactivate(ctx context.Context, tx *store.Tx, id int64) error {
	if err := h.accounts.ReactivateTx(ctx, tx, id); err != nil {
		return err
	}
	return audit.Record(ctx, tx, scimEvent(ctx, "scim.user.reactivate", "user", id, nil))
}

// updateUser runs change over the current resource and stores the result, in one
// transaction. ifMatch is the request's If-Match header.
func (h *Handler) updateUser(ctx context.Context, scopeID int64, id, ifMatch, action string,
	change func(cur object) (object, error)) (*userRow, error) {
	var uid int64
	err := h.db.Tx(ctx, func(tx *store.Tx) error {
		u, err := loadUser(ctx, tx, tx.Dialect, scopeID, id, true)
		if err != nil {
			return err
		}
		uid = u.ID
		if err := checkIfMatch(ifMatch, u.etag()); err != nil {
			return err
		}
		cur := u.object()
		before, _ := json.Marshal(cur)
		next, err := change(u.object())
		if err != nil {
			return err
		}
		rec, err := recordOf(next)
		if err != nil {
			return err
		}
		if err := h.writeUser(ctx, tx, u.ID, rec, u.Status, u.Scope); err != nil {
			return err
		}
		var prev object
		json.Unmarshal(before, &prev)
		return audit.Record(ctx, tx, scimEvent(ctx, action, "user", u.ID, map[string]any{"changed": changedKeys(prev, next)}))
	})
	if err != nil {
		return nil, err
	}
	return loadUser(ctx, h.db, h.db.Dialect, scopeID, strconv.FormatInt(uid, 10), false)
}

// changedKeys lists the top-level attributes that differ, for the audit log.
func changedKeys(a, b object) []string {
	var out []string
	for k, v := range b {
		if !jsonEqual(a[k], v) {
			out = append(out, k)
		}
	}
	for k := range a {
		if _, ok := b[k]; !ok {
			out = append(out, k)
		}
	}
	return out
}

// deleteUserTx deprovisions: suspended, sessions and tokens ended, due for deletion after
// DeleteAfter, and no longer shown by SCIM.
func (h *Handler) deleteUserTx(ctx context.Context, scopeID int64, id, ifMatch string) error {
	return h.db.Tx(ctx, func(tx *store.Tx) error {
		u, err := loadUser(ctx, tx, tx.Dialect, scopeID, id, true)
		if err != nil {
			return err
		}
		if err := checkIfMatch(ifMatch, u.etag()); err != nil {
			return err
		}
		if err := h.deactivate(ctx, tx, u.ID); err != nil {
			return err
		}
		due := tx.Now.Add(h.cfg.DeleteAfter).Unix()
		if _, err := tx.ExecContext(ctx, `UPDATE users SET delete_at = $2, deletion_noticed_at = NULL, updated_at = $3
			WHERE id = $1 AND (delete_at IS NULL OR delete_at > $2)`, u.ID, due, tx.Now.Unix()); err != nil {
			return errs.Wrap(err, "scim: mark for deletion")
		}
		if _, err := tx.ExecContext(ctx, `UPDATE scim_users SET deleted_at = $2, version = version + 1 WHERE user_id = $1`,
			u.ID, tx.Now.Unix()); err != nil {
			return errs.Wrap(err, "scim: delete user")
		}
		return audit.Record(ctx, tx, scimEvent(ctx, "scim.user.delete", "user", u.ID, map[string]any{"delete_at": rfc3339(due)}))
	})
}

// scimEvent is an audit event of a SCIM change, naming the token that made it.
func scimEvent(ctx context.Context, action, targetType string, id int64, details map[string]any) audit.Event {
	if details == nil {
		details = map[string]any{}
	}
	if p := authz.From(ctx); p != nil {
		details["token_id"] = p.TokenID
		details["scim_group_id"] = p.SCIMGroupID
	}
	return audit.Event{Action: action, TargetType: targetType, TargetID: strconv.FormatInt(id, 10), Details: details}
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
