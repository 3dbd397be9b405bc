package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"

	"github.com/labstack/echo/v4"
)

// staticFS holds the stylesheets, scripts and vendored libraries.
//
//go:embed static
var staticFS embed.FS

// staticPrefix is where the assets are served. An asset's URL is
// staticPrefix + a hash of its content + "/" + its path under static/, so
// that it can be cached for ever: a new version has a new URL.
const staticPrefix = "/static/"

// assetCacheControl is sent with every asset: its URL changes whenever its
// content does.
const assetCacheControl = "public, max-age=31536000, immutable"

// asset is one embedded file.
type asset struct {
	hash        string // first 12 hex digits of the SHA-256 of body
	body        []byte
	gzipped     []byte // body compressed, for text assets; nil otherwise
	contentType string
}

// assets are the embedded files by path under static/, such as
// "app.css" or "vendor/pico/pico.min.css".
type assets map[string]*asset

// loadAssets reads and hashes every embedded file.
func loadAssets() (assets, error) {
	sub, err := fs.Sub(staticFS, "static")
	if err != nil {
		return nil, err
	}
	a := assets{}
	err = fs.WalkDir(sub, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := fs.ReadFile(sub, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		ct := mime.TypeByExtension(path.Ext(p))
		switch path.Ext(p) {
		case ".md", ".txt", "":
			ct = "text/plain; charset=utf-8"
		case ".js":
			ct = "text/javascript; charset=utf-8"
		case ".css":
			ct = "text/css; charset=utf-8"
		case ".svg":
			ct = "image/svg+xml"
		}
		if ct == "" {
			ct = "application/octet-stream"
		}
		f := &asset{hash: hex.EncodeToString(sum[:])[:12], body: body, contentType: ct}
		if strings.HasPrefix(ct, "text/") || ct == "image/svg+xml" {
			if f.gzipped, err = compress(body); err != nil {
				return err
			}
		}
		a[p] = f
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load embedded assets: %w", err)
	}
	return a, nil
}

// compress returns b compressed with gzip at the best compression.
func compress(b []byte) ([]byte, error) {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	if _, err := zw.Write(b); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// url returns the URL of the asset at p, for templates. It fails for a path
// that is not embedded, so that a typo in a template fails at start-up
// (templates are executed in the tests) rather than as a broken page.
func (a assets) url(p string) (string, error) {
	f, ok := a[p]
	if !ok {
		return "", fmt.Errorf("no embedded asset %q", p)
	}
	return staticPrefix + f.hash + "/" + p, nil
}

// serve answers GET /static/:hash/*. A hash that is not the asset's current
// one is a 404 rather than the current content: a stale page must not cache
// a new asset under an old URL.
func (a assets) serve(c echo.Context) error {
	rest := strings.TrimPrefix(c.Request().URL.Path, staticPrefix)
	hash, p, ok := strings.Cut(rest, "/")
	f, found := a[p]
	if !ok || !found || f.hash != hash {
		return c.Blob(http.StatusNotFound, "text/plain; charset=utf-8", []byte("404 not found\n"))
	}
	h := c.Response().Header()
	h.Set("Cache-Control", assetCacheControl)
	h.Set("ETag", `"`+f.hash+`"`)
	h.Set("X-Content-Type-Options", "nosniff")
	if f.gzipped != nil {
		h.Add("Vary", "Accept-Encoding")
	}
	if c.Request().Header.Get("If-None-Match") == `"`+f.hash+`"` {
		return c.NoContent(http.StatusNotModified)
	}
	if f.gzipped != nil && acceptsGzip(c.Request().Header.Get("Accept-Encoding")) {
		h.Set("Content-Encoding", "gzip")
		return c.Blob(http.StatusOK, f.contentType, f.gzipped)
	}
	return c.Blob(http.StatusOK, f.contentType, f.body)
}

// acceptsGzip reports whether an Accept-Encoding header value allows gzip.
func acceptsGzip(header string) bool {
	for _, part := range strings.Split(header, ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(coding), "gzip") {
			continue
		}
		q := strings.ReplaceAll(strings.TrimSpace(params), " ", "")
		return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
	}
	return false
}
