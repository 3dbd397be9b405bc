package api

import (
	"encoding/json"
	"unicode/utf16"
	"unicode/utf8"
)

// fastParse is parseJSON's path for documents with nothing to report: it
// reads body in one pass, without encoding/json's token API (which
// allocates for every token and makes parseJSON build a JSON pointer for
// every value). It answers ok = false as soon as it meets anything that
// parseJSON would refuse, or that it does not handle itself, and parseJSON
// then parses body the old way, which finds and describes the problem: the
// errors, their wording and positions stay those of docParser.
//
// body must be valid UTF-8 (parseJSON checks that first). The document it
// returns is the one docParser builds: objects as map[string]any, arrays
// as []any (never nil), numbers as json.Number, strings, booleans and nil.
// Strings and numbers share the memory of one copy of body.
//
// If inputs is not nil and the document is an object, the raw text of each
// element of its member "inputs", if that is an array, is appended to
// *inputs: the raw inputs of a batch, found in the same pass.
func fastParse(body []byte, inputs *[]json.RawMessage) (doc any, ok bool) {
	p := fastParser{body: body, text: string(body), inputs: inputs}
	p.skipSpace()
	doc, ok = p.value(0)
	if !ok {
		return nil, false
	}
	p.skipSpace()
	if p.pos != len(body) {
		return nil, false
	}
	return doc, true
}

type fastParser struct {
	body   []byte
	text   string // body, as a string that the document's strings slice
	pos    int
	inputs *[]json.RawMessage
}

func (p *fastParser) skipSpace() {
	for p.pos < len(p.body) {
		switch p.body[p.pos] {
		case ' ', '\t', '\r', '\n':
			p.pos++
		default:
			return
		}
	}
}

// value reads the value at p.pos, at nesting depth depth, and the
// whitespace after it.
func (p *fastParser) value(depth int) (any, bool) {
	if p.pos >= len(p.body) {
		return nil, false
	}
	switch c := p.body[p.pos]; c {
	case '{':
		if depth >= maxDepth {
			return nil, false
		}
		return p.object(depth)
	case '[':
		if depth >= maxDepth {
			return nil, false
		}
		return p.array(depth, nil)
	case '"':
		s, ok := p.string()
		if !ok {
			return nil, false
		}
		return s, true
	case 't':
		return true, p.literal("true")
	case 'f':
		return false, p.literal("false")
	case 'n':
		return nil, p.literal("null")
	default:
		if c == '-' || ('0' <= c && c <= '9') {
			return p.number()
		}
		return nil, false
	}
}

func (p *fastParser) literal(lit string) bool {
	if len(p.text)-p.pos < len(lit) || p.text[p.pos:p.pos+len(lit)] != lit {
		return false
	}
	p.pos += len(lit)
	return true
}

// number reads a number of the JSON grammar that checkNumber accepts.
func (p *fastParser) number() (any, bool) {
	n, ok := p.numberText()
	if !ok {
		return nil, false
	}
	return json.Number(n), true
}

