package procedure

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dgtit-gto/gobdatos/catalog/audit"
	"github.com/dgtit-gto/gobdatos/migrations/pgdb"
)

// GrantableRole is a puesto the procedures give by grant (kind granted),
// with the procedures that name it.
type GrantableRole struct {
	ID   string
	Name string
	// Procedures are the Short keys of the procedures that use it.
	Procedures []string
	// Profiles hold it without a grant.
	Profiles []string
}

// GrantableRoles lists the granted roles of the newest version of every
// procedure, by id.
func (r *Registry) GrantableRoles() []GrantableRole {
	byID := map[string]*GrantableRole{}
	for _, d := range r.All() {
		for _, role := range d.Roles {
			if role.Kind != RoleGranted {
				continue
			}
			g, ok := byID[role.ID]
			if !ok {
				g = &GrantableRole{ID: role.ID, Name: role.Name}
				byID[role.ID] = g
			}
			g.Procedures = append(g.Procedures, d.Short)
			for _, p := range role.Profiles {
				if !slices.Contains(g.Profiles, p) {
					g.Profiles = append(g.Profiles, p)
				}
			}
		}
	}
	out := make([]GrantableRole, 0, len(byID))
	for _, g := range byID {
		out = append(out, *g)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// grantable refuses a role no loaded procedure gives by grant.
func (e *Engine) grantable(role string) error {
	roles := e.registry.GrantableRoles()
	if slices.ContainsFunc(roles, func(g GrantableRole) bool { return g.ID == role }) {
		return nil
	}
	ids := make([]string, len(roles))
	for i, g := range roles {
		ids[i] = g.ID
	}
	return refuse(CodeInvalidData, "El puesto %q no se otorga en ningún procedimiento (puestos: %s).", role, strings.Join(ids, ", "))
}

// RoleGrant is a puesto given to a user.
type RoleGrant struct {
	UserID    int64     `json:"user_id"`
	Login     string    `json:"login"`
	FullName  string    `json:"full_name"`
	Profile   string    `json:"profile"`
	Active    bool      `json:"active"`
	Role      string    `json:"role"`
	GrantedBy string    `json:"granted_by"`
	GrantedAt time.Time `json:"granted_at"`
}

// Grants lists every puesto given, by role and login.
func (e *Engine) Grants(ctx context.Context) ([]RoleGrant, error) {
	rows, err := e.db.Query(ctx, `
		SELECT u.id, u.login, u.full_name, u.profile, u.active, g.role, g.granted_by, g.granted_at
		FROM meta.procedure_role_grant g JOIN meta.app_user u ON u.id = g.user_id
		ORDER BY g.role, u.login`)
	if err != nil {
		return nil, fmt.Errorf("procedure: grants: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (RoleGrant, error) {
		var g RoleGrant
		err := r.Scan(&g.UserID, &g.Login, &g.FullName, &g.Profile, &g.Active, &g.Role, &g.GrantedBy, &g.GrantedAt)
		return g, err
	})
	if err != nil {
		return nil, fmt.Errorf("procedure: grants: %w", err)
	}
	return out, nil
}

// Revoke takes a puesto away from a user; ErrNotFound when he did not
// hold it by grant.
func (e *Engine) Revoke(ctx context.Context, by audit.Actor, userID int64, role string) error {
	return pgdb.WithTx(ctx, e.db, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM meta.procedure_role_grant WHERE user_id = $1 AND role = $2`, userID, role)
		if err != nil {
			return fmt.Errorf("procedure: revoke %s: %w", role, err)
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("procedure: revoke %s of %d: %w", role, userID, ErrNotFound)
		}
		return audit.Record(ctx, tx, audit.Entry{Actor: by, Action: "procedure.revoke",
			ObjectType: "user", ObjectID: fmt.Sprint(userID), Detail: map[string]any{"rol": role}})
	})
}
