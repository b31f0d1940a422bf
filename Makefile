# Partner API — developer entry points. `make run` and `make test` are the two
# commands of the README's quick start.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
GO ?= go
PORT ?= 8080
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
# Every functions/<group>/main.go is one Lambda function (the infra uses the same rule).
FUNCTIONS := $(patsubst functions/%/main.go,%,$(wildcard functions/*/main.go))
# Lambda build: Amazon Linux 2023, arm64, static binary named bootstrap.
LAMBDA_ENV := GOOS=linux GOARCH=arm64 CGO_ENABLED=0
LAMBDA_FLAGS := -tags lambda.norpc -trimpath -ldflags="-s -w"

STAGE    ?= dev
CDK_ARGS ?=
CDK      := npx --no-install cdk
CDKLOCAL := npx --no-install cdklocal
LOCALSTACK_COMPOSE := docker compose -f localstack/compose.yaml
# Node 20 is end-of-life: the CDK's JSII runtime prints a banner per run. Harmless.
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION ?= 20

.PHONY: help run test deps lint unit fuzz fuzz-brief build bench loadtest hydra coldstart e2e synth infra-test cfn-lint localstack-up localstack-down deploy-local clean

help: ## list the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

run: deps ## serve every endpoint group on 127.0.0.1:$(PORT) with DynamoDB Local and moto KMS
	PORT=$(PORT) $(GO) run ./cmd/local

test: deps lint unit fuzz-brief ## all checks and tests (what CI runs)

deps: node_modules/.installed ## install Go modules, DynamoDB Local and the CDK CLI (npm)
	@# aws-cdk ships Go init templates; a go.mod makes node_modules a module of
	@# its own, which `go ... ./...` then skips.
	@test -f node_modules/go.mod || echo 'module node_modules // not part of the build' > node_modules/go.mod
	$(GO) mod download

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

lint: ## gofmt, go vet and staticcheck
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); \
	  if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

unit: ## go test -race over every package, with DynamoDB Local and moto started once for the run
	$(GO) run ./cmd/devstack -- $(GO) test -race -count=1 -timeout 20m ./...

FUZZTIME ?= 60s
fuzz: ## run every native Go fuzz target for FUZZTIME each (default 60s) with the emulators up; crashers land in testdata/fuzz
	$(GO) run ./cmd/devstack -- ./.ci/fuzz $(FUZZTIME)

fuzz-brief: ## every fuzz target for 50,000 executions (part of make test)
	$(GO) run ./cmd/devstack -- ./.ci/fuzz 50000x

build: ## cross-compile every function to dist/<function>/bootstrap (linux/arm64)
	@for f in $(FUNCTIONS); do \
	  echo "build $$f"; \
	  $(LAMBDA_ENV) $(GO) build $(LAMBDA_FLAGS) -o dist/$$f/bootstrap ./functions/$$f; \
	done

bench: deps ## benchmarks (token issuance and verification) against the emulators
	$(GO) run ./cmd/devstack -- $(GO) test -run '^$$' -bench . -benchmem -count 5 ./shared/tokenapi/ ./shared/signin/

DURATION ?= 15s
CONCURRENCY ?= 16
SCENARIOS ?= partner-token,client-token,client-token-chosen,get-organisation,introspect,baseline-token,hydra-token
# HYDRA: an Ory Hydra binary for the hydra-token scenario (default: the one
# make hydra built, if any); CPUS / CLIENT_CPUS: taskset CPU lists for the
# servers and for the load test (e.g. CPUS=0 CLIENT_CPUS=1: every server on one core);
# EMULATOR_CPUS: taskset CPU list for DynamoDB Local and moto (e.g. 1: off the server's core);
# RATE: requests/s offered to every scenario (empty: as fast as the servers answer).
# HYDRA_DIR is outside the repository, so that Hydra stays out of this module's go.mod.
HYDRA_DIR ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/partner-api/hydra-v2.3.0
HYDRA ?= $(wildcard $(HYDRA_DIR)/hydra)
CPUS ?=
CLIENT_CPUS ?=
EMULATOR_CPUS ?=
RATE ?=
loadtest: deps ## drive the local stack (make run's) for DURATION per scenario with CONCURRENCY workers; prints req/s, p50/p99, errors, CPU ms/request; HYDRA=path adds Ory Hydra
	$(GO) run ./cmd/loadtest -duration $(DURATION) -concurrency $(CONCURRENCY) -scenarios $(SCENARIOS) \
	  $(if $(HYDRA),-hydra $(HYDRA)) $(if $(CPUS),-cpus $(CPUS)) $(if $(CLIENT_CPUS),-client-cpus $(CLIENT_CPUS)) \
	  $(if $(EMULATOR_CPUS),-emulator-cpus $(EMULATOR_CPUS)) $(if $(RATE),-rate $(RATE))

hydra: ## build Ory Hydra v2.3.0 (the load test's yardstick) from the Go module proxy into HYDRA_DIR/hydra
	cmd/loadtest/build-hydra.sh $(HYDRA_DIR)

COLDSTART_RUNS ?= 5
COLDSTART_NATIVE ?=
coldstart: ## each function's cold start (process start to first response, linux/arm64 under qemu when present; COLDSTART_NATIVE=1: this machine's build) against a hello-world; bootstrap sizes
	$(GO) run ./cmd/devstack -- env COLDSTART_RUNS=$(COLDSTART_RUNS) COLDSTART_NATIVE=$(COLDSTART_NATIVE) $(GO) test -count=1 -run '^TestColdStart$$' -v ./functions/

e2e: ## end-to-end suite against BASE_URL as the partner CLIENT_ID/CLIENT_SECRET (in process when BASE_URL is empty)
	E2E_BASE_URL="$(BASE_URL)" E2E_CLIENT_ID="$(CLIENT_ID)" E2E_CLIENT_SECRET="$(CLIENT_SECRET)" \
	  $(GO) test -count=1 -v ./e2e/

synth: deps build ## synthesise the stack of STAGE into cdk.out/ (cdk-nag runs too); CDK_ARGS="-c key=value ..."
	$(CDK) synth -c stage=$(STAGE) $(CDK_ARGS) --quiet

infra-test: ## infra tests only: CDK assertions, cdk-nag, cfn-lint (also part of make test)
	$(GO) test -count=1 ./infra/...

cfn-lint: synth ## lint the synthesised template of STAGE (W3005: a redundant DependsOn the CDK adds)
	cfn-lint --ignore-checks W3005 -- cdk.out/PartnerApi-$(STAGE).template.json

localstack-up: ## start LocalStack (Docker; LOCALSTACK_AUTH_TOKEN), wait until healthy
	$(LOCALSTACK_COMPOSE) up -d --wait

localstack-down: ## stop LocalStack (nothing is persisted)
	$(LOCALSTACK_COMPOSE) down

deploy-local: deps build ## bootstrap and deploy the dev stack into LocalStack with cdklocal; prints BASE_URL
	$(CDKLOCAL) bootstrap aws://000000000000/us-east-1
	$(CDKLOCAL) deploy PartnerApi-dev -c stage=dev -c localstack=true \
	  --require-approval never --outputs-file cdk.out/outputs-local.json
	@node -e 'const o = require("./cdk.out/outputs-local.json")["PartnerApi-dev"]; \
	  console.log("BASE_URL=" + o.IssuerUrl); console.log("ADMIN_FUNCTION=" + o.AdminFunctionName)'

clean: ## remove build output
	rm -rf dist cdk.out
