package browser

import (
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modelhost/modelhost/host/internal/hosttest"
)

// greeterVersions serves the test plugin greeter (testdata/greeter) at
// 1.0.0 and 2.0.0, each built with its version and declared in a model
// block: 1.0.0 takes a name, 2.0.0 a name and a language.
func greeterVersions(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	var blocks []string
	for _, v := range []string{"1.0.0", "2.0.0"} {
		bin := filepath.Join(dir, "greeter-"+v)
		hosttest.Copy(t, builder.BuildWith(t, "./host/browser/testdata/greeter", map[string]string{"main.version": v}), bin, 0o755)
		blocks = append(blocks, fmt.Sprintf("model %q {\n  command = %q\n}", "greeter-"+v, bin))
	}
	return strings.Join(blocks, "\n")
}

// greeting is the answer of greeter.
type greeting struct {
	Greeting string `json:"greeting"`
	Version  string `json:"version"`
}

// resultJSON decodes the answer the predict page shows.
func resultJSON(t *testing.T, p *page) greeting {
	t.Helper()
	var g greeting
	text := eval[string](p, `document.getElementById('result-json').textContent`)
	if err := json.Unmarshal([]byte(text), &g); err != nil {
		t.Fatalf("result JSON %q: %v", text, err)
	}
	return g
}

// requested reports whether the page sent a request to path.
func requested(p *page, path string) bool {
	return eval[bool](p, fmt.Sprintf(`performance.getEntriesByType('resource').some(e => new URL(e.name).pathname === %q)`, path))
}

