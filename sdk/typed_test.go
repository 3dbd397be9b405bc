package sdk_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/modelhost/modelhost/sdk"
)

type inner struct {
	B int     `json:"b"`
	C float64 `json:"c,omitempty"`
}

type embedded struct {
	E string `json:"e,omitempty"`
}

type decodeTarget struct {
	embedded
	Name   string           `json:"name"`
	Age    int              `json:"age,omitempty"`
	Small  int8             `json:"small,omitempty"`
	Ratio  float64          `json:"ratio,omitempty"`
	OK     bool             `json:"ok,omitempty"`
	A      inner            `json:"a"`
	P      *inner           `json:"p,omitempty"`
	Items  []inner          `json:"items,omitempty"`
	Fixed  [2]int           `json:"fixed,omitempty"`
	ByKey  map[string]inner `json:"by_key,omitempty"`
	Slash  string           `json:"a/b,omitempty"`
	Free   any              `json:"free,omitempty"`
	Raw    json.RawMessage  `json:"raw,omitempty"`
	Hidden string           `json:"-"`
}

func TestDecodeInput(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  decodeTarget
	}{
		{
			name:  "all fields",
			input: `{"name":"n","age":3,"small":-128,"ratio":0.5,"ok":true,"a":{"b":1,"c":2.5},"p":{"b":2},"items":[{"b":3}],"fixed":[4,5],"by_key":{"k":{"b":6}},"a/b":"s","e":"emb","free":{"x":[1]},"raw":[1, 2]}`,
			want: decodeTarget{
				embedded: embedded{E: "emb"},
				Name:     "n", Age: 3, Small: -128, Ratio: 0.5, OK: true,
				A: inner{B: 1, C: 2.5}, P: &inner{B: 2}, Items: []inner{{B: 3}}, Fixed: [2]int{4, 5},
				ByKey: map[string]inner{"k": {B: 6}}, Slash: "s",
				Free: map[string]any{"x": []any{1.0}}, Raw: json.RawMessage(`[1, 2]`),
			},
		},
		{
			name:  "missing fields are zero",
			input: `{}`,
			want:  decodeTarget{},
		},
		{
			name:  "surrounding whitespace",
			input: " \n\t{\"name\":\"n\"}\n ",
			want:  decodeTarget{Name: "n"},
		},
		{
			name:  "null members are ignored",
			input: `{"name":null,"p":null}`,
			want:  decodeTarget{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := sdk.DecodeInput[decodeTarget]([]byte(tt.input))
			if err != nil {
				t.Fatalf("DecodeInput(%s) error = %v, want nil", tt.input, err)
			}
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(decodeTarget{})); diff != "" {
				t.Errorf("DecodeInput(%s) differs (-want +got):\n%s", tt.input, diff)
			}
		})
	}
}

