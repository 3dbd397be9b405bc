package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/modelhost/modelhost/host/internal/orderedjson"
)

// maxFieldDepth bounds how deeply nested fields are listed; deeper ones are
// left to the raw JSON Schema.
const maxFieldDepth = 8

// maxRefHops bounds a chain of $refs that point at $refs.
const maxRefHops = 32

// maxShown is the longest example or default shown in a table cell, in
// characters.
const maxShown = 80

// Field is one row of a schema's table of fields.
type Field struct {
	// Name is the property name; for the whole document it is empty, for
	// the items of an array "[each item]", for an alternative "option N".
	Name string
	// Path locates the field for people, such as "documents[].text".
	Path string
	// Depth is the nesting level, 0 for top-level properties.
	Depth int
	// Title is the schema's title, if any.
	Title string
	// Type describes the accepted type, such as "number" or "array of
	// objects".
	Type string
	// Required is set for a property its object requires.
	Required bool
	// Enum lists the allowed values, formatted.
	Enum []string
	// Constraints are the other limits in words, such as "at most 12".
	Constraints []string
	// Default is the default value, formatted; "" if none.
	Default string
	// Example is the first example, formatted; "" if none.
	Example string
	// Description is the schema's description.
	Description string
	// Note explains the rows below it, or why they are not shown.
	Note string
	// Nested is set when rows for the fields inside this one follow it.
	Nested bool
}

// SchemaView is a JSON Schema prepared for people.
type SchemaView struct {
	// Fields lists the fields in schema order, nested fields after their
	// parent with a greater Depth. For an object schema the rows are its
	// properties; for another schema the first row is the whole document.
	Fields []Field
	// Open is set when an object schema allows properties it does not
	// list.
	Open bool
	// Raw is the schema as published, indented.
	Raw string
	// Examples are the schema's top-level examples, each indented.
	Examples []string
	// Err says why the schema could not be read; the other fields are
	// then empty except Raw.
	Err string
}

// NewSchemaView describes raw, a JSON Schema. It resolves local $refs
// ("#/$defs/X", any "#/..." pointer), listing a recursive reference once
// with a note instead of expanding it again.
func NewSchemaView(raw json.RawMessage) SchemaView {
	var v SchemaView
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, raw, "", "  "); err == nil {
		v.Raw = pretty.String()
	} else {
		v.Raw = string(raw)
	}
	root, err := decodeOrdered(raw)
	if err != nil {
		v.Err = "the schema is not valid JSON: " + err.Error()
		return v
	}
	var top struct {
		Examples []json.RawMessage `json:"examples"`
	}
	if json.Unmarshal(raw, &top) == nil {
		for _, ex := range top.Examples {
			var b bytes.Buffer
			if json.Indent(&b, ex, "", "  ") == nil {
				v.Examples = append(v.Examples, b.String())
			}
		}
	}
	w := &walker{root: root}
	s, ok := root.(*object)
	if !ok {
		w.field(Field{Name: "", Path: "(the whole input)"}, root, 0)
		v.Fields = w.rows
		return v
	}
	s, done := w.deref(s)
	defer done()
	props, hasProps := s.get("properties").(*object)
	if typeName(s) != "object" || !hasProps || s.has("anyOf") || s.has("oneOf") {
		w.field(Field{Name: "", Path: "(the whole input)"}, s, 0)
		v.Fields = w.rows
		return v
	}
	w.properties(s, props, "", 0)
	w.additional(s, "", 0)
	v.Fields = w.rows
	v.Open = s.get("additionalProperties") != false
	return v
}

// walker collects the rows of one schema.
type walker struct {
	root  any
	rows  []Field
	stack []string // the $refs being expanded, outermost first
}

// properties adds a row for each property of the object schema s.
func (w *walker) properties(s, props *object, path string, depth int) {
	required := stringList(s.get("required"))
	for _, name := range props.keys {
		p := name
		if path != "" {
			p = path + "." + name
		}
		w.field(Field{Name: name, Path: p, Required: slices.Contains(required, name)}, props.m[name], depth)
	}
}

