package account

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
)

// newSecret returns a random URL-safe secret (256 bits) and the SHA-256 that
// is stored in its place.
func newSecret(prefix string) (secret string, hash []byte) {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	secret = prefix + base64.RawURLEncoding.EncodeToString(b)
	return secret, hashSecret(secret)
}

func hashSecret(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}
