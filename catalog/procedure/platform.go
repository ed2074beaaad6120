package procedure

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/dgtit-gto/gobdatos/catalog"
	"github.com/dgtit-gto/gobdatos/catalog/access"
	"github.com/dgtit-gto/gobdatos/catalog/audit"
	"github.com/dgtit-gto/gobdatos/catalog/instructivo"
	"github.com/dgtit-gto/gobdatos/catalog/nomenclature"
	"github.com/dgtit-gto/gobdatos/catalog/tableschema"
	"github.com/dgtit-gto/gobdatos/connectors/keyring"
	"github.com/dgtit-gto/gobdatos/connectors/registry"
	"github.com/dgtit-gto/gobdatos/portal/account"
)

// Platform is what the standard effects act on: the catalog registry (its
// lifecycle, revisions and instructivo), and the keyring that seals the
// secrets of the entities' access and connectors.
type Platform struct {
	Catalogs *catalog.Store
	Keys     *keyring.Keyring
}

// The standard effects (see UsePlatform).
const (
	EffectDraftCatalog   = "catalogo_borrador"
	EffectLinkCatalog    = "catalogo_vincular"
	EffectAdoptCatalog   = "catalogo_adoptar"
	EffectSubmitCatalog  = "catalogo_enviar"
	EffectObserveCatalog = "catalogo_observar"
	EffectApproveCatalog = "catalogo_aprobar"
	EffectPublishCatalog = "catalogo_publicar"
	EffectOpenRevision   = "revision_abrir"
	EffectInstructivo    = "instructivo"
	EffectEntityAccess   = "acceso_entidad"
	EffectConnector      = "conector_entidad"
	EffectConnectivity   = "conectividad"
)

// UsePlatform registers the standard effects on p; call it before Sync.
func (e *Engine) UsePlatform(p Platform) {
	lifecycle := func(action catalog.Action, does string) Effect {
		return Effect{Does: does, Do: func(ctx context.Context, r *EffectRun) error { return p.transition(ctx, r, action) }}
	}
	for name, eff := range map[string]Effect{
		EffectDraftCatalog: {Field: true, Params: []string{"titulo", "descripcion", "campos", "periodicidad"}, Do: p.draftCatalog,
			Does: "crea el catálogo solicitado en borrador (o vincula el que se registró con esa tabla)"},
		EffectLinkCatalog: {Field: true, Do: p.linkCatalog, Does: "vincula el catálogo registrado con esa tabla"},
		EffectAdoptCatalog: {Field: true, Params: []string{"titulo", "descripcion"}, Do: p.adoptCatalog,
			Does: "vincula el catálogo a adoptar o lo registra en borrador, adoptado de la dependencia"},
		EffectSubmitCatalog:  lifecycle(catalog.Submit, "envía el catálogo (o su revisión) a revisión"),
		EffectObserveCatalog: lifecycle(catalog.Observe, "registra las observaciones en el catálogo (o su revisión)"),
		EffectApproveCatalog: lifecycle(catalog.Approve, "aprueba el catálogo (o su revisión)"),
		EffectPublishCatalog: lifecycle(catalog.Publish, "publica el catálogo (o su revisión) en el portal"),
		EffectOpenRevision:   {Field: true, Do: p.openRevision, Does: "abre una revisión del catálogo publicado"},
		EffectInstructivo:    {Do: p.instructivo, Does: "genera el instructivo del catálogo en PDF y lo adjunta"},
		EffectEntityAccess: {Field: true, Params: []string{"rol", "tablas"}, Do: p.entityAccess,
			Does: "otorga a la dependencia su rol de mínimo privilegio sobre las tablas (la contraseña se consulta en el trámite)"},
		EffectConnector: {Field: true, Params: []string{"tipo", "direccion", "objeto", "catalogo"}, Do: p.connector,
			Does: "registra el conector de la entidad (sus credenciales se capturan cifradas en la página del conector)"},
		EffectConnectivity: {Do: connectivity, Does: "exige que la última verificación de conectividad del rol y del conector haya sido correcta"},
	} {
		e.effects[name] = eff
	}
	e.platform = &p
}