// additional adds a row for the schema of properties that s does not list,
// when it gives one.
func (w *walker) additional(s *object, path string, depth int) {
	if ap, ok := s.get("additionalProperties").(*object); ok {
		p := "*"
		if path != "" {
			p = path + ".*"
		}
		w.field(Field{Name: "[any other name]", Path: p}, ap, depth)
	}
}

// field adds the row f for schema and the rows of what it contains.
func (w *walker) field(f Field, schema any, depth int) {
	f.Depth = depth
	switch schema {
	case true:
		f.Type = "any value"
		w.rows = append(w.rows, f)
		return
	case false:
		f.Type = "not allowed"
		w.rows = append(w.rows, f)
		return
	}
	s, ok := schema.(*object)
	if !ok {
		f.Type = "any value"
		f.Note = "The schema of this field is not an object."
		w.rows = append(w.rows, f)
		return
	}
	if ref, recursive := w.recursiveRef(s); recursive {
		f.Type = "object"
		if name := refName(ref); name != "" {
			f.Type = name + " (object)"
		}
		f.Description = str(s.get("description"))
		f.Note = "The same structure as " + sameAs(ref) + ": it nests recursively."
		w.rows = append(w.rows, f)
		return
	}
	ref, _ := s.get("$ref").(string)
	s, done := w.deref(s)
	defer done()

	f.Title = str(s.get("title"))
	f.Description = str(s.get("description"))
	f.Type = typeName(s)
	if name := refName(ref); name != "" && f.Type == "object" {
		f.Type = name + " (object)"
	}
	f.Enum = enumValues(s)
	f.Constraints = constraints(s)
	if s.has("default") {
		f.Default = shown(s.get("default"))
	}
	if ex, ok := s.get("examples").([]any); ok && len(ex) > 0 {
		f.Example = shown(ex[0])
	} else if s.has("example") {
		f.Example = shown(s.get("example"))
	}

	row := len(w.rows)
	w.rows = append(w.rows, f)
	defer func() { w.rows[row].Nested = len(w.rows) > row+1 }()
	if depth >= maxFieldDepth {
		if hasChildren(s) {
			w.rows[row].Note = "Nested deeper than this page shows: see the JSON Schema."
		}
		return
	}

	// Composition: alternatives other than "T or null" get a row each.
	for _, kw := range []string{"oneOf", "anyOf"} {
		alts, _ := s.get(kw).([]any)
		alts = withoutNull(alts)
		if len(alts) < 2 {
			continue
		}
		w.rows[row].Note = fmt.Sprintf("One of %d alternatives:", len(alts))
		if kw == "anyOf" {
			w.rows[row].Note = fmt.Sprintf("At least one of %d alternatives:", len(alts))
		}
		for i, alt := range alts {
			w.field(Field{Name: fmt.Sprintf("option %d", i+1), Path: f.Path}, alt, depth+1)
		}
	}
	if len(withoutNull(anyList(s.get("oneOf")))) == 1 || len(withoutNull(anyList(s.get("anyOf")))) == 1 {
		// "T or null" written as a composition: describe T's contents.
		alt := withoutNull(anyList(s.get("oneOf")))
		if len(alt) == 0 {
			alt = withoutNull(anyList(s.get("anyOf")))
		}
		if inner, ok := alt[0].(*object); ok {
			inner, innerDone := w.deref(inner)
			defer innerDone()
			w.children(row, inner, f.Path, depth)
			return
		}
	}
	w.children(row, s, f.Path, depth)
}

