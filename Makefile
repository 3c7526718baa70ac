# Flash-sale order system. `make up` (Docker) or `make local` (no Docker), then `make test`.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
ROOT := $(CURDIR)
TOOLS := $(ROOT)/.tools

# The project targets Node 24. When the system Node is older, a Node 24 from the npm registry's `node`
# package is installed into .tools/ and put first on PATH for every target; Node 24 users pay nothing.
SYSTEM_NODE_MAJOR := $(shell node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
ifeq ($(shell [ "$(SYSTEM_NODE_MAJOR)" -ge 24 ] 2>/dev/null && echo yes),yes)
NODE_STAMP :=
else
NODE_STAMP := $(TOOLS)/node_modules/.bin/node
export PATH := $(TOOLS)/node_modules/.bin:$(PATH)
endif
export npm_config_update_notifier := false
export npm_config_fund := false
export npm_config_audit := false

.PHONY: help node deps local local-down local-status up down logs ps test test-unit test-faults test-api typecheck lint bench build-frontend sync-stock

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(TOOLS)/node_modules/.bin/node:
	@echo "node: system Node is $(SYSTEM_NODE_MAJOR), installing Node 24 into .tools/"
	@mkdir -p $(TOOLS)
	@npm install --prefix $(TOOLS) --no-save --no-package-lock --loglevel=error node@24 >/dev/null
	@$@ --version

node: $(NODE_STAMP) ## make sure Node 24 is available

node_modules/.installed: package.json package-lock.json $(wildcard services/*/package.json) frontend/package.json | $(NODE_STAMP)
	@echo "deps: npm ci"
	@npm ci --loglevel=error --no-audit --no-fund
	@# tap runs .ts tests through Node 24's type stripping, not its TypeScript plugin (package.json
	@# "tap".plugin); tap compiles its plugin set at build time, so it is rebuilt after every install.
	@npx tap build >/dev/null
	@touch $@

deps: node_modules/.installed ## install npm dependencies (npm ci)

local: deps ## start the whole system as local processes (no Docker)
	@bash deploy/local/up.sh

local-down: ## stop every process `make local` started
	@bash deploy/local/down.sh

local-status: ## show which local components are up
	@bash deploy/local/status.sh

typecheck: deps ## tsc --noEmit over the services, vue-tsc over the front end
	@npx tsc -p tsconfig.json --noEmit
	@if [ -f frontend/tsconfig.json ]; then npm run --silent --workspace frontend typecheck; fi

lint: deps ## ESLint (neostandard + eslint-plugin-vue) and knip (unused files, exports, dependencies)
	@npx eslint --max-warnings=0 --cache --cache-location node_modules/.cache/eslint/ .
	@npx knip

test: deps ## the whole proof: local stack, type checks, lint (side by side), every tap test; ends with `N passed, N failed`
	@bash scripts/run-tests.sh

test-unit: deps ## the tests that need no server (*.unit.test.ts), no stack needed; under a minute
	@bash scripts/run-tests.sh unit

test-faults: local ## the fault scenarios of tests/faults alone, one at a time (they stop and kill parts of the stack)
	@bash scripts/run-tests.sh faults

build-frontend: deps ## the production build of the front end into frontend/dist (what nginx serves)
	@npm run --silent --workspace frontend build

test-api: local ## Schemathesis (pinned, into .tools/) over every OpenAPI document, direct and through nginx
	@bash scripts/test-api.sh

include deploy/docker/make.mk

bench: local ## the autocannon flash-sale load test with ceilings and invariant checks
	@node bench/flash-sale.ts

sync-stock: deps ## put MySQL stock on sale in Redis, safely during a sale
	@npm run --silent sync:stock
