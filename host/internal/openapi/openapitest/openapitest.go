// Package openapitest checks OpenAPI 3.1 documents in tests. Validate checks
// a document against the official OpenAPI 3.1 JSON Schemas vendored in
// host/internal/openapi/testdata (see its README.md), and compiles each of
// its components/schemas entries as a JSON Schema (draft 2020-12) with
// references resolved against the whole document, which those official
// schemas do not do.
package openapitest

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// OfficialSchemas are the file names, in testdata, of the official OpenAPI
// 3.1 JSON Schemas that Validate checks documents against.
var OfficialSchemas = []string{
	"oas-3.1-schema-2021-04-15.json",
	"oas-3.1-schema-2026-08-03.json",
}

// TestdataDir returns the directory that holds the official schemas.
func TestdataDir() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		panic("openapitest: cannot locate the package's source")
	}
	return filepath.Join(filepath.Dir(file), "..", "testdata")
}

// docURL is where a document is placed for its references to resolve.
const docURL = "mem:///openapi.json"

// Document is a parsed OpenAPI document whose schemas can be compiled.
type Document struct {
	// Value is the document as jsonschema.UnmarshalJSON decodes it.
	Value    any
	compiler *jsonschema.Compiler
}

// Load parses an OpenAPI document.
func Load(doc []byte) (*Document, error) {
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return nil, fmt.Errorf("parse the document: %w", err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.UseLoader(refuseLoader{})
	if err := c.AddResource(docURL, v); err != nil {
		return nil, err
	}
	return &Document{Value: v, compiler: c}, nil
}

// Schema compiles the schema at the JSON Pointer pointer of the document,
// such as "/components/schemas/iris_model.Output", as a JSON Schema (draft
// 2020-12), resolving its references against the document. Compiling also
// checks the schema against the 2020-12 meta-schema.
func (d *Document) Schema(pointer string) (*jsonschema.Schema, error) {
	return d.compiler.Compile(docURL + "#" + fragment(pointer))
}

// fragment escapes a JSON Pointer for a URI fragment.
func fragment(pointer string) string {
	tokens := strings.Split(pointer, "/")
	for i, t := range tokens {
		tokens[i] = url.PathEscape(t)
	}
	return strings.Join(tokens, "/")
}

// SchemaPointer returns the JSON Pointer of the components/schemas entry
// called name.
func SchemaPointer(name string) string {
	return "/components/schemas/" + EscapeToken(name)
}

// EscapeToken escapes one reference token of a JSON Pointer.
func EscapeToken(t string) string {
	return strings.ReplaceAll(strings.ReplaceAll(t, "~", "~0"), "/", "~1")
}

// Validate checks doc against each of OfficialSchemas, and compiles each
// entry of its components/schemas. It returns every problem it finds.
func Validate(doc []byte) error {
	d, err := Load(doc)
	if err != nil {
		return err
	}
	var errs []error
	for _, name := range OfficialSchemas {
		s, err := compileFile(filepath.Join(TestdataDir(), name))
		if err != nil {
			return fmt.Errorf("official schema %s: %w", name, err)
		}
		if err := s.Validate(d.Value); err != nil {
			errs = append(errs, fmt.Errorf("the document does not satisfy %s: %w", name, err))
		}
	}
	root, _ := d.Value.(map[string]any)
	comps, _ := root["components"].(map[string]any)
	schemas, _ := comps["schemas"].(map[string]any)
	for _, name := range sortedKeys(schemas) {
		if _, err := d.Schema(SchemaPointer(name)); err != nil {
			errs = append(errs, fmt.Errorf("components/schemas/%s: %w", name, err))
		}
	}
	// The schemas of parameters, bodies and headers, and the references
	// between the document's other objects.
	walkObjects(d.Value, nil, func(path []string, key string, v any) {
		p := pointer(append(path, key))
		switch key {
		case "schema":
			if _, err := d.Schema(p); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", p, err))
			}
		case "$ref":
			ref, _ := v.(string)
			target, ok := strings.CutPrefix(ref, "#")
			if !ok || resolve(d.Value, target) == nil {
				errs = append(errs, fmt.Errorf("%s: reference %q does not resolve in the document", p, ref))
			}
		}
	})
	return errors.Join(errs...)
}

// walkObjects calls fn for each member of the document's objects, with the
// path of the object, but does not enter schemas (the compiler checks
// them) or example values (data).
func walkObjects(v any, path []string, fn func(path []string, key string, value any)) {
	switch t := v.(type) {
	case map[string]any:
		for _, k := range sortedKeys(t) {
			fn(path, k, t[k])
			switch {
			case k == "schema", k == "example":
				continue
			case k == "schemas" && len(path) == 1 && path[0] == "components":
				continue
			case k == "value" && len(path) >= 2 && path[len(path)-2] == "examples":
				continue // an Example Object's value: data
			}
			walkObjects(t[k], append(slices.Clip(path), k), fn)
		}
	case []any:
		for i, e := range t {
			walkObjects(e, append(slices.Clip(path), strconv.Itoa(i)), fn)
		}
	}
}

// resolve returns the value at the JSON Pointer (URI fragment) pointer of
// doc, or nil.
func resolve(doc any, fragment string) any {
	p, err := url.PathUnescape(fragment)
	if err != nil {
		return nil
	}
	if p == "" {
		return doc
	}
	if p[0] != '/' {
		return nil
	}
	v := doc
	for _, t := range strings.Split(p[1:], "/") {
		t = strings.ReplaceAll(strings.ReplaceAll(t, "~1", "/"), "~0", "~")
		switch c := v.(type) {
		case map[string]any:
			v = c[t]
		case []any:
			i, err := strconv.Atoi(t)
			if err != nil || i < 0 || i >= len(c) {
				return nil
			}
			v = c[i]
		default:
			return nil
		}
	}
	return v
}

func pointer(tokens []string) string {
	var b strings.Builder
	for _, t := range tokens {
		b.WriteString("/" + EscapeToken(t))
	}
	return b.String()
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func compileFile(path string) (*jsonschema.Schema, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	c.UseLoader(refuseLoader{})
	const u = "mem:///oas-schema.json"
	if err := c.AddResource(u, v); err != nil {
		return nil, err
	}
	return c.Compile(u)
}

// refuseLoader makes every reference outside the document an error: the
// tests run offline, and a document that needs the network is broken.
type refuseLoader struct{}

func (refuseLoader) Load(u string) (any, error) {
	return nil, fmt.Errorf("reference to %s outside the document", u)
}
