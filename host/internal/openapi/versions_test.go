package openapi

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/modelhost/modelhost/host/internal/api"
	"github.com/modelhost/modelhost/host/internal/openapi/openapitest"
	"github.com/modelhost/modelhost/host/internal/problem"
	"github.com/modelhost/modelhost/host/internal/registry"
	"github.com/modelhost/modelhost/sdk"
)

// greeterModel is the model greeter at version: 1.x takes a name, later
// versions a name and a language, declared as a named type Options in
// version 3.x.
func greeterModel(version string) sdk.MLModel {
	info := sdk.Info{QualifiedName: "greeter", DisplayName: "Greeter", Description: "Greets.", Version: version}
	type out struct {
		Greeting string `json:"greeting"`
		Version  string `json:"version"`
	}
	switch {
	case strings.HasPrefix(version, "1."):
		type in struct {
			Name string `json:"name" jsonschema:"minLength=1"`
		}
		return sdk.NewModel(info, func(_ context.Context, i in) (out, error) {
			return out{Greeting: "Hello, " + i.Name, Version: version}, nil
		}, sdk.WithExamples(in{Name: "Ada"}))
	case strings.HasPrefix(version, "3."):
		type Options struct {
			Language string `json:"language" jsonschema:"enum=en,enum=fr"`
		}
		type in struct {
			Name    string  `json:"name" jsonschema:"minLength=1"`
			Options Options `json:"options"`
		}
		return sdk.NewModel(info, func(_ context.Context, i in) (out, error) {
			return out{Greeting: "Hi, " + i.Name, Version: version}, nil
		}, sdk.WithExamples(in{Name: "Ada", Options: Options{Language: "fr"}}))
	default:
		type in struct {
			Name     string `json:"name" jsonschema:"minLength=1"`
			Language string `json:"language" jsonschema:"enum=en,enum=fr"`
		}
		return sdk.NewModel(info, func(_ context.Context, i in) (out, error) {
			return out{Greeting: "Bonjour, " + i.Name, Version: version}, nil
		}, sdk.WithExamples(in{Name: "Ada", Language: "fr"}, in{Name: "Alan", Language: "en"}))
	}
}

// versionsRegistry serves geo at one version and greeter at 1.0.0 and
// 2.0.0, with pins as the registry's pinned versions.
func versionsRegistry(t *testing.T, pins map[string]string, models ...sdk.MLModel) *registry.Registry {
	t.Helper()
	reg := registry.New()
	for _, m := range models {
		add(t, reg, m)
	}
	reg.SetPins(pins)
	return reg
}

