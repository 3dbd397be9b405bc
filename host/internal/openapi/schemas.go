package openapi

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// A model publishes two JSON Schemas (draft 2020-12), each a document of
// its own whose named subschemas sit under "$defs" and are referred to as
// "#/$defs/Name". In the OpenAPI document every schema is an entry of
// components/schemas, so each model schema is split up: the schema itself
// becomes "<qualified name>.Input" or "<qualified name>.Output", each of its
// definitions "<qualified name>.<definition name>", and every reference is
// rewritten to point at the new place. "$schema" and "$id" are dropped from
// the moved schemas: OpenAPI 3.1's default dialect is JSON Schema 2020-12,
// and the document, not the schema, is now the resource that references are
// resolved against.

// componentsPrefix is where components/schemas entries are referenced.
const componentsPrefix = "#/components/schemas/"

// defsKeywords are the keywords whose members are moved to components, in
// the order they are processed. "definitions" is the pre-2019 spelling, which
// models not built with the SDK may use.
var defsKeywords = []string{"$defs", "definitions"}

// componentNames hands out the names of components/schemas entries: names
// that match OpenAPI's ^[a-zA-Z0-9.\-_]+$ and that are given out once.
type componentNames struct {
	used map[string]bool
}

func newComponentNames() *componentNames {
	return &componentNames{used: map[string]bool{}}
}

// reserve marks name as used.
func (n *componentNames) reserve(name string) { n.used[name] = true }

// take returns want made safe and unique: unsafe characters become "_", and
// a name already given out gets a suffix "_2", "_3", ...
func (n *componentNames) take(want string) string {
	name := safeComponentName(want)
	for i, base := 2, name; n.used[name]; i++ {
		name = base + "_" + strconv.Itoa(i)
	}
	n.used[name] = true
	return name
}

// safeComponentName replaces every character that OpenAPI does not allow in
// a component name with "_".
func safeComponentName(name string) string {
	if name == "" {
		return "_"
	}
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-', r == '_':
			return r
		}
		return '_'
	}, name)
}

// namedSchema is one entry of components/schemas.
type namedSchema struct {
	name   string
	schema any
}

// modelSchemas is what one model contributes to components/schemas.
type modelSchemas struct {
	// input and output name the components of the model's input and output
	// schemas.
	input, output string
	// schemas lists the components in order: the input schema, its
	// definitions, the output schema, and its definitions not shared with
	// the input.
	schemas []namedSchema
	// inputExamples are the "examples" of the input schema.
	inputExamples []any
	// outputExamples are the "examples" of the output schema.
	outputExamples []any
}

// convertModelSchemas splits the input and output schemas of the model
// called qualifiedName into components. The names of the input and output
// components, inputName and outputName, must already be reserved in names.
// A definition of the output schema that the input schema has too, with the
// same content and the same definitions reachable from it, becomes one
// component.
func convertModelSchemas(qualifiedName, inputName, outputName string, input, output json.RawMessage, names *componentNames) (*modelSchemas, error) {
	inDoc, err := parseJSON(input)
	if err != nil {
		return nil, fmt.Errorf("input schema: %w", err)
	}
	outDoc, err := parseJSON(output)
	if err != nil {
		return nil, fmt.Errorf("output schema: %w", err)
	}
	in := newSchemaDoc(inDoc, inputName)
	out := newSchemaDoc(outDoc, outputName)
	for _, d := range in.defs {
		in.names[d.key()] = names.take(qualifiedName + "." + d.name)
	}
	for _, d := range out.defs {
		if sharedDef(in, out, d.key()) {
			out.names[d.key()] = in.names[d.key()]
			out.shared[d.key()] = true
			continue
		}
		out.names[d.key()] = names.take(qualifiedName + "." + d.name)
	}
	ms := &modelSchemas{
		input:          inputName,
		output:         outputName,
		inputExamples:  rootExamples(inDoc),
		outputExamples: rootExamples(outDoc),
	}
	ms.schemas = append(ms.schemas, in.components()...)
	ms.schemas = append(ms.schemas, out.components()...)
	return ms, nil
}

// rootExamples returns the "examples" of a schema, if it has any.
func rootExamples(schema any) []any {
	o, ok := schema.(*object)
	if !ok {
		return nil
	}
	ex, _ := o.get("examples")
	a, _ := ex.([]any)
	return a
}

// definition is one member of a root "$defs" (or "definitions").
type definition struct {
	keyword string // "$defs" or "definitions"
	name    string
	schema  any
}

func (d definition) key() string { return d.keyword + "/" + d.name }

