// Package group is the tree of groups, its memberships and the propagation rule.
//
// Groups form a tree; each is public or private. A person holds roles in a group (learner,
// trainer, group_admin, user_admin), each membership with its source (manual, propagated from a
// group, an import batch, SCIM, the sync). A learner added to a public group is also a learner
// of each ancestor up to and including the first private one (see Propagation); those
// memberships are stored with source "propagated:<origin group id>", so removing the last
// membership that made someone a learner of the origin removes exactly what it caused.
//
// Storage: groups.parent_id is the tree; group_paths is its closure table (every ancestor and
// descendant pair with the distance), kept in step on create, move and delete. It gives the
// chain above a group and the sub-tree below it in one indexed lookup each.
package group

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"

	"roster/internal/audit"
	"roster/internal/authz"
	"roster/internal/errs"
	"roster/internal/store"
)

// The roles a member may hold in a group. Only Learner propagates to ancestors.
const (
	Learner    = "learner"
	Trainer    = "trainer"
	GroupAdmin = "group_admin"
	UserAdmin  = "user_admin"
)

// Roles lists every role, in the order pages show them.
var Roles = []string{Learner, Trainer, GroupAdmin, UserAdmin}

// The visibilities of a group.
const (
	Public  = "public"
	Private = "private"
)

// Group is one node of the tree. ParentID is 0 for a top-level group. MemberCount is the
// number of distinct people holding any role in the group, whatever the source.
type Group struct {
	ID          int64
	ParentID    int64
	Name        string
	IDNumber    string // optional external id (imports, sync, SCIM); "" for none
	Description string
	Visibility  string // Public or Private
	CreatedAt   time.Time
	UpdatedAt   time.Time
	MemberCount int
}

// Limits on the text of a group.
const (
	MaxNameLen        = 255
	MaxIDNumberLen    = 100
	MaxDescriptionLen = 4000
)

// normalize trims the text fields and gives a new group its default visibility (private: a
// group feeds its learners to its parent only when someone says so).
func (g *Group) normalize() {
	g.Name = strings.TrimSpace(g.Name)
	g.IDNumber = strings.TrimSpace(g.IDNumber)
	g.Description = strings.TrimSpace(g.Description)
	g.Visibility = strings.TrimSpace(g.Visibility)
	if g.Visibility == "" {
		g.Visibility = Private
	}
}

// Validate checks the fields a person types: errs Invalid naming each bad field.
func (g *Group) Validate() error {
	var f errs.Fields
	switch {
	case g.Name == "":
		f.AddCode("name", "group_name_required")
	case utf8.RuneCountInString(g.Name) > MaxNameLen:
		f.AddCode("name", "too_long", errs.P{"limit": MaxNameLen})
	}
	if utf8.RuneCountInString(g.IDNumber) > MaxIDNumberLen {
		f.AddCode("idnumber", "too_long", errs.P{"limit": MaxIDNumberLen})
	}
	if utf8.RuneCountInString(g.Description) > MaxDescriptionLen {
		f.AddCode("description", "too_long", errs.P{"limit": MaxDescriptionLen})
	}
	if g.Visibility != Public && g.Visibility != Private {
		f.AddCode("visibility", "bad_visibility")
	}
	if g.ParentID < 0 {
		f.AddCode("parent_id", "no_such_group")
	}
	return f.Err()
}

// Update lists the fields to change; nil leaves a field as it is.
type Update struct {
	Name        *string
	IDNumber    *string
	Description *string
	Visibility  *string
}

// Service manages groups and memberships. Every method checks the caller's rights through
// authz first, runs in one transaction and records an audit event.
type Service struct {
	db *store.DB
}

// NewService returns a Service over db.
func NewService(db *store.DB) *Service { return &Service{db: db} }

