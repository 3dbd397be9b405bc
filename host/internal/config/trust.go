package config

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// Limits of the token sources of the auth and admin blocks.
const (
	// MinTokenLength is the shortest API token accepted, in characters.
	MinTokenLength = 16
	// MaxTokenLength is the longest API token accepted, in characters.
	MaxTokenLength = 4096
	// MaxTokensFileBytes is the largest tokens_file read (1 MiB).
	MaxTokensFileBytes = 1 << 20
)

// Auth holds the settings of the auth block: the API tokens that the
// endpoints under /api/ accept as "Authorization: Bearer TOKEN". Without an
// auth block the API needs no token.
//
// Tokens are kept only as SHA-256 digests; the configuration never holds
// them in the clear after Parse returns.
type Auth struct {
	// TokenDigests are the SHA-256 digests of the accepted tokens, from
	// every source the block names: tokens (the tokens themselves, which
	// puts secrets in the file), token_sha256 (their digests, as 64
	// hexadecimal digits), tokens_file (a file with one token per line;
	// blank lines and lines starting with # are ignored; a relative path
	// is resolved against the configuration file's directory) and
	// tokens_env (an environment variable holding tokens separated by
	// commas or white space; it must be set). A token is 16 to 4096
	// characters of the RFC 6750 token syntax: letters, digits and
	// -._~+/ followed by optional = padding. An auth block whose sources
	// hold no token at all is an error, so that a typo cannot turn
	// authentication off. Default: none (nil), authentication off.
	TokenDigests [][sha256.Size]byte
}

// Enabled reports whether the API requires a token.
func (a Auth) Enabled() bool { return len(a.TokenDigests) > 0 }

// Admin holds the settings of the admin block: the tokens that the admin
// endpoints, such as POST /admin/reload, accept as "Authorization: Bearer
// TOKEN". The block takes the same arguments as the auth block, checked
// the same way, but its tokens are its own: an API token does not
// authorise the admin endpoints unless the admin block names it too.
// Without an admin block the admin endpoints are off.
//
// Tokens are kept only as SHA-256 digests; the configuration never holds
// them in the clear after Parse returns.
type Admin struct {
	// TokenDigests are the SHA-256 digests of the accepted tokens, from
	// the arguments tokens, token_sha256, tokens_file and tokens_env, as
	// for Auth.TokenDigests. An admin block whose sources hold no token at
	// all is an error. Default: none (nil), admin endpoints off.
	TokenDigests [][sha256.Size]byte
}

// Enabled reports whether the admin endpoints are on.
func (a Admin) Enabled() bool { return len(a.TokenDigests) > 0 }

// CORS holds the settings of the cors block. Without it, or with an empty
// list, the host sends no CORS headers, so browsers let only pages of its
// own origin read its answers.
type CORS struct {
	// AllowedOrigins are the origins (scheme://host[:port], as browsers
	// send them in the Origin header) whose pages may call the API from a
	// browser. Each must be exactly an http or https origin: no path, no
	// wildcard; "*" is refused. Scheme and host are lower-cased and a
	// default port (:80 for http, :443 for https) is dropped, as browsers
	// do. Argument: allowed_origins. Default: none (nil), CORS off.
	AllowedOrigins []string
}

// rawTokens is an auth or admin block.
type rawTokens struct {
	Tokens      *hcl.Attribute `hcl:"tokens,optional"`
	TokenSHA256 *hcl.Attribute `hcl:"token_sha256,optional"`
	TokensFile  *hcl.Attribute `hcl:"tokens_file,optional"`
	TokensEnv   *hcl.Attribute `hcl:"tokens_env,optional"`
	DefRange    hcl.Range      `hcl:",def_range"`
}

type rawCORS struct {
	AllowedOrigins *hcl.Attribute `hcl:"allowed_origins,optional"`
}

// tokenBlock words the diagnostics of a block of tokens.
type tokenBlock struct {
	name    string // the block type: "auth"
	guarded string // what the tokens open: "the API"
	empty   string // the summary of a block without tokens
	remove  string // what removing the block does
}

// decodeAuth decodes the auth block.
func decodeAuth(raw *rawTokens, baseDir string, a *Auth) hcl.Diagnostics {
	var diags hcl.Diagnostics
	a.TokenDigests, diags = decodeTokens(raw, baseDir, tokenBlock{
		name:    "auth",
		guarded: "the API",
		empty:   "No API token",
		remove:  "remove the block to serve the API without authentication",
	})
	return diags
}