func TestDecodeInputErrors(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  *sdk.InputError
	}{
		{
			name:  "unknown field",
			input: `{"name":"n","nmae":"typo"}`,
			want:  &sdk.InputError{Fields: []sdk.FieldError{{Pointer: "/nmae", Detail: "unknown field"}}},
		},
		{
			name:  "unknown field in a nested object",
			input: `{"a":{"b":1,"d":2}}`,
			want:  &sdk.InputError{Fields: []sdk.FieldError{{Pointer: "/a/d", Detail: "unknown field"}}},
		},
		{
			name:  "unknown field in an array element",
			input: `{"items":[{"b":1},{"b":2,"zz":3}]}`,
			want:  &sdk.InputError{Fields: []sdk.FieldError{{Pointer: "/items/1/zz", Detail: "unknown field"}}},
		},
		{
			name:  "unknown field under a map key",
			input: `{"by_key":{"x/y":{"q":1}}}`,
			want:  &sdk.InputError{Fields: []sdk.FieldError{{Pointer: "/by_key/x~1y/q", Detail: "unknown field"}}},
		},
		{
			name:  "unknown field behind a pointer",
			input: `{"p":{"b":1,"c":2,"d":3}}`,
			want:  &sdk.InputError{Fields: []sdk.FieldError{{Pointer: "/p/d", Detail: "unknown field"}}},
		},
		{
			name:  "unknown field named like a known one elsewhere",
			input: `{"a":{"name":"x"}}`,
			want:  &sdk.InputError{Fields: []sdk.FieldError{{Pointer: "/a/name", Detail: "unknown field"}}},
		},
		{
			name:  "unknown field with characters to escape",
			input: `{"x~y/z":1}`,
			want:  &sdk.InputError{Fields: []sdk.FieldError{{Pointer: "/x~0y~1z", Detail: "unknown field"}}},
		},
		{
			name:  "field hidden with json:\"-\" is unknown",
			input: `{"Hidden":"x"}`,
			want:  &sdk.InputError{Fields: []sdk.FieldError{{Pointer: "/Hidden", Detail: "unknown field"}}},
		},
		{
			name:  "wrong type at the top level",
			input: `{"name":5}`,
			want:  &sdk.InputError{Fields: []sdk.FieldError{{Pointer: "/name", Detail: "got JSON number, want string"}}},
		},
		{
			name:  "wrong type nested",
			input: `{"a":{"b":"one"}}`,
			want:  &sdk.InputError{Fields: []sdk.FieldError{{Pointer: "/a/b", Detail: "got JSON string, want integer"}}},
		},
		{
			name:  "fraction for an integer",
			input: `{"age":1.5}`,
			want:  &sdk.InputError{Fields: []sdk.FieldError{{Pointer: "/age", Detail: "got JSON number 1.5, want integer"}}},
		},
		{
			name:  "integer out of range",
			input: `{"small":300}`,
			want:  &sdk.InputError{Fields: []sdk.FieldError{{Pointer: "/small", Detail: "got JSON number 300, want integer from -128 to 127"}}},
		},
		{
			name:  "number out of float64 range",
			input: `{"ratio":1e400}`,
			want:  &sdk.InputError{Fields: []sdk.FieldError{{Pointer: "/ratio", Detail: "got JSON number 1e400, want number"}}},
		},
		{
			name:  "wrong type in an array element",
			input: `{"items":[{"b":1},{"b":2},{"b":true}]}`,
			want:  &sdk.InputError{Fields: []sdk.FieldError{{Pointer: "/items/2/b", Detail: "got JSON boolean, want integer"}}},
		},
		{
			name:  "wrong type in a fixed-size array",
			input: `{"fixed":[1, "2"]}`,
			want:  &sdk.InputError{Fields: []sdk.FieldError{{Pointer: "/fixed/1", Detail: "got JSON string, want integer"}}},
		},
		{
			name:  "wrong type under a map key",
			input: `{"by_key":{"k":{"b":[]}}}`,
			want:  &sdk.InputError{Fields: []sdk.FieldError{{Pointer: "/by_key/k/b", Detail: "got JSON array, want integer"}}},
		},
		{
			name:  "array for an object",
			input: `{"a":[1,2]}`,
			want:  &sdk.InputError{Fields: []sdk.FieldError{{Pointer: "/a", Detail: "got JSON array, want object"}}},
		},
		{
			name:  "object for an array",
			input: `{"items":{"b":1}}`,
			want:  &sdk.InputError{Fields: []sdk.FieldError{{Pointer: "/items", Detail: "got JSON object, want array"}}},
		},
		{
			name:  "member name needing escape",
			input: `{"a/b":false}`,
			want:  &sdk.InputError{Fields: []sdk.FieldError{{Pointer: "/a~1b", Detail: "got JSON boolean, want string"}}},
		},
		{
			name:  "field of an embedded struct",
			input: `{"e":7}`,
			want:  &sdk.InputError{Fields: []sdk.FieldError{{Pointer: "/e", Detail: "got JSON number, want string"}}},
		},
		{
			name:  "the whole input has the wrong type",
			input: `[{"name":"n"}]`,
			want:  &sdk.InputError{Fields: []sdk.FieldError{{Pointer: "", Detail: "got JSON array, want object"}}},
		},
		{
			name:  "a string for the whole input",
			input: `"name"`,
			want:  &sdk.InputError{Fields: []sdk.FieldError{{Pointer: "", Detail: "got JSON string, want object"}}},
		},
		{
			name:  "first of several problems",
			input: `{"a":{"b":"x"},"name":1}`,
			want:  &sdk.InputError{Fields: []sdk.FieldError{{Pointer: "/a/b", Detail: "got JSON string, want integer"}}},
		},
		{
			name:  "trailing data",
			input: `{"name":"n"} {"name":"m"}`,
			want:  &sdk.InputError{Detail: "unexpected data after the JSON document"},
		},
		{
			name:  "trailing garbage",
			input: `{"name":"n"}x`,
			want:  &sdk.InputError{Detail: "unexpected data after the JSON document"},
		},
		{
			name:  "malformed JSON",
			input: `{"name":"n",}`,
			want:  &sdk.InputError{Detail: "malformed JSON at byte 13: invalid character '}' looking for beginning of object key string"},
		},
		{
			name:  "not JSON at all",
			input: `name=n`,
			want:  &sdk.InputError{Detail: "malformed JSON at byte 2: invalid character 'a' in literal null (expecting 'u')"},
		},
		{
			name:  "truncated",
			input: `{"name":`,
			want:  &sdk.InputError{Detail: "the input ends in the middle of its JSON document"},
		},
		{
			name:  "empty",
			input: ``,
			want:  &sdk.InputError{Detail: "the input is empty, want a JSON document"},
		},
		{
			name:  "only whitespace",
			input: " \n ",
			want:  &sdk.InputError{Detail: "the input is empty, want a JSON document"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := sdk.DecodeInput[decodeTarget]([]byte(tt.input))
			if !errors.Is(err, sdk.ErrInvalidInput) {
				t.Fatalf("DecodeInput(%s) error = %v, want one matching sdk.ErrInvalidInput", tt.input, err)
			}
			var got *sdk.InputError
			if !errors.As(err, &got) {
				t.Fatalf("DecodeInput(%s) error = %T, want *sdk.InputError", tt.input, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("DecodeInput(%s) error differs (-want +got):\n%s", tt.input, diff)
			}
		})
	}
}