// numberText is number, as text.
func (p *fastParser) numberText() (string, bool) {
	b, start := p.body, p.pos
	i := start
	if b[i] == '-' {
		i++
	}
	digits := func() int {
		j := i
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
		return i - j
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case digits() == 0:
		return "", false
	}
	plain := true // no exponent
	if i < len(b) && b[i] == '.' {
		i++
		if digits() == 0 {
			return "", false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		plain = false
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if digits() == 0 {
			return "", false
		}
	}
	n := p.text[start:i]
	// Up to 15 characters without an exponent always lie well within
	// the range of a float64, and are not too close to zero unless 0.
	if !plain || len(n) > 15 {
		if checkNumber(n) != "" {
			return "", false
		}
	}
	p.pos = i
	return n, true
}

// string reads a string; it refuses control characters and lone
// surrogates, and leaves invalid escapes to the slow path.
func (p *fastParser) string() (string, bool) {
	b := p.body
	i := p.pos + 1
	start := i
	for {
		if i >= len(b) {
			return "", false
		}
		c := b[i]
		if c == '"' {
			p.pos = i + 1
			return p.text[start:i], true
		}
		if c == '\\' {
			break
		}
		if c < 0x20 {
			return "", false
		}
		i++
	}
	// Escapes: decode into a new buffer.
	buf := make([]byte, i-start, i-start+16)
	copy(buf, b[start:i])
	for {
		if i >= len(b) {
			return "", false
		}
		c := b[i]
		switch {
		case c == '"':
			p.pos = i + 1
			return string(buf), true
		case c < 0x20:
			return "", false
		case c != '\\':
			buf = append(buf, c)
			i++
			continue
		}
		if i+1 >= len(b) {
			return "", false
		}
		switch b[i+1] {
		case '"', '\\', '/':
			buf = append(buf, b[i+1])
		case 'b':
			buf = append(buf, '\b')
		case 'f':
			buf = append(buf, '\f')
		case 'n':
			buf = append(buf, '\n')
		case 'r':
			buf = append(buf, '\r')
		case 't':
			buf = append(buf, '\t')
		case 'u':
			r, ok := fastHex4(b, i+2)
			if !ok {
				return "", false
			}
			if utf16.IsSurrogate(r) {
				// Only a high surrogate followed by an escaped low one.
				if r >= 0xDC00 || i+12 > len(b) || b[i+6] != '\\' || b[i+7] != 'u' {
					return "", false
				}
				lo, ok := fastHex4(b, i+8)
				if !ok || lo < 0xDC00 || lo > 0xDFFF {
					return "", false
				}
				r = utf16.DecodeRune(r, lo)
				i += 6
			}
			buf = utf8.AppendRune(buf, r)
			i += 6
			continue
		default:
			return "", false
		}
		i += 2
	}
}

// fastHex4 decodes the four hexadecimal digits at b[i:].
func fastHex4(b []byte, i int) (rune, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[i : i+4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// array reads an array at depth. If raw is not nil, it also sets *raw to
// the text of each element, slices of the body (the inputs of a batch).
func (p *fastParser) array(depth int, raw *[]json.RawMessage) (any, bool) {
	arr := []any{}
	var texts []json.RawMessage
	if raw != nil {
		texts = (*raw)[:0]
	}
	for more := !p.open(']'); more; {
		start := p.pos
		v, ok := p.value(depth + 1)
		if !ok {
			return nil, false
		}
		arr = append(arr, v)
		if raw != nil {
			texts = append(texts, p.body[start:p.pos:p.pos])
		}
		if more, ok = p.next(']'); !ok {
			return nil, false
		}
	}
	if raw != nil {
		*raw = texts
	}
	return arr, true
}

func (p *fastParser) object(depth int) (any, bool) {
	obj := map[string]any{}
	for more := !p.open('}'); more; {
		key, ok := p.key()
		if !ok {
			return nil, false
		}
		if _, dup := obj[key]; dup {
			return nil, false
		}
		var v any
		if depth == 0 && key == "inputs" && p.inputs != nil && p.pos < len(p.body) && p.body[p.pos] == '[' {
			v, ok = p.array(1, p.inputs)
		} else {
			v, ok = p.value(depth + 1)
		}
		if !ok {
			return nil, false
		}
		obj[key] = v
		if more, ok = p.next('}'); !ok {
			return nil, false
		}
	}
	return obj, true
}

// open steps over the '[' or '{' the parser stands on and the space after
// it, and reports whether end, the closing byte, follows at once (an empty
// array or object), stepping over it too.
func (p *fastParser) open(end byte) (empty bool) {
	p.pos++
	p.skipSpace()
	if p.pos < len(p.body) && p.body[p.pos] == end {
		p.pos++
		return true
	}
	return false
}

// next reads what follows a member of an array or object that end closes:
// a ',' and the space after it (more is true: the parser stands on the next
// member), or end (consumed). ok is false for anything else.
func (p *fastParser) next(end byte) (more, ok bool) {
	p.skipSpace()
	if p.pos >= len(p.body) {
		return false, false
	}
	switch p.body[p.pos] {
	case ',':
		p.pos++
		p.skipSpace()
		return true, true
	case end:
		p.pos++
		return false, true
	}
	return false, false
}

// key reads an object member's name and the ':' after it, with the space
// around it.
func (p *fastParser) key() (string, bool) {
	if p.pos >= len(p.body) || p.body[p.pos] != '"' {
		return "", false
	}
	key, ok := p.string()
	if !ok {
		return "", false
	}
	p.skipSpace()
	if p.pos >= len(p.body) || p.body[p.pos] != ':' {
		return "", false
	}
	p.pos++
	p.skipSpace()
	return key, true
}
