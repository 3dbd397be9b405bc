package openapi

import (
	"github.com/modelhost/modelhost/host/internal/registry"
)

// The operational endpoints of package ops: probes, metrics and the
// reload of the configuration. They are outside /api/: the API token does
// not guard them. The reload needs an admin token (adminAuth).

// The names of the operational components. Like the generic ones, they
// have no ".", so no model component takes them.
const (
	schemaHealth        = "Health"
	schemaReadiness     = "Readiness"
	schemaModelState    = "ModelState"
	schemaPluginFailure = "PluginFailure"
	schemaReloadReport  = "ReloadReport"
	schemaReloadChange  = "ReloadChange"
	schemaSkippedFile   = "SkippedFile"
)

// The operational paths.
const (
	healthPath    = "/healthz"
	readinessPath = "/readyz"
	metricsPath   = "/metrics"
	reloadPath    = "/admin/reload"
)

// metricsType is the media type of GET /metrics: the Prometheus text
// exposition format, which promhttp answers unless the scraper negotiates
// another.
const metricsType = "text/plain; version=0.0.4"

// exampleTime is the time of the examples.
const exampleTime = "2026-01-15T09:30:00Z"

func addOpsSchemas(schemas *object) {
	dateTime := func(description string) *object {
		return obj("type", "string", "format", "date-time", "description", description)
	}
	str := func(description string) *object { return obj("type", "string", "description", description) }
	schemas.set(schemaHealth, obj(
		"type", "object",
		"description", "The host serves HTTP.",
		"properties", obj("status", obj("const", "ok")),
		"required", []any{"status"},
	))
	schemas.set(schemaReadiness, obj(
		"type", "object",
		"description", "Whether the host should receive traffic, with the state of every model version and the plugins that failed.",
		"properties", obj(
			"ready", obj("type", "boolean", "description", "True when every model version is ready and every plugin that should run runs "+
				"(failed models and plugins are tolerated with server.ready_with_failed_models), and the host is not shutting down."),
			"reason", str("Why the host is not ready, such as `model iris_model 1.0.0 is restarting`; absent when it is ready."),
			"models", obj("type", "array", "description", "Every served model version, sorted by qualified name, then version, highest first.",
				"items", schemaRef(schemaModelState)),
			"failed", obj("type", "array", "description", "The plugins that should run and do not, or whose new process did not start "+
				"while an older one serves on (kept_running), sorted by plugin.",
				"items", schemaRef(schemaPluginFailure)),
		),
		"required", []any{"ready", "models", "failed"},
	))
	schemas.set(schemaModelState, obj(
		"type", "object",
		"description", "The state of one served model version.",
		"properties", obj(
			"model", str("The model's qualified name."),
			"version", str("The model's version."),
			"status", obj("type", "string", "description", "ready, starting, restarting, failed or stopping (see docs/operations.md).",
				"examples", []any{string(registry.StatusReady)}),
			"since", dateTime("When the model entered this status."),
		),
		"required", []any{"model", "version", "status", "since"},
	))
	schemas.set(schemaPluginFailure, obj(
		"type", "object",
		"description", "A plugin that should run and does not.",
		"properties", obj(
			"plugin", str("The model block's label, or the file name of a binary found in the plugin directory."),
			"path", str("The plugin's binary."),
			"origin", str("Where the plugin is declared: a model block of the configuration, or the plugin directory."),
			"error", str("Why it does not run, without the plugin's own output (the server's log has it)."),
			"kept_running", obj("type", "boolean", "description", "True when a replacement failed and the older process of the plugin still serves."),
			"at", dateTime("When it failed."),
		),
		"required", []any{"plugin", "path", "origin", "error", "kept_running", "at"},
	))
	schemas.set(schemaReloadChange, obj(
		"type", "object",
		"description", "A plugin that the reload started, replaced or stopped.",
		"properties", obj(
			"plugin", str("The model block's label, or the file name of a binary found in the plugin directory."),
			"path", str("The plugin's binary."),
			"model", str("The qualified name of the model it serves (served, for a stopped plugin)."),
			"version", str("The version of that model (of the new process, for a replaced plugin)."),
			"previous_version", str("For a replaced plugin, the version that the old process served."),
			"startup_ns", obj("type", "integer", "minimum", 0, "description", "How long the new process took to serve, in nanoseconds."),
		),
		"required", []any{"plugin", "path", "model", "version"},
	))
	schemas.set(schemaSkippedFile, obj(
		"type", "object",
		"description", "A file of the plugin directory that is not served as a plugin.",
		"properties", obj(
			"path", str("The file."),
			"reason", str("Why it is not served, such as `not executable (chmod +x it to serve it)`."),
		),
		"required", []any{"path", "reason"},
	))
	changes := func(description string) *object {
		return obj("type", "array", "description", description, "items", schemaRef(schemaReloadChange))
	}
	schemas.set(schemaReloadReport, obj(
		"type", "object",
		"description", "What a reload changed. A reload that could not start some plugins still answers 200: check `failed`.",
		"properties", obj(
			"started", changes("Plugins launched for the first time."),
			"replaced", changes("Plugins launched again because their binary or settings changed, or because they had failed: "+
				"the new process serves, the old one is drained and stopped."),
			"stopped", changes("Plugins no longer wanted: their models are no longer served, and they are drained and stopped."),
			"unchanged", obj("type", "integer", "minimum", 0, "description", "How many plugins were left running as they were."),
			"failed", obj("type", "array", "description", "Plugins that should run but do not: their launch failed, or their model could not be registered.",
				"items", schemaRef(schemaPluginFailure)),
			"skipped", obj("type", "array", "description", "Files of the plugin directory that are not plugins.",
				"items", schemaRef(schemaSkippedFile)),
		),
		"required", []any{"started", "replaced", "stopped", "unchanged", "failed", "skipped"},
	))
}

