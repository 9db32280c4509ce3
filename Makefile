# PPP Renew — make help lists the targets.
SHELL := /bin/bash
GO ?= go
REDIS_ADDR ?= 127.0.0.1:6379
# Tests and benchmarks run on a Redis of their own: .ci/with-test-redis starts
# one on a free port, stamped with a token the tests check before flushing (and
# stops it afterwards), unless an outer run already set PPP_TEST_REDIS_ADDR and
# PPP_TEST_REDIS_TOKEN. The Redis at REDIS_ADDR is never flushed by a test.
WITH_TEST_REDIS := bash .ci/with-test-redis

.PHONY: help run test bench lint redis build fuzz

help: ## list the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-7s %s\n", $$1, $$2}'

run: build ## start the simulated world and the server (embedded Redis); one Ctrl-C stops both
	bin/pppsim up --pppd bin/pppd

build: ## build pppd and pppsim into bin/
	$(GO) build -o bin/ ./cmd/...

test: ## go vet, then every test with the race detector against a Redis of its own
	$(GO) vet ./...
	$(WITH_TEST_REDIS) $(GO) test -race -count=1 -timeout 30m ./...

bench: ## run the benchmarks (on a Redis of their own) and print their figures and ratios
	@set -o pipefail; $(WITH_TEST_REDIS) $(GO) test -run '^$$' -bench . -benchmem -count=1 -timeout 30m ./... | tee bench.out
	@echo; echo "Summary (bench.out has the raw output):"; awk -f .ci/bench-summary.awk bench.out

lint: ## gofmt, go vet and staticcheck
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

fuzz: ## run each fuzz target for 30 s
	$(GO) test -run '^$$' -fuzz '^FuzzOpen$$' -fuzztime 30s ./devicelink
	$(GO) test -run '^$$' -fuzz '^FuzzSegments$$' -fuzztime 30s ./sms
	$(GO) test -run '^$$' -fuzz '^FuzzParseReply$$' -fuzztime 30s ./sms

redis: ## make sure a Redis answers at REDIS_ADDR (installs and starts redis-server if needed)
	@bash .ci/ensure-redis "$(REDIS_ADDR)"
