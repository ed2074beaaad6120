package procedure

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Replay walks a case's history through its definition and returns the
// state it leads to. Every line must be an action the definition allows
// from the state the previous line left; the first opens the case.
func Replay(d *Definition, events []Event) (string, error) {
	if len(events) == 0 {
		return "", fmt.Errorf("procedure: replay %s: empty history", d.Key())
	}
	if events[0].Action != ActionOpen || events[0].To != d.Initial {
		return "", fmt.Errorf("procedure: replay %s: history starts with %s → %s, not %s → %s", d.Key(), events[0].Action, events[0].To, ActionOpen, d.Initial)
	}
	state := d.Initial
	for _, ev := range events[1:] {
		if ev.Action == ActionAssign {
			continue
		}
		t, ok := d.Transition(state, ev.Action)
		if !ok || ev.From != state || t.To != ev.To {
			return "", fmt.Errorf("procedure: replay %s: event %d (%s: %s → %s) is not allowed from %s", d.Key(), ev.Seq, ev.Action, ev.From, ev.To, state)
		}
		state = t.To
	}
	return state, nil
}

// ClockStatus is where one clock of a case stands.
type ClockStatus struct {
	ID      string        `json:"id"`
	Label   string        `json:"etiqueta"`
	Target  time.Duration `json:"-"`
	Elapsed time.Duration `json:"-"`
	// Percent of the target used (may pass 100).
	Percent float64 `json:"porcentaje"`
	Running bool    `json:"corriendo"`
	// Due is when the target is reached if the clock keeps running; zero
	// when it is stopped.
	Due     time.Time `json:"vence,omitzero"`
	Natural bool      `json:"natural,omitempty"`
	// TargetText and ElapsedText are for people ("1 día 2 h").
	TargetText  string `json:"objetivo"`
	ElapsedText string `json:"transcurrido"`
}

// span is a stay of the case in one state.
type span struct {
	state    string
	from, to time.Time
}

func spans(events []Event, now time.Time) []span {
	var out []span
	for i, ev := range events {
		if ev.Action == ActionAssign {
			continue
		}
		end := now
		for _, next := range events[i+1:] {
			if next.Action != ActionAssign {
				end = next.At
				break
			}
		}
		out = append(out, span{state: ev.To, from: ev.At, to: end})
	}
	return out
}

// Clocks computes every clock of d over the history at now: time counts
// only while the case is in a clock's running states, in business time
// unless the clock is natural, so pauses (waiting on the requester) are
// not counted.
func (cal *Calendar) Clocks(d *Definition, events []Event, now time.Time) []ClockStatus {
	ss := spans(events, now)
	current := ""
	if len(ss) > 0 {
		current = ss[len(ss)-1].state
	}
	var out []ClockStatus
	for _, ck := range d.Clocks {
		target, _ := ParseDuration(ck.Target, cal.DayLength())
		if ck.Natural {
			target, _ = ParseDuration(ck.Target, 24*time.Hour)
		}
		var elapsed time.Duration
		for _, s := range ss {
			if !slices.Contains(ck.Running, s.state) {
				continue
			}
			if ck.Natural {
				elapsed += s.to.Sub(s.from)
			} else {
				elapsed += cal.Between(s.from, s.to)
			}
		}
		st := ClockStatus{ID: ck.ID, Label: ck.Label, Target: target, Elapsed: elapsed, Natural: ck.Natural,
			Running: slices.Contains(ck.Running, current)}
		if target > 0 {
			st.Percent = float64(elapsed) * 100 / float64(target)
		}
		if st.Running {
			if left := target - elapsed; left > 0 {
				if ck.Natural {
					st.Due = now.Add(left)
				} else {
					st.Due = cal.Add(now, left)
				}
			} else {
				st.Due = now
			}
		}
		day := cal.DayLength()
		if ck.Natural {
			day = 24 * time.Hour
		}
		st.TargetText, st.ElapsedText = HumanDuration(target, day), HumanDuration(elapsed, day)
		out = append(out, st)
	}
	return out
}

// Worked is the business time a case has taken from opening to its close
// (or to now while open).
func (cal *Calendar) Worked(events []Event, closed *time.Time, now time.Time) time.Duration {
	if len(events) == 0 {
		return 0
	}
	end := now
	if closed != nil {
		end = *closed
	}
	return cal.Between(events[0].At, end)
}

// HumanDuration writes d in days (of length day), hours and minutes, in Spanish.
func HumanDuration(d, day time.Duration) string {
	if d <= 0 {
		return "0 min"
	}
	var parts []string
	if n := d / day; n > 0 {
		if n == 1 {
			parts = append(parts, "1 día")
		} else {
			parts = append(parts, fmt.Sprintf("%d días", n))
		}
		d -= n * day
	}
	if h := d / time.Hour; h > 0 {
		parts = append(parts, fmt.Sprintf("%d h", h))
		d -= h * time.Hour
	}
	if m := d / time.Minute; m > 0 && len(parts) < 2 {
		parts = append(parts, fmt.Sprintf("%d min", m))
	}
	if len(parts) == 0 {
		return "menos de 1 min"
	}
	return strings.Join(parts, " ")
}
