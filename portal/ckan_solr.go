package portal

import (
	"net/http"
	"slices"
	"strings"

	"github.com/dgtit-gto/gobdatos/catalog"
)

// package_search's q and fq speak Solr's query syntax. We read the part of
// it CKAN clients and harvesters send: terms «campo:valor» and
// «campo:"valor entrecomillado"», bare words and "frases" (full text),
// a leading «-» or NOT (excluded) or «+» (required), and AND / OR between
// terms. OR binds tighter than AND (the usual precedence) and joins terms
// of one field. Anything else — parentheses, ranges, wildcards in values,
// OR across different fields — is answered with CKAN's «Search Query Error»
// (400), never silently ignored.

// solrTerm is one term: field ("" for full text), value, and whether it is
// excluded.
type solrTerm struct {
	field, value string
	quoted, not  bool
}

// solrClause is terms joined by OR (all on one field); clauses join by AND.
type solrClause []solrTerm

func ckanSearchQueryError(param, msg string) *ckanError {
	return &ckanError{status: http.StatusBadRequest, Type: "Search Query Error",
		Message: "Search Query is invalid: " + param + ": " + msg}
}

// solrFields maps the CKAN fields we filter on to the registry's.
var solrFields = map[string]catalog.SearchField{
	"organization": catalog.ByDependencia, "owner_org": catalog.ByDependencia,
	"tags": catalog.ByKeyword, "name": catalog.ByClave, "id": catalog.ByClave,
}

// textFields are CKAN's text fields: their terms go to the full-text search.
var textFields = map[string]bool{"text": true, "title": true, "notes": true}

// parseSolr reads a q or fq (param names it in errors).
func parseSolr(param, src string) ([]solrClause, error) {
	bad := func(msg string) ([]solrClause, error) { return nil, ckanSearchQueryError(param, msg) }
	var clauses []solrClause
	pendingAnd, pendingOr, pendingNot := false, false, false
	rest := strings.TrimSpace(src)
	for rest != "" {
		var tok string
		var quoted bool
		tok, quoted, rest = nextSolrToken(rest)
		if tok == "" {
			return bad("falta cerrar las comillas en «" + src + "»")
		}
		if !quoted {
			switch tok {
			case "AND", "&&":
				if pendingAnd || pendingOr || pendingNot || len(clauses) == 0 {
					return bad("«" + tok + "» sin un término antes o después")
				}
				pendingAnd = true
				continue
			case "OR", "||":
				if pendingAnd || pendingOr || pendingNot || len(clauses) == 0 {
					return bad("«" + tok + "» sin un término antes o después")
				}
				pendingOr = true
				continue
			case "NOT", "!":
				pendingNot = !pendingNot
				continue
			}
		}
		t, err := solrTermOf(param, tok, quoted)
		if err != nil {
			return nil, err
		}
		if t == nil { // *:* or campo:*: everything
			if pendingNot {
				return bad("excluir todo («NOT " + tok + "») no se admite")
			}
			pendingAnd, pendingOr = false, false
			continue
		}
		t.not = t.not != pendingNot
		pendingAnd, pendingNot = false, false
		if pendingOr {
			last := clauses[len(clauses)-1]
			if last[0].field != t.field || last[0].not || t.not {
				return bad("OR sólo se admite entre términos del mismo campo, sin exclusiones («" + src + "»)")
			}
			clauses[len(clauses)-1] = append(last, *t)
			pendingOr = false
			continue
		}
		clauses = append(clauses, solrClause{*t})
	}
	if pendingAnd || pendingOr || pendingNot {
		return bad("la consulta termina en un operador («" + src + "»)")
	}
	return clauses, nil
}

