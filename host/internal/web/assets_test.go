package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"io/fs"
	"net/http"
	"strconv"
	"sync"
	"testing"

	"github.com/labstack/echo/v4"
)

// embedded returns the embedded file at p, a path under static/.
func embedded(t *testing.T, p string) []byte {
	t.Helper()
	b, err := fs.ReadFile(staticFS, "static/"+p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// assetServer serves a, freshly loaded, as the UI does.
func assetServer(t *testing.T) (*echo.Echo, assets) {
	t.Helper()
	a, err := loadAssets()
	if err != nil {
		t.Fatal(err)
	}
	e := echo.New()
	e.GET(staticPrefix+"*", a.serve)
	return e, a
}

func gunzip(t *testing.T, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	plain, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return plain
}

// TestAssetsServedBytes checks every asset, plain and compressed, against
// the embedded file, and its hash against the file's SHA-256.
func TestAssetsServedBytes(t *testing.T) {
	e, a := assetServer(t)
	if len(a) < 7 {
		t.Fatalf("%d assets", len(a))
	}
	for p, f := range a {
		want := embedded(t, p)
		sum := sha256.Sum256(want)
		if f.hash != hex.EncodeToString(sum[:])[:12] || f.size != int64(len(want)) {
			t.Errorf("%s: hash %s, size %d; want the file's", p, f.hash, f.size)
		}
		url, _ := a.url(p)
		rec := get(e, url)
		if rec.Code != http.StatusOK || !bytes.Equal(rec.Body.Bytes(), want) {
			t.Errorf("GET %s: %d, body differs from the embedded file", url, rec.Code)
		}
		if got := rec.Header().Get("Content-Length"); got != strconv.Itoa(len(want)) {
			t.Errorf("GET %s: Content-Length %q, want %d", url, got, len(want))
		}
		if rec.Header().Get("Content-Type") != f.contentType || rec.Header().Get("Content-Encoding") != "" {
			t.Errorf("GET %s: Content-Type %q, Content-Encoding %q", url, rec.Header().Get("Content-Type"), rec.Header().Get("Content-Encoding"))
		}
		if !f.compress {
			continue
		}
		rec = get(e, url, "Accept-Encoding", "gzip")
		if rec.Code != http.StatusOK || rec.Header().Get("Content-Encoding") != "gzip" || rec.Header().Get("Vary") != "Accept-Encoding" {
			t.Errorf("GET %s with gzip: %d, Content-Encoding %q, Vary %q", url, rec.Code, rec.Header().Get("Content-Encoding"), rec.Header().Get("Vary"))
			continue
		}
		if got := rec.Header().Get("Content-Length"); got != strconv.Itoa(rec.Body.Len()) {
			t.Errorf("GET %s with gzip: Content-Length %q, %d bytes", url, got, rec.Body.Len())
		}
		if rec.Header().Get("Content-Type") != f.contentType || rec.Header().Get("ETag") != `"`+f.hash+`"` {
			t.Errorf("GET %s with gzip: Content-Type %q, ETag %q", url, rec.Header().Get("Content-Type"), rec.Header().Get("ETag"))
		}
		if !bytes.Equal(gunzip(t, rec.Body.Bytes()), want) {
			t.Errorf("GET %s with gzip: the body does not decompress to the file", url)
		}
	}
}

// TestAssetsCompressedOnDemand checks that nothing is compressed at
// start-up, nor by requests that do not accept gzip, and that an asset is
// compressed once, on the first request that accepts gzip.
func TestAssetsCompressedOnDemand(t *testing.T) {
	e, a := assetServer(t)
	for p, f := range a {
		if f.gzipped != nil {
			t.Errorf("%s compressed at start-up", p)
		}
	}
	const p = "app.css"
	f := a[p]
	url, _ := a.url(p)
	get(e, url)
	get(e, url, "Accept-Encoding", "gzip;q=0, br")
	get(e, url, "Accept-Encoding", "gzip", "If-None-Match", `"`+f.hash+`"`)
	if f.gzipped != nil {
		t.Fatal("compressed for a request that did not take gzip")
	}
	if rec := get(e, url, "Accept-Encoding", "gzip"); rec.Header().Get("Content-Encoding") != "gzip" {
		t.Fatal("no gzip")
	}
	gz := f.gzipped
	if gz == nil {
		t.Fatal("not kept after the first request that accepts gzip")
	}
	rec := get(e, url, "Accept-Encoding", "gzip")
	if &f.gzipped[0] != &gz[0] || !bytes.Equal(rec.Body.Bytes(), gz) {
		t.Error("compressed again on the second request")
	}
	for q, g := range a {
		if q != p && g.gzipped != nil {
			t.Errorf("%s compressed by a request for %s", q, p)
		}
	}
}

// TestAssetsNotModified checks the 304 answer to If-None-Match, with or
// without gzip.
func TestAssetsNotModified(t *testing.T) {
	e, a := assetServer(t)
	f := a["vendor/pico/pico.min.css"]
	url, _ := a.url(f.path)
	for _, enc := range []string{"", "gzip"} {
		rec := get(e, url, "Accept-Encoding", enc, "If-None-Match", `"`+f.hash+`"`)
		h := rec.Header()
		if rec.Code != http.StatusNotModified || rec.Body.Len() != 0 {
			t.Errorf("Accept-Encoding %q: %d, %d bytes; want 304, none", enc, rec.Code, rec.Body.Len())
		}
		if h.Get("ETag") != `"`+f.hash+`"` || h.Get("Cache-Control") != assetCacheControl ||
			h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Vary") != "Accept-Encoding" || h.Get("Content-Encoding") != "" {
			t.Errorf("Accept-Encoding %q: headers %v", enc, h)
		}
	}
	if f.gzipped != nil {
		t.Error("compressed for a 304")
	}
	if rec := get(e, url, "If-None-Match", `"000000000000"`); rec.Code != http.StatusOK {
		t.Errorf("another entity tag: %d, want 200", rec.Code)
	}
}

// TestAssetsFirstGzipConcurrent sends the first requests that accept gzip
// at once (run with -race): each gets the whole compressed file, made once.
func TestAssetsFirstGzipConcurrent(t *testing.T) {
	e, a := assetServer(t)
	const p = "vendor/json-editor/jsoneditor.js"
	f := a[p]
	url, _ := a.url(p)
	want := embedded(t, p)
	const n = 16
	bodies := make([][]byte, n)
	direct := make([][]byte, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			if i%2 == 0 {
				direct[i], _ = f.gzip()
			}
			rec := get(e, url, "Accept-Encoding", "gzip")
			if rec.Code == http.StatusOK && rec.Header().Get("Content-Encoding") == "gzip" {
				bodies[i] = rec.Body.Bytes()
			}
		}()
	}
	close(start)
	wg.Wait()
	for i, b := range bodies {
		if b == nil || !bytes.Equal(b, bodies[0]) {
			t.Fatalf("request %d: not the same gzip body", i)
		}
		if direct[i] != nil && &direct[i][0] != &f.gzipped[0] {
			t.Errorf("call %d: another compression", i)
		}
	}
	if !bytes.Equal(gunzip(t, bodies[0]), want) {
		t.Error("the body does not decompress to the file")
	}
}

func TestFavicon(t *testing.T) {
	e := testServer(t, testRegistry(t), Options{})
	rec := get(e, "/favicon.ico")
	if rec.Code != http.StatusOK || !bytes.Equal(rec.Body.Bytes(), embedded(t, "favicon.svg")) {
		t.Errorf("GET /favicon.ico: %d, not the icon", rec.Code)
	}
	if h := rec.Header(); h.Get("Content-Type") != "image/svg+xml" || h.Get("Cache-Control") != "public, max-age=86400" ||
		h.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("GET /favicon.ico: headers %v", h)
	}
}
