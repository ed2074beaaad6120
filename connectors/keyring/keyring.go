// Package keyring seals credentials at rest (connector passwords, entity
// access passwords) with AES-256-GCM under keys derived from
// GOBDATOS_SECRET_KEY. Every sealed value is stored with the id of its key,
// so that after the secret changes the old one can still open what it
// sealed, and a rotation re-seals everything under the new key.
package keyring

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
)

// MinSecret is the shortest secret accepted (the rule of GOBDATOS_SECRET_KEY).
const MinSecret = 32

// ErrUnknownKey means a value was sealed under a key this keyring lacks:
// the secret changed and the old one was not given as a previous key.
var ErrUnknownKey = errors.New("keyring: value sealed with an unknown key (give the previous GOBDATOS_SECRET_KEY)")

// ErrTampered means a sealed value does not open: it was altered, or it
// belongs to another purpose.
var ErrTampered = errors.New("keyring: sealed value does not authenticate")

type key struct {
	id   string
	aead cipher.AEAD
}

// Keyring holds the current key, which seals, and previous keys, which only
// open.
type Keyring struct {
	current key
	keys    map[string]key
}

// New derives the current key from secret and one key from each previous
// secret.
func New(secret []byte, previous ...[]byte) (*Keyring, error) {
	cur, err := derive(secret)
	if err != nil {
		return nil, err
	}
	k := &Keyring{current: cur, keys: map[string]key{cur.id: cur}}
	for _, p := range previous {
		if len(p) == 0 {
			continue
		}
		old, err := derive(p)
		if err != nil {
			return nil, fmt.Errorf("previous secret: %w", err)
		}
		k.keys[old.id] = old
	}
	return k, nil
}

// derive turns a secret into an AES-256 key and a public id: two HKDF
// outputs under different labels, so the id reveals nothing of the key.
func derive(secret []byte) (key, error) {
	if len(secret) < MinSecret {
		return key{}, fmt.Errorf("keyring: the secret must have at least %d characters", MinSecret)
	}
	raw, err := hkdf.Key(sha256.New, secret, nil, "gobdatos credentials v1", 32)
	if err != nil {
		return key{}, fmt.Errorf("keyring: derive: %w", err)
	}
	idRaw, err := hkdf.Key(sha256.New, secret, nil, "gobdatos credentials key id v1", 8)
	if err != nil {
		return key{}, fmt.Errorf("keyring: derive id: %w", err)
	}
	block, err := aes.NewCipher(raw)
	if err != nil {
		return key{}, fmt.Errorf("keyring: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return key{}, fmt.Errorf("keyring: %w", err)
	}
	return key{id: hex.EncodeToString(idRaw), aead: aead}, nil
}

// CurrentID is the id of the key that seals.
func (k *Keyring) CurrentID() string { return k.current.id }

// Seal encrypts plaintext under the current key. purpose (e.g.
// "connector-credentials") is authenticated with it, so a value sealed for
// one purpose never opens as another.
func (k *Keyring) Seal(plaintext []byte, purpose string) (keyID string, sealed []byte, err error) {
	nonce := make([]byte, k.current.aead.NonceSize(), k.current.aead.NonceSize()+len(plaintext)+k.current.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", nil, fmt.Errorf("keyring: nonce: %w", err)
	}
	return k.current.id, k.current.aead.Seal(nonce, nonce, plaintext, []byte(purpose)), nil
}

// Open decrypts a value sealed under the key keyID for purpose.
func (k *Keyring) Open(keyID string, sealed []byte, purpose string) ([]byte, error) {
	kk, ok := k.keys[keyID]
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrUnknownKey, keyID)
	}
	ns := kk.aead.NonceSize()
	if len(sealed) < ns+kk.aead.Overhead() {
		return nil, ErrTampered
	}
	out, err := kk.aead.Open(nil, sealed[:ns], sealed[ns:], []byte(purpose))
	if err != nil {
		return nil, ErrTampered
	}
	return out, nil
}

// Reseal opens a value and seals it again under the current key; values
// already under it are returned unchanged (changed is false).
func (k *Keyring) Reseal(keyID string, sealed []byte, purpose string) (newID string, resealed []byte, changed bool, err error) {
	if keyID == k.current.id {
		return keyID, sealed, false, nil
	}
	plain, err := k.Open(keyID, sealed, purpose)
	if err != nil {
		return "", nil, false, err
	}
	newID, resealed, err = k.Seal(plain, purpose)
	clear(plain)
	return newID, resealed, err == nil, err
}
