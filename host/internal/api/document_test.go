package api

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/modelhost/modelhost/host/internal/problem"
)

func TestParseJSONHostile(t *testing.T) {
	nested := func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }
	tests := []struct {
		name   string
		body   string
		status int    // 0: parses
		want   string // in the detail, or in the first field error's
	}{
		{"byte order mark", "\xEF\xBB\xBF{}", 400, "byte order mark"},
		{"invalid UTF-8 in a string", "{\"a\": \"\xff\"}", 400, "not valid UTF-8: byte 0xff at line 1, column 8 (byte offset 7)"},
		{"truncated UTF-8 sequence", "{\"a\": \"\xe2\x82\"}", 400, "not valid UTF-8"},
		{"overlong UTF-8 encoding", "{\"a\": \"\xc0\xaf\"}", 400, "not valid UTF-8"},
		{"UTF-8 encoded surrogate", "{\"a\": \"\xed\xa0\x80\"}", 400, "not valid UTF-8"},
		{"invalid UTF-8 outside strings", "{\"a\": 1}\xff", 400, "not valid UTF-8"},
		{"lone high surrogate", `{"a": "\ud800"}`, 400, `lone surrogate escape \ud800 at line 1, column 8`},
		{"lone low surrogate", `{"a": "x\uDC00"}`, 400, `lone surrogate escape \uDC00`},
		{"high surrogate then a letter", `{"a": "\ud800x"}`, 400, "lone surrogate"},
		{"two high surrogates", `{"a": "\ud800\ud800"}`, 400, "lone surrogate"},
		{"lone surrogate in a key", `{"\udfff": 1}`, 400, "lone surrogate"},
		{"surrogate pair", `{"a": "\ud83d\ude00"}`, 0, ""},
		{"escaped backslash before u", `{"a": "\\ud800"}`, 0, ""},
		{"escaped NUL", `{"a": "\u0000"}`, 0, ""},
		{"raw NUL", "{\"a\": \"\x00\"}", 400, "invalid character '\\x00' in string literal"},
		{"RTL override", "{\"a\": \"\u202egnp.exe\"}", 0, ""},
		{"duplicate key", `{"a": 1, "a": 2}`, 400, `the key "a" appears more than once in the object at "" at line 1, column 13`},
		{"duplicate key, escaped", `{"a": 1, "\u0061": 2}`, 400, "appears more than once"},
		{"duplicate key, nested", `{"x": [{"b": 1, "b": 1}]}`, 400, `in the object at "/x/0"`},
		{"same key in two objects", `{"x": {"b": 1}, "y": {"b": 1}}`, 0, ""},
		{"nested 1000 deep", nested(1000), 0, ""},
		{"nested 1001 deep", nested(1001), 400, "nested more than 1000 levels deep at line 1, column 1001"},
		{"nested 10000 deep", nested(10000), 400, "nested more than 1000 levels deep"},
		{"nested 100000 deep, unclosed", strings.Repeat("[", 100000), 400, "nested more than 1000 levels deep"},
		{"objects nested 1001 deep", strings.Repeat(`{"a":`, 1001) + "1" + strings.Repeat("}", 1001), 400, "nested more than 1000"},
		{"1e400", `{"a": 1e400}`, 422, "is too large"},
		{"-1e400", `{"a": -1e400}`, 422, "is too large"},
		{"1e309", `{"a": [1, 1e309]}`, 422, "is too large"},
		{"largest float", `{"a": 1.7976931348623157e308}`, 0, ""},
		{"just past the largest float", `{"a": 1.7976931348623159e308}`, 422, "is too large"},
		{"1e-400", `{"a": 1e-400}`, 422, "too close to zero"},
		{"smallest float", `{"a": 5e-324}`, 0, ""},
		{"zero with a large exponent", `{"a": 0e999}`, 0, ""},
		{"zero with a huge exponent", `{"a": 0.0e999999999999999999999}`, 422, "exponent beyond"},
		{"exponent overflowing int", `{"a": 1e99999999999999999999}`, 422, "exponent beyond"},
		{"very long integer", `{"a": ` + strings.Repeat("9", 400) + `}`, 422, "is too large"},
		{"very long number", `{"a": 0.` + strings.Repeat("1", 1000) + `}`, 422, "at most 1000 are accepted"},
		{"long but acceptable", `{"a": 0.` + strings.Repeat("1", 900) + `}`, 0, ""},
		{"negative zero", `{"a": -0.0}`, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseJSON([]byte(tt.body))
			if tt.status == 0 {
				if err != nil {
					t.Fatalf("parseJSON: %v, want nil", err)
				}
				return
			}
			var d *problem.Details
			if !errors.As(err, &d) {
				t.Fatalf("parseJSON: got %v, want *problem.Details", err)
			}
			if d.Status != tt.status {
				t.Errorf("status %d, want %d (%s)", d.Status, tt.status, d.Detail)
			}
			got := d.Detail
			if len(d.Errors) > 0 {
				got += " | " + d.Errors[0].Detail
			}
			if !strings.Contains(got, tt.want) {
				t.Errorf("detail %q, want it to contain %q", got, tt.want)
			}
		})
	}
}

