package browser

import (
	"bytes"
	"flag"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/modelhost/modelhost/host/internal/hosttest"
)

var updateScreenshots = flag.Bool("update-screenshots", false,
	"write the screenshots of the web UI into docs/ (also with MODELHOST_UPDATE_SCREENSHOTS=1)")

// TestScreenshots takes the screenshots that README.md and docs/web-ui.md
// show, at 1280 CSS pixels wide. It always checks that each page renders;
// with -update-screenshots it also writes them as docs/screenshot-*.png.
func TestScreenshots(t *testing.T) {
	s := newSuite(t)
	save := func(p *page, name string) { saveScreenshot(t, p, name) }

	p := s.newPage(t, 1280, 800, false)
	p.navigate("/")
	p.do(waitVisible("#model-iris_model"))
	save(p, "index")

	p.navigate("/models/iris_model")
	p.do(waitVisible("table.fields"))
	save(p, "model")

	p.navigate("/models/iris_model/predict")
	p.do(waitReady())
	p.fill(field("root.petal_length", "input"), "4.2")
	p.fill(field("root.petal_width", "input"), "1.5")
	p.fill(field("root.sepal_length", "input"), "5.9")
	p.fill(field("root.sepal_width", "input"), "3.0")
	p.click("#predict-button")
	p.waitFor(`document.getElementById('result-highlight').textContent.includes('versicolor')`)
	save(p, "predict-iris")

	p.navigate("/models/sentiment/predict")
	p.do(waitReady())
	p.choose(field("root.granularity", "select"), "sentence")
	p.click("#predict-button")
	p.do(waitVisible("#result .result-item"))
	save(p, "predict-sentiment")

	if p.navigate("/docs") == 200 {
		p.waitFor(`document.body.innerText.includes('/api/models/iris_model/predict')`)
		save(p, "docs")
	} else {
		t.Error("GET /docs did not answer 200: no screenshot of the API docs")
		p.allow("status of 404")
	}
}

// saveScreenshot takes a screenshot of p, checks that it is 1280 pixels
// wide, and with -update-screenshots writes it as
// docs/screenshot-NAME.png.
func saveScreenshot(t *testing.T, p *page, name string) {
	t.Helper()
	b := p.screenshot()
	cfg, err := png.DecodeConfig(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s: not a PNG: %v", name, err)
	}
	if cfg.Width != 1280 || cfg.Height < 400 {
		t.Errorf("%s: %dx%d pixels, want 1280 wide and at least 400 high", name, cfg.Width, cfg.Height)
	}
	if !*updateScreenshots && os.Getenv("MODELHOST_UPDATE_SCREENSHOTS") != "1" {
		return
	}
	root, err := hosttest.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(root, "docs", "screenshot-"+name+".png")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s (%dx%d)", path, cfg.Width, cfg.Height)
}
