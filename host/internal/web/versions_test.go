package web

import (
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modelhost/modelhost/host/internal/registry"
	"github.com/modelhost/modelhost/sdk"
)

// The two versions of greeter have different input schemas: 1.0.0 takes
// a name, 2.0.0 a name and a language.
const (
	greeterV1Input = `{
		"type": "object",
		"properties": {"name": {"type": "string", "title": "Name", "examples": ["Ada"]}},
		"required": ["name"],
		"additionalProperties": false,
		"examples": [{"name": "Ada"}]
	}`
	greeterV2Input = `{
		"type": "object",
		"properties": {
			"name": {"type": "string", "title": "Name"},
			"language": {"type": "string", "enum": ["en", "fr"], "title": "Language"}
		},
		"required": ["name", "language"],
		"additionalProperties": false,
		"examples": [{"name": "Ada", "language": "fr"}, {"name": "Alan", "language": "en"}]
	}`
	greeterOutput = `{"type": "object", "properties": {"greeting": {"type": "string"}}}`
)

// versionsRegistry serves iris_model at one version and greeter at 1.0.0
// and 2.0.0; pins maps names to pinned versions.
func versionsRegistry(t *testing.T, pins map[string]string) *registry.Registry {
	t.Helper()
	reg := registry.New()
	for _, m := range []*fakeModel{
		{
			info:   sdk.Info{QualifiedName: "iris_model", DisplayName: "Iris species classifier", Version: "1.0.0"},
			input:  irisInput,
			output: `{"type": "object"}`,
		},
		{
			info:   sdk.Info{QualifiedName: "greeter", DisplayName: "Greeter", Description: "Greets in English.", Version: "1.0.0"},
			input:  greeterV1Input,
			output: greeterOutput,
		},
		{
			info:   sdk.Info{QualifiedName: "greeter", DisplayName: "Greeter", Description: "Greets in two languages.", Version: "2.0.0"},
			input:  greeterV2Input,
			output: greeterOutput,
		},
	} {
		e, err := registry.NewEntry(m, "test", 5*time.Second)
		if err != nil {
			t.Fatalf("registry.NewEntry(%s %s): %v", m.info.QualifiedName, m.info.Version, err)
		}
		if err := reg.Add(e); err != nil {
			t.Fatal(err)
		}
	}
	reg.SetPins(pins)
	return reg
}