// AccessPassword opens, for the entity that filed the case folio (its
// requester or a user of its dependencia), the password of the role an
// F-5 step granted: the one way it is delivered, since it never travels
// in the case, its history, the logs or a mail. Each reading is audited.
func (e *Engine) AccessPassword(ctx context.Context, actor Actor, folio string) (role, password string, err error) {
	c, err := e.Get(ctx, folio)
	if err != nil {
		return "", "", err
	}
	d, err := e.Definition(ctx, c.Short, c.Version)
	if err != nil {
		return "", "", err
	}
	held, err := e.roles(ctx, e.db, d, actor, c)
	if err != nil {
		return "", "", err
	}
	entity := false
	for _, id := range held {
		if r, ok := d.Role(id); ok && r.Kind != RoleGranted {
			entity = true
		}
	}
	if !entity {
		return "", "", refuse(CodeForbidden, "Sólo la entidad que presentó el trámite %s puede consultar la contraseña de su acceso.", c.Folio)
	}
	ls, err := e.Links(ctx, c)
	if err != nil {
		return "", "", err
	}
	for i := len(ls) - 1; i >= 0 && role == ""; i-- {
		if ls[i].Kind == LinkAccess {
			role = ls[i].Ref
		}
	}
	if role == "" || e.platform == nil || e.platform.Keys == nil {
		return "", "", refuse(CodeIllegalAction, "El trámite %s no tiene un acceso a Datosigto otorgado.", c.Folio)
	}
	st := &access.Store{DB: e.db, Keys: e.platform.Keys}
	var id int64
	if err := e.db.QueryRow(ctx, `SELECT id FROM meta.entity_access WHERE role_name = $1 AND revoked_at IS NULL`, role).Scan(&id); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return "", "", refuse(CodeIllegalAction, "El acceso %s del trámite %s fue revocado.", role, c.Folio)
		}
		return "", "", fmt.Errorf("procedure: access of %s: %w", c.Folio, err)
	}
	cred, err := st.Credentials(ctx, id)
	if err != nil {
		return "", "", fmt.Errorf("procedure: access of %s: %w", c.Folio, err)
	}
	if err := audit.Record(ctx, e.db, audit.Entry{Actor: auditActor(actor), Action: "procedure.access_password",
		ObjectType: "entity_access", ObjectID: role, DependenciaID: c.DependenciaID,
		Detail: map[string]any{"tramite": c.Folio}}); err != nil {
		return "", "", err
	}
	return role, cred.Password, nil
}

func catalogActor(a Actor) catalog.Actor {
	out := catalog.Actor{Login: a.Login, Profile: account.Profile(a.Profile), DependenciaID: a.DependenciaID}
	if a.UserID != nil {
		out.UserID = *a.UserID
	}
	return out
}

func auditActor(a Actor) audit.Actor { return audit.Actor{ID: a.UserID, Login: a.Login} }

// refusal turns what the platform refused (a *catalog.Error, an invalid
// access or connector) into the action's refusal; other errors pass.
func refusal(r *EffectRun, err error) error {
	var ce *catalog.Error
	var re *registry.InvalidError
	switch {
	case errors.As(err, &ce):
		msg := ce.Message
		if len(ce.Details) > 0 {
			msg += ": " + strings.Join(ce.Details, "; ")
		}
		return r.Refuse("%s", strings.TrimSuffix(msg, "."))
	case errors.As(err, &re):
		parts := make([]string, len(re.Fields))
		for i, f := range re.Fields {
			parts[i] = f.Message
		}
		return r.Refuse("el conector no es válido: %s", strings.Join(parts, "; "))
	case errors.Is(err, access.ErrInvalid):
		return r.Refuse("%s", strings.TrimPrefix(err.Error(), access.ErrInvalid.Error()+": "))
	}
	return err
}

// linked is the catalog the case's steps created or linked.
func (p Platform) linked(ctx context.Context, r *EffectRun) (*catalog.Catalog, error) {
	l, ok, err := r.Linked(ctx, LinkCatalog)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, r.Refuse("el trámite %s no tiene un catálogo vinculado", r.Case.Folio)
	}
	c, err := p.Catalogs.In(r.Tx).ByClave(ctx, l.Ref)
	if err != nil {
		return nil, refusal(r, err)
	}
	return c, nil
}

