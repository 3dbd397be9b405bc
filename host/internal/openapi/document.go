package openapi

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/modelhost/modelhost/host/internal/api"
	"github.com/modelhost/modelhost/host/internal/problem"
	"github.com/modelhost/modelhost/host/internal/registry"
	"github.com/modelhost/modelhost/sdk"
	"github.com/modelhost/modelhost/sdk/plugin"
)

// SpecVersion is the version of the OpenAPI Specification that the
// document follows.
const SpecVersion = "3.1.0"

// Options configures the document.
type Options struct {
	// Version is the host's version, the document's info.version. Empty
	// means the version of the main module the binary was built from, or
	// "devel", as "modelhost version" prints it.
	Version string
	// MaxBodyBytes is the server's request body limit, stated in the
	// description of 413 responses. Zero or less means
	// api.DefaultMaxBodyBytes, as for the API.
	MaxBodyBytes int64
	// MaxHeaderBytes is the server's limit on the request line and
	// headers, stated in 431 responses. Zero or less means
	// api.DefaultMaxHeaderBytes, as for the API.
	MaxHeaderBytes int
	// AuthEnabled states that the endpoints under /api/ require a bearer
	// token (api.Options.TokenDigests is not empty: the configuration has
	// an auth block). The document then declares the security scheme
	// bearerAuth, requires it for every operation, and lists their 401
	// response. False: the document states that no authentication is
	// needed (security: []).
	AuthEnabled bool
	// MaxBatchSize is the most inputs of a batch prediction
	// (plugins.max_batch_size), the maxItems of each batch operation's
	// inputs. Zero or less means api.DefaultMaxBatchSize, as for the API.
	MaxBatchSize int
	// IsDefault reports whether a model version is the default version of
	// its name, the one that the unversioned paths reach
	// (registry.Registry.IsDefault). Nil means the highest version of each
	// name, the first that registry.List returns: the default when no
	// version is pinned. Register sets it from the registry.
	IsDefault func(*registry.Entry) bool
}

// Build returns the OpenAPI 3.1 document, as indented JSON, of the host
// serving models (every version of every model, as registry.List returns
// them: by name, then version, highest first): the generic endpoints, the
// operational ones, one predict and one batch operation per model name for
// its default version, and one predict, batch and metadata operation per
// model version, whose request and response bodies are that version's own
// input and output schemas. It does not call the models.
func Build(models []*registry.Entry, opts Options) ([]byte, error) {
	doc, err := build(models, opts)
	if err != nil {
		return nil, err
	}
	b, err := encodeIndented(doc)
	if err != nil {
		return nil, fmt.Errorf("encode OpenAPI document: %w", err)
	}
	return b, nil
}

// projectURL is the project's home, where the problem types are
// documented too.
const projectURL = "https://github.com/modelhost/modelhost"

// The names of the generic components. Every model component has a "." in
// its name (qualified name, ".", type), so these never collide with one.
const (
	schemaProblem       = "Problem"
	schemaFieldError    = "ProblemFieldError"
	schemaModelList     = "ModelList"
	schemaModelSummary  = "ModelSummary"
	schemaModelMetadata = "ModelMetadata"
	schemaBatchError    = "BatchItemError"
	paramQualifiedName  = "QualifiedName"
	paramVersion        = "Version"
	headerRetryAfter    = "RetryAfter"
	headerWWWAuth       = "WWWAuthenticate"
	tagModels           = "models"
	tagOps              = "operations"
	jsonType            = "application/json"
	// securityScheme is the name of the bearer token scheme, declared when
	// authentication is on.
	securityScheme = "bearerAuth"
	// adminSecurityScheme is the name of the admin token scheme of
	// POST /admin/reload, always declared.
	adminSecurityScheme = "adminAuth"
)

// genericSchemaNames are the components/schemas entries that are not of
// one model.
var genericSchemaNames = []string{
	schemaProblem, schemaFieldError, schemaModelList, schemaModelSummary, schemaModelMetadata, schemaBatchError,
	schemaHealth, schemaReadiness, schemaModelState, schemaPluginFailure, schemaReloadReport, schemaReloadChange, schemaSkippedFile,
}

type document struct {
	OpenAPI string   `json:"openapi"`
	Info    info     `json:"info"`
	Servers []server `json:"servers"`
	// Security is empty when the API has no authentication, which it then
	// says, and requires bearerAuth when it has.
	Security   []any       `json:"security"`
	Tags       []tag       `json:"tags"`
	Paths      *object     `json:"paths"`
	Components *components `json:"components"`
}

type info struct {
	Title       string   `json:"title"`
	Summary     string   `json:"summary,omitempty"`
	Description string   `json:"description,omitempty"`
	Contact     *contact `json:"contact,omitempty"`
	Version     string   `json:"version"`
}

type contact struct {
	Name string `json:"name"`
	URL  string `json:"url"`
}

type server struct {
	URL         string `json:"url"`
	Description string `json:"description,omitempty"`
}

type tag struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
}

type components struct {
	Schemas    *object `json:"schemas"`
	Responses  *object `json:"responses"`
	Parameters *object `json:"parameters"`
	Headers    *object `json:"headers"`
	// SecuritySchemes is nil when the API has no authentication.
	SecuritySchemes *object `json:"securitySchemes,omitempty"`
}

type pathItem struct {
	Get  *operation `json:"get,omitempty"`
	Post *operation `json:"post,omitempty"`
}

type operation struct {
	Tags        []string     `json:"tags,omitempty"`
	Summary     string       `json:"summary,omitempty"`
	Description string       `json:"description,omitempty"`
	OperationID string       `json:"operationId"`
	Parameters  []any        `json:"parameters,omitempty"`
	RequestBody *requestBody `json:"requestBody,omitempty"`
	Responses   *object      `json:"responses"`
	// Security is nil, inheriting the document's, for an operation under
	// /api/ when the API has no authentication; an empty []any, stating
	// that the operation needs none, or an admin token requirement
	// otherwise.
	Security any `json:"security,omitempty"`
}

