package scim

import (
	"context"
	"encoding/json"

	"roster/internal/account"
	"roster/internal/audit"
	"roster/internal/authz"
	"roster/internal/errs"
	"roster/internal/group"
	"roster/internal/store"
)

// The /Users actions. A user is a Roster account provisioned by a SCIM token: the account
// (users) is written through account.Service, its membership of the token's group through
// group.AddMemberTx, and the rest of the resource in SCIM's own tables (user_store.go).

// User returns the account id in the caller's scope, projected by proj, and its version.
// Errors: NotFound ("scim_no_user"), Forbidden, Unauthorized.
func (s *Service) User(ctx context.Context, id string, proj projection) (res object, etag string, err error) {
	scopeID, err := authz.SCIMScope(ctx, s.db)
	if err != nil {
		return nil, "", err
	}
	n, ok := parseID(id)
	if !ok {
		return nil, "", noUser(id)
	}
	etags := map[int64]string{}
	res, err = s.userByID(ctx, scopeID, n, proj, etags)
	return res, etags[n], err
}

// userByID reads one account in scope as a resource. Errors: NotFound.
func (s *Service) userByID(ctx context.Context, scopeID, id int64, proj projection, etags map[int64]string) (object, error) {
	res, err := s.usersByID(ctx, s.db, scopeID, []int64{id}, proj, etags)
	if err != nil {
		return nil, err
	}
	if len(res) == 0 { // provisioned and deleted between the change and this read
		return nil, noUser(itoa(id))
	}
	return res[0].(object), nil
}

// Users answers a list or a search of users.
func (s *Service) Users(ctx context.Context, lp *listParams) (object, error) {
	return s.list(ctx, userKind, lp)
}

