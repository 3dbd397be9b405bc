// Package api is the host's REST API, served by Echo v4:
//
//	GET  /api/models                 the served models, sorted by name
//	GET  /api/models/:name/metadata  one model's metadata and JSON Schemas
//	POST /api/models/:name/predict   one prediction: a JSON input in, the model's JSON output out
//
// Every error, Echo's own 404 and 405 and recovered panics included, is
// answered with an RFC 9457 problem details document
// (application/problem+json) built by package problem; server-side failures
// are logged with their real error and answered with a generic detail.
//
// Every request first passes the middleware, outermost first: observe gives
// it a request ID (X-Request-ID, kept if the client's is sane), a logger
// that names it and a debug log line, and answers every error below it;
// panics are recovered; securityHeaders sets nosniff, Referrer-Policy,
// X-Frame-Options, Cross-Origin-Opener-Policy, and a strict CSP on JSON
// answers whose handler set none; limitHeaders answers 431 to oversized
// headers; CORS (only if origins are configured) answers preflights; and
// authenticate (only if tokens are configured) requires a bearer token
// under /api/ (401).
//
// A prediction request then goes through these steps, and the first that
// fails decides the answer: the model is looked up (404), the Content-Type
// must be JSON (415), the body is read up to Options.MaxBodyBytes (413, or
// 408 if it does not arrive in time), parsed as exactly one I-JSON document
// (400; numbers beyond float64 are 422), validated against the model's input
// schema (422, with a JSON Pointer per problem), given a slot of the model's
// concurrency limit (429 when the limit and queue are full), and only then
// handed to the model, bounded by the model's predict timeout (504). The
// model's output is sent back byte for byte.
//
// docs/http-api.md is the reference for clients.
package api
