# Container images and the container tests (included from the Makefile).
#
#   bash .ci/docker-up.sh       # a local Docker engine (host networking only, no bridge)
#   make images                 # mcaspec/mcaspec, mcaspec/fakeaz, mcaspec/reference (:$(IMAGE_TAG))
#   make node-images            # mcaspec/bms-mca-resource, mcaspec/bms-mca-backend (optional)
#   make docker-test            # the testcontainers tests, against those images
#   bash .ci/docker-down.sh
#
# No registry is reachable: the static binary is built on the host and copied into FROM-scratch
# images; fakeaz and reference are FROM the local mcaspec image with another CMD (one binary layer).
GO             ?= go
OUT            ?= out
DOCKER         ?= docker
IMAGE_TAG      ?= dev
IMAGE_PREFIX   ?= mcaspec
DOCKER_CONTEXT ?= $(OUT)/docker
DOCKER_STATE   ?= $(or $(MCASPEC_DOCKER_STATE),/tmp/mcaspec-docker)
DOCKER_PKGS    ?= ./fakeaz/container/... ./targets/container/...
# The legacy builder needs no buildx plugin and resolves FROM mcaspec/mcaspec:dev locally.
DOCKER_BUILD   ?= DOCKER_BUILDKIT=0 $(DOCKER) build -q

MCASPEC_IMAGE   := $(IMAGE_PREFIX)/mcaspec:$(IMAGE_TAG)
FAKEAZ_IMAGE    := $(IMAGE_PREFIX)/fakeaz:$(IMAGE_TAG)
REFERENCE_IMAGE := $(IMAGE_PREFIX)/reference:$(IMAGE_TAG)

NODE_BASE_IMAGE := $(IMAGE_PREFIX)/node-base:local
NODE_TARGETS    ?= bms-mca-resource bms-mca-backend

.PHONY: images node-images docker-test docker-up docker-down

## images: build the mcaspec, fakeaz and reference images from a static host build
images:
	@if [ -f "$(DOCKER_STATE)/unavailable" ]; then \
	  echo "images: Docker is unavailable: $$(cat $(DOCKER_STATE)/unavailable)" >&2; exit 1; fi
	@mkdir -p $(DOCKER_CONTEXT)
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags='-s -w' -o $(DOCKER_CONTEXT)/mcaspec ./cmd/mcaspec
	$(DOCKER_BUILD) -f build/docker/mcaspec.Dockerfile -t $(MCASPEC_IMAGE) $(DOCKER_CONTEXT)
	$(DOCKER_BUILD) -f build/docker/fakeaz.Dockerfile --build-arg BASE=$(MCASPEC_IMAGE) -t $(FAKEAZ_IMAGE) $(DOCKER_CONTEXT)
	$(DOCKER_BUILD) -f build/docker/reference.Dockerfile --build-arg BASE=$(MCASPEC_IMAGE) -t $(REFERENCE_IMAGE) $(DOCKER_CONTEXT)
	@$(DOCKER) image prune -f --filter label=org.mcaspec.image >/dev/null  # our untagged older builds only
	@$(DOCKER) image ls --filter reference='$(IMAGE_PREFIX)/*:$(IMAGE_TAG)'

## node-images: the Node targets (targets/bms-mca-*) on a base image made from the host's node
## binary (build/docker/node-base.sh); skipped without node or without the targets' node_modules
node-images:
	@if [ -f "$(DOCKER_STATE)/unavailable" ]; then \
	  echo "node-images: Docker is unavailable: $$(cat $(DOCKER_STATE)/unavailable)" >&2; exit 1; fi
	@if ! command -v node >/dev/null 2>&1; then echo "node-images: SKIPPED: no node on PATH"; exit 0; fi; \
	bash build/docker/node-base.sh $(NODE_BASE_IMAGE) && \
	for t in $(NODE_TARGETS); do \
	  if [ ! -d targets/$$t/node_modules ]; then echo "node-images: SKIPPED $$t: run npm ci in targets/$$t first"; continue; fi; \
	  echo "node-images: $(IMAGE_PREFIX)/$$t:$(IMAGE_TAG)"; \
	  $(DOCKER_BUILD) -f build/docker/node-target.Dockerfile --build-arg NODE_BASE=$(NODE_BASE_IMAGE) \
	    --build-arg TARGET=$$t -t $(IMAGE_PREFIX)/$$t:$(IMAGE_TAG) targets || exit 1; \
	done; \
	$(DOCKER) image prune -f --filter label=org.mcaspec.image >/dev/null

## docker-test: the container tests (they must run: a missing engine or image fails them),
## skipped as a whole when .ci/docker-up.sh found that Docker cannot run here
docker-test: $(if $(wildcard $(DOCKER_STATE)/unavailable),,images node-images)
	@if [ -f "$(DOCKER_STATE)/unavailable" ]; then \
	  echo "docker-test: SKIPPED: Docker is unavailable: $$(cat $(DOCKER_STATE)/unavailable)"; \
	else \
	  TESTCONTAINERS_RYUK_DISABLED=true MCASPEC_DOCKER_REQUIRED=1 \
	  MCASPEC_FAKEAZ_IMAGE=$(FAKEAZ_IMAGE) MCASPEC_REFERENCE_IMAGE=$(REFERENCE_IMAGE) \
	  MCASPEC_BMS_RESOURCE_IMAGE=$(IMAGE_PREFIX)/bms-mca-resource:$(IMAGE_TAG) \
	  MCASPEC_BMS_BACKEND_IMAGE=$(IMAGE_PREFIX)/bms-mca-backend:$(IMAGE_TAG) \
	  $(GO) test -race -count=1 -timeout 10m $(DOCKER_PKGS); \
	fi

docker-up:
	bash .ci/docker-up.sh

docker-down:
	bash .ci/docker-down.sh
