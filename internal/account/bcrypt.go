package account

import (
	"encoding/base64"
	"errors"
	"strconv"

	"golang.org/x/crypto/blowfish"
)

// bcryptHash computes a bcrypt hash with the given settings ("$2b$10$" and a 22-character
// salt), as the C implementations do: x/crypto/bcrypt only compares, or hashes with a salt
// of its own. (The same steps as its unexported bcrypt function, over x/crypto/blowfish.)
func bcryptHash(password, settings string) (string, error) {
	if len(settings) != 29 || settings[3] != '$' || settings[6] != '$' {
		return "", errors.New("bcrypt: bad settings")
	}
	cost, err := strconv.Atoi(settings[4:6])
	if err != nil || cost < 4 || cost > 20 {
		return "", errors.New("bcrypt: cost out of range")
	}
	salt, err := bcryptB64.DecodeString(settings[7:])
	if err != nil || len(salt) != 16 {
		return "", errors.New("bcrypt: bad salt")
	}
	// The C implementations hash the key with its trailing NUL, and use at most 72 bytes.
	key := append([]byte(password), 0)
	c, err := blowfish.NewSaltedCipher(key, salt)
	if err != nil {
		return "", err
	}
	for range 1 << cost {
		blowfish.ExpandKey(key, c)
		blowfish.ExpandKey(salt, c)
	}
	data := []byte("OrpheanBeholderScryDoubt")
	for i := 0; i < 24; i += 8 {
		for range 64 {
			c.Encrypt(data[i:i+8], data[i:i+8])
		}
	}
	return settings + bcryptB64.EncodeToString(data[:23]), nil
}

var bcryptB64 = base64.NewEncoding("./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789").WithPadding(base64.NoPadding)
