package openapi

import (
	"bytes"
	"net/http"
	"strconv"
	"sync"
	"testing"
)

// TestAssetsStreamed checks that every file is served whole from the
// binary, with its length and an entity tag of its content, and answered
// 304 when the client has it.
func TestAssetsStreamed(t *testing.T) {
	e, _ := testServer(t)
	if len(assets) != 7 {
		t.Errorf("%d assets, want 7", len(assets))
	}
	for name, a := range assets {
		want, err := files.ReadFile(a.path)
		if err != nil {
			t.Fatal(err)
		}
		url := AssetsPath + name
		if name == "index.html" {
			url = DocsPath
		}
		rec := do(e, http.MethodGet, url)
		if rec.Code != http.StatusOK || !bytes.Equal(rec.Body.Bytes(), want) {
			t.Errorf("GET %s: %d, body differs from the embedded file", url, rec.Code)
			continue
		}
		h := rec.Header()
		if h.Get("Content-Length") != strconv.Itoa(len(want)) || h.Get("ETag") != etag(want) ||
			h.Get("Content-Type") != a.contentType || h.Get("Cache-Control") != "no-cache" {
			t.Errorf("GET %s: headers %v", url, h)
		}
		rec = do(e, http.MethodGet, url, "If-None-Match", etag(want))
		if rec.Code != http.StatusNotModified || rec.Body.Len() != 0 || rec.Header().Get("ETag") != etag(want) {
			t.Errorf("GET %s with If-None-Match: %d, %d bytes", url, rec.Code, rec.Body.Len())
		}
	}
}

// TestAssetsFirstRequestsConcurrent hashes a fresh asset from several
// goroutines at once, and serves the bundle to several at once (run with
// -race).
func TestAssetsFirstRequestsConcurrent(t *testing.T) {
	e, _ := testServer(t)
	want, err := files.ReadFile("swaggerui/swagger-ui-bundle.js")
	if err != nil {
		t.Fatal(err)
	}
	fresh := loadAssets()["swagger-ui-bundle.js"]
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			if tag, err := fresh.etag(); err != nil || tag != etag(want) {
				t.Errorf("etag: %s, %v; want %s", tag, err, etag(want))
			}
		}()
		go func() {
			defer wg.Done()
			rec := do(e, http.MethodGet, AssetsPath+"swagger-ui-bundle.js")
			if rec.Code != http.StatusOK || rec.Header().Get("ETag") != etag(want) || !bytes.Equal(rec.Body.Bytes(), want) {
				t.Errorf("GET: %d, ETag %s", rec.Code, rec.Header().Get("ETag"))
			}
		}()
	}
	wg.Wait()
}
