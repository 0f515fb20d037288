# mcaspec — see README.md. Generated output goes to out/ (git-ignored).
SHELL   := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
GO      ?= go
OUT     ?= out
PKGS    ?= ./...
# Extra flags for the main job, e.g. make run ARGS="--help"
ARGS    ?=

.PHONY: all run test lint vet staticcheck unit mutants conformance conformance-web conformance-image certify certify-baselines gojwt certify-versions certify-versions-baselines npm npm-versions bench fuzz fuzz-long generate build clean

# Packages for the race-enabled run: all but the mutant matrix, which runs
# the whole catalogue once per mutant and is run on its own (without -race).
RACE_PKGS = $$($(GO) list $(PKGS) | grep -v /conformance/mutants)
NPM_TARGETS = bms-mca-resource bms-mca-backend bms-mca-service ibmcloud-appid bms-mca-website ibmcloud-appid-webapp
# The web targets wired with a router mounted under /web/protected (MCA_WEB_WIRING=router;
# the code and node_modules of the folder without -router).
NPM_TARGETS += bms-mca-website-router ibmcloud-appid-webapp-router
# The version matrix (make certify-versions): per package, the target folders
# under targets/ of each version, oldest first. App ID's matrix starts with
# bluemix-appid, its earlier name. CI passes the oldest and the newest only.
VERSIONS_BMS   ?= versions/bms-mca-resource-2.0.3 bms-mca-resource
VERSIONS_APPID ?= versions/bluemix-appid-3.0.6 versions/ibmcloud-appid-4.0.0 versions/ibmcloud-appid-4.2.1 \
  versions/ibmcloud-appid-5.0.0 versions/ibmcloud-appid-6.0.0 versions/ibmcloud-appid-6.3.1 ibmcloud-appid
# App ID's web strategy (WebAppStrategy) of each release, passport 0.6, the
# newest being ibmcloud-appid-webapp; and the newest release under each
# passport major its sign-in works with (0.5 keeps the session id at sign-in).
VERSIONS_APPID_WEB ?= versions/bluemix-appid-webapp-3.0.6 versions/ibmcloud-appid-webapp-4.0.0 versions/ibmcloud-appid-webapp-4.2.1 \
  versions/ibmcloud-appid-webapp-5.0.0 versions/ibmcloud-appid-webapp-6.0.0 versions/ibmcloud-appid-webapp-6.3.1 ibmcloud-appid-webapp
VERSIONS_PASSPORT_WEB ?= versions/ibmcloud-appid-webapp-passport-0.5 versions/ibmcloud-appid-webapp-passport-0.7
VERSION_PROFILES ?= mca
# pkgver prints the package under test of a target folder and its version (e.g. ibmcloud-appid@4.0.0).
pkgver = node -p "const d=require('./targets/'+process.argv[1]+'/package.json').dependencies; ['bms-mca-token-validation-strategy','ibmcloud-appid','bluemix-appid'].filter(k=>d[k]).map(k=>k+'@'+d[k])[0]+(process.argv[1].includes('webapp')?' web passport@'+d.passport:'')"

all: lint test

include build/docker.mk
include build/dist.mk

## run: the main job (no arguments: the built-in reference target, report in out/)
run:
	$(GO) run ./cmd/mcaspec $(ARGS)

## build: the mcaspec binary in bin/
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '-X $(MODULE)/internal/buildinfo.version=$(VERSION) -X $(MODULE)/internal/buildinfo.revision=$(REVISION)' -o bin/mcaspec ./cmd/mcaspec

## test: everything CI checks: lint, the race-enabled tests, the mutant matrix
test: lint unit mutants

unit:
	$(GO) test -race -count=1 -timeout 20m $(RACE_PKGS)

## mutants: every deliberately broken validator must be caught by a case
mutants:
	mkdir -p $(OUT)
	MCASPEC_OUT=$(abspath $(OUT)) $(GO) test -count=1 -timeout 30m -v -run TestEveryMutantIsCaught ./conformance/mutants/ | grep -E '^(=== RUN|--- |\s+mutants_test|ok|FAIL|PASS)'

## conformance: the suite against the built-in reference (strict), reports in out/
conformance:
	$(GO) run ./cmd/mcaspec conformance --az-listen 127.0.0.1:0

