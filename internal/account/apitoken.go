package account

import (
	"context"
	"database/sql"
	"strconv"
	"strings"
	"unicode/utf8"

	"roster/internal/audit"
	"roster/internal/authz"
	"roster/internal/errs"
	"roster/internal/secret"
	"roster/internal/store"
)

// API tokens let machines call the API with "Authorization: Bearer TOKEN". A token acts with
// platform-administrator rights, or as one user with that user's rights, or for SCIM
// provisioning under one group. Like every other secret, only its SHA-256 is stored; it is
// shown once, when created.

// CreateAPIToken creates a token named name and returns it. userID 0 and scimGroupID 0 give
// platform-administrator rights; userID acts as that (active) user (both of kind
// authz.TokenAPI: the JSON API only); scimGroupID makes a SCIM token for that group (kind
// authz.TokenSCIM: the SCIM endpoint only). Only platform administrators (or the command line, authz.System) may
// create tokens. Records "token.create".
//
// Errors: Unauthorized/Forbidden, Invalid naming "name", "user" or "group".
func (s *Service) CreateAPIToken(ctx context.Context, name string, userID int64, scimGroupID int64) (token string, err error) {
	if err := authz.RequirePlatformAdmin(ctx); err != nil {
		return "", err
	}
	name = strings.TrimSpace(name)
	var f errs.Fields
	if name == "" || utf8.RuneCountInString(name) > 100 {
		f.AddCode("name", "required_max", errs.P{"limit": 100})
	}
	if userID != 0 && scimGroupID != 0 {
		f.AddCode("user", "scim_token_no_user")
	}
	if userID < 0 || scimGroupID < 0 {
		f.AddCode("group", "positive_id")
	}
	if err := f.Err(); err != nil {
		return "", err
	}
	token, hash := secret.New()
	err = s.db.Tx(ctx, func(tx *store.Tx) error {
		var uid, gid any
		kind := authz.TokenAPI
		if userID != 0 {
			u, err := userByID(ctx, tx, userID)
			if err != nil || u.Status != StatusActive {
				return errs.FieldCode("user", "no_active_account")
			}
			uid = userID
		}
		if scimGroupID != 0 {
			gid, kind = scimGroupID, authz.TokenSCIM
		}
		var id int64
		if err := tx.QueryRowContext(ctx, `INSERT INTO api_tokens (name, token_hash, user_id, scim_group_id, kind, created_at)
			VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`, name, hash, uid, gid, kind, tx.Now.Unix()).Scan(&id); err != nil {
			return wrap(err, "insert api token")
		}
		return wrap(audit.Record(ctx, tx, audit.Event{Action: "token.create", TargetType: "api_token",
			TargetID: strconv.FormatInt(id, 10), Details: map[string]any{"name": name, "kind": kind, "user_id": userID, "scim_group_id": scimGroupID}}), "audit")
	})
	if err != nil {
		return "", err
	}
	return token, nil
}

// RevokeAPIToken stops a token from working. Only platform administrators may.
// Errors: Unauthorized/Forbidden, NotFound (unknown or already revoked).
func (s *Service) RevokeAPIToken(ctx context.Context, id int64) error {
	if err := authz.RequirePlatformAdmin(ctx); err != nil {
		return err
	}
	return s.db.Tx(ctx, func(tx *store.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL`, tx.Now.Unix(), id)
		if err != nil {
			return wrap(err, "revoke api token")
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.Coded(errs.NotFound, "no_api_token")
		}
		return wrap(audit.Record(ctx, tx, audit.Event{Action: "token.revoke", TargetType: "api_token",
			TargetID: strconv.FormatInt(id, 10)}), "audit")
	})
}

func errBadToken() error { return errs.Coded(errs.Unauthorized, "invalid_api_token") }

// TokenPrincipal returns who acts with a bearer token, and records its use (at most once a
// minute, so busy integrations do not write on every call).
// The principal carries the token's kind: the server lets it call only its lane
// (authz.TokenLane). Errors: Unauthorized if the token is unknown or revoked, or its user is
// suspended (suspending revokes the user's tokens for good: see SuspendTx).
func (s *Service) TokenPrincipal(ctx context.Context, token string) (*authz.Principal, error) {
	if token == "" {
		return nil, errBadToken()
	}
	var (
		id               int64
		kind             string
		uid, gid, usedAt sql.NullInt64
	)
	err := s.db.QueryRowContext(ctx, `SELECT id, kind, user_id, scim_group_id, last_used_at FROM api_tokens
		WHERE token_hash = $1 AND revoked_at IS NULL`, secret.Hash(token)).Scan(&id, &kind, &uid, &gid, &usedAt)
	if store.IsNoRows(err) {
		return nil, errBadToken()
	}
	if err != nil {
		return nil, wrap(err, "api token")
	}
	p := &authz.Principal{PlatformAdmin: true}
	switch {
	case uid.Valid:
		u, err := userByID(ctx, s.db, uid.Int64)
		if errs.Is(err, errs.NotFound) || (err == nil && u.Status != StatusActive) {
			return nil, errBadToken()
		}
		if err != nil {
			return nil, err
		}
		p = s.PrincipalFor(u)
	case gid.Valid:
		p = &authz.Principal{SCIMGroupID: gid.Int64}
	}
	if (kind == authz.TokenSCIM) != gid.Valid {
		return nil, errBadToken() // a row no CreateAPIToken wrote
	}
	p.TokenID, p.TokenKind = id, kind
	now := s.now()
	if !usedAt.Valid || now.Unix()-usedAt.Int64 >= int64(touchEvery.Seconds()) {
		if err := s.db.Tx(ctx, func(tx *store.Tx) error {
			_, err := tx.ExecContext(ctx, `UPDATE api_tokens SET last_used_at = $1 WHERE id = $2`, tx.Now.Unix(), id)
			return wrap(err, "touch api token")
		}); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// PrincipalFor is the principal of a logged-in account: itself, with platform rights if it
// is a platform administrator. Group roles are looked up by authz where they matter.
func (s *Service) PrincipalFor(u *User) *authz.Principal {
	return &authz.Principal{UserID: u.ID, PlatformAdmin: u.IsAdmin}
}

// RevokeUserTokensTx revokes every API token acting as userID within tx and says how many.
// Callers check permissions.
func (s *Service) RevokeUserTokensTx(ctx context.Context, tx *store.Tx, userID int64) (int64, error) {
	return revokeUserTokens(ctx, tx, userID)
}

func revokeUserTokens(ctx context.Context, tx *store.Tx, userID int64) (int64, error) {
	res, err := tx.ExecContext(ctx, `UPDATE api_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL`,
		tx.Now.Unix(), userID)
	if err != nil {
		return 0, wrap(err, "revoke tokens")
	}
	n, _ := res.RowsAffected()
	return n, nil
}
