package web

import (
	"testing"

	"roster/internal/sso"
)

// TestSSOReasonsTranslated: the catalog test cannot see keys built from a reason, so this
// one checks each reason a refused sign-in can carry.
func TestSSOReasonsTranslated(t *testing.T) {
	c, err := LoadCatalog()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []string{sso.ReasonNoAccount, sso.ReasonEmailTaken, sso.ReasonUsernameTaken, sso.ReasonMissing,
		sso.ReasonSuspended, sso.ReasonFlow, sso.ReasonProvider, sso.ReasonDenied} {
		for _, lang := range Languages {
			if _, ok := c[lang]["sso.error."+r]; !ok {
				t.Errorf("reason %q has no message in %s", r, lang)
			}
		}
	}
}