// children adds the rows inside s, an object's properties or an array's
// items, below the row at index row.
func (w *walker) children(row int, s *object, path string, depth int) {
	if props, ok := s.get("properties").(*object); ok && len(props.keys) > 0 {
		w.properties(s, props, path, depth+1)
		w.additional(s, path, depth+1)
		return
	}
	w.additional(s, path, depth+1)
	items, ok := s.get("items").(*object)
	if !ok {
		return
	}
	itemPath := path + "[]"
	if ref, recursive := w.recursiveRef(items); recursive {
		w.rows[row].Note = "Each item has the same structure as " + sameAs(ref) + "."
		return
	}
	items, done := w.deref(items)
	defer done()
	if props, ok := items.get("properties").(*object); ok && len(props.keys) > 0 {
		w.rows[row].Note = "Each item has these fields:"
		w.properties(items, props, itemPath, depth+1)
		w.additional(items, itemPath, depth+1)
		return
	}
	if hasChildren(items) {
		w.field(Field{Name: "[each item]", Path: itemPath}, items, depth+1)
		return
	}
	// Items of a simple type: their limits belong to the array's row.
	for _, c := range constraints(items) {
		w.rows[row].Constraints = append(w.rows[row].Constraints, "each item "+c)
	}
	if enum := enumValues(items); len(enum) > 0 {
		w.rows[row].Enum = enum
		w.rows[row].Constraints = append(w.rows[row].Constraints, "each item one of the values listed")
	}
}

// recursiveRef reports whether s is a $ref to a schema that is being
// expanded already, and the reference.
func (w *walker) recursiveRef(s *object) (string, bool) {
	ref, ok := s.get("$ref").(string)
	return ref, ok && slices.Contains(w.stack, ref)
}

// deref resolves s's local $ref, if any, merging the keywords beside the
// $ref over those of the target (a "description" next to a $ref wins). It
// pushes the references followed onto the stack; done pops them. A
// reference it cannot resolve is left in place.
func (w *walker) deref(s *object) (resolved *object, done func()) {
	n := len(w.stack)
	done = func() { w.stack = w.stack[:n] }
	for range maxRefHops {
		ref, ok := s.get("$ref").(string)
		if !ok || slices.Contains(w.stack, ref) {
			return s, done
		}
		target, ok := resolvePointer(w.root, ref).(*object)
		if !ok {
			return s, done
		}
		w.stack = append(w.stack, ref)
		merged := &object{m: map[string]any{}}
		for _, k := range target.keys {
			merged.set(k, target.m[k])
		}
		for _, k := range s.keys {
			if k != "$ref" {
				merged.set(k, s.m[k])
			}
		}
		if _, still := target.m["$ref"]; still {
			merged.set("$ref", target.m["$ref"])
		} else {
			delete(merged.m, "$ref")
			merged.keys = slices.DeleteFunc(merged.keys, func(k string) bool { return k == "$ref" })
		}
		s = merged
	}
	return s, done
}

// resolvePointer returns the value that ref, a URI fragment holding a JSON
// Pointer such as "#/$defs/Document", names in root, or nil.
func resolvePointer(root any, ref string) any {
	frag, ok := strings.CutPrefix(ref, "#")
	if !ok {
		return nil
	}
	if unescaped, err := url.PathUnescape(frag); err == nil {
		frag = unescaped
	}
	if frag == "" {
		return root
	}
	if !strings.HasPrefix(frag, "/") {
		return nil // an anchor, not a pointer
	}
	cur := root
	for _, tok := range strings.Split(frag[1:], "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		switch v := cur.(type) {
		case *object:
			if !v.has(tok) {
				return nil
			}
			cur = v.m[tok]
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(v) {
				return nil
			}
			cur = v[i]
		default:
			return nil
		}
	}
	return cur
}

// refName is the last segment of a reference, such as "Document" for
// "#/$defs/Document"; "" for the whole document ("#").
func refName(ref string) string {
	name := ref[strings.LastIndexByte(ref, '/')+1:]
	if strings.HasPrefix(name, "#") {
		return ""
	}
	return name
}

// sameAs says that a field repeats the structure of the reference ref.
func sameAs(ref string) string {
	if name := refName(ref); name != "" {
		return "the enclosing " + name + " field above"
	}
	return "the whole document"
}

