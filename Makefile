# modelhost — run `make` or `make help` to list the targets.

GO        ?= go
BIN       := bin
PLUGINS   := iris sentiment
EXAMPLES  := penguin-size
BUF       := $(GO) run github.com/bufbuild/buf/cmd/buf@v1.75.0
# Test flags; override e.g. with `make test TESTFLAGS=-v`.
TESTFLAGS ?=

.DEFAULT_GOAL := help

.PHONY: help
help: ## Show this help.
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[36m%-12s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: build
build: ## Build the host (bin/modelhost) and the bundled plugins (bin/plugins/).
	$(GO) build -o $(BIN)/modelhost ./host/cmd/modelhost
	@mkdir -p $(BIN)/plugins
	@for p in $(PLUGINS); do echo "$(GO) build -o $(BIN)/plugins/$$p ./plugins/$$p"; $(GO) build -o $(BIN)/plugins/$$p ./plugins/$$p || exit 1; done
	@for e in $(EXAMPLES); do echo "(cd examples/$$e && $(GO) build -o ../../$(BIN)/plugins/$$e .)"; (cd examples/$$e && $(GO) build -o ../../$(BIN)/plugins/$$e .) || exit 1; done

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

.PHONY: proto
proto: ## Regenerate the plugin protocol's Go code with pinned generators.
	cd sdk && $(BUF) lint && $(BUF) generate

.PHONY: proto-check
proto-check: ## Fail if the committed protobuf code differs from a fresh generation.
	sdk/internal/modelpb/check-generated.sh

.PHONY: clean
clean: ## Remove built binaries.
	rm -rf $(BIN)