type requestBody struct {
	Description string  `json:"description,omitempty"`
	Required    bool    `json:"required"`
	Content     *object `json:"content"`
}

type mediaType struct {
	Schema   any     `json:"schema"`
	Examples *object `json:"examples,omitempty"`
}

type example struct {
	Summary string `json:"summary,omitempty"`
	Value   any    `json:"value"`
}

type response struct {
	Description string  `json:"description"`
	Headers     *object `json:"headers,omitempty"`
	Content     *object `json:"content,omitempty"`
}

type reference struct {
	Ref string `json:"$ref"`
}

func schemaRef(name string) reference { return reference{Ref: componentsPrefix + name} }

func build(models []*registry.Entry, opts Options) (*document, error) {
	if opts.Version == "" {
		opts.Version = buildVersion()
	}
	names := newComponentNames()
	if opts.MaxBatchSize <= 0 {
		opts.MaxBatchSize = api.DefaultMaxBatchSize
	}
	for _, n := range genericSchemaNames {
		names.reserve(n)
	}
	defaults, others := splitDefaults(models, opts.IsDefault)

	doc := &document{
		OpenAPI: SpecVersion,
		Info: info{
			Title:   "modelhost",
			Summary: "Machine-learning models served over HTTP, each in its own plugin process.",
			Description: "Every model has an operation of its own, `POST /api/models/{qualified_name}/predict`, " +
				"whose request and response bodies are the model's input and output JSON Schemas. " +
				"A model may be served in several versions side by side: that path reaches its default version, " +
				"and `POST /api/models/{qualified_name}/versions/{version}/predict` the version named, " +
				"each with an operation of its own too. " +
				"The server validates each input against the model's input schema before calling the model. " +
				"Every error is an RFC 9457 problem details document (`application/problem+json`); " +
				"its `type` is a link to the problem's description. " +
				authDescription(opts.AuthEnabled) + "\n\n" +
				"This document describes the models the server is serving now: it changes when they do.",
			Contact: &contact{Name: "modelhost", URL: projectURL},
			Version: opts.Version,
		},
		Servers:  []server{{URL: "/", Description: "This server"}},
		Security: security(opts.AuthEnabled),
		Tags:     []tag{{Name: tagModels, Description: "List and describe the served models, and call any of them by name."}},
		Paths:    &object{},
		Components: &components{
			Schemas:    &object{},
			Responses:  &object{},
			Parameters: &object{},
			Headers:    &object{},
		},
	}
	c := doc.Components
	addGenericSchemas(c.Schemas)
	addOpsSchemas(c.Schemas)
	exampleModel := "iris_model"
	if len(models) > 0 {
		exampleModel = models[0].Info.QualifiedName
	}
	var exampleVersions []string
	for _, e := range models {
		if e.Info.QualifiedName == exampleModel {
			exampleVersions = append(exampleVersions, e.Info.Version)
		}
	}
	if len(exampleVersions) == 0 {
		exampleVersions = []string{"1.0.0"}
	}
	addProblemResponses(c, exampleModel, exampleVersions, opts)
	c.Parameters.set(paramQualifiedName, qualifiedNameParameter(models))
	c.Parameters.set(paramVersion, versionParameter(models))
	c.Headers.set(headerRetryAfter, obj(
		"description", "Seconds to wait before sending the request again.",
		"schema", obj("type", "integer", "minimum", 0),
	))
	c.Headers.set(headerWWWAuth, obj(
		"description", "The challenge of a 401 (RFC 6750): `"+problem.WWWAuthenticate+
			"`, followed by `, error=\"invalid_token\"` when the request sent a token that the server does not accept.",
		"schema", obj("type", "string"),
		"example", problem.WWWAuthenticate,
	))
	c.SecuritySchemes = &object{}
	if opts.AuthEnabled {
		c.SecuritySchemes.set(securityScheme, obj(
			"type", "http",
			"scheme", "bearer",
			"description", "An API token of the server's auth block, sent as `Authorization: Bearer TOKEN`. "+
				"Every endpoint under /api/ requires one; /openapi.json, /docs, /healthz, /readyz and /metrics do not.",
		))
	}
	c.SecuritySchemes.set(adminSecurityScheme, obj(
		"type", "http",
		"scheme", "bearer",
		"description", "An admin token of the server's admin block, sent as `Authorization: Bearer TOKEN`: "+
			"POST /admin/reload requires one, and answers 403 while the configuration has no admin block. "+
			"API tokens are not admin tokens.",
	))
	addGenericPaths(doc.Paths, opts.AuthEnabled, opts.MaxBatchSize)

	// The components and operation ids of the default versions are taken
	// first, in the order they had before several versions could be
	// served, so that serving another version beside a model's default
	// renames nothing.
	schemas := make(map[*registry.Entry]*modelSchemas, len(models))
	convert := func(list []*registry.Entry, prefix func(*registry.Entry) string) error {
		io := make([][2]string, len(list))
		for i, e := range list {
			p := prefix(e)
			io[i] = [2]string{names.take(p + ".Input"), names.take(p + ".Output")}
		}
		for i, e := range list {
			ms, err := convertModelSchemas(prefix(e), io[i][0], io[i][1], e.InputSchema, e.OutputSchema, names)
			if err != nil {
				return fmt.Errorf("model %s version %s: %w", e.Info.QualifiedName, e.Info.Version, err)
			}
			for _, s := range ms.schemas {
				c.Schemas.set(s.name, s.schema)
			}
			schemas[e] = ms
		}
		return nil
	}
	if err := convert(defaults, func(e *registry.Entry) string { return e.Info.QualifiedName }); err != nil {
		return nil, err
	}
	if err := convert(others, func(e *registry.Entry) string { return e.Info.QualifiedName + ".v" + e.Info.Version }); err != nil {
		return nil, err
	}

	opIDs := map[string]bool{}
	for _, id := range genericOperationIDs {
		opIDs[id] = true
	}
	single := make(map[*registry.Entry]string, len(defaults))
	batch := make(map[*registry.Entry]string, len(defaults))
	for _, e := range defaults {
		doc.Tags = append(doc.Tags, modelTag(e.Info))
		single[e] = uniqueOperationID("predict_", e.Info.QualifiedName, opIDs)
	}
	// The batch ids are taken after every single one, so that adding them
	// leaves the single ones as they were; the versioned ones after both.
	for _, e := range defaults {
		batch[e] = uniqueOperationID("predict_batch_", e.Info.QualifiedName, opIDs)
	}
	type versionedIDs struct{ predict, batch, metadata string }
	versioned := make(map[*registry.Entry]versionedIDs, len(models))
	for _, e := range models {
		suffix := e.Info.QualifiedName + "_v" + e.Info.Version
		versioned[e] = versionedIDs{
			predict:  uniqueOperationID("predict_", suffix, opIDs),
			batch:    uniqueOperationID("predict_batch_", suffix, opIDs),
			metadata: uniqueOperationID("get_model_metadata_", suffix, opIDs),
		}
	}

	// Paths: each name's unversioned operations, then those of each of its
	// versions, highest first.
	for _, e := range models {
		name := e.Info.QualifiedName
		if _, ok := single[e]; ok {
			doc.Paths.set(predictPath(name), pathItem{Post: modelOperation(e, schemas[e], single[e], false, opts.AuthEnabled)})
			doc.Paths.set(batchPath(name), pathItem{Post: modelBatchOperation(e, schemas[e], batch[e], false, opts)})
		}
	}
	for _, e := range models {
		name, version := e.Info.QualifiedName, e.Info.Version
		ids := versioned[e]
		doc.Paths.set(versionPath(name, version)+"/metadata", pathItem{Get: modelMetadataOperation(e, ids.metadata, opts.AuthEnabled)})
		doc.Paths.set(versionPath(name, version)+"/predict", pathItem{Post: modelOperation(e, schemas[e], ids.predict, true, opts.AuthEnabled)})
		doc.Paths.set(versionPath(name, version)+"/predict/batch", pathItem{Post: modelBatchOperation(e, schemas[e], ids.batch, true, opts)})
	}
	doc.Tags = append(doc.Tags, tag{Name: tagOps, Description: "Probes, metrics and the reload of the configuration, outside the model API."})
	addOpsPaths(doc.Paths, opts.AuthEnabled)
	return doc, nil
}

