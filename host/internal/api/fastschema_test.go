package api

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
	"weak"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/modelhost/modelhost/plugins/iris/irismodel"
	"github.com/modelhost/modelhost/sdk"
	"github.com/modelhost/modelhost/sdk/schemacheck"
)

// checkFast fails t if fastValid accepts doc while the library does not:
// the one answer the fast path must never give. It returns both answers.
func checkFast(t *testing.T, schema *jsonschema.Schema, doc any, label string) (fast, lib bool) {
	t.Helper()
	fast = fastValid(schema, doc)
	lib = schema.Validate(doc) == nil
	if fast && !lib {
		t.Errorf("%s: fastValid accepts what the library refuses: %v", label, schema.Validate(doc))
	}
	return fast, lib
}

func compileTest(t testing.TB, schema string) *jsonschema.Schema {
	t.Helper()
	s, err := schemacheck.Compile(json.RawMessage(schema))
	if err != nil {
		t.Fatalf("compile %s: %v", schema, err)
	}
	return s
}

func parseTest(t testing.TB, doc string) any {
	t.Helper()
	v, err := jsonschema.UnmarshalJSON(strings.NewReader(doc))
	if err != nil {
		t.Fatalf("parse %s: %v", doc, err)
	}
	return v
}

// TestFastValidNumbers compares the fast path with the library on numbers
// next to their bounds: equal in float64 but not exactly, beyond 2^53,
// subnormal, written as integers or not.
func TestFastValidNumbers(t *testing.T) {
	schemas := []string{
		`{"type":"integer"}`,
		`{"type":"number"}`,
		`{"type":["integer","null"]}`,
		`{"type":"number","minimum":0,"maximum":1}`,
		`{"type":"number","exclusiveMinimum":0}`,
		`{"type":"number","exclusiveMaximum":0}`,
		`{"type":"integer","minimum":-9223372036854775808,"maximum":9223372036854775807}`,
		`{"type":"integer","minimum":0,"maximum":18446744073709551615}`,
		`{"type":"integer","minimum":0,"maximum":255}`,
		`{"type":"number","minimum":0.1,"maximum":0.3}`,
		`{"type":"number","exclusiveMinimum":0.1,"exclusiveMaximum":0.3}`,
		`{"maximum":9007199254740993}`,
		`{"minimum":9007199254740993}`,
		`{"exclusiveMaximum":9007199254740993}`,
		`{"exclusiveMinimum":1e-320}`,
		`{"maximum":1.7976931348623157e308}`,
		`{"minimum":-3.4028234663852886e38,"maximum":3.4028234663852886e38}`,
		`{"type":"number","multipleOf":0.1}`,
		`{"enum":[1,2,"a"]}`,
		`{"const":1}`,
	}
	numbers := []string{
		"0", "-0", "0.0", "-0.0", "1", "1.0", "1e0", "1E2", "1e-2", "0.1", "0.3", "0.30000000000000004", "0.29999999999999998",
		"0.1000000000000000000000001", "0.0999999999999999999999999", "0.30000000000000000000001",
		"255", "255.0", "256", "2.55e2", "-1", "-0.0000001", "1e-320", "1e-321", "9.999999999999999e-321", "1.00000000000000001e-320",
		"4.9e-324", "-4.9e-324", "1e-400", "-1e-400",
		"9007199254740992", "9007199254740993", "9007199254740994", "9007199254740993.0", "9007199254740992.9999999",
		"9223372036854775807", "9223372036854775808", "-9223372036854775808", "-9223372036854775809",
		"9223372036854775807.5", "18446744073709551615", "18446744073709551616",
		"1.7976931348623157e308", "1.7976931348623158e308", "1.797693134862315799999e308", "1.8e308", "1e400", "-1e400",
		"3.4028234663852886e38", "3.4028234663852887e38", "3.40282346638528860000001e38",
		"1" + strings.Repeat("0", 400), "0." + strings.Repeat("0", 330) + "1",
	}
	for _, src := range schemas {
		schema := compileTest(t, src)
		for _, n := range numbers {
			fast, lib := checkFast(t, schema, parseTest(t, n), src+" "+n)
			// For integers within the range of a float64 compared with
			// plain bounds, the fast path must decide by itself whenever
			// the document is valid, or it gains nothing.
			_, err := strconv.ParseFloat(n, 64)
			if lib && !fast && err == nil && isIntegerLiteral(n) &&
				!strings.Contains(src, "multipleOf") && !strings.Contains(src, "enum") && !strings.Contains(src, "const") {
				t.Errorf("%s %s: valid, but the fast path did not decide", src, n)
			}
		}
	}
}

