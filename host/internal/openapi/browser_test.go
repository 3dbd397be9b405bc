package openapi

import (
	"context"
	"crypto/sha256"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/modelhost/modelhost/host/internal/api"
	"github.com/modelhost/modelhost/host/internal/browsertest"
	"github.com/modelhost/modelhost/host/internal/registry"
)

// TestSwaggerUIUnderCSP loads /docs in a headless Chromium, with the API's
// authentication on, and checks that Swagger UI renders under DocsCSP
// without a single console error or policy violation, and that a token
// given to "Authorize" is sent with "Try it out".
func TestSwaggerUIUnderCSP(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser")
	}
	chromium := browsertest.Find(t)

	const token = "swagger-ui-test-token-0123456789"
	reg := registry.New()
	geo, _ := pointModels()
	add(t, reg, geo)
	e := api.New(reg, api.Options{TokenDigests: [][sha256.Size]byte{sha256.Sum256([]byte(token))}})
	Register(e, reg, Options{Version: "9.9.9", AuthEnabled: true})
	var (
		mu   sync.Mutex
		auth []string // Authorization of each request under /api/
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, api.ProtectedPrefix) {
			mu.Lock()
			auth = append(auth, r.Header.Get("Authorization"))
			mu.Unlock()
		}
		e.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)

	ctx := browsertest.Start(t, chromium, 1280, 900)

	var (
		consoleMu sync.Mutex
		messages  []chromedp.ConsoleMessage
	)
	console := chromedp.Console(ctx)
	go func() {
		for m, err := range console {
			if err != nil {
				return
			}
			consoleMu.Lock()
			messages = append(messages, m)
			consoleMu.Unlock()
		}
	}()

	step := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		sctx, scancel := context.WithTimeout(ctx, 30*time.Second)
		defer scancel()
		if err := chromedp.Do(sctx, actions...); err != nil {
			text, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText.slice(0, 3000) : ""`))
			t.Fatalf("%s: %v\nthe page shows:\n%s", what, err, text)
		}
	}

	step("load /docs",
		chromedp.Navigate(srv.URL+DocsPath),
		// Swagger UI has fetched and rendered the document: the API's
		// title, a model's operation, and the Authorize button.
		chromedp.WaitVisible(chromedp.CSS(".swagger-ui .info .title")),
		chromedp.WaitVisible(chromedp.CSS("#operations-geo-predict_geo")),
		chromedp.WaitVisible(chromedp.CSS(".swagger-ui .auth-wrapper .authorize")),
	)
	title, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(".swagger-ui .info .title")))
	if err != nil || !strings.Contains(title, "modelhost") {
		t.Errorf("title %q, %v; want modelhost", title, err)
	}
	// Styles applied: Swagger UI's stylesheet gives operation blocks a
	// border, which an unstyled page would not have.
	border, err := chromedp.Run(ctx, chromedp.Evaluate[string](
		`getComputedStyle(document.querySelector("#operations-geo-predict_geo")).borderTopStyle`))
	if err != nil || border != "solid" {
		t.Errorf("operation block border-top-style %q, %v; want solid (Swagger UI's stylesheet not applied?)", border, err)
	}

	step("authorize with a bearer token",
		chromedp.Click(chromedp.CSS(".swagger-ui .auth-wrapper .authorize")),
		chromedp.WaitVisible(chromedp.CSS(".swagger-ui .dialog-ux .modal-ux input")),
		chromedp.SendKeys(chromedp.CSS(".swagger-ui .dialog-ux .modal-ux input"), token),
		chromedp.Click(chromedp.CSS(".swagger-ui .dialog-ux .auth-btn-wrapper .authorize")),
		chromedp.WaitVisible(chromedp.CSS(".swagger-ui .dialog-ux .auth-btn-wrapper .btn-done")),
		chromedp.Click(chromedp.CSS(".swagger-ui .dialog-ux .auth-btn-wrapper .btn-done")),
		// The operations' padlocks close.
		chromedp.WaitVisible(chromedp.CSS("#operations-geo-predict_geo .authorization__btn svg.locked")),
	)
	step("open a model's operation",
		// The lock of an operation that requires the token.
		chromedp.WaitVisible(chromedp.CSS("#operations-geo-predict_geo .authorization__btn")),
		chromedp.Click(chromedp.CSS("#operations-geo-predict_geo .opblock-summary-control")),
		chromedp.WaitVisible(chromedp.CSS("#operations-geo-predict_geo .opblock-body .body-param__example")),
		chromedp.WaitVisible(chromedp.CSS("#operations-geo-predict_geo .responses-table")),
	)
	const op = "#operations-models-list_models"
	step("try out list_models",
		chromedp.Click(chromedp.CSS(op+" .opblock-summary-control")),
		chromedp.WaitVisible(chromedp.CSS(op+" .try-out__btn")),
		chromedp.Click(chromedp.CSS(op+" .try-out__btn")),
		chromedp.WaitVisible(chromedp.CSS(op+" .execute")),
		chromedp.Click(chromedp.CSS(op+" .execute")),
		chromedp.WaitVisible(chromedp.CSS(op+" .live-responses-table tr.response .response-col_status")),
	)
	status, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(op+" .live-responses-table tr.response .response-col_status")))
	if err != nil || !strings.Contains(status, "200") {
		t.Errorf("Try it out: status %q, %v; want 200", status, err)
	}
	mu.Lock()
	sent := fmt.Sprint(auth)
	mu.Unlock()
	if !strings.Contains(sent, "Bearer "+token) {
		t.Errorf("Authorization headers sent under /api/: %s; want the bearer token", sent)
	}

	// Let the last messages arrive, then fail on every error and violation.
	_, _ = chromedp.Run(ctx, chromedp.Evaluate[int](`1`))
	time.Sleep(300 * time.Millisecond)
	consoleMu.Lock()
	defer consoleMu.Unlock()
	for _, m := range messages {
		if m.Type == chromedp.ConsoleError || m.IsException() || m.Source == "security" ||
			strings.Contains(m.Text, "Content Security Policy") || strings.Contains(m.Text, "Content-Security-Policy") {
			t.Errorf("browser console: %s (%s:%d, source %q)", m, m.URL, m.Line+1, m.Source)
		}
	}
}
