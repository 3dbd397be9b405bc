package sdk

import (
	"errors"
	"strings"
)

// ErrInvalidInput is the kind of every error that means "this input is not
// acceptable to the model". The host answers such errors with HTTP 422.
// Test for it with errors.Is.
var ErrInvalidInput = errors.New("invalid input")

// FieldError locates one problem in an input.
type FieldError struct {
	// Pointer is a JSON Pointer (RFC 6901) to the offending value, for
	// example "/petal_width"; "" means the whole input.
	Pointer string `json:"pointer"`
	// Detail explains the problem to a person.
	Detail string `json:"detail"`
}

// InputError is an input the model rejects. It matches ErrInvalidInput with
// errors.Is, and survives the trip from the plugin to the host intact.
type InputError struct {
	// Detail explains the problem as a whole.
	Detail string
	// Fields lists problems located at particular values, if known.
	Fields []FieldError
}

// InvalidInput returns an *InputError with the given detail and field errors.
func InvalidInput(detail string, fields ...FieldError) error {
	return &InputError{Detail: detail, Fields: fields}
}

// Error implements error.
func (e *InputError) Error() string {
	var b strings.Builder
	b.WriteString("invalid input")
	if e.Detail != "" {
		b.WriteString(": ")
		b.WriteString(e.Detail)
	}
	for _, f := range e.Fields {
		b.WriteString("; ")
		if f.Pointer != "" {
			b.WriteString(f.Pointer)
			b.WriteString(": ")
		}
		b.WriteString(f.Detail)
	}
	return b.String()
}

// Is reports whether target is ErrInvalidInput.
func (e *InputError) Is(target error) bool { return target == ErrInvalidInput }