func TestNumberErrorsPointAtNumbers(t *testing.T) {
	_, err := parseJSON([]byte(`{"a": [1, 1e400], "b~/c": {"d": -1e-999}, "ok": 5}`))
	d := problem.FromError(err)
	if d.Status != http.StatusUnprocessableEntity || d.Type != problem.TypeInvalidInput {
		t.Fatalf("got %d %s, want 422 invalid-input", d.Status, d.Type)
	}
	var ptrs []string
	for _, f := range d.Errors {
		ptrs = append(ptrs, f.Pointer)
	}
	if got, want := strings.Join(ptrs, " "), "/a/1 /b~0~1c/d"; got != want {
		t.Errorf("pointers %q, want %q", got, want)
	}
}

func TestNumberErrorsAreCapped(t *testing.T) {
	body := "[" + strings.Repeat("1e999,", 500) + "1]"
	_, err := parseJSON([]byte(body))
	d := problem.FromError(err)
	if n := len(d.Errors); n != maxFieldErrors+1 {
		t.Fatalf("%d errors, want %d", n, maxFieldErrors+1)
	}
	if got := d.Errors[maxFieldErrors].Detail; got != "400 more numbers not shown" {
		t.Errorf("last error %q", got)
	}
}

// TestHostileBodies sends hostile bodies through the whole handler: each
// gets the right 4xx problem, never a 5xx.
func TestHostileBodies(t *testing.T) {
	e, _ := testAPI(t)
	for _, tt := range []struct {
		name, contentType, body string
		status                  int
	}{
		{"invalid UTF-8", "application/json", "{\"a\": \"\xff\xfe\"}", 400},
		{"lone surrogate", "application/json", `{"a": "\ud800"}`, 400},
		{"duplicate keys", "application/json", `{"sepal_length": 1, "sepal_length": -1}`, 400},
		{"nested 200 deep", "application/json", strings.Repeat("[", 200) + strings.Repeat("]", 200), 422},
		{"nested deeper than the body limit allows", "application/json", strings.Repeat("[", 1000), 413},
		{"huge number to a bounded property", "application/json", `{"sepal_length": 0.0e999999999999999999999, "sepal_width": 1, "petal_length": 1, "petal_width": 1}`, 422},
		{"1e400 to iris", "application/json", `{"sepal_length": 1e400, "sepal_width": 1, "petal_length": 1, "petal_width": 1}`, 422},
		{"charset latin1", "application/json; charset=latin1", `{}`, 415},
		{"content type with a NUL", "application/json\x00", `{}`, 415},
	} {
		t.Run(tt.name, func(t *testing.T) {
			model := "echo"
			if strings.Contains(tt.name, "iris") || strings.Contains(tt.name, "bounded") {
				model = "iris_model"
			}
			r := predict(model, tt.body)
			r.contentType = tt.contentType
			rec := r.do(e)
			if rec.Code != tt.status {
				t.Errorf("status %d, want %d; body %s", rec.Code, tt.status, rec.Body)
			}
			if got := rec.Header().Get("Content-Type"); got != problem.ContentType {
				t.Errorf("Content-Type %q, want %q", got, problem.ContentType)
			}
		})
	}
}
