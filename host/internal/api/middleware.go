package api

import (
	"context"
	"crypto/rand"
	"net/http"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/modelhost/modelhost/host/internal/problem"
	"github.com/modelhost/modelhost/host/internal/registry"
)

// HeaderRequestID is the header that carries a request's ID, in requests
// and in every response.
const HeaderRequestID = "X-Request-ID"

// maxRequestIDLength is the longest request ID taken from a client.
const maxRequestIDLength = 128

// DefaultCSP is the Content-Security-Policy of the JSON responses whose
// handler set none: a JSON document loads nothing and may not be framed.
const DefaultCSP = "default-src 'none'; frame-ancestors 'none'"

type requestIDKey struct{}

// RequestID returns the ID of the request whose context is ctx, or "" if
// it did not go through the API's middleware.
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// loggerKey is the echo.Context key of the request's logger, made on
// first use; requestIDCtxKey holds the request's ID.
const (
	loggerKey       = "modelhost.logger"
	requestIDCtxKey = "modelhost.request_id"
)

// logger returns the request's logger, which names the request ID, or the
// server's own logger outside a request. It is made when first asked for:
// most requests log nothing but their access line.
func (s *server) logger(c echo.Context) hclog.Logger {
	if l, ok := c.Get(loggerKey).(hclog.Logger); ok {
		return l
	}
	id, ok := c.Get(requestIDCtxKey).(string)
	if !ok {
		return s.log
	}
	l := s.log.With("request_id", id)
	c.Set(loggerKey, l)
	return l
}

// observe is the outermost middleware. It gives the request an ID (the
// client's X-Request-ID if it is sane, else a new one), sends it back in
// X-Request-ID, puts it in the request's context and in a logger for the
// request, answers the errors of the handlers below it, tells the
// Observer, writes the access log line (at info level with
// Options.AccessLog, else at debug level), and then ends the lease on the
// model the request reached, if any.
func (s *server) observe(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		req := c.Request()
		route := c.Path()
		done := s.obs.RequestStarted(route)
		defer done()
		id := req.Header.Get(HeaderRequestID)
		if !validRequestID(id) {
			id = rand.Text()
		}
		c.Response().Header().Set(HeaderRequestID, id)
		c.SetRequest(req.WithContext(context.WithValue(req.Context(), requestIDKey{}, id)))
		c.Set(requestIDCtxKey, id)

		if err := next(c); err != nil {
			c.Error(err) // handleError, with this request's logger
		}
		res := c.Response()
		d := time.Since(start)
		var model, version string
		if e, ok := c.Get(entryKey).(*registry.Entry); ok {
			model, version = e.Info.QualifiedName, e.Info.Version
			defer e.Release()
		}
		s.obs.ObserveRequest(route, req.Method, model, version, res.Status, d)
		if s.accessLog || s.log.IsDebug() {
			args := []any{"request_id", id, "method", req.Method, "path", req.URL.Path, "status", res.Status,
				"duration", d, "bytes", res.Size, "remote", req.RemoteAddr}
			if model != "" {
				args = append(args, "model", model, "version", version)
			}
			if s.accessLog {
				s.log.Info("request", args...)
			} else {
				s.log.Debug("request", args...)
			}
		}
		return nil
	}
}

// entryKey is the echo.Context key of the model a request reached, for the
// access log and metrics. The request holds a lease on it (see lease),
// which observe ends.
const entryKey = "modelhost.entry"

// validRequestID reports whether id may be used as a request ID:
// 1 to 128 characters from A-Z, a-z, 0-9 and ._:-, so that it is safe to
// log and to send back.
func validRequestID(id string) bool {
	if id == "" || len(id) > maxRequestIDLength {
		return false
	}
	for i := 0; i < len(id); i++ {
		switch b := id[i]; {
		case 'a' <= b && b <= 'z', 'A' <= b && b <= 'Z', '0' <= b && b <= '9':
		case b == '.' || b == '_' || b == ':' || b == '-':
		default:
			return false
		}
	}
	return true
}

// securityHeaders sets the headers every response carries before the
// handler runs, so that a handler may replace them. A JSON response whose
// handler set no Content-Security-Policy gets DefaultCSP; pages set their
// own policy.
func securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		res := c.Response()
		h := res.Header()
		for _, f := range everyResponse {
			h[f.name] = f.value
		}
		res.Before(func() {
			if h.Get("Content-Security-Policy") == "" && isJSON(h.Get(echo.HeaderContentType)) {
				h.Set("Content-Security-Policy", DefaultCSP)
			}
		})
		return next(c)
	}
}

// everyResponse are the headers securityHeaders sets, with canonical names.
// Their values are shared by all responses, which saves allocating them
// per request: net/http only reads them, a handler that sets one replaces
// the slice, and one that adds a value to it appends to a slice that has no
// room left, so gets a copy.
var everyResponse = []struct {
	name  string
	value []string
}{
	{"X-Content-Type-Options", []string{"nosniff"}},
	{"Referrer-Policy", []string{"no-referrer"}},
	{"X-Frame-Options", []string{"DENY"}},
	{"Cross-Origin-Opener-Policy", []string{"same-origin"}},
}

// isJSON reports whether contentType is application/json or
// application/*+json, such as application/problem+json.
func isJSON(contentType string) bool {
	mediaType, _, _ := strings.Cut(contentType, ";")
	mediaType = strings.ToLower(strings.TrimSpace(mediaType))
	sub, ok := strings.CutPrefix(mediaType, "application/")
	return ok && (sub == "json" || strings.HasSuffix(sub, "+json"))
}

// limitHeaders answers 431 to a request whose request line and headers
// are larger than s.maxHeader bytes. The HTTP server enforces the same
// limit with a few kilobytes of slack and answers beyond it in plain text;
// this makes the answer problem details within the slack.
func (s *server) limitHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if headerSize(c.Request()) > s.maxHeader {
			return problem.HeadersTooLarge(s.maxHeader)
		}
		return next(c)
	}
}

// headerSize estimates the size in bytes of the request line and header
// section of r as the client sent them.
func headerSize(r *http.Request) int {
	n := len(r.Method) + len(r.RequestURI) + len(r.Proto) + 4
	n += len("Host: ") + len(r.Host) + 2
	for k, vs := range r.Header {
		for _, v := range vs {
			n += len(k) + len(v) + 4
		}
	}
	return n
}

// cors returns Echo's CORS middleware allowing exactly origins, which
// must be canonical (as browsers send them in Origin), or nil if origins
// is empty.
func cors(origins []string) echo.MiddlewareFunc {
	if len(origins) == 0 {
		return nil
	}
	allowed := make(map[string]bool, len(origins))
	for _, o := range origins {
		allowed[o] = true
	}
	return middleware.CORSWithConfig(middleware.CORSConfig{
		// A function, not AllowOrigins, which would read "*" and "?" in
		// an origin as wildcards and match subdomains.
		AllowOriginFunc: func(origin string) (bool, error) { return allowed[origin], nil },
		AllowMethods:    []string{http.MethodGet, http.MethodHead, http.MethodPost},
		AllowHeaders:    []string{echo.HeaderAuthorization, echo.HeaderContentType, HeaderRequestID},
		ExposeHeaders:   []string{HeaderRequestID, "Retry-After", "WWW-Authenticate"},
		MaxAge:          int((10 * time.Minute).Seconds()),
	})
}
