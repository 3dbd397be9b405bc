package openapi

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/modelhost/modelhost/host/internal/openapi/openapitest"
	"github.com/modelhost/modelhost/host/internal/problem"
	"github.com/modelhost/modelhost/host/internal/registry"
	"github.com/modelhost/modelhost/sdk"
)

// Shared is used by both the input and the output of pairModel.
type Shared struct {
	Label string `json:"label" jsonschema:"minLength=1"`
}

// pointModels returns two models whose inputs each have a nested named type
// called Point, declared in different scopes.
func pointModels() (geo, plot sdk.MLModel) {
	type Point struct {
		Lat float64 `json:"lat" jsonschema:"minimum=-90,maximum=90"`
		Lon float64 `json:"lon" jsonschema:"minimum=-180,maximum=180"`
	}
	type geoIn struct {
		Where Point `json:"where"`
	}
	type geoOut struct {
		Country string `json:"country"`
	}
	geo = sdk.NewModel(sdk.Info{QualifiedName: "geo", DisplayName: "Geocoder", Description: "Finds the country of a point.", Version: "1.0.0"},
		func(context.Context, geoIn) (geoOut, error) { return geoOut{Country: "FR"}, nil },
		sdk.WithExamples(geoIn{Where: Point{Lat: 48.85, Lon: 2.35}}))
	plot = plotModel()
	return geo, plot
}

func plotModel() sdk.MLModel {
	type Point struct {
		X int `json:"x"`
		Y int `json:"y"`
	}
	type plotIn struct {
		Points []Point `json:"points" jsonschema:"minItems=1"`
	}
	type plotOut struct {
		Centre Point `json:"centre"`
	}
	return sdk.NewModel(sdk.Info{QualifiedName: "plot", DisplayName: "Plotter", Description: "Finds the centre of points.", Version: "2.1.0"},
		func(context.Context, plotIn) (plotOut, error) { return plotOut{}, nil },
		sdk.WithExamples(plotIn{Points: []Point{{1, 2}, {3, 4}}}, plotIn{Points: []Point{{0, 0}}}))
}

// pairModel's input and output share one type, Shared, and each has a
// different type called Point.
func pairModel() sdk.MLModel {
	info := sdk.Info{QualifiedName: "pair", DisplayName: "Pair", Version: "0.1.0"}
	type Point struct {
		Lat float64 `json:"lat"`
	}
	type In struct {
		A     Shared `json:"a"`
		Where Point  `json:"where"`
	}
	{
		type Point struct {
			X int `json:"x"`
		}
		type Out struct {
			B  Shared `json:"b"`
			At Point  `json:"at"`
		}
		return sdk.NewModel(info, func(context.Context, In) (Out, error) { return Out{}, nil })
	}
}

// treeModel's input is recursive, and its Go type is called Input: the SDK
// puts it in "$defs" as "Input" too, which must not take the name of the
// input's own component.
func treeModel() sdk.MLModel {
	type Input struct {
		Value    int      `json:"value"`
		Children []*Input `json:"children,omitempty"`
	}
	type Output struct {
		Sum int `json:"sum"`
	}
	return sdk.NewModel(sdk.Info{QualifiedName: "tree-sum.v2", DisplayName: "Tree sum", Version: "1.0.0"},
		func(context.Context, Input) (Output, error) { return Output{}, nil },
		sdk.WithExamples(Input{Value: 1, Children: []*Input{{Value: 2}}}))
}

// rawModel is a model with hand-written schemas, as a plugin not built
// with the SDK may publish.
type rawModel struct {
	info    sdk.Info
	in, out string
}

func (m *rawModel) Info() sdk.Info                { return m.info }
func (m *rawModel) InputSchema() json.RawMessage  { return json.RawMessage(m.in) }
func (m *rawModel) OutputSchema() json.RawMessage { return json.RawMessage(m.out) }
func (m *rawModel) Predict(context.Context, json.RawMessage) (json.RawMessage, error) {
	return json.RawMessage(`{}`), nil
}