// decodeAdmin decodes the admin block.
func decodeAdmin(raw *rawTokens, baseDir string, a *Admin) hcl.Diagnostics {
	var diags hcl.Diagnostics
	a.TokenDigests, diags = decodeTokens(raw, baseDir, tokenBlock{
		name:    "admin",
		guarded: "the admin endpoints",
		empty:   "No admin token",
		remove:  "remove the block to turn the admin endpoints off",
	})
	return diags
}

// decodeTokens returns the digests of the tokens that an auth or admin
// block names, without duplicates, in source order. Error messages never
// contain a token: they count tokens and lines instead.
func decodeTokens(raw *rawTokens, baseDir string, block tokenBlock) ([][sha256.Size]byte, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	var digests [][sha256.Size]byte
	seen := map[[sha256.Size]byte]bool{}
	add := func(d [sha256.Size]byte) {
		if !seen[d] {
			seen[d] = true
			digests = append(digests, d)
		}
	}

	if tokens, ok := decodeValue[[]string](raw.Tokens, &diags); ok {
		for i, tok := range tokens {
			if err := checkToken(tok); err != nil {
				diags = append(diags, attrError(raw.Tokens, "Invalid token",
					fmt.Sprintf("Token %d of tokens %v.", i+1, err)))
				continue
			}
			add(sha256.Sum256([]byte(tok)))
		}
	}

	if hexDigests, ok := decodeValue[[]string](raw.TokenSHA256, &diags); ok {
		for i, h := range hexDigests {
			b, err := hex.DecodeString(h)
			if err != nil || len(b) != sha256.Size {
				diags = append(diags, attrError(raw.TokenSHA256, "Invalid token digest",
					fmt.Sprintf("Digest %d of token_sha256 must be 64 hexadecimal digits, the output of "+
						"\"printf %%s TOKEN | sha256sum\"; got %d characters.", i+1, len(h))))
				continue
			}
			add([sha256.Size]byte(b))
		}
	}

	if path, ok := decodeString(raw.TokensFile, &diags); ok {
		switch tokens, err := readTokensFile(resolvePathOrEmpty(baseDir, path)); {
		case err != nil:
			diags = append(diags, attrError(raw.TokensFile, "Invalid tokens_file", err.Error()))
		default:
			for _, tok := range tokens {
				add(sha256.Sum256([]byte(tok)))
			}
		}
	}

	if name, ok := decodeString(raw.TokensEnv, &diags); ok {
		switch value, set := lookupEnv(name); {
		case name == "" || strings.ContainsAny(name, "=\x00"):
			diags = append(diags, attrError(raw.TokensEnv, "Invalid tokens_env",
				"tokens_env must be the name of an environment variable."))
		case !set:
			diags = append(diags, attrError(raw.TokensEnv, "Invalid tokens_env",
				fmt.Sprintf("The environment variable %s is not set; %s would accept no token.", name, block.guarded)))
		default:
			for i, tok := range strings.FieldsFunc(value, func(r rune) bool {
				return r == ',' || r == ' ' || r == '\t' || r == '\n' || r == '\r'
			}) {
				if err := checkToken(tok); err != nil {
					diags = append(diags, attrError(raw.TokensEnv, "Invalid token",
						fmt.Sprintf("Token %d of the environment variable %s %v.", i+1, name, err)))
					continue
				}
				add(sha256.Sum256([]byte(tok)))
			}
		}
	}

	if !diags.HasErrors() && len(digests) == 0 {
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  block.empty,
			Detail: fmt.Sprintf("The %s block yields no token, so no request could be authenticated; set tokens, token_sha256, "+
				"tokens_file or tokens_env, or %s.", block.name, block.remove),
			Subject: raw.DefRange.Ptr(),
		})
	}
	if diags.HasErrors() {
		return nil, diags
	}
	return digests, diags
}

// lookupEnv is os.LookupEnv; tests may replace it.
var lookupEnv = os.LookupEnv

