package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/modelhost/modelhost/host/internal/problem"
)

// Limits on the documents the API accepts, beyond the JSON grammar. They
// keep the schema validator and the models away from inputs that cost far
// more to handle than their size suggests, and from inputs that different
// JSON parsers read differently.
const (
	// maxDepth is the deepest nesting of arrays and objects accepted.
	maxDepth = 1000
	// maxNumberLength is the longest number accepted, in characters.
	maxNumberLength = 1000
	// maxExponent bounds the exponent of a number (the part after e or
	// E), whose value is checked separately.
	maxExponent = 9999
)

// byteOrderMark is U+FEFF in UTF-8.
var byteOrderMark = []byte{0xEF, 0xBB, 0xBF}

// parseJSON parses body as exactly one JSON document, numbers kept as
// json.Number as jsonschema validation wants, objects as map[string]any
// and arrays as []any.
//
// Besides well-formedness (RFC 8259) it requires what interoperable JSON
// needs (RFC 7493, I-JSON): UTF-8 without a byte order mark, no lone
// surrogate escapes, no duplicate keys in an object; and it bounds nesting
// to maxDepth. Those errors are 400 problems that say what is wrong and
// where. Numbers that a 64-bit float cannot hold (beyond ±1.8e308, or not
// zero but closer to zero than 4.9e-324), longer than maxNumberLength or
// with an exponent beyond ±maxExponent give a 422 problem that points at
// each of them.
func parseJSON(body []byte) (any, error) {
	return parseDocument(body, nil)
}

// parseDocument is parseJSON; if inputs is not nil, it also sets *inputs to
// the raw text of the elements of the document's member "inputs" when it
// can do so in the same pass (see fastParse), and to nil otherwise.
func parseDocument(body []byte, inputs *[]json.RawMessage) (any, error) {
	if len(bytes.Trim(body, jsonSpace)) == 0 {
		return nil, problem.MalformedJSON("the request body is empty; send one JSON object")
	}
	if bytes.HasPrefix(body, byteOrderMark) {
		return nil, problem.MalformedJSON("the request body starts with a byte order mark (U+FEFF), which JSON text must not have; send it without one")
	}
	if off := invalidUTF8(body); off >= 0 {
		return nil, problem.MalformedJSON(fmt.Sprintf("the request body is not valid UTF-8: byte 0x%02x %s; JSON text must be encoded in UTF-8",
			body[off], position(body, int64(off))))
	}
	if doc, ok := fastParse(body, inputs); ok {
		return doc, nil
	}
	if inputs != nil {
		*inputs = nil
	}
	return slowParse(body)
}

// slowParse is parseJSON after its checks of the whole body, token by
// token: it finds and describes every problem.
func slowParse(body []byte) (any, error) {
	p := &docParser{dec: json.NewDecoder(bytes.NewReader(body)), body: body}
	p.dec.UseNumber()
	doc, err := p.value("", 0)
	if err != nil {
		return nil, p.describe(err)
	}
	if _, err := p.dec.Token(); !errors.Is(err, io.EOF) {
		return nil, problem.MalformedJSON(describeJSONError(body, errors.New("json: unexpected data after top-level value")))
	}
	if off, ok := loneSurrogate(body); !ok {
		return nil, problem.MalformedJSON(fmt.Sprintf("a string has a lone surrogate escape %s %s: a \\uD800-\\uDFFF escape must be one half of a surrogate pair",
			body[off:off+6], position(body, int64(off))))
	}
	if p.badNumbers > 0 {
		fields := p.numbers
		if n := p.badNumbers - len(fields); n > 0 {
			fields = append(fields, problem.FieldError{Pointer: "", Detail: fmt.Sprintf("%d more numbers not shown", n)})
		}
		return nil, problem.InvalidInput("the input has numbers that the server does not accept", fields)
	}
	return doc, nil
}

// docParser builds a document from the tokens of dec, checking what
// parseJSON promises.
type docParser struct {
	dec  *json.Decoder
	body []byte
	// numbers locates the first maxFieldErrors of the badNumbers numbers
	// that checkNumber refuses.
	numbers    []problem.FieldError
	badNumbers int
}

// parseError is a problem found by docParser that is not a JSON syntax
// error, at a byte offset of the body.
type parseError struct {
	offset int64
	msg    string
	hint   string // what to do about it, if anything
}

func (e *parseError) Error() string { return e.msg }

// value reads the next value, at pointer ptr and nesting depth depth.
func (p *docParser) value(ptr string, depth int) (any, error) {
	start := p.dec.InputOffset()
	tok, err := p.dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		if depth >= maxDepth {
			return nil, &parseError{offset: start, msg: fmt.Sprintf("the document is nested more than %d levels deep", maxDepth)}
		}
		if t == '[' {
			return p.array(ptr, depth)
		}
		return p.object(ptr, depth)
	case json.Number:
		if detail := checkNumber(string(t)); detail != "" {
			if p.badNumbers < maxFieldErrors {
				p.numbers = append(p.numbers, problem.FieldError{Pointer: ptr, Detail: detail})
			}
			p.badNumbers++
		}
		return t, nil
	default: // string, bool, nil
		return t, nil
	}
}

