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
		if !protected(c.Request()) {
			return next(c)
		}
		if err := Authorize(c, s.tokens, "API token"); err != nil {
			return err
		}
		return next(c)
	}
}

// Authorize checks that c's request carries "Authorization: Bearer TOKEN"
// with a token whose SHA-256 digest is one of digests. If not, it sets
// WWW-Authenticate and returns a 401 problem that names what (such as
// "API token") but never quotes the token.
func Authorize(c echo.Context, digests [][sha256.Size]byte, what string) error {
	token, ok := bearerToken(c.Request().Header.Values(echo.HeaderAuthorization))
	if !ok {
		c.Response().Header().Set(echo.HeaderWWWAuthenticate, problem.WWWAuthenticate)
		return problem.Unauthorized("this endpoint requires an " + what + ": send it as Authorization: Bearer TOKEN")
	}
	if !validToken(token, digests) {
		c.Response().Header().Set(echo.HeaderWWWAuthenticate, problem.WWWAuthenticate+`, error="invalid_token"`)
		return problem.Unauthorized("the " + what + " is not valid")
	}
	return nil
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
// digests, in time that depends only on the number of digests.
func validToken(token string, digests [][sha256.Size]byte) bool {
	sum := sha256.Sum256([]byte(token))
	match := 0
	for i := range digests {
		match |= subtle.ConstantTimeCompare(sum[:], digests[i][:])
	}
	return match == 1
}
