# jwtgate — see README.md. `make run` starts the verify endpoint (demo mode
# when nothing is configured); `make test` is what CI runs.

GO        ?= go
FUZZTIME  ?= 10m
# CI fuzzes each target for a fixed number of executions, not a duration: a
# duration-based -fuzztime races Go's fuzz coordinator at the deadline and
# fails with a bare "context deadline exceeded" on loaded machines
# (go.dev/issue/75804, fixed in Go 1.27). 200000 executions take 8-40 s per
# target on 2 cores.
CIFUZZ    ?= 200000x
BENCHCOUNT ?= 10
# CLIROUNDS is how many alternating rounds bench-cli runs per token file.
CLIROUNDS ?= 11
# WRKROUNDS rounds of WRKDURATION (whole seconds) per server: bench-wrk's load.
WRKROUNDS ?= 5
WRKDURATION ?= 5s
ARGS      ?=
# VERSION is stamped into the binary ('jwtgate version', jwtgate_build_info).
# Outside a git checkout it is empty and the binary reports what the Go
# toolchain recorded instead (module version or VCS revision, else "devel").
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null)
BIN       ?= bin/jwtgate
# BUILDFLAGS are the release build's flags; deploy/Dockerfile builds with
# 'make build', so the image gets the same binary.
BUILDFLAGS = -trimpath -ldflags '-s -w -X github.com/jwtgate/jwtgate/internal/version.stamped=$(VERSION)'

# Fuzz targets live in ./fuzz and beside the code they fuzz (fuzz_test.go in
# the package, as the standard library does): every package with a func
# Fuzz... in a test file. Each entry is "package:Target".
FUZZ_PKGS    = $(shell grep -rl --include='*_test.go' '^func Fuzz' . | grep -v '^./bench/\|^./caddy/' | xargs -n1 dirname | sort -u)
FUZZ_TARGETS = $(foreach p,$(FUZZ_PKGS),$(addprefix $(p):,$(shell $(GO) test -list '^Fuzz' $(p) | grep '^Fuzz')))

.PHONY: all build caddy bench-caddy run test test-short fmt-check vet test-race test-purego fuzz-ci bench-smoke bench bench-engine bench-http bench-cli bench-wrk fuzz clean

all: build

## build: a static binary (no cgo) in bin/jwtgate, its version stamped
build:
	CGO_ENABLED=0 $(GO) build $(BUILDFLAGS) -o $(BIN) ./cmd/jwtgate

## caddy: Caddy v2.11.9 with its standard modules and jwtgate's
## http.handlers.jwtgate (the caddy/ module), in bin/caddy-jwtgate
caddy:
	cd caddy && CGO_ENABLED=0 $(GO) build -trimpath -ldflags '-s -w' -o ../bin/caddy-jwtgate ./cmd/caddy

## bench-caddy: on loopback, Caddy's reverse_proxy alone, Caddy with the
## jwtgate module, and Caddy forward_auth -> jwtgate serve: req/s, latency
## percentiles and CPU per request (ARGS: -duration 10s -c 32)
bench-caddy: build caddy
	cd caddy && $(GO) run ./cmd/benchcaddy -caddy ../bin/caddy-jwtgate -jwtgate ../$(BIN) $(ARGS)

## run: start the verify endpoint; demo mode unless JWTGATE_CONFIG or ARGS name a key source
run:
	$(GO) run ./cmd/jwtgate serve $(ARGS)

## test: everything CI checks — formatting, vet, race tests (integration included),
## the pure-Go fallbacks of assembly code, each fuzz target briefly, every
## benchmark once
test: fmt-check vet test-race test-purego fuzz-ci bench-smoke

## test-short: the quick local loop
test-short: fmt-check vet
	$(GO) test -short ./...

fmt-check:
	@out=$$(gofmt -l .); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...
	cd bench && $(GO) vet ./...
	cd caddy && $(GO) vet ./...

