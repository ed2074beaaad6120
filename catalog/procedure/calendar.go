package procedure

import (
	"bytes"
	"fmt"
	"slices"
	"sort"
	"time"

	"go.yaml.in/yaml/v3"
)

// Calendar is the working-day calendar procedure clocks count on: working
// hours on working weekdays, holidays excluded.
type Calendar struct {
	Location *time.Location
	// Start and End are the working hours, as offsets from midnight.
	Start, End time.Duration
	Weekdays   []time.Weekday
	// Holidays maps "2006-01-02" to the holiday's name.
	Holidays map[string]string
}

type calendarFile struct {
	Zone    string `yaml:"zone"`
	Workday struct {
		Start string `yaml:"start"`
		End   string `yaml:"end"`
	} `yaml:"workday"`
	Weekdays []int `yaml:"weekdays"`
	Holidays []struct {
		Date string `yaml:"date"`
		Name string `yaml:"name"`
	} `yaml:"holidays"`
}

// ParseCalendar reads a calendar file (see schemas/calendar/gto.yaml).
func ParseCalendar(file string, b []byte) (*Calendar, error) {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	var f calendarFile
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("calendario %s: YAML no válido: %w", file, err)
	}
	loc, err := time.LoadLocation(f.Zone)
	if err != nil {
		return nil, fmt.Errorf("calendario %s: la zona %q no existe: %w", file, f.Zone, err)
	}
	c := &Calendar{Location: loc, Holidays: map[string]string{}}
	if c.Start, err = clockTime(f.Workday.Start); err != nil {
		return nil, fmt.Errorf("calendario %s: workday.start: %w", file, err)
	}
	if c.End, err = clockTime(f.Workday.End); err != nil {
		return nil, fmt.Errorf("calendario %s: workday.end: %w", file, err)
	}
	if c.End <= c.Start {
		return nil, fmt.Errorf("calendario %s: la jornada termina (%s) antes de empezar (%s)", file, f.Workday.End, f.Workday.Start)
	}
	if len(f.Weekdays) == 0 {
		return nil, fmt.Errorf("calendario %s: falta «weekdays»", file)
	}
	for _, w := range f.Weekdays {
		if w < 1 || w > 7 {
			return nil, fmt.Errorf("calendario %s: día de la semana %d no válido (1 = lunes … 7 = domingo)", file, w)
		}
		c.Weekdays = append(c.Weekdays, time.Weekday(w%7))
	}
	for i, h := range f.Holidays {
		d, err := time.Parse("2006-01-02", h.Date)
		if err != nil {
			return nil, fmt.Errorf("calendario %s: día inhábil %d: fecha %q no válida (AAAA-MM-DD)", file, i+1, h.Date)
		}
		c.Holidays[d.Format("2006-01-02")] = h.Name
	}
	return c, nil
}

func clockTime(s string) (time.Duration, error) {
	t, err := time.Parse("15:04", s)
	if err != nil {
		return 0, fmt.Errorf("hora %q no válida (HH:MM)", s)
	}
	return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute, nil
}

// DayLength is how long one working day is.
func (c *Calendar) DayLength() time.Duration { return c.End - c.Start }

// IsWorkingDay reports whether the calendar day of t is a working day.
func (c *Calendar) IsWorkingDay(t time.Time) bool {
	t = t.In(c.Location)
	if !slices.Contains(c.Weekdays, t.Weekday()) {
		return false
	}
	_, holiday := c.Holidays[t.Format("2006-01-02")]
	return !holiday
}

// Between is the working time between a and b (zero when b is not after a).
func (c *Calendar) Between(a, b time.Time) time.Duration {
	if !b.After(a) {
		return 0
	}
	a, b = a.In(c.Location), b.In(c.Location)
	var total time.Duration
	for day := midnight(a); day.Before(b); day = day.AddDate(0, 0, 1) {
		if !c.IsWorkingDay(day) {
			continue
		}
		from, to := day.Add(c.Start), day.Add(c.End)
		if a.After(from) {
			from = a
		}
		if b.Before(to) {
			to = b
		}
		if to.After(from) {
			total += to.Sub(from)
		}
	}
	return total
}

// Add returns the moment when d of working time has passed since t.
func (c *Calendar) Add(t time.Time, d time.Duration) time.Time {
	t = t.In(c.Location)
	for day := midnight(t); ; day = day.AddDate(0, 0, 1) {
		if !c.IsWorkingDay(day) {
			continue
		}
		from, to := day.Add(c.Start), day.Add(c.End)
		if t.After(from) {
			from = t
		}
		if !to.After(from) {
			continue
		}
		if avail := to.Sub(from); d <= avail {
			return from.Add(d)
		} else {
			d -= avail
		}
	}
}

// HolidayList returns the holidays in order, for `gobdatos procedure holidays`.
func (c *Calendar) HolidayList() [][2]string {
	out := make([][2]string, 0, len(c.Holidays))
	for d, n := range c.Holidays {
		out = append(out, [2]string{d, n})
	}
	sort.Slice(out, func(i, j int) bool { return out[i][0] < out[j][0] })
	return out
}

func midnight(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, t.Location())
}
