package browser

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/modelhost/modelhost/host/internal/browsertest"
	"github.com/modelhost/modelhost/host/internal/hosttest"
)

// actionTimeout bounds one step of a test: a navigation, a click, a wait.
const actionTimeout = 30 * time.Second

// suite is a running host with the bundled plugins and the example
// penguin_size, and a running browser.
type suite struct {
	host    *hosttest.Host
	browser context.Context
}

// newSuite starts the host and Chromium; both stop when t ends. config is
// added to the host's configuration.
func newSuite(t *testing.T, config ...string) *suite {
	t.Helper()
	chrome := browsertest.Find(t)

	dir := t.TempDir()
	hosttest.Copy(t, builder.Build(t, "./plugins/iris"), filepath.Join(dir, "iris"), 0o755)
	hosttest.Copy(t, builder.Build(t, "./plugins/sentiment"), filepath.Join(dir, "sentiment"), 0o755)
	hosttest.Copy(t, builder.Build(t, "./examples/penguin-size"), filepath.Join(dir, "penguin-size"), 0o755)
	host := hosttest.Start(t, builder.Build(t, "./host/cmd/modelhost"), fmt.Sprintf(`
plugins {
  directory = %q
}
log {
  level  = "debug"
  format = "json"
}
%s
`, dir, strings.Join(config, "\n")))

	browser := browsertest.Start(t, chrome, 1280, 800)
	return &suite{host: host, browser: browser}
}

// page is one browser tab. Every console error and CSP violation it sees
// fails the test, except those allowed with allow.
type page struct {
	t    *testing.T
	ctx  context.Context
	base string

	mu       sync.Mutex
	messages []chromedp.ConsoleMessage
	allowed  []string
}

// newPage opens a tab with a viewport of width×height CSS pixels; mobile
// emulates a phone (touch, mobile viewport).
func (s *suite) newPage(t *testing.T, width, height int64, mobile bool) *page {
	t.Helper()
	ctx, cancel := chromedp.NewContext(s.browser)
	p := &page{t: t, ctx: ctx, base: s.host.URL}
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil { // opens the tab
		t.Fatalf("open a tab: %v", err)
	}
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			p.mu.Lock()
			p.messages = append(p.messages, m)
			p.mu.Unlock()
		}
	}()
	var opts []chromedp.EmulateViewportOption
	if mobile {
		opts = append(opts, chromedp.EmulateMobile, chromedp.EmulateTouch, chromedp.EmulateScale(2))
	}
	p.do(chromedp.EmulateViewport(width, height, opts...))
	// Runs before cancel: cleanups run last in, first out.
	t.Cleanup(p.checkConsole)
	return p
}

// allow lets console errors that contain text pass, such as the browser's
// report of a 422 answer that the test provokes.
func (p *page) allow(text string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.allowed = append(p.allowed, text)
}

// problems returns the console messages that fail the test: errors,
// exceptions and CSP reports, less the allowed ones.
func (p *page) problems() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for _, m := range p.messages {
		bad := m.Type == chromedp.ConsoleError || m.IsException() ||
			m.Source == "security" || strings.Contains(m.Text, "Content Security Policy") || strings.Contains(m.Text, "Content-Security-Policy")
		if !bad {
			continue
		}
		allowed := false
		for _, a := range p.allowed {
			if strings.Contains(m.Text, a) {
				allowed = true
			}
		}
		if !allowed {
			out = append(out, fmt.Sprintf("%s (%s:%d, source %q)", m, m.URL, m.Line+1, m.Source))
		}
	}
	return out
}

// checkConsole fails the test for every problem in the console.
func (p *page) checkConsole() {
	// Let the last messages arrive.
	_, _ = chromedp.Run(p.ctx, chromedp.Evaluate[int](`1`))
	time.Sleep(200 * time.Millisecond)
	for _, m := range p.problems() {
		p.t.Errorf("browser console: %s", m)
	}
}

// do runs actions, each step bounded by actionTimeout, and fails the test
// on an error, logging what the page shows.
func (p *page) do(actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	for _, a := range actions {
		ctx, cancel := context.WithTimeout(p.ctx, actionTimeout)
		err := chromedp.Do(ctx, a)
		cancel()
		if err != nil {
			p.fatalf("%v", err)
		}
	}
}

