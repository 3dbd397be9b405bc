package browser

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

// field is the CSS selector of the form control of a json-editor path.
func field(path, control string) string {
	return `[data-schemapath="` + path + `"] ` + control
}

// fieldError is the CSS selector of the error shown next to a field.
func fieldError(path string) string {
	return `[data-schemapath="` + path + `"] .field-error`
}

func wantContains(t *testing.T, what, got string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(got, w) {
			t.Errorf("%s: %q does not contain %q", what, got, w)
		}
	}
}

func TestUI(t *testing.T) {
	s := newSuite(t)

	t.Run("headers", func(t *testing.T) {
		for _, path := range []string{"/", "/models/iris_model", "/models/iris_model/predict", "/models/nope"} {
			res := s.host.Get(t, path)
			for k, want := range map[string]string{
				"Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'",
				"X-Content-Type-Options":  "nosniff",
				"Referrer-Policy":         "no-referrer",
				"X-Frame-Options":         "DENY",
				"Content-Type":            "text/html; charset=UTF-8",
			} {
				if got := res.Header.Get(k); !strings.HasPrefix(got, want) {
					t.Errorf("GET %s: %s = %q, want %q", path, k, got, want)
				}
			}
		}
		if res := s.host.Get(t, "/models/nope"); res.Status != http.StatusNotFound {
			t.Errorf("GET /models/nope: status %d, want 404", res.Status)
		}
		// The API keeps answering problem details.
		res := s.host.Get(t, "/api/models/nope/metadata")
		if ct := res.Header.Get("Content-Type"); res.Status != http.StatusNotFound || ct != "application/problem+json" {
			t.Errorf("GET /api/models/nope/metadata: %d %s, want 404 application/problem+json", res.Status, ct)
		}
	})

	t.Run("iris from the home page", func(t *testing.T) {
		p := s.newPage(t, 1280, 800, false)
		p.allow("status of 422") // the browser reports the 422 the test provokes
		if status := p.navigate("/"); status != http.StatusOK {
			t.Fatalf("GET /: status %d", status)
		}
		wantContains(t, "iris card", p.text("#model-iris_model"),
			"Iris species classifier", "iris_model", "1.0.0", "ready", "Try it")
		wantContains(t, "sentiment card", p.text("#model-sentiment"), "Sentiment (AFINN-165)", "sentiment")

		p.clickAndWait("#model-iris_model a.try")
		if loc := eval[string](p, `location.pathname`); loc != "/models/iris_model/predict" {
			t.Fatalf("after clicking Try it: at %s, want /models/iris_model/predict", loc)
		}
		p.do(waitReady())
		for path, v := range map[string]string{
			"root.sepal_length": "5.1",
			"root.sepal_width":  "3.5",
			"root.petal_length": "1.4",
			"root.petal_width":  "0.2",
		} {
			p.fill(field(path, "input"), v)
		}
		p.click("#predict-button")
		wantContains(t, "result", strings.ToLower(p.text("#result-highlight")), "species", "setosa", "probability")
		wantContains(t, "result details", p.text("#result-view"), "Probabilities", "setosa", "versicolor", "virginica", "%")
		var out struct {
			Species string `json:"species"`
		}
		if err := json.Unmarshal([]byte(eval[string](p, `document.getElementById('result-json').textContent`)), &out); err != nil || out.Species != "setosa" {
			t.Errorf("result JSON: %+v, %v; want species setosa", out, err)
		}

		// Out of range: the server's 422 is shown next to the field.
		p.fill(field("root.petal_width", "input"), "-3")
		p.click("#predict-button")
		wantContains(t, "petal width error", p.text(fieldError("root.petal_width")), "must be greater than 0, got -3")
		wantContains(t, "problem", p.text("#problem"), "Invalid input", "422", "Petal width", "must be greater than 0, got -3")
		if got := eval[string](p, `document.querySelector('[data-schemapath="root.petal_width"] input').getAttribute('aria-invalid')`); got != "true" {
			t.Errorf("petal width aria-invalid = %q, want true", got)
		}
		if eval[bool](p, `!document.getElementById('result').hidden`) {
			t.Error("the previous result is still shown after a 422")
		}

		p.fill(field("root.petal_width", "input"), "99")
		p.click("#predict-button")
		p.waitFor(`(document.querySelector('[data-schemapath="root.petal_width"] .field-error') || {}).textContent?.includes('must be at most 5, got 99')`)

		// Correcting the value clears the error, and the prediction works.
		p.fill(field("root.petal_width", "input"), "2.3")
		p.waitFor(`!document.querySelector('[data-schemapath="root.petal_width"] .field-error:not([hidden])')`)
		p.fill(field("root.petal_length", "input"), "5.2")
		p.fill(field("root.sepal_length", "input"), "6.7")
		p.fill(field("root.sepal_width", "input"), "3.0")
		p.click("#predict-button")
		p.waitFor(`document.getElementById('result-highlight').textContent.includes('virginica')`)
		if !eval[bool](p, `document.getElementById('problem').hidden`) {
			t.Error("the problem is still shown after a successful prediction")
		}
	})

	t.Run("sentiment with nested and array fields", func(t *testing.T) {
		p := s.newPage(t, 1280, 900, false)
		p.navigate("/models/sentiment/predict")
		p.do(waitReady())
		// Pre-filled from the schema's first example.
		if got := eval[string](p, `document.querySelector('[data-schemapath="root.documents.0.text"] textarea').value`); !strings.Contains(got, "battery life") {
			t.Errorf("first document = %q, want the example's text", got)
		}
		wantContains(t, "form", p.text("#editor"), "Documents", "Text", "Granularity", "Options", "Negation", "Neutral threshold")
		// The example is valid: no error is left from before it was filled in.
		p.waitFor(`document.querySelectorAll('#editor .field-error:not([hidden]), #editor [aria-invalid=true]').length === 0`)

		p.click(`[data-schemapath="root.documents"] .json-editor-btntype-add:not(.je-modal *)`)
		p.fill(field("root.documents.1.text", "textarea"), "This is terrible. I hate it and it is awful.")
		p.fill(field("root.documents.1.id", "input"), "review-2")
		p.choose(field("root.granularity", "select"), "sentence")
		p.click("#predict-button")
		p.do(waitVisible("#result"))

		var out struct {
			Results []struct {
				ID        string `json:"id"`
				Label     string `json:"label"`
				Sentences []struct {
					Label string `json:"label"`
				} `json:"sentences"`
			} `json:"results"`
		}
		if err := json.Unmarshal([]byte(eval[string](p, `document.getElementById('result-json').textContent`)), &out); err != nil {
			t.Fatal(err)
		}
		if len(out.Results) != 2 {
			t.Fatalf("got %d results, want 2: %+v", len(out.Results), out)
		}
		if r := out.Results[1]; r.ID != "review-2" || r.Label != "negative" || len(r.Sentences) != 2 {
			t.Errorf("second result = %+v, want review-2, negative, 2 sentences", r)
		}
		view := p.text("#result-view")
		wantContains(t, "result view", view, "Result 1", "Result 2", "review-1", "review-2", "negative", "Sentences")
		if n := eval[int](p, `document.querySelectorAll('#result-view mark.result-label').length`); n < 4 {
			t.Errorf("%d highlighted labels, want one per result and per sentence", n)
		}

		// A nested field's server error: an empty text is refused.
		p.allow("status of 422")
		p.fill(field("root.documents.1.text", "textarea"), "...")
		p.click("#predict-button")
		wantContains(t, "nested field error", p.text(fieldError("root.documents.1.text")), "no words to score")
		wantContains(t, "problem", p.text("#problem"), "Documents › #2 › Text")
	})

	t.Run("bounds checked in the browser too", func(t *testing.T) {
		// penguin_size has a minimum, which json-editor checks as well: its
		// message from before the example was filled in must not linger,
		// and an out-of-range value is marked next to the field, by
		// json-editor or by the server's 422.
		p := s.newPage(t, 1280, 800, false)
		p.allow("status of 422")
		p.navigate("/models/penguin_size/predict")
		p.do(waitReady())
		p.waitFor(`document.querySelector('[data-schemapath="root.flipper_length_mm"] input').value === '190'`)
		if n := eval[int](p, `document.querySelectorAll('#editor .field-error:not([hidden]), #editor [aria-invalid=true]').length`); n != 0 {
			t.Errorf("%d field errors shown on the example, want none: %s", n, p.text("#editor"))
		}
		p.fill(field("root.flipper_length_mm", "input"), "100")
		// json-editor marks the field on blur, which moves the button down:
		// wait for the mark before clicking, or the click lands where the
		// button was.
		wantContains(t, "flipper length error", p.text(fieldError("root.flipper_length_mm")), "150")
		p.click("#predict-button")
		wantContains(t, "problem", p.text("#problem"), "422", "must be at least 150, got 100")
		p.fill(field("root.flipper_length_mm", "input"), "200")
		// The mark goes away on blur and the button moves up: wait for that
		// before clicking, for the same reason as above.
		p.waitFor(`document.querySelectorAll('#editor .field-error:not([hidden])').length === 0`)
		p.click("#predict-button")
		wantContains(t, "result", p.text("#result-view"), "Body mass")
	})

	t.Run("model page", func(t *testing.T) {
		p := s.newPage(t, 1280, 800, false)
		p.navigate("/models/sentiment")
		wantContains(t, "header", p.text(".model-header"), "Sentiment (AFINN-165)", "sentiment", "1.0.0", "ready")
		input := p.text("#input-heading + p + .table-wrap table")
		// Nested fields from $defs are resolved and listed under their parent.
		wantContains(t, "input fields", input, "documents", "array of Document objects", "1 to 100 items",
			"text", "1 to 10000 characters", "granularity", "document", "sentence", "neutral_threshold", "at most 5")
		rows := eval[[]string](p, `[...document.querySelectorAll('table.fields')[0].querySelectorAll('tbody tr')].map(r => r.className + ' ' + r.querySelector('th code').textContent)`)
		want := []string{"depth-0 documents", "depth-1 id", "depth-1 text", "depth-0 granularity", "depth-0 options", "depth-1 negation", "depth-1 neutral_threshold", "depth-1 explain"}
		if strings.Join(rows, ",") != strings.Join(want, ",") {
			t.Errorf("input rows = %q, want %q", rows, want)
		}
		// The raw schema is one click away.
		p.click("#input-heading ~ details.raw-schema summary")
		wantContains(t, "raw schema", p.text("#input-heading ~ details.raw-schema pre"), `"$defs"`, `"Document"`)

		p.navigate("/models/iris_model")
		wantContains(t, "iris input", p.text("#input-heading + p + .table-wrap table"), "sepal_length", "Sepal length", "more than 0", "at most 12", "required", "5.1")
		wantContains(t, "iris output", p.text("#output-heading + p + .table-wrap table"), "species", "setosa", "versicolor", "probabilities", "Probabilities (object)")
		p.clickAndWait(".model-header a.try")
		p.do(waitReady())
	})

	t.Run("not found", func(t *testing.T) {
		p := s.newPage(t, 1280, 800, false)
		p.allow("status of 404")
		for _, path := range []string{"/models/nope", "/models/nope/predict", "/models/iris_model/nothing"} {
			if status := p.navigate(path); status != http.StatusNotFound {
				t.Errorf("GET %s: status %d, want 404", path, status)
			}
			wantContains(t, path, p.text("main"), "404", "Page not found")
		}
		p.clickAndWait("main a[href='/']")
		p.do(waitVisible("#model-iris_model"))
	})

	t.Run("phone width", func(t *testing.T) {
		p := s.newPage(t, 390, 844, true)
		p.allow("status of 422")
		for _, path := range []string{"/", "/models/iris_model", "/models/sentiment", "/models/sentiment/predict", "/models/iris_model/predict"} {
			p.navigate(path)
			if path == "/models/iris_model/predict" || path == "/models/sentiment/predict" {
				p.do(waitReady())
			}
			if w := eval[int](p, `document.documentElement.scrollWidth - window.innerWidth`); w > 0 {
				t.Errorf("%s at 390px: the page is %dpx wider than the screen", path, w)
			}
		}
		p.fill(field("root.petal_width", "input"), "-1")
		p.click("#predict-button")
		wantContains(t, "error at phone width", p.text(fieldError("root.petal_width")), "must be greater than 0")
		p.fill(field("root.petal_width", "input"), "0.2")
		p.click("#predict-button")
		wantContains(t, "result at phone width", p.text("#result-highlight"), "setosa")
	})

	t.Run("keyboard", func(t *testing.T) {
		p := s.newPage(t, 1280, 800, false)
		p.navigate("/models/iris_model/predict")
		p.do(waitReady())
		// Enter in a field sends the form.
		p.fill(field("root.sepal_length", "input"), "5.0")
		p.do(sendKeys(field("root.petal_width", "input"), "\r"))
		wantContains(t, "result after Enter", p.text("#result-highlight"), "setosa")
	})

	t.Run("api docs", func(t *testing.T) {
		p := s.newPage(t, 1280, 800, false)
		if status := p.navigate("/docs"); status != http.StatusOK {
			t.Fatalf("GET /docs: status %d, want 200", status)
		}
		p.waitFor(`document.body.innerText.includes('/api/models/iris_model/predict')`)
	})

	t.Run("console errors are caught", func(t *testing.T) {
		// The other tests rely on CSP violations reaching the console: check
		// that an inline style and an inline script are refused and seen.
		p := s.newPage(t, 1280, 800, false)
		p.navigate("/")
		p.do(evalVoid(`document.body.setAttribute('style', 'color: red')`))
		p.do(evalVoid(`(() => { const s = document.createElement('script'); s.textContent = 'window.inlineRan = true'; document.body.append(s) })()`))
		p.waitFor(`true`)
		var problems []string
		for range 50 {
			if problems = p.problems(); len(problems) >= 2 {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if len(problems) < 2 {
			t.Errorf("console problems after an inline style and an inline script: %q, want two CSP reports", problems)
		}
		if eval[bool](p, `window.inlineRan === true`) {
			t.Error("an inline script ran despite the Content-Security-Policy")
		}
		p.allow("Content Security Policy")
		p.allow("Content-Security-Policy")
	})
}
