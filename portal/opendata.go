package portal

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v5"

	"github.com/dgtit-gto/gobdatos/catalog"
	"github.com/dgtit-gto/gobdatos/catalog/tableschema"
)

// Open-data documents others read: a Frictionless Data Package per catalog
// and the DCAT-US 1.1 catalog of the published catalogs at /data.json.

// dataPackage is a Frictionless Data Package (tabular) of one catalog.
type dataPackage struct {
	Profile      string             `json:"profile"`
	Name         string             `json:"name"`
	ID           string             `json:"id"`
	Title        string             `json:"title"`
	Description  string             `json:"description,omitempty"`
	Version      string             `json:"version"`
	Homepage     string             `json:"homepage"`
	Keywords     []string           `json:"keywords,omitempty"`
	Licenses     []dpLicense        `json:"licenses,omitempty"`
	Contributors []dpContributor    `json:"contributors,omitempty"`
	Created      string             `json:"created"`
	Resources    []dataPackageEntry `json:"resources"`
}

type dpLicense struct {
	Name  string `json:"name"`
	Title string `json:"title,omitempty"`
}

type dpContributor struct {
	Title        string `json:"title"`
	Email        string `json:"email,omitempty"`
	Role         string `json:"role"`
	Organization string `json:"organization,omitempty"`
}

type dataPackageEntry struct {
	Profile     string              `json:"profile"`
	Name        string              `json:"name"`
	Path        string              `json:"path"`
	Title       string              `json:"title,omitempty"`
	Description string              `json:"description,omitempty"`
	Format      string              `json:"format"`
	MediaType   string              `json:"mediatype"`
	Encoding    string              `json:"encoding,omitempty"`
	Schema      *tableschema.Schema `json:"schema,omitempty"`
}

// dataSchema is the Table Schema of what downloads hold: the definition's
// data columns (not the platform's control columns).
func dataSchema(cat *catalog.Catalog) (tableschema.Schema, error) {
	fields, _, err := catalog.Columns(cat)
	if err != nil {
		return tableschema.Schema{}, err
	}
	sch := cat.Resource.Schema
	sch.Fields = fields
	return sch, nil
}

func (s *Server) apiDataPackage(c *echo.Context) error {
	cat, err := s.visibleCatalog(c)
	if err != nil {
		return err
	}
	version, err := versionParam(c)
	if err != nil {
		return err
	}
	if version == 0 {
		version = cat.CurrentVersion
	} else if version > cat.CurrentVersion {
		return catalogProblem(&catalog.Error{Kind: catalog.KindNotFound, Message: "el catálogo «" + cat.Clave + "» no tiene esa versión"})
	}
	res, err := s.catalogs().Search(c.Request().Context(), catalog.SearchQuery{Claves: []string{cat.Clave}, WithoutTotalCount: true})
	if err != nil {
		return err
	}
	if len(res.Catalogs) != 1 {
		return catalogProblem(&catalog.Error{Kind: catalog.KindNotFound, Message: "no existe el catálogo «" + cat.Clave + "»"})
	}
	sum, page := res.Catalogs[0], s.siteURL(c)+"/catalogos/"+cat.Clave
	sch, err := dataSchema(cat)
	if err != nil {
		return err
	}
	base := s.siteURL(c) + "/api/v1/catalogs/" + cat.Clave + "/download."
	q := ""
	if version > 0 {
		q = "?version=" + strconv.Itoa(version)
	}
	dp := dataPackage{
		Profile: "tabular-data-package", Name: cat.Clave, ID: page, Title: cat.Title,
		Description: cat.Description, Version: strconv.Itoa(version), Homepage: page,
		Keywords: cat.Keywords, Created: dcatTime(cat.CreatedAt),
		Contributors: []dpContributor{{Title: firstNonEmpty(cat.Steward, sum.DependenciaNombre), Email: cat.StewardEmail,
			Role: "maintainer", Organization: sum.DependenciaNombre}},
	}
	if cat.License != "" {
		dp.Licenses = []dpLicense{{Name: cat.License}}
	}
	dp.Resources = append(dp.Resources, dataPackageEntry{
		Profile: "tabular-data-resource", Name: cat.Clave, Path: base + "csv" + q, Title: cat.Title,
		Description: cat.Description, Format: "csv", MediaType: "text/csv", Encoding: "utf-8", Schema: &sch,
	})
	for _, f := range downloadFormats[1:] {
		dp.Resources = append(dp.Resources, dataPackageEntry{
			Profile: "data-resource", Name: cat.Clave + "-" + f.ext, Path: base + f.ext + q, Title: cat.Title + " (" + f.name + ")",
			Format: f.ext, MediaType: strings.Split(f.contentType, ";")[0],
		})
	}
	return c.JSON(http.StatusOK, dp)
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if strings.TrimSpace(s) != "" {
			return s
		}
	}
	return ""
}

// dcatCatalog is a DCAT-US 1.1 (Project Open Data) catalog.
type dcatCatalog struct {
	Context     string        `json:"@context"`
	ID          string        `json:"@id"`
	Type        string        `json:"@type"`
	ConformsTo  string        `json:"conformsTo"`
	DescribedBy string        `json:"describedBy"`
	Dataset     []dcatDataset `json:"dataset"`
}