## conformance-web: the web family against the built-in reference web RP (strict), reports in out/
conformance-web:
	$(GO) run ./cmd/mcaspec conformance --family web --az-listen 127.0.0.1:0

## conformance-image: the suite against the reference target started from its image (needs images)
conformance-image:
	TESTCONTAINERS_RYUK_DISABLED=true $(GO) run ./cmd/mcaspec conformance --az-listen 127.0.0.1:0 \
	  --target-image $(REFERENCE_IMAGE) --name reference-image --out $(OUT)/conformance/reference-image

## certify: every target (the npm strategies, the generic JWT libraries as documented and
## hardened) in both profiles, each against its baseline (targets/<t>/baseline-<profile>.txt),
## beside the reference; CERTIFY_JOBS runs at once (build/certify-run.sh: one run, its log in
## $(CERT_OUT)/<t>-<profile>.log); one side-by-side report at the end
CERT_OUT ?= $(OUT)/certification
PROFILES  = mca strict
CERTIFY_JOBS ?= 3
# The generic JWT libraries (targets/README.md): npm folders, each certified as its README
# configures it (server.js) and hardened (hardened/server.js); jose also against MCA tokens.
JWT_NPM = express-jwt passport-jwt jose express-oauth2-jwt-bearer
# The Go libraries: one module of their own (targets/gojwt), one binary, bin/gojwt <library>.
JWT_GO = gojwt/golang-jwt gojwt/go-oidc gojwt/jwx
JWT_TARGETS = $(foreach t,$(JWT_NPM) $(JWT_GO),$(t) $(t)/hardened) jose/mca-tokens
CERTIFY_TARGETS = $(NPM_TARGETS) $(JWT_TARGETS)
certify: build gojwt
	@mkdir -p $(CERT_OUT); rc=0; t0=$$SECONDS; \
	{ for t in $(CERTIFY_TARGETS) reference reference-web; do for p in $(PROFILES); do echo "$$t $$p"; done; done; } \
	  | xargs -P $(CERTIFY_JOBS) -L1 bash build/certify-run.sh $(CERT_OUT) || rc=1; \
	echo "== $(words $(CERTIFY_TARGETS)) targets and the references, $(CERTIFY_JOBS) runs at once: $$((SECONDS - t0)) s"; \
	bin/mcaspec report --html $(CERT_OUT)/report.html $(CERT_OUT)/reference-*/results.json \
	  $(foreach t,$(CERTIFY_TARGETS),$(foreach p,$(PROFILES),$(CERT_OUT)/$(subst /,-,$(t))-$(p)/results.json)) || rc=1; \
	exit $$rc

## certify-baselines: rewrite the targets' baselines from a fresh run (review the diff!);
## CERTIFY_TARGETS="express-jwt express-jwt/hardened" for some only
certify-baselines: build gojwt
	@mkdir -p $(CERT_OUT); { for t in $(CERTIFY_TARGETS) reference; do for p in $(PROFILES); do echo "$$t $$p"; done; done; } \
	  | CERTIFY_MODE=baseline xargs -P $(CERTIFY_JOBS) -L1 bash build/certify-run.sh $(CERT_OUT)

## gojwt: vet, test and build the Go JWT libraries' target (targets/gojwt, its own module) as bin/gojwt
gojwt:
	cd targets/gojwt && $(GO) vet . && $(GO) test -count=1 . && CGO_ENABLED=0 $(GO) build -trimpath -o ../../bin/gojwt .

## npm: install the npm strategy targets (targets/*, from their lockfiles)
npm:
	for t in $(NPM_TARGETS) $(JWT_NPM); do npm ci --no-audit --no-fund --prefix targets/$$t || exit 1; done

## npm-versions: install the version matrix's folders (targets/versions/*, from their lockfiles)
npm-versions:
	for t in $(filter versions/%,$(VERSIONS_BMS) $(VERSIONS_APPID) $(VERSIONS_APPID_WEB) $(VERSIONS_PASSPORT_WEB)); do npm ci --no-audit --no-fund --prefix targets/$$t || exit 1; done

