package sis

import (
	"context"
	"fmt"
	"io/fs"
	"sort"
	"strings"

	"roster/internal/authz"
	"roster/internal/errs"
	"roster/internal/group"
	"roster/internal/store"
)

// OneRoster orgs map to groups: the org with sourcedId X is the group whose idnumber is
// OrgIDNumberPrefix+X, created (private) when missing, renamed and moved to follow the org's
// name and parentSourcedId. The people users.csv lists with orgSourcedIds (and 1.2's
// primaryOrgSourcedId) are learners of those groups with source "sync" (group.SourceSync,
// whose reference is always 0). Groups are never deleted by the sync.
const OrgIDNumberPrefix = "oneroster:"

// orgMembersPerTx bounds the memberships one transaction adds or removes.
const orgMembersPerTx = 1000

// Org is one row of orgs.csv.
type Org struct {
	File      string
	Line      int
	SourcedID string
	Name      string // name, else identifier, else sourcedId
	Parent    string // parentSourcedId; "" for a top-level org
}

// OrgMember is one org of one users.csv row: the person (identifiers as in Row) is a learner
// of the org's group, or, in a delta file, no longer is (Deleted).
type OrgMember struct {
	File    string
	Line    int
	Org     string
	User    string
	UserAlt []string
	Deleted bool
}

// Orgs is what a bundle with orgs.csv says of groups and their learners.
type Orgs struct {
	Orgs    []Org
	Members []OrgMember
	// Delta: users.csv is a delta file, so only its tobedeleted rows remove memberships; a
	// bulk users.csv is the whole truth for the groups it concerns.
	Delta bool
}

// readOrgs reads orgs.csv and the orgs of each row of users.csv.
func readOrgs(fsys fs.FS, modes map[string]string, users *orTable, src *Source) (*Orgs, error) {
	ot, err := readTable(fsys, "orgs.csv")
	if err != nil {
		return nil, err
	}
	out := &Orgs{Delta: modes["users"] == "delta"}
	orgsDelta := modes["orgs"] == "delta"
	for i := range ot.rows {
		bad := func(key string, p errs.P) { src.Issues = append(src.Issues, newIssue(ot.file, ot.line[i], key, p)) }
		id := ot.get(i, "sourcedId")
		status := strings.ToLower(ot.get(i, "status"))
		switch {
		case id == "":
			bad("sync_empty_columns", errs.P{"columns": "sourcedId"})
			continue
		case status == "tobedeleted":
			continue // the sync never deletes groups
		case orgsDelta && status != "active":
			bad("sync_bad_status", errs.P{"status": ot.get(i, "status")})
			continue
		}
		name := ot.get(i, "name")
		if name == "" {
			name = ot.get(i, "identifier")
		}
		if name == "" {
			name = id
		}
		out.Orgs = append(out.Orgs, Org{File: ot.file, Line: ot.line[i], SourcedID: id, Name: name, Parent: ot.get(i, "parentSourcedId")})
	}
	for i := range users.rows {
		status := strings.ToLower(users.get(i, "status"))
		deleted := status == "tobedeleted"
		if !out.Delta && deleted {
			continue // not listed
		}
		if out.Delta && status != "active" && !deleted {
			src.Issues = append(src.Issues, newIssue(users.file, users.line[i], "sync_bad_status", errs.P{"status": users.get(i, "status")}))
			continue
		}
		var orgs []string
		seen := map[string]bool{}
		for _, o := range append(strings.Split(users.get(i, "orgSourcedIds"), ","), users.get(i, "primaryOrgSourcedId")) {
			if o = strings.TrimSpace(o); o != "" && !seen[o] {
				seen[o] = true
				orgs = append(orgs, o)
			}
		}
		if len(orgs) == 0 || users.get(i, "sourcedId") == "" {
			continue
		}
		var ids []string
		for _, c := range []string{"username", "email", "identifier"} {
			if v := users.get(i, c); v != "" {
				ids = append(ids, v)
			}
		}
		if len(ids) == 0 {
			src.Issues = append(src.Issues, newIssue(users.file, users.line[i], "sync_user_no_login", errs.P{"user": users.get(i, "sourcedId")}))
			continue
		}
		for _, o := range orgs {
			out.Members = append(out.Members, OrgMember{File: users.file, Line: users.line[i], Org: o, User: ids[0],
				UserAlt: ids[1:], Deleted: deleted})
		}
	}
	return out, nil
}

type orgGroup struct {
	id, parent int64
	name       string
}

type pair struct{ group, user int64 }