func entries(t *testing.T, models ...sdk.MLModel) []*registry.Entry {
	t.Helper()
	reg := registry.New()
	for _, m := range models {
		e, err := registry.NewEntry(m, "test", 5*time.Second)
		if err != nil {
			t.Fatalf("registry.NewEntry(%s): %v", m.Info().QualifiedName, err)
		}
		if err := reg.Add(e); err != nil {
			t.Fatal(err)
		}
	}
	return reg.List()
}

// buildDoc builds the document of models, checks it against the official
// schemas, and returns it decoded.
func buildDoc(t *testing.T, models ...sdk.MLModel) (map[string]any, *openapitest.Document) {
	t.Helper()
	return buildDocWith(t, Options{Version: "1.2.3", MaxBodyBytes: 4096}, models...)
}

// buildDocWith is buildDoc with options.
func buildDocWith(t *testing.T, opts Options, models ...sdk.MLModel) (map[string]any, *openapitest.Document) {
	t.Helper()
	b, err := Build(entries(t, models...), opts)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	if err := openapitest.Validate(b); err != nil {
		t.Fatalf("the document is not valid:\n%v\n%s", err, b)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	d, err := openapitest.Load(b)
	if err != nil {
		t.Fatal(err)
	}
	return doc, d
}

// get follows keys through nested objects.
func get(t *testing.T, v any, keys ...string) any {
	t.Helper()
	for i, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("%s: not an object", strings.Join(keys[:i], "/"))
		}
		if v, ok = m[k]; !ok {
			t.Fatalf("%s: no member %q", strings.Join(keys[:i], "/"), k)
		}
	}
	return v
}

// withGenericSchemas returns the names of the generic components/schemas
// entries and models, sorted.
func withGenericSchemas(models ...string) []string {
	names := append([]string{
		"BatchItemError", "ModelList", "ModelMetadata", "ModelSummary", "Problem", "ProblemFieldError",
		"Health", "ModelState", "PluginFailure", "Readiness", "ReloadChange", "ReloadReport", "SkippedFile",
	}, models...)
	slices.Sort(names)
	return names
}

