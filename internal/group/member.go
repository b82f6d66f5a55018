package group

import (
	"context"
	"slices"
	"strconv"
	"strings"

	"roster/internal/audit"
	"roster/internal/authz"
	"roster/internal/errs"
	"roster/internal/store"
)

// The kinds of source a membership can have.
const (
	SourceManual     = "manual"
	SourcePropagated = "propagated" // Ref: the group the learner was added to
	SourceImport     = "import"     // Ref: the import batch
	SourceSCIM       = "scim"
	SourceSync       = "sync"
)

// Source is why a membership exists: its kind and, for propagated and import, a reference.
// Its text form is "manual", "scim", "sync", "import:<batch>" or "propagated:<group id>".
type Source struct {
	Kind string
	Ref  int64
}

// Manual is the source of memberships added by a person on a page, through the API or the
// command line.
var Manual = Source{Kind: SourceManual}

func (s Source) String() string {
	if s.Kind == SourcePropagated || s.Kind == SourceImport {
		return s.Kind + ":" + strconv.FormatInt(s.Ref, 10)
	}
	return s.Kind
}

// ParseSource reads the text form of a source; "" is manual. Errors: Invalid naming source.
func ParseSource(text string) (Source, error) {
	kind, ref, hasRef := strings.Cut(strings.TrimSpace(text), ":")
	switch kind {
	case "":
		if !hasRef {
			return Manual, nil
		}
	case SourceManual, SourceSCIM, SourceSync:
		if !hasRef {
			return Source{Kind: kind}, nil
		}
	case SourcePropagated, SourceImport:
		n, err := strconv.ParseInt(ref, 10, 64)
		if hasRef && err == nil && n > 0 {
			return Source{Kind: kind, Ref: n}, nil
		}
	}
	return Source{}, errs.FieldCode("source", "unknown_source")
}

// ValidRole reports whether role is one of Roles.
func ValidRole(role string) bool { return slices.Contains(Roles, role) }

func checkRole(role string) error {
	if !ValidRole(role) {
		return errs.FieldCode("role", "unknown_group_role")
	}
	return nil
}

// AddMember gives a person a role in a group, with its source (ParseSource; "" is manual). A
// learner also becomes a learner of the groups the propagation rule reaches. Adding a
// membership that already exists changes nothing and is not an error, so concurrent adds leave
// exactly one. It needs authz.CanGrantRole, and the account must be one the caller may see
// (authz.CanViewUser): account ids are not secrets, so an account outside the caller's sight
// is reached by a login the caller typed (AddNamedMember) or an invitation, never by its id;
// outside their sight it answers NotFound, as for an unknown id. The membership anchors the
// person in the group (authz.CanOnUser) only when the caller may manage the account.
// Errors: Forbidden, NotFound (group or user), Invalid (role, source).
func (s *Service) AddMember(ctx context.Context, groupID, userID int64, role, source string) error {
	return s.addMember(ctx, groupID, userID, role, source, false)
}

// AddNamedMember is AddMember for an existing account the caller named by an exact login
// (username or email) they typed: the right over the group is enough (adding an existing
// account is a weaker right than managing it), and unless the caller may manage the account
// the membership does not anchor the person, so it gives nobody power over the account.
func (s *Service) AddNamedMember(ctx context.Context, groupID, userID int64, role string) error {
	return s.addMember(ctx, groupID, userID, role, "", true)
}

func (s *Service) addMember(ctx context.Context, groupID, userID int64, role, source string, named bool) error {
	return s.db.Tx(ctx, func(tx *store.Tx) error {
		if err := checkRole(role); err != nil {
			return err
		}
		if err := authz.CanGrantRole(ctx, tx, groupID, role); err != nil {
			return err
		}
		if !named {
			if err := authz.CanViewUser(ctx, tx, userID); errs.Is(err, errs.Forbidden) {
				return userNotFound(userID)
			} else if err != nil {
				return err
			}
		}
		return AddExistingTx(ctx, tx, groupID, userID, role, source)
	})
}

// AddExistingTx adds an existing account to a group for the caller in ctx, without checking
// the right over the group (the caller did): the membership anchors the person only when the
// caller may manage the account (authz.CanManageUser). Invitations' "add these existing
// accounts instead" and the group pages use it.
func AddExistingTx(ctx context.Context, tx *store.Tx, groupID, userID int64, role, source string) error {
	anchors := true
	if err := authz.CanManageUser(ctx, tx, userID); errs.Is(err, errs.Forbidden) || errs.Is(err, errs.Unauthorized) {
		anchors = false
	} else if err != nil {
		return err
	}
	return addMemberTx(ctx, tx, groupID, userID, role, source, anchors)
}

