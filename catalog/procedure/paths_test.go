package procedure_test

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dgtit-gto/gobdatos/catalog/procedure"
	"github.com/dgtit-gto/gobdatos/catalog/procedure/proceduretest"
)

// node is a case's state plus which forms it holds, since an action may
// need fields of a form that an earlier action submits.
type node struct {
	state string
	forms string // sorted, comma-separated form ids
}

type step struct {
	t    procedure.Transition
	from string
}

func formsAfter(forms string, t procedure.Transition) string {
	set := strings.Split(forms, ",")
	if t.Form != "" && !slices.Contains(set, t.Form) {
		set = append(set, t.Form)
	}
	set = slices.DeleteFunc(set, func(s string) bool { return s == "" })
	sort.Strings(set)
	return strings.Join(set, ",")
}

func enabled(forms string, t procedure.Transition) bool {
	have := strings.Split(formsAfter(forms, t), ",")
	for _, r := range t.Requires {
		form, _, _ := strings.Cut(r, ".")
		if !slices.Contains(have, form) {
			return false
		}
	}
	return true
}

// shortest finds the fewest steps from start to a node accepted by goal.
func shortest(d *procedure.Definition, start node, goal func(node) bool) ([]step, node, bool) {
	type item struct {
		n    node
		path []step
	}
	seen := map[node]bool{start: true}
	queue := []item{{n: start}}
	for len(queue) > 0 {
		it := queue[0]
		queue = queue[1:]
		if goal(it.n) {
			return it.path, it.n, true
		}
		for _, t := range d.Available(it.n.state) {
			if !enabled(it.n.forms, t) {
				continue
			}
			next := node{state: t.To, forms: formsAfter(it.n.forms, t)}
			if seen[next] {
				continue
			}
			seen[next] = true
			queue = append(queue, item{n: next, path: append(slices.Clone(it.path), step{t: t, from: it.n.state})})
		}
	}
	return nil, node{}, false
}

// plans returns, for every transition and every state it leaves, a walk
// from the start through that transition to a final state: together they
// take every action and both answers of every decision.
func plans(t *testing.T, d *procedure.Definition) map[string][]step {
	start := node{state: d.Initial, forms: d.StartForm}
	out := map[string][]step{}
	for _, tr := range d.Transitions {
		for _, from := range tr.From {
			pre, at, ok := shortest(d, start, func(n node) bool { return n.state == from && enabled(n.forms, tr) })
			require.True(t, ok, "%s: no way to take %s from %s", d.Short, tr.Action, from)
			after := node{state: tr.To, forms: formsAfter(at.forms, tr)}
			post, _, ok := shortest(d, after, func(n node) bool {
				s, _ := d.State(n.state)
				return s.Final
			})
			require.True(t, ok, "%s: no way to a final state after %s", d.Short, tr.Action)
			path := append(append(pre, step{t: tr, from: from}), post...)
			out[fmt.Sprintf("%s_from_%s", tr.Action, from)] = path
		}
	}
	return out
}

// Every procedure's flow, every action and every decision's answers,
// walked on the engine by the people the manual names.
func TestEveryPathOfEveryProcedure(t *testing.T) {
	t.Parallel()
	reg, _ := loadShipped(t)
	want := []string{"AAM-1.2", "ADC-1.3", "ALC-1.4", "ARR-1.1", "GUP-1.6", "MCC-1.5"}
	var got []string
	for _, d := range reg.All() {
		got = append(got, d.Short)
	}
	require.Equal(t, want, got)

	for _, d := range reg.All() {
		t.Run(d.Short, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			ctx := context.Background()
			answers := map[string][]string{}
			n := 0
			for name, path := range plans(t, d) {
				n++
				fill := pathData(t, b, n)
				opener := b.entity
				if len(d.StartRoles) > 0 {
					opener = b.steward
				}
				var data map[string]any
				if d.StartForm != "" {
					f, _ := d.Form(d.StartForm)
					data = fill(f.ID, sample(f))
				}
				c, err := b.engine.Open(ctx, opener, procedure.OpenInput{Short: d.Short, Data: data})
				require.NoError(t, err, name)
				for _, s := range path {
					require.Equal(t, s.from, c.State, name)
					var in procedure.ActInput
					in.Action, in.LockVersion, in.Observations = s.t.Action, c.LockVersion, "Observación de "+s.t.Action
					if s.t.Form != "" {
						f, _ := d.Form(s.t.Form)
						in.Data = fill(f.ID, sample(f))
					}
					if slices.ContainsFunc(s.t.Effects, func(e procedure.EffectRef) bool { return e.Effect == procedure.EffectConnectivity }) {
						connectorCredentials(t, b, c)
						proceduretest.CheckConnectivity(t, b.engine, b.pool, c.Folio)
					}
					actor := b.steward
					roles, err := b.engine.Roles(ctx, b.steward, c)
					require.NoError(t, err)
					if !slices.ContainsFunc(roles, func(r string) bool { return slices.Contains(s.t.Roles, r) }) {
						actor = b.entity
					}
					var before int
					require.NoError(t, b.pool.QueryRow(ctx, `SELECT count(*) FROM meta.outbox`).Scan(&before))
					c, err = b.engine.Act(ctx, actor, c.Folio, in)
					require.NoError(t, err, "%s: %s by %s", name, s.t.Action, actor.Login)
					require.Equal(t, s.t.To, c.State, name)
					assertEffects(t, b, c, s.t, name)
					if len(s.t.Notify) > 0 {
						var after int
						require.NoError(t, b.pool.QueryRow(ctx, `SELECT count(*) FROM meta.outbox`).Scan(&after))
						require.Greater(t, after, before, "%s: %s notifies %v", name, s.t.Action, s.t.Notify)
					}
					if s.t.Decision != "" {
						answers[s.t.Decision] = append(answers[s.t.Decision], s.t.Answer)
					}
					if s.t.Handoff != "" {
						children, err := b.engine.List(ctx, procedure.Filter{})
						require.NoError(t, err)
						require.True(t, slices.ContainsFunc(children, func(x *procedure.Case) bool { return x.ParentFolio == c.Folio }),
							"%s: %s opens the procedure that follows", name, s.t.Action)
					}
				}
				final, _ := d.State(c.State)
				require.True(t, final.Final, name)
				require.NotNil(t, c.ClosedAt, name)
				hist, err := b.engine.History(ctx, c)
				require.NoError(t, err)
				replayed, err := procedure.Replay(d, hist)
				require.NoError(t, err, name)
				require.Equal(t, c.State, replayed, name)
			}
			// Both answers of every decision were taken.
			for q, as := range answers {
				require.Contains(t, as, "Sí", q)
				require.Contains(t, as, "No", q)
			}
		})
	}
}