// inputProperties returns the property names of a predict page's input
// schema, sorted.
func inputProperties(t *testing.T, d predictData) []string {
	t.Helper()
	var schema struct {
		Properties map[string]any `json:"properties"`
	}
	if err := json.Unmarshal(d.InputSchema, &schema); err != nil {
		t.Fatalf("input schema in the page: %v", err)
	}
	var names []string
	for n := range schema.Properties {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// card returns the HTML of the index's card of a model.
func card(t *testing.T, body, name string) string {
	t.Helper()
	m := regexp.MustCompile(`(?s)<article class="model-card" id="model-` + regexp.QuoteMeta(name) + `">.*?</article>`).FindString(body)
	if m == "" {
		t.Fatalf("no card for %s in the page", name)
	}
	return m
}

func TestIndexVersions(t *testing.T) {
	e := testServer(t, versionsRegistry(t, nil), Options{})
	body := wantPage(t, get(e, "/"), http.StatusOK, "2 models (3 versions) are ready")
	if n := strings.Count(body, `class="model-card"`); n != 2 {
		t.Errorf("%d cards, want one per model name (2)", n)
	}
	greeter := card(t, body, "greeter")
	// The card shows the default version, the highest, and lists both,
	// each linked to its page, the default marked.
	for _, want := range []string{
		"Greets in two languages.", `<span class="badge">v2.0.0</span>`, "2 versions",
		`<li data-version="2.0.0"><a href="/models/greeter/versions/2.0.0">v2.0.0</a> <span class="badge default-badge">default</span>`,
		`<li data-version="1.0.0"><a href="/models/greeter/versions/1.0.0">v1.0.0</a> <span class="badge status`,
		`href="/models/greeter/predict"`, `href="/models/greeter"`,
	} {
		if !strings.Contains(greeter, want) {
			t.Errorf("greeter's card lacks %q:\n%s", want, greeter)
		}
	}
	if strings.Index(greeter, `data-version="2.0.0"`) > strings.Index(greeter, `data-version="1.0.0"`) {
		t.Error("versions are not listed highest first")
	}
	if n := strings.Count(greeter, "default-badge"); n != 2 {
		t.Errorf("%d default badges on greeter's card, want 2 (the card's and the list's)", n)
	}
	// A model served in one version has neither a list nor a badge.
	iris := card(t, body, "iris_model")
	if strings.Contains(iris, "version-list") || strings.Contains(iris, "default-badge") {
		t.Errorf("iris_model, served in one version, lists versions:\n%s", iris)
	}

	// A pinned version is the default, though not the highest.
	e = testServer(t, versionsRegistry(t, map[string]string{"greeter": "1.0.0"}), Options{})
	greeter = card(t, wantPage(t, get(e, "/"), http.StatusOK), "greeter")
	for _, want := range []string{
		"Greets in English.", `<span class="badge">v1.0.0</span>`,
		`<li data-version="1.0.0"><a href="/models/greeter/versions/1.0.0">v1.0.0</a> <span class="badge default-badge">default</span>`,
	} {
		if !strings.Contains(greeter, want) {
			t.Errorf("with 1.0.0 pinned, greeter's card lacks %q:\n%s", want, greeter)
		}
	}
	if strings.Contains(greeter, `v2.0.0</a> <span class="badge default-badge">`) {
		t.Error("with 1.0.0 pinned, 2.0.0 is marked default")
	}
}

func TestModelPageVersions(t *testing.T) {
	e := testServer(t, versionsRegistry(t, nil), Options{})

	// The unversioned page shows the default version, with unversioned
	// links, and lists every version.
	body := wantPage(t, get(e, "/models/greeter"), http.StatusOK,
		"Greets in two languages.", "language", "2.0.0 (the default)",
		`href="/models/greeter/predict"`, `href="/api/models/greeter/metadata"`,
		"curl -s http://example.com/api/models/greeter/predict",
		`<h2 id="versions-heading">Versions</h2>`,
		`<a href="/models/greeter/versions/2.0.0" aria-current="page">2.0.0</a> <span class="badge default-badge">default</span>`,
		`<a href="/models/greeter/versions/1.0.0">1.0.0</a>`,
		`href="/models/greeter/versions/1.0.0/predict"`, `href="/api/models/greeter/versions/1.0.0/metadata"`,
	)
	if strings.Count(body, `<tr data-version=`) != 2 {
		t.Error("the versions table does not have one row per version")
	}

	// The page of 1.0.0 describes 1.0.0, from its own schema, with links
	// to its own form and endpoints.
	body = wantPage(t, get(e, "/models/greeter/versions/1.0.0"), http.StatusOK,
		"<title>Greeter 1.0.0 · modelhost</title>",
		"Greets in English.", "1.0.0 (the default is 2.0.0)",
		`<li><a href="/models/greeter">Greeter</a></li>`, "<li>v1.0.0</li>",
		`href="/models/greeter/versions/1.0.0/predict" role="button" class="try"`,
		`href="/api/models/greeter/versions/1.0.0/metadata"`,
		"curl -s http://example.com/api/models/greeter/versions/1.0.0/predict",
		`<a href="/models/greeter/versions/1.0.0" aria-current="page">1.0.0</a>`,
	)
	if strings.Contains(body, "language") {
		t.Error("the page of 1.0.0 shows a field of 2.0.0")
	}
	if strings.Contains(body, `<span class="badge">v1.0.0</span> <span class="badge default-badge">`) {
		t.Error("1.0.0 is marked default in its header")
	}

	// The default version's own page says it is the default.
	wantPage(t, get(e, "/models/greeter/versions/2.0.0"), http.StatusOK,
		`<span class="badge">v2.0.0</span> <span class="badge default-badge">default</span>`, "2.0.0 (the default)",
		"curl -s http://example.com/api/models/greeter/versions/2.0.0/predict")

	// A model served in one version has no versions section, and its
	// versioned page works too.
	body = wantPage(t, get(e, "/models/iris_model"), http.StatusOK)
	if strings.Contains(body, "versions-heading") || strings.Contains(body, "default") {
		t.Error("a model served in one version has a versions section or a default mark")
	}
	wantPage(t, get(e, "/models/iris_model/versions/1.0.0"), http.StatusOK,
		"sepal_length", `href="/models/iris_model/versions/1.0.0/predict"`)
}

func TestPredictPageVersions(t *testing.T) {
	e := testServer(t, versionsRegistry(t, nil), Options{})
	for _, tc := range []struct {
		path, version, apiURL string
		properties            []string
		examples              int
	}{
		{"/models/greeter/versions/1.0.0/predict", "1.0.0", "/api/models/greeter/versions/1.0.0/predict", []string{"name"}, 1},
		{"/models/greeter/versions/2.0.0/predict", "2.0.0", "/api/models/greeter/versions/2.0.0/predict", []string{"language", "name"}, 2},
		{"/models/greeter/predict", "2.0.0", "/api/models/greeter/predict", []string{"language", "name"}, 2}, // the default
	} {
		t.Run(tc.path, func(t *testing.T) {
			body := wantPage(t, get(e, tc.path), http.StatusOK, "Try Greeter", `id="predict-form"`,
				`<nav class="version-switch" aria-label="Versions of Greeter">`)
			d := modelData(t, body)
			if d.PredictURL != tc.apiURL || d.Version != tc.version || d.QualifiedName != "greeter" {
				t.Errorf("model data = %s %s %s, want greeter %s %s", d.QualifiedName, d.Version, d.PredictURL, tc.version, tc.apiURL)
			}
			// The form is built from this version's input schema.
			if got := inputProperties(t, d); !slices.Equal(got, tc.properties) {
				t.Errorf("input schema properties %v, want %v", got, tc.properties)
			}
			if got := strings.Count(body, `<option value=`); got != tc.examples {
				t.Errorf("%d examples offered, want %d", got, tc.examples)
			}
			if !strings.Contains(body, `<li data-version="`+tc.version+`"><a href="/models/greeter/versions/`+tc.version+`/predict" aria-current="page">`) {
				t.Errorf("the version switch does not mark %s as current", tc.version)
			}
		})
	}
	wantPage(t, get(e, "/models/greeter/versions/1.0.0/predict"), http.StatusOK,
		"<title>Predict · Greeter 1.0.0 · modelhost</title>",
		`<li><a href="/models/greeter">Greeter</a></li>`, `<li><a href="/models/greeter/versions/1.0.0">v1.0.0</a></li>`)

	// A pin moves the unversioned form to the pinned version.
	e = testServer(t, versionsRegistry(t, map[string]string{"greeter": "1.0.0"}), Options{})
	d := modelData(t, wantPage(t, get(e, "/models/greeter/predict"), http.StatusOK))
	if got := inputProperties(t, d); d.Version != "1.0.0" || d.PredictURL != "/api/models/greeter/predict" || !slices.Equal(got, []string{"name"}) {
		t.Errorf("with 1.0.0 pinned, the unversioned form is of %s (%v), posting to %s", d.Version, got, d.PredictURL)
	}

	// A model served in one version has no version switch.
	if body := wantPage(t, get(e, "/models/iris_model/versions/1.0.0/predict"), http.StatusOK); strings.Contains(body, "version-switch") {
		t.Error("a model served in one version has a version switch")
	} else if d := modelData(t, body); d.PredictURL != "/api/models/iris_model/versions/1.0.0/predict" {
		t.Errorf("iris_model 1.0.0 posts to %s", d.PredictURL)
	}
}

func TestVersionNotFound(t *testing.T) {
	e := testServer(t, versionsRegistry(t, nil), Options{})
	for _, path := range []string{"/models/greeter/versions/3.0.0", "/models/greeter/versions/3.0.0/predict", "/models/greeter/versions/1.0"} {
		t.Run(path, func(t *testing.T) {
			wantPage(t, get(e, path), http.StatusNotFound, "Page not found",
				"The model “greeter” is served, but not at version", "Its versions are 2.0.0, 1.0.0.",
				`<a href="/models/greeter" role="button">See this model</a>`, `href="/"`)
		})
	}
	for _, path := range []string{
		"/models/nope/versions/1.0.0", "/models/nope/versions/1.0.0/predict",
		"/models/greeter/versions", "/models/greeter/versions/", "/models/greeter/versions/1.0.0/other",
		"/models/greeter/versions/" + strings.Repeat("1", 300), "/models/greeter/versions/v1.0.0",
		"/models/greeter/versions/%3Cscript%3E",
	} {
		t.Run(path, func(t *testing.T) {
			body := wantPage(t, get(e, path), http.StatusNotFound, "Page not found", `href="/"`)
			if strings.Contains(body, "<script>") {
				t.Error("the version in the URL is not escaped")
			}
			if len(body) > 10000 {
				t.Errorf("the 404 page is %d bytes long", len(body))
			}
		})
	}
}