type dcatDataset struct {
	Type               string             `json:"@type"`
	Title              string             `json:"title"`
	Description        string             `json:"description"`
	Keyword            []string           `json:"keyword"`
	Modified           string             `json:"modified"`
	Issued             string             `json:"issued,omitempty"`
	Publisher          dcatOrg            `json:"publisher"`
	ContactPoint       dcatContact        `json:"contactPoint"`
	Identifier         string             `json:"identifier"`
	AccessLevel        string             `json:"accessLevel"`
	License            string             `json:"license,omitempty"`
	Rights             string             `json:"rights,omitempty"`
	LandingPage        string             `json:"landingPage"`
	DescribedBy        string             `json:"describedBy"`
	DescribedByType    string             `json:"describedByType"`
	AccrualPeriodicity string             `json:"accrualPeriodicity,omitempty"`
	Language           []string           `json:"language"`
	Distribution       []dcatDistribution `json:"distribution"`
}

type dcatOrg struct {
	Type string `json:"@type"`
	Name string `json:"name"`
}

type dcatContact struct {
	Type     string `json:"@type"`
	FN       string `json:"fn"`
	HasEmail string `json:"hasEmail,omitempty"`
}

type dcatDistribution struct {
	Type        string `json:"@type"`
	Title       string `json:"title"`
	DownloadURL string `json:"downloadURL"`
	MediaType   string `json:"mediaType"`
	Format      string `json:"format"`
	DescribedBy string `json:"describedBy,omitempty"`
}

// accrual maps the catalog's periodicity (Spanish) to ISO 8601 repeating
// durations, as DCAT-US asks; unknown ones are left out.
var accrual = map[string]string{
	"diaria": "R/P1D", "diario": "R/P1D", "semanal": "R/P1W", "quincenal": "R/P2W", "mensual": "R/P1M",
	"bimestral": "R/P2M", "trimestral": "R/P3M", "semestral": "R/P6M", "anual": "R/P1Y",
	"irregular": "irregular", "continua": "R/PT1S", "continuo": "R/PT1S",
}

func (s *Server) dataJSON(c *echo.Context) error {
	base := s.siteURL(c)
	out := dcatCatalog{
		Context: "https://project-open-data.cio.gov/v1.1/schema/catalog.jsonld", ID: base + "/data.json",
		Type: "dcat:Catalog", ConformsTo: "https://project-open-data.cio.gov/v1.1/schema",
		DescribedBy: "https://project-open-data.cio.gov/v1.1/schema/catalog.json", Dataset: []dcatDataset{},
	}
	after := ""
	for {
		res, err := s.catalogs().Search(c.Request().Context(), catalog.SearchQuery{PublicOnly: true, After: after, Limit: 500, WithoutTotalCount: true})
		if err != nil {
			return err
		}
		for _, cs := range res.Catalogs {
			out.Dataset = append(out.Dataset, s.dcatDataset(base, cs))
		}
		if !res.More {
			break
		}
		after = res.Catalogs[len(res.Catalogs)-1].Clave
	}
	c.Response().Header().Set("Cache-Control", "public, max-age=300")
	return c.JSON(http.StatusOK, out)
}

func (s *Server) dcatDataset(base string, cs catalog.Summary) dcatDataset {
	api := base + "/api/v1/catalogs/" + cs.Clave
	modified := cs.UpdatedAt
	if cs.LastUpdate != nil && cs.LastUpdate.After(modified) {
		modified = *cs.LastUpdate
	}
	kw := cs.Keywords
	if len(kw) == 0 {
		kw = []string{"catálogo", strings.ToLower(cs.DependenciaClave)}
	}
	d := dcatDataset{
		Type: "dcat:Dataset", Title: cs.Title, Description: firstNonEmpty(cs.Description, cs.Title), Keyword: kw,
		Modified: dcatTime(modified), Publisher: dcatOrg{Type: "org:Organization", Name: cs.DependenciaNombre},
		ContactPoint: dcatContact{Type: "vcard:Contact", FN: firstNonEmpty(cs.Steward, cs.DependenciaNombre)},
		Identifier:   base + "/catalogos/" + cs.Clave, AccessLevel: "public", LandingPage: base + "/catalogos/" + cs.Clave,
		DescribedBy: api + "/datapackage.json", DescribedByType: "application/json", Language: []string{"es-MX"},
		AccrualPeriodicity: accrual[strings.ToLower(strings.TrimSpace(cs.Periodicity))],
	}
	if cs.StewardEmail != "" {
		d.ContactPoint.HasEmail = "mailto:" + cs.StewardEmail
	}
	if cs.PublishedAt != nil {
		d.Issued = dcatTime(*cs.PublishedAt)
	}
	if strings.HasPrefix(cs.License, "http") {
		d.License = cs.License
	} else if cs.License != "" {
		d.Rights = cs.License
	}
	for _, f := range downloadFormats {
		d.Distribution = append(d.Distribution, dcatDistribution{
			Type: "dcat:Distribution", Title: cs.Title + " (" + f.name + ")", DownloadURL: api + "/download." + f.ext,
			MediaType: strings.Split(f.contentType, ";")[0], Format: strings.ToUpper(f.ext), DescribedBy: api + "/datapackage.json",
		})
	}
	return d
}
