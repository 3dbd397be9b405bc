package api

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/modelhost/modelhost/host/internal/problem"
	"github.com/modelhost/modelhost/sdk/schemacheck"
)

func TestJSONPointer(t *testing.T) {
	tests := []struct {
		location []string
		want     string
	}{
		{nil, ""},
		{[]string{}, ""},
		{[]string{"petal_width"}, "/petal_width"},
		{[]string{"a", "0", "b"}, "/a/0/b"},
		{[]string{"a/b"}, "/a~1b"},
		{[]string{"m~n"}, "/m~0n"},
		{[]string{"~1"}, "/~01"},
		{[]string{"/~"}, "/~1~0"},
		{[]string{""}, "/"},
		{[]string{"", ""}, "//"},
		{[]string{"ü ñ"}, "/ü ñ"},
	}
	for _, tt := range tests {
		if got := jsonPointer(tt.location); got != tt.want {
			t.Errorf("jsonPointer(%q): got %q, want %q", tt.location, got, tt.want)
		}
	}
}

const testSchema = `{
	"type": "object",
	"properties": {
		"sepal_length": {"type": "number", "minimum": 0, "maximum": 10},
		"petal_width": {"type": "number", "exclusiveMinimum": 0},
		"a/b": {"type": "string", "enum": ["x", "y"]},
		"tags": {"type": "array", "items": {"type": "string", "minLength": 1, "maxLength": 3}, "maxItems": 4},
		"step": {"type": "number", "multipleOf": 0.5},
		"never": false
	},
	"required": ["sepal_length", "petal_width"],
	"dependentRequired": {"step": ["tags"]},
	"additionalProperties": false
}`

func compile(t *testing.T, schema string) *jsonschema.Schema {
	t.Helper()
	s, err := schemacheck.Compile(json.RawMessage(schema))
	if err != nil {
		t.Fatalf("compile schema: %v", err)
	}
	return s
}

func TestValidateInput(t *testing.T) {
	schema := compile(t, testSchema)
	printer := message.NewPrinter(language.English)
	tests := []struct {
		name  string
		input string
		want  []problem.FieldError // nil: valid
	}{
		{
			name:  "valid",
			input: `{"sepal_length": 5.1, "petal_width": 0.2}`,
		},
		{
			name:  "valid with big and precise numbers",
			input: `{"sepal_length": 1e-320, "petal_width": 0.20000000000000000000001}`,
		},
		{
			name:  "missing properties point at themselves",
			input: `{}`,
			want: []problem.FieldError{
				{Pointer: "/petal_width", Detail: "is required"},
				{Pointer: "/sepal_length", Detail: "is required"},
			},
		},
		{
			name:  "not an object",
			input: `[1, 2]`,
			want:  []problem.FieldError{{Pointer: "", Detail: "got array, want object"}},
		},
		{
			name:  "wrong type",
			input: `{"sepal_length": "5.1", "petal_width": 0.2}`,
			want:  []problem.FieldError{{Pointer: "/sepal_length", Detail: "got string, want number"}},
		},
		{
			name:  "bounds",
			input: `{"sepal_length": 11, "petal_width": 0}`,
			want: []problem.FieldError{
				{Pointer: "/petal_width", Detail: "must be greater than 0, got 0"},
				{Pointer: "/sepal_length", Detail: "must be at most 10, got 11"},
			},
		},
		{
			name:  "minimum and fractions",
			input: `{"sepal_length": -0.5, "petal_width": 1, "step": 0.3, "tags": []}`,
			want: []problem.FieldError{
				{Pointer: "/sepal_length", Detail: "must be at least 0, got -0.5"},
				{Pointer: "/step", Detail: "must be a multiple of 0.5, got 0.3"},
			},
		},
		{
			name:  "unknown property and escaped pointer",
			input: `{"sepal_length": 1, "petal_width": 1, "a/b": "z", "extra": 1, "x~y": 2}`,
			want: []problem.FieldError{
				{Pointer: "/a~1b", Detail: "value must be one of 'x', 'y'"},
				{Pointer: "/extra", Detail: "is not allowed: the schema defines no such property"},
				{Pointer: "/x~0y", Detail: "is not allowed: the schema defines no such property"},
			},
		},
		{
			name:  "array items and false schema and dependency",
			input: `{"sepal_length": 1, "petal_width": 1, "tags": ["ok", "toolong", 3], "never": 1}`,
			want: []problem.FieldError{
				{Pointer: "/never", Detail: "is not allowed"},
				{Pointer: "/tags/1", Detail: "must be at most 3 characters long, got 7"},
				{Pointer: "/tags/2", Detail: "got number, want string"},
			},
		},
		{
			name:  "lengths and counts",
			input: `{"sepal_length": 1, "petal_width": 1, "tags": ["a", "", "b", "c", "d"]}`,
			want: []problem.FieldError{
				{Pointer: "/tags", Detail: "must have at most 4 items, got 5"},
				{Pointer: "/tags/1", Detail: "must be at least 1 character long, got 0"},
			},
		},
		{
			name:  "dependent required",
			input: `{"sepal_length": 1, "petal_width": 1, "step": 1}`,
			want:  []problem.FieldError{{Pointer: "/tags", Detail: `is required when "step" is present`}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := parseJSON([]byte(tt.input))
			if err != nil {
				t.Fatalf("parseJSON(%s): %v", tt.input, err)
			}
			err = validateInput(schema, doc, printer)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("validateInput(%s): got %v, want nil", tt.input, err)
				}
				return
			}
			var ve *problem.ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("validateInput(%s): got %v, want a *problem.ValidationError", tt.input, err)
			}
			if diff := cmp.Diff(tt.want, ve.Fields); diff != "" {
				t.Errorf("validateInput(%s) fields mismatch (-want +got):\n%s", tt.input, diff)
			}
		})
	}
}

