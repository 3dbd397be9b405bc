package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/modelhost/modelhost/sdk"
	"github.com/modelhost/modelhost/sdk/modeltest"
	"github.com/modelhost/modelhost/sdk/plugin"
	"github.com/modelhost/modelhost/sdk/schemacheck"
)

func TestContract(t *testing.T) {
	modeltest.Check(t, newModel())
}

// predict runs one JSON input through the model served over gRPC and
// decodes its output.
func predict(t *testing.T, remote *plugin.RemoteModel, input string) (Output, error) {
	t.Helper()
	raw, err := remote.Predict(context.Background(), json.RawMessage(input))
	if err != nil {
		return Output{}, err
	}
	var out Output
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&out); err != nil {
		t.Fatalf("decode output %s: %v", raw, err)
	}
	return out, nil
}

func TestPredictKnownTexts(t *testing.T) {
	remote := plugin.ServeTest(t, newModel())
	for _, tc := range []struct {
		text  string
		label string
		score int
	}{
		{"I love this, it is wonderful", "positive", 7},
		{"This is terrible and I hate it", "negative", -6},
		{"The box is blue", "neutral", 0},
		{"not good", "negative", -2},
		{"The movie wasn't good at all.", "negative", -3},
		{"Not bad, not bad at all!", "positive", 6},
		{"The battery life is great, but the screen is not good.", "positive", 1},
	} {
		in, _ := json.Marshal(Input{Documents: []Document{{Text: tc.text}}})
		out, err := predict(t, remote, string(in))
		if err != nil {
			t.Errorf("%q: %v", tc.text, err)
			continue
		}
		if len(out.Results) != 1 {
			t.Errorf("%q: %d results, want 1", tc.text, len(out.Results))
			continue
		}
		if r := out.Results[0]; r.Label != tc.label || r.Score != tc.score {
			t.Errorf("%q: label %s, score %d; want %s, %d", tc.text, r.Label, r.Score, tc.label, tc.score)
		}
	}
}

func TestPredictBatchKeepsOrderAndIDs(t *testing.T) {
	remote := plugin.ServeTest(t, newModel())
	out, err := predict(t, remote, `{"documents": [
		{"id": "a", "text": "Awful."},
		{"text": "Lovely!"},
		{"id": "c", "text": "A chair."}
	]}`)
	if err != nil {
		t.Fatal(err)
	}
	want := []Result{
		{ID: "a", Label: "negative", Score: -3, Comparative: -3, Words: 1},
		{Label: "positive", Score: 3, Comparative: 3, Words: 1},
		{ID: "c", Label: "neutral", Score: 0, Comparative: 0, Words: 2},
	}
	if diff := cmp.Diff(want, out.Results); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
}

