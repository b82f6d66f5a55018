// Package locales holds Roster's message catalogs: LANG/*.json, one file per feature. Package
// i18n reads them; see docs/i18n.md.
package locales

import "embed"

// FS holds every LANG/*.json file.
//
//go:embed */*.json
var FS embed.FS