// AddMemberTx is AddMember inside the caller's transaction, without the permission check:
// features that grant memberships on their own terms (an accepted invitation, an import, SCIM,
// the sync) have checked their rights already, when the invitation was sent or the token
// issued. The membership anchors the person in the group (authz.CanOnUser): use
// AddExistingTx for an existing account added by someone who may not manage it.
func AddMemberTx(ctx context.Context, tx *store.Tx, groupID, userID int64, role, source string) error {
	return addMemberTx(ctx, tx, groupID, userID, role, source, true)
}

func addMemberTx(ctx context.Context, tx *store.Tx, groupID, userID int64, role, source string, anchors bool) error {
	src, err := memberSource(role, source)
	if err != nil {
		return err
	}
	// The chain (the group and its ancestors) tells whether the group exists, and is what
	// propagation needs: one read for both; addMembers reads it from the cache.
	chains := Chains{}
	if _, err := chains.of(ctx, tx, groupID); err != nil {
		return err
	}
	if err := checkUser(ctx, tx, userID); err != nil {
		return err
	}
	return addMembers(ctx, tx, []NewMember{{GroupID: groupID, UserID: userID, Role: role}}, src, anchors, chains)
}

// memberSource checks a membership's role and parses its source, which cannot be propagated.
func memberSource(role, source string) (Source, error) {
	if err := checkRole(role); err != nil {
		return Source{}, err
	}
	src, err := ParseSource(source)
	if err != nil {
		return Source{}, err
	}
	if src.Kind == SourcePropagated {
		return Source{}, errs.FieldCode("source", "propagated_not_added")
	}
	return src, nil
}

// NewMember is one membership to add: a person's role in a group.
type NewMember struct {
	GroupID, UserID int64
	Role            string
}

// Chains caches the chains of groups (the group and its ancestors, see Propagation) across
// calls of AddMembersTx, for a caller adding many batches at once; the zero value is empty.
// Keep one only while the tree does not change.
type Chains map[int64][]Link

func (c Chains) of(ctx context.Context, q store.Querier, groupID int64) ([]Link, error) {
	if chain, ok := c[groupID]; ok {
		return chain, nil
	}
	chain, err := chainOf(ctx, q, groupID)
	if err != nil {
		return nil, err
	}
	if len(chain) == 0 || chain[0].ID != groupID {
		return nil, errs.Coded(errs.NotFound, "no_such_group")
	}
	c[groupID] = chain
	return chain, nil
}

// AddMembersTx is AddMemberTx for many memberships with one source, many rows a statement:
// the same rows, propagation and audit events as one AddMemberTx a membership (it is the code
// AddMemberTx runs). The accounts must be live ones the caller has read or created in tx (they
// are not checked one by one); chains may be nil. Errors: Invalid (role, source), NotFound (a
// group).
func AddMembersTx(ctx context.Context, tx *store.Tx, list []NewMember, source string, chains Chains) error {
	if chains == nil {
		chains = Chains{}
	}
	src, err := memberSource(Learner, source)
	if err != nil {
		return err
	}
	for i, m := range list {
		if i > 0 && m.Role == list[i-1].Role {
			continue
		}
		if err := checkRole(m.Role); err != nil {
			return err
		}
	}
	return addMembers(ctx, tx, list, src, true, chains)
}

var (
	insertMembers = store.Insert{Table: "group_members",
		Columns: []string{"group_id", "user_id", "role", "source_kind", "source_ref", "created_at", "anchors"},
		Types:   []store.ColType{store.Int, store.Int, store.Text, store.Text, store.Int, store.Int, store.Bool},
		Tail:    "ON CONFLICT DO NOTHING RETURNING group_id, user_id, role"}
	insertPropagated = store.Insert{Table: "group_members",
		Columns: []string{"group_id", "user_id", "role", "source_kind", "source_ref", "created_at"},
		Types:   []store.ColType{store.Int, store.Int, store.Text, store.Text, store.Int, store.Int},
		Tail:    "ON CONFLICT DO NOTHING"}
)

