package api

import (
	"encoding/json"
	"math/big"
	"reflect"
	"runtime"
	"strconv"
	"sync"
	"unicode/utf8"
	"weak"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// A fast check of documents against a compiled schema, for the common
// case: the document is valid. The validator of jsonschema converts every
// number to a big.Rat (through fmt) for each bound it checks, and allocates
// for every value it visits; most inputs and outputs are valid and need
// none of that.
//
// fastValid answers true only when schema.Validate(doc) is certain to
// return nil: it knows a subset of JSON Schema 2020-12 (the keywords that
// schemas reflected from Go types use) and answers false whenever it meets
// anything else, a value that fails a keyword, or a number whose
// comparison with a bound it cannot settle exactly. The callers then run
// schema.Validate, whose errors are what the clients see: a false answer
// costs the old price, never a different answer.

// fastSchema is a compiled schema node in the form fastValid reads.
type fastSchema struct {
	supported bool
	boolean   int8 // +1: the schema true, -1: the schema false, 0: neither
	ref       *fastSchema
	types     uint8 // of the fast* type bits; 0: any type
	hasEnum   bool
	enumStrs  []string // the enum's string values; others are not matched here

	// object
	props      map[string]*fastSchema
	required   []string
	addlFalse  bool
	addl       *fastSchema
	minProps   int // -1: none
	maxProps   int
	minItems   int
	maxItems   int
	prefix     []*fastSchema
	items      *fastSchema
	minLength  int
	maxLength  int
	pattern    jsonschema.Regexp
	bounds     []fastBound
	hasStrings bool // minLength, maxLength or pattern
}

// fastBound is one of minimum, maximum, exclusiveMinimum, exclusiveMaximum.
type fastBound struct {
	rat   *big.Rat
	f     float64 // rat rounded to the nearest float64
	exact bool    // whether f is rat
	// ok reports whether a number n compared with rat (-1, 0, +1)
	// satisfies the bound.
	ok func(cmp int) bool
}

const (
	fastNull uint8 = 1 << iota
	fastBoolean
	fastNumber
	fastInteger
	fastString
	fastArray
	fastObject
)

// fastSchemas caches the fastSchema of every root schema met, until the
// schema is collected (a reload replaces a model's schemas). It is package
// state of the kind encoding/json keeps for its type encoders: a memo of a
// pure function of an immutable value, which no caller configures and
// whose sharing between servers cannot change an answer.
var fastSchemas sync.Map // weak.Pointer[jsonschema.Schema] → *fastSchema

// fastValid reports whether doc certainly satisfies schema; see above.
func fastValid(schema *jsonschema.Schema, doc any) bool {
	return fastSchemaOf(schema).valid(doc, 0)
}

// fastSchemaOf returns the fastSchema of schema, compiled once.
func fastSchemaOf(schema *jsonschema.Schema) *fastSchema {
	key := weak.Make(schema)
	f, ok := fastSchemas.Load(key)
	if !ok {
		var loaded bool
		f, loaded = fastSchemas.LoadOrStore(key, compileFast(schema, map[*jsonschema.Schema]*fastSchema{}))
		if !loaded {
			runtime.AddCleanup(schema, func(key weak.Pointer[jsonschema.Schema]) { fastSchemas.Delete(key) }, key)
		}
	}
	return f.(*fastSchema)
}

// fastHandled are the fields of jsonschema.Schema that compileFast reads;
// fastIgnored those that cannot change whether a document is valid under
// draft 2020-12 when none of the unsupported keywords is present (the
// evaluation bookkeeping serves unevaluatedProperties and
// unevaluatedItems, the anchors serve references, which are resolved at
// compilation). Any other field must be zero for a schema to be supported,
// so that a keyword this code does not know, including one a later
// version of the library adds, sends the document to the library.
var (
	fastHandled = map[string]bool{
		"Bool": true, "Ref": true, "Types": true, "Enum": true,
		"MaxProperties": true, "MinProperties": true, "Required": true, "Properties": true, "AdditionalProperties": true,
		"MinItems": true, "MaxItems": true, "PrefixItems": true, "Items2020": true,
		"MinLength": true, "MaxLength": true, "Pattern": true,
		"Maximum": true, "Minimum": true, "ExclusiveMaximum": true, "ExclusiveMinimum": true,
	}
	fastIgnored = map[string]bool{
		"up": true, "resource": true, "dynamicAnchors": true,
		"allPropsEvaluated": true, "allItemsEvaluated": true, "numItemsEvaluated": true,
		"DraftVersion": true, "Location": true, "ID": true, "Anchor": true, "DynamicAnchor": true,
		"Title": true, "Description": true, "Default": true, "Comment": true,
		"ReadOnly": true, "WriteOnly": true, "Examples": true, "Deprecated": true,
	}
)

// compileFast returns the fastSchema of s; memo holds those being built,
// for schemas that refer to themselves.
func compileFast(s *jsonschema.Schema, memo map[*jsonschema.Schema]*fastSchema) *fastSchema {
	if f, ok := memo[s]; ok {
		return f
	}
	f := &fastSchema{minProps: -1, maxProps: -1, minItems: -1, maxItems: -1, minLength: -1, maxLength: -1}
	memo[s] = f
	if s == nil || s.DraftVersion != 2020 {
		return f
	}
	rv := reflect.ValueOf(s).Elem()
	rt := rv.Type()
	for i := range rt.NumField() {
		name := rt.Field(i).Name
		if !fastHandled[name] && !fastIgnored[name] && !rv.Field(i).IsZero() {
			return f
		}
	}
	if s.Bool != nil {
		f.boolean = -1
		if *s.Bool {
			f.boolean = 1
		}
		f.supported = true
		return f
	}
	if s.Ref != nil {
		f.ref = compileFast(s.Ref, memo)
	}
	if s.Types != nil {
		for _, t := range s.Types.ToStrings() {
			switch t {
			case "null":
				f.types |= fastNull
			case "boolean":
				f.types |= fastBoolean
			case "number":
				f.types |= fastNumber
			case "integer":
				f.types |= fastInteger
			case "string":
				f.types |= fastString
			case "array":
				f.types |= fastArray
			case "object":
				f.types |= fastObject
			default:
				return f
			}
		}
	}
	if s.Enum != nil {
		f.hasEnum = true
		for _, v := range s.Enum.Values {
			if str, ok := v.(string); ok {
				f.enumStrs = append(f.enumStrs, str)
			}
		}
	}
	intOr := func(p *int) int {
		if p == nil {
			return -1
		}
		return *p
	}
	f.minProps, f.maxProps = intOr(s.MinProperties), intOr(s.MaxProperties)
	f.required = s.Required
	if len(s.Properties) > 0 {
		f.props = make(map[string]*fastSchema, len(s.Properties))
		for name, ps := range s.Properties {
			f.props[name] = compileFast(ps, memo)
		}
	}
	switch a := s.AdditionalProperties.(type) {
	case nil:
	case bool:
		f.addlFalse = !a
	case *jsonschema.Schema:
		f.addl = compileFast(a, memo)
	default:
		return f
	}
	f.minItems, f.maxItems = intOr(s.MinItems), intOr(s.MaxItems)
	for _, ps := range s.PrefixItems {
		f.prefix = append(f.prefix, compileFast(ps, memo))
	}
	if s.Items2020 != nil {
		f.items = compileFast(s.Items2020, memo)
	}
	f.minLength, f.maxLength, f.pattern = intOr(s.MinLength), intOr(s.MaxLength), s.Pattern
	f.hasStrings = f.minLength >= 0 || f.maxLength >= 0 || f.pattern != nil
	for _, b := range []struct {
		rat *big.Rat
		ok  func(int) bool
	}{
		{s.Minimum, func(c int) bool { return c >= 0 }},
		{s.Maximum, func(c int) bool { return c <= 0 }},
		{s.ExclusiveMinimum, func(c int) bool { return c > 0 }},
		{s.ExclusiveMaximum, func(c int) bool { return c < 0 }},
	} {
		if b.rat != nil {
			bf, exact := b.rat.Float64()
			f.bounds = append(f.bounds, fastBound{rat: b.rat, f: bf, exact: exact, ok: b.ok})
		}
	}
	f.supported = true
	return f
}

// fastMaxRefs bounds the references followed without moving into the
// document, which only a schema that refers to itself in a loop exceeds
// (the library reports that as an error).
const fastMaxRefs = 32

// valid reports whether v certainly satisfies f; refs counts the
// references followed at v so far.
func (f *fastSchema) valid(v any, refs int) bool {
	if !f.supported {
		return false
	}
	if f.boolean != 0 {
		return f.boolean > 0
	}
	if f.ref != nil && (refs >= fastMaxRefs || !f.ref.valid(v, refs+1)) {
		return false
	}
	switch v := v.(type) {
	case nil:
		return f.accepts(fastNull) && f.enumOK()
	case bool:
		return f.accepts(fastBoolean) && f.enumOK()
	case string:
		return f.accepts(fastString) && f.str(v)
	case json.Number:
		return f.number(v)
	case []any:
		return f.accepts(fastArray) && f.enumOK() && f.array(v)
	case map[string]any:
		return f.accepts(fastObject) && f.enumOK() && f.object(v)
	}
	return false // a Go type that the library handles its own way
}

func (f *fastSchema) accepts(t uint8) bool { return f.types == 0 || f.types&t != 0 }

// enumOK is the enum check of a value that is not a string: this code
// compares only strings.
func (f *fastSchema) enumOK() bool { return !f.hasEnum }

func (f *fastSchema) str(s string) bool {
	if f.hasEnum {
		found := false
		for _, e := range f.enumStrs {
			if e == s {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	if !f.hasStrings {
		return true
	}
	if f.minLength >= 0 || f.maxLength >= 0 {
		n := utf8.RuneCountInString(s)
		if (f.minLength >= 0 && n < f.minLength) || (f.maxLength >= 0 && n > f.maxLength) {
			return false
		}
	}
	return f.pattern == nil || f.pattern.MatchString(s)
}

func (f *fastSchema) number(n json.Number) bool {
	if f.hasEnum {
		return false
	}
	if f.types != 0 && f.types&fastNumber == 0 {
		// Only "integer" can match: an integer literal certainly is
		// one; "1.0" or "1e2" are left to the library.
		if f.types&fastInteger == 0 || !isIntegerLiteral(string(n)) {
			return false
		}
	}
	if len(f.bounds) == 0 {
		return true
	}
	x, err := strconv.ParseFloat(string(n), 64)
	if err != nil {
		return false
	}
	for i := range f.bounds {
		if !f.bounds[i].ok(compareNumber(string(n), x, &f.bounds[i])) {
			return false
		}
	}
	return true
}

// compareNumber compares the JSON number n, x once rounded to a float64,
// with the bound b. Rounding to the nearest float64 never reverses an
// order: if x < b.f then n < b.rat, and if x > b.f then n > b.rat. When
// they round to the same float64, they are equal if neither was rounded;
// otherwise it compares exactly.
func compareNumber(n string, x float64, b *fastBound) int {
	switch {
	case x < b.f:
		return -1
	case x > b.f:
		return 1
	case b.exact && isSmallInteger(n):
		return 0
	}
	r, ok := new(big.Rat).SetString(n)
	if !ok {
		return 0 // not reached for JSON numbers; 0 fails exclusive bounds only, and the library decides
	}
	return r.Cmp(b.rat)
}

// isSmallInteger reports whether the JSON number n is an integer of at
// most 15 digits written without an exponent, its fraction if any all
// zeros ("-12", "1.0"): a number that a float64 holds exactly.
func isSmallInteger(n string) bool {
	if len(n) > 0 && n[0] == '-' {
		n = n[1:]
	}
	digits := 0
	for i := 0; i < len(n); i++ {
		switch c := n[i]; {
		case c == '.':
			for _, f := range []byte(n[i+1:]) {
				if f != '0' {
					return false
				}
			}
			return digits > 0 && digits <= 15
		case '0' <= c && c <= '9':
			digits++
		default:
			return false
		}
	}
	return digits > 0 && digits <= 15
}

// isIntegerLiteral reports whether the JSON number n is written without a
// fraction or an exponent.
func isIntegerLiteral(n string) bool {
	for i := 0; i < len(n); i++ {
		if c := n[i]; c == '.' || c == 'e' || c == 'E' {
			return false
		}
	}
	return true
}

func (f *fastSchema) array(arr []any) bool {
	if (f.minItems >= 0 && len(arr) < f.minItems) || (f.maxItems >= 0 && len(arr) > f.maxItems) {
		return false
	}
	n := min(len(f.prefix), len(arr))
	for i := range n {
		if !f.prefix[i].valid(arr[i], 0) {
			return false
		}
	}
	if f.items != nil {
		for _, item := range arr[n:] {
			if !f.items.valid(item, 0) {
				return false
			}
		}
	}
	return true
}

func (f *fastSchema) object(obj map[string]any) bool {
	if (f.minProps >= 0 && len(obj) < f.minProps) || (f.maxProps >= 0 && len(obj) > f.maxProps) {
		return false
	}
	for _, name := range f.required {
		if _, ok := obj[name]; !ok {
			return false
		}
	}
	for name, v := range obj {
		ps, ok := f.props[name]
		switch {
		case ok:
		case f.addlFalse:
			return false
		case f.addl != nil:
			ps = f.addl
		default:
			continue
		}
		if !ps.valid(v, 0) {
			return false
		}
	}
	return true
}
