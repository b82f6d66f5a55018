// Package secret makes the random tokens Roster hands out (links in emails, session cookies,
// API tokens, single sign-on state) and the form in which they are stored.
package secret

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
)

// New returns a token, 32 bytes from crypto/rand as URL-safe base64 without padding (43
// characters), and its stored form. crypto/rand.Read never fails (it aborts the program
// rather than return short), so neither does New.
func New() (token, hash string) {
	b := make([]byte, 32)
	rand.Read(b)
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, Hash(token)
}

// Hash is the stored form of a token: SHA-256 in hex. A plain hash is enough, unlike for a
// password: the token has 256 bits of entropy, so there is nothing to brute-force, and a copy
// of the database lets nobody in.
func Hash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}