// addMembers writes memberships (roles and source checked): the rows, the learner rows the
// propagation rule implies (re-asserted even when the membership existed: idempotent, and it
// repairs), and an audit event for each membership that is new. When anchors, a membership
// that existed without anchoring now anchors (the same membership given again by someone
// who may manage the account).
func addMembers(ctx context.Context, tx *store.Tx, list []NewMember, src Source, anchors bool, chains Chains) error {
	if len(list) == 0 {
		return nil
	}
	now := tx.Now.Unix()
	added := make(map[NewMember]bool, len(list))
	if err := tx.InsertMany(ctx, insertMembers, len(list), func(i int, v []any) {
		m := list[i]
		v[0], v[1], v[2], v[3], v[4], v[5], v[6] = m.GroupID, m.UserID, m.Role, src.Kind, src.Ref, now, anchors
	}, func(r store.Scanner) error {
		var m NewMember
		err := r.Scan(&m.GroupID, &m.UserID, &m.Role)
		added[m] = true
		return err
	}); err != nil {
		return wrap(err, "group: add member")
	}
	type propagated struct{ target, user, from int64 }
	var (
		props  []propagated
		events []audit.Event
	)
	for _, m := range list {
		if anchors && !added[m] {
			if _, err := tx.ExecContext(ctx, `UPDATE group_members SET anchors = true WHERE group_id = $1 AND user_id = $2
				AND role = $3 AND source_kind = $4 AND source_ref = $5 AND NOT anchors`,
				m.GroupID, m.UserID, m.Role, src.Kind, src.Ref); err != nil {
				return wrap(err, "group: add member")
			}
		}
		var also []int64
		if m.Role == Learner {
			chain, err := chains.of(ctx, tx, m.GroupID)
			if err != nil {
				return err
			}
			if targets := Propagation(chain); len(targets) > 1 {
				also = targets[1:]
			}
			for _, t := range also {
				props = append(props, propagated{t, m.UserID, m.GroupID})
			}
		}
		if !added[m] {
			continue
		}
		delete(added, m) // the same membership twice in list: one event
		details := map[string]any{"user_id": m.UserID, "role": m.Role, "source": src.String(), "propagated_to": also}
		if !anchors {
			details["anchors"] = false
		}
		events = append(events, audit.Event{Action: "group.member.add", TargetType: "group", TargetID: idStr(m.GroupID),
			Details: details})
	}
	if err := tx.InsertMany(ctx, insertPropagated, len(props), func(i int, v []any) {
		p := props[i]
		v[0], v[1], v[2], v[3], v[4], v[5] = p.target, p.user, Learner, SourcePropagated, p.from, now
	}, nil); err != nil {
		return wrap(err, "group: propagate")
	}
	return audit.RecordMany(ctx, tx, events)
}

func checkUser(ctx context.Context, q store.Querier, userID int64) error {
	var one int
	err := q.QueryRowContext(ctx, `SELECT 1 FROM users WHERE id = $1 AND deleted_at IS NULL`, userID).Scan(&one)
	if store.IsNoRows(err) {
		return userNotFound(userID)
	}
	return wrap(err, "group: check user")
}

func userNotFound(userID int64) error {
	return errs.FieldCode("user_id", "no_account").Class(errs.NotFound)
}

// PreviewAdd says which other groups adding userID to groupID with role would also make them
// a learner of ("will also make Alice a learner of Region and Company"), nearest first. Groups
// where the person is already a learner, for whatever reason, are left out: they would not
// join them. Only learner propagates; for other roles the list is empty. It needs
// authz.CanGrantRole, and as AddMember an account the caller may see.
// Errors: Forbidden, NotFound (group or user), Invalid (role).
func (s *Service) PreviewAdd(ctx context.Context, groupID, userID int64, role string) ([]Group, error) {
	return s.preview(ctx, groupID, userID, role, false)
}

// PreviewNamedAdd is PreviewAdd for an account the caller named by an exact login (see
// AddNamedMember).
func (s *Service) PreviewNamedAdd(ctx context.Context, groupID, userID int64, role string) ([]Group, error) {
	return s.preview(ctx, groupID, userID, role, true)
}

func (s *Service) preview(ctx context.Context, groupID, userID int64, role string, named bool) ([]Group, error) {
	if err := checkRole(role); err != nil {
		return nil, err
	}
	if err := authz.CanGrantRole(ctx, s.db, groupID, role); err != nil {
		return nil, err
	}
	if !named {
		if err := authz.CanViewUser(ctx, s.db, userID); errs.Is(err, errs.Forbidden) {
			return nil, userNotFound(userID)
		} else if err != nil {
			return nil, err
		}
	}
	if _, err := getGroup(ctx, s.db, groupID); err != nil {
		return nil, err
	}
	if err := checkUser(ctx, s.db, userID); err != nil {
		return nil, err
	}
	if role != Learner {
		return nil, nil
	}
	chain, err := chainOf(ctx, s.db, groupID)
	if err != nil {
		return nil, err
	}
	targets := Propagation(chain)[1:]
	var out []Group
	for _, t := range targets {
		var one int
		err := s.db.QueryRowContext(ctx, `SELECT 1 FROM group_members WHERE group_id = $1 AND user_id = $2 AND role = 'learner' LIMIT 1`,
			t, userID).Scan(&one)
		if err == nil {
			continue
		}
		if !store.IsNoRows(err) {
			return nil, wrap(err, "group: preview")
		}
		g, err := getGroup(ctx, s.db, t)
		if err != nil {
			return nil, err
		}
		out = append(out, *g)
	}
	return out, nil
}

