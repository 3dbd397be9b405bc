package web

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/labstack/echo/v4"

	"github.com/modelhost/modelhost/host/internal/registry"
	"github.com/modelhost/modelhost/sdk"
)

//go:embed templates
var templateFS embed.FS

// ContentSecurityPolicy is sent with every page. Scripts, styles, fonts and
// connections are limited to the server itself; images may also be data:
// URIs (the stylesheet's icons). No inline script or style is allowed.
const ContentSecurityPolicy = "default-src 'self'; img-src 'self' data:; style-src 'self'; " +
	"base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// DocsURL is where the guide to writing and adding a plugin is published.
const DocsURL = "https://github.com/modelhost/modelhost/blob/main/docs/writing-a-plugin.md"

// Options configures the web UI.
type Options struct {
	// Logger receives template failures. Nil means no logging.
	Logger hclog.Logger
	// PluginDirectory is the plugin discovery directory, shown on the
	// home page of a host that serves no model. Empty means discovery is
	// disabled.
	PluginDirectory string
}

// UI serves the web pages. It is read-only once New returns.
type UI struct {
	reg       *registry.Registry
	log       hclog.Logger
	pluginDir string
	assets    assets
	pages     map[string]*template.Template
}

// New parses the templates and loads the assets; it fails if any is
// broken, so that a broken build fails at start-up.
func New(reg *registry.Registry, opts Options) (*UI, error) {
	u := &UI{reg: reg, log: opts.Logger, pluginDir: opts.PluginDirectory, pages: map[string]*template.Template{}}
	if u.log == nil {
		u.log = hclog.NewNullLogger()
	}
	var err error
	if u.assets, err = loadAssets(); err != nil {
		return nil, err
	}
	funcs := template.FuncMap{
		"asset": u.assets.url,
		"add":   func(a, b int) int { return a + b },
	}
	for _, page := range []string{"index", "model", "predict", "error"} {
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/"+page+".html")
		if err != nil {
			return nil, fmt.Errorf("parse template %s: %w", page, err)
		}
		u.pages[page] = t
	}
	return u, nil
}

// Register adds the web UI's routes to e:
//
//	GET /                                          the models, one card per name
//	GET /models/:name                              the model's default version: metadata, input and output fields
//	GET /models/:name/predict                      a form to run a prediction with the default version
//	GET /models/:name/versions/:version            one version of the model, as /models/:name
//	GET /models/:name/versions/:version/predict    a form to run a prediction with that version
//	GET /models/*                                  an HTML 404 page
//	GET /static/:hash/*                            stylesheets, scripts and vendored libraries
//	GET /favicon.ico                               the icon
func Register(e *echo.Echo, reg *registry.Registry, opts Options) error {
	u, err := New(reg, opts)
	if err != nil {
		return err
	}
	u.Register(e)
	return nil
}

// Register adds u's routes to e; see the package function Register.
func (u *UI) Register(e *echo.Echo) {
	e.GET("/", u.index, securityHeaders)
	e.GET("/models/:name", u.model, securityHeaders)
	e.GET("/models/:name/predict", u.predict, securityHeaders)
	e.GET("/models/:name/versions/:version", u.model, securityHeaders)
	e.GET("/models/:name/versions/:version/predict", u.predict, securityHeaders)
	e.GET("/models/*", u.notFoundPage, securityHeaders)
	e.GET("/models", u.notFoundPage, securityHeaders)
	e.GET(staticPrefix+"*", u.assets.serve)
	e.GET("/favicon.ico", u.favicon)
}

// favicon answers the browsers that ask for /favicon.ico whatever the page
// says, such as on the API's JSON documents, with the SVG icon.
func (u *UI) favicon(c echo.Context) error {
	h := c.Response().Header()
	h.Set("Cache-Control", "public, max-age=86400")
	h.Set("X-Content-Type-Options", "nosniff")
	return u.assets["favicon.svg"].write(c)
}

