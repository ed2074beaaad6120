package outbox_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dgtit-gto/gobdatos/migrations/pgtest"
	"github.com/dgtit-gto/gobdatos/pipeline/outbox"
)

func TestEnqueue(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.New(t)
	later := time.Now().Add(time.Hour)
	m := outbox.Message{Kind: outbox.Email, Recipient: "a@b.mx", Subject: "Hola", Body: "Cuerpo", DedupKey: "alert:1:down", NotBefore: later}
	ok, err := outbox.Enqueue(ctx, pool, m)
	require.NoError(t, err)
	require.True(t, ok)
	ok, err = outbox.Enqueue(ctx, pool, m)
	require.NoError(t, err)
	require.False(t, ok, "the same dedup key is queued once")

	ok, err = outbox.Enqueue(ctx, pool, outbox.Message{Kind: outbox.Webhook, Recipient: "https://x.mx/hook", Payload: map[string]int{"n": 1}})
	require.NoError(t, err)
	require.True(t, ok)

	var n int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM meta.outbox WHERE available_at > now()`).Scan(&n))
	require.Equal(t, 1, n)
	_, err = outbox.Enqueue(ctx, pool, outbox.Message{Kind: "fax", Recipient: "x"})
	require.Error(t, err)
}
