package procedure_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/dgtit-gto/gobdatos/catalog/procedure"
)

// No sequence of actions, by anyone, with any data, takes a case to a state
// or along a transition its definition does not allow; a refused action
// changes nothing; the history always replays to the current state.
func TestPropertyOnlyAllowedTransitions(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	defs := b.engine.Registry().All()
	people := []procedure.Actor{b.steward, b.entity, b.outsider}

	rapid.Check(t, func(rt *rapid.T) {
		d := rapid.SampledFrom(defs).Draw(rt, "procedure")
		opener := b.entity
		if len(d.StartRoles) > 0 {
			opener = b.steward
		}
		var data map[string]any
		if d.StartForm != "" {
			f, _ := d.Form(d.StartForm)
			data = sample(f)
		}
		c, err := b.engine.Open(ctx, opener, procedure.OpenInput{Short: d.Short, Data: data})
		require.NoError(rt, err)

		var actions []string
		for _, tr := range d.Transitions {
			actions = append(actions, tr.Action)
		}
		actions = append(actions, "accion_inventada")
		n := rapid.IntRange(1, 12).Draw(rt, "steps")
		for range n {
			actor := rapid.SampledFrom(people).Draw(rt, "actor")
			var action string
			if avail := d.Available(c.State); len(avail) > 0 && rapid.IntRange(0, 9).Draw(rt, "bias") < 7 {
				action = rapid.SampledFrom(avail).Draw(rt, "available").Action
			} else {
				action = rapid.SampledFrom(actions).Draw(rt, "any")
			}
			in := procedure.ActInput{Action: action, LockVersion: c.LockVersion}
			if rapid.IntRange(0, 9).Draw(rt, "stale") == 0 {
				in.LockVersion--
			}
			if rapid.Bool().Draw(rt, "observations") {
				in.Observations = "Observación"
			}
			switch rapid.IntRange(0, 2).Draw(rt, "data") {
			case 1:
				if tr, ok := d.Transition(c.State, action); ok && tr.Form != "" {
					f, _ := d.Form(tr.Form)
					in.Data = sample(f)
				}
			case 2:
				in.Data = map[string]any{"campo_raro": 1.0}
			}

			before := c
			roles, err := b.engine.Roles(ctx, actor, before)
			require.NoError(rt, err)
			c, err = b.engine.Act(ctx, actor, before.Folio, in)
			if err != nil {
				var r *procedure.Refusal
				require.True(rt, errors.As(err, &r), "only refusals, got %v", err)
				now, err := b.engine.Get(ctx, before.Folio)
				require.NoError(rt, err)
				require.Equal(rt, before.State, now.State, "a refusal changes nothing")
				require.Equal(rt, before.LockVersion, now.LockVersion, "a refusal changes nothing")
				require.Equal(rt, before.Data, now.Data, "a refusal changes nothing")
				c = now
				continue
			}
			tr, ok := d.Transition(before.State, action)
			require.True(rt, ok, "%s is not allowed from %s", action, before.State)
			require.Equal(rt, tr.To, c.State)
			require.True(rt, slices.ContainsFunc(roles, func(r string) bool { return slices.Contains(tr.Roles, r) }),
				"%s took %s without a role for it", actor.Login, action)
			require.Equal(rt, before.LockVersion+1, c.LockVersion)
			_, known := d.State(c.State)
			require.True(rt, known)
		}
		hist, err := b.engine.History(ctx, c)
		require.NoError(rt, err)
		replayed, err := procedure.Replay(d, hist)
		require.NoError(rt, err)
		require.Equal(rt, c.State, replayed)
	})
}