// securityHeaders adds the headers every page is sent with.
func securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("Content-Security-Policy", ContentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cache-Control", "no-cache")
		return next(c)
	}
}

// ModelView is one version of a model as the templates show it. Its URLs
// lead to the unversioned pages and endpoints, which use the default
// version, when it is shown as the model's default version; to the pages
// and endpoints of its own version otherwise.
type ModelView struct {
	QualifiedName  string
	DisplayName    string
	Description    string
	Version        string
	Status         string
	Ready          bool
	ReadyAt        time.Time
	PredictTimeout time.Duration
	// Default is true for the default version of the name: the one that
	// the unversioned pages and endpoints use.
	Default bool
	// Versioned is true when the page is that of this very version,
	// /models/{name}/versions/{version}..., and the URLs below are too.
	Versioned bool
	// ModelURL is the model's own page, /models/{name}, whatever the
	// version.
	ModelURL      string
	URL           string
	PredictURL    string
	MetadataURL   string
	APIPredictURL string
}

// VersionView is one served version of a model, in a list of them.
type VersionView struct {
	Version string
	Status  string
	Default bool
	// Current is true for the version the page shows.
	Current bool
	// URL and PredictURL are the version's own pages, MetadataURL its
	// metadata in the API.
	URL         string
	PredictURL  string
	MetadataURL string
}

// modelPath is the path of the model's pages, /models/{name}, or of one
// version's, /models/{name}/versions/{version}, when version is not empty.
func modelPath(prefix, name, version string) string {
	p := prefix + "/models/" + url.PathEscape(name)
	if version != "" {
		p += "/versions/" + url.PathEscape(version)
	}
	return p
}

// newModelView returns e as a page shows it: with the unversioned URLs if
// versioned is false (e is then the default version), with those of its
// own version otherwise.
func newModelView(e *registry.Entry, isDefault, versioned bool) ModelView {
	name := e.Info.QualifiedName
	display := e.Info.DisplayName
	if display == "" {
		display = name
	}
	health := e.Health()
	version := ""
	if versioned {
		version = e.Info.Version
	}
	page, api := modelPath("", name, version), modelPath("/api", name, version)
	return ModelView{
		QualifiedName:  name,
		DisplayName:    display,
		Description:    e.Info.Description,
		Version:        e.Info.Version,
		Status:         string(health.Status),
		Ready:          health.Status == registry.StatusReady,
		ReadyAt:        e.ReadyAt,
		PredictTimeout: e.PredictTimeout,
		Default:        isDefault,
		Versioned:      versioned,
		ModelURL:       modelPath("", name, ""),
		URL:            page,
		PredictURL:     page + "/predict",
		MetadataURL:    api + "/metadata",
		APIPredictURL:  api + "/predict",
	}
}

// versionViews lists entries, the versions of one model (highest first),
// marking def as the default and current as the one the page shows (nil:
// none).
func versionViews(entries []*registry.Entry, def, current *registry.Entry) []VersionView {
	out := make([]VersionView, len(entries))
	for i, e := range entries {
		name, version := e.Info.QualifiedName, e.Info.Version
		page := modelPath("", name, version)
		out[i] = VersionView{
			Version:     version,
			Status:      string(e.Health().Status),
			Default:     e == def,
			Current:     e == current,
			URL:         page,
			PredictURL:  page + "/predict",
			MetadataURL: modelPath("/api", name, version) + "/metadata",
		}
	}
	return out
}

// page is what every template gets.
type page struct {
	// Title is the document title, before " · modelhost".
	Title string
	// Section is the navigation entry to mark as current: "models" or "".
	Section string
	// Data is the page's own data.
	Data any
}

// ModelCard is one model on the home page: its default version, and every
// version served.
type ModelCard struct {
	ModelView
	Versions []VersionView
}

