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
// A prediction request goes through these steps, and the first that fails
// decides the answer: the model is looked up (404), the Content-Type must be
// JSON (415), the body is read up to Options.MaxBodyBytes (413), parsed as
// exactly one JSON document (400), validated against the model's input
// schema (422, with a JSON Pointer per problem), and only then handed to the
// model, bounded by the model's predict timeout (504). The model's output is
// sent back byte for byte.
//
// docs/http-api.md is the reference for clients.
package api
