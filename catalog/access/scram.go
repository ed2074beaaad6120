package access

import (
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
)

// scramIterations is PostgreSQL's own default (scram_iterations).
const scramIterations = 4096

// scramVerifier computes the SCRAM-SHA-256 verifier PostgreSQL stores for a
// password. Sending the verifier instead of the password in CREATE/ALTER
// ROLE keeps the password out of the server's statement log.
func scramVerifier(password string) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("salt: %w", err)
	}
	stored, server, err := scramKeys(password, salt, scramIterations)
	if err != nil {
		return "", err
	}
	b64 := base64.StdEncoding.EncodeToString
	return fmt.Sprintf("SCRAM-SHA-256$%d:%s$%s:%s", scramIterations, b64(salt), b64(stored), b64(server)), nil
}

// scramMatches reports whether password is the one behind a verifier.
func scramMatches(verifier, password string) bool {
	rest, ok := strings.CutPrefix(verifier, "SCRAM-SHA-256$")
	if !ok {
		return false
	}
	params, keys, ok := strings.Cut(rest, "$")
	if !ok {
		return false
	}
	iterS, saltS, ok1 := strings.Cut(params, ":")
	storedS, _, ok2 := strings.Cut(keys, ":")
	if !ok1 || !ok2 {
		return false
	}
	iter, err := strconv.Atoi(iterS)
	if err != nil {
		return false
	}
	salt, err1 := base64.StdEncoding.DecodeString(saltS)
	want, err2 := base64.StdEncoding.DecodeString(storedS)
	if err1 != nil || err2 != nil {
		return false
	}
	got, _, err := scramKeys(password, salt, iter)
	return err == nil && subtle.ConstantTimeCompare(got, want) == 1
}

// scramKeys follows RFC 5802 §3 (generated passwords are ASCII, so SASLprep
// leaves them unchanged).
func scramKeys(password string, salt []byte, iter int) (stored, server []byte, err error) {
	salted, err := pbkdf2.Key(sha256.New, password, salt, iter, sha256.Size)
	if err != nil {
		return nil, nil, fmt.Errorf("scram: %w", err)
	}
	mac := func(key []byte, msg string) []byte {
		h := hmac.New(sha256.New, key)
		h.Write([]byte(msg))
		return h.Sum(nil)
	}
	clientKey := mac(salted, "Client Key")
	sum := sha256.Sum256(clientKey)
	return sum[:], mac(salted, "Server Key"), nil
}
