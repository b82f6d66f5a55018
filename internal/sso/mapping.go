package sso

import (
	"context"
	"net/mail"
	"strings"

	"roster/internal/account"
	"roster/internal/errs"
	"roster/internal/group"
	"roster/internal/store"
)

// mapped is what the attributes say about the account, through the provider's mapping.
// Empty means the provider did not say (or said something unusable).
type mapped struct {
	Username, Email, FirstName, LastName, Language string
}

// mapAttributes applies the provider's mapping to id. An unsupported language and a
// malformed email count as not given.
func mapAttributes(p *Provider, id *Identity) mapped {
	mp := p.Settings.Mapping
	m := mapped{
		Email:     id.First(mp.Email),
		FirstName: id.First(mp.FirstName),
		LastName:  id.First(mp.LastName),
		Language:  language(id.First(mp.Language)),
	}
	switch {
	case mp.Username != "":
		m.Username = id.First(mp.Username)
	case p.Kind == KindCAS:
		m.Username = id.Subject
	}
	m.Username = strings.ToLower(strings.TrimSpace(m.Username))
	if strings.IndexFunc(m.Username, func(r rune) bool { return r <= ' ' }) >= 0 || len(m.Username) > 100 {
		m.Username = ""
	}
	if a, err := mail.ParseAddress(m.Email); err != nil || a.Address != m.Email {
		m.Email = ""
	}
	return m
}

// language reads "fr", "fr-FR", "fr_CA", "French"... as one of Roster's languages, or "".
func language(v string) string {
	v = strings.ToLower(strings.TrimSpace(v))
	switch {
	case v == "fr" || strings.HasPrefix(v, "fr-") || strings.HasPrefix(v, "fr_") || v == "french" || v == "français":
		return "fr"
	case v == "en" || strings.HasPrefix(v, "en-") || strings.HasPrefix(v, "en_") || v == "english":
		return "en"
	}
	return ""
}

// refresh copies the attributes the provider gave onto the account, at each login. The
// username changes only for accounts that sign in with this kind of provider, and only to a
// free one; what the provider did not give is kept.
func refresh(ctx context.Context, tx *store.Tx, p *Provider, userID int64, m mapped) error {
	var auth, username string
	if err := tx.QueryRowContext(ctx, `SELECT auth, username FROM users WHERE id = $1`, userID).Scan(&auth, &username); err != nil {
		return wrap(err, "user to refresh")
	}
	// The account rules for names (account.NormalizeUsername, CheckName): a username or name
	// they refuse is not copied, and the account keeps what it has.
	if norm, err := account.NormalizeUsername(m.Username); auth == p.Kind && err == nil && norm != username {
		var taken int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM users WHERE username = $1`, norm).Scan(&taken); err != nil {
			return wrap(err, "username taken")
		}
		err := account.CheckUsernameLookalikes(ctx, tx, norm, userID)
		if err != nil && !errs.Is(err, errs.Conflict) {
			return err
		}
		if taken == 0 && err == nil {
			username = norm
		}
	}
	for _, n := range []*string{&m.FirstName, &m.LastName} {
		v, err := account.CheckName("name", *n)
		if err != nil {
			v = ""
		}
		*n = v
	}
	return account.RefreshProfileTx(ctx, tx, userID, username,
		account.Profile{Email: m.Email, FirstName: m.FirstName, LastName: m.LastName, Language: m.Language})
}

// ruleSource is the membership source of rule-made memberships. The group package knows no
// "sso" source yet, so they are recorded as manual: added, never removed by a later login.
const ruleSource = group.SourceManual

// applyRules gives the person the group roles their attributes call for. A rule naming a
// group that does not exist is logged and skipped: a login is not refused for it.
func (s *Service) applyRules(ctx context.Context, tx *store.Tx, p *Provider, id *Identity, userID int64) error {
	for _, r := range p.Settings.Rules {
		if !contains(id.Attributes[r.Attribute], r.Value) {
			continue
		}
		var groupID int64
		err := tx.QueryRowContext(ctx, `SELECT id FROM groups WHERE idnumber = $1`, r.Group).Scan(&groupID)
		if store.IsNoRows(err) {
			s.log.Warn("sso: rule names an unknown group", "provider", p.Slug, "group", r.Group)
			continue
		}
		if err != nil {
			return wrap(err, "rule group")
		}
		if err := group.AddMemberTx(ctx, tx, groupID, userID, r.Role, ruleSource); err != nil {
			return err
		}
	}
	return nil
}