// draftCatalog creates the catalog the request asks for as a draft, from
// the case's data: the table named by the field, a key column and one
// text column per proposed field. A draft already registered with that
// table (the coordinator made it by hand) is linked instead.
func (p Platform) draftCatalog(ctx context.Context, r *EffectRun) error {
	store := p.Catalogs.In(r.Tx)
	if existing, err := store.ByTable(ctx, r.Value); err == nil {
		if existing.State != catalog.Borrador && existing.State != catalog.ConObservaciones {
			return r.Refuse("el catálogo cat.%s ya existe y está %s; para cambiarlo use «Modificación de catálogo»", r.Value, existing.State.Name())
		}
		return r.Link(ctx, LinkCatalog, existing.Clave, existing.Title)
	}
	return p.createDraft(ctx, r, catalog.Metadata{Periodicity: strings.ToLower(r.ParamString("periodicidad"))})
}

// adoptCatalog links the registered catalog of the field's table whatever
// its state; when there is none it registers it as a draft adopted from
// the case's dependencia, so that the entity's role can be granted on its
// table and the instructivo written. The steward completes its definition
// on the catalog's page.
func (p Platform) adoptCatalog(ctx context.Context, r *EffectRun) error {
	if existing, err := p.Catalogs.In(r.Tx).ByTable(ctx, r.Value); err == nil {
		return r.Link(ctx, LinkCatalog, existing.Clave, existing.Title)
	}
	if r.Case.DependenciaID == nil {
		return r.Refuse("el trámite %s no tiene dependencia, y el catálogo necesita una", r.Case.Folio)
	}
	var dep string
	if err := r.Tx.QueryRow(ctx, `SELECT nombre FROM meta.dependencia WHERE id = $1`, *r.Case.DependenciaID).Scan(&dep); err != nil {
		return fmt.Errorf("dependencia %d: %w", *r.Case.DependenciaID, err)
	}
	return p.createDraft(ctx, r, catalog.Metadata{Origin: catalog.Adoptado, OriginEntity: dep})
}

// createDraft registers the field's table as a draft catalog of the case's
// dependencia, from the case's data, and links it.
func (p Platform) createDraft(ctx context.Context, r *EffectRun, meta catalog.Metadata) error {
	if r.Case.DependenciaID == nil {
		return r.Refuse("el trámite %s no tiene dependencia, y el catálogo necesita una", r.Case.Folio)
	}
	res := draftResource(r.Value, r.ParamString("titulo"), r.ParamString("descripcion"), r.ParamList("campos"))
	c, err := p.Catalogs.In(r.Tx).Create(ctx, catalogActor(r.Actor), catalog.NewCatalog{
		Resource: res, Title: res.Title, Description: res.Description, DependenciaID: *r.Case.DependenciaID, Metadata: meta,
	})
	if err != nil {
		return refusal(r, err)
	}
	return r.Link(ctx, LinkCatalog, c.Clave, c.Title)
}

// draftResource is the first definition of a requested catalog: the key
// id_<name>, then the proposed fields as text, named by the nomenclature.
func draftResource(table, title, description string, fields []string) tableschema.Resource {
	twenty, long := 20, 250
	base := strings.TrimPrefix(table, "cat_")
	key := "id_" + base
	if title == "" { // "cat_tipo_documento" → "Tipo documento"
		words := strings.ReplaceAll(base, "_", " ")
		title = strings.ToUpper(words[:1]) + words[1:]
	}
	res := tableschema.Resource{Name: table, Title: title, Description: description}
	res.Schema.Fields = []tableschema.Field{{Name: key, Type: "string", Description: "Clave del registro.",
		Constraints: tableschema.Constraints{Required: true, MaxLength: &twenty}}}
	res.Schema.PrimaryKey = tableschema.StringList{key}
	seen := map[string]bool{key: true, "fecha_alta": true, "fecha_modificacion": true, "activo": true}
	for _, f := range fields {
		name := nomenclature.Transliterate(f)
		if name == "" || seen[name] || name[0] < 'a' || name[0] > 'z' || len(name) > 63 {
			continue
		}
		seen[name] = true
		res.Schema.Fields = append(res.Schema.Fields, tableschema.Field{Name: name, Type: "string",
			Description: strings.TrimSuffix(strings.TrimSpace(f), ".") + ".", Constraints: tableschema.Constraints{MaxLength: &long}})
	}
	if len(res.Schema.Fields) == 1 {
		res.Schema.Fields = append(res.Schema.Fields, tableschema.Field{Name: "nombre", Type: "string",
			Description: "Nombre del registro.", Constraints: tableschema.Constraints{Required: true, MaxLength: &long}})
	}
	return res
}