// TestFastValidRandomNumbers compares random numbers near random bounds.
func TestFastValidRandomNumbers(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	num := func() string {
		switch r.IntN(5) {
		case 0:
			return strconv.FormatInt(r.Int64()>>r.IntN(64), 10)
		case 1:
			return strconv.FormatFloat(r.NormFloat64()*float64(int(1)<<r.IntN(60)), 'g', -1, 64)
		case 2:
			return strconv.FormatFloat(r.Float64(), 'f', r.IntN(25), 64)
		case 3:
			// A float64's decimal expansion, then a nudge below it.
			f := r.Float64()
			s := strconv.FormatFloat(f, 'f', 60, 64)
			return strings.TrimRight(s, "0") + "1"
		default:
			return fmt.Sprintf("%de%d", r.IntN(100000)-50000, r.IntN(40)-20)
		}
	}
	for range 300 {
		bound := num()
		for _, kw := range []string{"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"} {
			for _, typ := range []string{"number", "integer"} {
				schema := compileTest(t, fmt.Sprintf(`{"type":%q,%q:%s}`, typ, kw, bound))
				for _, n := range []string{bound, num(), num()} {
					checkFast(t, schema, json.Number(n), fmt.Sprintf("%s %s %s: %s", typ, kw, bound, n))
				}
			}
		}
	}
}

// TestFastValidStructures compares the fast path with the library on
// objects, arrays, strings, enums, references and keywords it leaves to
// the library.
func TestFastValidStructures(t *testing.T) {
	tests := []struct {
		schema string
		docs   []string
	}{
		{`{"type":"object","properties":{"a":{"type":"string","minLength":2,"maxLength":3}},"required":["a"],"additionalProperties":false}`,
			[]string{`{"a":"ab"}`, `{"a":"é€"}`, `{"a":"a"}`, `{"a":"abcd"}`, `{}`, `{"a":"ab","b":1}`, `[]`, `"ab"`, `{"a":null}`}},
		{`{"type":"object","additionalProperties":{"type":"number","minimum":0,"maximum":1}}`,
			[]string{`{}`, `{"x":0,"y":1,"z":0.5}`, `{"x":1.0000000000000001}`, `{"x":-0.0}`, `{"x":"1"}`}},
		{`{"type":"object","minProperties":1,"maxProperties":2}`, []string{`{}`, `{"a":1}`, `{"a":1,"b":2}`, `{"a":1,"b":2,"c":3}`}},
		{`{"type":"array","items":{"type":"integer"},"minItems":1,"maxItems":3}`, []string{`[]`, `[1]`, `[1,2,3]`, `[1,2,3,4]`, `[1.5]`, `[1.0]`, `[1e2]`}},
		{`{"type":"array","prefixItems":[{"type":"string"},{"type":"boolean"}],"items":false}`,
			[]string{`["a",true]`, `["a"]`, `["a",true,1]`, `[1,true]`, `[]`}},
		{`{"enum":["a","b"]}`, []string{`"a"`, `"c"`, `1`, `null`}},
		{`{"enum":["a",1,null]}`, []string{`"a"`, `1`, `1.0`, `null`, `true`}},
		{`{"type":"string","pattern":"^[a-z]+$"}`, []string{`"abc"`, `"ABC"`, `""`}},
		{`{"type":"string","format":"email"}`, []string{`"a@b.c"`, `"x"`}},
		{`{"$defs":{"n":{"type":"number","maximum":10}},"type":"object","properties":{"a":{"$ref":"#/$defs/n"},"b":{"$ref":"#/$defs/n","minimum":5}}}`,
			[]string{`{"a":1,"b":6}`, `{"a":11}`, `{"b":4}`, `{"b":11}`}},
		{`{"$defs":{"t":{"type":"object","properties":{"c":{"$ref":"#/$defs/t"}},"additionalProperties":false}},"$ref":"#/$defs/t"}`,
			[]string{`{}`, `{"c":{"c":{}}}`, `{"c":{"d":1}}`}},
		{`{"$defs":{"a":{"$ref":"#/$defs/b"},"b":{"$ref":"#/$defs/a"}},"$ref":"#/$defs/a"}`, []string{`1`}},
		{`{"anyOf":[{"type":"string"},{"type":"null"}]}`, []string{`"a"`, `null`, `1`}},
		{`{"properties":{"a":{"const":"x"}},"unevaluatedProperties":false}`, []string{`{"a":"x"}`, `{"b":1}`}},
		{`{"type":"array","uniqueItems":true}`, []string{`[1,2]`, `[1,1.0]`}},
		{`true`, []string{`1`, `{}`}},
		{`false`, []string{`1`}},
		{`{"not":{}}`, []string{`1`}},
		{`{"$schema":"http://json-schema.org/draft-07/schema#","items":[{"type":"string"}],"additionalItems":false}`, []string{`["a"]`, `["a",1]`}},
		{`{"$schema":"http://json-schema.org/draft-04/schema#","type":"integer"}`, []string{`1`, `1.0`}},
	}
	for _, tt := range tests {
		schema := compileTest(t, tt.schema)
		for _, doc := range tt.docs {
			checkFast(t, schema, parseTest(t, doc), tt.schema+" "+doc)
		}
	}
}

