package catalog

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Summary is what lists and searches show of a catalog: no definition, so a
// page of them is cheap to read.
type Summary struct {
	ID                int64      `json:"-"`
	Clave             string     `json:"clave"`
	Title             string     `json:"title"`
	Description       string     `json:"description"`
	Table             string     `json:"table"`
	State             State      `json:"state"`
	DependenciaID     int64      `json:"-"`
	DependenciaClave  string     `json:"dependencia"`
	DependenciaNombre string     `json:"dependencia_nombre"`
	Keywords          []string   `json:"keywords"`
	License           string     `json:"license"`
	Steward           string     `json:"steward"`
	StewardEmail      string     `json:"-"`
	UpdateMechanism   string     `json:"update_mechanism"`
	Periodicity       string     `json:"periodicity"`
	CurrentVersion    int        `json:"current_version"`
	Rows              int64      `json:"rows"`
	LastUpdate        *time.Time `json:"last_update"` // when the current version was published
	CreatedAt         time.Time  `json:"created_at"`
	UpdatedAt         time.Time  `json:"updated_at"`
	PublishedAt       *time.Time `json:"published_at"`
	Columns           int        `json:"columns"`
}

// SearchQuery narrows and pages Search; zero values match everything.
type SearchQuery struct {
	// Text is searched in full text, accent-insensitive, over titles,
	// claves, keywords, descriptions and column names; results then come
	// by relevance (unless After is set).
	Text              string
	State             State
	PublicOnly        bool
	DependenciaID     int64
	DependenciaClave  string
	Keyword           string
	Claves            []string
	After             string // keyset: claves after this one, by clave
	Offset, Limit     int
	OrderByClaveOnly  bool // ignore relevance (keyset paging by clave)
	WithoutTotalCount bool
	// Filters all apply (AND), besides the fields above.
	Filters []SearchFilter
}

// SearchField is what a SearchFilter compares.
type SearchField string

// The fields a SearchFilter may compare.
const (
	ByDependencia SearchField = "dependencia" // the dependencia's clave (any case)
	ByKeyword     SearchField = "keyword"     // one of the catalog's keywords (exact)
	ByClave       SearchField = "clave"
)

// SearchFilter keeps the catalogs whose Field is one of Values (none of
// them when Not). No values match nothing (everything when Not).
type SearchFilter struct {
	Field  SearchField
	Values []string
	Not    bool
}

// SearchResult is one page of catalogs and the number that match.
type SearchResult struct {
	Catalogs []Summary
	Total    int64
	// More: there are catalogs after this page.
	More bool
}

const summaryColumns = `c.id, c.clave, c.title, c.description, c.table_name, c.state, c.dependencia_id, d.clave, d.nombre,
	c.keywords, c.license, c.steward, c.steward_email, c.update_mechanism, c.periodicity, c.current_version,
	coalesce(v.row_count, 0), v.at, c.created_at, c.updated_at, c.published_at,
	coalesce(jsonb_array_length(CASE WHEN jsonb_typeof(c.definition->'schema'->'fields') = 'array' THEN c.definition->'schema'->'fields' END), 0)`

const summaryFrom = ` FROM meta.catalog c
	JOIN meta.dependencia d ON d.id = c.dependencia_id
	LEFT JOIN meta.catalog_version v ON v.catalog_id = c.id AND v.number = c.current_version`

