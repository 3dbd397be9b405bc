// Package problem renders errors as RFC 9457 problem details
// (application/problem+json) and holds the one mapping from errors to HTTP
// status codes that the host's HTTP API uses.
//
// Handlers do not pick status codes: they return errors, and the API's error
// handler turns each one into a [Details] with [FromError] and writes it with
// [Write]. Errors that the API itself detects (malformed JSON, a wrong
// Content-Type, a body that is too large, an unknown model) are built with
// the constructors of this package, which return *Details values that are
// themselves errors and pass through FromError unchanged.
//
// Every problem type is an absolute URI into docs/http-api.md, whose section
// of the same name explains the problem and what a client should do about
// it. Server-side failures (5xx) carry a generic detail: the real error is
// for the server's log, never for the client.
package problem
