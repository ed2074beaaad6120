package catalog

import (
	"time"

	"github.com/dgtit-gto/gobdatos/catalog/tableschema"
	"github.com/dgtit-gto/gobdatos/portal/account"
)

// Schema is where catalog tables live; HistSchema keeps their history.
const (
	Schema     = "cat"
	HistSchema = "hist"
)

// State is a catalog's place in its lifecycle.
type State string

// The lifecycle states.
const (
	Borrador         State = "borrador"
	EnRevision       State = "en_revision"
	ConObservaciones State = "con_observaciones"
	Aprobado         State = "aprobado"
	Publicado        State = "publicado"
	Retirado         State = "retirado"
)

// States lists the states in lifecycle order.
var States = []State{Borrador, EnRevision, ConObservaciones, Aprobado, Publicado, Retirado}

// Valid reports whether s is one of the states.
func (s State) Valid() bool {
	for _, x := range States {
		if s == x {
			return true
		}
	}
	return false
}

// Name is the state as people read it.
func (s State) Name() string {
	switch s {
	case Borrador:
		return "borrador"
	case EnRevision:
		return "en revisión"
	case ConObservaciones:
		return "con observaciones"
	case Aprobado:
		return "aprobado"
	case Publicado:
		return "publicado"
	case Retirado:
		return "retirado"
	}
	return string(s)
}

// Actor is who acts on a catalog. UserID 0 is the platform itself.
type Actor struct {
	UserID        int64
	Login         string
	Profile       account.Profile
	DependenciaID *int64
}

// System is the actor of scheduled and start-up work: it may do anything.
func System() Actor { return Actor{Login: "sistema", Profile: account.SuperAdmin} }

// idPtr is the actor's user id for columns that reference meta.app_user.
func (a Actor) idPtr() *int64 {
	if a.UserID == 0 {
		return nil
	}
	id := a.UserID
	return &id
}

func (a Actor) login() string {
	if a.Login == "" {
		return "sistema"
	}
	return a.Login
}

// Origin says whether the catalog is the directorate's own or adopted from
// an external entity.
type Origin string

// The origins.
const (
	Interno  Origin = "interno"
	Adoptado Origin = "adoptado"
)

// Metadata is what F-DGTIT-DAID-GGD-4 asks of a catalog besides its
// definition.
type Metadata struct {
	Steward         string   `json:"steward"`       // responsable del catálogo
	StewardEmail    string   `json:"steward_email"` // su correo
	Keywords        []string `json:"keywords"`
	License         string   `json:"license"`
	Origin          Origin   `json:"origin"`           // interno / adoptado
	OriginEntity    string   `json:"origin_entity"`    // the external entity, when adoptado
	UpdateMechanism string   `json:"update_mechanism"` // e.g. "conector", "carga de archivo", "acceso directo"
	Periodicity     string   `json:"periodicity"`      // e.g. "mensual", "anual", "irregular"
}

// Catalog is one registered catalog.
type Catalog struct {
	ID          int64
	Clave       string // URL slug: tipo-vialidad
	Title       string
	Description string
	Table       string // unqualified name in schema cat
	State       State
	// Resource is the definition, the one source of truth of the data
	// dictionary, the DDL and load validation.
	Resource      *tableschema.Resource
	DependenciaID int64
	// PublishValidRows is the steward's opt-in: a load with invalid rows
	// publishes the valid ones and reports the rest.
	PublishValidRows bool
	CurrentVersion   int // 0 = no data published yet
	Metadata
	HasInstructivo bool // a hand-made PDF was uploaded
	// Revision is the pending revision of a published catalog, if any
	// (filled by ByClave).
	Revision    *Revision
	CreatedBy   string
	CreatedAt   time.Time
	UpdatedAt   time.Time
	PublishedAt *time.Time
}

// Public reports whether the catalog's data may be shown to anyone.
func (c *Catalog) Public() bool { return c.State == Publicado }

// NewCatalog is what Create needs.
type NewCatalog struct {
	Resource tableschema.Resource
	// Clave defaults to the table name without cat_, underscores as hyphens.
	Clave string
	// Title and Description default to the definition's.
	Title, Description string
	DependenciaID      int64
	PublishValidRows   bool
	Metadata
	// Publish bootstraps a published catalog (Super Administrador only).
	Publish bool
}

// ListFilter narrows List; zero values match everything.
type ListFilter struct {
	State         State
	DependenciaID int64
	// PublicOnly keeps published catalogs only (what anonymous readers see).
	PublicOnly bool
	Search     string // in clave, title, description and keywords
}

// Version is one publication of a catalog's data.
type Version struct {
	Number                        int
	Rows, Added, Changed, Removed int64
	Checksum                      string
	// Unchanged: the load matched the current version; no version was made
	// (Number is then the current one).
	Unchanged bool
	By        string
	At        time.Time
	RunID     *int64
}

// DiffKind says how a row differs between two versions.
type DiffKind string

// The kinds of difference.
const (
	Added   DiffKind = "added"
	Changed DiffKind = "changed"
	Removed DiffKind = "removed"
)

// DiffRow is one key that differs between two versions. Old is nil for an
// added row, New for a removed one; both hold the definition's columns.
type DiffRow struct {
	Kind DiffKind
	Key  []any
	Old  []any
	New  []any
}
