# mcaspec — see README.md. Generated output goes to out/ (git-ignored).
GO      ?= go
OUT     ?= out
PKGS    ?= ./...
# Extra flags for the main job, e.g. make run ARGS="--help"
ARGS    ?=

.PHONY: all run test lint vet staticcheck unit bench fuzz generate build clean

all: lint test

## run: the main job (no arguments: the built-in reference target, report in out/)
run:
	$(GO) run ./cmd/mcaspec $(ARGS)

## build: the mcaspec binary in bin/
build:
	CGO_ENABLED=0 $(GO) build -trimpath -o bin/mcaspec ./cmd/mcaspec

## test: everything CI checks: lint, then the race-enabled tests
test: lint unit

unit:
	$(GO) test -race -count=1 -timeout 15m $(PKGS)

lint: vet staticcheck

vet:
	$(GO) vet $(PKGS)

## staticcheck: pinned by the tool directive in go.mod
staticcheck:
	$(GO) tool staticcheck $(PKGS)

## bench: the Go micro-benchmarks (figures quoted in the README)
bench:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 2000x ./reference/
	$(GO) test -run '^$$' -bench . -benchtime 300x ./tokenfactory/

## fuzz: a short run of every fuzz target
FUZZTIME ?= 20s
fuzz:
	@for p in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$p | grep '^Fuzz'); do \
	    echo "== $$p $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$p || exit 1; \
	  done; \
	done

## generate: regenerate generated docs (checked current in CI)
generate:
	$(GO) generate ./...

clean:
	rm -rf $(OUT) bin
