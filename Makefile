# modelhost — run `make` or `make help` to list the targets.

GO        ?= go
BIN       := bin
PLUGINS   := iris sentiment
EXAMPLES  := penguin-size
BUF       := $(GO) run github.com/bufbuild/buf/cmd/buf@v1.75.0
# Plugins are linked statically, without cgo: they resolve no host names
# and need no C library, and a static plugin maps neither libc nor the
# dynamic loader (about 1.7 MiB less resident memory per plugin process).
PLUGIN_ENV := CGO_ENABLED=0
# Test flags; override e.g. with `make test TESTFLAGS=-v`.
TESTFLAGS ?=

.DEFAULT_GOAL := help

.PHONY: help
help: ## Show this help.
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[36m%-12s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: build
build: ## Build the host (bin/modelhost) and the bundled plugins (bin/plugins/).
	$(GO) build -buildvcs=auto -o $(BIN)/modelhost ./host/cmd/modelhost
	@mkdir -p $(BIN)/plugins
	@for p in $(PLUGINS); do echo "$(PLUGIN_ENV) $(GO) build -o $(BIN)/plugins/$$p ./plugins/$$p"; $(PLUGIN_ENV) $(GO) build -o $(BIN)/plugins/$$p ./plugins/$$p || exit 1; done
	@for e in $(EXAMPLES); do echo "(cd examples/$$e && $(PLUGIN_ENV) $(GO) build -o ../../$(BIN)/plugins/$$e .)"; (cd examples/$$e && $(PLUGIN_ENV) $(GO) build -o ../../$(BIN)/plugins/$$e .) || exit 1; done

.PHONY: run
run: build ## Build everything and serve it on http://127.0.0.1:8080.
	$(BIN)/modelhost serve --config config.hcl

.PHONY: test
test: lint ## Check formatting and generated code, then build and run every test (unit, integration) with the race detector.
	$(GO) test -race -count=1 $(TESTFLAGS) ./... ./sdk/...
	@for e in $(EXAMPLES); do (cd examples/$$e && $(GO) test -race -count=1 $(TESTFLAGS) ./...) || exit 1; done

.PHONY: lint
lint: ## Check formatting, go vet, and that the generated protobuf code is current.
	@out=$$(gofmt -l host sdk plugins examples); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./... ./sdk/...
	@for e in $(EXAMPLES); do (cd examples/$$e && $(GO) vet ./...) || exit 1; done
	$(MAKE) proto-check

.PHONY: bench
bench: ## Measure the host against an in-process baseline (a few minutes; BENCHFLAGS=-quick for a smoke run). Results in bin/bench/.
	$(GO) build -o $(BIN)/bench/bench ./host/bench
	$(BIN)/bench/bench $(BENCHFLAGS)

.PHONY: proto
proto: ## Regenerate the plugin protocol's Go code with pinned generators.
	cd sdk && $(BUF) lint && $(BUF) generate

.PHONY: proto-check
proto-check: ## Fail if the committed protobuf code differs from a fresh generation.
	sdk/internal/modelpb/check-generated.sh

.PHONY: clean
clean: ## Remove built binaries.
	rm -rf $(BIN)

# Swagger UI, served at /docs, is vendored from npm: `make swagger-ui`
# refreshes it at this version (see host/internal/openapi/swaggerui/README.md).
SWAGGER_UI_VERSION := 5.35.0
SWAGGER_UI_DIR     := host/internal/openapi/swaggerui
SWAGGER_UI_FILES   := swagger-ui.css swagger-ui-bundle.js swagger-ui-bundle.js.LICENSE.txt favicon-16x16.png favicon-32x32.png LICENSE

.PHONY: swagger-ui
swagger-ui: ## Refresh the vendored Swagger UI from npm at SWAGGER_UI_VERSION (needs npm).
	@command -v npm >/dev/null 2>&1 || { echo "swagger-ui: npm is required" >&2; exit 1; }
	@set -e; tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	(cd "$$tmp" && npm pack --silent swagger-ui-dist@$(SWAGGER_UI_VERSION) >/dev/null); \
	tar -xzf "$$tmp/swagger-ui-dist-$(SWAGGER_UI_VERSION).tgz" -C "$$tmp"; \
	for f in $(SWAGGER_UI_FILES); do cp "$$tmp/package/$$f" "$(SWAGGER_UI_DIR)/$$f"; done; \
	rm -f "$(SWAGGER_UI_DIR)/NOTICE"; \
	if [ -f "$$tmp/package/NOTICE" ]; then cp "$$tmp/package/NOTICE" "$(SWAGGER_UI_DIR)/NOTICE"; fi; \
	sed -e 's/swagger-ui-dist@[0-9][0-9A-Za-z.+-]*/swagger-ui-dist@$(SWAGGER_UI_VERSION)/g' "$(SWAGGER_UI_DIR)/README.md" > "$$tmp/README.md"; \
	cp "$$tmp/README.md" "$(SWAGGER_UI_DIR)/README.md"; \
	echo "swagger-ui: $(SWAGGER_UI_DIR) now holds swagger-ui-dist@$(SWAGGER_UI_VERSION)"

# The web UI's browser libraries are vendored from npm into
# host/internal/web/static/vendor/: `make web-assets` refreshes them at these
# versions (each directory's README.md names package, version and licence).
# The browser tests in host/browser, part of `make test`, need Chromium
# (apt-get install chromium, or CHROME_PATH); with CI set they fail without it.
JSON_EDITOR_VERSION := 2.17.2
PICO_VERSION        := 2.1.1

.PHONY: web-assets
web-assets: ## Refresh the web UI's vendored json-editor and Pico CSS from npm at the pinned versions (needs npm).
	@command -v npm >/dev/null 2>&1 || { echo "web-assets: npm is required" >&2; exit 1; }
	host/internal/web/update-vendor.sh $(JSON_EDITOR_VERSION) $(PICO_VERSION)
