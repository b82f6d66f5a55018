package errs

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestCodedErrors(t *testing.T) {
	e := FieldCode("name", "too_long", P{"limit": 100})
	if e.Code != Invalid || e.Key != "too_long" || e.Message != "name: must be at most 100 characters long" {
		t.Fatalf("%+v", e)
	}
	if got := e.Fields[0].In("fr"); got != "doit faire au plus 100 caractères" {
		t.Errorf("fr field: %q", got)
	}
	if got := e.In("fr"); got != "name\u00a0: doit faire au plus 100 caractères" {
		t.Errorf("fr: %q", got)
	}
	if got := FieldCode("email", "required").In("fr"); got != "E-mail\u00a0: est obligatoire" && !strings.HasSuffix(got, "est obligatoire") {
		t.Errorf("fr email: %q", got)
	}
	b, _ := json.Marshal(e.Fields[0])
	if string(b) != `{"field":"name","code":"too_long","message":"must be at most 100 characters long"}` {
		t.Errorf("json: %s", b)
	}
	var f Fields
	f.AddCode("first_name", "required")
	f.AddAt(3, 7, "email", "invalid_email")
	err := As(f.Err())
	if err.Key != "required" || err.Fields[1].Line != 3 || err.Fields[1].Column != 7 || err.CodeKey() != "required" {
		t.Fatalf("%+v", err)
	}
	if got := err.In("en"); !strings.HasSuffix(got, "is required (and 1 more)") {
		t.Errorf("en: %q", got)
	}
	if got := New(Forbidden, "plain").CodeKey(); got != "forbidden" {
		t.Errorf("uncoded error's code: %q", got)
	}
	if got := Coded(Forbidden, "forbidden").In("fr"); got != "Vous ne pouvez pas faire ceci." {
		t.Errorf("coded: %q", got)
	}
}
