// Package openapi describes the host's HTTP API as an OpenAPI 3.1 document
// built from the models it serves, and serves that document with Swagger UI.
//
// Build writes the document: the generic endpoints (GET /api/models,
// GET /api/models/{qualified_name}/metadata, POST
// /api/models/{qualified_name}/predict and .../predict/batch, and the same
// under /api/models/{qualified_name}/versions/{version}/), one predict and
// one batch operation per model name, POST /api/models/<qualified
// name>/predict, for the name's default version (Options.IsDefault), and
// one predict, batch and metadata operation per served version,
// /api/models/<qualified name>/versions/<version>/..., each tagged with the
// model's name, whose request and response bodies are that version's own
// input and output JSON Schemas. Those schemas become entries of
// components/schemas named after the model ("iris_model.Input",
// "iris_model.Output") for the default version and after the model and
// version for the others ("iris_model.v2.0.0.Input"), their "$defs"
// entries too ("sentiment.Document"), with every "$ref" rewritten to
// match; the input schema's "examples" become the request body's named
// examples. The default versions' names and operation ids are given out
// first, so that serving another version beside the default renames none
// of them.
//
// The operational endpoints of package ops are described too, tagged
// "operations": GET /healthz, GET /readyz (200 or 503 with a Readiness),
// GET /metrics (Prometheus text) and POST /admin/reload, which requires
// the admin token scheme adminAuth, always declared.
//
// Errors are answered with RFC 9457 problem details, described by the
// Problem schema and one response per status, whose examples carry the
// problem types of package problem. With Options.AuthEnabled the document
// declares the HTTP bearer scheme bearerAuth, requires it on every
// operation under /api/ and lists their 401, and states that the probes
// and /metrics need none; without it, it states security: []. Building
// the document reads only the registry: it never calls a model.
//
// Register serves the document at /openapi.json, built again whenever the
// registry's set of models or their default versions change, and Swagger
// UI at /docs. Swagger UI is vendored from the npm package swagger-ui-dist
// (swaggerui/README.md) and embedded, and streamed from the binary rather
// than copied into the heap; the page loads only same-origin
// files, has no inline script or style, and is sent with the strict policy
// DocsCSP.
//
// docs/openapi.md is the user's guide.
package openapi