// schemaDoc is one model schema on its way to components.
type schemaDoc struct {
	root     any
	rootName string
	// rootID is the root's "$id", if any: references that start with it
	// point into the document.
	rootID string
	// defs are the root's definitions, sorted by keyword and name.
	defs []definition
	// names maps a definition's key to its component name.
	names map[string]string
	// shared marks the definitions that another document already
	// contributes as components.
	shared map[string]bool
}

func newSchemaDoc(root any, rootName string) *schemaDoc {
	d := &schemaDoc{root: root, rootName: rootName, names: map[string]string{}, shared: map[string]bool{}}
	o, ok := root.(*object)
	if !ok {
		return d // a boolean schema
	}
	if id, ok := o.get("$id"); ok {
		d.rootID, _ = id.(string)
	}
	for _, kw := range defsKeywords {
		v, _ := o.get(kw)
		defs, ok := v.(*object)
		if !ok {
			continue
		}
		start := len(d.defs)
		for _, m := range defs.members {
			d.defs = append(d.defs, definition{keyword: kw, name: m.key, schema: m.value})
		}
		slices.SortFunc(d.defs[start:], func(a, b definition) int { return strings.Compare(a.name, b.name) })
	}
	return d
}

// def returns the definition with the key.
func (d *schemaDoc) def(key string) (definition, bool) {
	for _, def := range d.defs {
		if def.key() == key {
			return def, true
		}
	}
	return definition{}, false
}

// components rewrites the document's references and returns its
// components: the root, then each definition not shared.
func (d *schemaDoc) components() []namedSchema {
	root := deepCopy(d.root)
	anchors := d.anchors(root)
	walkSchemas(root, nil, func(o *object, _ []string) {
		if ref, ok := o.get("$ref"); ok {
			if s, ok := ref.(string); ok {
				o.set("$ref", d.rewriteRef(s, anchors))
			}
		}
		if _, ok := o.get("$anchor"); ok {
			o.remove("$anchor") // references to it now use its pointer
		}
	})
	out := []namedSchema{{name: d.rootName, schema: root}}
	ro, ok := root.(*object)
	if !ok {
		return out
	}
	for _, def := range d.defs {
		if d.shared[def.key()] {
			continue
		}
		v, _ := ro.get(def.keyword)
		schema, _ := v.(*object).get(def.name)
		if so, ok := schema.(*object); ok {
			if _, own := so.get("$id"); !own {
				so.remove("$schema")
			}
		}
		out = append(out, namedSchema{name: d.names[def.key()], schema: schema})
	}
	ro.remove("$schema")
	ro.remove("$id")
	for _, kw := range defsKeywords {
		if v, _ := ro.get(kw); v != nil {
			if _, moved := v.(*object); moved {
				ro.remove(kw)
			}
		}
	}
	return out
}

// anchors maps each "$anchor" of the document (outside embedded resources)
// to the reference that now reaches its schema.
func (d *schemaDoc) anchors(root any) map[string]string {
	anchors := map[string]string{}
	walkSchemas(root, nil, func(o *object, path []string) {
		a, ok := o.get("$anchor")
		if name, isString := a.(string); ok && isString {
			anchors[name] = d.rewritePointer(pointerFragment(path))
		}
	})
	return anchors
}

// rewriteRef returns the reference that replaces ref in components.
// References that do not point into the document are returned unchanged.
func (d *schemaDoc) rewriteRef(ref string, anchors map[string]string) string {
	if d.rootID != "" {
		if rest, ok := strings.CutPrefix(ref, d.rootID); ok && (rest == "" || rest[0] == '#') {
			ref = rest
		}
	}
	if ref == "" {
		ref = "#"
	}
	frag, ok := strings.CutPrefix(ref, "#")
	if !ok {
		return ref // another document
	}
	if frag == "" || frag[0] == '/' {
		return d.rewritePointer(frag)
	}
	if name, err := url.PathUnescape(frag); err == nil {
		if r, ok := anchors[name]; ok {
			return r
		}
	}
	return ref
}

// rewritePointer returns the reference to what the JSON Pointer fragment
// frag (as written in a URI fragment, without "#") reached in the model
// schema.
func (d *schemaDoc) rewritePointer(frag string) string {
	tokens := strings.Split(frag, "/")[1:] // frag starts with "/" or is ""
	if len(tokens) >= 2 {
		kw, name := unescapeToken(tokens[0]), unescapeToken(tokens[1])
		if c, ok := d.names[kw+"/"+name]; ok {
			return componentsPrefix + c + joinTokens(tokens[2:])
		}
	}
	return componentsPrefix + d.rootName + frag
}

