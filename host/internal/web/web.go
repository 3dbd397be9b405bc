package web

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
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
//	GET /                               the models
//	GET /models/:name                   one model: metadata, input and output fields
//	GET /models/:name/predict           a form to run a prediction
//	GET /models/*                       an HTML 404 page
//	GET /static/:hash/*                 stylesheets, scripts and vendored libraries
//	GET /favicon.ico                    the icon
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
	e.GET("/models/*", u.notFoundPage, securityHeaders)
	e.GET("/models", u.notFoundPage, securityHeaders)
	e.GET(staticPrefix+"*", u.assets.serve)
	e.GET("/favicon.ico", u.favicon)
}

// favicon answers the browsers that ask for /favicon.ico whatever the page
// says, such as on the API's JSON documents, with the SVG icon.
func (u *UI) favicon(c echo.Context) error {
	f := u.assets["favicon.svg"]
	h := c.Response().Header()
	h.Set("Cache-Control", "public, max-age=86400")
	h.Set("X-Content-Type-Options", "nosniff")
	return c.Blob(http.StatusOK, f.contentType, f.body)
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

// ModelView is a model as the templates show it.
type ModelView struct {
	QualifiedName  string
	DisplayName    string
	Description    string
	Version        string
	Status         string
	Ready          bool
	ReadyAt        time.Time
	PredictTimeout time.Duration
	URL            string
	PredictURL     string
	MetadataURL    string
	APIPredictURL  string
}

func newModelView(e *registry.Entry) ModelView {
	name := e.Info.QualifiedName
	display := e.Info.DisplayName
	if display == "" {
		display = name
	}
	health := e.Health()
	return ModelView{
		QualifiedName:  name,
		DisplayName:    display,
		Description:    e.Info.Description,
		Version:        e.Info.Version,
		Status:         string(health.Status),
		Ready:          health.Status == registry.StatusReady,
		ReadyAt:        e.ReadyAt,
		PredictTimeout: e.PredictTimeout,
		URL:            "/models/" + name,
		PredictURL:     "/models/" + name + "/predict",
		MetadataURL:    "/api/models/" + name + "/metadata",
		APIPredictURL:  "/api/models/" + name + "/predict",
	}
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

func (u *UI) index(c echo.Context) error {
	entries := u.reg.List()
	models := make([]ModelView, len(entries))
	for i, e := range entries {
		models[i] = newModelView(e)
	}
	return u.render(c, http.StatusOK, "index", page{
		Title:   "Models",
		Section: "models",
		Data: struct {
			Models    []ModelView
			PluginDir string
			DocsURL   string
		}{models, u.pluginDir, DocsURL},
	})
}

func (u *UI) model(c echo.Context) error {
	e, ok := u.lookup(c)
	if !ok {
		return u.notFoundPage(c)
	}
	m := newModelView(e)
	input := NewSchemaView(e.InputSchema)
	curl := ""
	if len(input.Examples) > 0 {
		curl = curlExample(c, m, input.Examples[0])
	}
	return u.render(c, http.StatusOK, "model", page{
		Title:   m.DisplayName,
		Section: "models",
		Data: struct {
			Model  ModelView
			Input  SchemaView
			Output SchemaView
			Curl   string
		}{m, input, NewSchemaView(e.OutputSchema), curl},
	})
}

// predictData is handed to the predict page's script in a JSON data block.
type predictData struct {
	QualifiedName string          `json:"qualified_name"`
	PredictURL    string          `json:"predict_url"`
	InputSchema   json.RawMessage `json:"input_schema"`
	OutputSchema  json.RawMessage `json:"output_schema"`
}

func (u *UI) predict(c echo.Context) error {
	e, ok := u.lookup(c)
	if !ok {
		return u.notFoundPage(c)
	}
	m := newModelView(e)
	data := predictData{
		QualifiedName: m.QualifiedName,
		PredictURL:    m.APIPredictURL,
		InputSchema:   e.InputSchema,
		OutputSchema:  e.OutputSchema,
	}
	input := NewSchemaView(e.InputSchema)
	return u.render(c, http.StatusOK, "predict", page{
		Title:   "Predict · " + m.DisplayName,
		Section: "models",
		Data: struct {
			Model    ModelView
			Script   predictData
			Examples int
		}{m, data, len(input.Examples)},
	})
}

// lookup returns the model named in the URL.
func (u *UI) lookup(c echo.Context) (*registry.Entry, bool) {
	name := c.Param("name")
	if name == "" || len(name) > sdk.MaxQualifiedNameLength {
		return nil, false
	}
	e, err := u.reg.Get(name)
	return e, err == nil
}

// notFoundPage answers 404 with an HTML page. It is rendered here rather
// than returned as an error: the Echo error handler answers problem+json,
// which suits the API but not a browser.
func (u *UI) notFoundPage(c echo.Context) error {
	detail := "There is no page at this address."
	if name := c.Param("name"); name != "" {
		if len(name) > sdk.MaxQualifiedNameLength {
			name = name[:sdk.MaxQualifiedNameLength] + "…"
		}
		detail = fmt.Sprintf("No model called “%s” is served here.", name)
	}
	return u.render(c, http.StatusNotFound, "error", page{
		Title: "Not found",
		Data: errorPage{
			Status:  http.StatusNotFound,
			Heading: "Page not found",
			Detail:  detail,
		},
	})
}

type errorPage struct {
	Status  int
	Heading string
	Detail  string
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
