package procedure

import (
	"maps"

	"github.com/dgtit-gto/gobdatos/migrations/pgdb"
)

// OnDB returns an engine like e that works on db, typically a transaction
// of the caller's: an action taken through it commits or rolls back together
// with what the caller does around it (GUP-1.6 applies the requested user
// changes and takes «usuarios_gestionados» as one). A new field of Engine
// must be copied here too.
func (e *Engine) OnDB(db pgdb.DBTX) *Engine {
	e.mu.Lock()
	defer e.mu.Unlock()
	return &Engine{db: db, registry: e.registry, calendar: e.calendar, BaseURL: e.BaseURL, Now: e.Now,
		stored: maps.Clone(e.stored), checks: e.checks, effects: e.effects, platform: e.platform}
}