// nextSolrToken cuts the next token: a word up to a space (a quoted part
// may hold spaces, as in campo:"dos palabras"). quoted reports a quoted
// value; an unclosed quote returns "" and quoted true.
func nextSolrToken(s string) (tok string, quoted bool, rest string) {
	s = strings.TrimLeft(s, " \t\r\n")
	i := 0
	for i < len(s) && !strings.ContainsRune(" \t\r\n", rune(s[i])) {
		if s[i] == '"' {
			end := strings.IndexByte(s[i+1:], '"')
			if end < 0 {
				return "", true, ""
			}
			quoted = true
			i += end + 2
			continue
		}
		i++
	}
	return s[:i], quoted, strings.TrimLeft(s[i:], " \t\r\n")
}

// solrTermOf reads one token; nil means «everything» (*:*, campo:*).
func solrTermOf(param, tok string, quoted bool) (*solrTerm, error) {
	bad := func(msg string) (*solrTerm, error) { return nil, ckanSearchQueryError(param, msg) }
	t := &solrTerm{}
	switch {
	case strings.HasPrefix(tok, "-"), strings.HasPrefix(tok, "!"):
		t.not, tok = true, tok[1:]
	case strings.HasPrefix(tok, "+"):
		tok = tok[1:]
	}
	if tok == "*:*" || tok == "*" {
		return nil, nil
	}
	if strings.ContainsAny(tok, "()[]{}^~") {
		return bad("paréntesis, rangos, pesos y búsquedas aproximadas no se admiten («" + tok + "»)")
	}
	field, value, hasField := strings.Cut(tok, ":")
	if !hasField || strings.HasPrefix(field, `"`) {
		field, value = "", tok
	}
	if strings.HasPrefix(value, `"`) {
		if len(value) < 2 || !strings.HasSuffix(value, `"`) || strings.Count(value, `"`) != 2 {
			return bad("comillas mal puestas en «" + tok + "»")
		}
		value, t.quoted = value[1:len(value)-1], true
	} else if quoted {
		return bad("comillas mal puestas en «" + tok + "»")
	}
	if field != "" {
		if _, ok := solrFields[field]; !ok && !textFields[field] && field != "res_format" {
			return bad("el campo «" + field + "» no se puede consultar; se admiten organization, owner_org, tags, name, id, res_format, text, title y notes")
		}
		if value == "*" {
			return nil, nil
		}
		if textFields[field] {
			field = ""
		}
	}
	if value == "" {
		return bad("«" + tok + "» no tiene valor")
	}
	if !t.quoted && strings.ContainsAny(value, "*?") {
		return bad("los comodines no se admiten («" + tok + "»)")
	}
	t.field, t.value = field, value
	return t, nil
}

// applySolr narrows q by the clauses: fields become filters, full-text
// terms the text of the search (PostgreSQL's websearch syntax, which reads
// "frases", OR and -excluded as Solr does).
func applySolr(q *catalog.SearchQuery, clauses []solrClause) {
	var text []string
	for _, cl := range clauses {
		f := cl[0]
		switch {
		case f.field == "":
			parts := make([]string, len(cl))
			for i, t := range cl {
				v := t.value
				if t.quoted || strings.ContainsAny(v, " -") {
					v = `"` + strings.ReplaceAll(v, `"`, "") + `"`
				}
				if t.not {
					v = "-" + v
				}
				parts[i] = v
			}
			text = append(text, strings.Join(parts, " OR "))
		case f.field == "res_format":
			// Every catalog offers every format: a known one keeps all.
			known := slices.ContainsFunc(cl, func(t solrTerm) bool {
				return slices.ContainsFunc(downloadFormats, func(d downloadFormat) bool { return strings.EqualFold(d.ext, t.value) })
			})
			if known == f.not {
				q.Filters = append(q.Filters, catalog.SearchFilter{Field: catalog.ByClave})
			}
		default:
			vals := make([]string, len(cl))
			for i, t := range cl {
				vals[i] = t.value
			}
			q.Filters = append(q.Filters, catalog.SearchFilter{Field: solrFields[f.field], Values: vals, Not: f.not})
		}
	}
	if len(text) > 0 {
		q.Text = strings.TrimSpace(q.Text + " " + strings.Join(text, " "))
	}
}
