package api

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// fastParseBodies are documents at the edges of what fastParse handles.
var fastParseBodies = []string{
	`{}`, `[]`, `0`, `-0`, `1`, `"a"`, `true`, `false`, `null`, ` {"a" : [ 1 , 2 ] } `, "\t\r\n[\n1\n]\n",
	`{"a":1,"a":2}`, `{"a":{"b":1},"c":{"b":2}}`, `{"":1}`, `{"a~b/c":[{}]}`,
	`"\"\\\/\b\f\n\r\t"`, `"\u0041\u00e9\u20ac"`, `"\ud83d\ude00"`, `"\uD83D\uDE00"`, `"\ud800"`, `"\udc00"`, `"\ud800\u0041"`,
	`"\ud800\\"`, `"\ud800\ud800"`, `"\u12"`, `"\x"`, `"a` + "\x01" + `b"`, `"é€😀"`, `"\u0000"`,
	`01`, `-`, `1.`, `.1`, `1e`, `1e+`, `1E-2`, `1.5e3`, `-0.0`, `+1`, `0x1`, `1e400`, `1e-400`, `-1e-999`,
	`123456789012345`, `1234567890123456`, `0.0000000000001`, `0.00000000000001`, `12345678901234567890.5`,
	`1e9999`, `1e10000`, `1e-9999`, `0e10000`, "1" + strings.Repeat("0", 999), "1" + strings.Repeat("0", 1000),
	`[1,]`, `[,1]`, `{"a":1,}`, `{"a" 1}`, `{1:1}`, `{"a":1}}`, `{"a":1} x`, `[1] [2]`, `tru`, `nul`, `truex`, `[true false]`,
	strings.Repeat("[", 1000) + strings.Repeat("]", 1000), strings.Repeat("[", 1001) + strings.Repeat("]", 1001),
	strings.Repeat(`{"a":`, 1000) + "1" + strings.Repeat("}", 1000), strings.Repeat(`{"a":`, 1001) + "1" + strings.Repeat("}", 1001),
	`{"inputs":[{"a":1}, [2] ,"x",3]}`, `{"inputs":[]}`, `{"inputs":{}}`, `{"x":1,"inputs":[1]}`, `{"inputs":[1],"inputs":[2]}`,
}

// TestFastParseMatchesSlow checks that whatever fastParse accepts, the
// token-by-token parser accepts too and reads the same; and that it
// decides the ordinary documents by itself.
func TestFastParseMatchesSlow(t *testing.T) {
	bodies := append([]string(nil), fastParseBodies...)
	files, _ := filepath.Glob("testdata/fuzz/*/*")
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(data), "\n") {
			if body, ok := strings.CutPrefix(line, "[]byte("); ok {
				if s, err := strconv.Unquote(strings.TrimSuffix(body, ")")); err == nil {
					bodies = append(bodies, s)
				}
			}
		}
	}
	for _, body := range bodies {
		compareFastSlow(t, []byte(body))
	}
	for _, body := range []string{`{}`, `{"a":[1,-2.5e3,"x\n",true,null,{"b":{}}]}`, string(benchInput), string(benchBatch1000)} {
		if _, ok := fastParse([]byte(body), nil); !ok {
			t.Errorf("fastParse did not decide %.80q", body)
		}
	}
}

// compareFastSlow fails t if fastParse accepts body and the slow parser
// or jsonschema.UnmarshalJSON does not, or reads it differently, or records the raw inputs of a batch
// differently from encoding/json.
func compareFastSlow(t *testing.T, body []byte) {
	t.Helper()
	if !utf8.Valid(body) {
		return // parseJSON refuses it before either parser
	}
	var inputs []json.RawMessage
	fast, ok := fastParse(body, &inputs)
	if !ok {
		return
	}
	slow, err := slowParse(body)
	if err != nil {
		t.Errorf("fastParse accepts %.200q, slowParse refuses it: %v", body, err)
		return
	}
	if !reflect.DeepEqual(fast, slow) {
		t.Errorf("fastParse(%.200q) = %#v, slowParse reads %#v", body, fast, slow)
	}
	// checkOutput reads outputs with fastParse in place of the library's
	// parser.
	if lib, err := jsonschema.UnmarshalJSON(bytes.NewReader(body)); err != nil || !reflect.DeepEqual(fast, lib) {
		t.Errorf("fastParse(%.200q) = %#v, jsonschema.UnmarshalJSON reads %#v (%v)", body, fast, lib, err)
	}
	var raw struct {
		Inputs []json.RawMessage `json:"inputs"`
	}
	if obj, isObj := fast.(map[string]any); isObj {
		if _, isArr := obj["inputs"].([]any); isArr {
			if err := json.Unmarshal(body, &raw); err != nil {
				t.Fatal(err)
			}
			if len(raw.Inputs) != len(inputs) {
				t.Errorf("%.200q: %d raw inputs, encoding/json finds %d", body, len(inputs), len(raw.Inputs))
				return
			}
			for i := range inputs {
				if string(inputs[i]) != string(raw.Inputs[i]) {
					t.Errorf("%.200q: raw input %d is %q, encoding/json reads %q", body, i, inputs[i], raw.Inputs[i])
				}
			}
			return
		}
	}
	if inputs != nil {
		t.Errorf("%.200q: raw inputs %q for a document that has no array \"inputs\"", body, inputs)
	}
}

// FuzzFastParse compares fastParse with the token-by-token parser.
func FuzzFastParse(f *testing.F) {
	for _, body := range fastParseBodies {
		f.Add([]byte(body))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		compareFastSlow(t, body)
	})
}