// genericOperationIDs are the ids of the operations that are not of one
// model; a model's ids never take them.
var genericOperationIDs = []string{
	"list_models", "get_model_metadata", "predict", "predict_batch",
	"get_model_version_metadata", "predict_version", "predict_batch_version",
	"get_health", "get_readiness", "get_metrics", "reload",
}

// splitDefaults returns the default version of each name and the other
// versions, each in the order of models. isDefault nil means the first
// version of each name in models.
func splitDefaults(models []*registry.Entry, isDefault func(*registry.Entry) bool) (defaults, others []*registry.Entry) {
	if isDefault == nil {
		isDefault = func(e *registry.Entry) bool { return true }
	}
	seen := map[string]bool{}
	for _, e := range models {
		name := e.Info.QualifiedName
		if !seen[name] && isDefault(e) {
			seen[name] = true
			defaults = append(defaults, e)
		}
	}
	// A name without a default (the registry changed between List and
	// IsDefault) takes its first version.
	for _, e := range models {
		if name := e.Info.QualifiedName; !seen[name] {
			seen[name] = true
			defaults = append(defaults, e)
		}
	}
	slices.SortStableFunc(defaults, func(a, b *registry.Entry) int {
		return strings.Compare(a.Info.QualifiedName, b.Info.QualifiedName)
	})
	isDef := make(map[*registry.Entry]bool, len(defaults))
	for _, e := range defaults {
		isDef[e] = true
	}
	for _, e := range models {
		if !isDef[e] {
			others = append(others, e)
		}
	}
	return defaults, others
}

// authDescription is what the document's description says about
// authentication.
func authDescription(auth bool) string {
	if auth {
		return "Every endpoint under `/api/` requires an API token, sent as `Authorization: Bearer TOKEN` " +
			"(in Swagger UI: **Authorize**); without a valid one the server answers 401."
	}
	return "The API has no authentication: put the server behind a proxy that adds it, " +
		"or give it an `auth` block, if it listens beyond the local machine."
}

// security is the security requirement of the document and of each of its
// operations: bearerAuth when authentication is on, none otherwise.
func security(auth bool) []any {
	if !auth {
		return []any{}
	}
	return []any{obj(securityScheme, []any{})}
}

// operationSecurity is the security of an operation: the document's when
// authentication is on, stated again so that each operation under /api/
// says it on its own; nil, inheriting the document's empty one, when it is
// off.
func operationSecurity(auth bool) any {
	if !auth {
		return nil
	}
	return security(auth)
}

func predictPath(qualifiedName string) string {
	return "/api/models/" + qualifiedName + "/predict"
}

func batchPath(qualifiedName string) string {
	return predictPath(qualifiedName) + "/batch"
}

// versionPath is the prefix of the paths of one version of a model.
func versionPath(qualifiedName, version string) string {
	return "/api/models/" + qualifiedName + "/versions/" + version
}

// uniqueOperationID returns prefix ("predict_" or "predict_batch_") and
// qualifiedName with every character that is not a letter, digit or "_"
// replaced by "_", made unique among ids with a suffix, so that client
// generators can use it as a method name.
func uniqueOperationID(prefix, qualifiedName string, ids map[string]bool) string {
	base := prefix + strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
			return r
		}
		return '_'
	}, qualifiedName)
	id := base
	for i := 2; ids[id]; i++ {
		id = base + "_" + strconv.Itoa(i)
	}
	ids[id] = true
	return id
}

func modelTag(i sdk.Info) tag {
	return tag{Name: i.QualifiedName, Description: i.DisplayName}
}

