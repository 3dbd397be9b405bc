package api

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/modelhost/modelhost/host/internal/problem"
)

// ProtectedPrefix is the path prefix of the endpoints that require a token
// when authentication is on. Pages, their assets, /openapi.json and /docs
// are outside it.
const ProtectedPrefix = "/api/"

// authenticate requires "Authorization: Bearer TOKEN", with TOKEN one of
// those whose SHA-256 digest is in s.tokens, of every request under
// ProtectedPrefix. It compares digests in constant time and looks at every
// digest whatever the outcome, so that timing tells nothing about the
// tokens. Tokens are never logged: the 401's detail does not quote them.
func (s *server) authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		if !protected(req) {
			return next(c)
		}
		token, ok := bearerToken(req.Header.Values(echo.HeaderAuthorization))
		if !ok {
			c.Response().Header().Set(echo.HeaderWWWAuthenticate, problem.WWWAuthenticate)
			return problem.Unauthorized("this endpoint requires an API token: send it as Authorization: Bearer TOKEN")
		}
		if !s.validToken(token) {
			c.Response().Header().Set(echo.HeaderWWWAuthenticate, problem.WWWAuthenticate+`, error="invalid_token"`)
			return problem.Unauthorized("the API token is not valid")
		}
		return next(c)
	}
}

// protected reports whether req is for a path under ProtectedPrefix, as
// decoded or as sent (the router matches the latter when it has escapes).
func protected(req *http.Request) bool {
	under := func(p string) bool {
		return strings.HasPrefix(p, ProtectedPrefix) || p == strings.TrimSuffix(ProtectedPrefix, "/")
	}
	return under(req.URL.Path) || under(req.URL.RawPath)
}

// bearerToken returns the token of the one Authorization header in
// values if it uses the Bearer scheme (case-insensitive, RFC 6750).
func bearerToken(values []string) (string, bool) {
	if len(values) != 1 {
		return "", false
	}
	scheme, token, ok := strings.Cut(values[0], " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.Trim(token, " \t")
	return token, token != ""
}

// validToken reports whether the SHA-256 digest of token is one of
// s.tokens, in time that depends only on the number of tokens.
func (s *server) validToken(token string) bool {
	sum := sha256.Sum256([]byte(token))
	match := 0
	for i := range s.tokens {
		match |= subtle.ConstantTimeCompare(sum[:], s.tokens[i][:])
	}
	return match == 1
}