// joinTokens writes tokens (as they are) as a JSON Pointer.
func joinTokens(tokens []string) string {
	if len(tokens) == 0 {
		return ""
	}
	return "/" + strings.Join(tokens, "/")
}

// unescapeToken decodes one reference token of a JSON Pointer written in a
// URI fragment: percent-encoding first, then "~1" and "~0".
func unescapeToken(t string) string {
	if u, err := url.PathUnescape(t); err == nil {
		t = u
	}
	return strings.ReplaceAll(strings.ReplaceAll(t, "~1", "/"), "~0", "~")
}

// pointerFragment writes path as a JSON Pointer for a URI fragment.
func pointerFragment(path []string) string {
	var b strings.Builder
	for _, t := range path {
		b.WriteByte('/')
		t = strings.ReplaceAll(strings.ReplaceAll(t, "~", "~0"), "/", "~1")
		b.WriteString(url.PathEscape(t))
	}
	return b.String()
}

// sharedDef reports whether the definition key of out can be the component
// of the same definition of in: both have it, and it and every definition
// it reaches are equal in both and refer to nothing but definitions.
func sharedDef(in, out *schemaDoc, key string) bool {
	seen := map[string]bool{}
	var check func(key string) bool
	check = func(key string) bool {
		if seen[key] {
			return true
		}
		seen[key] = true
		a, okA := in.def(key)
		b, okB := out.def(key)
		if !okA || !okB || canonical(a.schema) != canonical(b.schema) {
			return false
		}
		ok := true
		walkSchemas(b.schema, nil, func(o *object, _ []string) {
			if !ok {
				return
			}
			if _, has := o.get("$anchor"); has {
				ok = false
				return
			}
			ref, has := o.get("$ref")
			if !has {
				return
			}
			s, _ := ref.(string)
			target, isDef := defKey(s)
			if !isDef {
				ok = false
				return
			}
			ok = check(target)
		})
		return ok
	}
	return check(key)
}

// defKey returns the definition key of a reference "#/$defs/Name" or
// "#/definitions/Name" (possibly followed by more of a pointer).
func defKey(ref string) (string, bool) {
	frag, ok := strings.CutPrefix(ref, "#/")
	if !ok {
		return "", false
	}
	tokens := strings.Split(frag, "/")
	if len(tokens) < 2 {
		return "", false
	}
	kw := unescapeToken(tokens[0])
	if !slices.Contains(defsKeywords, kw) {
		return "", false
	}
	return kw + "/" + unescapeToken(tokens[1]), true
}

// Keywords whose values are subschemas, by shape, for draft 2020-12 and
// the older keywords that models may still use.
var (
	schemaKeywords = []string{
		"additionalProperties", "unevaluatedProperties", "items", "additionalItems",
		"unevaluatedItems", "contains", "propertyNames", "not", "if", "then", "else",
		"contentSchema",
	}
	schemaMapKeywords   = []string{"properties", "patternProperties", "dependentSchemas", "$defs", "definitions", "dependencies"}
	schemaArrayKeywords = []string{"allOf", "anyOf", "oneOf", "prefixItems", "items"}
)

// walkSchemas calls visit for schema and each of its subschemas that are
// objects, with their JSON Pointer tokens relative to schema (path is the
// pointer of schema itself). It reaches subschemas only through keywords
// that hold schemas, so values of "examples", "enum", "const" or "default"
// are never visited, and it does not enter an embedded resource (a
// subschema with its own "$id"), whose references are relative to itself.
func walkSchemas(schema any, path []string, visit func(o *object, path []string)) {
	o, ok := schema.(*object)
	if !ok {
		return
	}
	visit(o, path)
	sub := func(v any, tokens ...string) {
		p := append(slices.Clip(path), tokens...)
		if so, ok := v.(*object); ok {
			if _, own := so.get("$id"); own {
				return
			}
		}
		walkSchemas(v, p, visit)
	}
	for _, kw := range schemaKeywords {
		if v, ok := o.get(kw); ok {
			if _, isArray := v.([]any); !isArray {
				sub(v, kw)
			}
		}
	}
	for _, kw := range schemaMapKeywords {
		if v, ok := o.get(kw); ok {
			if m, ok := v.(*object); ok {
				for _, mem := range m.members {
					sub(mem.value, kw, mem.key) // "dependencies" arrays are skipped by walkSchemas
				}
			}
		}
	}
	for _, kw := range schemaArrayKeywords {
		if v, ok := o.get(kw); ok {
			if a, ok := v.([]any); ok {
				for i, e := range a {
					sub(e, kw, strconv.Itoa(i))
				}
			}
		}
	}
}