// RemoveMember removes a person's role in a group from one source (ParseSource). An empty role
// means every role; an empty source every source that is not propagation. When the person is
// no longer a learner of the group for any reason, the learner memberships it propagated go
// too; those that exist for another reason (added by hand, propagated from another group)
// stay. A propagated membership cannot be removed by itself: it goes when its origin does.
// It needs authz.CanManageGroup (and CanGrantRole for user_admin). Errors: Forbidden,
// NotFound (group, or no such membership), Invalid (role, source).
func (s *Service) RemoveMember(ctx context.Context, groupID, userID int64, role, source string) error {
	return s.db.Tx(ctx, func(tx *store.Tx) error {
		if role != "" {
			if err := checkRole(role); err != nil {
				return err
			}
		}
		if err := authz.CanGrantRole(ctx, tx, groupID, role); err != nil {
			return err
		}
		if role == "" {
			// Every role: taking away a user_admin role needs the rights to grant it.
			var one int
			err := tx.QueryRowContext(ctx, `SELECT 1 FROM group_members WHERE group_id = $1 AND user_id = $2 AND role = $3 LIMIT 1`,
				groupID, userID, UserAdmin).Scan(&one)
			if err == nil {
				if err := authz.CanGrantRole(ctx, tx, groupID, UserAdmin); err != nil {
					return err
				}
			} else if !store.IsNoRows(err) {
				return wrap(err, "group: remove member")
			}
		}
		return RemoveMemberTx(ctx, tx, groupID, userID, role, source)
	})
}

// RemoveMemberTx is RemoveMember inside the caller's transaction, without the permission check.
func RemoveMemberTx(ctx context.Context, tx *store.Tx, groupID, userID int64, role, source string) error {
	if role != "" {
		if err := checkRole(role); err != nil {
			return err
		}
	}
	if _, err := getGroup(ctx, tx, groupID); err != nil {
		return err
	}
	where := `group_id = $1 AND user_id = $2`
	args := []any{groupID, userID}
	if role != "" {
		args = append(args, role)
		where += ` AND role = $` + strconv.Itoa(len(args))
	}
	var src Source
	if strings.TrimSpace(source) == "" {
		where += ` AND source_kind <> 'propagated'`
	} else {
		var err error
		if src, err = ParseSource(source); err != nil {
			return err
		}
		if src.Kind == SourcePropagated {
			return errs.FieldCode("source", "propagated_remove_below")
		}
		args = append(args, src.Kind, src.Ref)
		where += ` AND source_kind = $` + strconv.Itoa(len(args)-1) + ` AND source_ref = $` + strconv.Itoa(len(args))
	}
	res, err := tx.ExecContext(ctx, `DELETE FROM group_members WHERE `+where, args...)
	if err != nil {
		return wrap(err, "group: remove member")
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return errs.Coded(errs.NotFound, "no_membership")
	}
	// Still a learner here for another reason? Then what it implies stays.
	var one int
	err = tx.QueryRowContext(ctx, `SELECT 1 FROM group_members WHERE group_id = $1 AND user_id = $2
		AND role = 'learner' AND source_kind <> 'propagated' LIMIT 1`, groupID, userID).Scan(&one)
	var unpropagated int64
	switch {
	case store.IsNoRows(err):
		res, err := tx.ExecContext(ctx, `DELETE FROM group_members WHERE source_kind = 'propagated' AND source_ref = $1
			AND user_id = $2`, groupID, userID)
		if err != nil {
			return wrap(err, "group: remove propagated")
		}
		unpropagated, _ = res.RowsAffected()
	case err != nil:
		return wrap(err, "group: remove member")
	}
	details := map[string]any{"user_id": userID, "role": role, "source": source, "propagated_removed": unpropagated}
	return audit.Record(ctx, tx, audit.Event{Action: "group.member.remove", TargetType: "group", TargetID: idStr(groupID),
		Details: details})
}

// RemoveUserTx ends every membership of account userID, propagated ones included, without an
// audit event each: the account is being deleted (the account package records that).
func RemoveUserTx(ctx context.Context, tx *store.Tx, userID int64) error {
	_, err := tx.ExecContext(ctx, `DELETE FROM group_members WHERE user_id = $1`, userID)
	return wrap(err, "group: remove user")
}