// modelOperation is the predict operation of one model version: at its
// own path if versioned, else at the model's unversioned path, which
// reaches the default version.
func modelOperation(e *registry.Entry, ms *modelSchemas, operationID string, versioned, auth bool) *operation {
	i := e.Info
	description := strings.TrimSpace(i.Description)
	if description != "" {
		description += "\n\n"
	}
	description += versionSentence(i, versioned) + " The input must satisfy the schema `" + ms.input +
		"`; the server checks it before calling the model and answers 422 with a JSON Pointer to each problem otherwise."
	if e.PredictTimeout > 0 {
		description += " The model must answer within " + e.PredictTimeout.String() + ", or the server answers 504."
	}
	input := mediaType{Schema: schemaRef(ms.input), Examples: examples(ms.inputExamples, "Example input")}
	output := mediaType{Schema: schemaRef(ms.output), Examples: examples(ms.outputExamples, "Example output")}
	summary := i.DisplayName
	if versioned {
		summary += " " + i.Version
	}
	return &operation{
		Tags:        []string{i.QualifiedName},
		Summary:     summary,
		Description: description,
		OperationID: operationID,
		RequestBody: &requestBody{
			Description: "One input of " + summary + ".",
			Required:    true,
			Content:     obj(jsonType, input),
		},
		Responses: predictResponses(response{
			Description: "The model's output.",
			Content:     obj(jsonType, output),
		}, auth, notFoundResponse(versioned)),
		Security: operationSecurity(auth),
	}
}

// versionSentence says which version of the model an operation reaches.
func versionSentence(i sdk.Info, versioned bool) string {
	if versioned {
		return "Model version " + i.Version + ", whether or not it is the default version; " +
			"the server answers 404 once it no longer serves this version."
	}
	return "Model version " + i.Version + ", the default version of " + i.QualifiedName +
		" as this document was built: this path reaches the default version, which may change when the server's models do."
}

// notFoundResponse is the shared 404 response of the operations at
// unversioned or versioned paths.
func notFoundResponse(versioned bool) string {
	if versioned {
		return "ModelVersionNotFound"
	}
	return "ModelNotFound"
}

// modelBatchOperation is the batch predict operation of one model version,
// at its own path if versioned, else at the model's unversioned one: its
// inputs are the model's input schema, its outputs the model's output
// schema or null. Its one request example is every input example at once.
func modelBatchOperation(e *registry.Entry, ms *modelSchemas, operationID string, versioned bool, opts Options) *operation {
	i := e.Info
	name := i.DisplayName
	if versioned {
		name += " " + i.Version
	}
	description := versionSentence(i, versioned) + " Runs up to " + strconv.Itoa(opts.MaxBatchSize) + " predictions of " + name +
		" in one request. Each input must satisfy the schema `" + ms.input + "`; the server checks each on its own, " +
		"sends the valid ones to the model in one call, and answers 200 with one entry of `outputs` per input " +
		"(null for an input that failed) and one entry of `errors` per failed input. " +
		"A batch answered 200 may thus hold only errors: check `errors`. " +
		"The whole batch takes one of the model's concurrency slots"
	if e.PredictTimeout > 0 {
		description += ", and the model must answer it as a whole within " + e.PredictTimeout.String() + ", or the server answers 504"
	}
	description += "."
	body := mediaType{Schema: batchRequestSchema(schemaRef(ms.input), opts.MaxBatchSize)}
	if n := min(len(ms.inputExamples), opts.MaxBatchSize); n > 0 {
		body.Examples = obj("example_batch", example{
			Summary: "The example inputs as one batch",
			Value:   obj("inputs", ms.inputExamples[:n]),
		})
	}
	return &operation{
		Tags:        []string{i.QualifiedName},
		Summary:     name + " (batch)",
		Description: description,
		OperationID: operationID,
		RequestBody: &requestBody{
			Description: "Inputs of " + name + ", at least one.",
			Required:    true,
			Content:     obj(jsonType, body),
		},
		Responses: batchResponses(response{
			Description: "One output or null per input, in order, and the problem of each input that failed.",
			Content:     obj(jsonType, mediaType{Schema: batchResponseSchema(schemaRef(ms.output))}),
		}, opts.AuthEnabled, notFoundResponse(versioned)),
		Security: operationSecurity(opts.AuthEnabled),
	}
}

// modelMetadataOperation is the metadata operation of one model version.
// Its answer is a ModelMetadata whose name and version are this model's.
func modelMetadataOperation(e *registry.Entry, operationID string, auth bool) *operation {
	i := e.Info
	schema := obj("allOf", []any{
		schemaRef(schemaModelMetadata),
		obj("properties", obj(
			"qualified_name", obj("const", i.QualifiedName),
			"version", obj("const", i.Version),
		)),
	})
	return &operation{
		Tags:        []string{i.QualifiedName},
		Summary:     "Describe " + i.DisplayName + " " + i.Version,
		Description: "The name, description, version and state of " + i.DisplayName + " " + i.Version + ", with its input and output JSON Schemas.",
		OperationID: operationID,
		Responses: responses(
			response{Description: "The model version's metadata.", Content: obj(jsonType, mediaType{Schema: schema})},
			auth, map[string]string{"404": "ModelVersionNotFound", "500": "InternalError"},
		),
		Security: operationSecurity(auth),
	}
}

// batchRequestSchema is the schema of a batch request whose inputs satisfy
// item.
func batchRequestSchema(item any, maxBatch int) *object {
	return obj(
		"type", "object",
		"properties", obj("inputs", obj(
			"type", "array",
			"description", "The inputs, each of which could be the body of a single prediction.",
			"items", item,
			"minItems", 1,
			"maxItems", maxBatch,
		)),
		"required", []any{"inputs"},
		"additionalProperties", false,
	)
}