// syncOrgs creates, renames and moves the groups of the orgs, then adds and removes the sync
// learner memberships users.csv implies; a dry run only counts. Issues go to rep.
func syncOrgs(ctx context.Context, db *store.DB, o *Orgs, dir *Directory, dryRun bool, rep *Report) error {
	issue := func(file string, line int, key string, p errs.P) {
		rep.Issues = append(rep.Issues, newIssue(file, line, key, p))
		rep.Skipped = len(rep.Issues)
	}
	// Creating and moving groups needs rights on the tree: the sync acts as the platform.
	gctx := ctx
	if p := authz.From(ctx); p == nil || !p.PlatformAdmin {
		gctx = authz.With(ctx, authz.System)
	}
	svc := group.NewService(db)

	existing, err := loadOrgGroups(ctx, db)
	if err != nil {
		return err
	}
	ids := map[string]int64{} // sourcedId → group id (negative: a group a dry run would create)
	for sid, g := range existing {
		ids[sid] = g.id
	}
	byID := map[string]*Org{}
	for i := range o.Orgs {
		org := &o.Orgs[i]
		if first, dup := byID[org.SourcedID]; dup {
			issue(org.File, org.Line, "sync_org_duplicate", errs.P{"line": first.Line, "org": org.SourcedID})
			continue
		}
		byID[org.SourcedID] = org
	}
	const (
		visiting = 1
		placed   = 2
		failed   = 3
	)
	state := map[string]int{}
	fake := int64(0)
	var place func(org *Org) error
	place = func(org *Org) error {
		switch state[org.SourcedID] {
		case placed, failed:
			return nil
		case visiting:
			state[org.SourcedID] = failed
			issue(org.File, org.Line, "sync_org_cycle", errs.P{"org": org.SourcedID})
			return nil
		}
		state[org.SourcedID] = visiting
		fail := func(key string, p errs.P) {
			state[org.SourcedID] = failed
			delete(ids, org.SourcedID)
			issue(org.File, org.Line, key, p)
		}
		var parent int64
		if org.Parent != "" {
			if p, ok := byID[org.Parent]; ok {
				if err := place(p); err != nil {
					return err
				}
				if state[org.Parent] == failed {
					if state[org.SourcedID] != failed {
						fail("sync_org_parent_skipped", errs.P{"org": org.SourcedID, "parent": org.Parent})
					}
					return nil
				}
			}
			var ok bool
			if parent, ok = ids[org.Parent]; !ok {
				fail("sync_unknown_parent_org", errs.P{"parent": org.Parent, "idnumber": OrgIDNumberPrefix + org.Parent})
				return nil
			}
		}
		if state[org.SourcedID] == failed { // a cycle through this org was found below it
			return nil
		}
		skipErr := func(err error) error {
			if errs.Is(err, errs.Conflict) || errs.Is(err, errs.Invalid) || errs.Is(err, errs.NotFound) {
				fail("sync_org_failed", errs.P{"org": org.SourcedID, "detail": errs.As(err).Message})
				return nil
			}
			return err
		}
		g, ok := existing[org.SourcedID]
		switch {
		case !ok:
			if dryRun {
				fake--
				ids[org.SourcedID] = fake
			} else {
				ng, err := svc.Create(gctx, group.Group{ParentID: parent, Name: org.Name, IDNumber: OrgIDNumberPrefix + org.SourcedID,
					Visibility: group.Private})
				if err != nil {
					return skipErr(err)
				}
				ids[org.SourcedID] = ng.ID
			}
			rep.GroupsCreated++
		default:
			if g.parent != parent {
				if !dryRun {
					if _, err := svc.Move(gctx, g.id, parent); err != nil {
						return skipErr(err)
					}
				}
				rep.GroupsMoved++
			}
			if g.name != org.Name {
				if !dryRun {
					if _, err := svc.Rename(gctx, g.id, org.Name); err != nil {
						return skipErr(err)
					}
				}
				rep.GroupsRenamed++
			}
		}
		state[org.SourcedID] = placed
		return nil
	}
	for i := range o.Orgs {
		if byID[o.Orgs[i].SourcedID] == &o.Orgs[i] {
			if err := place(&o.Orgs[i]); err != nil {
				return err
			}
		}
	}

	// Memberships: what users.csv wants, within the groups it concerns.
	want, del, scope := map[pair]bool{}, map[pair]bool{}, map[int64]bool{}
	for sid, st := range state {
		if st == placed {
			scope[ids[sid]] = true
		}
	}
	reported := map[string]bool{}
	for i := range o.Members {
		m := &o.Members[i]
		once := func(key string, p errs.P) {
			r := errs.English(key, p)
			if k := fmt.Sprintf("%s:%d:%s", m.File, m.Line, r); !reported[k] {
				reported[k] = true
				issue(m.File, m.Line, key, p)
			}
		}
		g, ok := ids[m.Org]
		if !ok {
			if st := state[m.Org]; st == failed {
				once("sync_org_skipped", errs.P{"org": m.Org, "user": m.User})
			} else {
				once("sync_unknown_org", errs.P{"org": m.Org, "idnumber": OrgIDNumberPrefix + m.Org})
			}
			continue
		}
		user := dir.user(m.User)
		for _, alt := range m.UserAlt {
			if user != 0 {
				break
			}
			user = dir.user(alt)
		}
		switch user {
		case 0:
			once("sync_org_unknown_user", errs.P{"user": m.User})
			continue
		case -1:
			once("sync_org_ambiguous_user", errs.P{"user": m.User})
			continue
		}
		k := pair{g, user}
		if m.Deleted {
			del[k] = true
		} else {
			want[k] = true
			scope[g] = true
		}
	}
	have, err := loadOrgMembers(ctx, db)
	if err != nil {
		return err
	}
	var adds, removes []pair
	for k := range want {
		if !have[k] {
			adds = append(adds, k)
		}
	}
	switch {
	case o.Delta:
		for k := range del {
			if have[k] && !want[k] {
				removes = append(removes, k)
			}
		}
	case len(want) > 0: // an empty users.csv never removes anything
		for k := range have {
			if scope[k.group] && !want[k] {
				removes = append(removes, k)
			}
		}
	}
	less := func(s []pair) func(i, j int) bool {
		return func(i, j int) bool {
			if s[i].group != s[j].group {
				return s[i].group < s[j].group
			}
			return s[i].user < s[j].user
		}
	}
	sort.Slice(adds, less(adds))
	sort.Slice(removes, less(removes))
	rep.MembersAdded, rep.MembersRemoved = len(adds), len(removes)
	if dryRun {
		return nil
	}
	for s := 0; s < len(removes); s += orgMembersPerTx {
		batch := removes[s:min(s+orgMembersPerTx, len(removes))]
		if err := db.Tx(ctx, func(tx *store.Tx) error {
			for _, k := range batch {
				err := group.RemoveMemberTx(ctx, tx, k.group, k.user, group.Learner, group.SourceSync)
				if err != nil && !errs.Is(err, errs.NotFound) {
					return errs.Wrap(err, "sis: remove a group membership")
				}
			}
			return nil
		}); err != nil {
			return err
		}
	}
	for s := 0; s < len(adds); s += orgMembersPerTx {
		batch := adds[s:min(s+orgMembersPerTx, len(adds))]
		if err := db.Tx(ctx, func(tx *store.Tx) error {
			for _, k := range batch {
				if err := group.AddMemberTx(ctx, tx, k.group, k.user, group.Learner, group.SourceSync); err != nil {
					return errs.Wrap(err, "sis: add a group membership")
				}
			}
			return nil
		}); err != nil {
			return err
		}
	}
	return nil
}

