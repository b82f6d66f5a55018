package account

import (
	"slices"
	"strings"
	"testing"

	"roster/internal/errs"
	"roster/internal/store"
	"roster/internal/store/storetest"
)

func TestNormalizeUsername(t *testing.T) {
	for in, want := range map[string]string{
		"AMartin":                "amartin",
		"  jean.dupont  ":        "jean.dupont",
		"ＡＢＣ":                    "abc", // full-width letters narrowed
		"Ivan@Почта.рф":          "ivan@почта.рф",
		"e\u0301lodie":           "élodie", // NFC
		"alice@example.org":      "alice@example.org",
		"o'brien-smith_2":        "o'brien-smith_2",
		strings.Repeat("a", 100): strings.Repeat("a", 100),
	} {
		got, err := NormalizeUsername(in)
		if err != nil || got != want {
			t.Errorf("%q: %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{
		"",
		"p\u0430ypal",       // a Cyrillic а among Latin letters
		"ad\u200bmin",       // zero-width space
		"admin\u202e",       // right-to-left override
		"ad\u200dmin",       // zero-width joiner
		"ad\u2066min\u2069", // bidi isolate
		"two words",         // space
		"nul\x00byte",       // NUL
		"tab\tbed",          // control
		"\ufeffbom",         // byte-order mark
		strings.Repeat("a", 101),
		"\xff\xfe", // not UTF-8
	} {
		if got, err := NormalizeUsername(bad); err == nil {
			t.Errorf("%q accepted as %q", bad, got)
		} else if e := errs.As(err); e.Code != errs.Invalid || e.Fields[0].Field != "username" {
			t.Errorf("%q: %+v", bad, e)
		}
	}
}

func TestCheckName(t *testing.T) {
	if got, err := CheckName("first_name", "  Anne-Élise  "); err != nil || got != "Anne-Élise" {
		t.Fatalf("%q %v", got, err)
	}
	for _, bad := range []string{strings.Repeat("é", 101), strings.Repeat("x", 1<<20), "Ann\x00", "Ann\nLee",
		"Ann\u202eeeL", "An\u200bn", "\xffAnn"} {
		if _, err := CheckName("first_name", bad); !errs.Is(err, errs.Invalid) {
			t.Errorf("%.20q: %v", bad, err)
		}
	}
}

func TestLookalikes(t *testing.T) {
	alts := Lookalikes("ape")
	if !slices.Contains(alts, "аре") || !slices.Contains(alts, "αρε") || slices.Contains(alts, "ape") {
		t.Fatalf("ape: %q", alts)
	}
	if alts := Lookalikes("аре"); !slices.Contains(alts, "ape") {
		t.Fatalf("аре: %q", alts)
	}
	if alts := Lookalikes("jdupont"); len(alts) != 0 {
		t.Fatalf("jdupont has no look-alike spelling, got %q", alts)
	}
}

// TestUsernameRules: the same rules hold when an account is created and when it is renamed,
// and a username spelt with look-alike letters of an existing one is refused both ways.
func TestUsernameRules(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, _ *storetest.Clock) {
		s := newService(t, db)
		admin := mustCreate(t, s, NewUser{Username: "root", Email: "root@example.org", IsAdmin: true})
		adminCtx := as(s, admin)
		mustCreate(t, s, NewUser{Username: "ape", Email: "ape@example.org"})
		create := func(username string) error {
			return db.Tx(bg, func(tx *store.Tx) error {
				_, err := s.CreateUser(bg, tx, NewUser{Username: username, Email: "x" + username + "@example.org",
					FirstName: "A", LastName: "B", Password: goodPassword})
				return err
			})
		}
		if err := create("аре"); !errs.Is(err, errs.Conflict) || errs.As(err).Fields[0].Field != "username" {
			t.Fatalf("Cyrillic look-alike of ape: %v", err)
		}
		for _, bad := range []string{"pаypal", "ad​min", "admin‮"} {
			if err := create(bad); !errs.Is(err, errs.Invalid) {
				t.Errorf("%q: %v", bad, err)
			}
		}
		// Stored in its normal form; the login finds it typed either way.
		u := mustCreate(t, s, NewUser{Username: "ＢＯＢ", Email: "bob@example.org"})
		if u.Username != "bob" {
			t.Fatalf("stored as %q", u.Username)
		}
		if _, err := s.Login(bg, "ＢＯＢ", goodPassword, ""); err != nil {
			t.Fatalf("login with the full-width spelling: %v", err)
		}
		// Renaming follows the same rules.
		if _, err := s.UpdateUser(adminCtx, u.ID, UserUpdate{Username: ptr("αρε")}); !errs.Is(err, errs.Invalid) ||
			errs.As(err).Fields[0].Field != "username" {
			t.Fatalf("rename to a Greek look-alike of ape: %v", err)
		}
		if _, err := s.UpdateUser(adminCtx, u.ID, UserUpdate{FirstName: ptr(strings.Repeat("x", 1<<20))}); !errs.Is(err, errs.Invalid) {
			t.Fatalf("a 1 MB first name: %v", err)
		}
		if got, err := s.UpdateUser(adminCtx, u.ID, UserUpdate{Username: ptr("Bobby")}); err != nil || got.Username != "bobby" {
			t.Fatalf("rename: %v", err)
		}
	})
}