// Create adds a group under g.ParentID (0: at the top). It needs authz.CanManageUnder on the
// parent. Errors: Invalid (fields), NotFound (parent), Conflict (name taken under the parent,
// idnumber taken).
func (s *Service) Create(ctx context.Context, g Group) (*Group, error) {
	var out *Group
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		var err error
		out, err = s.CreateTx(ctx, tx, g)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// CreateTx is Create within the caller's transaction (SCIM creates a group and its members in
// one), with the same permission check.
func (s *Service) CreateTx(ctx context.Context, tx *store.Tx, g Group) (*Group, error) {
	g.normalize()
	if err := g.Validate(); err != nil {
		return nil, err
	}
	if err := authz.CanManageUnder(ctx, tx, g.ParentID); err != nil {
		return nil, err
	}
	if g.ParentID != 0 {
		if _, err := getGroup(ctx, tx, g.ParentID); err != nil {
			return nil, parentErr(err)
		}
	}
	if err := checkFree(ctx, tx, 0, g.ParentID, g.Name, g.IDNumber); err != nil {
		return nil, err
	}
	err := tx.QueryRowContext(ctx, `INSERT INTO groups (parent_id, name, idnumber, description, visibility, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id`,
		nullID(g.ParentID), g.Name, g.IDNumber, g.Description, g.Visibility, tx.Now.Unix()).Scan(&g.ID)
	if store.IsUnique(err) {
		return nil, errs.Coded(errs.Conflict, "group_exists")
	}
	if err != nil {
		return nil, wrap(err, "group: create")
	}
	// The closure: the group itself, then the parent's ancestors one step further away.
	if _, err := tx.ExecContext(ctx, `INSERT INTO group_paths (ancestor_id, descendant_id, depth)
		SELECT CAST($1 AS BIGINT), CAST($1 AS BIGINT), 0 UNION ALL
		SELECT ancestor_id, CAST($1 AS BIGINT), depth + 1 FROM group_paths WHERE descendant_id = $2`, g.ID, g.ParentID); err != nil {
		return nil, wrap(err, "group: create paths")
	}
	g.CreatedAt, g.UpdatedAt = tx.Now, tx.Now
	if err := audit.Record(ctx, tx, audit.Event{Action: "group.create", TargetType: "group", TargetID: idStr(g.ID),
		Details: map[string]any{"name": g.Name, "parent_id": g.ParentID, "visibility": g.Visibility}}); err != nil {
		return nil, err
	}
	return &g, nil
}

// Get returns a group with its member count. Errors: Forbidden (authz.CanViewGroup),
// NotFound.
func (s *Service) Get(ctx context.Context, id int64) (*Group, error) {
	if err := authz.CanViewGroup(ctx, s.db, id); err != nil {
		return nil, err
	}
	g, err := getGroup(ctx, s.db, id)
	if err != nil {
		return nil, err
	}
	if err := s.db.QueryRowContext(ctx, `SELECT count(DISTINCT user_id) FROM group_members WHERE group_id = $1`,
		id).Scan(&g.MemberCount); err != nil {
		return nil, wrap(err, "group: count members")
	}
	return g, nil
}

// Update changes a group's name, idnumber, description or visibility. Changing the visibility
// recomputes the memberships the propagation rule implies for every group of the sub-tree, and
// needs authz.CanManageUnder on the parent (it decides what flows into the parent); the other
// fields need authz.CanManageGroup. Errors: Forbidden, NotFound, Invalid, Conflict.
func (s *Service) Update(ctx context.Context, id int64, u Update) (*Group, error) {
	var out *Group
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		var err error
		out, err = s.UpdateTx(ctx, tx, id, u)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// UpdateTx is Update within the caller's transaction, with the same permission checks.
func (s *Service) UpdateTx(ctx context.Context, tx *store.Tx, id int64, u Update) (*Group, error) {
	if err := authz.CanManageGroup(ctx, tx, id); err != nil {
		return nil, err
	}
	g, err := getGroup(ctx, tx, id)
	if err != nil {
		return nil, err
	}
	old := *g
	if u.Name != nil {
		g.Name = *u.Name
	}
	if u.IDNumber != nil {
		g.IDNumber = *u.IDNumber
	}
	if u.Description != nil {
		g.Description = *u.Description
	}
	if u.Visibility != nil {
		g.Visibility = *u.Visibility
		if strings.TrimSpace(g.Visibility) == "" {
			return nil, errs.FieldCode("visibility", "bad_visibility")
		}
	}
	g.normalize()
	if err := g.Validate(); err != nil {
		return nil, err
	}
	if g.Visibility != old.Visibility {
		if err := authz.CanManageUnder(ctx, tx, g.ParentID); err != nil {
			return nil, err
		}
	}
	if err := checkFree(ctx, tx, id, g.ParentID, nameIfChanged(g.Name, old.Name), idIfChanged(g.IDNumber, old.IDNumber)); err != nil {
		return nil, err
	}
	write := func() error {
		_, err := tx.ExecContext(ctx, `UPDATE groups SET name = $2, idnumber = $3, description = $4, visibility = $5, updated_at = $6
			WHERE id = $1`, id, g.Name, g.IDNumber, g.Description, g.Visibility, tx.Now.Unix())
		if store.IsUnique(err) {
			return errs.Coded(errs.Conflict, "group_exists")
		}
		return wrap(err, "group: update")
	}
	if g.Visibility != old.Visibility {
		err = recompute(ctx, tx, id, write)
	} else {
		err = write()
	}
	if err != nil {
		return nil, err
	}
	g.UpdatedAt = tx.Now
	if err := audit.Record(ctx, tx, audit.Event{Action: "group.update", TargetType: "group", TargetID: idStr(id),
		Details: changes(old, *g)}); err != nil {
		return nil, err
	}
	return g, nil
}

// Rename is Update of the name alone.
func (s *Service) Rename(ctx context.Context, id int64, name string) (*Group, error) {
	return s.Update(ctx, id, Update{Name: &name})
}

// getGroup reads one group without its member count. Errors: NotFound.
func getGroup(ctx context.Context, q store.Querier, id int64) (*Group, error) {
	var (
		g          Group
		parent     *int64
		cre, upd   int64
		visibility string
	)
	err := q.QueryRowContext(ctx, `SELECT id, parent_id, name, idnumber, description, visibility, created_at, updated_at
		FROM groups WHERE id = $1`, id).Scan(&g.ID, &parent, &g.Name, &g.IDNumber, &g.Description, &visibility, &cre, &upd)
	if store.IsNoRows(err) {
		return nil, errs.Coded(errs.NotFound, "no_such_group")
	}
	if err != nil {
		return nil, wrap(err, "group: get")
	}
	if parent != nil {
		g.ParentID = *parent
	}
	g.Visibility = visibility
	g.CreatedAt, g.UpdatedAt = store.Time(cre), store.Time(upd)
	return &g, nil
}

// checkFree fails with Conflict when name is taken under parent or idnumber anywhere, by a
// group other than self. Empty strings are not checked.
func checkFree(ctx context.Context, q store.Querier, self, parent int64, name, idnumber string) error {
	var one int
	if name != "" {
		err := q.QueryRowContext(ctx, `SELECT 1 FROM groups WHERE COALESCE(parent_id, 0) = $1 AND name = $2 AND id <> $3`,
			parent, name, self).Scan(&one)
		if err == nil {
			return conflictField("name", "group_name_taken", errs.P{"name": name})
		}
		if !store.IsNoRows(err) {
			return wrap(err, "group: check name")
		}
	}
	if idnumber != "" {
		err := q.QueryRowContext(ctx, `SELECT 1 FROM groups WHERE idnumber = $1 AND id <> $2`, idnumber, self).Scan(&one)
		if err == nil {
			return conflictField("idnumber", "group_idnumber_taken", errs.P{"idnumber": idnumber})
		}
		if !store.IsNoRows(err) {
			return wrap(err, "group: check idnumber")
		}
	}
	return nil
}

// conflictField is a coded field error of class Conflict.
func conflictField(field, key string, p ...errs.P) error {
	return errs.FieldCode(field, key, p...).Class(errs.Conflict)
}

// parentErr turns "group N not found" about a parent into an error naming the field.
func parentErr(err error) error {
	if errs.Is(err, errs.NotFound) {
		return errs.FieldCode("parent_id", "no_such_group").Class(errs.NotFound)
	}
	return err
}

func nameIfChanged(now, before string) string {
	if now == before {
		return ""
	}
	return now
}

func idIfChanged(now, before string) string { return nameIfChanged(now, before) }

// changes lists the fields that differ, for the audit log.
func changes(a, b Group) map[string]any {
	d := map[string]any{}
	if a.Name != b.Name {
		d["name"] = []string{a.Name, b.Name}
	}
	if a.IDNumber != b.IDNumber {
		d["idnumber"] = []string{a.IDNumber, b.IDNumber}
	}
	if a.Description != b.Description {
		d["description"] = "changed"
	}
	if a.Visibility != b.Visibility {
		d["visibility"] = []string{a.Visibility, b.Visibility}
	}
	return d
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// wrap is errs.Wrap that returns a nil error for a nil cause. (errs.Wrap returns *errs.Error,
// whose nil is not a nil error once returned as one.)
func wrap(err error, what string) error {
	if err == nil {
		return nil
	}
	return errs.Wrap(err, what)
}