// batchResponseSchema is the schema of a batch answer whose outputs satisfy
// output. The outputs use anyOf, not oneOf, so that null stays valid for a
// model whose output schema accepts null too.
func batchResponseSchema(output any) *object {
	return obj(
		"type", "object",
		"properties", obj(
			"outputs", obj(
				"type", "array",
				"description", "One entry per input, in order: the model's output, or null if that input failed.",
				"items", obj("anyOf", []any{output, obj("type", "null")}),
			),
			"errors", obj(
				"type", "array",
				"description", "One entry per failed input, in the order of the inputs; empty when none failed.",
				"items", schemaRef(schemaBatchError),
			),
		),
		"required", []any{"outputs", "errors"},
	)
}

// batchResponses are the responses of a batch predict operation: those of
// a single prediction, with a 413 for a batch too large as well.
func batchResponses(ok response, auth bool, notFound string) *object {
	r := predictResponses(ok, auth, notFound)
	r.set("413", responseRef("BatchTooLarge"))
	return r
}

// examples turns the "examples" of a schema into a Media Type Object's
// examples, named example_1, example_2, ... Nil if there are none.
func examples(values []any, summary string) *object {
	if len(values) == 0 {
		return nil
	}
	o := &object{}
	for i, v := range values {
		n := strconv.Itoa(i + 1)
		o.set("example_"+n, example{Summary: summary + " " + n, Value: v})
	}
	return o
}

// predictResponses are the responses of a predict operation, whose 404 is
// the shared response notFound.
func predictResponses(ok response, auth bool, notFound string) *object {
	return responses(ok, auth, map[string]string{
		"400": "MalformedJSON",
		"404": notFound,
		"408": "RequestTimeout",
		"413": "BodyTooLarge",
		"415": "UnsupportedMediaType",
		"422": "InvalidInput",
		"429": "ModelBusy",
		"500": "ModelFailed",
		"502": "BadPluginResponse",
		"503": "ModelUnavailable",
		"504": "ModelTimeout",
	})
}

// responses returns the responses of an operation under /api/, sorted by
// status: ok as 200, the shared responses named in errs by status, and
// those that every such operation may answer: 431 (the headers are too
// large), and 401 when authentication is on.
func responses(ok response, auth bool, errs map[string]string) *object {
	all := map[string]any{"200": ok, "431": responseRef("HeadersTooLarge")}
	if auth {
		all["401"] = responseRef("Unauthorized")
	}
	for status, name := range errs {
		all[status] = responseRef(name)
	}
	return sortedResponses(all)
}

// sortedResponses returns the responses by status as a Responses Object,
// sorted by status.
func sortedResponses(all map[string]any) *object {
	o := &object{}
	for _, status := range slices.Sorted(maps.Keys(all)) { // three digits each: sorted as numbers
		o.set(status, all[status])
	}
	return o
}

func responseRef(name string) reference { return reference{Ref: "#/components/responses/" + name} }

func addGenericPaths(paths *object, auth bool, maxBatch int) {
	nameParam := reference{Ref: "#/components/parameters/" + paramQualifiedName}
	versionParam := reference{Ref: "#/components/parameters/" + paramVersion}
	paths.set("/api/models", pathItem{Get: &operation{
		Tags:    []string{tagModels},
		Summary: "List the models",
		Description: "Every served model version, sorted by qualified name, then by version, highest first; " +
			"`default` marks the version that the unversioned paths reach. The list is empty, never null, when no model is served.",
		OperationID: "list_models",
		Responses: responses(
			response{Description: "The served models.", Content: obj(jsonType, mediaType{Schema: schemaRef(schemaModelList)})},
			auth, map[string]string{"500": "InternalError"},
		),
		Security: operationSecurity(auth),
	}})
	metadata := func(id, summary, description string, params []any, notFound string) pathItem {
		return pathItem{Get: &operation{
			Tags:        []string{tagModels},
			Summary:     summary,
			Description: description,
			OperationID: id,
			Parameters:  params,
			Responses: responses(
				response{Description: "The model's metadata.", Content: obj(jsonType, mediaType{Schema: schemaRef(schemaModelMetadata)})},
				auth, map[string]string{"404": notFound, "500": "InternalError"},
			),
			Security: operationSecurity(auth),
		}}
	}
	anyInput := func() *object {
		return obj("type", "object", "description", "An input of the model: see its input schema.")
	}
	anyOutput := func() *object {
		return obj("type", "object", "description", "An output of the model: see its output schema.")
	}
	predict := func(id, summary, description string, params []any, notFound string) pathItem {
		return pathItem{Post: &operation{
			Tags:        []string{tagModels},
			Summary:     summary,
			Description: description,
			OperationID: id,
			Parameters:  params,
			RequestBody: &requestBody{
				Description: "One input: a JSON object that satisfies the model's input schema.",
				Required:    true,
				Content:     obj(jsonType, mediaType{Schema: anyInput()}),
			},
			Responses: predictResponses(response{
				Description: "The model's output, which satisfies its output schema.",
				Content:     obj(jsonType, mediaType{Schema: anyOutput()}),
			}, auth, notFound),
			Security: operationSecurity(auth),
		}}
	}
	batch := func(id, summary, description string, params []any, notFound string) pathItem {
		return pathItem{Post: &operation{
			Tags:        []string{tagModels},
			Summary:     summary,
			Description: description,
			OperationID: id,
			Parameters:  params,
			RequestBody: &requestBody{
				Description: "The inputs, at least one: JSON objects that satisfy the model's input schema.",
				Required:    true,
				Content:     obj(jsonType, mediaType{Schema: batchRequestSchema(anyInput(), maxBatch)}),
			},
			Responses: batchResponses(response{
				Description: "One output or null per input, in order, and the problem of each input that failed.",
				Content:     obj(jsonType, mediaType{Schema: batchResponseSchema(anyOutput())}),
			}, auth, notFound),
			Security: operationSecurity(auth),
		}}
	}
	const batchAnswer = "The answer is 200 with one entry of `outputs` per input (null for an input that failed) and one entry of " +
		"`errors` per failed input, so check `errors`."

	byName := []any{nameParam}
	paths.set("/api/models/{qualified_name}/metadata", metadata("get_model_metadata", "Describe a model",
		"The default version of the model named in the path: its name, description and version, "+
			"with its input and output JSON Schemas (draft 2020-12).",
		byName, "ModelNotFound"))
	paths.set("/api/models/{qualified_name}/predict", predict("predict", "Run a prediction with any model",
		"Runs one prediction with the default version of the model named in the path. The body must satisfy the model's "+
			"`input_schema` (see `GET /api/models/{qualified_name}/metadata`); each model's own operation "+
			"documents its input and output exactly.",
		byName, "ModelNotFound"))
	paths.set("/api/models/{qualified_name}/predict/batch", batch("predict_batch", "Run a batch of predictions with any model",
		"Runs many predictions with the default version of the model named in the path, sent to it in one call. Each input must "+
			"satisfy the model's `input_schema`; each model's own batch operation documents its inputs and outputs exactly. "+batchAnswer,
		byName, "ModelNotFound"))

	byVersion := []any{nameParam, versionParam}
	paths.set("/api/models/{qualified_name}/versions/{version}/metadata", metadata("get_model_version_metadata", "Describe a model version",
		"One version of a model, named in the path, whether or not it is the default: its name, description and version, "+
			"with its input and output JSON Schemas (draft 2020-12).",
		byVersion, "ModelVersionNotFound"))
	paths.set("/api/models/{qualified_name}/versions/{version}/predict", predict("predict_version", "Run a prediction with any model version",
		"Runs one prediction with the version of the model named in the path. The body must satisfy that version's "+
			"`input_schema` (see `GET /api/models/{qualified_name}/versions/{version}/metadata`); each version's own operation "+
			"documents its input and output exactly.",
		byVersion, "ModelVersionNotFound"))
	paths.set("/api/models/{qualified_name}/versions/{version}/predict/batch", batch("predict_batch_version", "Run a batch of predictions with any model version",
		"Runs many predictions with the version of the model named in the path, sent to it in one call. Each input must "+
			"satisfy that version's `input_schema`. "+batchAnswer,
		byVersion, "ModelVersionNotFound"))
}

