package scim

import (
	"context"
	"strings"

	"roster/internal/audit"
	"roster/internal/authz"
	"roster/internal/errs"
	"roster/internal/group"
	"roster/internal/store"
)

// The /Groups actions: the Roster groups below the token's group, with the memberships SCIM
// made (groups.go). Each runs in one transaction: the group through group.Service's Tx
// functions (which check the token's rights over the group), the memberships through
// group.AddMemberTx and group.RemoveMemberTx, the version in scim_groups.

// Group returns the group id in the caller's scope, projected by proj, and its version.
// Errors: NotFound ("scim_no_group"), Forbidden, Unauthorized.
func (s *Service) Group(ctx context.Context, id string, proj projection) (res object, etag string, err error) {
	scopeID, err := authz.SCIMScope(ctx, s.db)
	if err != nil {
		return nil, "", err
	}
	n, ok := parseID(id)
	if !ok {
		return nil, "", noGroup(id)
	}
	etags := map[int64]string{}
	res, err = s.groupByID(ctx, scopeID, n, proj, etags)
	return res, etags[n], err
}

func (s *Service) groupByID(ctx context.Context, scopeID, id int64, proj projection, etags map[int64]string) (object, error) {
	res, err := s.groupsByID(ctx, scopeID, []int64{id}, proj, etags)
	if err != nil {
		return nil, err
	}
	if len(res) == 0 {
		return nil, noGroup(itoa(id))
	}
	return res[0].(object), nil
}

// Groups answers a list or a search of groups.
func (s *Service) Groups(ctx context.Context, lp *listParams) (object, error) {
	return s.list(ctx, groupKind, lp)
}

// CreateGroup creates a private group under the token's group from a canonical Group
// resource m, with its members. Errors: Invalid ("scim_display_name_required", "scim_no_user"
// for a member out of scope), Conflict (name or externalId taken), Forbidden, Unauthorized.
func (s *Service) CreateGroup(ctx context.Context, m object, proj projection) (object, error) {
	name := strings.TrimSpace(getString(m, "displayName"))
	if name == "" {
		return nil, errs.Coded(errs.Invalid, "scim_display_name_required")
	}
	ids, err := memberIDs(m["members"], true)
	if err != nil {
		return nil, err
	}
	var gid int64
	scopeID, err := s.tx(ctx, func(tx *store.Tx, scopeID int64) error {
		g, err := s.groups.CreateTx(ctx, tx, group.Group{ParentID: scopeID, Name: name, IDNumber: getString(m, "externalId"),
			Visibility: group.Private})
		if err != nil {
			return groupErr(err)
		}
		gid = g.ID
		plan := newPlan()
		plan.addIDs(ids)
		added, _, err := applyPlan(ctx, tx, scopeID, g.ID, plan)
		if err != nil {
			return err
		}
		return audit.Record(ctx, tx, scimEvent(ctx, "scim.group.create", "group", g.ID,
			map[string]any{"displayName": name, "members_added": added}))
	})
	if err != nil {
		return nil, err
	}
	return s.groupByID(ctx, scopeID, gid, proj, nil)
}

// ReplaceGroup is PUT: name, externalId and the SCIM memberships become those of m
// (memberships made otherwise stay). Errors: those of CreateGroup, NotFound, Conflict
// "scim_version_changed".
func (s *Service) ReplaceGroup(ctx context.Context, id, ifMatch string, m object, proj projection) (object, error) {
	ids, err := memberIDs(m["members"], true)
	if err != nil {
		return nil, err
	}
	scopeID, gid, err := s.changeGroup(ctx, id, ifMatch, func(tx *store.Tx, scopeID int64, g *groupRow) error {
		plan := newPlan()
		plan.replaceWith(ids)
		return s.updateGroup(ctx, tx, scopeID, g, m, plan, "scim.group.replace")
	})
	if err != nil {
		return nil, err
	}
	return s.groupByID(ctx, scopeID, gid, proj, nil)
}

