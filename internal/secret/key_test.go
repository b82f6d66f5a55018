package secret

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestKeySealOpen(t *testing.T) {
	k := NewKey()
	sealed := k.Seal("outbox link", []byte("token-1"))
	if got, err := k.Open("outbox link", sealed); err != nil || string(got) != "token-1" {
		t.Fatalf("%q %v", got, err)
	}
	if sealed == k.Seal("outbox link", []byte("token-1")) {
		t.Error("two seals of one value are equal: the nonce is not random")
	}
	for name, open := range map[string]func() ([]byte, error){
		"another purpose": func() ([]byte, error) { return k.Open("session", sealed) },
		"another key":     func() ([]byte, error) { return NewKey().Open("outbox link", sealed) },
		"damaged":         func() ([]byte, error) { return k.Open("outbox link", sealed[:len(sealed)-2]+"AA") },
		"garbage":         func() ([]byte, error) { return k.Open("outbox link", "!!") },
	} {
		if _, err := open(); !errors.Is(err, ErrNotOpened) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := ParseKey("too short"); err == nil {
		t.Error("a short key was accepted")
	}
	a, _ := ParseKey("the same material, long enough to be a key")
	b, _ := ParseKey("  the same material, long enough to be a key\n")
	if got, err := b.Open("p", a.Seal("p", []byte("x"))); err != nil || string(got) != "x" {
		t.Errorf("the same material gives another key: %v", err)
	}
}

func TestLoadKeyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "roster.key")
	if _, _, err := LoadKeyFile(path, false); err == nil {
		t.Fatal("a missing key file without create")
	}
	k, created, err := LoadKeyFile(path, true)
	if err != nil || !created {
		t.Fatalf("%v %v", created, err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v", fi.Mode().Perm())
	}
	k2, created, err := LoadKeyFile(path, true)
	if err != nil || created {
		t.Fatalf("second load: %v %v", created, err)
	}
	if got, err := k2.Open("p", k.Seal("p", []byte("x"))); err != nil || string(got) != "x" {
		t.Fatal("the key read back differs")
	}
}
