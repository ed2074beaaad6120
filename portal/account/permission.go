package account

// Permission is something a user may do. Some are scoped by dependencia: a
// Publicador holds them only for objects of his own dependencia.
type Permission string

// The permissions of the portal. Handlers check them on the server for every
// page and API call; the navigation only hides what would be refused anyway.
const (
	// ManageUsers: register, edit, deactivate users, resend the welcome e-mail.
	ManageUsers Permission = "users.manage"
	// ViewAudit: browse the bitácora.
	ViewAudit Permission = "audit.view"
	// ManageCatalogs: register a catalog and edit its details (scoped).
	ManageCatalogs Permission = "catalogs.manage"
	// ReviewCatalogs: review, approve and publish catalogs.
	ReviewCatalogs Permission = "catalogs.review"
	// LoadCatalogs: start loads of a catalog's data (scoped).
	LoadCatalogs Permission = "catalogs.load"
	// ManageConnectors: register and change connectors (scoped).
	ManageConnectors Permission = "connectors.manage"
	// ReadInternal: read what is not public (drafts, runs, reports, connector health).
	ReadInternal Permission = "internal.read"
)

// Permissions lists every permission.
var Permissions = []Permission{ManageUsers, ViewAudit, ManageCatalogs, ReviewCatalogs, LoadCatalogs, ManageConnectors, ReadInternal}

// Name is the permission's Spanish description.
func (p Permission) Name() string {
	switch p {
	case ManageUsers:
		return "administrar usuarios"
	case ViewAudit:
		return "consultar la bitácora"
	case ManageCatalogs:
		return "registrar y editar catálogos"
	case ReviewCatalogs:
		return "revisar y publicar catálogos"
	case LoadCatalogs:
		return "cargar datos de catálogos"
	case ManageConnectors:
		return "administrar conectores"
	case ReadInternal:
		return "consultar información interna"
	}
	return string(p)
}

// scoped are the permissions a Publicador holds for his own dependencia only.
func (p Permission) scoped() bool {
	switch p {
	case ManageCatalogs, LoadCatalogs, ManageConnectors:
		return true
	}
	return false
}

// Can reports whether u may exercise p on an object of dependencia
// dependenciaID. A nil dependenciaID asks about objects of any dependencia
// (or of none), which a Publicador's scoped permissions do not cover. A nil
// or deactivated user can do nothing.
func (u *User) Can(p Permission, dependenciaID *int64) bool {
	if u == nil || !u.Active {
		return false
	}
	switch u.Profile {
	case SuperAdmin, Admin:
		return true
	case Publicador:
		if p == ReadInternal {
			return true
		}
		return p.scoped() && dependenciaID != nil && u.DependenciaID != nil && *dependenciaID == *u.DependenciaID
	case Consulta:
		return p == ReadInternal
	}
	return false
}

// Holds reports whether u may exercise p on at least some objects (for a
// Publicador, those of his dependencia). Routes are gated with it; handlers
// then ask Can with the object's dependencia.
func (u *User) Holds(p Permission) bool {
	if u == nil {
		return false
	}
	return u.Can(p, u.DependenciaID) || u.Can(p, nil)
}

// CanAssign reports whether u may give a user profile p: only a Super
// Administrador creates Super Administradores.
func (u *User) CanAssign(p Profile) bool {
	if !u.Can(ManageUsers, nil) {
		return false
	}
	return p != SuperAdmin || u.Profile == SuperAdmin
}

// CanEdit reports whether u may change target: only a Super Administrador
// edits a Super Administrador.
func (u *User) CanEdit(target User) bool {
	return u.CanAssign(target.Profile)
}