// TestFastValidDecides checks that the fast path decides the documents it
// exists for: the iris model's inputs and outputs and the fuzz model's
// input, all valid.
func TestFastValidDecides(t *testing.T) {
	model := irismodel.New()
	in := compileTest(t, string(model.InputSchema()))
	if doc := parseTest(t, string(benchInput)); !fastValid(in, doc) {
		t.Errorf("the iris input %s is not decided by the fast path", benchInput)
	}
	out, err := model.Predict(context.Background(), benchInput)
	if err != nil {
		t.Fatal(err)
	}
	if os := model.OutputSchema(); os != nil {
		if doc := parseTest(t, string(out)); !fastValid(compileTest(t, string(os)), doc) {
			t.Errorf("the iris output %s is not decided by the fast path", out)
		}
	}
	fuzz := sdk.NewModel(sdk.Info{QualifiedName: "fuzz", DisplayName: "Fuzz", Version: "1.0.0"},
		func(_ context.Context, in fuzzInput) (fuzzOutput, error) { return fuzzOutput{}, nil })
	fs := compileTest(t, string(fuzz.InputSchema()))
	for _, doc := range []string{
		`{"name":"a","count":1}`,
		`{"name":"a","count":1,"matrix":[[1,2],[3]],"inner":{"flag":true,"small":255,"big":-9223372036854775808,"score":0.5},"labels":{"x":"y"},"tags":["t"],"kind":"a","ratio":1}`,
	} {
		if fast, lib := checkFast(t, fs, parseTest(t, doc), doc); !fast || !lib {
			t.Errorf("%s: fast %v, library %v; want both true", doc, fast, lib)
		}
	}
}

// TestFastValidFuzzCorpus runs the committed corpus of FuzzPredictRequest
// through the fuzz model's schema, fast path and library side by side.
func TestFastValidFuzzCorpus(t *testing.T) {
	fuzz := sdk.NewModel(sdk.Info{QualifiedName: "fuzz", DisplayName: "Fuzz", Version: "1.0.0"},
		func(_ context.Context, in fuzzInput) (fuzzOutput, error) { return fuzzOutput{}, nil })
	schema := compileTest(t, string(fuzz.InputSchema()))
	files, _ := filepath.Glob("testdata/fuzz/*/*")
	seen := 0
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(data), "\n") {
			body, ok := strings.CutPrefix(line, "[]byte(")
			if !ok {
				continue
			}
			s, err := strconv.Unquote(strings.TrimSuffix(body, ")"))
			if err != nil {
				continue
			}
			doc, err := parseJSON([]byte(s))
			if err != nil {
				continue
			}
			seen++
			checkFast(t, schema, doc, file)
		}
	}
	if seen == 0 {
		t.Error("no corpus entry parsed")
	}
}

// TestFastSchemasForgetsCollectedSchemas checks that the cache does not
// keep the schemas of reloaded models.
func TestFastSchemasForgetsCollectedSchemas(t *testing.T) {
	var keys []weak.Pointer[jsonschema.Schema]
	// inUse keeps the schemas alive until the first count: a collection
	// between compiling and counting may otherwise take some of them.
	var inUse []*jsonschema.Schema
	for range 10 {
		s := compileTest(t, `{"type":"object","properties":{"a":{"type":"number","minimum":0}}}`)
		if !fastValid(s, map[string]any{"a": json.Number("1")}) {
			t.Fatal("not decided")
		}
		keys = append(keys, weak.Make(s))
		inUse = append(inUse, s)
	}
	held := func() int {
		n := 0
		for _, k := range keys {
			if _, ok := fastSchemas.Load(k); ok {
				n++
			}
		}
		return n
	}
	if held() != len(keys) {
		t.Fatalf("the cache holds %d of the %d schemas in use", held(), len(keys))
	}
	runtime.KeepAlive(inUse)
	for range 100 {
		runtime.GC()
		if held() == 0 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Errorf("the cache still holds %d of %d schemas compiled, used and dropped", held(), len(keys))
}

func TestIsSmallInteger(t *testing.T) {
	for n, want := range map[string]bool{
		"0": true, "-0": true, "1": true, "-12": true, "1.0": true, "1.000": true, "0.0": true, "123456789012345": true,
		"1234567890123456": false, "1.5": false, "1.01": false, "1e0": false, "1E2": false, "": false, "-": false, "1.": true,
	} {
		if got := isSmallInteger(n); got != want {
			t.Errorf("isSmallInteger(%q) = %v, want %v", n, got, want)
		}
	}
}