func (u *UI) index(c echo.Context) error {
	entries := u.reg.List() // by name, then version, highest first
	var cards []ModelCard
	versions := 0
	for i := 0; i < len(entries); {
		j := i + 1
		for j < len(entries) && entries[j].Info.QualifiedName == entries[i].Info.QualifiedName {
			j++
		}
		group := entries[i:j]
		def := group[0]
		for _, e := range group {
			if u.reg.IsDefault(e) {
				def = e
				break
			}
		}
		cards = append(cards, ModelCard{ModelView: newModelView(def, true, false), Versions: versionViews(group, def, nil)})
		versions += len(group)
		i = j
	}
	return u.render(c, http.StatusOK, "index", page{
		Title:   "Models",
		Section: "models",
		Data: struct {
			Models    []ModelCard
			Versions  int
			PluginDir string
			DocsURL   string
		}{cards, versions, u.pluginDir, DocsURL},
	})
}

// modelPage is the data of a model's page and of its form.
type modelPage struct {
	Model ModelView
	// Versions lists every served version of the model, highest first.
	Versions []VersionView
	// DefaultVersion is the version the unversioned pages use.
	DefaultVersion string
}

func (u *UI) model(c echo.Context) error {
	mp, e, ok := u.lookup(c)
	if !ok {
		return u.notFoundPage(c)
	}
	input := NewSchemaView(e.InputSchema)
	curl := ""
	if len(input.Examples) > 0 {
		curl = curlExample(c, mp.Model, input.Examples[0])
	}
	title := mp.Model.DisplayName
	if mp.Model.Versioned {
		title += " " + mp.Model.Version
	}
	return u.render(c, http.StatusOK, "model", page{
		Title:   title,
		Section: "models",
		Data: struct {
			modelPage
			Input  SchemaView
			Output SchemaView
			Curl   string
		}{mp, input, NewSchemaView(e.OutputSchema), curl},
	})
}

// predictData is handed to the predict page's script in a JSON data block.
type predictData struct {
	QualifiedName string          `json:"qualified_name"`
	Version       string          `json:"version"`
	PredictURL    string          `json:"predict_url"`
	InputSchema   json.RawMessage `json:"input_schema"`
	OutputSchema  json.RawMessage `json:"output_schema"`
}

func (u *UI) predict(c echo.Context) error {
	mp, e, ok := u.lookup(c)
	if !ok {
		return u.notFoundPage(c)
	}
	m := mp.Model
	data := predictData{
		QualifiedName: m.QualifiedName,
		Version:       m.Version,
		PredictURL:    m.APIPredictURL,
		InputSchema:   e.InputSchema,
		OutputSchema:  e.OutputSchema,
	}
	input := NewSchemaView(e.InputSchema)
	title := "Predict · " + m.DisplayName
	if m.Versioned {
		title += " " + m.Version
	}
	return u.render(c, http.StatusOK, "predict", page{
		Title:   title,
		Section: "models",
		Data: struct {
			modelPage
			Script   predictData
			Examples int
		}{mp, data, len(input.Examples)},
	})
}

// maxVersionLength bounds the versions looked up: longer ones are not
// served, and are not echoed back whole on the 404 page either.
const maxVersionLength = 128

// lookup returns the model named in the URL, at the version in the URL or
// its default version, and its page's data.
func (u *UI) lookup(c echo.Context) (modelPage, *registry.Entry, bool) {
	name, version := c.Param("name"), c.Param("version")
	if !sdk.ValidQualifiedName(name) {
		return modelPage{}, nil, false
	}
	versioned := hasParam(c, "version")
	if versioned && (len(version) > maxVersionLength || !sdk.ValidVersion(version)) {
		return modelPage{}, nil, false
	}
	// One snapshot of the versions, so that the page is consistent even
	// while a reload changes them.
	all := u.reg.Versions(name)
	if len(all) == 0 {
		return modelPage{}, nil, false
	}
	def := all[0]
	for _, e := range all {
		if u.reg.IsDefault(e) {
			def = e
			break
		}
	}
	e := def
	if versioned {
		e = nil
		for _, v := range all {
			if v.Info.Version == version {
				e = v
			}
		}
		if e == nil {
			return modelPage{}, nil, false
		}
	}
	return modelPage{
		Model:          newModelView(e, e == def, versioned),
		Versions:       versionViews(all, def, e),
		DefaultVersion: def.Info.Version,
	}, e, true
}

