package procedure_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dgtit-gto/gobdatos/catalog/procedure"
)

func TestCalendarBusinessTime(t *testing.T) {
	t.Parallel()
	_, cal := loadShipped(t)
	tests := []struct {
		name     string
		from, to string
		want     time.Duration
	}{
		{"same morning", "2026-11-25 10:00", "2026-11-25 12:30", 150 * time.Minute},
		{"before opening counts from 9", "2026-11-25 07:00", "2026-11-25 10:00", time.Hour},
		{"overnight", "2026-11-25 16:00", "2026-11-26 10:00", 2 * time.Hour},
		{"over a weekend", "2026-11-27 16:00", "2026-11-30 10:00", 2 * time.Hour},
		{"over a holiday (Día de la Revolución, 16 nov 2026)", "2026-11-13 16:00", "2026-11-17 10:00", 2 * time.Hour},
		{"a whole week", "2026-11-23 00:00", "2026-11-30 00:00", 40 * time.Hour},
		{"backwards", "2026-11-25 12:00", "2026-11-25 10:00", 0},
	}
	for _, tc := range tests {
		require.Equal(t, tc.want, cal.Between(at(cal, tc.from), at(cal, tc.to)), tc.name)
	}
	// Add is Between's inverse.
	require.Equal(t, at(cal, "2026-11-17 10:00"), cal.Add(at(cal, "2026-11-13 16:00"), 2*time.Hour))
	require.Equal(t, at(cal, "2026-11-30 17:00"), cal.Add(at(cal, "2026-11-27 17:00"), 8*time.Hour))
	require.False(t, cal.IsWorkingDay(at(cal, "2026-12-25 10:00")))
	require.Equal(t, 8*time.Hour, cal.DayLength())
}

func TestParseCalendarErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ src, want string }{
		{"zone: Marte/Olympus\nworkday: {start: '09:00', end: '17:00'}\nweekdays: [1]\n", "la zona"},
		{"zone: America/Mexico_City\nworkday: {start: '18:00', end: '17:00'}\nweekdays: [1]\n", "antes de empezar"},
		{"zone: America/Mexico_City\nworkday: {start: '09:00', end: '17:00'}\nweekdays: [8]\n", "día de la semana 8"},
		{"zone: America/Mexico_City\nworkday: {start: '09:00', end: '17:00'}\nweekdays: [1]\nholidays: [{date: 31/12/2026, name: x}]\n", "fecha \"31/12/2026\""},
	}
	for _, tc := range tests {
		_, err := procedure.ParseCalendar("cal.yaml", []byte(tc.src))
		require.ErrorContains(t, err, tc.want)
		require.ErrorContains(t, err, "cal.yaml")
	}
}

// The adoption clock runs while the steward works and stops while the
// request waits on the requester.
func TestClocksPauseWhileWaiting(t *testing.T) {
	t.Parallel()
	reg, cal := loadShipped(t)
	d, _ := reg.Latest("ADC-1.3")
	events := []procedure.Event{
		{Seq: 1, Action: procedure.ActionOpen, To: "recibida", At: at(cal, "2026-11-25 09:00")},
		{Seq: 2, Action: "solicitar_informacion", From: "recibida", To: "informacion_solicitada", At: at(cal, "2026-11-25 11:00")},
		{Seq: 3, Action: "completar_solicitud", From: "informacion_solicitada", To: "recibida", At: at(cal, "2026-11-27 15:00")},
		{Seq: 4, Action: procedure.ActionAssign, To: "recibida", At: at(cal, "2026-11-27 16:00")},
	}
	clocks := cal.Clocks(d, events, at(cal, "2026-11-30 10:00"))
	require.Len(t, clocks, 1)
	c := clocks[0]
	// 2 h on the 25th, 2 h on the 27th (15–17), 1 h on the 30th.
	require.Equal(t, 5*time.Hour, c.Elapsed)
	require.True(t, c.Running)
	require.InDelta(t, 62.5, c.Percent, 0.01)
	require.Equal(t, at(cal, "2026-11-30 13:00"), c.Due)
	require.Equal(t, "5 h", c.ElapsedText)
	require.Equal(t, "1 día", c.TargetText)

	state, err := procedure.Replay(d, events)
	require.NoError(t, err)
	require.Equal(t, "recibida", state)
	_, err = procedure.Replay(d, append(events, procedure.Event{Seq: 5, Action: "informar_atendida", From: "recibida", To: "atendida"}))
	require.Error(t, err)
}
