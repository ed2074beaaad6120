package audit_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dgtit-gto/gobdatos/catalog/audit"
	"github.com/dgtit-gto/gobdatos/migrations/pgtest"
)

func TestList(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.New(t)
	for i := range 7 {
		action, typ := "user.update", "user"
		if i%2 == 1 {
			action, typ = "catalog.publish", "catalog"
		}
		require.NoError(t, audit.Record(ctx, pool, audit.Entry{Actor: audit.Actor{Login: []string{"ana", "beto"}[i%2]},
			Action: action, ObjectType: typ, ObjectID: fmt.Sprint(i)}))
	}
	count := func(f audit.Filter) []string {
		lines, err := audit.List(ctx, pool, f)
		require.NoError(t, err)
		var ids []string
		for _, l := range lines {
			ids = append(ids, l.ObjectID)
		}
		return ids
	}
	require.Equal(t, []string{"6", "5", "4", "3", "2", "1", "0"}, count(audit.Filter{}), "newest first")
	require.Equal(t, []string{"6", "4", "2", "0"}, count(audit.Filter{Actor: "ANA"}))
	require.Equal(t, []string{"5", "3", "1"}, count(audit.Filter{ObjectType: "catalog"}))
	require.Equal(t, []string{"6", "4", "2", "0"}, count(audit.Filter{Action: "user."}))
	require.Equal(t, []string{"5", "3", "1"}, count(audit.Filter{Action: "catalog.publish"}))
	require.Empty(t, count(audit.Filter{Action: "catalog."[:3]}), "a prefix must end in a dot")
	require.Empty(t, count(audit.Filter{From: time.Now().Add(time.Hour)}))
	require.Len(t, count(audit.Filter{From: time.Now().Add(-time.Hour), To: time.Now().Add(time.Hour)}), 7)

	// keyset paging
	first, err := audit.List(ctx, pool, audit.Filter{Limit: 3})
	require.NoError(t, err)
	require.Len(t, first, 3)
	require.Equal(t, []string{"3", "2", "1"}, count(audit.Filter{Limit: 3, BeforeID: first[2].ID}))
}