// hasChildren reports whether s has rows of its own below it.
func hasChildren(s *object) bool {
	if props, ok := s.get("properties").(*object); ok && len(props.keys) > 0 {
		return true
	}
	if _, ok := s.get("additionalProperties").(*object); ok {
		return true
	}
	if _, ok := s.get("items").(*object); ok {
		return true
	}
	return len(withoutNull(anyList(s.get("oneOf")))) > 1 || len(withoutNull(anyList(s.get("anyOf")))) > 1
}

// typeName describes the type s accepts.
func typeName(s *object) string {
	var types []string
	switch t := s.get("type").(type) {
	case string:
		types = []string{t}
	case []any:
		for _, x := range t {
			if name, ok := x.(string); ok {
				types = append(types, name)
			}
		}
	}
	if len(types) == 0 {
		switch {
		case s.has("properties"):
			types = []string{"object"}
		case s.has("items"):
			types = []string{"array"}
		case s.has("const"):
			types = []string{jsonType(s.get("const"))}
		case s.has("enum"):
			for _, v := range anyList(s.get("enum")) {
				if t := jsonType(v); !slices.Contains(types, t) {
					types = append(types, t)
				}
			}
		}
	}
	for _, kw := range []string{"oneOf", "anyOf"} {
		for _, alt := range anyList(s.get(kw)) {
			if o, ok := alt.(*object); ok {
				if ref, ok := o.get("$ref").(string); ok && !o.has("type") {
					types = appendUnique(types, refName(ref)+" (object)")
					continue
				}
				if t := typeName(o); t != "any value" {
					types = appendUnique(types, t)
				}
			}
		}
	}
	if len(types) == 0 {
		return "any value"
	}
	// null last: "string or null".
	if i := slices.Index(types, "null"); i >= 0 && len(types) > 1 {
		types = append(slices.Delete(types, i, i+1), "null")
	}
	for i, t := range types {
		if t == "array" {
			types[i] = arrayType(s)
		}
	}
	return strings.Join(types, " or ")
}

// arrayType describes an array schema by its items, such as "array of
// numbers".
func arrayType(s *object) string {
	items, ok := s.get("items").(*object)
	if !ok {
		return "array"
	}
	if ref, ok := items.get("$ref").(string); ok {
		return "array of " + refName(ref) + " objects"
	}
	t := typeName(items)
	if t == "any value" || strings.Contains(t, " ") {
		return "array"
	}
	plural := map[string]string{
		"string": "strings", "number": "numbers", "integer": "integers",
		"boolean": "booleans", "object": "objects", "null": "nulls",
	}
	if p, ok := plural[t]; ok {
		return "array of " + p
	}
	return "array"
}

func appendUnique(list []string, s string) []string {
	if slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}

// jsonType is the JSON Schema type name of a decoded value.
func jsonType(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case json.Number:
		if _, err := v.Int64(); err == nil {
			return "integer"
		}
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	default:
		return "object"
	}
}

// enumValues formats the values of s's enum.
func enumValues(s *object) []string {
	var out []string
	for _, v := range anyList(s.get("enum")) {
		out = append(out, shown(v))
	}
	return out
}

// constraints describes s's limits in words, in a fixed order.
func constraints(s *object) []string {
	var out []string
	add := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	num := func(kw string) (string, bool) {
		n, ok := s.get(kw).(json.Number)
		return string(n), ok
	}
	count := func(kw string) (int, bool) {
		n, ok := s.get(kw).(json.Number)
		if !ok {
			return 0, false
		}
		i, err := n.Int64()
		return int(i), err == nil
	}

	if c := s.get("const"); s.has("const") {
		add("always %s", shown(c))
	}
	if v, ok := num("exclusiveMinimum"); ok {
		add("more than %s", v)
	} else if v, ok := num("minimum"); ok {
		add("at least %s", v)
	}
	if v, ok := num("exclusiveMaximum"); ok {
		add("less than %s", v)
	} else if v, ok := num("maximum"); ok {
		add("at most %s", v)
	}
	if v, ok := num("multipleOf"); ok {
		add("a multiple of %s", v)
	}

	if r := rangeText(count, "minLength", "maxLength", "character"); r != "" {
		add("%s", r)
	}
	if p := str(s.get("pattern")); p != "" {
		add("matches the pattern %s", p)
	}
	if f := str(s.get("format")); f != "" {
		add("format %s", f)
	}
	if r := rangeText(count, "minItems", "maxItems", "item"); r != "" {
		add("%s", r)
	}
	if s.get("uniqueItems") == true {
		add("no duplicate items")
	}
	if r := rangeText(count, "minProperties", "maxProperties", "property"); r != "" {
		add("%s", r)
	}
	return out
}