// qualifiedNamePattern is the shape of a qualified name, as sdk.Info.Validate
// checks it.
const qualifiedNamePattern = "^[a-z0-9][a-z0-9_.-]*$"

func qualifiedNameParameter(models []*registry.Entry) *object {
	p := obj(
		"name", "qualified_name",
		"in", "path",
		"required", true,
		"description", "The model's qualified name, as GET /api/models lists it.",
		"schema", obj("type", "string", "pattern", qualifiedNamePattern, "maxLength", sdk.MaxQualifiedNameLength),
	)
	if len(models) > 0 {
		ex := &object{}
		for _, e := range models {
			if _, ok := ex.get(e.Info.QualifiedName); !ok { // one per name, of its highest version
				ex.set(e.Info.QualifiedName, example{Summary: e.Info.DisplayName, Value: e.Info.QualifiedName})
			}
		}
		p.set("examples", ex)
	}
	return p
}

// versionPattern is the shape of a model version, a Semantic Versioning
// 2.0.0 version without a leading "v", as sdk.ValidVersion checks it.
const versionPattern = `^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)` +
	`(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?` +
	`(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$`

func versionParameter(models []*registry.Entry) *object {
	p := obj(
		"name", "version",
		"in", "path",
		"required", true,
		"description", "The model's version, exactly as GET /api/models lists it (1.0.0 is not 1.0).",
		"schema", obj("type", "string", "pattern", versionPattern),
	)
	if len(models) > 0 {
		ex := &object{}
		for _, e := range models {
			key := e.Info.QualifiedName + "_" + e.Info.Version
			ex.set(safeComponentName(key), example{Summary: e.Info.DisplayName + " " + e.Info.Version, Value: e.Info.Version})
		}
		p.set("examples", ex)
	}
	return p
}