// checkToken reports whether tok is an acceptable API token: MinTokenLength
// to MaxTokenLength characters of RFC 6750's b64token syntax. Its error
// never quotes tok.
func checkToken(tok string) error {
	if n := len(tok); n < MinTokenLength || n > MaxTokenLength {
		return fmt.Errorf("must be %d to %d characters long, got %d", MinTokenLength, MaxTokenLength, n)
	}
	body := strings.TrimRight(tok, "=")
	if body == "" {
		return fmt.Errorf("must not consist of = signs only")
	}
	for i := 0; i < len(body); i++ {
		switch b := body[i]; {
		case 'a' <= b && b <= 'z', 'A' <= b && b <= 'Z', '0' <= b && b <= '9':
		case strings.IndexByte("-._~+/", b) >= 0:
		default:
			return fmt.Errorf("has a character at position %d that a bearer token cannot contain; "+
				"use letters, digits and -._~+/ (for example the output of \"openssl rand -hex 32\")", i+1)
		}
	}
	return nil
}

// readTokensFile reads the tokens of a tokens_file: one per line, blank
// lines and lines starting with # ignored.
func readTokensFile(path string) ([]string, error) {
	if path == "" || strings.IndexByte(path, 0) >= 0 {
		return nil, fmt.Errorf("tokens_file must be the path of a file")
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read the tokens file: %v", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("cannot read the tokens file: %v", err)
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("the tokens file %s is not a regular file", path)
	}
	b, err := io.ReadAll(io.LimitReader(f, MaxTokensFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("cannot read the tokens file: %v", err)
	}
	if len(b) > MaxTokensFileBytes {
		return nil, fmt.Errorf("the tokens file %s is larger than %d bytes", path, MaxTokensFileBytes)
	}
	var tokens []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, MaxTokensFileBytes+1)
	for line := 1; sc.Scan(); line++ {
		tok := strings.TrimSpace(sc.Text())
		if tok == "" || strings.HasPrefix(tok, "#") {
			continue
		}
		if err := checkToken(tok); err != nil {
			return nil, fmt.Errorf("the token on line %d of %s %v", line, path, err)
		}
		tokens = append(tokens, tok)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("cannot read the tokens file: %v", err)
	}
	if len(tokens) == 0 {
		return nil, fmt.Errorf("the tokens file %s holds no token", path)
	}
	return tokens, nil
}

func resolvePathOrEmpty(baseDir, p string) string {
	if p == "" {
		return ""
	}
	return resolvePath(baseDir, p)
}

// decodeCORS decodes the cors block.
func decodeCORS(raw *rawCORS, c *CORS) hcl.Diagnostics {
	var diags hcl.Diagnostics
	origins, ok := decodeValue[[]string](raw.AllowedOrigins, &diags)
	if !ok {
		return diags
	}
	seen := map[string]bool{}
	for i, o := range origins {
		canon, err := canonicalOrigin(o)
		if err != nil {
			diags = append(diags, attrError(raw.AllowedOrigins, "Invalid origin",
				fmt.Sprintf("Origin %d of allowed_origins, %q, %v.", i+1, o, err)))
			continue
		}
		if !seen[canon] {
			seen[canon] = true
			c.AllowedOrigins = append(c.AllowedOrigins, canon)
		}
	}
	return diags
}

// canonicalOrigin returns o in the form browsers send in the Origin
// header, or why o is not an origin that may be allowed.
func canonicalOrigin(o string) (string, error) {
	if o == "*" {
		return "", fmt.Errorf("is a wildcard: it would let every web site call the API from its visitors' browsers; " +
			"list the origins that may, such as \"https://app.example\"")
	}
	if strings.ContainsAny(o, "*?") {
		return "", fmt.Errorf("has a wildcard; list each origin exactly")
	}
	u, err := url.Parse(o)
	switch {
	case err != nil:
		return "", fmt.Errorf("is not a URL: %v", err)
	case u.Scheme != "http" && u.Scheme != "https":
		return "", fmt.Errorf("must start with https:// or http://")
	case u.User != nil || u.Host == "" || u.Hostname() == "" || u.Opaque != "":
		return "", fmt.Errorf("must be scheme://host or scheme://host:port")
	case u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.ForceQuery || strings.HasSuffix(o, "#"):
		return "", fmt.Errorf("must have no path, query or fragment (not even a trailing /): an origin is scheme://host[:port]")
	}
	host := strings.ToLower(u.Hostname())
	port := u.Port()
	if (u.Scheme == "http" && port == "80") || (u.Scheme == "https" && port == "443") {
		port = ""
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port != "" {
		host += ":" + port
	}
	return strings.ToLower(u.Scheme) + "://" + host, nil
}