func (p *docParser) array(ptr string, depth int) (any, error) {
	arr := []any{}
	for i := 0; p.dec.More(); i++ {
		v, err := p.value(ptr+"/"+strconv.Itoa(i), depth+1)
		if err != nil {
			return nil, err
		}
		arr = append(arr, v)
	}
	if _, err := p.dec.Token(); err != nil { // ']'
		return nil, err
	}
	return arr, nil
}

func (p *docParser) object(ptr string, depth int) (any, error) {
	obj := map[string]any{}
	for p.dec.More() {
		tok, err := p.dec.Token()
		if err != nil {
			return nil, err
		}
		key, ok := tok.(string)
		if !ok { // cannot happen: the decoder checks the grammar
			return nil, &parseError{offset: p.dec.InputOffset(), msg: "an object key is not a string"}
		}
		if _, dup := obj[key]; dup {
			return nil, &parseError{offset: p.dec.InputOffset(),
				msg: fmt.Sprintf("the key %q appears more than once in the object at %q", truncate(key, 64), ptr), hint: "send each key once"}
		}
		v, err := p.value(ptr+"/"+escapePointerToken(key), depth+1)
		if err != nil {
			return nil, err
		}
		obj[key] = v
	}
	if _, err := p.dec.Token(); err != nil { // '}'
		return nil, err
	}
	return obj, nil
}

// describe turns an error of value into a 400 problem.
func (p *docParser) describe(err error) error {
	var pe *parseError
	switch {
	case errors.As(err, &pe):
		detail := pe.msg + " " + position(p.body, pe.offset)
		if pe.hint != "" {
			detail += "; " + pe.hint
		}
		return problem.MalformedJSON(detail)
	case errors.Is(err, io.EOF):
		// The document ended inside an array or object.
		err = io.ErrUnexpectedEOF
	}
	// The offsets of the decoder's token API are not those of its Decode
	// method, which describeJSONError expects: decode again to report the
	// same error at the same place as a plain decode would.
	var v any
	dec := json.NewDecoder(bytes.NewReader(p.body))
	dec.UseNumber()
	if derr := dec.Decode(&v); derr != nil {
		err = derr
	}
	return problem.MalformedJSON(describeJSONError(p.body, err))
}

// checkNumber returns why the JSON number n is not accepted, or "".
func checkNumber(n string) string {
	if len(n) > maxNumberLength {
		return fmt.Sprintf("is a number written with %d characters; at most %d are accepted", len(n), maxNumberLength)
	}
	mantissa, exp, hasExp := strings.Cut(strings.ToLower(n), "e")
	if hasExp {
		if e, err := strconv.Atoi(exp); err != nil || e < -maxExponent || e > maxExponent {
			return fmt.Sprintf("has an exponent beyond ±%d", maxExponent)
		}
	}
	f, err := strconv.ParseFloat(n, 64)
	switch {
	case err != nil: // only ErrRange: the grammar is checked
		return "is too large: numbers must lie within ±1.7976931348623157e308, the range of a 64-bit floating-point number"
	case f == 0 && strings.ContainsAny(mantissa, "123456789"):
		return "is too close to zero: a number that is not 0 must be at least 4.9e-324 in magnitude, the smallest a 64-bit floating-point number can hold"
	}
	return ""
}

// invalidUTF8 returns the offset of the first byte of b that is not part
// of valid UTF-8, or -1.
func invalidUTF8(b []byte) int {
	if utf8.Valid(b) {
		return -1
	}
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size <= 1 {
			return i
		}
		i += size
	}
	return -1
}

// loneSurrogate finds a \u escape of a UTF-16 surrogate that is not part
// of a pair in body, a well-formed JSON document (where a backslash can
// only start an escape inside a string). It returns the escape's offset
// and false if there is one.
func loneSurrogate(body []byte) (int, bool) {
	for i := bytes.IndexByte(body, '\\'); i >= 0 && i+1 < len(body); {
		if body[i+1] != 'u' {
			i = next(body, i+2)
			continue
		}
		r := hex4(body[i+2 : i+6])
		switch {
		case 0xD800 <= r && r <= 0xDBFF: // high: a low one must follow
			if i+12 > len(body) || body[i+6] != '\\' || body[i+7] != 'u' {
				return i, false
			}
			if lo := hex4(body[i+8 : i+12]); lo < 0xDC00 || lo > 0xDFFF {
				return i, false
			}
			i = next(body, i+12)
		case 0xDC00 <= r && r <= 0xDFFF: // low without a high one
			return i, false
		default:
			i = next(body, i+6)
		}
	}
	return 0, true
}

// next returns the offset of the first backslash of body at or after
// from, or -1.
func next(body []byte, from int) int {
	if from >= len(body) {
		return -1
	}
	if j := bytes.IndexByte(body[from:], '\\'); j >= 0 {
		return from + j
	}
	return -1
}

// hex4 decodes four hexadecimal digits, which the JSON grammar guarantees
// after \u.
func hex4(b []byte) rune {
	n, _ := strconv.ParseUint(string(b), 16, 32)
	return rune(n)
}

// truncate shortens s to at most n bytes, on a rune boundary, marking the
// cut with "...".
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "..."
}