func TestPredictSentencesAndExplain(t *testing.T) {
	remote := plugin.ServeTest(t, newModel())
	out, err := predict(t, remote, `{
		"documents": [{"id": "r1", "text": "The battery life is great. The screen isn't good! It ships in a box."}],
		"granularity": "sentence",
		"options": {"explain": true}
	}`)
	if err != nil {
		t.Fatal(err)
	}
	want := Result{
		ID: "r1", Label: "neutral", Score: 0, Comparative: 0, Words: 14,
		Sentences: []Sentence{
			{Text: "The battery life is great.", Label: "positive", Score: 3, Comparative: 0.6, Words: 5, Rated: []Word{{Word: "great", Score: 3}}},
			{Text: "The screen isn't good!", Label: "negative", Score: -3, Comparative: -0.75, Words: 4, Rated: []Word{{Word: "good", Score: -3, Negated: true}}},
			{Text: "It ships in a box.", Label: "neutral", Score: 0, Comparative: 0, Words: 5, Rated: []Word{}},
		},
		Rated: []Word{{Word: "great", Score: 3}, {Word: "good", Score: -3, Negated: true}},
	}
	if diff := cmp.Diff([]Result{want}, out.Results); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}

	// Without explain and with document granularity, neither list appears.
	raw, err := remote.Predict(context.Background(), json.RawMessage(`{"documents": [{"text": "Great. Bad."}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if s := string(raw); strings.Contains(s, `"sentences"`) || strings.Contains(s, `"words"`) {
		t.Errorf("output %s has sentences or words without being asked", s)
	}
	// With explain, a text without rated words lists none rather than
	// leaving the field out.
	raw, err = remote.Predict(context.Background(), json.RawMessage(`{"documents": [{"text": "A chair."}], "options": {"explain": true}}`))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(raw), `"words":[]`) {
		t.Errorf("output %s lacks \"words\":[]", raw)
	}
}

func TestPredictOptions(t *testing.T) {
	remote := plugin.ServeTest(t, newModel())
	for _, tc := range []struct {
		options string
		label   string
		score   int
	}{
		{`{}`, "negative", -3},
		{`{"negation": true}`, "negative", -3},
		{`{"negation": false}`, "positive", 3},
		{`{"neutral_threshold": 0}`, "negative", -3},
		{`{"neutral_threshold": 0.75}`, "negative", -3}, // comparative is exactly -0.75
		{`{"neutral_threshold": 0.8}`, "neutral", -3},
		{`{"negation": false, "neutral_threshold": 5}`, "neutral", 3},
	} {
		out, err := predict(t, remote, `{"documents": [{"text": "This is not great"}], "options": `+tc.options+`}`)
		if err != nil {
			t.Errorf("options %s: %v", tc.options, err)
			continue
		}
		if r := out.Results[0]; r.Label != tc.label || r.Score != tc.score {
			t.Errorf("options %s: label %s, score %d; want %s, %d", tc.options, r.Label, r.Score, tc.label, tc.score)
		}
	}
}

func TestPredictInvalidInput(t *testing.T) {
	remote := plugin.ServeTest(t, newModel())
	inSchema, err := schemacheck.Compile(remote.InputSchema())
	if err != nil {
		t.Fatal(err)
	}
	tooMany := `{"documents": [` + strings.Repeat(`{"text": "ok"},`, maxDocuments) + `{"text": "ok"}]}`
	for _, tc := range []struct {
		name  string
		input string
		// schemaOK says whether the input satisfies the input schema: the
		// checks the schema cannot express are left to Predict.
		schemaOK bool
		pointers []string
	}{
		{"no words", `{"documents": [{"text": "!!! 🙂 ..."}]}`, true, []string{"/documents/0/text"}},
		{"duplicate ids", `{"documents": [{"id": "x", "text": "good"}, {"id": "y", "text": "bad"}, {"id": "x", "text": "meh"}]}`, true, []string{"/documents/2/id"}},
		{"both, reported together", `{"documents": [{"id": "x", "text": "good"}, {"id": "x", "text": "..."}]}`, true, []string{"/documents/1/id", "/documents/1/text"}},
		{"empty text", `{"documents": [{"text": ""}]}`, false, []string{"/documents/0/text"}},
		{"text too long", `{"documents": [{"text": "` + strings.Repeat("a", maxTextLength+1) + `"}]}`, false, []string{"/documents/0/text"}},
		{"id too long", `{"documents": [{"id": "` + strings.Repeat("i", maxIDLength+1) + `", "text": "good"}]}`, false, []string{"/documents/0/id"}},
		{"no documents", `{"documents": []}`, false, []string{"/documents"}},
		{"too many documents", tooMany, false, []string{"/documents"}},
		{"unknown granularity", `{"documents": [{"text": "good"}], "granularity": "paragraph"}`, false, []string{"/granularity"}},
		{"threshold out of range", `{"documents": [{"text": "good"}], "options": {"neutral_threshold": 6}}`, false, []string{"/options/neutral_threshold"}},
		{"negative threshold", `{"documents": [{"text": "good"}], "options": {"neutral_threshold": -0.1}}`, false, []string{"/options/neutral_threshold"}},
		{"unknown field", `{"documents": [{"text": "good"}], "language": "en"}`, false, []string{"/language"}},
		{"wrong type", `{"documents": [{"text": 42}]}`, false, []string{"/documents/0/text"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := validate(inSchema, tc.input); (err == nil) != tc.schemaOK {
				t.Errorf("input schema validation error = %v, want valid = %v", err, tc.schemaOK)
			}
			_, err := remote.Predict(context.Background(), json.RawMessage(tc.input))
			var ie *sdk.InputError
			if !errors.Is(err, sdk.ErrInvalidInput) || !errors.As(err, &ie) {
				t.Fatalf("Predict error = %v, want an *sdk.InputError", err)
			}
			var got []string
			for _, f := range ie.Fields {
				got = append(got, f.Pointer)
				if f.Detail == "" {
					t.Errorf("field error at %s has no detail", f.Pointer)
				}
			}
			if !slices.Equal(got, tc.pointers) {
				t.Errorf("Predict error pointers = %q, want %q (error: %v)", got, tc.pointers, err)
			}
		})
	}
}

func validate(s *jsonschema.Schema, doc string) error {
	v, err := jsonschema.UnmarshalJSON(strings.NewReader(doc))
	if err != nil {
		return err
	}
	return s.Validate(v)
}

// schemaNode is the part of a JSON Schema these tests look at.
type schemaNode struct {
	Ref        string                 `json:"$ref"`
	Defs       map[string]*schemaNode `json:"$defs"`
	Type       string                 `json:"type"`
	Properties map[string]*schemaNode `json:"properties"`
	Required   []string               `json:"required"`
	Items      *schemaNode            `json:"items"`
	Enum       []any                  `json:"enum"`
	MinItems   *int                   `json:"minItems"`
	MaxItems   *int                   `json:"maxItems"`
	MinLength  *int                   `json:"minLength"`
	MaxLength  *int                   `json:"maxLength"`
	Default    any                    `json:"default"`
	Desc       string                 `json:"description"`
}

// schemaWalker resolves "#/$defs/..." references within one schema.
type schemaWalker struct {
	t    *testing.T
	root *schemaNode
}

func newSchemaWalker(t *testing.T, doc json.RawMessage) *schemaWalker {
	t.Helper()
	var root schemaNode
	if err := json.Unmarshal(doc, &root); err != nil {
		t.Fatalf("schema: %v", err)
	}
	return &schemaWalker{t, &root}
}

// at returns the schema reached by following property names from the root;
// "[]" steps into array items.
func (w *schemaWalker) at(path ...string) *schemaNode {
	w.t.Helper()
	n := w.deref(w.root)
	for i, p := range path {
		var next *schemaNode
		if p == "[]" {
			next = n.Items
		} else {
			next = n.Properties[p]
		}
		if next == nil {
			w.t.Fatalf("schema has nothing at %s", strings.Join(path[:i+1], "."))
		}
		n = w.deref(next)
	}
	return n
}

func (w *schemaWalker) deref(n *schemaNode) *schemaNode {
	w.t.Helper()
	for n.Ref != "" {
		name, ok := strings.CutPrefix(n.Ref, "#/$defs/")
		def := w.root.Defs[name]
		if !ok || def == nil {
			w.t.Fatalf("unresolvable $ref %q", n.Ref)
		}
		n = def
	}
	return n
}

func TestInputSchema(t *testing.T) {
	w := newSchemaWalker(t, newModel().InputSchema())
	root := w.at()
	if root.Type != "object" || !slices.Equal(root.Required, []string{"documents"}) {
		t.Errorf("root: type %q, required %q; want object, [documents]", root.Type, root.Required)
	}

	docs := w.at("documents")
	if docs.Type != "array" || docs.MinItems == nil || *docs.MinItems != 1 || docs.MaxItems == nil || *docs.MaxItems != maxDocuments {
		t.Errorf("documents: want an array of 1..%d items, got %+v", maxDocuments, docs)
	}
	doc := w.at("documents", "[]")
	if doc.Type != "object" || !slices.Equal(doc.Required, []string{"text"}) {
		t.Errorf("documents[]: type %q, required %q; want a nested object requiring only text", doc.Type, doc.Required)
	}
	text := w.at("documents", "[]", "text")
	if text.Type != "string" || text.MinLength == nil || *text.MinLength != 1 || text.MaxLength == nil || *text.MaxLength != maxTextLength {
		t.Errorf("documents[].text: want a string of 1..%d characters, got %+v", maxTextLength, text)
	}
	if id := w.at("documents", "[]", "id"); id.Type != "string" {
		t.Errorf("documents[].id: type %q, want string", id.Type)
	}

	gran := w.at("granularity")
	if gran.Type != "string" || fmt.Sprint(gran.Enum) != "[document sentence]" || gran.Default != "document" {
		t.Errorf("granularity: type %q, enum %v, default %v; want string, [document sentence], document", gran.Type, gran.Enum, gran.Default)
	}

	opts := w.at("options")
	if opts.Type != "object" || len(opts.Required) != 0 {
		t.Errorf("options: type %q, required %q; want an object with optional fields", opts.Type, opts.Required)
	}
	for name, typ := range map[string]string{"negation": "boolean", "neutral_threshold": "number", "explain": "boolean"} {
		if p := w.at("options", name); p.Type != typ || p.Default == nil || p.Desc == "" {
			t.Errorf("options.%s: type %q, default %v, description %q; want %s with a default and a description", name, p.Type, p.Default, p.Desc, typ)
		}
	}
}

func TestOutputSchema(t *testing.T) {
	w := newSchemaWalker(t, newModel().OutputSchema())
	if r := w.at("results"); r.Type != "array" {
		t.Errorf("results: type %q, want array", r.Type)
	}
	const labels = "[positive negative neutral]"
	for _, path := range [][]string{
		{"results", "[]", "label"},
		{"results", "[]", "sentences", "[]", "label"},
	} {
		if l := w.at(path...); l.Type != "string" || fmt.Sprint(l.Enum) != labels {
			t.Errorf("%s: type %q, enum %v; want string, %s", strings.Join(path, "."), l.Type, l.Enum, labels)
		}
	}
	for _, path := range [][]string{
		{"results", "[]", "words", "[]", "word"},
		{"results", "[]", "sentences", "[]", "words", "[]", "score"},
	} {
		w.at(path...)
	}
	if r := w.at("results", "[]"); !slices.Equal(r.Required, []string{"label", "score", "comparative", "word_count"}) {
		t.Errorf("results[] required = %q", r.Required)
	}
}

// The model is safe for concurrent use (run with -race).
func TestConcurrentPredict(t *testing.T) {
	m := newModel()
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 20 {
				in := Input{
					Documents:   []Document{{ID: fmt.Sprint(i, "-", j), Text: "Not bad. I love it, but the case is ugly."}},
					Granularity: granularitySentence,
					Options:     &Options{Explain: true},
				}
				out, err := m.PredictTyped(context.Background(), in)
				if err != nil {
					t.Error(err)
					return
				}
				if got := out.Results[0].Score; got != 3 {
					t.Errorf("score %d, want 3", got)
					return
				}
			}
		})
	}
	wg.Wait()
}

// The examples in the input schema give the outputs README.md shows.
func TestExamples(t *testing.T) {
	m := newModel()
	type summary struct {
		ID          string
		Label       string
		Score       int
		Comparative float64
		Sentences   []string // labels
		Rated       []Word
	}
	want := [][]summary{
		{{ID: "review-1", Label: "positive", Score: 1, Comparative: 0.0909}},
		{
			{ID: "ticket-1041", Label: "neutral", Score: -1, Comparative: -0.0435, Sentences: []string{"negative", "neutral"},
				Rated: []Word{{Word: "frustrating", Score: -2}, {Word: "friendly", Score: 2}, {Word: "helpful", Score: 2}, {Word: "does not work", Score: -3}}},
			{ID: "ticket-1042", Label: "positive", Score: 5, Comparative: 0.5556, Sentences: []string{"positive", "positive"},
				Rated: []Word{{Word: "thanks", Score: 2}, {Word: "perfectly", Score: 3}}},
		},
		{{Label: "positive", Score: 5, Comparative: 0.5,
			Rated: []Word{{Word: "disappointed", Score: 2, Negated: true}, {Word: "bad", Score: 3, Negated: true}}}},
	}
	if len(examples) != len(want) {
		t.Fatalf("%d examples, want %d", len(examples), len(want))
	}
	for i, ex := range examples {
		out, err := m.PredictTyped(context.Background(), ex)
		if err != nil {
			t.Errorf("example %d: %v", i, err)
			continue
		}
		var got []summary
		for _, r := range out.Results {
			s := summary{ID: r.ID, Label: r.Label, Score: r.Score, Comparative: r.Comparative, Rated: r.Rated}
			for _, sen := range r.Sentences {
				s.Sentences = append(s.Sentences, sen.Label)
			}
			got = append(got, s)
		}
		if diff := cmp.Diff(want[i], got); diff != "" {
			t.Errorf("example %d (-want +got):\n%s", i, diff)
		}
	}
}
