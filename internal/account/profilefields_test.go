package account

import (
	"strings"
	"testing"

	"roster/internal/authz"
	"roster/internal/errs"
	"roster/internal/store"
	"roster/internal/store/storetest"
)

// defineFields creates the profile fields of the tests: faculty (choice, required),
// badge (text) and birthday (date).
func defineFields(t testing.TB, s *Service) {
	t.Helper()
	for _, f := range []ProfileField{
		{Key: "faculty", Label: "Faculty", Kind: FieldChoice, Options: []string{"law", "science", " law "}, Required: true},
		{Key: "badge", Label: "Badge", Kind: FieldText},
		{Key: "birthday", Label: "Birthday", Kind: FieldDate},
	} {
		if _, err := s.CreateProfileField(adminCtx, f); err != nil {
			t.Fatalf("define %s: %v", f.Key, err)
		}
	}
}

func fieldNames(err error) []string {
	var out []string
	for _, f := range errs.As(err).Fields {
		out = append(out, f.Field)
	}
	return out
}

func TestValidateCustomFields(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, _ *storetest.Clock) {
		s := newService(t, db)
		defineFields(t, s)
		for _, c := range []struct {
			name       string
			values     map[string]string
			requireAll bool
			fields     []string // named in the error; none: valid
		}{
			{"valid", map[string]string{"faculty": " law ", "badge": "B-12", "birthday": "1990-04-01"}, true, nil},
			{"required missing on create", map[string]string{"badge": "x"}, true, []string{"custom_fields.faculty"}},
			{"required missing on change is fine", map[string]string{"badge": "x"}, false, nil},
			{"required emptied", map[string]string{"faculty": " "}, false, []string{"custom_fields.faculty"}},
			{"choice not an option", map[string]string{"faculty": "arts"}, false, []string{"custom_fields.faculty"}},
			{"bad date", map[string]string{"birthday": "01/04/1990"}, false, []string{"custom_fields.birthday"}},
			{"impossible date", map[string]string{"birthday": "1990-02-30"}, false, []string{"custom_fields.birthday"}},
			{"unknown field", map[string]string{"shoe_size": "42"}, false, []string{"custom_fields.shoe_size"}},
			{"two lines", map[string]string{"badge": "a\nb"}, false, []string{"custom_fields.badge"}},
			{"optional emptied", map[string]string{"badge": ""}, false, nil},
			{"several", map[string]string{"birthday": "x", "faculty": "arts"}, true, []string{"custom_fields.birthday", "custom_fields.faculty"}},
		} {
			err := ValidateCustomFields(bg, db, c.values, c.requireAll)
			got := fieldNames(err)
			if strings.Join(got, ",") != strings.Join(c.fields, ",") || (err != nil && !errs.Is(err, errs.Invalid)) {
				t.Errorf("%s: want %v, got %v (%v)", c.name, c.fields, got, err)
			}
			if c.name == "valid" && c.values["faculty"] != "law" {
				t.Errorf("values not trimmed: %q", c.values["faculty"])
			}
		}
	})
}

func TestProfileFieldAdmin(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, _ *storetest.Clock) {
		s := newService(t, db)
		defineFields(t, s)
		fs, err := s.ProfileFields(bg)
		if err != nil || len(fs) != 3 || fs[0].Key != "faculty" || strings.Join(fs[0].Options, ",") != "law,science" || !fs[0].Required {
			t.Fatalf("fields %+v %v", fs, err)
		}
		_, err = s.CreateProfileField(adminCtx, ProfileField{Key: "badge", Label: "Again", Kind: FieldText})
		if e := errs.As(err); e.Code != errs.Conflict || e.Fields[0].Field != "key" {
			t.Fatalf("duplicate key: %v", err)
		}
		_, err = s.CreateProfileField(adminCtx, ProfileField{Key: "Bad Key", Kind: "colour"})
		if got := strings.Join(fieldNames(err), ","); got != "key,label,kind" {
			t.Fatalf("invalid definition: %v", err)
		}
		_, err = s.CreateProfileField(adminCtx, ProfileField{Key: "level", Label: "Level", Kind: FieldChoice})
		if got := strings.Join(fieldNames(err), ","); got != "options" {
			t.Fatalf("choice without options: %v", err)
		}
		up, err := s.UpdateProfileField(adminCtx, fs[1].ID, ProfileField{Key: "badge", Label: "Badge number", Kind: FieldText, Required: true})
		if err != nil || up.Label != "Badge number" {
			t.Fatalf("update: %v", err)
		}
		if err := s.DeleteProfileField(adminCtx, fs[2].ID); err != nil {
			t.Fatal(err)
		}
		wantCode(t, s.DeleteProfileField(adminCtx, fs[2].ID), errs.NotFound)
		if fs, _ := s.ProfileFields(bg); len(fs) != 2 {
			t.Fatalf("after delete: %+v", fs)
		}
		// Only platform administrators define fields.
		u := mustCreate(t, s, NewUser{Email: "someone@example.org"})
		_, err = s.CreateProfileField(authz.With(bg, s.PrincipalFor(u)), ProfileField{Key: "x", Label: "X", Kind: FieldText})
		wantCode(t, err, errs.Forbidden)
		if n := auditCount(t, db, "profile_field.create"); n != 3 {
			t.Fatalf("profile_field.create events: %d", n)
		}
	})
}
