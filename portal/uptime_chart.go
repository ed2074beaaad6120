package portal

import (
	"fmt"
	"html/template"
	"strings"
	"time"

	"github.com/dgtit-gto/gobdatos/pipeline/health"
)

// Colours of an uptime bar by the share of successful checks.
const (
	barAllOK   = "#2e7d32" // every check succeeded
	barMostly  = "#f9a825" // 95 % or more
	barPartly  = "#ef6c00" // 50 % or more
	barDown    = "#c62828" // less than half
	barNoCheck = "#cfd8dc" // no checks in the slice
)

func barColour(b health.Bucket) (colour, label string) {
	r, ok := b.Ratio()
	switch {
	case !ok:
		return barNoCheck, "sin revisiones"
	case r >= 1:
		colour = barAllOK
	case r >= 0.95:
		colour = barMostly
	case r >= 0.5:
		colour = barPartly
	default:
		colour = barDown
	}
	return colour, fmt.Sprintf("%.1f %% disponible (%d de %d revisiones)", r*100, b.OK, b.Checks)
}

// uptimeSVG draws one bar per bucket, oldest at the left, coloured by the
// share of successful checks; each bar's title says its time and figures.
// layout formats the bucket's start in the title (e.g. "02/01 15:04").
func uptimeSVG(id, caption string, buckets []health.Bucket, layout string) template.HTML {
	const barW, gap, height = 8, 2, 28
	width := len(buckets)*(barW+gap) - gap
	if width < 0 {
		width = 0
	}
	loc := mexicoCity()
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="grafica-disponibilidad" id="%s" role="img" width="%d" height="%d" viewBox="0 0 %d %d" xmlns="http://www.w3.org/2000/svg">`,
		template.HTMLEscapeString(id), width, height, width, height)
	fmt.Fprintf(&b, `<title>%s</title>`, template.HTMLEscapeString(caption))
	for i, bk := range buckets {
		colour, label := barColour(bk)
		fmt.Fprintf(&b, `<rect x="%d" y="0" width="%d" height="%d" rx="1" fill="%s"><title>%s: %s</title></rect>`,
			i*(barW+gap), barW, height, colour, bk.Start.In(loc).Format(layout), template.HTMLEscapeString(label))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) // every interpolated text is escaped above
}

// Chart spans: one bar per hour of the last day, one per day of the last month.
var chartSpans = []struct {
	Name   string
	Step   time.Duration
	N      int
	Layout string
}{
	{"24h", time.Hour, 24, "02/01 15:04"},
	{"30d", 24 * time.Hour, 30, "02/01/2006"},
}
