package api

import (
	"cmp"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/message"

	"github.com/modelhost/modelhost/host/internal/problem"
)

// maxFieldErrors bounds the errors listed in one answer, so that a large
// input that is wrong everywhere does not get a larger answer.
const maxFieldErrors = 100

// validateInput validates doc (parsed by jsonschema.UnmarshalJSON) against
// schema. A document that fails it gives a *problem.ValidationError with
// one field error per problem, sorted by pointer.
func validateInput(schema *jsonschema.Schema, doc any, p *message.Printer) error {
	if fastValid(schema, doc) {
		return nil
	}
	err := schema.Validate(doc)
	if err == nil {
		return nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return fmt.Errorf("validate input: %w", err)
	}
	return &problem.ValidationError{Fields: fieldErrors(ve, p)}
}

// fieldErrors turns the leaf causes of ve into field errors, sorted by
// pointer, without duplicates, at most maxFieldErrors of them plus one that
// counts the rest.
func fieldErrors(ve *jsonschema.ValidationError, p *message.Printer) []problem.FieldError {
	var fields []problem.FieldError
	var walk func(*jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) == 0 {
			fields = append(fields, leafErrors(e, p)...)
			return
		}
		for _, c := range e.Causes {
			walk(c)
		}
	}
	walk(ve)
	slices.SortStableFunc(fields, func(a, b problem.FieldError) int {
		return cmp.Or(strings.Compare(a.Pointer, b.Pointer), strings.Compare(a.Detail, b.Detail))
	})
	fields = slices.Compact(fields)
	if n := len(fields); n > maxFieldErrors {
		fields = append(fields[:maxFieldErrors], problem.FieldError{
			Pointer: "",
			Detail:  fmt.Sprintf("%d more errors not shown", n-maxFieldErrors),
		})
	}
	return fields
}

// leafErrors describes one leaf validation error. Errors about properties
// that are missing or not allowed point at those properties, so that a form
// can highlight the field concerned.
func leafErrors(e *jsonschema.ValidationError, p *message.Printer) []problem.FieldError {
	at := jsonPointer(e.InstanceLocation)
	one := func(detail string) []problem.FieldError {
		return []problem.FieldError{{Pointer: at, Detail: detail}}
	}
	each := func(props []string, detail string) []problem.FieldError {
		fields := make([]problem.FieldError, len(props))
		for i, prop := range props {
			fields[i] = problem.FieldError{Pointer: at + "/" + escapePointerToken(prop), Detail: detail}
		}
		return fields
	}
	switch k := e.ErrorKind.(type) {
	case *kind.Required:
		return each(k.Missing, "is required")
	case *kind.AdditionalProperties:
		return each(k.Properties, "is not allowed: the schema defines no such property")
	case *kind.DependentRequired:
		return each(k.Missing, fmt.Sprintf("is required when %q is present", k.Prop))
	case *kind.Dependency:
		return each(k.Missing, fmt.Sprintf("is required when %q is present", k.Prop))
	case *kind.FalseSchema:
		return one("is not allowed")
	case *kind.Minimum:
		return one(fmt.Sprintf("must be at least %s, got %s", ratString(k.Want), ratString(k.Got)))
	case *kind.Maximum:
		return one(fmt.Sprintf("must be at most %s, got %s", ratString(k.Want), ratString(k.Got)))
	case *kind.ExclusiveMinimum:
		return one(fmt.Sprintf("must be greater than %s, got %s", ratString(k.Want), ratString(k.Got)))
	case *kind.ExclusiveMaximum:
		return one(fmt.Sprintf("must be less than %s, got %s", ratString(k.Want), ratString(k.Got)))
	case *kind.MultipleOf:
		return one(fmt.Sprintf("must be a multiple of %s, got %s", ratString(k.Want), ratString(k.Got)))
	case *kind.MinLength:
		return one(fmt.Sprintf("must be at least %s long, got %d", count(k.Want, "character"), k.Got))
	case *kind.MaxLength:
		return one(fmt.Sprintf("must be at most %s long, got %d", count(k.Want, "character"), k.Got))
	case *kind.MinItems:
		return one(fmt.Sprintf("must have at least %s, got %d", count(k.Want, "item"), k.Got))
	case *kind.MaxItems:
		return one(fmt.Sprintf("must have at most %s, got %d", count(k.Want, "item"), k.Got))
	case *kind.MinProperties:
		return one(fmt.Sprintf("must have at least %s, got %d", count(k.Want, "property"), k.Got))
	case *kind.MaxProperties:
		return one(fmt.Sprintf("must have at most %s, got %d", count(k.Want, "property"), k.Got))
	case nil:
		return one("is not valid")
	default:
		return one(k.LocalizedString(p))
	}
}

// count formats n things, for example "1 item" or "3 items".
func count(n int, thing string) string {
	switch {
	case n == 1:
		return "1 " + thing
	case strings.HasSuffix(thing, "y"):
		return strconv.Itoa(n) + " " + strings.TrimSuffix(thing, "y") + "ies"
	default:
		return strconv.Itoa(n) + " " + thing + "s"
	}
}

// ratString formats r as a JSON number would be written: an integer as
// such, anything else as the shortest float that reads back the same.
func ratString(r *big.Rat) string {
	if r == nil {
		return "?"
	}
	if r.IsInt() {
		return r.Num().String()
	}
	f, _ := r.Float64()
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// jsonPointer returns the JSON Pointer (RFC 6901) of the value at location:
// "" for the whole document, "/a/0/b~1c" for ["a", "0", "b/c"].
func jsonPointer(location []string) string {
	var b strings.Builder
	for _, token := range location {
		b.WriteByte('/')
		b.WriteString(escapePointerToken(token))
	}
	return b.String()
}

// escapePointerToken escapes one reference token: "~" becomes "~0" and "/"
// becomes "~1", in that order.
func escapePointerToken(token string) string {
	if !strings.ContainsAny(token, "~/") {
		return token
	}
	return strings.ReplaceAll(strings.ReplaceAll(token, "~", "~0"), "/", "~1")
}
