package irismodel

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/modelhost/modelhost/plugins/iris/internal/classifier"
	"github.com/modelhost/modelhost/sdk"
	"github.com/modelhost/modelhost/sdk/modeltest"
	"github.com/modelhost/modelhost/sdk/schemacheck"
)

// dataPath is the training data, in the plugin's directory.
const dataPath = "../data/iris.csv"

func TestContract(t *testing.T) {
	modeltest.Check(t, New())
}

func TestPredictCanonicalFlowers(t *testing.T) {
	remote := modeltest.Check(t, New())
	tests := []struct {
		name  string
		input string
		want  string
	}{
		{"setosa", `{"sepal_length":5.1,"sepal_width":3.5,"petal_length":1.4,"petal_width":0.2}`, "setosa"},
		{"versicolor", `{"sepal_length":5.9,"sepal_width":3.0,"petal_length":4.2,"petal_width":1.5}`, "versicolor"},
		{"virginica", `{"sepal_length":6.7,"sepal_width":3.0,"petal_length":5.2,"petal_width":2.3}`, "virginica"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw, err := remote.Predict(context.Background(), json.RawMessage(tt.input))
			if err != nil {
				t.Fatalf("Predict(%s): got error %v, want none", tt.input, err)
			}
			if !strings.HasPrefix(string(raw), `{"species":`) {
				t.Errorf("Predict(%s) = %s: got species elsewhere, want it first", tt.input, raw)
			}
			var out Output
			dec := json.NewDecoder(bytes.NewReader(raw))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&out); err != nil {
				t.Fatalf("decode output %s: %v", raw, err)
			}
			if out.Species != tt.want {
				t.Errorf("Predict(%s) species: got %q, want %q", tt.input, out.Species, tt.want)
			}
			probs := map[string]float64{
				"setosa":     out.Probabilities.Setosa,
				"versicolor": out.Probabilities.Versicolor,
				"virginica":  out.Probabilities.Virginica,
			}
			var sum float64
			for species, p := range probs {
				sum += p
				if species != tt.want && p >= probs[tt.want] {
					t.Errorf("Predict(%s): got probability %v for %s, want less than %v for %s", tt.input, p, species, probs[tt.want], tt.want)
				}
			}
			if math.Abs(sum-1) > 2e-4 {
				t.Errorf("Predict(%s): got probabilities summing to %v, want 1", tt.input, sum)
			}
		})
	}
}

func TestHeldOutAccuracy(t *testing.T) {
	f, err := os.Open(dataPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	samples, err := classifier.LoadCSV(f)
	if err != nil {
		t.Fatal(err)
	}
	_, test := classifier.Split(samples)
	if got, want := len(test), 30; got != want {
		t.Fatalf("held-out rows: got %d, want %d", got, want)
	}

	model := New()
	correct := 0
	for _, s := range test {
		x := s.Features
		in := Input{SepalLength: x[0], SepalWidth: x[1], PetalLength: x[2], PetalWidth: x[3]}
		out, err := model.PredictTyped(context.Background(), in)
		if err != nil {
			t.Fatalf("PredictTyped(%+v): %v", in, err)
		}
		if out.Species == classifier.Classes[s.Class] {
			correct++
		} else {
			t.Logf("misclassified %+v: got %s, want %s", in, out.Species, classifier.Classes[s.Class])
		}
	}
	acc := float64(correct) / float64(len(test))
	t.Logf("held-out accuracy: %.3f (%d/%d)", acc, correct, len(test))
	if acc < 0.9 {
		t.Errorf("held-out accuracy: got %.3f, want at least 0.9", acc)
	}

	params, err := classifier.ParseParams(paramsJSON)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := correct, params.Training.TestCorrect; got != want {
		t.Errorf("held-out rows classified correctly: got %d, want %d as params.json records", got, want)
	}
}

// TestParamsReproducible retrains in-process and checks that the result is
// the committed params.json byte for byte: training is deterministic, and the
// committed parameters were trained on the committed data with the current
// code.
func TestParamsReproducible(t *testing.T) {
	data, err := os.ReadFile(dataPath)
	if err != nil {
		t.Fatal(err)
	}
	p, err := classifier.Fit(data, "iris.csv", classifier.DefaultConfig)
	if err != nil {
		t.Fatal(err)
	}
	got, err := p.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(got, paramsJSON) {
		return
	}
	gotLines := strings.Split(string(got), "\n")
	wantLines := strings.Split(string(paramsJSON), "\n")
	for i := range max(len(gotLines), len(wantLines)) {
		var g, w string
		if i < len(gotLines) {
			g = gotLines[i]
		}
		if i < len(wantLines) {
			w = wantLines[i]
		}
		if g != w {
			t.Fatalf("retrained parameters differ from params.json at line %d: got %q, want %q\n"+
				"params.json is stale or training is not deterministic; regenerate it with: go run ./plugins/iris/train", i+1, g, w)
		}
	}
}

func TestInvalidInput(t *testing.T) {
	remote := modeltest.Check(t, New())
	schema, err := schemacheck.Compile(remote.InputSchema())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		input string
		// pointer is the field Predict reports.
		pointer string
	}{
		{"unknown field", `{"sepal_length":5.1,"sepal_width":3.5,"petal_length":1.4,"petal_width":0.2,"colour":"blue"}`, "/colour"},
		{"missing field", `{"sepal_length":5.1,"sepal_width":3.5,"petal_length":1.4}`, "/petal_width"},
		{"too long", `{"sepal_length":51,"sepal_width":3.5,"petal_length":1.4,"petal_width":0.2}`, "/sepal_length"},
		{"just too wide", `{"sepal_length":5.1,"sepal_width":8.001,"petal_length":1.4,"petal_width":0.2}`, "/sepal_width"},
		{"zero", `{"sepal_length":5.1,"sepal_width":3.5,"petal_length":0,"petal_width":0.2}`, "/petal_length"},
		{"negative", `{"sepal_length":5.1,"sepal_width":3.5,"petal_length":1.4,"petal_width":-0.2}`, "/petal_width"},
		{"string", `{"sepal_length":"5.1","sepal_width":3.5,"petal_length":1.4,"petal_width":0.2}`, "/sepal_length"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := validate(t, schema, tt.input); err == nil {
				t.Errorf("schema validation of %s: got no error, want one", tt.input)
			}
			_, err := remote.Predict(context.Background(), json.RawMessage(tt.input))
			var ie *sdk.InputError
			if !errors.As(err, &ie) {
				t.Fatalf("Predict(%s): got error %v, want an *sdk.InputError", tt.input, err)
			}
			var pointers []string
			for _, f := range ie.Fields {
				pointers = append(pointers, f.Pointer)
			}
			if !slices.Equal(pointers, []string{tt.pointer}) {
				t.Errorf("Predict(%s) error %v: got fields %q, want [%q]", tt.input, err, pointers, tt.pointer)
			}
		})
	}
}

