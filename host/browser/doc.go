// Package browser holds the web UI's end-to-end tests: they build the real
// host and plugin binaries, start the host on a free loopback port, and
// drive a real headless Chromium against it with chromedp, failing on any
// console error or Content-Security-Policy violation.
//
// Chromium is found through the environment variable CHROME_PATH, then as
// /usr/bin/chromium or chromium, chromium-browser, google-chrome in PATH.
// Without it the tests are skipped, unless the environment variable CI is
// set: then they fail. On Debian or Ubuntu:
//
//	apt-get install -y chromium
//
// TestVersions serves one model, the test plugin testdata/greeter built
// at two versions (-ldflags "-X main.version=..."), whose input schemas
// differ: the home page lists both, and each version's form is built from
// its own schema and posts to its own endpoint.
//
// go test -run 'TestScreenshots|TestVersions' -update-screenshots
// ./host/browser writes the screenshots in docs/ (docs/screenshot-*.png)
// that README.md and docs/web-ui.md show.
package browser