func addGenericSchemas(schemas *object) {
	summaryProps := func() *object {
		return obj(
			"qualified_name", obj("type", "string", "pattern", qualifiedNamePattern, "maxLength", sdk.MaxQualifiedNameLength,
				"description", "The name to use in the model's URLs."),
			"display_name", obj("type", "string", "description", "A short human-readable name."),
			"description", obj("type", "string", "description", "What the model does."),
			"version", obj("type", "string", "description", "The model's semantic version, such as 1.0.0."),
			"status", obj("type", "string", "description", "The model's state: ready, starting, restarting, failed or stopping (see docs/operations.md).",
				"examples", []any{string(registry.StatusReady)}),
			"last_error", obj("type", "string", "description", "Why the model's plugin last exited or failed to start; absent if it never did."),
			"restarts", obj("type", "integer", "minimum", 0, "description", "How many times the model's plugin was relaunched."),
			"pid", obj("type", "integer", "minimum", 1, "description", "The plugin's process ID while the model is ready."),
			"default", obj("type", "boolean", "description", "Whether this is the default version of the model, the one that "+
				"/api/models/{qualified_name}/predict reaches: the version pinned in the configuration, else the highest. "+
				"A model served in one version is its own default."),
		)
	}
	summaryRequired := []any{"qualified_name", "display_name", "description", "version", "status", "restarts", "default"}
	anySchema := func(description string) *object {
		return obj("type", []any{"object", "boolean"}, "description", description)
	}
	metadataProps := summaryProps()
	metadataProps.set("input_schema", anySchema("The JSON Schema (draft 2020-12) that every input must satisfy. Its examples, if any, are valid inputs."))
	metadataProps.set("output_schema", anySchema("The JSON Schema (draft 2020-12) of the model's outputs."))

	schemas.set(schemaModelList, obj(
		"type", "object",
		"description", "The served models.",
		"properties", obj("models", obj(
			"type", "array",
			"description", "Every served model version, sorted by qualified name, then by version, highest first.",
			"items", schemaRef(schemaModelSummary),
		)),
		"required", []any{"models"},
	))
	schemas.set(schemaModelSummary, obj(
		"type", "object",
		"description", "One served version of a model.",
		"properties", summaryProps(),
		"required", summaryRequired,
	))
	schemas.set(schemaModelMetadata, obj(
		"type", "object",
		"description", "A served model version with its JSON Schemas.",
		"properties", metadataProps,
		"required", append(summaryRequired, "input_schema", "output_schema"),
	))
	schemas.set(schemaProblem, obj(
		"type", "object",
		"description", "An RFC 9457 problem details document: what went wrong with a request.",
		"properties", obj(
			"type", obj("type", "string", "format", "uri",
				"description", "A URI naming the kind of problem, a link to its description; about:blank for a status without a type of its own. Compare it, not title or detail, to tell problems apart."),
			"title", obj("type", "string", "description", "A short summary of the type; the same for every occurrence."),
			"status", obj("type", "integer", "minimum", 100, "maximum", 599, "description", "The HTTP status code, repeated."),
			"detail", obj("type", "string", "description", "What went wrong this time, for a person. Its wording may change between versions."),
			"instance", obj("type", "string", "format", "uri-reference", "description", "The request's path."),
			"errors", obj(
				"type", "array",
				"description", "For invalid-input only: one entry per problem in the input, sorted by pointer.",
				"items", schemaRef(schemaFieldError),
			),
			"diagnostics", obj(
				"type", "array",
				"description", "For invalid-config only: each problem of the configuration file, as `file:line,col: summary; detail`.",
				"items", obj("type", "string"),
			),
		),
		"required", []any{"type", "title", "status", "detail"},
	))
	schemas.set(schemaFieldError, obj(
		"type", "object",
		"description", "One problem located at a value of the request body.",
		"properties", obj(
			"pointer", obj("type", "string", "format", "json-pointer",
				"description", "A JSON Pointer (RFC 6901) into the request body; \"\" is the whole body. A missing or unknown property is pointed at itself."),
			"detail", obj("type", "string", "description", "What is wrong with that value."),
		),
		"required", []any{"pointer", "detail"},
	))
	schemas.set(schemaBatchError, obj(
		"type", "object",
		"description", "The problem of one input of a batch: the problem details it would have got as a single prediction, without instance, with its index.",
		"properties", obj(
			"index", obj("type", "integer", "minimum", 0, "description", "The input's position in inputs, from 0."),
			"status", obj("type", "integer", "minimum", 100, "maximum", 599, "description", "The HTTP status a single prediction of this input would have got."),
			"type", obj("type", "string", "format", "uri", "description", "A URI naming the kind of problem, as in Problem."),
			"title", obj("type", "string", "description", "A short summary of the type."),
			"detail", obj("type", "string", "description", "What went wrong with this input, for a person."),
			"errors", obj(
				"type", "array",
				"description", "For invalid-input only: one entry per problem in the input. The pointers are relative to the input, not to the request body.",
				"items", schemaRef(schemaFieldError),
			),
		),
		"required", []any{"index", "status", "type", "title", "detail"},
	))
}

// problemExample is one example of a problem response.
type problemExample struct {
	name string
	err  error
}

// The details of the problems that package api words itself, as it sends
// them (the tests compare the examples with the server's answers).
const (
	// detailMissingToken and detailInvalidToken are the details of the
	// 401s for a request without a bearer token and with one that the
	// server does not accept.
	detailMissingToken = "this endpoint requires an API token: send it as Authorization: Bearer TOKEN"
	detailInvalidToken = "the API token is not valid"
	// detailQueueFull and detailQueueTimeout are the details of the 429s
	// for a model whose wait queue is full (with its concurrency and queue
	// length) and for a request that waited too long (with the wait).
	detailQueueFull    = "the model is answering %d requests, as many as it may at once, and %d more are waiting; try again shortly"
	detailQueueTimeout = "the model stayed busy for the %s that a request may wait for its turn; try again shortly"
	// detailMissingAdminToken and detailInvalidAdminToken are the details
	// of the 401s of POST /admin/reload, and detailAdminOff that of its
	// 403 (package ops).
	detailMissingAdminToken = "this endpoint requires an admin token: send it as Authorization: Bearer TOKEN"
	detailInvalidAdminToken = "the admin token is not valid"
	detailAdminOff          = "the admin API is off: add an admin block with tokens to the configuration to use it"
)

// exampleMissingVersion is the version that the examples of a 404 for a
// version that is not served ask for.
const exampleMissingVersion = "9.9.9"