func TestCount(t *testing.T) {
	tests := []struct {
		n     int
		thing string
		want  string
	}{
		{0, "item", "0 items"},
		{1, "item", "1 item"},
		{2, "property", "2 properties"},
		{1, "property", "1 property"},
	}
	for _, tt := range tests {
		if got := count(tt.n, tt.thing); got != tt.want {
			t.Errorf("count(%d, %q): got %q, want %q", tt.n, tt.thing, got, tt.want)
		}
	}
}

func TestValidateInputCapsErrors(t *testing.T) {
	schema := compile(t, `{"type": "array", "items": {"type": "string"}}`)
	input := "[" + strings.Repeat("1,", 150) + "1]"
	doc, err := parseJSON([]byte(input))
	if err != nil {
		t.Fatal(err)
	}
	var ve *problem.ValidationError
	if !errors.As(validateInput(schema, doc, message.NewPrinter(language.English)), &ve) {
		t.Fatal("validateInput: got no *problem.ValidationError")
	}
	if got, want := len(ve.Fields), maxFieldErrors+1; got != want {
		t.Fatalf("got %d field errors, want %d", got, want)
	}
	if got, want := ve.Fields[maxFieldErrors].Detail, "51 more errors not shown"; got != want {
		t.Errorf("last field error: got %q, want %q", got, want)
	}
}

func TestParseJSON(t *testing.T) {
	tests := []struct {
		name       string
		body       string
		wantDetail string // "": parses
	}{
		{name: "object", body: `{"a": 1.50}`},
		{name: "surrounding whitespace", body: " \r\n\t{\"a\": 1}\n\n "},
		{name: "empty", body: ``, wantDetail: "the request body is empty; send one JSON object"},
		{name: "only whitespace", body: " \n\t", wantDetail: "the request body is empty; send one JSON object"},
		{
			name:       "syntax error",
			body:       `{"a": }`,
			wantDetail: "invalid character '}' looking for beginning of value at line 1, column 7 (byte offset 6)",
		},
		{
			name:       "syntax error on a later line",
			body:       "{\n  \"é\": 1,\n  \"b\" 2\n}",
			wantDetail: "invalid character '2' after object key at line 3, column 7 (byte offset 19)",
		},
		{
			name:       "truncated",
			body:       `{"a": 1`,
			wantDetail: "unexpected end of JSON input at line 1, column 8 (byte offset 7): the document is incomplete",
		},
		{
			name:       "second document",
			body:       `{"a": 1} {"b": 2}`,
			wantDetail: "unexpected data after the JSON document at line 1, column 10 (byte offset 9); send exactly one JSON document",
		},
		{
			name:       "trailing garbage",
			body:       "{\"a\": 1}\n}",
			wantDetail: "unexpected data after the JSON document at line 2, column 1 (byte offset 9); send exactly one JSON document",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseJSON([]byte(tt.body))
			if tt.wantDetail == "" {
				if err != nil {
					t.Fatalf("parseJSON(%q): got %v, want nil", tt.body, err)
				}
				return
			}
			var d *problem.Details
			if !errors.As(err, &d) {
				t.Fatalf("parseJSON(%q): got %v, want *problem.Details", tt.body, err)
			}
			if d.Status != 400 || d.Type != problem.TypeMalformedJSON {
				t.Errorf("parseJSON(%q): got %d %s, want 400 %s", tt.body, d.Status, d.Type, problem.TypeMalformedJSON)
			}
			if d.Detail != tt.wantDetail {
				t.Errorf("parseJSON(%q) detail:\n got %q\nwant %q", tt.body, d.Detail, tt.wantDetail)
			}
		})
	}
}

func TestParseJSONKeepsNumbers(t *testing.T) {
	doc, err := parseJSON([]byte(`{"n": 12345678901234567890.5}`))
	if err != nil {
		t.Fatal(err)
	}
	got := doc.(map[string]any)["n"]
	if want := json.Number("12345678901234567890.5"); got != want {
		t.Errorf("got %#v, want %#v", got, want)
	}
}

func TestCheckContentType(t *testing.T) {
	tests := []struct {
		contentType string
		ok          bool
	}{
		{"application/json", true},
		{"application/json; charset=utf-8", true},
		{"Application/JSON; Charset=UTF-8", true},
		{"application/merge-patch+json", true},
		{"application/vnd.api+json", true},
		{"", false},
		{"text/plain", false},
		{"text/json", false},
		{"application/jsonx", false},
		{"application/x-www-form-urlencoded", false},
		{"application/json; charset=iso-8859-1", false},
		{"application/json; charset", false},
		{"multipart/form-data; boundary=x", false},
	}
	for _, tt := range tests {
		err := checkContentType(tt.contentType)
		if got := err == nil; got != tt.ok {
			t.Errorf("checkContentType(%q): got %v, want ok=%v", tt.contentType, err, tt.ok)
		}
	}
}

func TestIsQualifiedName(t *testing.T) {
	tests := []struct {
		name string
		want bool
	}{
		{"iris_model", true},
		{"a", true},
		{"9.x-y_z", true},
		{"", false},
		{"Iris", false},
		{"_iris", false},
		{".hidden", false},
		{"iris model", false},
		{"iris%2Fx", false},
		{strings.Repeat("a", 128), true},
		{strings.Repeat("a", 129), false},
	}
	for _, tt := range tests {
		if got := isQualifiedName(tt.name); got != tt.want {
			t.Errorf("isQualifiedName(%q): got %v, want %v", tt.name, got, tt.want)
		}
	}
}