func TestDecodeInputCaseInsensitiveNames(t *testing.T) {
	// encoding/json matches member names to fields case-insensitively; the
	// host's schema validation, not DecodeInput, rejects "NAME".
	got, err := sdk.DecodeInput[decodeTarget]([]byte(`{"NAME":"n","A":{"B":1}}`))
	if err != nil {
		t.Fatalf("DecodeInput error = %v, want nil", err)
	}
	if got.Name != "n" || got.A.B != 1 {
		t.Errorf("DecodeInput = %+v, want Name n and A.B 1", got)
	}
	_, err = sdk.DecodeInput[decodeTarget]([]byte(`{"A":{"B":1,"X":2}}`))
	var ie *sdk.InputError
	if !errors.As(err, &ie) || len(ie.Fields) != 1 || ie.Fields[0].Pointer != "/A/X" {
		t.Errorf("DecodeInput with unknown /A/X error = %v, want an input error at /A/X", err)
	}
}

func TestInputErrorError(t *testing.T) {
	tests := []struct {
		err  *sdk.InputError
		want string
	}{
		{&sdk.InputError{}, "invalid input"},
		{&sdk.InputError{Detail: "too dark"}, "invalid input: too dark"},
		{
			&sdk.InputError{Fields: []sdk.FieldError{{Pointer: "/petal_width", Detail: "must be positive"}}},
			"invalid input; /petal_width: must be positive",
		},
		{
			&sdk.InputError{Detail: "measurements out of range", Fields: []sdk.FieldError{
				{Pointer: "/a", Detail: "too big"},
				{Pointer: "", Detail: "whole input odd"},
				{Pointer: "/b/0", Detail: "too small"},
			}},
			"invalid input: measurements out of range; /a: too big; whole input odd; /b/0: too small",
		},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("%+v.Error() = %q, want %q", tt.err, got, tt.want)
		}
	}
}

func TestInvalidInput(t *testing.T) {
	err := sdk.InvalidInput("bad", sdk.FieldError{Pointer: "/x", Detail: "d"})
	if !errors.Is(err, sdk.ErrInvalidInput) {
		t.Errorf("errors.Is(InvalidInput(...), ErrInvalidInput) = false, want true")
	}
	wrapped := fmt.Errorf("checking: %w", err)
	var ie *sdk.InputError
	if !errors.Is(wrapped, sdk.ErrInvalidInput) || !errors.As(wrapped, &ie) {
		t.Fatalf("wrapped InvalidInput error %v does not match ErrInvalidInput and *InputError", wrapped)
	}
	want := &sdk.InputError{Detail: "bad", Fields: []sdk.FieldError{{Pointer: "/x", Detail: "d"}}}
	if diff := cmp.Diff(want, ie); diff != "" {
		t.Errorf("InvalidInput differs (-want +got):\n%s", diff)
	}
	if errors.Is(errors.New("invalid input"), sdk.ErrInvalidInput) {
		t.Errorf("an unrelated error with the same text matches ErrInvalidInput, want no match")
	}
}

type sumIn struct {
	Values []float64 `json:"values" jsonschema:"minItems=1"`
}

type sumOut struct {
	Sum   float64 `json:"sum"`
	Count int     `json:"count"`
}

var errDiskFull = errors.New("disk full")

func sumModel() *sdk.Model[sumIn, sumOut] {
	return sdk.NewModel(validInfo(), func(ctx context.Context, in sumIn) (sumOut, error) {
		if len(in.Values) == 0 {
			return sumOut{}, sdk.InvalidInput("", sdk.FieldError{Pointer: "/values", Detail: "want at least one value"})
		}
		if in.Values[0] < 0 {
			return sumOut{}, fmt.Errorf("summing: %w", errDiskFull)
		}
		if err := ctx.Err(); err != nil {
			return sumOut{}, err
		}
		var s float64
		for _, v := range in.Values {
			s += v
		}
		return sumOut{Sum: s, Count: len(in.Values)}, nil
	})
}

