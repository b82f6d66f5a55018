package authz_test

import (
	"os"
	"strings"
	"testing"

	"roster/internal/authz"
)

// permissionTable is the markdown of authz.UserActions, as docs/security.md
// shows it.
func permissionTable() string {
	var b strings.Builder
	b.WriteString("| what | covers | who may | enforced in |\n| --- | --- | --- | --- |\n")
	for _, a := range authz.UserActions {
		b.WriteString("| " + a.Name + " | " + a.What + " | " + authz.UserOpWho[a.Op] + " | " + a.Where + " |\n")
	}
	return b.String()
}

// TestPermissionDocMatches keeps the documented table equal to the one the code enforces.
func TestPermissionDocMatches(t *testing.T) {
	doc, err := os.ReadFile("../../docs/security.md")
	if err != nil {
		t.Fatal(err)
	}
	if want := permissionTable(); !strings.Contains(string(doc), want) {
		t.Errorf("docs/security.md does not show authz.UserActions; the table is:\n%s", want)
	}
	for op := range authz.UserOpWho {
		found := false
		for _, a := range authz.UserActions {
			found = found || a.Op == op
		}
		if !found {
			t.Errorf("level %s has no row", op)
		}
	}
}