// buildRegistryDoc builds and checks the document of reg, as Register
// does.
func buildRegistryDoc(t *testing.T, reg *registry.Registry, opts Options) (map[string]any, *openapitest.Document) {
	t.Helper()
	opts.IsDefault = reg.IsDefault
	b, err := Build(reg.List(), opts)
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

// ref returns the $ref of the request or 200 response body of the
// operation at path (method post).
func bodyRef(t *testing.T, doc map[string]any, path, which string) any {
	t.Helper()
	op := get(t, doc, "paths", path, "post")
	if which == "request" {
		return get(t, op, "requestBody", "content", "application/json", "schema", "$ref")
	}
	return get(t, op, "responses", "200", "content", "application/json", "schema", "$ref")
}

func TestVersionedOperations(t *testing.T) {
	geo, _ := pointModels()
	reg := versionsRegistry(t, nil, geo, greeterModel("1.0.0"), greeterModel("2.0.0"))
	doc, d := buildRegistryDoc(t, reg, Options{Version: "1"})

	// One tag per name, one unversioned predict and batch operation per
	// name, for the default version: 2.0.0, the highest.
	var tags []string
	for _, tg := range doc["tags"].([]any) {
		tags = append(tags, tg.(map[string]any)["name"].(string))
	}
	if diff := cmp.Diff([]string{"models", "geo", "greeter", "operations"}, tags); diff != "" {
		t.Errorf("tags (-want +got):\n%s", diff)
	}
	wantRefs := map[string]string{
		"/api/models/greeter/predict":                             "greeter.Input",
		"/api/models/greeter/versions/2.0.0/predict":              "greeter.Input",
		"/api/models/greeter/versions/1.0.0/predict":              "greeter.v1.0.0.Input",
		"/api/models/greeter/predict/batch":                       "", // items, below
		"/api/models/greeter/versions/1.0.0/predict/batch":        "",
		"/api/models/geo/predict":                                 "geo.Input",
		"/api/models/geo/versions/1.0.0/predict":                  "geo.Input",
		"/api/models/{qualified_name}/versions/{version}/predict": "",
	}
	for path, want := range wantRefs {
		if want == "" {
			continue
		}
		if got := bodyRef(t, doc, path, "request"); got != componentsPrefix+want {
			t.Errorf("%s: request schema %v, want %s", path, got, want)
		}
		if got, wantOut := bodyRef(t, doc, path, "response"), componentsPrefix+strings.TrimSuffix(want, "Input")+"Output"; got != wantOut {
			t.Errorf("%s: response schema %v, want %s", path, got, wantOut)
		}
	}
	if got := get(t, doc, "paths", "/api/models/greeter/versions/1.0.0/predict/batch", "post", "requestBody", "content",
		"application/json", "schema", "properties", "inputs", "items", "$ref"); got != componentsPrefix+"greeter.v1.0.0.Input" {
		t.Errorf("1.0.0 batch items = %v", got)
	}

	// Each version's schema is its own: 1.0.0 takes a name only.
	v1, err := d.Schema(openapitest.SchemaPointer("greeter.v1.0.0.Input"))
	if err != nil {
		t.Fatal(err)
	}
	v2, err := d.Schema(openapitest.SchemaPointer("greeter.Input"))
	if err != nil {
		t.Fatal(err)
	}
	both := map[string]any{"name": "Ada", "language": "fr"}
	if v1.Validate(both) == nil {
		t.Error("1.0.0's input schema accepts 2.0.0's language")
	}
	if err := v2.Validate(both); err != nil {
		t.Errorf("2.0.0's input schema refuses a name and a language: %v", err)
	}

	// Operation ids, summaries, descriptions, examples.
	op := get(t, doc, "paths", "/api/models/greeter/versions/1.0.0/predict", "post").(map[string]any)
	if op["operationId"] != "predict_greeter_v1_0_0" || op["summary"] != "Greeter 1.0.0" {
		t.Errorf("1.0.0 predict: operationId %v, summary %v", op["operationId"], op["summary"])
	}
	if desc := op["description"].(string); !strings.Contains(desc, "Model version 1.0.0, whether or not it is the default") {
		t.Errorf("1.0.0 predict description = %q", desc)
	}
	if desc := get(t, doc, "paths", "/api/models/greeter/predict", "post", "description").(string); !strings.Contains(desc, "Model version 2.0.0, the default version of greeter") {
		t.Errorf("unversioned predict description = %q", desc)
	}
	if diff := cmp.Diff([]any{"greeter"}, op["tags"]); diff != "" {
		t.Errorf("1.0.0 predict tags (-want +got):\n%s", diff)
	}
	for path, n := range map[string]int{
		"/api/models/greeter/predict":                2,
		"/api/models/greeter/versions/2.0.0/predict": 2,
		"/api/models/greeter/versions/1.0.0/predict": 1,
	} {
		examples := get(t, doc, "paths", path, "post", "requestBody", "content", "application/json", "examples").(map[string]any)
		if len(examples) != n {
			t.Errorf("%s: %d examples, want %d", path, len(examples), n)
		}
	}
	ids := map[string]string{}
	for path, item := range doc["paths"].(map[string]any) {
		for _, o := range item.(map[string]any) {
			ids[path] = o.(map[string]any)["operationId"].(string)
		}
	}
	for path, want := range map[string]string{
		"/api/models/greeter/predict":                      "predict_greeter",
		"/api/models/greeter/predict/batch":                "predict_batch_greeter",
		"/api/models/greeter/versions/2.0.0/predict":       "predict_greeter_v2_0_0",
		"/api/models/greeter/versions/2.0.0/predict/batch": "predict_batch_greeter_v2_0_0",
		"/api/models/greeter/versions/2.0.0/metadata":      "get_model_metadata_greeter_v2_0_0",
		"/api/models/greeter/versions/1.0.0/predict":       "predict_greeter_v1_0_0",
		"/api/models/greeter/versions/1.0.0/predict/batch": "predict_batch_greeter_v1_0_0",
		"/api/models/greeter/versions/1.0.0/metadata":      "get_model_metadata_greeter_v1_0_0",
	} {
		if ids[path] != want {
			t.Errorf("%s: operationId %q, want %q", path, ids[path], want)
		}
	}
	// A version is not a model: no unversioned path per version.
	if _, ok := doc["paths"].(map[string]any)["/api/models/greeter.v1.0.0/predict"]; ok {
		t.Error("a version has an unversioned path")
	}

	// The 404 of a versioned operation is the version's.
	for _, path := range []string{"/api/models/greeter/versions/1.0.0/predict", "/api/models/{qualified_name}/versions/{version}/predict"} {
		if got := get(t, doc, "paths", path, "post", "responses", "404", "$ref"); got != "#/components/responses/ModelVersionNotFound" {
			t.Errorf("%s 404 = %v", path, got)
		}
	}
	if got := get(t, doc, "paths", "/api/models/greeter/predict", "post", "responses", "404", "$ref"); got != "#/components/responses/ModelNotFound" {
		t.Errorf("unversioned 404 = %v", got)
	}

	// The metadata of a version is a ModelMetadata of that version.
	meta, err := d.Schema("/paths/" + openapitest.EscapeToken("/api/models/greeter/versions/1.0.0/metadata") + "/get/responses/200/content/application~1json/schema")
	if err != nil {
		t.Fatal(err)
	}
	answer := func(version string) map[string]any {
		return map[string]any{"qualified_name": "greeter", "display_name": "Greeter", "description": "Greets.", "version": version,
			"status": "ready", "restarts": json.Number("0"), "default": false, "input_schema": map[string]any{}, "output_schema": true}
	}
	if err := meta.Validate(answer("1.0.0")); err != nil {
		t.Errorf("the metadata of 1.0.0 does not satisfy its schema: %v", err)
	}
	if meta.Validate(answer("2.0.0")) == nil {
		t.Error("the metadata of 2.0.0 satisfies the schema of 1.0.0's")
	}

	// The version parameter has the served versions as examples.
	if got := get(t, doc, "components", "parameters", "Version", "examples", "greeter_1.0.0", "value"); got != "1.0.0" {
		t.Errorf("version parameter example = %v", got)
	}
	if got := get(t, doc, "components", "parameters", "QualifiedName", "examples"); len(got.(map[string]any)) != 2 {
		t.Errorf("qualified_name examples = %v, want one per name", got)
	}
	// GET /api/models states the default mark.
	if got := get(t, doc, "components", "schemas", "ModelSummary", "properties", "default", "type"); got != "boolean" {
		t.Errorf("ModelSummary default = %v", got)
	}
	if req := get(t, doc, "components", "schemas", "ModelSummary", "required").([]any); !slices.Contains(req, any("default")) {
		t.Errorf("ModelSummary required = %v, want default", req)
	}
}

// TestPinnedDefaultVersion checks that the unversioned operations follow
// the registry's default version, pinned or not, and that components keep
// their names when another version is added.
func TestPinnedDefaultVersion(t *testing.T) {
	reg := versionsRegistry(t, map[string]string{"greeter": "1.0.0"}, greeterModel("1.0.0"), greeterModel("2.0.0"))
	doc, _ := buildRegistryDoc(t, reg, Options{Version: "1"})
	for path, want := range map[string]string{
		"/api/models/greeter/predict":                "greeter.Input",
		"/api/models/greeter/versions/1.0.0/predict": "greeter.Input",
		"/api/models/greeter/versions/2.0.0/predict": "greeter.v2.0.0.Input",
	} {
		if got := bodyRef(t, doc, path, "request"); got != componentsPrefix+want {
			t.Errorf("with 1.0.0 pinned, %s: request schema %v, want %s", path, got, want)
		}
	}
	if got := get(t, doc, "paths", "/api/models/greeter/predict", "post", "operationId"); got != "predict_greeter" {
		t.Errorf("operationId = %v", got)
	}

	// Without Options.IsDefault, the highest version is the default.
	b, err := Build(reg.List(), Options{Version: "1"})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(`"$ref": "#/components/schemas/greeter.v1.0.0.Input"`)) {
		t.Error("without IsDefault, 1.0.0 is not a non-default version")
	}

	// Adding versions with $defs of their own renames nothing of the
	// default version's: its components are taken first.
	one, _ := buildRegistryDoc(t, versionsRegistry(t, nil, greeterModel("2.0.0")), Options{Version: "1"})
	three, _ := buildRegistryDoc(t, versionsRegistry(t, map[string]string{"greeter": "2.0.0"},
		greeterModel("1.0.0"), greeterModel("2.0.0"), greeterModel("3.0.0")), Options{Version: "1"})
	names := schemaNames(three)
	for _, n := range schemaNames(one) {
		if !slices.Contains(names, n) {
			t.Errorf("component %s of 2.0.0 alone is gone once 1.0.0 and 3.0.0 are served too", n)
		}
	}
	for _, n := range []string{"greeter.v3.0.0.Input", "greeter.v3.0.0.Options", "greeter.v1.0.0.Input", "greeter.v1.0.0.Output"} {
		if !slices.Contains(names, n) {
			t.Errorf("no component %s in %v", n, names)
		}
	}
	if got := get(t, three, "components", "schemas", "greeter.v3.0.0.Input", "properties", "options", "$ref"); got != componentsPrefix+"greeter.v3.0.0.Options" {
		t.Errorf("3.0.0 options $ref = %v", got)
	}
}