## certify-versions: several versions of each package, each against its baseline
## (targets/<folder>/baseline-<profile>.txt), and one version matrix per package:
## versions as columns, cases as rows ($(CERT_OUT)/versions-<package>.html). Needs make npm npm-versions.
certify-versions: build
	@mkdir -p $(CERT_OUT)/versions; rc=0; \
	for t in $(VERSIONS_BMS) $(VERSIONS_APPID) $(VERSIONS_APPID_WEB) $(VERSIONS_PASSPORT_WEB); do for p in $(VERSION_PROFILES); do \
	  name=$$($(pkgver) $$t); o=$(CERT_OUT)/versions/$$(basename $$t)-$$p; \
	  echo "== certify $$name ($$p, targets/$$t)"; \
	  if ! bin/mcaspec conformance --az-listen 127.0.0.1:0 --target-cmd "node targets/$$t/server.js" \
	      --name "$$name" --profile $$p --npm-versions targets/$$t $$(cat targets/$$t/certify.args) \
	      --baseline targets/$$t/baseline-$$p.txt --out $$o >$$o.log 2>&1; then \
	    rc=1; tail -25 $$o.log; else grep -A6 '^mcaspec conformance:' $$o.log; fi; \
	done; done; \
	bin/mcaspec report --html $(CERT_OUT)/versions-bms-mca-token-validation-strategy.html \
	  $(foreach t,$(VERSIONS_BMS),$(foreach p,$(VERSION_PROFILES),$(CERT_OUT)/versions/$(notdir $(t))-$(p)/results.json)) || rc=1; \
	bin/mcaspec report --html $(CERT_OUT)/versions-ibmcloud-appid.html \
	  $(foreach t,$(VERSIONS_APPID),$(foreach p,$(VERSION_PROFILES),$(CERT_OUT)/versions/$(notdir $(t))-$(p)/results.json)) || rc=1; \
	bin/mcaspec report --html $(CERT_OUT)/versions-ibmcloud-appid-web.html \
	  $(foreach t,$(VERSIONS_APPID_WEB) $(VERSIONS_PASSPORT_WEB),$(foreach p,$(VERSION_PROFILES),$(CERT_OUT)/versions/$(notdir $(t))-$(p)/results.json)) || rc=1; \
	exit $$rc

## certify-versions-baselines: rewrite the version folders' baselines from a fresh run (review the diff!)
certify-versions-baselines: build
	@mkdir -p $(CERT_OUT)/versions; for t in $(VERSIONS_BMS) $(VERSIONS_APPID) $(VERSIONS_APPID_WEB) $(VERSIONS_PASSPORT_WEB); do for p in $(VERSION_PROFILES); do \
	  bin/mcaspec conformance --az-listen 127.0.0.1:0 --target-cmd "node targets/$$t/server.js" --name "$$($(pkgver) $$t)" --profile $$p \
	    $$(cat targets/$$t/certify.args) --write-baseline targets/$$t/baseline-$$p.txt --out $(CERT_OUT)/versions/$$(basename $$t)-$$p >/dev/null 2>&1 || true; \
	done; done

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

## fuzz-long: every fuzz target for FUZZLONG_EXECS executions or FUZZLONG_TIME,
## whichever comes first (not in CI: CI keeps 'make fuzz'); logs and a
## summary (execs per target) in $(OUT)/fuzz-long/. See docs/ROBUSTNESS.md.
FUZZLONG_EXECS ?= 1000000x
FUZZLONG_TIME  ?= 10m
fuzz-long:
	@mkdir -p $(OUT)/fuzz-long; : > $(OUT)/fuzz-long/summary.txt; \
	for p in $$($(GO) list $(PKGS)); do \
	  for f in $$($(GO) test -list '^Fuzz' $$p | grep '^Fuzz'); do \
	    log=$(OUT)/fuzz-long/$$(basename $$p)-$$f.log; echo "== $$p $$f"; \
	    rc=0; timeout -s INT $(FUZZLONG_TIME) $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZLONG_EXECS) $$p >$$log 2>&1 || rc=$$?; \
	    last=$$(grep -o 'elapsed: [^,]*, execs: [0-9]*' $$log | tail -1 || true); \
	    echo "$$p $$f: $$last (exit $$rc)" | tee -a $(OUT)/fuzz-long/summary.txt; \
	    if [ $$rc != 0 ] && [ $$rc != 124 ]; then tail -30 $$log; exit 1; fi; \
	  done; \
	done

## generate: regenerate generated docs (checked current in CI)
generate:
	$(GO) generate ./...

clean:
	rm -rf $(OUT) bin