func TestValidInputAtBounds(t *testing.T) {
	remote := modeltest.Check(t, New())
	schema, err := schemacheck.Compile(remote.InputSchema())
	if err != nil {
		t.Fatal(err)
	}
	for _, input := range []string{
		`{"sepal_length":12,"sepal_width":8,"petal_length":10,"petal_width":5}`,
		`{"sepal_length":0.01,"sepal_width":0.01,"petal_length":0.01,"petal_width":0.01}`,
	} {
		if err := validate(t, schema, input); err != nil {
			t.Errorf("schema validation of %s: got error %v, want none", input, err)
		}
		if _, err := remote.Predict(context.Background(), json.RawMessage(input)); err != nil {
			t.Errorf("Predict(%s): got error %v, want none", input, err)
		}
	}
}

// TestSchemaMatchesCode checks that the bounds in the schema are the ones
// checkBounds enforces, that Input's fields map onto the classifier's
// features in order, and that the output enum lists the classifier's classes.
func TestSchemaMatchesCode(t *testing.T) {
	m := New()
	var in struct {
		Properties map[string]struct {
			ExclusiveMinimum *float64 `json:"exclusiveMinimum"`
			Maximum          *float64 `json:"maximum"`
		} `json:"properties"`
	}
	if err := json.Unmarshal(m.InputSchema(), &in); err != nil {
		t.Fatal(err)
	}
	if got, want := len(in.Properties), classifier.NumFeatures; got != want {
		t.Errorf("input properties: got %d, want %d", got, want)
	}
	for i, name := range classifier.Features {
		prop, ok := in.Properties[name]
		b := inputBounds[i]
		switch {
		case !ok:
			t.Errorf("input schema: got no property %q, want one", name)
		case b.pointer != "/"+name:
			t.Errorf("inputBounds[%d].pointer: got %q, want %q", i, b.pointer, "/"+name)
		case prop.ExclusiveMinimum == nil || *prop.ExclusiveMinimum != 0:
			t.Errorf("%s exclusiveMinimum: got %v, want 0", name, prop.ExclusiveMinimum)
		case prop.Maximum == nil || *prop.Maximum != b.max:
			t.Errorf("%s maximum: got %v, want %v", name, prop.Maximum, b.max)
		}
	}

	var decoded Input
	if err := json.Unmarshal([]byte(`{"sepal_length":1,"sepal_width":2,"petal_length":3,"petal_width":4}`), &decoded); err != nil {
		t.Fatal(err)
	}
	if got, want := decoded.features(), [classifier.NumFeatures]float64{1, 2, 3, 4}; got != want {
		t.Errorf("features() in the order of classifier.Features: got %v, want %v", got, want)
	}

	var out struct {
		Properties struct {
			Species struct {
				Enum []string `json:"enum"`
			} `json:"species"`
		} `json:"properties"`
		Required []string `json:"required"`
	}
	if err := json.Unmarshal(m.OutputSchema(), &out); err != nil {
		t.Fatal(err)
	}
	if got, want := out.Properties.Species.Enum, classifier.Classes; !slices.Equal(got, want) {
		t.Errorf("output species enum: got %q, want %q", got, want)
	}
	if len(out.Required) == 0 || out.Required[0] != "species" {
		t.Errorf("output required: got %q, want species first", out.Required)
	}
}

func validate(t *testing.T, schema *jsonschema.Schema, doc string) error {
	t.Helper()
	v, err := jsonschema.UnmarshalJSON(strings.NewReader(doc))
	if err != nil {
		t.Fatalf("parse %s: %v", doc, err)
	}
	return schema.Validate(v)
}
