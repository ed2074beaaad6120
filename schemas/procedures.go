package schemas

import (
	"embed"
	"io/fs"
)

//go:embed procedures/*.yaml
var procedures embed.FS

//go:embed calendar/*.yaml
var calendars embed.FS

// Procedures returns the procedure definitions (one YAML file per
// procedure of the manual), read by catalog/procedure.Load.
func Procedures() fs.FS {
	sub, err := fs.Sub(procedures, "procedures")
	if err != nil {
		panic(err) // the directory is embedded above
	}
	return sub
}

// Calendar returns the default working-day calendar (calendar/gto.yaml).
func Calendar() []byte {
	b, err := calendars.ReadFile("calendar/gto.yaml")
	if err != nil {
		panic(err) // the file is embedded above
	}
	return b
}
