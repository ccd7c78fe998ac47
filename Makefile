# Sluice: GitOps for Amazon EKS as Lambda functions. `make help` lists targets.

SHELL := /bin/bash
GO ?= go
# Go's own settings (GOPROXY, GOTOOLCHAIN, GOFLAGS...) are the user's: the
# Makefile sets none of them.

FUNCTIONS := $(notdir $(wildcard functions/*))
GOARCH ?= arm64
BUILD_DIR ?= build
ENVTEST := tools/envtest/build.sh
# The folder holding kube-apiserver and etcd, built on first use (minutes).
ASSETS = $(shell $(ENVTEST) | tail -n 1)

.PHONY: help build sluice test test-race envtest demo bench vet clean build-WebhookFunction build-ReconcileFunction build-ImageUpdateFunction build-DriftFunction

help: ## list targets
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

build: ## one bootstrap per function for Lambda (linux/$(GOARCH)) in build/<function>/
	@for f in $(FUNCTIONS); do \
		CGO_ENABLED=0 GOOS=linux GOARCH=$(GOARCH) $(GO) build -tags lambda.norpc -trimpath -ldflags='-s -w' \
			-o $(BUILD_DIR)/$$f/bootstrap ./functions/$$f || exit 1; \
		echo "$(BUILD_DIR)/$$f/bootstrap ($$(du -h $(BUILD_DIR)/$$f/bootstrap | cut -f1))"; \
	done

sluice: ## the sluice command for this machine, in bin/sluice
	$(GO) build -o bin/sluice ./cmd/sluice

# sam build (BuildMethod: makefile) calls build-<LogicalId> with ARTIFACTS_DIR set.
build-WebhookFunction build-ReconcileFunction build-ImageUpdateFunction build-DriftFunction:
	$(eval fn := $(patsubst build-%Function,%,$@))
	$(eval dir := $(if $(filter ImageUpdate,$(fn)),image-update,$(shell echo $(fn) | tr A-Z a-z)))
	CGO_ENABLED=0 GOOS=linux GOARCH=$(GOARCH) $(GO) build -tags lambda.norpc -trimpath -ldflags='-s -w' \
		-o $(ARTIFACTS_DIR)/bootstrap ./functions/$(dir)

envtest: ## build kube-apiserver and etcd once into a cache outside the clone; prints the folder last
	@$(ENVTEST)

vet: ## go vet every package
	$(GO) vet ./...

test: ## vet and run every test against a real kube-apiserver, etcd and Git server
	@echo "make test: kube-apiserver and etcd come from $$($(ENVTEST) | tail -n 1)"
	$(GO) vet ./...
	KUBEBUILDER_ASSETS="$(ASSETS)" $(GO) test -count=1 -timeout 30m ./...

# The packages whose code or tests run goroutines: errgroup diffs and applies
# (kube, drift, reconcile), the shared token cache (eksauth), memos and locks
# (desired, images, render, secrets), concurrent pushes and updates (gitrepo,
# imageupdate), notifications and their record (alerting, alertledger), and
# the in-process servers (awstest, webhook, github).
RACE_PKGS := ./internal/alerting/ ./internal/alertledger/ ./internal/awstest/ ./internal/desired/ ./internal/drift/ ./internal/eksauth/ \
	./internal/github/ ./internal/gitrepo/ ./internal/images/ ./internal/imageupdate/ \
	./internal/kube/ ./internal/reconcile/ ./internal/render/ ./internal/secrets/ ./internal/webhook/

test-race: ## run the packages with concurrency again under the race detector (cgo: needs gcc)
	KUBEBUILDER_ASSETS="$(ASSETS)" CGO_ENABLED=1 $(GO) test -race -count=1 -timeout 30m $(RACE_PKGS)

# Only a KUBECONFIG given on the command line (make demo KUBECONFIG=...) aims
# the demo at a cluster of yours; one merely exported in your shell does not.
DEMO_KUBECONFIG := $(if $(filter command line,$(origin KUBECONFIG)),$(KUBECONFIG))

demo: ## run the tutorial locally against a real kube-apiserver and Git server (or: make demo KUBECONFIG=...)
	SLUICE_DEMO_KUBECONFIG="$(DEMO_KUBECONFIG)" KUBEBUILDER_ASSETS="$(if $(DEMO_KUBECONFIG),,$(ASSETS))" $(GO) run ./examples/demo

bench: ## compare Sluice with kubectl side by side
	KUBEBUILDER_ASSETS="$(ASSETS)" $(GO) run ./examples/bench

clean:
	rm -rf $(BUILD_DIR) bin
