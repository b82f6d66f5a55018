package account

import (
	"context"

	"roster/internal/authz"
	"roster/internal/errs"
	"roster/internal/i18n"
	"roster/internal/store"
)

// SetOwnLanguage saves the language the logged-in person chose in the page header: their
// pages and emails follow it from then on.
func (s *Service) SetOwnLanguage(ctx context.Context, lang string) error {
	p, err := authz.RequireUser(ctx)
	if err != nil {
		return err
	}
	if p.UserID == 0 {
		return errs.Coded(errs.Forbidden, "forbidden")
	}
	if !i18n.Supported(lang) {
		return errs.FieldCode("language", "unknown_language")
	}
	return s.db.Tx(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE users SET language = $1, updated_at = $3 WHERE id = $2`, lang, p.UserID, tx.Now.Unix())
		return wrap(err, "set language")
	})
}
