# Release artifacts (included from the Makefile).
#
#   make dist                      # out/dist/: static binaries for linux and darwin (amd64, arm64) + SHA256SUMS
#   make dist VERSION=v0.1.0       # what a release does, from the tag (git tag v0.1.0 first)
#   make image                     # mcaspec/mcaspec:$(IMAGE_VERSION): the multi-stage Dockerfile
#   make image-check               # run the whole suite from that image against its built-in reference
#   make sarif-check               # Microsoft's SARIF validator on a SARIF log of a real run (after make certify)
#
# Plain `go build` matrices, not GoReleaser: CGO_ENABLED=0 builds and sha256sum need nothing
# beyond Go, while GoReleaser as a go.mod tool would add hundreds of modules to this module's graph.
GO      ?= go
OUT     ?= out
DOCKER  ?= docker
MODULE  := github.com/mcaspec/mcaspec
# VERSION: the tag on HEAD (v0.1.0), else the last tag with the commits since (v0.1.0-3-gabc1234),
# else v0.0.0-dev; REVISION: the commit. Both are linked into the binary (mcaspec version).
VERSION  ?= $(shell git describe --tags --match 'v[0-9]*' --dirty 2>/dev/null || echo v0.0.0-dev)
REVISION ?= $(shell git rev-parse HEAD 2>/dev/null)
DIST_LDFLAGS = -s -w -X $(MODULE)/internal/buildinfo.version=$(VERSION) -X $(MODULE)/internal/buildinfo.revision=$(REVISION)
# On windows, targets started by command run through cmd /C and the bench reports its own CPU as
# not measured (the *_windows.go files); everything else is the same program.
DIST_PLATFORMS ?= linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64 windows/arm64
DIST_DIR ?= $(OUT)/dist

IMAGE_VERSION ?= $(subst +,-,$(VERSION))
GO_BASE_IMAGE ?= mcaspec/go-base:local
RELEASE_IMAGE := $(IMAGE_PREFIX)/mcaspec:$(IMAGE_VERSION)

.PHONY: dist image image-check go-base sarif-check

## dist: static binaries for linux/darwin/windows x amd64/arm64 in out/dist/, with SHA256SUMS
dist:
	@rm -rf $(DIST_DIR) && mkdir -p $(DIST_DIR)
	@for p in $(DIST_PLATFORMS); do \
	  os=$${p%/*}; arch=$${p#*/}; ext=; [ $$os = windows ] && ext=.exe; \
	  f=mcaspec_$(VERSION)_$${os}_$${arch}$$ext; echo "dist: $$f"; \
	  CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch $(GO) build -trimpath -buildvcs=false -ldflags '$(DIST_LDFLAGS)' -o $(DIST_DIR)/$$f ./cmd/mcaspec || exit 1; \
	done
	cd $(DIST_DIR) && sha256sum mcaspec_* > SHA256SUMS && cat SHA256SUMS

## go-base: a Go toolchain image made from the host's Go (no registry; build/docker/go-base.sh)
go-base:
	bash build/docker/go-base.sh $(GO_BASE_IMAGE)

## image: the mcaspec image from the repository's Dockerfile (multi-stage: Go builder, then
## FROM scratch: the static binary, user 65534, no shell); modules are vendored into the context
image: go-base
	@mkdir -p $(OUT)/docker
	$(GO) mod vendor -o $(OUT)/docker/vendor
	$(DOCKER_BUILD) --build-arg GO_IMAGE=$(GO_BASE_IMAGE) --build-arg VERSION=$(VERSION) -t $(RELEASE_IMAGE) .
	@$(DOCKER) image prune -f --filter label=org.mcaspec.image >/dev/null
	$(DOCKER) run --rm $(RELEASE_IMAGE) version

## image-check: the whole suite run from the image against its built-in reference (host network,
## loopback only); the reports land in out/image-check
image-check: image
	@rm -rf $(OUT)/image-check && mkdir -p $(OUT)/image-check && chmod 0777 $(OUT)/image-check
	$(DOCKER) run --rm --network host --read-only -v $(abspath $(OUT))/image-check:/out $(RELEASE_IMAGE) \
	  conformance --az-listen 127.0.0.1:0 --out /out/conformance --summary-md /out/summary.md --sarif /out/conformance.sarif
	@cat $(OUT)/image-check/summary.md

## sarif-check: one SARIF log of a real failing run (bms-mca-resource, strict, from make certify)
## through Microsoft's SARIF Multitool, pinned in build/sarif/package-lock.json
sarif-check: build
	npm ci --no-audit --no-fund --prefix build/sarif
	@mkdir -p $(OUT)/sarif
	bin/mcaspec report --sarif $(OUT)/sarif/bms-mca-resource-strict.sarif --sarif-artifact targets/bms-mca-resource/server.js \
	  $(OUT)/certification/bms-mca-resource-strict/results.json
	node build/sarif/check.js $(OUT)/sarif/bms-mca-resource-strict.sarif