test-race:
	$(GO) test -race -timeout 15m ./...
	cd bench && $(GO) test -race -timeout 10m ./...
	cd caddy && $(GO) test -race -timeout 15m ./...
	@# Exact allocation counts, which the race detector distorts.
	$(GO) test -count 1 -run 'Allocs' ./...

## test-purego: the engine built without assembly (-tags purego), as on a
## CPU or architecture without the AVX2 base64url kernel; vet checks it too
test-purego:
	$(GO) vet -tags purego ./engine/...
	$(GO) test -tags purego -count 1 ./engine/...

fuzz-ci:
	@for pt in $(FUZZ_TARGETS); do \
		p=$${pt%%:*}; t=$${pt#*:}; \
		echo "fuzz $$p $$t -fuzztime $(CIFUZZ)"; \
		$(GO) test $$p -run '^$$' -fuzz "^$$t$$" -fuzztime $(CIFUZZ) || exit 1; \
	done

bench-smoke:
	$(GO) test -run '^$$' -bench . -benchtime 1x ./...
	cd bench && $(GO) test -run '^$$' -bench . -benchtime 1x ./...

## bench: engine per-algorithm figures against the bare primitive, then the
## peer comparison in one run — in process, over HTTP and on the command line
## (whole processes, CLIROUNDS rounds) — written to bench/results/, whose
## RESULTS.md ends with the three side by side, then the wrk comparison
## (bench-wrk's) (about 13 minutes on 2 cores; BENCHCOUNT=3 for a quicker look)
bench: bench-engine
	cd bench && $(GO) run ./cmd/benchreport -count $(BENCHCOUNT) -benchtime 500ms -http 10s -http-rounds 5 -cli-rounds $(CLIROUNDS) -wrk-rounds $(WRKROUNDS) -wrk-duration $(WRKDURATION)

## bench-engine: the 13 algorithms, full verify beside the bare primitive, and
## the cached path serially and on every core, for one hot token and for
## 1,024 RS256 / 16,384 HS256 distinct tokens in random order (cold caches)
bench-engine:
	$(GO) test -run '^$$' -bench 'BenchmarkVerify$$|BenchmarkVerifyCached' -benchmem -count 1 ./engine

## bench-http: loopback load against jwtgate and the bare fasthttp ceiling
bench-http:
	$(GO) run ./cmd/jwtgate bench http $(ARGS)

## bench-cli: the command-line comparison alone (make bench runs it too):
## 'jwtgate verify --summary' against a golang-jwt v5 + keyfunc program,
## whole processes on the same token files (50,000 HS256, 3,000 RS256),
## CLIROUNDS alternating rounds; wall, CPU and peak RSS into
## bench/results/cli.md and cli.json (about a minute on 2 idle cores)
bench-cli:
	cd bench && $(GO) run ./cmd/clibench -rounds $(CLIROUNDS) -out results/cli.md -json results/cli.json

## bench-wrk: the wrk comparison alone (make bench runs it too): 'jwtgate
## serve' and the bare fasthttp ceiling of bench-http as separate processes,
## driven in turn by wrk -t2 -c64 with 1,024 cached RS256 tokens, WRKROUNDS
## alternating rounds of WRKDURATION; each server's own CPU per request from
## /proc and the verdict against the targets (>= 90% of the ceiling's
## requests/s, <= 1 us more CPU per request) into bench/results/wrk.md and
## wrk.json (about a minute; needs wrk: apt-get install wrk)
bench-wrk:
	cd bench && $(GO) run ./cmd/wrkbench -rounds $(WRKROUNDS) -duration $(WRKDURATION) -out results/wrk.md -json results/wrk.json

## fuzz: every fuzz target in turn for FUZZTIME (default 10m; a count such as
## 5000000x also works and avoids go.dev/issue/75804 on Go 1.26)
fuzz:
	@for pt in $(FUZZ_TARGETS); do \
		p=$${pt%%:*}; t=$${pt#*:}; \
		echo "fuzz $$p $$t for $(FUZZTIME)"; \
		$(GO) test $$p -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) || exit 1; \
	done

clean:
	rm -rf bin
