package config

import (
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// Error is the error returned by [Load] and [Parse] for an invalid
// configuration. It carries every problem found, not just the first.
type Error struct {
	// Diagnostics are the problems found, in source order. Each has a
	// Subject naming the file, line and column it concerns. Callers that
	// want source snippets can render them with hcl.NewDiagnosticTextWriter.
	Diagnostics hcl.Diagnostics
}

// Error formats every error diagnostic on its own line as
// "file:line,col-col: summary; detail", the format of hcl.Diagnostic.Error.
func (e *Error) Error() string {
	var b strings.Builder
	for _, d := range e.Diagnostics {
		if d.Severity != hcl.DiagError {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('\n')
		}
		if d.Subject != nil {
			b.WriteString(d.Subject.String())
			b.WriteString(": ")
		}
		b.WriteString(d.Summary)
		if d.Detail != "" {
			b.WriteString("; ")
			b.WriteString(d.Detail)
		}
	}
	return b.String()
}

// Unwrap returns the diagnostics, so errors.As(err, &diags) with a
// hcl.Diagnostics target works.
func (e *Error) Unwrap() error { return e.Diagnostics }

// newError returns an *Error holding diags ordered by source position.
// Diagnostics without a subject keep their relative order and sort first.
func newError(diags hcl.Diagnostics) *Error {
	sorted := make(hcl.Diagnostics, len(diags))
	copy(sorted, diags)
	sort.SliceStable(sorted, func(i, j int) bool {
		a, b := sorted[i].Subject, sorted[j].Subject
		switch {
		case a == nil || b == nil:
			return a == nil && b != nil
		case a.Filename != b.Filename:
			return a.Filename < b.Filename
		default:
			return a.Start.Byte < b.Start.Byte
		}
	})
	return &Error{Diagnostics: sorted}
}
