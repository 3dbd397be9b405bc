package openapi

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/labstack/echo/v4"

	"github.com/modelhost/modelhost/host/internal/problem"
	"github.com/modelhost/modelhost/host/internal/registry"
)

// The routes Register adds.
const (
	// DocumentPath serves the OpenAPI document.
	DocumentPath = "/openapi.json"
	// DocsPath serves the Swagger UI page.
	DocsPath = "/docs"
	// AssetsPath is the prefix of the page's scripts, styles and icons.
	AssetsPath = "/docs/assets/"
)

// DocsCSP is the Content-Security-Policy of the Swagger UI page and its
// assets: same-origin scripts, styles and requests only, no inline script
// or style, the data: images of Swagger UI's stylesheet, and no framing.
// Swagger UI needs no 'unsafe-inline': the styles it computes at run time
// are set through the DOM (element.style), which style-src does not
// govern. TestSwaggerUIUnderCSP checks it in a browser.
const DocsCSP = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; " +
	"connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

// Register adds to e, whose HTTPErrorHandler answers the errors:
//
//	GET /openapi.json        the OpenAPI document of the models in reg, built
//	                         again when the set of models or their default
//	                         versions change
//	GET /docs                Swagger UI showing that document
//	GET /docs/assets/:file   the page's scripts, styles and icons
//
// The page loads nothing but same-origin files and has no inline script or
// style: the page and its assets are sent with DocsCSP.
func Register(e *echo.Echo, reg *registry.Registry, opts Options) {
	if opts.IsDefault == nil {
		opts.IsDefault = reg.IsDefault
	}
	docs := &documentCache{reg: reg, opts: opts}
	e.GET(DocumentPath, func(c echo.Context) error {
		d, err := docs.get()
		if err != nil {
			return err
		}
		return serve(c, jsonType, d.etag, int64(len(d.body)), bytes.NewReader(d.body))
	})
	e.GET(DocsPath, func(c echo.Context) error {
		c.Response().Header().Set("Content-Security-Policy", DocsCSP)
		return assets["index.html"].serve(c)
	})
	e.GET(DocsPath+"/", func(c echo.Context) error {
		return c.Redirect(http.StatusMovedPermanently, DocsPath)
	})
	e.GET(AssetsPath+":file", func(c echo.Context) error {
		a, ok := assets[c.Param("file")]
		if !ok || a.name == "index.html" {
			return problem.NotFound()
		}
		c.Response().Header().Set("Content-Security-Policy", DocsCSP)
		return a.serve(c)
	})
}

// documentCache holds the document of the last set of models it saw. The
// registry publishes each set of models as a new, immutable slice, so an
// unchanged slice means an unchanged document.
type documentCache struct {
	reg  *registry.Registry
	opts Options
	last atomic.Pointer[cachedDocument]
}

type cachedDocument struct {
	models []*registry.Entry // kept, so that its address is not reused
	body   []byte
	etag   string
}

func (dc *documentCache) get() (*cachedDocument, error) {
	models := dc.reg.List()
	if d := dc.last.Load(); d != nil && sameSlice(d.models, models) {
		return d, nil
	}
	body, err := Build(models, dc.opts)
	if err != nil {
		return nil, fmt.Errorf("build the OpenAPI document: %w", err)
	}
	d := &cachedDocument{models: models, body: body, etag: etag(body)}
	dc.last.Store(d)
	return d, nil
}

// sameSlice reports whether a and b are the same slice: same length and
// same backing array.
func sameSlice(a, b []*registry.Entry) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

// serve answers 200 with the size bytes of content, or 304 if the
// client's If-None-Match has its entity tag. Clients revalidate every time
// (no-cache): the document changes with the models, and the assets with the
// host's version.
func serve(c echo.Context, contentType, tag string, size int64, content io.Reader) error {
	h := c.Response().Header()
	h.Set("ETag", tag)
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Content-Type-Options", "nosniff")
	if matchesETag(c.Request().Header.Get("If-None-Match"), tag) {
		return c.NoContent(http.StatusNotModified)
	}
	h.Set(echo.HeaderContentType, contentType)
	h.Set(echo.HeaderContentLength, strconv.FormatInt(size, 10))
	c.Response().WriteHeader(http.StatusOK)
	bp := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(bp)
	_, err := io.CopyBuffer(c.Response(), content, *bp)
	return err
}

// copyBufs are the buffers the embedded files are hashed and streamed
// through, so that a request does not allocate one.
var copyBufs = sync.Pool{New: func() any {
	b := make([]byte, 32<<10)
	return &b
}}

// matchesETag reports whether an If-None-Match header lists tag (weak
// comparison, as RFC 9110 asks for If-None-Match).
func matchesETag(header, tag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == "*" || t == tag {
			return true
		}
	}
	return false
}

func etag(body []byte) string {
	sum := sha256.Sum256(body)
	return tagOf(sum[:])
}

// tagOf is the entity tag of content whose SHA-256 is sum.
func tagOf(sum []byte) string {
	return `"` + hex.EncodeToString(sum[:12]) + `"`
}

// files are the documentation page and what it loads: Swagger UI as
// published on npm (swaggerui/, see its README.md) and the page's own files
// (ui/).
//
//go:embed ui/index.html ui/swagger-init.js ui/docs.css
//go:embed swaggerui/swagger-ui.css swaggerui/swagger-ui-bundle.js swaggerui/favicon-16x16.png swaggerui/favicon-32x32.png
var files embed.FS

// asset is one embedded file. Its content is not kept in the heap: each
// request streams it from the binary (embed.FS.ReadFile would return a
// copy), and its entity tag is hashed from it on first use.
type asset struct {
	name        string // base name, such as "swagger-ui.css"
	path        string // in files, such as "swaggerui/swagger-ui.css"
	contentType string
	etag        func() (string, error)
}

// assets are the embedded files by base name.
var assets = loadAssets()

// loadAssets lists the embedded files; it reads none.
func loadAssets() map[string]*asset {
	types := map[string]string{
		".html": "text/html; charset=utf-8",
		".js":   "text/javascript; charset=utf-8",
		".css":  "text/css; charset=utf-8",
		".png":  "image/png",
	}
	m := map[string]*asset{}
	for _, dir := range []string{"ui", "swaggerui"} {
		entries, err := files.ReadDir(dir)
		if err != nil {
			panic(err) // embedded: cannot happen
		}
		for _, ent := range entries {
			a := &asset{
				name:        ent.Name(),
				path:        dir + "/" + ent.Name(),
				contentType: types[path.Ext(ent.Name())],
			}
			a.etag = sync.OnceValues(a.hash)
			m[ent.Name()] = a
		}
	}
	return m
}

// hash returns the entity tag of the file, streaming it through SHA-256.
func (a *asset) hash() (string, error) {
	f, err := files.Open(a.path)
	if err != nil {
		return "", fmt.Errorf("hash %s: %w", a.path, err)
	}
	defer f.Close()
	sum := sha256.New()
	bp := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(bp)
	if _, err := io.CopyBuffer(sum, f, *bp); err != nil {
		return "", fmt.Errorf("hash %s: %w", a.path, err)
	}
	return tagOf(sum.Sum(nil)), nil
}

// serve answers with the file, streamed from the binary, as serve does.
func (a *asset) serve(c echo.Context) error {
	tag, err := a.etag()
	if err != nil {
		return err
	}
	f, err := files.Open(a.path)
	if err != nil {
		return fmt.Errorf("open %s: %w", a.path, err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return fmt.Errorf("stat %s: %w", a.path, err)
	}
	return serve(c, a.contentType, tag, info.Size(), f)
}