// hasParam reports whether the route that matched c has the path
// parameter name.
func hasParam(c echo.Context, name string) bool {
	for _, n := range c.ParamNames() {
		if n == name {
			return true
		}
	}
	return false
}

// notFoundPage answers 404 with an HTML page. It is rendered here rather
// than returned as an error: the Echo error handler answers problem+json,
// which suits the API but not a browser.
func (u *UI) notFoundPage(c echo.Context) error {
	ep := errorPage{
		Status:  http.StatusNotFound,
		Heading: "Page not found",
		Detail:  "There is no page at this address.",
	}
	if name := c.Param("name"); name != "" {
		version := c.Param("version")
		if hasParam(c, "version") && sdk.ValidQualifiedName(name) {
			if vs := u.reg.Versions(name); len(vs) > 0 {
				served := make([]string, len(vs))
				for i, e := range vs {
					served[i] = e.Info.Version
				}
				ep.Detail = fmt.Sprintf("The model “%s” is served, but not at version “%s”. Its versions are %s.",
					name, shorten(version, maxVersionLength), strings.Join(served, ", "))
				ep.Link = &link{URL: modelPath("", name, ""), Text: "See this model"}
				return u.renderNotFound(c, ep)
			}
		}
		ep.Detail = fmt.Sprintf("No model called “%s” is served here.", shorten(name, sdk.MaxQualifiedNameLength))
	}
	return u.renderNotFound(c, ep)
}

func (u *UI) renderNotFound(c echo.Context, ep errorPage) error {
	return u.render(c, http.StatusNotFound, "error", page{Title: "Not found", Data: ep})
}

// shorten cuts s to at most n bytes, marking the cut.
func shorten(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

type errorPage struct {
	Status  int
	Heading string
	Detail  string
	// Link, if not nil, is offered besides the list of models.
	Link *link
}

type link struct {
	URL  string
	Text string
}

// fallbackPage is sent when a template itself fails.
const fallbackPage = `<!doctype html><html lang="en"><meta charset="utf-8"><title>Server error</title>` +
	`<h1>Server error</h1><p>The server could not show this page. The error has been logged.</p></html>`

// render executes the named page into a buffer first, so that a failing
// template never sends half a page.
func (u *UI) render(c echo.Context, status int, name string, p page) error {
	var buf bytes.Buffer
	if err := u.pages[name].Execute(&buf, p); err != nil {
		u.log.Error("template failed", "template", name, "path", c.Request().URL.Path, "error", err)
		return c.HTMLBlob(http.StatusInternalServerError, []byte(fallbackPage))
	}
	return c.HTMLBlob(status, buf.Bytes())
}

// curlExample is a command that sends example (indented JSON) to m.
func curlExample(c echo.Context, m ModelView, example string) string {
	var compact bytes.Buffer
	if err := json.Compact(&compact, []byte(example)); err != nil {
		return ""
	}
	body := compact.String()
	quoted := "'" + strings.ReplaceAll(body, "'", `'\''`) + "'"
	return fmt.Sprintf("curl -s %s%s \\\n  -H 'Content-Type: application/json' \\\n  -d %s", baseURL(c), m.APIPredictURL, quoted)
}

// baseURL is the scheme and host the request was made to.
func baseURL(c echo.Context) string {
	scheme := c.Scheme()
	host := c.Request().Host
	if host == "" {
		host = "127.0.0.1:8080"
	}
	return scheme + "://" + host
}