func schemaNames(doc map[string]any) []string {
	schemas := doc["components"].(map[string]any)["schemas"].(map[string]any)
	var names []string
	for n := range schemas {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// walkJSON calls fn for every object inside v, with its path.
func walkJSON(v any, path string, fn func(path string, o map[string]any)) {
	switch t := v.(type) {
	case map[string]any:
		fn(path, t)
		for k, e := range t {
			walkJSON(e, path+"/"+k, fn)
		}
	case []any:
		for _, e := range t {
			walkJSON(e, path+"/[]", fn)
		}
	}
}

func TestBuildDocument(t *testing.T) {
	geo, plot := pointModels()
	doc, _ := buildDoc(t, geo, plot)

	if got := doc["openapi"]; got != "3.1.0" {
		t.Errorf("openapi = %v", got)
	}
	if got := get(t, doc, "info", "title"); got != "modelhost" {
		t.Errorf("info.title = %v", got)
	}
	if got := get(t, doc, "info", "version"); got != "1.2.3" {
		t.Errorf("info.version = %v", got)
	}
	var paths []string
	for p := range doc["paths"].(map[string]any) {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	want := []string{
		"/admin/reload",
		"/api/models",
		"/api/models/geo/predict",
		"/api/models/geo/predict/batch",
		"/api/models/geo/versions/1.0.0/metadata",
		"/api/models/geo/versions/1.0.0/predict",
		"/api/models/geo/versions/1.0.0/predict/batch",
		"/api/models/plot/predict",
		"/api/models/plot/predict/batch",
		"/api/models/plot/versions/2.1.0/metadata",
		"/api/models/plot/versions/2.1.0/predict",
		"/api/models/plot/versions/2.1.0/predict/batch",
		"/api/models/{qualified_name}/metadata",
		"/api/models/{qualified_name}/predict",
		"/api/models/{qualified_name}/predict/batch",
		"/api/models/{qualified_name}/versions/{version}/metadata",
		"/api/models/{qualified_name}/versions/{version}/predict",
		"/api/models/{qualified_name}/versions/{version}/predict/batch",
		"/healthz",
		"/metrics",
		"/readyz",
	}
	if diff := cmp.Diff(want, paths); diff != "" {
		t.Errorf("paths (-want +got):\n%s", diff)
	}

	op := get(t, doc, "paths", "/api/models/plot/predict", "post").(map[string]any)
	if op["operationId"] != "predict_plot" || op["summary"] != "Plotter" {
		t.Errorf("operationId, summary = %v, %v", op["operationId"], op["summary"])
	}
	if diff := cmp.Diff([]any{"plot"}, op["tags"]); diff != "" {
		t.Errorf("tags (-want +got):\n%s", diff)
	}
	if d, _ := op["description"].(string); !strings.HasPrefix(d, "Finds the centre of points.") || !strings.Contains(d, "2.1.0") {
		t.Errorf("description = %q, want the model's description and version", d)
	}
	if got := get(t, op, "requestBody", "content", "application/json", "schema", "$ref"); got != "#/components/schemas/plot.Input" {
		t.Errorf("request schema = %v", got)
	}
	if got := get(t, op, "responses", "200", "content", "application/json", "schema", "$ref"); got != "#/components/schemas/plot.Output" {
		t.Errorf("response schema = %v", got)
	}
	var tags []string
	for _, tg := range doc["tags"].([]any) {
		tags = append(tags, tg.(map[string]any)["name"].(string))
	}
	if diff := cmp.Diff([]string{"models", "geo", "plot", "operations"}, tags); diff != "" {
		t.Errorf("tags (-want +got):\n%s", diff)
	}
	if got := get(t, doc, "components", "parameters", "QualifiedName", "examples", "geo", "value"); got != "geo" {
		t.Errorf("qualified_name example = %v", got)
	}
}

func TestModelSchemasMoveToComponents(t *testing.T) {
	geo, plot := pointModels()
	doc, _ := buildDoc(t, geo, plot, treeModel(), pairModel())

	want := withGenericSchemas(
		"geo.Input", "geo.Output", "geo.Point",
		"pair.Input", "pair.Output", "pair.Point", "pair.Point_2", "pair.Shared",
		"plot.Input", "plot.Output", "plot.Point",
		"tree-sum.v2.Input", "tree-sum.v2.Input_2", "tree-sum.v2.Output",
	)
	if diff := cmp.Diff(want, schemaNames(doc)); diff != "" {
		t.Errorf("component names (-want +got):\n%s", diff)
	}
	namePattern := regexp.MustCompile(`^[a-zA-Z0-9.\-_]+$`)
	for _, n := range schemaNames(doc) {
		if !namePattern.MatchString(n) {
			t.Errorf("component name %q does not match %s", n, namePattern)
		}
	}

	schemas := get(t, doc, "components", "schemas").(map[string]any)
	// The two Points are different schemas.
	if cmp.Equal(schemas["geo.Point"], schemas["plot.Point"]) {
		t.Errorf("geo.Point and plot.Point are the same schema: %v", schemas["geo.Point"])
	}
	if got := get(t, schemas, "geo.Point", "properties", "lat", "minimum"); got != -90.0 {
		t.Errorf("geo.Point lat minimum = %v", got)
	}
	refs := map[string]string{
		"geo.Input/where":    "#/components/schemas/geo.Point",
		"plot.Output/centre": "#/components/schemas/plot.Point",
		"pair.Input/a":       "#/components/schemas/pair.Shared",
		"pair.Output/b":      "#/components/schemas/pair.Shared",
		"pair.Input/where":   "#/components/schemas/pair.Point",
		"pair.Output/at":     "#/components/schemas/pair.Point_2",
	}
	for where, want := range refs {
		name, prop, _ := strings.Cut(where, "/")
		if got := get(t, schemas, name, "properties", prop, "$ref"); got != want {
			t.Errorf("%s.%s $ref = %v, want %s", name, prop, got, want)
		}
	}
	if got := get(t, schemas, "plot.Input", "properties", "points", "items", "$ref"); got != "#/components/schemas/plot.Point" {
		t.Errorf("plot.Input points items $ref = %v", got)
	}
	if got := get(t, schemas, "tree-sum.v2.Input", "properties", "children", "items", "$ref"); got != "#/components/schemas/tree-sum.v2.Input_2" {
		t.Errorf("tree-sum.v2.Input children items $ref = %v", got)
	}

	// No model component keeps "$defs", "$schema" or "$id", and every
	// reference points into components/schemas.
	walkJSON(schemas, "", func(path string, o map[string]any) {
		if strings.Contains(path, "/examples") {
			return
		}
		for _, kw := range []string{"$defs", "definitions", "$schema", "$id"} {
			if _, ok := o[kw]; ok {
				t.Errorf("%s has %s", path, kw)
			}
		}
		if ref, ok := o["$ref"].(string); ok && !strings.HasPrefix(ref, "#/components/schemas/") {
			t.Errorf("%s: $ref %q does not point into components/schemas", path, ref)
		}
	})
}

func TestModelSchemasKeepOrderAndNumbers(t *testing.T) {
	m := &rawModel{
		info: sdk.Info{QualifiedName: "raw", DisplayName: "Raw", Version: "1.0.0"},
		in: `{"type":"object","properties":{"zeta":{"type":"number","maximum":1e400,"multipleOf":0.10},"alpha":{"type":"string"}},
			"examples":[{"zeta":0.10,"alpha":"a"}]}`,
		out: `{"type":"object"}`,
	}
	b, err := Build(entries(t, m), Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, want := range []string{`"maximum": 1e400`, `"multipleOf": 0.10`, `"zeta": 0.10`} {
		if !strings.Contains(s, want) {
			t.Errorf("document lacks %s", want)
		}
	}
	if z, a := strings.Index(s, `"zeta": {`), strings.Index(s, `"alpha": {`); z < 0 || a < z {
		t.Errorf("properties are not in the schema's order (zeta at %d, alpha at %d)", z, a)
	}
}

// TestHandWrittenSchemas covers what a plugin not built with the SDK may
// publish: "definitions", references to the root, into a definition, to an
// anchor, percent-encoded, through the root's "$id"; and values that look
// like references but are data.
func TestHandWrittenSchemas(t *testing.T) {
	m := &rawModel{
		info: sdk.Info{QualifiedName: "hand", DisplayName: "Hand-written", Version: "1.0.0"},
		in: `{
			"$schema": "https://json-schema.org/draft/2020-12/schema",
			"$id": "https://example.com/hand/input.json",
			"type": "object",
			"properties": {
				"node": {"$ref": "#/$defs/Node"},
				"legacy": {"$ref": "#/definitions/Legacy"},
				"name": {"$ref": "#/$defs/Node/properties/name"},
				"same": {"$ref": "#"},
				"spaced": {"$ref": "#/$defs/With%20space"},
				"tagged": {"$ref": "#tag"},
				"absolute": {"$ref": "https://example.com/hand/input.json#/$defs/Node"},
				"data": {"const": {"$ref": "#/$defs/Node"}, "default": {"$ref": "#/$defs/Node"}}
			},
			"examples": [{"node": {"name": "n"}, "data": {"$ref": "#/$defs/Node"}}],
			"$defs": {
				"Node": {"type": "object", "properties": {"name": {"type": "string"}, "next": {"$ref": "#/$defs/Node"}}},
				"With space": {"type": "integer"},
				"Tagged": {"$anchor": "tag", "type": "boolean"},
				"Input": {"type": "string"}
			},
			"definitions": {
				"Legacy": {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "number"}
			}
		}`,
		out: `{"type": "object", "properties": {"node": {"$ref": "#/$defs/Node"}}, "$defs": {"Node": {"type": "string"}}}`,
	}
	doc, d := buildDoc(t, m)
	schemas := get(t, doc, "components", "schemas").(map[string]any)
	want := withGenericSchemas(
		"hand.Input", "hand.Input_2", "hand.Legacy", "hand.Node", "hand.Node_2", "hand.Output",
		"hand.Tagged", "hand.With_space",
	)
	if diff := cmp.Diff(want, schemaNames(doc)); diff != "" {
		t.Errorf("component names (-want +got):\n%s", diff)
	}
	props := get(t, schemas, "hand.Input", "properties").(map[string]any)
	wantRefs := map[string]string{
		"node":     "#/components/schemas/hand.Node",
		"legacy":   "#/components/schemas/hand.Legacy",
		"name":     "#/components/schemas/hand.Node/properties/name",
		"same":     "#/components/schemas/hand.Input",
		"spaced":   "#/components/schemas/hand.With_space",
		"tagged":   "#/components/schemas/hand.Tagged",
		"absolute": "#/components/schemas/hand.Node",
	}
	for p, want := range wantRefs {
		if got := get(t, props, p, "$ref"); got != want {
			t.Errorf("%s: $ref = %v, want %s", p, got, want)
		}
	}
	// Data is left alone.
	for _, path := range [][]string{{"data", "const", "$ref"}, {"data", "default", "$ref"}} {
		if got := get(t, props, path...); got != "#/$defs/Node" {
			t.Errorf("%s = %v, want the data unchanged", strings.Join(path, "/"), got)
		}
	}
	if got := get(t, schemas, "hand.Input", "examples").([]any)[0].(map[string]any)["data"]; !cmp.Equal(got, map[string]any{"$ref": "#/$defs/Node"}) {
		t.Errorf("example data = %v, want it unchanged", got)
	}
	if got := get(t, schemas, "hand.Node", "properties", "next", "$ref"); got != "#/components/schemas/hand.Node" {
		t.Errorf("Node.next $ref = %v", got)
	}
	if _, ok := schemas["hand.Tagged"].(map[string]any)["$anchor"]; ok {
		t.Errorf("hand.Tagged keeps its $anchor")
	}
	if _, ok := schemas["hand.Legacy"].(map[string]any)["$schema"]; ok {
		t.Errorf("hand.Legacy keeps its $schema")
	}
	// The output's Node differs from the input's: a component of its own.
	if got := get(t, schemas, "hand.Output", "properties", "node", "$ref"); got != "#/components/schemas/hand.Node_2" {
		t.Errorf("output node $ref = %v", got)
	}

	// The moved schema still accepts and rejects what the original did.
	in, err := d.Schema(openapitest.SchemaPointer("hand.Input"))
	if err != nil {
		t.Fatal(err)
	}
	for doc, valid := range map[string]bool{
		`{"node": {"name": "a", "next": {"name": "b"}}, "spaced": 3, "tagged": true, "legacy": 1.5, "name": "x"}`: true,
		`{"node": {"next": {"name": 5}}}`: false,
		`{"spaced": "three"}`:             false,
		`{"tagged": 1}`:                   false,
		`{"same": {"same": {"name": 1}}}`: false,
	} {
		var v any
		if err := json.Unmarshal([]byte(doc), &v); err != nil {
			t.Fatal(err)
		}
		if err := in.Validate(v); (err == nil) != valid {
			t.Errorf("validate %s: got %v, want valid=%v", doc, err, valid)
		}
	}
}

func TestRequestExamples(t *testing.T) {
	geo, plot := pointModels()
	doc, d := buildDoc(t, geo, plot, treeModel())
	for model, n := range map[string]int{"geo": 1, "plot": 2, "tree-sum.v2": 1} {
		content := get(t, doc, "paths", "/api/models/"+model+"/predict", "post", "requestBody", "content", "application/json").(map[string]any)
		examples, _ := content["examples"].(map[string]any)
		if len(examples) != n {
			t.Errorf("%s: %d examples, want %d: %v", model, len(examples), n, examples)
		}
		in, err := d.Schema(openapitest.SchemaPointer(model + ".Input"))
		if err != nil {
			t.Fatal(err)
		}
		for name, ex := range examples {
			value := get(t, ex, "value")
			if err := in.Validate(value); err != nil {
				t.Errorf("%s example %s does not satisfy the input schema: %v", model, name, err)
			}
		}
	}
	if got := get(t, doc, "paths", "/api/models/plot/predict", "post", "requestBody", "content", "application/json", "examples", "example_2", "value"); !cmp.Equal(got, map[string]any{"points": []any{map[string]any{"x": 0.0, "y": 0.0}}}) {
		t.Errorf("plot example_2 = %v", got)
	}
	// A model without examples has none.
	doc, _ = buildDoc(t, pairModel())
	if _, ok := get(t, doc, "paths", "/api/models/pair/predict", "post", "requestBody", "content", "application/json").(map[string]any)["examples"]; ok {
		t.Errorf("pair has request examples")
	}
}

func TestOutputExamples(t *testing.T) {
	m := &rawModel{
		info: sdk.Info{QualifiedName: "withoutput", DisplayName: "With output examples", Version: "1.0.0"},
		in:   `{"type":"object"}`,
		out:  `{"type":"object","properties":{"y":{"type":"number"}},"examples":[{"y":1}]}`,
	}
	doc, _ := buildDoc(t, m)
	got := get(t, doc, "paths", "/api/models/withoutput/predict", "post", "responses", "200", "content", "application/json", "examples", "example_1", "value")
	if !cmp.Equal(got, map[string]any{"y": 1.0}) {
		t.Errorf("200 example = %v", got)
	}
}

func TestProblemResponses(t *testing.T) {
	geo, _ := pointModels()
	doc, d := buildDoc(t, geo)
	problemSchema, err := d.Schema(openapitest.SchemaPointer("Problem"))
	if err != nil {
		t.Fatal(err)
	}
	types := map[string]bool{"about:blank": true}
	for _, tp := range []string{
		problem.TypeMalformedJSON, problem.TypeUnsupportedMediaType, problem.TypeBodyTooLarge,
		problem.TypeModelNotFound, problem.TypeInvalidInput, problem.TypeModelFailed,
		problem.TypeModelUnavailable, problem.TypeModelTimeout, problem.TypeRequestCanceled,
		problem.TypeBadPluginResponse, problem.TypeInternalError, problem.TypeRequestTimeout,
		problem.TypeModelBusy, problem.TypeHeadersTooLarge,
	} {
		types[tp] = true
	}
	wantType := map[string]string{
		"400": problem.TypeMalformedJSON,
		"404": problem.TypeModelNotFound,
		"408": problem.TypeRequestTimeout,
		"413": problem.TypeBodyTooLarge,
		"415": problem.TypeUnsupportedMediaType,
		"422": problem.TypeInvalidInput,
		"429": problem.TypeModelBusy,
		"431": problem.TypeHeadersTooLarge,
		"500": problem.TypeModelFailed,
		"502": problem.TypeBadPluginResponse,
		"503": problem.TypeModelUnavailable,
		"504": problem.TypeModelTimeout,
	}
	for _, path := range []string{"/api/models/geo/predict", "/api/models/{qualified_name}/predict"} {
		responses := get(t, doc, "paths", path, "post", "responses").(map[string]any)
		for status, typ := range wantType {
			r, ok := responses[status].(map[string]any)
			if !ok {
				t.Errorf("%s: no %s response", path, status)
				continue
			}
			ref, _ := r["$ref"].(string)
			name, ok := strings.CutPrefix(ref, "#/components/responses/")
			if !ok {
				t.Errorf("%s %s: $ref = %q", path, status, ref)
				continue
			}
			content := get(t, doc, "components", "responses", name, "content").(map[string]any)
			if len(content) != 1 {
				t.Errorf("%s: content types %v, want only %s", name, content, problem.ContentType)
			}
			if got := get(t, content, problem.ContentType, "schema", "$ref"); got != "#/components/schemas/Problem" {
				t.Errorf("%s schema = %v", name, got)
			}
			examples := get(t, content, problem.ContentType, "examples").(map[string]any)
			found := false
			for exName, ex := range examples {
				v := get(t, ex, "value").(map[string]any)
				if got, want := v["status"], status; fmt.Sprint(got) != want {
					t.Errorf("%s example %s: status %v, want %s", name, exName, got, status)
				}
				if !types[v["type"].(string)] {
					t.Errorf("%s example %s: type %v is not a problem type", name, exName, v["type"])
				}
				found = found || v["type"] == typ
				if err := problemSchema.Validate(v); err != nil {
					t.Errorf("%s example %s does not satisfy Problem: %v", name, exName, err)
				}
			}
			if !found {
				t.Errorf("%s (%s): no example of type %s", name, status, typ)
			}
		}
	}
	for _, name := range []string{"ModelUnavailable", "ModelBusy"} {
		if got := get(t, doc, "components", "responses", name, "headers", "Retry-After", "$ref"); got != "#/components/headers/RetryAfter" {
			t.Errorf("%s: Retry-After header %v", name, got)
		}
	}
	if got := get(t, doc, "components", "responses", "InvalidInput", "content", problem.ContentType, "examples", "invalid-input", "value", "errors"); len(got.([]any)) == 0 {
		t.Errorf("invalid-input example has no errors")
	}
	if got, _ := get(t, doc, "components", "responses", "BodyTooLarge", "description").(string); !strings.Contains(got, "4096 bytes") {
		t.Errorf("413 description = %q, want the limit", got)
	}
	if got, _ := get(t, doc, "components", "responses", "HeadersTooLarge", "description").(string); !strings.Contains(got, "65536 bytes") {
		t.Errorf("431 description = %q, want the default limit", got)
	}
	for _, path := range []string{"/api/models/{qualified_name}/metadata"} {
		responses := get(t, doc, "paths", path, "get", "responses").(map[string]any)
		if _, ok := responses["404"]; !ok {
			t.Errorf("%s: no 404", path)
		}
	}
}

func TestOperationIDsAreUnique(t *testing.T) {
	mk := func(name string) sdk.MLModel {
		return &rawModel{info: sdk.Info{QualifiedName: name, DisplayName: name, Version: "1.0.0"}, in: `{"type":"object"}`, out: `{"type":"object"}`}
	}
	doc, _ := buildDoc(t, mk("a.b"), mk("a_b"), mk("a-b"))
	got := map[string]string{}
	for path, item := range doc["paths"].(map[string]any) {
		for _, op := range item.(map[string]any) {
			got[path] = op.(map[string]any)["operationId"].(string)
		}
	}
	want := map[string]string{
		"/api/models":                                "list_models",
		"/api/models/{qualified_name}/metadata":      "get_model_metadata",
		"/api/models/{qualified_name}/predict":       "predict",
		"/api/models/a-b/predict":                    "predict_a_b",
		"/api/models/a.b/predict":                    "predict_a_b_2",
		"/api/models/a_b/predict":                    "predict_a_b_3",
		"/api/models/{qualified_name}/predict/batch": "predict_batch",
		"/api/models/a-b/predict/batch":              "predict_batch_a_b",
		"/api/models/a.b/predict/batch":              "predict_batch_a_b_2",
		"/api/models/a_b/predict/batch":              "predict_batch_a_b_3",

		"/api/models/{qualified_name}/versions/{version}/metadata":      "get_model_version_metadata",
		"/api/models/{qualified_name}/versions/{version}/predict":       "predict_version",
		"/api/models/{qualified_name}/versions/{version}/predict/batch": "predict_batch_version",
		"/api/models/a-b/versions/1.0.0/metadata":                       "get_model_metadata_a_b_v1_0_0",
		"/api/models/a-b/versions/1.0.0/predict":                        "predict_a_b_v1_0_0",
		"/api/models/a-b/versions/1.0.0/predict/batch":                  "predict_batch_a_b_v1_0_0",
		"/api/models/a.b/versions/1.0.0/metadata":                       "get_model_metadata_a_b_v1_0_0_2",
		"/api/models/a.b/versions/1.0.0/predict":                        "predict_a_b_v1_0_0_2",
		"/api/models/a.b/versions/1.0.0/predict/batch":                  "predict_batch_a_b_v1_0_0_2",
		"/api/models/a_b/versions/1.0.0/metadata":                       "get_model_metadata_a_b_v1_0_0_3",
		"/api/models/a_b/versions/1.0.0/predict":                        "predict_a_b_v1_0_0_3",
		"/api/models/a_b/versions/1.0.0/predict/batch":                  "predict_batch_a_b_v1_0_0_3",

		"/healthz":      "get_health",
		"/readyz":       "get_readiness",
		"/metrics":      "get_metrics",
		"/admin/reload": "reload",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("operation ids (-want +got):\n%s", diff)
	}
}

func TestEmptyRegistry(t *testing.T) {
	doc, _ := buildDoc(t)
	if n := len(doc["paths"].(map[string]any)); n != 11 {
		t.Errorf("%d paths, want the 7 generic and the 4 operational ones", n)
	}
	if _, ok := get(t, doc, "components", "parameters", "QualifiedName").(map[string]any)["examples"]; ok {
		t.Errorf("qualified_name has examples without models")
	}
}

func TestDefaultVersion(t *testing.T) {
	b, err := Build(nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if got := get(t, doc, "info", "version"); got != buildVersion() || got == "" {
		t.Errorf("info.version = %v, want %q", got, buildVersion())
	}
}

func TestBuildIsDeterministic(t *testing.T) {
	geo, plot := pointModels()
	list := entries(t, geo, plot, treeModel(), pairModel())
	first, err := Build(list, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		again, err := Build(list, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if string(again) != string(first) {
			t.Fatal("two builds of the same models differ")
		}
	}
}

func TestBuildDoesNotModifyEntries(t *testing.T) {
	geo, _ := pointModels()
	list := entries(t, geo)
	in := string(list[0].InputSchema)
	if _, err := Build(list, Options{}); err != nil {
		t.Fatal(err)
	}
	if string(list[0].InputSchema) != in {
		t.Errorf("the entry's input schema changed")
	}
}

func TestProjectURL(t *testing.T) {
	if !strings.HasPrefix(problem.TypeBase, projectURL+"/") {
		t.Errorf("projectURL %s is not where the problem types are documented (%s)", projectURL, problem.TypeBase)
	}
}

func TestBatchOperations(t *testing.T) {
	geo, plot := pointModels()
	doc, d := buildDocWith(t, Options{Version: "1.2.3", MaxBatchSize: 7}, geo, plot)
	op := get(t, doc, "paths", "/api/models/plot/predict/batch", "post").(map[string]any)
	if op["operationId"] != "predict_batch_plot" {
		t.Errorf("operationId = %v", op["operationId"])
	}
	inputs := get(t, op, "requestBody", "content", "application/json", "schema", "properties", "inputs").(map[string]any)
	if got := get(t, inputs, "items", "$ref"); got != "#/components/schemas/plot.Input" {
		t.Errorf("inputs items = %v", got)
	}
	if inputs["minItems"] != 1.0 || inputs["maxItems"] != 7.0 {
		t.Errorf("inputs minItems, maxItems = %v, %v; want 1, 7", inputs["minItems"], inputs["maxItems"])
	}
	if got := get(t, op, "responses", "413", "$ref"); got != "#/components/responses/BatchTooLarge" {
		t.Errorf("413 = %v", got)
	}
	// The one request example holds every input example, and satisfies
	// the request schema.
	reqSchema, err := d.Schema("/paths/" + openapitest.EscapeToken("/api/models/plot/predict/batch") + "/post/requestBody/content/application~1json/schema")
	if err != nil {
		t.Fatal(err)
	}
	examples := get(t, op, "requestBody", "content", "application/json", "examples").(map[string]any)
	if len(examples) != 1 {
		t.Fatalf("%d examples, want 1", len(examples))
	}
	value := get(t, examples["example_batch"], "value")
	if n := len(get(t, value, "inputs").([]any)); n != 2 {
		t.Errorf("example_batch has %d inputs, want plot's 2", n)
	}
	if err := reqSchema.Validate(value); err != nil {
		t.Errorf("example_batch does not satisfy the request schema: %v", err)
	}
	// Answers of the server's shape satisfy the 200 schema; others do not.
	okSchema, err := d.Schema("/paths/" + openapitest.EscapeToken("/api/models/plot/predict/batch") + "/post/responses/200/content/application~1json/schema")
	if err != nil {
		t.Fatal(err)
	}
	for answer, valid := range map[string]bool{
		`{"outputs":[],"errors":[]}`: true,
		`{"outputs":[null],"errors":[{"index":0,"status":422,"type":"https://example.com/x","title":"Invalid input","detail":"d","errors":[{"pointer":"/points","detail":"is required"}]}]}`: true,
		`{"outputs":[null]}`:                        false,
		`{"outputs":[null],"errors":[{"index":0}]}`: false,
	} {
		var v any
		if err := json.Unmarshal([]byte(answer), &v); err != nil {
			t.Fatal(err)
		}
		if err := okSchema.Validate(v); (err == nil) != valid {
			t.Errorf("validate %s: got %v, want valid=%v", answer, err, valid)
		}
	}
	// The batch-too-large example is the problem the server sends.
	ex := get(t, doc, "components", "responses", "BatchTooLarge", "content", problem.ContentType, "examples", "batch-too-large", "value").(map[string]any)
	if ex["type"] != problem.TypeBatchTooLarge || ex["status"] != 413.0 {
		t.Errorf("batch-too-large example = %v", ex)
	}
}