// rangeText describes a pair of counting keywords, such as "1 to 100
// items" or "at most 200 characters".
func rangeText(count func(string) (int, bool), minKW, maxKW, unit string) string {
	lo, hasLo := count(minKW)
	hi, hasHi := count(maxKW)
	plural := func(n int) string {
		if n == 1 {
			return unit
		}
		if strings.HasSuffix(unit, "y") {
			return strings.TrimSuffix(unit, "y") + "ies"
		}
		return unit + "s"
	}
	switch {
	case hasLo && hasHi && lo == hi:
		return fmt.Sprintf("exactly %d %s", lo, plural(lo))
	case hasLo && hasHi:
		return fmt.Sprintf("%d to %d %s", lo, hi, plural(hi))
	case hasLo && lo > 0:
		return fmt.Sprintf("at least %d %s", lo, plural(lo))
	case hasHi:
		return fmt.Sprintf("at most %d %s", hi, plural(hi))
	}
	return ""
}

// shown formats a value for a table cell: strings as they are, anything
// else as compact JSON, cut to maxShown characters.
func shown(v any) string {
	var s string
	if str, ok := v.(string); ok {
		s = str
	} else {
		b, err := json.Marshal(toPlain(v))
		if err != nil {
			return "?"
		}
		s = string(b)
	}
	if utf8.RuneCountInString(s) > maxShown {
		r := []rune(s)
		s = string(r[:maxShown-1]) + "…"
	}
	return s
}

// toPlain converts decoded ordered values back to values json.Marshal
// writes in their original order.
func toPlain(v any) any {
	switch v := v.(type) {
	case *object:
		return v
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = toPlain(x)
		}
		return out
	default:
		return v
	}
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func anyList(v any) []any {
	l, _ := v.([]any)
	return l
}

func stringList(v any) []string {
	var out []string
	for _, x := range anyList(v) {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// withoutNull drops the alternatives that only allow null.
func withoutNull(alts []any) []any {
	var out []any
	for _, a := range alts {
		if o, ok := a.(*object); ok && o.get("type") == "null" && len(o.keys) == 1 {
			continue
		}
		out = append(out, a)
	}
	return out
}

// object is a decoded JSON object that keeps its keys in document order.
type object struct {
	keys []string
	m    map[string]any
}

func (o *object) get(k string) any {
	if o == nil {
		return nil
	}
	return o.m[k]
}

func (o *object) has(k string) bool {
	if o == nil {
		return false
	}
	_, ok := o.m[k]
	return ok
}

func (o *object) set(k string, v any) {
	if _, ok := o.m[k]; !ok {
		o.keys = append(o.keys, k)
	}
	o.m[k] = v
}

// MarshalJSON writes the object with its keys in order.
func (o *object) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range o.keys {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, err := json.Marshal(k)
		if err != nil {
			return nil, err
		}
		vb, err := json.Marshal(toPlain(o.m[k]))
		if err != nil {
			return nil, err
		}
		b.Write(kb)
		b.WriteByte(':')
		b.Write(vb)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// decodeOrdered decodes one JSON document: objects become *object,
// numbers json.Number.
func decodeOrdered(data []byte) (any, error) {
	return orderedjson.Decode(data, func() *object { return &object{m: map[string]any{}} })
}

// Set implements orderedjson.Object.
func (o *object) Set(k string, v any) { o.set(k, v) }