// CreateUser provisions an account from a canonical User resource m, a learner of the token's
// group (membership source "scim"). If the userName belongs to an account that a SCIM client
// of this scope deleted and that is not erased yet, that account comes back (reactivated,
// its deletion date cleared) instead of a conflict. The new account's resource needs no
// second read: every value is known here, and a fresh account belongs to no SCIM group yet.
//
// Errors: Invalid (fields, in SCIM's names), Conflict ("scim_user_name_taken",
// "scim_user_name_lookalike", "scim_email_taken"), Forbidden, Unauthorized.
func (s *Service) CreateUser(ctx context.Context, m object, proj projection) (object, error) {
	rec, err := recordOf(m)
	if err != nil {
		return nil, err
	}
	in := s.newUser(rec)
	if err := validate(&in); err != nil {
		return nil, err
	}
	var (
		id  int64
		row *userRow
	)
	scopeID, err := s.tx(ctx, func(tx *store.Tx, scopeID int64) error {
		row = nil
		existing, sScope, sDeleted, found, err := userByName(ctx, tx, in.Username)
		if err != nil {
			return err
		}
		if found {
			revivable := false
			if sDeleted.Valid {
				if revivable, err = isUnder(ctx, tx, sScope.Int64, scopeID); err != nil {
					return err
				}
			}
			if !revivable {
				return userNameTaken(rec.UserName)
			}
			id = existing
			return s.revive(ctx, tx, id, rec)
		}
		u, err := s.accounts.CreateUser(ctx, tx, in)
		if err != nil {
			return accountErr(err, rec)
		}
		id = u.ID
		if err := group.AddMemberTx(ctx, tx, scopeID, id, group.Learner, group.SourceSCIM); err != nil {
			return err
		}
		if err := writeSCIMUser(ctx, tx, id, scopeID, rec, true); err != nil {
			return err
		}
		if err := audit.Record(ctx, tx, scimEvent(ctx, "scim.user.create", "user", id,
			map[string]any{"userName": rec.UserName, "externalId": rec.ExternalID, "active": !rec.ActiveSet || rec.Active})); err != nil {
			return err
		}
		status := account.StatusActive
		if rec.ActiveSet && !rec.Active {
			if err := s.deactivate(ctx, tx, id); err != nil {
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
		return nil, err
	}
	if row != nil {
		return proj.apply(s.userResource(row, nil)), nil
	}
	return s.userByID(ctx, scopeID, id, proj, nil)
}

// revive brings back account id, deleted through SCIM in this scope, as rec says (active
// unless rec says otherwise).
func (s *Service) revive(ctx context.Context, tx *store.Tx, id int64, rec *userRecord) error {
	if err := s.accounts.CancelDeletionTx(ctx, tx, id); err != nil {
		return err
	}
	if err := setSCIMDeleted(ctx, tx, id, false); err != nil {
		return err
	}
	if !rec.ActiveSet {
		rec.Active, rec.ActiveSet = true, true
	}
	if err := s.writeUser(ctx, tx, id, rec, account.StatusSuspended, 0); err != nil {
		return err
	}
	return audit.Record(ctx, tx, scimEvent(ctx, "scim.user.restore", "user", id, map[string]any{"userName": rec.UserName}))
}

// UpdateUser runs change over the current resource of account id and stores the result, in
// one transaction; action names the audit event ("scim.user.replace", "scim.user.patch").
// ifMatch is the request's If-Match header. Errors: those of CreateUser, NotFound, Conflict
// "scim_version_changed", and what change returns.
func (s *Service) UpdateUser(ctx context.Context, id, ifMatch, action string, change func(cur object) (object, error),
	proj projection) (object, error) {
	var uid int64
	scopeID, err := s.tx(ctx, func(tx *store.Tx, scopeID int64) error {
		u, err := userToChange(ctx, tx, scopeID, id, ifMatch)
		if err != nil {
			return err
		}
		uid = u.ID
		before, _ := json.Marshal(u.object())
		next, err := change(u.object())
		if err != nil {
			return err
		}
		rec, err := recordOf(next)
		if err != nil {
			return err
		}
		if err := s.writeUser(ctx, tx, u.ID, rec, u.Status, u.Scope); err != nil {
			return err
		}
		var prev object
		json.Unmarshal(before, &prev)
		return audit.Record(ctx, tx, scimEvent(ctx, action, "user", u.ID, map[string]any{"changed": changedKeys(prev, next)}))
	})
	if err != nil {
		return nil, err
	}
	return s.userByID(ctx, scopeID, uid, proj, nil)
}

// DeleteUser deprovisions account id: suspended, sessions and tokens ended, due for deletion
// after Config.DeleteAfter, and no longer shown by SCIM. Errors: NotFound, Conflict
// "scim_version_changed".
func (s *Service) DeleteUser(ctx context.Context, id, ifMatch string) error {
	_, err := s.tx(ctx, func(tx *store.Tx, scopeID int64) error {
		u, err := userToChange(ctx, tx, scopeID, id, ifMatch)
		if err != nil {
			return err
		}
		if err := s.deactivate(ctx, tx, u.ID); err != nil {
			return err
		}
		due := tx.Now.Add(s.cfg.DeleteAfter)
		if err := s.accounts.ScheduleDeletionTx(ctx, tx, u.ID, due); err != nil {
			return err
		}
		if err := setSCIMDeleted(ctx, tx, u.ID, true); err != nil {
			return err
		}
		return audit.Record(ctx, tx, scimEvent(ctx, "scim.user.delete", "user", u.ID, map[string]any{"delete_at": rfc3339(due.Unix())}))
	})
	return err
}

// userToChange reads account id in scope for a change, its SCIM row locked, checking the
// request's If-Match.
func userToChange(ctx context.Context, tx *store.Tx, scopeID int64, id, ifMatch string) (*userRow, error) {
	u, err := loadUser(ctx, tx, tx.Dialect, scopeID, id, true)
	if err != nil {
		return nil, err
	}
	return u, checkIfMatch(ifMatch, u.etag())
}

// writeUser stores rec over account id (whose status is status before the change): the
// account's identity through account.Service, the SCIM rows, and the activation change with
// what it implies. scopeID is the scope of a SCIM row that does not exist yet.
func (s *Service) writeUser(ctx context.Context, tx *store.Tx, id int64, rec *userRecord, status string, scopeID int64) error {
	in := s.newUser(rec)
	if err := validate(&in); err != nil {
		return err
	}
	if err := s.accounts.SetIdentityTx(ctx, tx, id, account.Identity{Username: in.Username, Email: in.Email,
		FirstName: in.FirstName, LastName: in.LastName, Language: in.Language}); err != nil {
		return accountErr(err, rec)
	}
	if err := writeSCIMUser(ctx, tx, id, scopeID, rec, false); err != nil {
		return err
	}
	if !rec.ActiveSet {
		return nil
	}
	switch {
	case rec.Active && status != account.StatusActive:
		return s.reactivate(ctx, tx, id)
	case !rec.Active && status == account.StatusActive:
		return s.deactivate(ctx, tx, id)
	}
	return nil
}

// deactivate suspends an account and, in the same transaction, ends its sessions and revokes
// its API tokens: a leaver is out at once, whatever they had open.
func (s *Service) deactivate(ctx context.Context, tx *store.Tx, id int64) error {
	if err := s.accounts.SuspendTx(ctx, tx, id); err != nil {
		return err
	}
	revoked, err := s.accounts.RevokeUserTokensTx(ctx, tx, id)
	if err != nil {
		return err
	}
	return audit.Record(ctx, tx, scimEvent(ctx, "scim.user.deactivate", "user", id, map[string]any{"tokens_revoked": revoked}))
}

// reactivate makes a suspended account active again (account.ReactivateTx keeps the billing
// period that ended with the suspension).
func (s *Service) reactivate(ctx context.Context, tx *store.Tx, id int64) error {
	if err := s.accounts.ReactivateTx(ctx, tx, id); err != nil {
		return err
	}
	return audit.Record(ctx, tx, scimEvent(ctx, "scim.user.reactivate", "user", id, nil))
}

func userNameTaken(userName string) error {
	return errs.Coded(errs.Conflict, "scim_user_name_taken", errs.P{"username": userName})
}

// accountErr says a conflict of the account package in SCIM's terms.
func accountErr(err error, rec *userRecord) error {
	e := errs.As(err)
	if e.Code != errs.Conflict || len(e.Fields) == 0 {
		return err
	}
	switch f := e.Fields[0]; {
	case f.Field == "username" && f.Code == "username_looks_taken":
		return errs.Coded(errs.Conflict, "scim_user_name_lookalike", errs.P{"username": rec.UserName})
	case f.Field == "username":
		return userNameTaken(rec.UserName)
	case f.Field == "email":
		return errs.Coded(errs.Conflict, "scim_email_taken", errs.P{"email": rec.Email})
	}
	return err
}
