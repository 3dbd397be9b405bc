package api

import (
	"encoding/json"
	"unicode/utf8"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// fastCheck reports whether out, a model's output, is certainly a JSON
// document that satisfies schema: it answers what fastParse and fastValid
// answer together (true only if fastParse accepts out and fastValid the
// document it reads), but checks each value as it reads it, without
// building the document. checkOutput then has nothing more to do; on false
// it parses and validates the old way, which finds and describes the
// problem if there is one.
func fastCheck(schema *jsonschema.Schema, out []byte) bool {
	if !utf8.Valid(out) {
		return false
	}
	f := fastSchemaOf(schema)
	p := fastParser{body: out, text: string(out)}
	p.skipSpace()
	if !p.check(f, 0) {
		return false
	}
	p.skipSpace()
	return p.pos == len(out)
}

// fastMaxLinearKeys is how many keys of an object check remembers in a
// slice before it switches to a map, to find duplicates.
const fastMaxLinearKeys = 16

// check reads the value at p.pos, at nesting depth depth, and reports
// whether it certainly satisfies f (nil: any value fastParse accepts).
func (p *fastParser) check(f *fastSchema, depth int) bool {
	if f == nil || f.boolean > 0 {
		_, ok := p.value(depth)
		return ok
	}
	if !f.supported || f.boolean < 0 {
		return false
	}
	for refs := 0; f.ref != nil && f.onlyRef(); refs++ {
		// A reference and annotations, as reflected struct fields are.
		if refs >= fastMaxRefs {
			return false
		}
		f = f.ref
		if !f.supported || f.boolean != 0 {
			return p.check(f, depth)
		}
	}
	if f.ref != nil {
		// Two schemas for one value: read it, then check both.
		v, ok := p.value(depth)
		return ok && f.valid(v, 0)
	}
	if p.pos >= len(p.body) {
		return false
	}
	switch c := p.body[p.pos]; c {
	case '{':
		return depth < maxDepth && f.accepts(fastObject) && f.enumOK() && p.checkObject(f, depth)
	case '[':
		return depth < maxDepth && f.accepts(fastArray) && f.enumOK() && p.checkArray(f, depth)
	case '"':
		s, ok := p.string()
		return ok && f.accepts(fastString) && f.str(s)
	case 't':
		return p.literal("true") && f.accepts(fastBoolean) && f.enumOK()
	case 'f':
		return p.literal("false") && f.accepts(fastBoolean) && f.enumOK()
	case 'n':
		return p.literal("null") && f.accepts(fastNull) && f.enumOK()
	default:
		if c != '-' && (c < '0' || '9' < c) {
			return false
		}
		n, ok := p.numberText()
		return ok && f.number(json.Number(n))
	}
}

func (p *fastParser) checkArray(f *fastSchema, depth int) bool {
	n := 0
	for more := !p.open(']'); more; n++ {
		var item *fastSchema
		switch {
		case n < len(f.prefix):
			item = f.prefix[n]
		case f.items != nil:
			item = f.items
		}
		if !p.check(item, depth+1) {
			return false
		}
		var ok bool
		if more, ok = p.next(']'); !ok {
			return false
		}
	}
	return (f.minItems < 0 || n >= f.minItems) && (f.maxItems < 0 || n <= f.maxItems)
}

func (p *fastParser) checkObject(f *fastSchema, depth int) bool {
	var small [fastMaxLinearKeys]string
	keys := small[:0]
	var many map[string]struct{}
	for more := !p.open('}'); more; {
		key, ok := p.key()
		if !ok {
			return false
		}
		if many != nil {
			if _, dup := many[key]; dup {
				return false
			}
			many[key] = struct{}{}
		} else {
			for _, k := range keys {
				if k == key {
					return false
				}
			}
			if len(keys) == fastMaxLinearKeys {
				many = make(map[string]struct{}, 2*fastMaxLinearKeys)
				for _, k := range keys {
					many[k] = struct{}{}
				}
				many[key] = struct{}{}
			}
		}
		keys = append(keys, key)
		ps, known := f.props[key]
		switch {
		case known:
		case f.addlFalse:
			return false
		case f.addl != nil:
			ps = f.addl
		}
		if !p.check(ps, depth+1) {
			return false
		}
		if more, ok = p.next('}'); !ok {
			return false
		}
	}
	if (f.minProps >= 0 && len(keys) < f.minProps) || (f.maxProps >= 0 && len(keys) > f.maxProps) {
		return false
	}
required:
	for _, name := range f.required {
		if many != nil {
			if _, ok := many[name]; !ok {
				return false
			}
			continue
		}
		for _, k := range keys {
			if k == name {
				continue required
			}
		}
		return false
	}
	return true
}

// onlyRef reports whether f has no keyword of its own besides $ref.
func (f *fastSchema) onlyRef() bool {
	return f.supported && f.boolean == 0 && f.types == 0 && !f.hasEnum && f.props == nil && f.required == nil &&
		!f.addlFalse && f.addl == nil && f.minProps < 0 && f.maxProps < 0 && f.minItems < 0 && f.maxItems < 0 &&
		f.prefix == nil && f.items == nil && !f.hasStrings && f.bounds == nil
}