// Search returns the catalogs that match q, a page at a time.
func (s *Store) Search(ctx context.Context, q SearchQuery) (SearchResult, error) {
	var where []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	text := strings.TrimSpace(q.Text)
	tsq := ""
	if text != "" {
		tsq = "websearch_to_tsquery('spanish', meta.f_unaccent(" + arg(text) + "))"
		where = append(where, "c.search @@ "+tsq)
	}
	if q.State != "" {
		where = append(where, "c.state = "+arg(string(q.State)))
	}
	if q.PublicOnly {
		where = append(where, "c.state = "+arg(string(Publicado)))
	}
	if q.DependenciaID != 0 {
		where = append(where, "c.dependencia_id = "+arg(q.DependenciaID))
	}
	if q.DependenciaClave != "" {
		where = append(where, "d.clave = "+arg(q.DependenciaClave))
	}
	if k := strings.TrimSpace(q.Keyword); k != "" {
		where = append(where, "c.keywords @> ARRAY["+arg(k)+"]::text[]")
	}
	if q.Claves != nil {
		where = append(where, "c.clave = ANY("+arg(q.Claves)+")")
	}
	for _, f := range q.Filters {
		vals := f.Values
		if vals == nil {
			vals = []string{}
		}
		var cond string
		switch f.Field {
		case ByDependencia:
			cond = "upper(d.clave) = ANY(" + arg(upperAll(vals)) + "::text[])"
		case ByKeyword:
			cond = "coalesce(c.keywords, '{}') && " + arg(vals) + "::text[]"
		case ByClave:
			cond = "c.clave = ANY(" + arg(vals) + "::text[])"
		default:
			return SearchResult{}, fmt.Errorf("catalog: search: unknown filter field %q", f.Field)
		}
		if f.Not {
			cond = "NOT (" + cond + ")"
		}
		where = append(where, cond)
	}
	cond := ""
	if len(where) > 0 {
		cond = " WHERE " + strings.Join(where, " AND ")
	}
	var res SearchResult
	countCond, countArgs := cond, slices.Clone(args)
	order := " ORDER BY c.clave"
	if tsq != "" && !q.OrderByClaveOnly && q.After == "" {
		order = " ORDER BY ts_rank_cd(c.search, " + tsq + ") DESC, c.clave"
	}
	if q.After != "" {
		if cond == "" {
			cond = " WHERE "
		} else {
			cond += " AND "
		}
		cond += "c.clave > " + arg(q.After)
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 50
	}
	// The total comes with the page (count(*) over the whole match), in one
	// round trip.
	sql := `SELECT ` + summaryColumns + `, count(*) OVER ()` + summaryFrom + cond + order + ` LIMIT ` + arg(limit+1)
	if q.Offset > 0 {
		sql += ` OFFSET ` + arg(q.Offset)
	}
	rows, err := s.db.Query(ctx, sql, args...)
	if err != nil {
		return res, fmt.Errorf("catalog: search: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var c Summary
		if err := rows.Scan(&c.ID, &c.Clave, &c.Title, &c.Description, &c.Table, &c.State, &c.DependenciaID,
			&c.DependenciaClave, &c.DependenciaNombre, &c.Keywords, &c.License, &c.Steward, &c.StewardEmail, &c.UpdateMechanism,
			&c.Periodicity, &c.CurrentVersion, &c.Rows, &c.LastUpdate, &c.CreatedAt, &c.UpdatedAt, &c.PublishedAt,
			&c.Columns, &res.Total); err != nil {
			return res, fmt.Errorf("catalog: search: %w", err)
		}
		res.Catalogs = append(res.Catalogs, c)
	}
	if err := rows.Err(); err != nil {
		return res, fmt.Errorf("catalog: search: %w", err)
	}
	if len(res.Catalogs) > limit {
		res.Catalogs, res.More = res.Catalogs[:limit], true
	}
	if (q.After != "" || (len(res.Catalogs) == 0 && q.Offset > 0)) && !q.WithoutTotalCount {
		// After a cursor, or past the end, the page's count is not the
		// total: count the whole match.
		if err := s.db.QueryRow(ctx, `SELECT count(*)`+summaryFrom+countCond, countArgs...).Scan(&res.Total); err != nil {
			return res, fmt.Errorf("catalog: search count: %w", err)
		}
	}
	return res, nil
}

// Generation is the registry's generation: it grows, at commit, with every
// transaction that changes catalogs, their versions or their dependencias
// (a trigger keeps it), so an answer built from the registry while it read
// n stays right until it reads more.
func (s *Store) Generation(ctx context.Context) (int64, error) {
	var n int64
	if err := s.db.QueryRow(ctx, `SELECT n FROM meta.catalog_generation`).Scan(&n); err != nil {
		return 0, fmt.Errorf("catalog: generation: %w", err)
	}
	return n, nil
}

func upperAll(vals []string) []string {
	out := make([]string, len(vals))
	for i, v := range vals {
		out[i] = strings.ToUpper(v)
	}
	return out
}

// Facet is one value of a filter with how many catalogs have it.
type Facet struct {
	Value, Label string
	Count        int64
}

// Facets counts the dependencias and keywords of the catalogs a reader may
// see (published only when publicOnly), for the search page's filters.
func (s *Store) Facets(ctx context.Context, publicOnly bool) (dependencias, keywords []Facet, err error) {
	cond := ""
	if publicOnly {
		cond = " WHERE c.state = 'publicado'"
	}
	rows, err := s.db.Query(ctx, `SELECT d.clave, d.nombre, count(*) FROM meta.catalog c JOIN meta.dependencia d ON d.id = c.dependencia_id`+cond+` GROUP BY d.clave, d.nombre ORDER BY d.nombre`)
	if err != nil {
		return nil, nil, fmt.Errorf("catalog: facets: %w", err)
	}
	for rows.Next() {
		var f Facet
		if err := rows.Scan(&f.Value, &f.Label, &f.Count); err != nil {
			rows.Close()
			return nil, nil, fmt.Errorf("catalog: facets: %w", err)
		}
		dependencias = append(dependencias, f)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("catalog: facets: %w", err)
	}
	rows, err = s.db.Query(ctx, `SELECT k, count(*) FROM meta.catalog c, unnest(c.keywords) k`+cond+` GROUP BY k ORDER BY count(*) DESC, k LIMIT 30`)
	if err != nil {
		return nil, nil, fmt.Errorf("catalog: facets: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var f Facet
		if err := rows.Scan(&f.Value, &f.Count); err != nil {
			return nil, nil, fmt.Errorf("catalog: facets: %w", err)
		}
		f.Label = f.Value
		keywords = append(keywords, f)
	}
	return dependencias, keywords, rows.Err()
}
