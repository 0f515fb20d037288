# The mcaspec image: a multi-stage build from this repository (make image).
#   stage 1: a Go toolchain image compiles the static binary from the sources and the vendored
#            modules (make image puts them in out/docker/vendor: the build needs no network)
#   stage 2: FROM scratch: that binary, /tmp, user 65534, no shell
# No registry is needed: GO_IMAGE defaults to the toolchain image build/docker/go-base.sh makes from
# the host's Go; with a registry, --build-arg GO_IMAGE=golang:1.26 works the same.
#   make image                                     # mcaspec/mcaspec:<version>
#   docker run --rm mcaspec/mcaspec:<version> version
#   docker run --rm --network host -v "$PWD/out:/out" mcaspec/mcaspec:<version> conformance \
#     --target http://127.0.0.1:8080 --out /out/conformance
ARG GO_IMAGE=mcaspec/go-base:local
FROM ${GO_IMAGE} AS build
ARG VERSION=v0.0.0-dev
WORKDIR /src
COPY go.mod go.sum ./
COPY out/docker/vendor/ ./vendor/
COPY . .
# Exec form: the builder needs no shell. Docker substitutes ${VERSION} in ENV (not in RUN).
ENV CGO_ENABLED=0 GOFLAGS="-mod=vendor -trimpath -buildvcs=false -ldflags=-X=github.com/mcaspec/mcaspec/internal/buildinfo.version=${VERSION}"
RUN ["go", "build", "-o", "/out/mcaspec", "./cmd/mcaspec"]
RUN ["/out/mcaspec", "version"]

FROM scratch
LABEL org.mcaspec.image=mcaspec org.opencontainers.image.source=https://github.com/mcaspec/mcaspec
COPY --from=build /out/mcaspec /mcaspec
COPY --from=build --chown=65534:65534 /tmp /tmp
# nobody: mcaspec needs no privilege; reports go to a mounted folder (--out /out/...) or /tmp.
USER 65534:65534
WORKDIR /tmp
ENTRYPOINT ["/mcaspec"]
CMD ["help"]