// addProblemResponses adds the error responses to components. Their
// examples come from problem.FromError and the problem constructors, so that
// they carry the type URIs, titles and details the server sends.
// exampleModel is served at exampleVersions, highest first.
func addProblemResponses(c *components, exampleModel string, exampleVersions []string, opts Options) {
	instance := predictPath(exampleModel)
	maxBody := opts.MaxBodyBytes
	if maxBody <= 0 {
		maxBody = api.DefaultMaxBodyBytes
	}
	maxHeader := opts.MaxHeaderBytes
	if maxHeader <= 0 {
		maxHeader = api.DefaultMaxHeaderBytes
	}
	add := func(name, description, at string, exs ...problemExample) {
		o := &object{}
		retry, challenge := false, false
		titles := map[string]int{}
		for _, ex := range exs {
			titles[problem.FromError(ex.err).Title]++
		}
		for _, ex := range exs {
			d := *problem.FromError(ex.err)
			d.Instance = at
			summary := d.Title
			if titles[d.Title] > 1 { // "Model busy (queue full)", to tell them apart
				summary += " (" + strings.ReplaceAll(ex.name, "-", " ") + ")"
			}
			o.set(ex.name, example{Summary: summary, Value: d})
			// problem.Write sends these headers with these statuses.
			retry = retry || d.Status == http.StatusServiceUnavailable || d.Status == http.StatusTooManyRequests
			challenge = challenge || d.Status == http.StatusUnauthorized
		}
		r := response{Description: description, Content: obj(problem.ContentType, mediaType{
			Schema:   schemaRef(schemaProblem),
			Examples: o,
		})}
		switch {
		case retry:
			r.Headers = obj("Retry-After", reference{Ref: "#/components/headers/" + headerRetryAfter})
		case challenge:
			r.Headers = obj("WWW-Authenticate", reference{Ref: "#/components/headers/" + headerWWWAuth})
		}
		c.Responses.set(name, r)
	}
	add("MalformedJSON", "The body is empty, could not be read, or is not exactly one well-formed JSON document.", instance,
		problemExample{"malformed-json", problem.MalformedJSON("invalid character '}' looking for beginning of object key string at line 1, column 21 (byte offset 20)")})
	add("ModelNotFound", "No served model has this name.", "/api/models/no_such_model/predict",
		problemExample{"model-not-found", problem.ModelNotFound("no_such_model")})
	add("ModelVersionNotFound", "No served model has this name, or the model is not served at this version.",
		versionPath(exampleModel, exampleMissingVersion)+"/predict",
		problemExample{"model-not-found", problem.ModelNotFound("no_such_model")},
		problemExample{"model-version-not-found", problem.ModelVersionNotFound(exampleModel, exampleMissingVersion, exampleVersions)})
	add("BodyTooLarge", "The body is larger than the server's limit of "+strconv.FormatInt(maxBody, 10)+" bytes (server.max_body_bytes).", instance,
		problemExample{"body-too-large", problem.BodyTooLarge(maxBody)})
	add("BatchTooLarge", "The body is larger than the server's limit of "+strconv.FormatInt(maxBody, 10)+
		" bytes (server.max_body_bytes), or inputs has more than "+strconv.Itoa(opts.MaxBatchSize)+" items (plugins.max_batch_size).", batchPath(exampleModel),
		problemExample{"body-too-large", problem.BodyTooLarge(maxBody)},
		problemExample{"batch-too-large", problem.BatchTooLarge(opts.MaxBatchSize+1, opts.MaxBatchSize)})
	add("UnsupportedMediaType", "The Content-Type is not application/json or application/*+json (with no charset or charset=utf-8).", instance,
		problemExample{"unsupported-media-type", problem.UnsupportedMediaType("text/plain")})
	add("InvalidInput", "The input does not satisfy the model's input schema, or the model rejected it: errors points at each problem.", instance,
		problemExample{"invalid-input", &problem.ValidationError{Fields: []problem.FieldError{
			{Pointer: "/colour", Detail: "is not allowed: the schema defines no such property"},
			{Pointer: "/petal_width", Detail: "must be greater than 0, got -1"},
		}}})
	add("ModelFailed", "The model failed to compute the prediction (the server's log has the model's error), or the server failed.", instance,
		problemExample{"model-failed", fmt.Errorf("predict: %w", plugin.ErrModelFailed)},
		problemExample{"internal-error", errors.New("unexpected")})
	add("BadPluginResponse", "The model's plugin answered something the server cannot use.", instance,
		problemExample{"bad-plugin-response", fmt.Errorf("predict: %w", plugin.ErrProtocol)})
	add("ModelUnavailable", "The model's plugin process cannot be reached, or the request was canceled before the model answered. Retry after the delay in Retry-After.", instance,
		problemExample{"model-unavailable", fmt.Errorf("predict: %w", plugin.ErrUnavailable)},
		problemExample{"request-canceled", fmt.Errorf("predict: %w", context.Canceled)})
	add("ModelTimeout", "The model did not answer within its predict timeout.", instance,
		problemExample{"model-timeout", &problem.TimeoutError{Timeout: 30 * time.Second, Err: context.DeadlineExceeded}})
	add("InternalError", "The server failed in a way it did not anticipate; its log has the error.", "/api/models",
		problemExample{"internal-error", errors.New("unexpected")})
	add("RequestTimeout", "The request body did not arrive within the server's read timeout (server.read_timeout).", instance,
		problemExample{"request-timeout", problem.RequestTimeout()})
	add("ModelBusy", "The model is answering as many requests as it may at once and its wait queue is full, "+
		"or the request waited in the queue for longer than it may (the limits of the model's configuration). "+
		"Retry after the delay in Retry-After.", instance,
		problemExample{"queue-full", problem.ModelBusy(fmt.Sprintf(detailQueueFull, 4, 8))},
		problemExample{"queue-timeout", problem.ModelBusy(fmt.Sprintf(detailQueueTimeout, 2*time.Second))})
	add("HeadersTooLarge", "The request line and headers are larger than the server's limit of "+strconv.Itoa(maxHeader)+
		" bytes (server.max_header_bytes). Far beyond it, the HTTP server itself answers 431 in plain text.", instance,
		problemExample{"headers-too-large", problem.HeadersTooLarge(maxHeader)})
	if opts.AuthEnabled {
		add("Unauthorized", "The request has no bearer token, or one that the server does not accept: "+
			"send `Authorization: Bearer TOKEN` with a token of the server's auth block.", instance,
			problemExample{"missing-token", problem.Unauthorized(detailMissingToken)},
			problemExample{"invalid-token", problem.Unauthorized(detailInvalidToken)})
	}
	add("AdminUnauthorized", "The request has no bearer token, or one that is not an admin token: "+
		"send `Authorization: Bearer TOKEN` with a token of the server's admin block.", reloadPath,
		problemExample{"missing-token", problem.Unauthorized(detailMissingAdminToken)},
		problemExample{"invalid-token", problem.Unauthorized(detailInvalidAdminToken)})
	add("AdminOff", "The configuration has no admin block with tokens: the admin endpoints are off.", reloadPath,
		problemExample{"forbidden", problem.Forbidden(detailAdminOff)})
	add("InvalidConfig", "The configuration file is invalid: nothing was changed, and the models keep running as before. "+
		"`diagnostics` lists its problems.", reloadPath,
		problemExample{"invalid-config", problem.InvalidConfig([]string{
			`config.hcl:14,3-9: Unsupported argument; An argument named "colour" is not expected here.`,
		})})
}

// buildVersion returns the version of the main module the binary was built
// from, or "devel", as the CLI's "version" command does.
func buildVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "devel"
}