// TestEveryExampleSatisfiesItsSchema checks every example of every request
// and response body, models', problems' and operational ones alike,
// against the schema beside it.
func TestEveryExampleSatisfiesItsSchema(t *testing.T) {
	geo, plot := pointModels()
	for _, auth := range []bool{false, true} {
		reg := versionsRegistry(t, nil, geo, plot, treeModel(), greeterModel("1.0.0"), greeterModel("2.0.0"))
		doc, d := buildRegistryDoc(t, reg, Options{Version: "1", AuthEnabled: auth})
		checked := map[string]int{}
		walkTokens(doc, nil, func(tokens []string, o map[string]any) {
			// A Media Type Object: content/<media type>.
			if len(tokens) < 2 || tokens[len(tokens)-2] != "content" {
				return
			}
			examples, _ := o["examples"].(map[string]any)
			if len(examples) == 0 {
				return
			}
			var escaped []string
			for _, tok := range tokens {
				escaped = append(escaped, openapitest.EscapeToken(tok))
			}
			pointer := "/" + strings.Join(escaped, "/") + "/schema"
			schema, err := d.Schema(pointer)
			if err != nil {
				t.Fatalf("%s: %v", pointer, err)
			}
			for name, ex := range examples {
				if err := schema.Validate(toJSONSchemaValue(t, get(t, ex, "value"))); err != nil {
					t.Errorf("auth %v: %s example %s does not satisfy its schema: %v", auth, pointer, name, err)
				}
				checked[tokens[0]]++
			}
		})
		if checked["paths"] < 20 || checked["components"] < 15 {
			t.Errorf("auth %v: examples checked %v, want every one", auth, checked)
		}
	}
}