// fatalf fails the test, logging the page's address and text.
func (p *page) fatalf(format string, args ...any) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 5*time.Second)
	defer cancel()
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	body, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ''`))
	if len(body) > 4000 {
		body = body[:4000] + "…"
	}
	if dir := os.Getenv("MODELHOST_BROWSER_ARTIFACTS"); dir != "" {
		name := filepath.Join(dir, strings.NewReplacer("/", "_", " ", "_").Replace(p.t.Name()))
		if png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)); err == nil {
			_ = os.WriteFile(name+".png", png, 0o644)
		}
		if html, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.documentElement.outerHTML`)); err == nil {
			_ = os.WriteFile(name+".html", []byte(html), 0o644)
		}
		p.t.Logf("screenshot and HTML saved as %s.png and .html", name)
	}
	p.t.Fatalf(format+"\npage %s shows:\n%s", append(args, loc, body)...)
}

// navigate opens path and waits for the page to load; it returns the
// status of the response.
func (p *page) navigate(path string) int64 {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, actionTimeout)
	defer cancel()
	res, err := chromedp.Run(ctx, chromedp.NavigateResponse(p.base+path))
	if err != nil {
		p.fatalf("navigate to %s: %v", path, err)
	}
	return res.Status
}

// clickAndWait clicks sel and waits for the page it leads to.
func (p *page) clickAndWait(sel string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, actionTimeout)
	defer cancel()
	if _, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(sel))); err != nil {
		p.fatalf("click %s: %v", sel, err)
	}
}

// text returns the visible text of the first element matching sel, once it
// is visible.
func (p *page) text(sel string) string {
	p.t.Helper()
	p.do(chromedp.WaitVisible(chromedp.CSS(sel)))
	ctx, cancel := context.WithTimeout(p.ctx, actionTimeout)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		p.fatalf("text of %s: %v", sel, err)
	}
	return s
}

// eval evaluates a JavaScript expression.
func eval[T any](p *page, expr string) T {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, actionTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		p.fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// waitFor waits until the JavaScript expression is true.
func (p *page) waitFor(expr string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, actionTimeout)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(actionTimeout))); err != nil {
		p.fatalf("wait for %s: %v", expr, err)
	}
}

// fill replaces the value of the input or text area sel by typing value,
// then leaves the field, as a person would.
func (p *page) fill(sel, value string) {
	p.t.Helper()
	p.do(
		chromedp.WaitVisible(chromedp.CSS(sel)),
		chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => { const el = document.querySelector(%q); el.focus(); el.select(); })()`, sel)),
		chromedp.SendKeys(chromedp.CSS(sel), value),
		chromedp.Blur(chromedp.CSS(sel)),
	)
}

// choose selects the option value of the select sel.
func (p *page) choose(sel, value string) {
	p.t.Helper()
	p.do(
		chromedp.WaitVisible(chromedp.CSS(sel)),
		chromedp.SetValue(chromedp.CSS(sel), value),
		chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`document.querySelector(%q).dispatchEvent(new Event('change', {bubbles: true}))`, sel)),
	)
}

// screenshot returns a PNG of the whole page.
func (p *page) screenshot() []byte {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, actionTimeout)
	defer cancel()
	// From the top, so that sticky elements are where a reader sees them.
	if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`window.scrollTo(0, 0)`)); err != nil {
		p.fatalf("scroll to the top: %v", err)
	}
	b, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		p.fatalf("screenshot: %v", err)
	}
	return b
}

// waitReady waits until the predict page's form is built.
func waitReady() chromedp.Action[chromedp.Void] {
	return chromedp.WaitVisible(chromedp.CSS("#predict-form.ready #predict-button:enabled"))
}

func waitVisible(sel string) chromedp.Action[chromedp.Void] {
	return chromedp.WaitVisible(chromedp.CSS(sel))
}

// click clicks sel once its position has settled. json-editor adds and
// removes field marks when an input loses focus, which moves whatever lies
// below them; a click aimed before the move lands on empty space.
func (p *page) click(sel string) {
	p.t.Helper()
	p.do(chromedp.WaitVisible(chromedp.CSS(sel)))
	box := fmt.Sprintf(`(() => { const r = document.querySelector(%q).getBoundingClientRect(); return [r.x, r.y, r.width, r.height].join(','); })()`, sel)
	last := ""
	for range 40 {
		cur := eval[string](p, box)
		if cur == last {
			break
		}
		last = cur
		time.Sleep(75 * time.Millisecond)
	}
	p.do(click(sel))
}

func click(sel string) chromedp.Action[chromedp.Void] {
	return chromedp.Click(chromedp.CSS(sel))
}

func sendKeys(sel, keys string) chromedp.Action[chromedp.Void] {
	return chromedp.SendKeys(chromedp.CSS(sel), keys)
}

func evalVoid(expr string) chromedp.Action[chromedp.Void] {
	return chromedp.Evaluate[chromedp.Void](expr)
}
