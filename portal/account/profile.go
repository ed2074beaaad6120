package account

// Profile is what a user may do; the codes are stored, the names shown.
type Profile string

// The four profiles of the manual's procedure MP-DGTIT-DAID-GGD-GUP-1.6.
const (
	SuperAdmin Profile = "superadmin"
	Admin      Profile = "admin"
	Publicador Profile = "publicador"
	Consulta   Profile = "consulta"
)

// Profiles lists every profile, most powerful first.
var Profiles = []Profile{SuperAdmin, Admin, Publicador, Consulta}

// Name is the profile's Spanish name, as the manual writes it.
func (p Profile) Name() string {
	switch p {
	case SuperAdmin:
		return "Super Administrador"
	case Admin:
		return "Administrador"
	case Publicador:
		return "Publicador"
	case Consulta:
		return "Consulta"
	}
	return string(p)
}

// Valid reports whether p is one of the four profiles.
func (p Profile) Valid() bool {
	switch p {
	case SuperAdmin, Admin, Publicador, Consulta:
		return true
	}
	return false
}
