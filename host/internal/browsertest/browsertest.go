// Package browsertest finds and starts the headless Chromium that the
// browser tests drive with chromedp.
package browsertest

import (
	"context"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// how tells a person without Chromium how to get it.
const how = "install Chromium (Debian or Ubuntu: apt-get install -y chromium) or set CHROME_PATH to a Chrome or Chromium binary"

// Find returns the Chromium to drive: $CHROME_PATH, /usr/bin/chromium, or
// the first of a few names in PATH. Without one the test is skipped, or,
// when the environment variable CI is set, fails: CI must run browser tests.
func Find(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("CHROME_PATH"); p != "" {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("CHROME_PATH=%s: %v", p, err)
		}
		return p
	}
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium"
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("Chromium not found, and CI is set so the browser tests must run: " + how)
	}
	t.Skip("Chromium not found, so the browser tests are skipped: " + how)
	return ""
}

// Options returns the allocator options to run the Chromium at path headless
// with a fresh profile and a window of width × height.
func Options(t testing.TB, path string, width, height int) []chromedp.ExecAllocatorOption {
	return []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(width, height),
		// The machine may have no network: without these, Chromium waits on
		// connections to Google's services.
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-features", "Translate,OptimizationHints,MediaRouter,InterestFeedContentSuggestions"),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("metrics-recording-only", true),
		chromedp.Flag("no-pings", true),
		chromedp.Flag("mute-audio", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("font-render-hinting", "none"),
		chromedp.Flag("lang", "en-US"),
	}
}

// Start starts the Chromium at path with Options and returns its browser
// context; the browser stops when t ends.
func Start(t testing.TB, path string, width, height int) context.Context {
	t.Helper()
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), Options(t, path, width, height)...)
	t.Cleanup(cancelAlloc)
	browser, cancelBrowser := chromedp.NewContext(allocCtx)
	t.Cleanup(cancelBrowser)
	started := make(chan error, 1)
	go func() { started <- chromedp.Do(browser) }() // starts the browser and opens a tab
	select {
	case err := <-started:
		if err != nil {
			t.Fatalf("start %s: %v", path, err)
		}
	case <-time.After(60 * time.Second):
		cancelBrowser()
		t.Fatalf("%s did not start within 60s", path)
	}
	return browser
}
