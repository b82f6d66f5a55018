package invite

import "roster/internal/secret"

// newToken returns a link secret and its stored form.
func newToken() (token, hash string) { return secret.New() }

// hashToken is the stored form of a token.
func hashToken(token string) string { return secret.Hash(token) }