func TestModelPredict(t *testing.T) {
	m := sumModel()
	tests := []struct {
		name    string
		input   string
		want    string
		wantErr error
	}{
		{name: "round trip", input: `{"values":[1,2,3.5]}`, want: `{"sum":6.5,"count":3}`},
		{name: "decode error", input: `{"values":"1,2"}`, wantErr: sdk.ErrInvalidInput},
		{name: "input error from the function", input: `{"values":[]}`, wantErr: sdk.ErrInvalidInput},
		{name: "other error from the function", input: `{"values":[-1]}`, wantErr: errDiskFull},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := m.Predict(context.Background(), json.RawMessage(tt.input))
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Errorf("Predict(%s) error = %v, want one matching %v", tt.input, err, tt.wantErr)
				}
				if got != nil {
					t.Errorf("Predict(%s) output = %s alongside an error, want nil", tt.input, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("Predict(%s) error = %v, want nil", tt.input, err)
			}
			if string(got) != tt.want {
				t.Errorf("Predict(%s) = %s, want %s", tt.input, got, tt.want)
			}
		})
	}
}

func TestModelPredictPassesContextAndErrorsThrough(t *testing.T) {
	m := sumModel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := m.Predict(ctx, json.RawMessage(`{"values":[1]}`))
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Predict with a cancelled context error = %v, want context.Canceled", err)
	}
	_, err = m.Predict(context.Background(), json.RawMessage(`{"values":[-1]}`))
	if err == nil || err.Error() != "summing: disk full" || errors.Is(err, sdk.ErrInvalidInput) {
		t.Errorf("Predict error = %v, want the function's own error \"summing: disk full\"", err)
	}
}

func TestModelPredictTyped(t *testing.T) {
	got, err := sumModel().PredictTyped(context.Background(), sumIn{Values: []float64{2, 2}})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(sumOut{Sum: 4, Count: 2}, got); diff != "" {
		t.Errorf("PredictTyped differs (-want +got):\n%s", diff)
	}
}

func TestModelPredictOutputEncodingError(t *testing.T) {
	type badOut struct {
		F float64 `json:"f"`
	}
	m := sdk.NewModel(validInfo(), func(context.Context, sumIn) (badOut, error) {
		var zero float64
		return badOut{F: 1 / zero}, nil // +Inf has no JSON encoding
	})
	_, err := m.Predict(context.Background(), json.RawMessage(`{"values":[1]}`))
	if err == nil || errors.Is(err, sdk.ErrInvalidInput) {
		t.Errorf("Predict with an unencodable output error = %v, want an internal error", err)
	}
}

func TestModelInfo(t *testing.T) {
	if diff := cmp.Diff(validInfo(), sumModel().Info()); diff != "" {
		t.Errorf("Info differs (-want +got):\n%s", diff)
	}
}

func TestLoggerWithoutPlugin(t *testing.T) {
	// Outside a plugin, Logger discards rather than failing.
	sdk.Logger(context.Background()).Info("dropped", "k", 1)
	if sdk.Logger(context.Background()) == nil {
		t.Error("Logger(ctx without a logger) = nil, want a discarding logger")
	}
}

// FuzzDecodeInput checks that DecodeInput never panics, that all its errors
// are input errors, and that each pointer it reports in a well-formed
// document points at a value of that document.
func FuzzDecodeInput(f *testing.F) {
	for _, seed := range []string{
		`{"name":"n","a":{"b":1}}`,
		`{"items":[{"b":1},{"b":"x"}]}`,
		`{"by_key":{"k":{"zz":1}}}`,
		`{"fixed":[1,[2]]}`,
		`{"a/b":1,"e":2}`,
		`{"free":{"x":[1,{"y":2}]},"small":1000}`,
		`[1,2]`,
		`{"name":"n"} x`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		_, err := sdk.DecodeInput[decodeTarget](data)
		if err == nil {
			return
		}
		var ie *sdk.InputError
		if !errors.As(err, &ie) || !errors.Is(err, sdk.ErrInvalidInput) {
			t.Fatalf("DecodeInput(%q) error = %T %v, want an *sdk.InputError", data, err, err)
		}
		if !json.Valid(data) {
			return
		}
		var doc any
		if json.Unmarshal(data, &doc) != nil {
			return
		}
		for _, fe := range ie.Fields {
			if _, ok := pointerGet(doc, fe.Pointer); !ok {
				t.Errorf("DecodeInput(%q) reported pointer %q, which is not in the document", data, fe.Pointer)
			}
		}
	})
}
