package procedure

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"sort"
	"strings"
	"text/template"
	"time"

	"go.yaml.in/yaml/v3"
)

// DefinitionError is everything wrong with one definition file.
type DefinitionError struct {
	File     string
	Problems []string
}

func (e *DefinitionError) Error() string {
	return fmt.Sprintf("definición de procedimiento %s: %s", e.File, strings.Join(e.Problems, "; "))
}

// Parse reads one definition from YAML, refusing unknown keys, and checks it.
func Parse(file string, b []byte) (*Definition, error) {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	var d Definition
	if err := dec.Decode(&d); err != nil {
		return nil, &DefinitionError{File: file, Problems: []string{"YAML no válido: " + err.Error()}}
	}
	d.File = file
	if problems := d.Check(); len(problems) > 0 {
		return nil, &DefinitionError{File: file, Problems: problems}
	}
	return &d, nil
}

// Registry holds every loaded definition, by Short and version.
type Registry struct {
	byKey  map[string]*Definition
	latest map[string]*Definition
	order  []string
}

// NewRegistry returns a registry of defs; two files with the same Short and
// version, or two claves for one Short, are refused.
func NewRegistry(defs ...*Definition) (*Registry, error) {
	r := &Registry{byKey: map[string]*Definition{}, latest: map[string]*Definition{}}
	for _, d := range defs {
		if err := r.add(d); err != nil {
			return nil, err
		}
	}
	for _, d := range defs {
		if err := r.checkHandoffs(d); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// NoHandoff is the option of a hand-off field that opens nothing.
const NoHandoff = "ninguno"

// checkHandoffs: every option of a hand-off field names a loaded procedure.
func (r *Registry) checkHandoffs(d *Definition) error {
	var p []string
	for _, t := range d.Transitions {
		if t.Handoff == "" {
			continue
		}
		formID, fieldID, _ := strings.Cut(t.Handoff, ".")
		f, _ := d.Form(formID)
		for _, fd := range f.Fields {
			if fd.ID != fieldID {
				continue
			}
			for _, o := range fd.Options {
				if _, ok := r.latest[o]; !ok && o != NoHandoff {
					p = append(p, fmt.Sprintf("transición «%s»: la opción %q de %s no es un procedimiento cargado (ni %q)", t.Action, o, t.Handoff, NoHandoff))
				}
			}
		}
	}
	if len(p) > 0 {
		return &DefinitionError{File: d.File, Problems: p}
	}
	return nil
}

func (r *Registry) add(d *Definition) error {
	if prev, ok := r.byKey[d.Key()]; ok {
		return &DefinitionError{File: d.File, Problems: []string{fmt.Sprintf("%s versión %d ya está definido en %s", d.Short, d.Version, prev.File)}}
	}
	r.byKey[d.Key()] = d
	if prev, ok := r.latest[d.Short]; !ok || prev.Version < d.Version {
		if ok && prev.Clave != d.Clave {
			return &DefinitionError{File: d.File, Problems: []string{fmt.Sprintf("%s tiene la clave %s en %s y %s aquí", d.Short, prev.Clave, prev.File, d.Clave)}}
		}
		if !ok {
			r.order = append(r.order, d.Short)
			sort.Strings(r.order)
		}
		r.latest[d.Short] = d
	}
	return nil
}

// Load reads every *.yaml and *.yml file of fsys (recursively) as a
// definition. All problems of all files are reported together.
func Load(fsys fs.FS) (*Registry, error) {
	var defs []*Definition
	var errs []error
	err := fs.WalkDir(fsys, ".", func(p string, de fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if de.IsDir() || (path.Ext(p) != ".yaml" && path.Ext(p) != ".yml") {
			return nil
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		d, err := Parse(p, b)
		if err != nil {
			errs = append(errs, err)
			return nil
		}
		defs = append(defs, d)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("procedure: load definitions: %w", err)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return NewRegistry(defs...)
}

// Latest returns the newest version of the procedure short.
func (r *Registry) Latest(short string) (*Definition, bool) {
	d, ok := r.latest[short]
	return d, ok
}

// Get returns one version of the procedure short.
func (r *Registry) Get(short string, version int) (*Definition, bool) {
	d, ok := r.byKey[fmt.Sprintf("%s@v%d", short, version)]
	return d, ok
}

// All returns the newest version of every procedure, by Short.
func (r *Registry) All() []*Definition {
	out := make([]*Definition, len(r.order))
	for i, s := range r.order {
		out[i] = r.latest[s]
	}
	return out
}

// Versions returns every loaded version of every procedure.
func (r *Registry) Versions() []*Definition {
	out := make([]*Definition, 0, len(r.byKey))
	for _, d := range r.byKey {
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key() < out[j].Key() })
	return out
}

var profiles = []string{"superadmin", "admin", "publicador", "consulta"}

var indicatorKinds = []string{"model_current", "catalogs_published", "time_vs_estimate"}

// Check lists every problem of the definition, in Spanish; none means it
// can be loaded.
func (d *Definition) Check() []string {
	var p []string
	add := func(format string, args ...any) { p = append(p, fmt.Sprintf(format, args...)) }

	if strings.TrimSpace(d.Clave) == "" {
		add("falta «clave»")
	}
	if !shortPattern.MatchString(d.Short) {
		add("«short» %q no es una clave corta como ADC-1.3", d.Short)
	}
	if d.Version < 1 {
		add("«version» debe ser 1 o mayor")
	}
	if strings.TrimSpace(d.Name) == "" {
		add("falta «name»")
	}
	if d.EstimatedTime != "" {
		if _, err := ParseDuration(d.EstimatedTime, 8*time.Hour); err != nil {
			add("«estimated_time»: %v", err)
		}
	}

	roles := map[string]bool{}
	for _, r := range d.Roles {
		if !idPattern.MatchString(r.ID) {
			add("rol %q: el id debe ser minúsculas, dígitos y _", r.ID)
		}
		if roles[r.ID] {
			add("rol %q definido dos veces", r.ID)
		}
		roles[r.ID] = true
		if !slices.Contains([]RoleKind{RoleGranted, RoleRequester, RoleDependencia}, r.Kind) {
			add("rol %q: «kind» debe ser granted, requester o dependencia", r.ID)
		}
		for _, pr := range r.Profiles {
			if !slices.Contains(profiles, pr) {
				add("rol %q: el perfil %q no existe (%s)", r.ID, pr, strings.Join(profiles, ", "))
			}
		}
	}
	roleRef := func(where, id string) {
		if !roles[id] {
			add("%s: el rol %q no existe", where, id)
		}
	}
	for _, id := range d.StartRoles {
		roleRef("«start_roles»", id)
	}

	acts := map[int]bool{}
	for _, a := range d.Activities {
		if a.N < 1 {
			add("actividad con número %d: debe ser 1 o mayor", a.N)
		}
		if acts[a.N] {
			add("actividad %d definida dos veces", a.N)
		}
		acts[a.N] = true
		for _, r := range a.Roles {
			roleRef(fmt.Sprintf("actividad %d", a.N), r)
		}
	}

	forms := map[string]Form{}
	fields := map[string]Field{}
	for _, f := range d.Forms {
		if !idPattern.MatchString(f.ID) {
			add("formato %q: el id debe ser minúsculas, dígitos y _", f.ID)
		}
		if _, dup := forms[f.ID]; dup {
			add("formato %q definido dos veces", f.ID)
		}
		forms[f.ID] = f
		seen := map[string]bool{}
		for _, fd := range f.Fields {
			where := fmt.Sprintf("formato %s, campo %q", f.ID, fd.ID)
			if !idPattern.MatchString(fd.ID) {
				add("%s: el id debe ser minúsculas, dígitos y _", where)
			}
			if seen[fd.ID] {
				add("%s: definido dos veces", where)
			}
			seen[fd.ID] = true
			fields[f.ID+"."+fd.ID] = fd
			if !slices.Contains(fieldTypes, fd.Type) {
				add("%s: el tipo %q no existe", where, fd.Type)
			}
			if fd.Type == Select && len(fd.Options) == 0 {
				add("%s: una lista de selección necesita «options»", where)
			}
			patternOK := true
			if fd.Pattern != "" {
				if _, err := regexp.Compile(`^(?:` + fd.Pattern + `)$`); err != nil {
					add("%s: «pattern» no es una expresión regular válida: %v", where, err)
					patternOK = false
				}
			}
			if fd.MaxLength > 0 && fd.MinLength > fd.MaxLength {
				add("%s: min_length mayor que max_length", where)
			}
			if fd.Min != nil && fd.Max != nil && *fd.Min > *fd.Max {
				add("%s: min mayor que max", where)
			}
			if fd.Example != nil && patternOK && slices.Contains(fieldTypes, fd.Type) {
				if msg := fd.check(normalizeExample(fd.Example), true); msg != "" {
					add("%s: el ejemplo %v no es válido: %s", where, fd.Example, msg)
				}
			}
			if strings.TrimSpace(fd.Label) == "" {
				add("%s: falta «label»", where)
			}
		}
	}
	for _, f := range d.Forms {
		for _, fd := range f.Fields {
			if fd.Prefill != "" {
				if _, ok := fields[fd.Prefill]; !ok {
					add("formato %s, campo %q: «prefill» %q no existe (formato.campo)", f.ID, fd.ID, fd.Prefill)
				}
			}
		}
	}
	if d.StartForm != "" {
		if _, ok := forms[d.StartForm]; !ok {
			add("«start_form»: el formato %q no existe", d.StartForm)
		}
	}

	msgs := map[string]bool{}
	for _, m := range d.Messages {
		if msgs[m.ID] {
			add("mensaje %q definido dos veces", m.ID)
		}
		msgs[m.ID] = true
		switch {
		case m.To == "requester", m.To == "assignee":
		case strings.HasPrefix(m.To, "role:"):
			roleRef("mensaje "+m.ID, strings.TrimPrefix(m.To, "role:"))
		default:
			add("mensaje %q: «to» debe ser requester, assignee o role:ROL", m.ID)
		}
		if strings.TrimSpace(m.Subject) == "" {
			add("mensaje %q: falta «subject»", m.ID)
		}
		for name, text := range map[string]string{"subject": m.Subject, "body": m.Body} {
			if _, err := template.New(m.ID).Option("missingkey=error").Parse(text); err != nil {
				add("mensaje %q: «%s» no es una plantilla válida: %v", m.ID, name, err)
			}
		}
	}
	msgRef := func(where, id string) {
		if !msgs[id] {
			add("%s: el mensaje %q no existe", where, id)
		}
	}

	states := map[string]State{}
	for _, s := range d.States {
		if !idPattern.MatchString(s.ID) {
			add("estado %q: el id debe ser minúsculas, dígitos y _", s.ID)
		}
		if _, dup := states[s.ID]; dup {
			add("estado %q definido dos veces", s.ID)
		}
		states[s.ID] = s
		for _, n := range s.Activities {
			if !acts[n] {
				add("estado %q: la actividad %d no existe", s.ID, n)
			}
		}
	}
	if init, ok := states[d.Initial]; !ok {
		add("«initial»: el estado %q no existe", d.Initial)
	} else if init.Final {
		add("«initial»: el estado %q es final", d.Initial)
	}

	type pair struct{ from, action string }
	pairs := map[pair]bool{}
	for i, t := range d.Transitions {
		where := fmt.Sprintf("transición %d «%s»", i+1, t.Action)
		if !idPattern.MatchString(t.Action) {
			add("%s: la acción debe ser minúsculas, dígitos y _", where)
		}
		if strings.TrimSpace(t.Label) == "" {
			add("%s: falta «label»", where)
		}
		if len(t.From) == 0 {
			add("%s: falta «from»", where)
		}
		for _, f := range t.From {
			s, ok := states[f]
			if !ok {
				add("%s: el estado de origen %q no existe", where, f)
				continue
			}
			if s.Final {
				add("%s: sale del estado final %q", where, f)
			}
			if pairs[pair{f, t.Action}] {
				add("%s: la acción ya existe desde el estado %q", where, f)
			}
			pairs[pair{f, t.Action}] = true
		}
		if _, ok := states[t.To]; !ok {
			add("%s: el estado destino %q no existe", where, t.To)
		}
		if len(t.Roles) == 0 {
			add("%s: falta «roles»", where)
		}
		for _, r := range t.Roles {
			roleRef(where, r)
		}
		if t.Activity != 0 && !acts[t.Activity] {
			add("%s: la actividad %d no existe", where, t.Activity)
		}
		if t.Form != "" {
			if _, ok := forms[t.Form]; !ok {
				add("%s: el formato %q no existe", where, t.Form)
			}
		}
		for _, f := range t.Requires {
			if _, ok := fields[f]; !ok {
				add("%s: el campo requerido %q no existe (formato.campo)", where, f)
			}
		}
		for _, c := range t.Checks {
			if _, ok := fields[c.Field]; !ok {
				add("%s: el campo a verificar %q no existe (formato.campo)", where, c.Field)
			}
			if c.Check == "" {
				add("%s: falta el nombre de la verificación", where)
			}
		}
		for _, ef := range t.Effects {
			if ef.Effect == "" {
				add("%s: falta el nombre del efecto", where)
			}
			if ef.Field != "" {
				if _, ok := fields[ef.Field]; !ok {
					add("%s: el campo del efecto %q no existe (formato.campo)", where, ef.Field)
				}
			}
			if len(ef.When) > 0 && ef.Field == "" {
				add("%s: el efecto %q tiene «when» sin «field»", where, ef.Effect)
			}
			if fd, ok := fields[ef.Field]; ok && fd.Type == Select {
				for _, w := range ef.When {
					if !slices.Contains(fd.Options, w) {
						add("%s: «when» del efecto %q: %q no es una opción de %s", where, ef.Effect, w, ef.Field)
					}
				}
			}
			names := make([]string, 0, len(ef.With))
			for name := range ef.With {
				names = append(names, name)
			}
			sort.Strings(names)
			for _, name := range names {
				if _, ok := fields[ef.With[name]]; !ok {
					add("%s: el campo %q del parámetro %q del efecto %q no existe (formato.campo)", where, ef.With[name], name, ef.Effect)
				}
			}
		}
		if t.Observations != "" && t.Observations != "required" {
			add("%s: «observations» sólo admite required", where)
		}
		if t.Assign != "" && t.Assign != "self" {
			add("%s: «assign» sólo admite self", where)
		}
		for _, m := range t.Notify {
			msgRef(where, m)
		}
		if t.Handoff != "" {
			fd, ok := fields[t.Handoff]
			switch {
			case !ok:
				add("%s: el campo de continuación %q no existe (formato.campo)", where, t.Handoff)
			case fd.Type != Select:
				add("%s: el campo de continuación %q debe ser una lista de selección", where, t.Handoff)
			}
		}
	}

	for _, c := range d.Clocks {
		where := "reloj " + c.ID
		if _, err := ParseDuration(c.Target, 8*time.Hour); err != nil {
			add("%s: «target»: %v", where, err)
		}
		if len(c.Running) == 0 {
			add("%s: falta «running»", where)
		}
		for _, s := range c.Running {
			if _, ok := states[s]; !ok {
				add("%s: el estado %q no existe", where, s)
			}
		}
		for _, m := range append(slices.Clone(c.At50), c.At100...) {
			msgRef(where, m)
		}
	}
	for _, in := range d.Indicators {
		if !slices.Contains(indicatorKinds, in.Kind) {
			add("indicador %q: «kind» debe ser uno de %s", in.ID, strings.Join(indicatorKinds, ", "))
		}
	}

	if len(p) == 0 {
		p = append(p, d.checkGraph()...)
	}
	return p
}

// checkGraph: every state reachable from the initial one, every non-final
// state with a way out and a path to some final state.
func (d *Definition) checkGraph() []string {
	var p []string
	next := map[string][]string{}
	prev := map[string][]string{}
	for _, t := range d.Transitions {
		for _, f := range t.From {
			next[f] = append(next[f], t.To)
			prev[t.To] = append(prev[t.To], f)
		}
	}
	reach := walk([]string{d.Initial}, next)
	var finals []string
	for _, s := range d.States {
		if s.Final {
			finals = append(finals, s.ID)
		}
	}
	if len(finals) == 0 {
		p = append(p, "no hay ningún estado final")
	}
	ends := walk(finals, prev)
	for _, s := range d.States {
		if !reach[s.ID] {
			p = append(p, fmt.Sprintf("el estado %q no se alcanza desde el inicial %q", s.ID, d.Initial))
		}
		if s.Final {
			continue
		}
		if len(next[s.ID]) == 0 {
			p = append(p, fmt.Sprintf("el estado %q no es final y no tiene salida", s.ID))
		} else if !ends[s.ID] && len(finals) > 0 {
			p = append(p, fmt.Sprintf("desde el estado %q no se llega a ningún estado final", s.ID))
		}
	}
	return p
}

func walk(start []string, edges map[string][]string) map[string]bool {
	seen := map[string]bool{}
	stack := slices.Clone(start)
	for len(stack) > 0 {
		s := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[s] {
			continue
		}
		seen[s] = true
		stack = append(stack, edges[s]...)
	}
	return seen
}

// normalizeExample turns YAML's decoding of an example into what JSON
// would give (numbers as float64, lists as []any).
func normalizeExample(v any) any {
	switch x := v.(type) {
	case int:
		return float64(x)
	case []any:
		return x
	case []string:
		out := make([]any, len(x))
		for i, s := range x {
			out[i] = s
		}
		return out
	}
	return v
}
