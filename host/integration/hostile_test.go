package integration

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/modelhost/modelhost/host/internal/hosttest"
)

// rawRequest is an HTTP/1.1 request written byte for byte, so that it can
// be anything a hostile client sends, not only what net/http would.
type rawRequest struct {
	method  string
	target  string   // the request target, sent as is
	headers []string // "Name: value" lines, sent as is
	body    []byte
	// chunked sends body with Transfer-Encoding: chunked in 64 KiB chunks
	// instead of a Content-Length.
	chunked bool
	// noLength sends neither Content-Length nor Transfer-Encoding: the
	// headers say all there is to say (or lie).
	noLength bool
	// raw, if set, is sent instead of everything above.
	raw string
	// closeWrite half-closes the connection once the request is sent.
	closeWrite bool
}

func (r rawRequest) bytes(host string) []byte {
	if r.raw != "" {
		return []byte(r.raw)
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n", r.method, r.target, host)
	for _, h := range r.headers {
		b.WriteString(h + "\r\n")
	}
	switch {
	case r.chunked:
		b.WriteString("Transfer-Encoding: chunked\r\n\r\n")
		for body := r.body; len(body) > 0; {
			n := min(len(body), 64<<10)
			fmt.Fprintf(&b, "%x\r\n%s\r\n", n, body[:n])
			body = body[n:]
		}
		b.WriteString("0\r\n\r\n")
		return b.Bytes()
	case !r.noLength:
		fmt.Fprintf(&b, "Content-Length: %d\r\n", len(r.body))
	}
	b.WriteString("\r\n")
	b.Write(r.body)
	return b.Bytes()
}

// sendRaw writes req on a new connection to host's address and reads the
// response. The request is written concurrently with reading, so that a
// server that answers before reading a large body is seen answering.
func sendRaw(t *testing.T, h *hosttest.Host, req rawRequest) *hosttest.Response {
	t.Helper()
	u, err := url.Parse(h.URL)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.DialTimeout("tcp", u.Host, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	go func() {
		_, _ = conn.Write(req.bytes(u.Host)) // may fail once the server has answered
		if req.closeWrite {
			_ = conn.(*net.TCPConn).CloseWrite()
		}
	}()
	method := req.method
	if method == "" {
		method = http.MethodGet
	}
	res, err := http.ReadResponse(bufio.NewReader(conn), &http.Request{Method: method})
	if err != nil {
		t.Fatalf("read response: %v", err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		t.Fatalf("read response body: %v", err)
	}
	return &hosttest.Response{Status: res.StatusCode, Header: res.Header, Body: body}
}

func hostileConfig(pluginDir string) string {
	return fmt.Sprintf(`
server {
  max_body_bytes   = 1048576
  max_header_bytes = 16384
  read_timeout     = "3s"
  shutdown_timeout = "5s"
}
plugins {
  directory       = %q
  start_timeout   = "5s"
  predict_timeout = "5s"
}
log {
  level  = "debug"
  format = "json"
}
`, pluginDir)
}

// TestHostileRequests sends a table of hostile requests to the real host
// with the real iris and sentiment plugins. Each must get the status of its
// row, as problem details unless the row says the HTTP server itself
// answers; none may get a 5xx or crash anything; afterwards the host
// still predicts.
func TestHostileRequests(t *testing.T) {
	dir := t.TempDir()
	hosttest.Copy(t, builder.Build(t, "./plugins/iris"), filepath.Join(dir, "iris"), 0o755)
	hosttest.Copy(t, builder.Build(t, "./plugins/sentiment"), filepath.Join(dir, "sentiment"), 0o755)
	host := hosttest.Start(t, builder.Build(t, "./host/cmd/modelhost"), hostileConfig(dir))

	const (
		iris      = "/api/models/iris_model/predict"
		sentiment = "/api/models/sentiment/predict"
		json      = "Content-Type: application/json"
	)
	valid := `{"sepal_length":5.1,"sepal_width":3.5,"petal_length":1.4,"petal_width":0.2}`
	irisWith := func(field, value string) []byte {
		return []byte(strings.Replace(valid, `"`+field+`":`+map[string]string{
			"sepal_length": "5.1", "sepal_width": "3.5", "petal_length": "1.4", "petal_width": "0.2",
		}[field], `"`+field+`":`+value, 1))
	}
	post := func(target string, body []byte, headers ...string) rawRequest {
		if len(headers) == 0 {
			headers = []string{json}
		}
		return rawRequest{method: "POST", target: target, headers: headers, body: body}
	}
	get := func(target string, headers ...string) rawRequest {
		return rawRequest{method: "GET", target: target, headers: headers}
	}
	nested := func(n int) []byte {
		return []byte(strings.Repeat("[", n) + strings.Repeat("]", n))
	}
	tenMB := bytes.Repeat([]byte(" "), 10<<20)

	for _, tt := range []struct {
		name   string
		req    rawRequest
		status int
		// plain: Go's HTTP server answers before the API sees the request,
		// in plain text (it cannot be made problem details).
		plain bool
	}{
		// Malformed JSON.
		{"truncated object", post(iris, []byte(`{"sepal_length":5.1,`)), 400, false},
		{"unquoted key", post(iris, []byte(`{sepal_length:5.1}`)), 400, false},
		{"single quotes", post(iris, []byte(`{'sepal_length':5.1}`)), 400, false},
		{"trailing comma", post(iris, []byte(`{"sepal_length":5.1,}`)), 400, false},
		{"comment", post(iris, []byte(`{/* hi */"sepal_length":5.1}`)), 400, false},
		{"NaN", post(iris, irisWith("sepal_length", "NaN")), 400, false},
		{"Infinity", post(iris, irisWith("sepal_length", "Infinity")), 400, false},
		{"hexadecimal number", post(iris, irisWith("sepal_length", "0x10")), 400, false},
		{"leading zero", post(iris, irisWith("sepal_length", "05")), 400, false},
		{"plus sign", post(iris, irisWith("sepal_length", "+5")), 400, false},
		{"two documents", post(iris, []byte(valid+valid)), 400, false},
		{"empty body", post(iris, nil), 400, false},
		{"only whitespace", post(iris, []byte(" \r\n\t ")), 400, false},
		{"lone bracket", post(iris, []byte(`}`)), 400, false},

		// Wrong types and shapes.
		{"null document", post(iris, []byte(`null`)), 422, false},
		{"array document", post(iris, []byte(`[5.1, 3.5, 1.4, 0.2]`)), 422, false},
		{"string document", post(iris, []byte(`"sepal_length"`)), 422, false},
		{"string for a number", post(iris, irisWith("sepal_length", `"5.1"`)), 422, false},
		{"boolean for a number", post(iris, irisWith("sepal_width", `true`)), 422, false},
		{"object for a number", post(iris, irisWith("petal_length", `{"value":1.4}`)), 422, false},
		{"null for a number", post(iris, irisWith("petal_width", `null`)), 422, false},
		{"documents not an array", post(sentiment, []byte(`{"documents":{"text":"good"}}`)), 422, false},
		{"text a number", post(sentiment, []byte(`{"documents":[{"text":42}]}`)), 422, false},
		{"enum violated", post(sentiment, []byte(`{"documents":[{"text":"good"}],"granularity":"paragraph"}`)), 422, false},
		{"too many documents", post(sentiment, []byte(`{"documents":[`+strings.TrimSuffix(strings.Repeat(`{"text":"a"},`, 101), ",")+`]}`)), 422, false},

		// Numbers beyond what a float64 holds, or absurd to parse.
		{"1e400", post(iris, irisWith("sepal_length", "1e400")), 422, false},
		{"-1e400", post(iris, irisWith("sepal_length", "-1e400")), 422, false},
		{"1e309", post(iris, irisWith("sepal_width", "1e309")), 422, false},
		{"1e-400", post(iris, irisWith("petal_width", "1e-400")), 422, false},
		{"largest float, above the maximum", post(iris, irisWith("sepal_length", "1.7976931348623157e308")), 422, false},
		{"400-digit integer", post(iris, irisWith("sepal_length", strings.Repeat("9", 400))), 422, false},
		{"100000-digit number", post(iris, irisWith("sepal_length", "0."+strings.Repeat("1", 100000))), 422, false},
		{"zero with a huge exponent", post(iris, irisWith("sepal_length", "0.0e999999999999999999999")), 422, false},
		{"exponent beyond int64", post(iris, irisWith("sepal_length", "1e99999999999999999999")), 422, false},
		{"1e400 in a nested optional number", post(sentiment, []byte(`{"documents":[{"text":"good"}],"options":{"neutral_threshold":1e400}}`)), 422, false},

		// Deep nesting.
		{"10000 nested arrays", post(iris, nested(10000)), 400, false},
		{"100000 open brackets", post(iris, []byte(strings.Repeat("[", 100000))), 400, false},
		{"10000 nested objects in a property", post(sentiment, []byte(`{"documents":`+strings.Repeat(`{"a":`, 10000)+`1`+strings.Repeat(`}`, 10000)+`}`)), 400, false},

		// Large bodies.
		{"10 MB body", post(iris, tenMB), 413, false},
		{"10 MB body, chunked", rawRequest{method: "POST", target: iris, headers: []string{json}, body: tenMB, chunked: true}, 413, false},
		{"1 MiB + 1 byte", post(iris, bytes.Repeat([]byte(" "), 1<<20+1)), 413, false},
		{"10 MB announced, nothing sent", rawRequest{method: "POST", target: iris, headers: []string{json, "Content-Length: 10485760"}, noLength: true}, 413, false},
		{"huge Content-Length with Expect: 100-continue", rawRequest{method: "POST", target: iris, headers: []string{json, "Expect: 100-continue", "Content-Length: 999999999999"}, noLength: true}, 413, false},
		{"body shorter than its Content-Length, client waits", rawRequest{method: "POST", target: iris, headers: []string{json, "Content-Length: 500"}, body: []byte(valid), noLength: true}, 408, false},
		{"body shorter than its Content-Length, client half-closes", rawRequest{method: "POST", target: iris, headers: []string{json, "Content-Length: 500"}, body: []byte(valid), noLength: true, closeWrite: true}, 400, false},
		{"bad chunk size", rawRequest{raw: "POST " + iris + " HTTP/1.1\r\nHost: x\r\n" + json + "\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\nzz\r\n{}\r\n0\r\n\r\n"}, 400, false},
		{"gzip body without Content-Encoding support", post(iris, []byte("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"), json, "Content-Encoding: gzip"), 400, false},

		// Content types.
		{"text/plain", post(iris, []byte(valid), "Content-Type: text/plain"), 415, false},
		{"no Content-Type", post(iris, []byte(valid), "X-Nothing: 1"), 415, false},
		{"form", post(iris, []byte("sepal_length=5.1"), "Content-Type: application/x-www-form-urlencoded"), 415, false},
		{"multipart", post(iris, []byte("--x--"), "Content-Type: multipart/form-data; boundary=x"), 415, false},
		{"latin1 charset", post(iris, []byte(valid), "Content-Type: application/json; charset=latin1"), 415, false},
		{"UTF-16 charset", post(iris, []byte(valid), "Content-Type: application/json; charset=utf-16"), 415, false},
		{"XML", post(iris, []byte(`<iris/>`), "Content-Type: application/xml"), 415, false},
		{"malformed media type", post(iris, []byte(valid), "Content-Type: application/json; ==="), 415, false},
		{"JSON lookalike", post(iris, []byte(valid), "Content-Type: application/jsonp"), 415, false},
		{"two Content-Types", post(iris, []byte(valid), json, "Content-Type: text/plain"), 415, false},

		// Path tricks in the model name.
		{"dot-dot, encoded", get("/api/models/%2e%2e/metadata"), 404, false},
		{"dot-dot with encoded slashes", get("/api/models/..%2F..%2Fetc%2Fpasswd/metadata"), 404, false},
		{"double-encoded dot-dot", get("/api/models/%252e%252e%252f/metadata"), 404, false},
		{"encoded slash in the name", post("/api/models/iris_model%2Fpredict/predict", []byte(valid)), 404, false},
		{"NUL byte", post("/api/models/iris_model%00/predict", []byte(valid)), 404, false},
		{"NUL byte before a suffix", get("/api/models/iris_model%00.json/metadata"), 404, false},
		{"Cyrillic lookalike", post("/api/models/"+url.PathEscape("іris_model")+"/predict", []byte(valid)), 404, false},
		{"fullwidth lookalike", get("/api/models/" + url.PathEscape("ｉｒｉｓ_model") + "/metadata"), 404, false},
		{"upper case", post("/api/models/IRIS_MODEL/predict", []byte(valid)), 404, false},
		{"10000-character name", get("/api/models/" + strings.Repeat("a", 10000) + "/metadata"), 404, false},
		{"trailing slash", post(iris+"/", []byte(valid)), 404, false},
		{"dot segment", get("/api/models/./iris_model/metadata"), 404, false},
		{"backslashes", get(`/api/models/..\..\etc/metadata`), 404, false},
		{"RTL override in the name", get("/api/models/" + url.PathEscape("iris_model\u202e") + "/metadata"), 404, false},
		{"invalid percent-encoding", get("/api/models/%zz/metadata"), 400, true},

		// Unicode edge cases in the body.
		{"invalid UTF-8 in a string", post(sentiment, []byte("{\"documents\":[{\"text\":\"good \xff\xfe\"}]}")), 400, false},
		{"overlong UTF-8", post(sentiment, []byte("{\"documents\":[{\"text\":\"\xc0\xaf\"}]}")), 400, false},
		{"UTF-8 encoded surrogate", post(sentiment, []byte("{\"documents\":[{\"text\":\"\xed\xa0\x80\"}]}")), 400, false},
		{"lone high surrogate escape", post(sentiment, []byte(`{"documents":[{"text":"good \ud800"}]}`)), 400, false},
		{"lone low surrogate escape", post(sentiment, []byte(`{"documents":[{"text":"\udc00 good"}]}`)), 400, false},
		{"byte order mark", post(iris, append([]byte("\xef\xbb\xbf"), valid...)), 400, false},
		{"UTF-16 body", post(iris, utf16LE(valid)), 400, false},
		{"raw NUL in a string", post(sentiment, []byte("{\"documents\":[{\"text\":\"a\x00b\"}]}")), 400, false},
		{"RTL override in a key", post(iris, []byte(strings.Replace(valid, `"sepal_length"`, "\"sepal_length\u202e\"", 1))), 422, false},
		{"escaped NUL in a key", post(iris, []byte(strings.Replace(valid, `"sepal_length"`, `"sepal_length\u0000"`, 1))), 422, false},

		// Duplicate keys: parsers disagree on which one wins.
		{"duplicate key", post(iris, []byte(`{"sepal_length":5.1,"sepal_length":-1,"sepal_width":3.5,"petal_length":1.4,"petal_width":0.2}`)), 400, false},
		{"duplicate key, escaped", post(iris, []byte(`{"sepal_length":5.1,"sep\u0061l_length":-1,"sepal_width":3.5,"petal_length":1.4,"petal_width":0.2}`)), 400, false},
		{"duplicate key, nested", post(sentiment, []byte(`{"documents":[{"text":"good","text":"bad"}]}`)), 400, false},

		// Methods.
		{"GET predict", get(iris), 405, false},
		{"PUT predict", rawRequest{method: "PUT", target: iris, headers: []string{json}, body: []byte(valid)}, 405, false},
		{"DELETE the list", rawRequest{method: "DELETE", target: "/api/models"}, 405, false},
		{"PATCH metadata", rawRequest{method: "PATCH", target: "/api/models/iris_model/metadata", headers: []string{json}, body: []byte(`{}`)}, 405, false},
		{"TRACE", rawRequest{method: "TRACE", target: "/api/models"}, 405, false},
		{"made-up method", rawRequest{method: "FROB", target: iris, headers: []string{json}, body: []byte(valid)}, 405, false},
		{"lower-case method", rawRequest{method: "post", target: iris, headers: []string{json}, body: []byte(valid)}, 405, false},
		{"CONNECT", rawRequest{method: "CONNECT", target: "/api/models"}, 405, false},
		{"method override header", post("/api/models", []byte(`{}`), json, "X-HTTP-Method-Override: GET"), 405, false},
		{"invalid method token", rawRequest{raw: "P(S)T " + iris + " HTTP/1.1\r\nHost: x\r\n\r\n"}, 400, true},

		// Headers.
		{"headers just over the limit", get("/api/models", "X-Padding: "+strings.Repeat("a", 17000)), 431, false},
		{"many small headers over the limit", get("/api/models", manyHeaders(600)...), 431, false},
		{"1 MiB header", get("/api/models", "X-Padding: "+strings.Repeat("a", 1<<20)), 431, true},
		{"100 KiB URL", get("/api/models/" + strings.Repeat("a", 100<<10) + "/metadata"), 431, true},
		{"header name with a space", get("/api/models", "Bad Header: x"), 400, true},
		{"control character in a header value", get("/api/models", "X-Bad: a\x01b"), 400, true},
		{"two different Content-Lengths", rawRequest{method: "POST", target: iris, headers: []string{json, "Content-Length: 2", "Content-Length: 3"}, body: []byte(`{}`), noLength: true}, 400, true},
		{"negative Content-Length", rawRequest{method: "POST", target: iris, headers: []string{json, "Content-Length: -1"}, noLength: true}, 400, true},
		// RFC 9112 6.3: chunked wins and Content-Length is dropped; the
		// server closes the connection afterwards, so nothing is smuggled.
		{"Content-Length and chunked", rawRequest{raw: "POST " + iris + " HTTP/1.1\r\nHost: x\r\n" + json + "\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n"}, 422, false},
		{"no Host header", rawRequest{raw: "GET /api/models HTTP/1.1\r\n\r\n"}, 400, true},
		{"malformed request line", rawRequest{raw: "GET\r\n\r\n"}, 400, true},
		{"insane request ID replaced", get("/api/models/nope/metadata", "X-Request-ID: a b\"c"), 404, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := sendRaw(t, host, tt.req)
			if res.Status >= 500 {
				t.Fatalf("status %d, want %d: a hostile request must never get a 5xx; body %.300s", res.Status, tt.status, res.Body)
			}
			if tt.plain {
				if res.Status != tt.status {
					t.Errorf("status %d, want %d; body %.300s", res.Status, tt.status, res.Body)
				}
				return
			}
			wantProblem(t, res, tt.status)
			if id := res.Header.Get("X-Request-ID"); id == "" || strings.ContainsAny(id, " \"") {
				t.Errorf("X-Request-ID = %q, want a sane one", id)
			}
			if got := res.Header.Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("X-Content-Type-Options = %q", got)
			}
		})
	}

	t.Run("the host survived", func(t *testing.T) {
		if !host.Running() {
			t.Fatal("the host exited")
		}
		res := host.Post(t, iris, "application/json", []byte(valid))
		wantStatus(t, res, http.StatusOK, "application/json")
		res = host.Post(t, sentiment, "application/json", []byte(`{"documents":[{"text":"I love it"}]}`))
		wantStatus(t, res, http.StatusOK, "application/json")
		if got := len(host.PluginPIDs()); got != 2 {
			t.Errorf("%d plugins reported ready, want 2 (none restarted)", got)
		}
		for _, l := range host.LogLines() {
			if l["@level"] == "error" || strings.Contains(fmt.Sprint(l), "panic") {
				t.Errorf("log line: %v", l)
			}
		}
	})
}

func manyHeaders(n int) []string {
	h := make([]string, n)
	for i := range h {
		h[i] = "X-H" + strconv.Itoa(i) + ": " + strings.Repeat("v", 20)
	}
	return h
}

// utf16LE encodes ASCII s as UTF-16LE.
func utf16LE(s string) []byte {
	b := make([]byte, 0, 2*len(s))
	for i := 0; i < len(s); i++ {
		b = append(b, s[i], 0)
	}
	return b
}
