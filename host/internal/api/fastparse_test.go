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

	"github.com/modelhost/modelhost/plugins/iris/irismodel"
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

// compareCheck fails t if fastCheck does not answer what fastParse and
// fastValid answer together, or accepts what the library refuses.
func compareCheck(t *testing.T, schema *jsonschema.Schema, body []byte) {
	t.Helper()
	want := false
	if utf8.Valid(body) {
		if doc, ok := fastParse(body, nil); ok {
			want = fastValid(schema, doc)
		}
	}
	if got := fastCheck(schema, body); got != want {
		t.Errorf("fastCheck(%.200q) = %v; fastParse and fastValid answer %v", body, got, want)
	}
	if want {
		if err := checkOutput(schema, "m", body); err != nil {
			t.Errorf("fastCheck accepts %.200q, checkOutput refuses it: %v", body, err)
		}
	}
}

// fastCheckSchemas are the schemas TestFastCheck and FuzzFastCheck read
// documents with.
var fastCheckSchemas = []string{
	`{"type":"object","properties":{"species":{"type":"string","enum":["setosa","versicolor","virginica"]},
		"probabilities":{"type":"object","additionalProperties":{"type":"number","minimum":0,"maximum":1}}},"required":["species","probabilities"],"additionalProperties":false}`,
	`{"type":"object","properties":{"a":{"type":"array","prefixItems":[{"type":"integer"}],"items":{"type":"string","maxLength":2},"minItems":1,"maxItems":3},
		"b":{"$ref":"#/$defs/b"},"c":true,"d":false,"e":{"type":["null","boolean"]}},"required":["a"],"minProperties":1,"maxProperties":20,"$defs":{"b":{"type":"number","exclusiveMinimum":0}}}`,
	`{"type":"array","items":{"type":"object","required":["k"]}}`,
	`{"$defs":{"p":{"type":"object","properties":{"x":{"type":"number","minimum":0}},"additionalProperties":false},"r":{"$ref":"#/$defs/p","title":"R"},
		"q":{"type":"integer"}},"type":"object","properties":{"p":{"$ref":"#/$defs/r","description":"p"},"q":{"$ref":"#/$defs/q","minimum":1}},"$comment":"c"}`,
	`{"$defs":{"a":{"$ref":"#/$defs/b"},"b":{"$ref":"#/$defs/a"}},"properties":{"x":{"$ref":"#/$defs/a"}}}`,
	`{}`,
	`{"anyOf":[{"type":"string"}]}`,
}

func TestFastCheck(t *testing.T) {
	docs := append([]string{
		`{"species":"setosa","probabilities":{"setosa":0.9975,"versicolor":0.0025,"virginica":0}}`,
		`{"species":"setosa","probabilities":{"setosa":1.5}}`, `{"species":"x","probabilities":{}}`, `{"species":"setosa"}`,
		`{"species":"setosa","probabilities":{},"species":"setosa"}`, `{"species":"setosa","probabilities":{},"x":1}`,
		`{"a":[1,"ab","c"],"b":2,"c":{"x":[]},"e":null}`, `{"a":[1.5]}`, `{"a":[1,"abc"]}`, `{"a":[]}`, `{"a":[1,"a","b","c"]}`,
		`{"a":[1],"b":0}`, `{"a":[1],"d":1}`, `{"a":[1],"e":true}`, `{"a":[1],"e":1}`, `[{"k":1},{"k":2,"k":3}]`, `[{"k":1},{}]`,
		`{"a":[1],` + strings.Repeat(`"k":1,`, 0) + `"z":{"a":1,"b":2,"c":3,"d":4,"e":5,"f":6,"g":7,"h":8,"i":9,"j":10,"k":11,"l":12,"m":13,"n":14,"o":15,"p":16,"q":17,"a":18}}`,
		`[{"a":1,"b":2,"c":3,"d":4,"e":5,"f":6,"g":7,"h":8,"i":9,"j":10,"k":11,"l":12,"m":13,"n":14,"o":15,"p":16,"q":17}]`,
		`[{"a":1,"b":2,"c":3,"d":4,"e":5,"f":6,"g":7,"h":8,"i":9,"j":10,"k":11,"l":12,"m":13,"n":14,"o":15,"p":16,"q":17,"r":18}]`,
		`{"p":{"x":1}}`, `{"p":{"x":-1}}`, `{"p":{"y":1}}`, `{"p":1,"x":2}`, `{"x":{"x":1}}`, `{"q":1}`, `{"q":0}`, `{"q":1.5}`, `{"p":{"x":1},"q":2}`,
	}, fastParseBodies...)
	for _, src := range fastCheckSchemas {
		schema := compileTest(t, src)
		for _, doc := range docs {
			compareCheck(t, schema, []byte(doc))
		}
	}
	out := []byte(`{"species":"setosa","probabilities":{"setosa":0.9975,"versicolor":0.0025,"virginica":0}}`)
	if !fastCheck(compileTest(t, fastCheckSchemas[0]), out) {
		t.Errorf("fastCheck did not decide the iris output %s", out)
	}
	iris := compileTest(t, string(irismodel.New().OutputSchema()))
	if !fastCheck(iris, out) {
		t.Errorf("fastCheck did not decide the iris output %s with the iris model's schema", out)
	}
	if n := testing.AllocsPerRun(10, func() { fastCheck(iris, out) }); n > 1 {
		t.Errorf("fastCheck of the iris output: %v allocations, want at most 1 (the copy of the output): does it build the document?", n)
	}
	if !fastCheck(compileTest(t, fastCheckSchemas[3]), []byte(`{"p":{"x":1}}`)) {
		t.Error("fastCheck did not decide a value whose schema is a reference")
	}
}

// FuzzFastCheck compares fastCheck with fastParse and fastValid.
func FuzzFastCheck(f *testing.F) {
	for _, body := range fastParseBodies {
		f.Add(uint8(0), []byte(body))
	}
	f.Add(uint8(1), []byte(`{"a":[1,"ab"],"b":2}`))
	schemas := make([]*jsonschema.Schema, len(fastCheckSchemas))
	for i, src := range fastCheckSchemas {
		schemas[i] = compileTest(f, src)
	}
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		compareCheck(t, schemas[int(which)%len(schemas)], body)
	})
}