// TestVersions serves two versions of one model: the home page lists both,
// each version has its own page and form, built from its own input schema
// and posting to its own endpoint, and the unversioned form uses the
// default version.
func TestVersions(t *testing.T) {
	s := newSuite(t, greeterVersions(t))

	t.Run("home page lists both versions", func(t *testing.T) {
		p := s.newPage(t, 1280, 800, false)
		p.navigate("/")
		card := p.text("#model-greeter")
		wantContains(t, "greeter card", strings.ToLower(card), "greeter", "2 versions", "v2.0.0", "v1.0.0", "default", "ready")
		if got := eval[string](p, `document.querySelector('#model-greeter li[data-version="2.0.0"]').textContent`); !strings.Contains(got, "default") {
			t.Errorf("2.0.0 in the list = %q, want it marked default", got)
		}
		if got := eval[string](p, `document.querySelector('#model-greeter li[data-version="1.0.0"]').textContent`); strings.Contains(got, "default") {
			t.Errorf("1.0.0 in the list = %q, marked default", got)
		}
		if n := eval[int](p, `document.querySelectorAll('.model-card').length`); n != 4 {
			t.Errorf("%d cards, want 4: iris_model, sentiment, penguin_size, and greeter once", n)
		}

		// From the list to the page of 1.0.0, then to its form.
		p.clickAndWait(`#model-greeter li[data-version="1.0.0"] a`)
		if loc := eval[string](p, `location.pathname`); loc != "/models/greeter/versions/1.0.0" {
			t.Fatalf("after clicking v1.0.0: at %s", loc)
		}
		wantContains(t, "header", p.text(".model-header"), "Greeter", "1.0.0")
		wantContains(t, "facts", p.text(".facts"), "1.0.0 (the default is 2.0.0)", "/api/models/greeter/versions/1.0.0/metadata")
		wantContains(t, "versions", p.text("table.versions"), "2.0.0", "default", "1.0.0", "ready", "Try 1.0.0", "Metadata")
		input := p.text("#input-heading + p + .table-wrap table")
		if !strings.Contains(input, "name") || strings.Contains(input, "language") {
			t.Errorf("input fields of 1.0.0: %q, want name and not language", input)
		}
		p.clickAndWait(".model-header a.try")
		if loc := eval[string](p, `location.pathname`); loc != "/models/greeter/versions/1.0.0/predict" {
			t.Fatalf("after clicking Try it: at %s", loc)
		}
	})

	t.Run("the form of each version", func(t *testing.T) {
		p := s.newPage(t, 1280, 800, false)

		// 1.0.0: a name only; the answer comes from 1.0.0.
		p.navigate("/models/greeter/versions/1.0.0/predict")
		p.do(waitReady())
		if n := eval[int](p, `document.querySelectorAll('[data-schemapath="root.language"]').length`); n != 0 {
			t.Error("the form of 1.0.0 has the language field of 2.0.0")
		}
		p.fill(field("root.name", "input"), "Grace")
		p.click("#predict-button")
		wantContains(t, "result of 1.0.0", p.text("#result-view"), "Hello, Grace!")
		if g := resultJSON(t, p); g.Version != "1.0.0" || g.Greeting != "Hello, Grace!" {
			t.Errorf("answer %+v, want 1.0.0's greeting", g)
		}
		if !requested(p, "/api/models/greeter/versions/1.0.0/predict") {
			t.Error("the form of 1.0.0 did not post to /api/models/greeter/versions/1.0.0/predict")
		}

		// The version switch leads to the form of 2.0.0: a name and a
		// language, filled from its example; the answer comes from 2.0.0.
		p.clickAndWait(`.version-switch li[data-version="2.0.0"] a`)
		if loc := eval[string](p, `location.pathname`); loc != "/models/greeter/versions/2.0.0/predict" {
			t.Fatalf("after clicking 2.0.0: at %s", loc)
		}
		p.do(waitReady())
		p.waitFor(`document.querySelector('[data-schemapath="root.language"] select').value === 'fr'`)
		p.fill(field("root.name", "input"), "Grace")
		p.click("#predict-button")
		p.waitFor(`document.getElementById('result-json').textContent.includes('Bonjour, Grace')`)
		if g := resultJSON(t, p); g.Version != "2.0.0" {
			t.Errorf("answer %+v, want 2.0.0's", g)
		}
		if !requested(p, "/api/models/greeter/versions/2.0.0/predict") {
			t.Error("the form of 2.0.0 did not post to /api/models/greeter/versions/2.0.0/predict")
		}
		p.choose(field("root.language", "select"), "en")
		p.click("#predict-button")
		p.waitFor(`document.getElementById('result-json').textContent.includes('Hello, Grace!')`)

		// The unversioned form is the default version's, 2.0.0.
		p.navigate("/models/greeter/predict")
		p.do(waitReady())
		p.do(waitVisible(field("root.language", "select")))
		p.click("#predict-button")
		p.waitFor(`document.getElementById('result-json').textContent.includes('"2.0.0"')`)
		if !requested(p, "/api/models/greeter/predict") {
			t.Error("the unversioned form did not post to /api/models/greeter/predict")
		}
	})

	t.Run("screenshot", func(t *testing.T) {
		// docs/screenshot-versions.png, with -update-screenshots.
		p := s.newPage(t, 1280, 800, false)
		p.navigate("/models/greeter/versions/2.0.0/predict")
		p.do(waitReady())
		p.fill(field("root.name", "input"), "Grace")
		p.click("#predict-button")
		p.waitFor(`document.getElementById('result-json').textContent.includes('Bonjour, Grace')`)
		saveScreenshot(t, p, "versions")
	})

	t.Run("unknown version", func(t *testing.T) {
		p := s.newPage(t, 1280, 800, false)
		p.allow("status of 404")
		for _, path := range []string{"/models/greeter/versions/3.0.0", "/models/greeter/versions/3.0.0/predict"} {
			if status := p.navigate(path); status != http.StatusNotFound {
				t.Errorf("GET %s: status %d, want 404", path, status)
			}
			wantContains(t, path, p.text("main"), "404", "Page not found", "not at version", "2.0.0, 1.0.0", "See this model")
		}
		p.clickAndWait("main a[href='/models/greeter']")
		p.do(waitVisible("table.versions"))
	})

	t.Run("phone width", func(t *testing.T) {
		p := s.newPage(t, 390, 844, true)
		for _, path := range []string{"/", "/models/greeter", "/models/greeter/versions/1.0.0", "/models/greeter/versions/1.0.0/predict"} {
			p.navigate(path)
			if strings.HasSuffix(path, "/predict") {
				p.do(waitReady())
			}
			if w := eval[int](p, `document.documentElement.scrollWidth - window.innerWidth`); w > 0 {
				t.Errorf("%s at 390px: the page is %dpx wider than the screen", path, w)
			}
		}
	})
}