// linkCatalog links the catalog registered with the field's table.
func (p Platform) linkCatalog(ctx context.Context, r *EffectRun) error {
	c, err := p.Catalogs.In(r.Tx).ByTable(ctx, r.Value)
	if err != nil {
		return refusal(r, err)
	}
	return r.Link(ctx, LinkCatalog, c.Clave, c.Title)
}

// transition moves the linked catalog (or its pending revision) through
// the lifecycle as the case's actor, with the action's observations.
func (p Platform) transition(ctx context.Context, r *EffectRun, action catalog.Action) error {
	c, err := p.linked(ctx, r)
	if err != nil {
		return err
	}
	obs := r.Observations
	if obs == "" {
		obs = fmt.Sprintf("Trámite %s: %s.", r.Case.Folio, r.Transition.Label)
	}
	if _, err := p.Catalogs.In(r.Tx).Transition(ctx, catalogActor(r.Actor), c.Clave, action, obs); err != nil {
		return refusal(r, err)
	}
	return nil
}

// openRevision opens a revision of the published catalog of the field's
// table (or links its pending one), which the following steps review,
// approve and publish.
func (p Platform) openRevision(ctx context.Context, r *EffectRun) error {
	store := p.Catalogs.In(r.Tx)
	c, err := store.ByTable(ctx, r.Value)
	if err != nil {
		return refusal(r, err)
	}
	if c.State != catalog.Publicado {
		return r.Refuse("el catálogo cat.%s está %s: sólo se modifica un catálogo publicado", r.Value, c.State.Name())
	}
	c, err = store.ByClave(ctx, c.Clave)
	if err != nil {
		return refusal(r, err)
	}
	if c.Revision == nil {
		if c, err = store.Edit(ctx, catalogActor(r.Actor), c.Clave, catalog.Edit{}); err != nil {
			return refusal(r, err)
		}
	}
	if c.Revision == nil {
		return fmt.Errorf("catalog %s: no revision after edit", c.Clave)
	}
	if err := r.Link(ctx, LinkCatalog, c.Clave, c.Title); err != nil {
		return err
	}
	return r.Link(ctx, LinkRevision, c.Clave+"#"+strconv.Itoa(c.Revision.Number),
		fmt.Sprintf("Revisión %d de %s", c.Revision.Number, c.Title))
}

// instructivo generates the linked catalog's instructivo (PDF) and attaches
// it to the case.
func (p Platform) instructivo(ctx context.Context, r *EffectRun) error {
	c, err := p.linked(ctx, r)
	if err != nil {
		return err
	}
	store := p.Catalogs.In(r.Tx)
	versions, err := store.Versions(ctx, c.ID)
	if err != nil {
		return err
	}
	var dep string
	if err := r.Tx.QueryRow(ctx, `SELECT nombre FROM meta.dependencia WHERE id = $1`, c.DependenciaID).Scan(&dep); err != nil {
		return fmt.Errorf("dependencia of %s: %w", c.Clave, err)
	}
	var buf bytes.Buffer
	if err := instructivo.Write(&buf, c, instructivo.Info{BaseURL: r.BaseURL, Dependencia: dep, Versions: versions, Now: r.Now}); err != nil {
		return fmt.Errorf("instructivo of %s: %w", c.Clave, err)
	}
	name := "instructivo-" + c.Clave + ".pdf"
	a, err := insertAttachment(ctx, r.Tx, r.Case, r.Actor, name, buf.Bytes())
	if err != nil {
		return err
	}
	return r.Link(ctx, LinkInstructivo, strconv.FormatInt(a.ID, 10), name)
}

