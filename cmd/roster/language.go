package main

import (
	"context"
	"errors"

	"roster/internal/errs"
	"roster/internal/i18n"
	"roster/internal/site"
	"roster/internal/store"
)

// The command line speaks the site's language (ROSTER_LANGUAGE or --language, else the one
// stored at set-up), else the environment's locale (LC_ALL, LC_MESSAGES, LANG: "fr_FR.UTF-8"
// gives French), else English. Its words are the catalog's "cli.*" entries; machine output
// (ids, tokens, links, a dry run's plan) stays as it is.

// setLanguage chooses m.Lang once the database is open.
func (m *Main) setLanguage(ctx context.Context, db *store.DB) {
	var langs []string
	if st, err := site.Get(ctx, db); err == nil {
		langs = append(langs, st.Language)
	}
	for _, v := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		langs = append(langs, m.Getenv(v))
	}
	m.Lang = i18n.Pick(langs...)
}

// t is a catalog entry in the command line's language.
func (m *Main) t(key string, args ...any) string { return i18n.T(m.lang(), key, args...) }

func (m *Main) lang() string {
	if m.Lang == "" {
		return i18n.Pick(m.Getenv("LC_ALL"), m.Getenv("LC_MESSAGES"), m.Getenv("LANG"))
	}
	return m.Lang
}

// ErrorText is err as the command line prints it: a service's error in the command line's
// language, anything else (a file that cannot be opened, a flag) as it is.
func (m *Main) ErrorText(err error) string {
	var e *errs.Error
	if errors.As(err, &e) && e.Code != errs.Internal && (e.Key != "" || len(e.Fields) > 0) {
		return e.In(m.lang())
	}
	return err.Error()
}