// loadOrgGroups reads the groups of orgs, by sourcedId.
func loadOrgGroups(ctx context.Context, q store.Querier) (map[string]orgGroup, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, COALESCE(parent_id, 0), name, idnumber FROM groups WHERE idnumber LIKE 'oneroster:%'`)
	if err != nil {
		return nil, errs.Wrap(err, "sis: org groups")
	}
	defer rows.Close()
	out := map[string]orgGroup{}
	for rows.Next() {
		var g orgGroup
		var idnumber string
		if err := rows.Scan(&g.id, &g.parent, &g.name, &idnumber); err != nil {
			return nil, errs.Wrap(err, "sis: org groups")
		}
		if sid, ok := strings.CutPrefix(idnumber, OrgIDNumberPrefix); ok {
			out[sid] = g
		}
	}
	return out, errs.Wrap(rows.Err(), "sis: org groups")
}

// loadOrgMembers reads the sync learner memberships of the groups of orgs.
func loadOrgMembers(ctx context.Context, q store.Querier) (map[pair]bool, error) {
	rows, err := q.QueryContext(ctx, `SELECT gm.group_id, gm.user_id FROM group_members gm JOIN groups g ON g.id = gm.group_id
		WHERE gm.role = 'learner' AND gm.source_kind = 'sync' AND gm.source_ref = 0 AND g.idnumber LIKE 'oneroster:%'`)
	if err != nil {
		return nil, errs.Wrap(err, "sis: org memberships")
	}
	defer rows.Close()
	out := map[pair]bool{}
	for rows.Next() {
		var k pair
		if err := rows.Scan(&k.group, &k.user); err != nil {
			return nil, errs.Wrap(err, "sis: org memberships")
		}
		out[k] = true
	}
	return out, errs.Wrap(rows.Err(), "sis: org memberships")
}