// walkTokens calls fn for every object inside v, with the reference tokens
// that lead to it.
func walkTokens(v any, tokens []string, fn func(tokens []string, o map[string]any)) {
	switch t := v.(type) {
	case map[string]any:
		fn(tokens, t)
		for k, e := range t {
			walkTokens(e, append(slices.Clone(tokens), k), fn)
		}
	case []any:
		for i, e := range t {
			walkTokens(e, append(slices.Clone(tokens), strconv.Itoa(i)), fn)
		}
	}
}

// toJSONSchemaValue converts v, decoded by encoding/json, to what
// jsonschema validates (numbers as json.Number).
func toJSONSchemaValue(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	out, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestExamplesAreAnswered serves two versions of a model with the API and
// sends every example request of every operation, versioned or not: each
// is answered 200 by the version the path names, with a body that
// satisfies the operation's response schema. Every metadata path of a
// version answers that version's metadata.
func TestExamplesAreAnswered(t *testing.T) {
	geo, plot := pointModels()
	reg := versionsRegistry(t, nil, geo, plot, greeterModel("1.0.0"), greeterModel("2.0.0"))
	e := api.New(reg, api.Options{})
	Register(e, reg, Options{Version: "9.9.9"})
	rec := do(e, http.MethodGet, DocumentPath)
	if rec.Code != http.StatusOK {
		t.Fatalf("GET %s: %d", DocumentPath, rec.Code)
	}
	d, err := openapitest.Load(rec.Body.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	sent := map[string]int{}
	for path, item := range doc["paths"].(map[string]any) {
		if strings.Contains(path, "{") || !strings.HasPrefix(path, "/api/") {
			continue
		}
		for method, o := range item.(map[string]any) {
			op := o.(map[string]any)
			id := op["operationId"].(string)
			okSchema, err := d.Schema("/paths/" + openapitest.EscapeToken(path) + "/" + method + "/responses/200/content/application~1json/schema")
			if err != nil {
				t.Fatalf("%s: %v", id, err)
			}
			var bodies [][]byte
			if method == "get" {
				bodies = [][]byte{nil}
			} else {
				examples, _ := get(t, op, "requestBody", "content", "application/json").(map[string]any)["examples"].(map[string]any)
				for _, ex := range examples {
					b, err := json.Marshal(get(t, ex, "value"))
					if err != nil {
						t.Fatal(err)
					}
					bodies = append(bodies, b)
				}
			}
			for _, body := range bodies {
				req := httptest.NewRequest(strings.ToUpper(method), path, bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				rec := httptest.NewRecorder()
				e.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					t.Errorf("%s: %s %s %s: %d %s", id, method, path, body, rec.Code, rec.Body)
					continue
				}
				answer, err := jsonschema.UnmarshalJSON(bytes.NewReader(rec.Body.Bytes()))
				if err != nil {
					t.Fatal(err)
				}
				if err := okSchema.Validate(answer); err != nil {
					t.Errorf("%s: the answer %s does not satisfy the 200 schema: %v", id, rec.Body, err)
				}
				// The version in the path answered.
				if _, version, ok := strings.Cut(path, "/versions/"); ok && strings.HasPrefix(path, "/api/models/greeter/") {
					version, _, _ = strings.Cut(version, "/")
					if !strings.Contains(rec.Body.String(), `"`+version+`"`) {
						t.Errorf("%s: the answer %s is not from version %s", id, rec.Body, version)
					}
				}
				sent[id]++
			}
		}
	}
	want := map[string]int{
		"predict_geo": 1, "predict_batch_geo": 1, "predict_plot": 2, "predict_batch_plot": 1,
		"predict_greeter": 2, "predict_batch_greeter": 1,
		"predict_geo_v1_0_0": 1, "predict_batch_geo_v1_0_0": 1, "get_model_metadata_geo_v1_0_0": 1,
		"predict_plot_v2_1_0": 2, "predict_batch_plot_v2_1_0": 1, "get_model_metadata_plot_v2_1_0": 1,
		"predict_greeter_v1_0_0": 1, "predict_batch_greeter_v1_0_0": 1, "get_model_metadata_greeter_v1_0_0": 1,
		"predict_greeter_v2_0_0": 2, "predict_batch_greeter_v2_0_0": 1, "get_model_metadata_greeter_v2_0_0": 1,
		"list_models": 1,
	}
	if diff := cmp.Diff(want, sent); diff != "" {
		t.Errorf("requests answered per operation (-want +got):\n%s", diff)
	}

	// The server's answer for a version it does not serve is the
	// document's example.
	req := httptest.NewRequest(http.MethodPost, "/api/models/greeter/versions/"+exampleMissingVersion+"/predict", strings.NewReader(`{}`))
	req.Header.Set("Content-Type", "application/json")
	rec = httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	var got problem.Details
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	// The document's example is of its first model, geo.
	wantEx := problem.ModelVersionNotFound("greeter", exampleMissingVersion, []string{"2.0.0", "1.0.0"})
	if got.Type != wantEx.Type || got.Title != wantEx.Title || got.Status != wantEx.Status || got.Detail != wantEx.Detail {
		t.Errorf("missing version: %+v, want %+v", got, wantEx)
	}
	ex := get(t, doc, "components", "responses", "ModelVersionNotFound", "content", problem.ContentType, "examples", "model-version-not-found", "value").(map[string]any)
	if ex["type"] != problem.TypeModelVersionNotFound || ex["detail"] != problem.ModelVersionNotFound("geo", exampleMissingVersion, []string{"1.0.0"}).Detail {
		t.Errorf("model-version-not-found example = %v", ex)
	}
}

// TestDocumentFollowsDefaultVersion checks that /openapi.json is built
// again when a pin changes the default version, the set of models being
// the same.
func TestDocumentFollowsDefaultVersion(t *testing.T) {
	reg := versionsRegistry(t, nil, greeterModel("1.0.0"), greeterModel("2.0.0"))
	e := api.New(reg, api.Options{})
	Register(e, reg, Options{Version: "1"})
	ref := func() any {
		rec := do(e, http.MethodGet, DocumentPath)
		var doc map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
			t.Fatal(err)
		}
		return bodyRef(t, doc, "/api/models/greeter/versions/1.0.0/predict", "request")
	}
	if got := ref(); got != componentsPrefix+"greeter.v1.0.0.Input" {
		t.Errorf("before the pin: %v", got)
	}
	reg.SetPins(map[string]string{"greeter": "1.0.0"})
	if got := ref(); got != componentsPrefix+"greeter.Input" {
		t.Errorf("after pinning 1.0.0: %v, want greeter.Input", got)
	}
}