// PatchGroup applies PATCH operations to group id. With respond, it returns the group
// projected by proj; else only its new version (the member list can be long).
// Errors: those of ReplaceGroup, and the RFC 7644 errors of the operations.
func (s *Service) PatchGroup(ctx context.Context, id, ifMatch string, ops []patchOp, proj projection, respond bool) (object, string, error) {
	scopeID, gid, err := s.changeGroup(ctx, id, ifMatch, func(tx *store.Tx, scopeID int64, g *groupRow) error {
		attrs := object{"displayName": g.Name}
		if g.IDNumber != "" {
			attrs["externalId"] = g.IDNumber
		}
		var cur map[int64]bool
		plan, err := patchGroupOps(attrs, ops, func() (map[int64]bool, error) {
			if cur == nil {
				var err error
				cur, err = currentMembers(ctx, tx, g.ID)
				return cur, err
			}
			return cur, nil
		})
		if err != nil {
			return err
		}
		return s.updateGroup(ctx, tx, scopeID, g, attrs, plan, "scim.group.patch")
	})
	if err != nil {
		return nil, "", err
	}
	if respond {
		res, err := s.groupByID(ctx, scopeID, gid, proj, nil)
		return res, "", err
	}
	g, err := loadGroup(ctx, s.db, scopeID, itoa(gid))
	if err != nil {
		return nil, "", err
	}
	return nil, g.etag(), nil
}

// DeleteGroup deletes the Roster group, its sub-groups and their memberships, as the group
// service does for an administrator of its parent. Errors: NotFound, Conflict
// "scim_version_changed".
func (s *Service) DeleteGroup(ctx context.Context, id, ifMatch string) error {
	_, _, err := s.changeGroup(ctx, id, ifMatch, func(tx *store.Tx, scopeID int64, g *groupRow) error {
		if err := s.groups.DeleteTx(ctx, tx, g.ID, true); err != nil {
			return err
		}
		return audit.Record(ctx, tx, scimEvent(ctx, "scim.group.delete", "group", g.ID, map[string]any{"displayName": g.Name}))
	})
	return err
}

// changeGroup runs change over group id, in scope and as the request's If-Match names it, in
// one transaction; it returns the scope and the group's id.
func (s *Service) changeGroup(ctx context.Context, id, ifMatch string,
	change func(tx *store.Tx, scopeID int64, g *groupRow) error) (scopeID, gid int64, err error) {
	scopeID, err = s.tx(ctx, func(tx *store.Tx, scopeID int64) error {
		g, err := loadGroup(ctx, tx, scopeID, id)
		if err != nil {
			return err
		}
		gid = g.ID
		if err := checkIfMatch(ifMatch, g.etag()); err != nil {
			return err
		}
		return change(tx, scopeID, g)
	})
	return scopeID, gid, err
}

// updateGroup changes group g within tx: attrs (displayName, externalId) through the group
// service when they differ, then the memberships by plan, and records action.
func (s *Service) updateGroup(ctx context.Context, tx *store.Tx, scopeID int64, g *groupRow, attrs object, plan *memberPlan, action string) error {
	name := strings.TrimSpace(getString(attrs, "displayName"))
	if name == "" {
		return errs.Coded(errs.Invalid, "scim_display_name_required")
	}
	ext := getString(attrs, "externalId")
	changed := map[string]any{}
	if name != g.Name || ext != g.IDNumber {
		if _, err := s.groups.UpdateTx(ctx, tx, g.ID, group.Update{Name: &name, IDNumber: &ext}); err != nil {
			return groupErr(err)
		}
		changed["displayName"], changed["externalId"] = name, ext
	}
	added, removed, err := applyPlan(ctx, tx, scopeID, g.ID, plan)
	if err != nil {
		return err
	}
	changed["members_added"], changed["members_removed"] = added, removed
	return audit.Record(ctx, tx, scimEvent(ctx, action, "group", g.ID, changed))
}
