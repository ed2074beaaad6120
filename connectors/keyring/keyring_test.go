package keyring_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dgtit-gto/gobdatos/connectors/keyring"
)

var (
	secretA = []byte(strings.Repeat("a", 32))
	secretB = []byte(strings.Repeat("b", 40))
)

func TestSealOpenAndRotation(t *testing.T) {
	t.Parallel()
	a, err := keyring.New(secretA)
	require.NoError(t, err)
	id, sealed, err := a.Seal([]byte("s3cr3t"), "connector-credentials")
	require.NoError(t, err)
	require.Equal(t, a.CurrentID(), id)
	require.NotContains(t, string(sealed), "s3cr3t")

	_, sealed2, err := a.Seal([]byte("s3cr3t"), "connector-credentials")
	require.NoError(t, err)
	require.False(t, bytes.Equal(sealed, sealed2), "a fresh nonce every time")

	got, err := a.Open(id, sealed, "connector-credentials")
	require.NoError(t, err)
	require.Equal(t, "s3cr3t", string(got))

	// The secret changes: the new keyring opens old values only when given the old secret.
	b, err := keyring.New(secretB)
	require.NoError(t, err)
	require.NotEqual(t, a.CurrentID(), b.CurrentID())
	_, err = b.Open(id, sealed, "connector-credentials")
	require.ErrorIs(t, err, keyring.ErrUnknownKey)

	b, err = keyring.New(secretB, secretA)
	require.NoError(t, err)
	newID, resealed, changed, err := b.Reseal(id, sealed, "connector-credentials")
	require.NoError(t, err)
	require.True(t, changed)
	require.Equal(t, b.CurrentID(), newID)
	got, err = b.Open(newID, resealed, "connector-credentials")
	require.NoError(t, err)
	require.Equal(t, "s3cr3t", string(got))

	_, _, changed, err = b.Reseal(newID, resealed, "connector-credentials")
	require.NoError(t, err)
	require.False(t, changed, "already under the current key")
}

func TestOpenRefuses(t *testing.T) {
	t.Parallel()
	k, err := keyring.New(secretA)
	require.NoError(t, err)
	id, sealed, err := k.Seal([]byte("x"), "connector-credentials")
	require.NoError(t, err)
	tampered := bytes.Clone(sealed)
	tampered[len(tampered)-1] ^= 1
	for name, tc := range map[string]struct {
		id, purpose string
		sealed      []byte
		want        error
	}{
		"other purpose": {id, "entity-access", sealed, keyring.ErrTampered},
		"tampered":      {id, "connector-credentials", tampered, keyring.ErrTampered},
		"truncated":     {id, "connector-credentials", sealed[:5], keyring.ErrTampered},
		"unknown key":   {"0011223344556677", "connector-credentials", sealed, keyring.ErrUnknownKey},
	} {
		_, err := k.Open(tc.id, tc.sealed, tc.purpose)
		require.ErrorIs(t, err, tc.want, name)
	}
	_, err = keyring.New([]byte("short"))
	require.Error(t, err)
}
