package secret

import (
	"encoding/base64"
	"testing"
)

func TestNew(t *testing.T) {
	a, ha := New()
	b, _ := New()
	raw, err := base64.RawURLEncoding.DecodeString(a)
	if err != nil || len(raw) != 32 {
		t.Fatalf("token %q: %d bytes, %v", a, len(raw), err)
	}
	if a == b {
		t.Fatal("two tokens are equal")
	}
	if ha != Hash(a) || len(ha) != 64 || ha == a {
		t.Fatalf("hash %q of %q", ha, a)
	}
}
