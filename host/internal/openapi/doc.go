// Package openapi describes the host's HTTP API as an OpenAPI 3.1 document
// built from the models it serves, and serves that document with Swagger UI.
//
// Build writes the document: the generic endpoints (GET /api/models,
// GET /api/models/{qualified_name}/metadata, POST
// /api/models/{qualified_name}/predict), and one operation per model,
// POST /api/models/<qualified name>/predict, tagged with the model's name,
// whose request and response bodies are the model's own input and output
// JSON Schemas. Those schemas become entries of components/schemas named
// after the model ("iris_model.Input", "iris_model.Output"), their "$defs"
// entries too ("sentiment.Document"), with every "$ref" rewritten to match;
// the input schema's "examples" become the request body's named examples.
// Errors are answered with RFC 9457 problem details, described by the
// Problem schema and one response per status, whose examples carry the
// problem types of package problem. With Options.AuthEnabled the document
// declares the HTTP bearer scheme bearerAuth, requires it on every
// operation (all are under /api/) and lists their 401; without it, it
// states security: []. Building the document reads only the registry: it
// never calls a model.
//
// Register serves the document at /openapi.json, built again whenever the
// registry's set of models changes, and Swagger UI at /docs. Swagger UI is
// vendored from the npm package swagger-ui-dist (swaggerui/README.md) and
// embedded; the page loads only same-origin files, has no inline script or
// style, and is sent with the strict policy DocsCSP.
//
// docs/openapi.md is the user's guide.
package openapi
