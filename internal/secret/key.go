package secret

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Key protects what must not be usable from a copy of the database: the links of emails still
// waiting in the outbox are kept sealed with it (AES-256-GCM), and only a process holding the
// key can open them. The key lives outside the database: a file beside the SQLite file, or
// ROSTER_SECRET_KEY / ROSTER_SECRET_KEY_FILE, the same for every instance of a cluster.
type Key struct {
	aead cipher.AEAD
}

// MinKeyLength is the shortest key material accepted, in bytes: a key file holds 32 random
// bytes in base64 (44 characters); an operator's own key must be at least as long.
const MinKeyLength = 32

// ParseKey makes a Key from key material (what ROSTER_SECRET_KEY or a key file holds,
// surrounding spaces ignored): any string of at least MinKeyLength bytes, for instance
// `head -c 32 /dev/urandom | base64`. The AES key is SHA-256 of the material with a label,
// so any long random string works and the material is never used directly.
func ParseKey(material string) (*Key, error) {
	material = strings.TrimSpace(material)
	if len(material) < MinKeyLength {
		return nil, fmt.Errorf("secret key: %d characters, at least %d needed (for instance: head -c 32 /dev/urandom | base64)",
			len(material), MinKeyLength)
	}
	sum := sha256.Sum256([]byte("roster secret key v1\x00" + material))
	block, err := aes.NewCipher(sum[:])
	if err != nil {
		return nil, fmt.Errorf("secret key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("secret key: %w", err)
	}
	return &Key{aead: aead}, nil
}

// NewKey returns a random key (tests, and a first start without a key file).
func NewKey() *Key {
	k, err := ParseKey(newMaterial())
	if err != nil {
		panic(err) // 44 characters are always enough
	}
	return k
}

func newMaterial() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

// LoadKeyFile reads the key in path. With create, a missing file is created first, with mode
// 0600 and 32 random bytes in base64; created reports it. An existing file readable by others
// than its owner is refused: the key is worth as much as every link it protects.
func LoadKeyFile(path string, create bool) (k *Key, created bool, err error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) && create {
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, false, fmt.Errorf("secret key file: %w", err)
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) { // another process created it meanwhile
			return LoadKeyFile(path, false)
		}
		if err != nil {
			return nil, false, fmt.Errorf("secret key file: %w", err)
		}
		material := newMaterial()
		if _, err := f.WriteString(material + "\n"); err != nil {
			f.Close()
			return nil, false, fmt.Errorf("secret key file: %w", err)
		}
		if err := f.Close(); err != nil {
			return nil, false, fmt.Errorf("secret key file: %w", err)
		}
		k, err := ParseKey(material)
		return k, true, err
	}
	if err != nil {
		return nil, false, fmt.Errorf("secret key file: %w", err)
	}
	if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
		return nil, false, fmt.Errorf("secret key file %s: readable by others (mode %v): chmod 600 it", path, fi.Mode().Perm())
	}
	k, err = ParseKey(string(b))
	if err != nil {
		return nil, false, fmt.Errorf("%s: %w", path, err)
	}
	return k, false, nil
}

// Seal encrypts plain for purpose (which must be given again to Open: a value sealed for
// one use cannot be opened for another) and returns it as URL-safe base64.
func (k *Key) Seal(purpose string, plain []byte) string {
	nonce := make([]byte, k.aead.NonceSize())
	rand.Read(nonce)
	out := k.aead.Seal(nonce, nonce, plain, []byte(purpose))
	return base64.RawURLEncoding.EncodeToString(out)
}

// ErrNotOpened is returned by Open for a value sealed with another key, for another purpose,
// or damaged.
var ErrNotOpened = errors.New("secret: sealed value cannot be opened with this key")

// Open decrypts what Seal returned for the same purpose.
func (k *Key) Open(purpose, sealed string) ([]byte, error) {
	b, err := base64.RawURLEncoding.DecodeString(sealed)
	if err != nil || len(b) < k.aead.NonceSize()+k.aead.Overhead() {
		return nil, ErrNotOpened
	}
	n := k.aead.NonceSize()
	plain, err := k.aead.Open(nil, b[:n], b[n:], []byte(purpose))
	if err != nil {
		return nil, ErrNotOpened
	}
	return plain, nil
}
