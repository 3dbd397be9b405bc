package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"

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

// asset is one embedded file. Its content is not kept in the heap: each
// request streams it from the binary (embed.FS.ReadFile would return a
// copy). Only its gzip variant is kept, made on the first request that
// accepts gzip.
type asset struct {
	path        string // under static/, such as "app.css"
	hash        string // first 12 hex digits of the SHA-256 of the content
	size        int64
	contentType string
	compress    bool // a text file, sent gzip-compressed to clients that accept it

	gzipOnce sync.Once
	gzipped  []byte // the content compressed, once gzip has been called
	gzipErr  error
}

// assets are the embedded files by path under static/, such as
// "app.css" or "vendor/pico/pico.min.css".
type assets map[string]*asset

// loadAssets hashes every embedded file, streaming it through SHA-256: the
// hashes are in the assets' URLs. It compresses nothing.
func loadAssets() (assets, error) {
	a := assets{}
	buf := make([]byte, 32<<10)
	err := fs.WalkDir(staticFS, "static", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		p := strings.TrimPrefix(name, "static/")
		f := &asset{path: p, contentType: contentType(p)}
		f.compress = strings.HasPrefix(f.contentType, "text/") || f.contentType == "image/svg+xml"
		file, err := f.open()
		if err != nil {
			return err
		}
		defer file.Close()
		sum := sha256.New()
		if f.size, err = io.CopyBuffer(sum, file, buf); err != nil {
			return fmt.Errorf("hash %s: %w", name, err)
		}
		f.hash = hex.EncodeToString(sum.Sum(nil))[:12]
		a[p] = f
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load embedded assets: %w", err)
	}
	return a, nil
}

// contentType is the Content-Type of the asset at p.
func contentType(p string) string {
	switch path.Ext(p) {
	case ".md", ".txt", "":
		return "text/plain; charset=utf-8"
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".svg":
		return "image/svg+xml"
	}
	if ct := mime.TypeByExtension(path.Ext(p)); ct != "" {
		return ct
	}
	return "application/octet-stream"
}

// open opens the embedded file, an io.ReadSeeker reading from the binary.
func (f *asset) open() (fs.File, error) {
	return staticFS.Open("static/" + f.path)
}

// gzip returns the content compressed with gzip at the best compression,
// compressing it on the first call and keeping the result; concurrent
// first calls wait for the one compression.
func (f *asset) gzip() ([]byte, error) {
	f.gzipOnce.Do(func() {
		f.gzipped, f.gzipErr = f.compressContent()
	})
	return f.gzipped, f.gzipErr
}

func (f *asset) compressContent() ([]byte, error) {
	file, err := f.open()
	if err != nil {
		return nil, fmt.Errorf("compress %s: %w", f.path, err)
	}
	defer file.Close()
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, fmt.Errorf("compress %s: %w", f.path, err)
	}
	if _, err := io.Copy(zw, file); err != nil {
		return nil, fmt.Errorf("compress %s: %w", f.path, err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("compress %s: %w", f.path, err)
	}
	return bytes.Clone(buf.Bytes()), nil // not buf's spare capacity
}

// write answers 200 with the asset's content, streamed from the binary.
func (f *asset) write(c echo.Context) error {
	file, err := f.open()
	if err != nil {
		return fmt.Errorf("open asset %s: %w", f.path, err)
	}
	defer file.Close()
	c.Response().Header().Set(echo.HeaderContentLength, strconv.FormatInt(f.size, 10))
	c.Response().Header().Set(echo.HeaderContentType, f.contentType)
	c.Response().WriteHeader(http.StatusOK)
	bp := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(bp)
	_, err = io.CopyBuffer(c.Response(), file, *bp)
	return err
}

// copyBufs are the buffers assets are streamed through, so that a request
// does not allocate one.
var copyBufs = sync.Pool{New: func() any {
	b := make([]byte, 32<<10)
	return &b
}}

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
	if f.compress {
		h.Add("Vary", "Accept-Encoding")
	}
	if c.Request().Header.Get("If-None-Match") == `"`+f.hash+`"` {
		return c.NoContent(http.StatusNotModified)
	}
	if f.compress && acceptsGzip(c.Request().Header.Get("Accept-Encoding")) {
		gz, err := f.gzip()
		if err != nil {
			return err
		}
		h.Set("Content-Encoding", "gzip")
		h.Set(echo.HeaderContentLength, strconv.Itoa(len(gz)))
		return c.Blob(http.StatusOK, f.contentType, gz)
	}
	return f.write(c)
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