// opsSecurity is the security of the probes and of /metrics: none. Stated
// only when the API has authentication, to override the document's.
func opsSecurity(auth bool) any {
	if !auth {
		return nil
	}
	return []any{}
}

// opsResponses are the responses of an operational endpoint, sorted by
// status: those of byStatus, and 431 and 500 that any may answer.
func opsResponses(byStatus map[string]any) *object {
	all := map[string]any{"431": responseRef("HeadersTooLarge"), "500": responseRef("InternalError")}
	for status, r := range byStatus {
		all[status] = r
	}
	return sortedResponses(all)
}

func addOpsPaths(paths *object, auth bool) {
	tags := []string{tagOps}
	paths.set(healthPath, pathItem{Get: &operation{
		Tags:    tags,
		Summary: "Liveness",
		Description: "Answers 200 while the host serves HTTP at all, whatever the state of its models: " +
			"for a liveness probe, which should restart only a host that is stuck. Needs no token.",
		OperationID: "get_health",
		Responses: opsResponses(map[string]any{"200": response{
			Description: "The host serves HTTP.",
			Content: obj(jsonType, mediaType{
				Schema:   schemaRef(schemaHealth),
				Examples: obj("ok", example{Summary: "Alive", Value: obj("status", "ok")}),
			}),
		}}),
		Security: opsSecurity(auth),
	}})

	ready := obj(
		"ready", true,
		"models", []any{obj("model", "iris_model", "version", "1.0.0", "status", string(registry.StatusReady), "since", exampleTime)},
		"failed", []any{},
	)
	notReady := obj(
		"ready", false,
		"reason", "model iris_model 1.0.0 is restarting",
		"models", []any{obj("model", "iris_model", "version", "1.0.0", "status", string(registry.StatusRestarting), "since", exampleTime)},
		"failed", []any{},
	)
	paths.set(readinessPath, pathItem{Get: &operation{
		Tags:    tags,
		Summary: "Readiness",
		Description: "Whether the host should receive traffic: 200 when every model version is ready and every plugin that " +
			"should run runs, 503 otherwise (while plugins start or restart, when one failed, or while the host shuts down), " +
			"with the state of each model version either way: for a readiness probe or a load balancer's health check. " +
			"server.ready_with_failed_models tolerates failed models and plugins. Needs no token.",
		OperationID: "get_readiness",
		Responses: opsResponses(map[string]any{
			"200": response{
				Description: "The host is ready.",
				Content: obj(jsonType, mediaType{
					Schema:   schemaRef(schemaReadiness),
					Examples: obj("ready", example{Summary: "Ready", Value: ready}),
				}),
			},
			"503": response{
				Description: "The host is not ready: `reason` says why. The body is a Readiness, not a problem.",
				Content: obj(jsonType, mediaType{
					Schema:   schemaRef(schemaReadiness),
					Examples: obj("not-ready", example{Summary: "Not ready", Value: notReady}),
				}),
			},
		}),
		Security: opsSecurity(auth),
	}})

	paths.set(metricsPath, pathItem{Get: &operation{
		Tags:    tags,
		Summary: "Prometheus metrics",
		Description: "The host's metrics in the Prometheus text exposition format (protobuf if the scraper asks for it; " +
			"gzip-compressed if it accepts that): HTTP requests, plugin calls, queues, reloads, the state, restarts and memory " +
			"of every model's plugin, and the Go runtime's and the process's own metrics. Needs no token. " +
			"docs/metrics.md lists the metrics.",
		OperationID: "get_metrics",
		Responses: opsResponses(map[string]any{
			"200": response{
				Description: "The metrics.",
				Content: obj(metricsType, mediaType{
					Schema: obj("type", "string"),
					Examples: obj("metrics", example{
						Summary: "Metrics (an excerpt)",
						Value: "# HELP modelhost_http_requests_total HTTP requests answered.\n" +
							"# TYPE modelhost_http_requests_total counter\n" +
							"modelhost_http_requests_total{code=\"200\",method=\"POST\",model=\"iris_model\",route=\"/api/models/:name/predict\",version=\"1.0.0\"} 42\n",
					}),
				}),
			},
			"503": response{
				Description: "As many scrapes are being answered as may be at once; scrape again later.",
				Content:     obj("text/plain", mediaType{Schema: obj("type", "string")}),
			},
		}),
		Security: opsSecurity(auth),
	}})

	report := obj(
		"started", []any{obj("plugin", "greeter-2", "path", "/srv/modelhost/plugins/greeter-2",
			"model", "greeter", "version", "2.0.0", "startup_ns", 41000000)},
		"replaced", []any{obj("plugin", "iris", "path", "/srv/modelhost/plugins/iris",
			"model", "iris_model", "version", "1.1.0", "previous_version", "1.0.0", "startup_ns", 38000000)},
		"stopped", []any{},
		"unchanged", 2,
		"failed", []any{},
		"skipped", []any{},
	)
	paths.set(reloadPath, pathItem{Post: &operation{
		Tags:    tags,
		Summary: "Reload the configuration and the plugins",
		Description: "Reads the configuration file again and brings the plugins in line with it and with the plugin directory, " +
			"as SIGHUP does: new plugins are started, changed ones replaced (the new process serves before the old one is " +
			"drained and stopped, so that no request is lost), removed ones stopped. Settings that only a restart applies " +
			"keep their running values. An invalid configuration changes nothing and is answered 422. Reloads never overlap. " +
			"Needs an admin token (adminAuth); answers 403 while the configuration has no admin block.",
		OperationID: "reload",
		Responses: opsResponses(map[string]any{
			"200": response{
				Description: "The reload is done; `failed` lists the plugins that should run but do not.",
				Content: obj(jsonType, mediaType{
					Schema:   schemaRef(schemaReloadReport),
					Examples: obj("reloaded", example{Summary: "A version added, a plugin replaced", Value: report}),
				}),
			},
			"401": responseRef("AdminUnauthorized"),
			"403": responseRef("AdminOff"),
			"422": responseRef("InvalidConfig"),
		}),
		Security: []any{obj(adminSecurityScheme, []any{})},
	}})
}