// dependenciaClave is the clave of the case's dependencia.
func dependenciaClave(ctx context.Context, r *EffectRun) (string, error) {
	if r.Case.DependenciaID == nil {
		return "", r.Refuse("el trámite %s no tiene dependencia", r.Case.Folio)
	}
	var clave string
	if err := r.Tx.QueryRow(ctx, `SELECT clave FROM meta.dependencia WHERE id = $1`, *r.Case.DependenciaID).Scan(&clave); err != nil {
		return "", fmt.Errorf("dependencia %d: %w", *r.Case.DependenciaID, err)
	}
	return clave, nil
}

// entityAccess grants the case's dependencia its least-privilege role on
// the tables (F-5), as «gobdatos access grant» does. The password is kept
// sealed and never written to the case, its history, logs or mail: the
// entity reads it on the case page (Engine.AccessPassword).
func (p Platform) entityAccess(ctx context.Context, r *EffectRun) error {
	if p.Keys == nil {
		return errors.New("no keyring to seal the role's password")
	}
	dep, err := dependenciaClave(ctx, r)
	if err != nil {
		return err
	}
	role, tables := r.ParamString("rol"), r.ParamList("tablas")
	st := &access.Store{DB: r.Tx, Keys: p.Keys}
	g, _, err := st.Grant(ctx, access.Request{Dependencia: dep, Role: role, Tables: tables, Actor: auditActor(r.Actor)})
	if err != nil {
		return refusal(r, err)
	}
	return r.Link(ctx, LinkAccess, g.Role, fmt.Sprintf("Rol %s en Datosigto (%s)", g.Role, strings.Join(g.Tables, ", ")))
}

// connectorKinds maps the formats' connector kinds to the registry's.
var connectorKinds = map[string]string{"PostgreSQL": "postgres", "MySQL/MariaDB": "mysql", "Servicio web (HTTP)": "http"}

// connector registers the entity's connector (F-4) with the address and
// object the case holds; its credentials are set on the connector's page,
// never carried by the case.
func (p Platform) connector(ctx context.Context, r *EffectRun) error {
	dep, err := dependenciaClave(ctx, r)
	if err != nil {
		return err
	}
	kind, ok := connectorKinds[r.ParamString("tipo")]
	if !ok {
		kind = r.ParamString("tipo")
	}
	target := ""
	if t := r.ParamString("catalogo"); t != "" {
		if c, err := p.Catalogs.In(r.Tx).ByTable(ctx, t); err == nil {
			target = c.Clave
		}
	}
	st := &registry.Store{DB: r.Tx, Keys: p.Keys}
	c, err := st.Create(ctx, registry.Input{Dependencia: dep, Name: fmt.Sprintf("%s %s", r.Case.Folio, r.ParamString("catalogo")),
		Kind: kind, Address: r.ParamString("direccion"), Object: r.ParamString("objeto"), TargetCatalog: target},
		audit.Entry{Actor: auditActor(r.Actor)})
	if err != nil {
		return refusal(r, err)
	}
	return r.Link(ctx, LinkConnector, strconv.FormatInt(c.ID, 10), c.Name)
}

// connectivity asks that the last check of every access and connector the
// case linked succeeded.
func connectivity(ctx context.Context, r *EffectRun) error {
	ls, err := links(ctx, r.Tx, r.Case.ID)
	if err != nil {
		return err
	}
	for _, l := range ls {
		var q, what string
		switch l.Kind {
		case LinkAccess:
			q, what = `SELECT last_status, last_check_at IS NOT NULL FROM meta.entity_access WHERE role_name = $1 AND revoked_at IS NULL`, "el rol "+l.Ref
		case LinkConnector:
			q, what = `SELECT last_status, last_check_at IS NOT NULL FROM meta.connector WHERE id = $1::bigint`, "el conector «"+l.Label+"»"
		default:
			continue
		}
		var status *string
		var checked bool
		err := r.Tx.QueryRow(ctx, q, l.Ref).Scan(&status, &checked)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			return r.Refuse("%s ya no existe", what)
		case err != nil:
			return fmt.Errorf("connectivity of %s %s: %w", l.Kind, l.Ref, err)
		case status == nil || !checked:
			return r.Refuse("%s aún no tiene una verificación de conectividad; verifíquelo en «Conectores»", what)
		case *status != "ok":
			return r.Refuse("la última verificación de conectividad de %s terminó en «%s»", what, *status)
		}
	}
	return nil
}
