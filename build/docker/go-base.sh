#!/usr/bin/env bash
# Builds a Go toolchain image from the host's own Go (GOROOT) for the builder stage of the
# repository's Dockerfile, where no registry serves golang:1.26 (no registry needed): FROM scratch +
# GOROOT (the go command and its tools are static) + /tmp. With a registry, pass
# --build-arg GO_IMAGE=golang:1.26 to docker build instead. Usage:
#   bash build/docker/go-base.sh [TAG]        # default mcaspec/go-base:local
set -euo pipefail
TAG="${1:-mcaspec/go-base:local}"
GOROOT="$(go env GOROOT)"
GOVERSION="$(go env GOVERSION)"
if docker image inspect "$TAG" --format '{{index .Config.Labels "org.mcaspec.go"}}' 2>/dev/null | grep -qx "$GOVERSION"; then
  echo "go-base: $TAG already holds $GOVERSION"
  exit 0
fi
CTX="$(mktemp -d)"
trap 'rm -rf "$CTX"' EXIT
mkdir -p "$CTX/root/usr/local" "$CTX/root/tmp" "$CTX/root/etc"
# The toolchain without its tests and docs (about half its size).
tar -C "$GOROOT/.." --exclude='go/test' --exclude='go/doc' --exclude='go/api' --exclude='*_test.go' \
  --exclude='go/pkg/*/cmd' -cf - "$(basename "$GOROOT")" | tar -C "$CTX/root/usr/local" -xf -
[ "$(basename "$GOROOT")" = go ] || mv "$CTX/root/usr/local/$(basename "$GOROOT")" "$CTX/root/usr/local/go"
printf 'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n' >"$CTX/root/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$CTX/root/etc/group"
chmod 1777 "$CTX/root/tmp"
cat >"$CTX/Dockerfile" <<DOCKERFILE
FROM scratch
LABEL org.mcaspec.image=go-base org.mcaspec.go=$GOVERSION
COPY root/ /
ENV PATH=/usr/local/go/bin GOROOT=/usr/local/go GOTOOLCHAIN=local HOME=/tmp GOCACHE=/tmp/go-cache GOPATH=/tmp/go CGO_ENABLED=0
ENTRYPOINT ["/usr/local/go/bin/go"]
DOCKERFILE
DOCKER_BUILDKIT=0 docker build -q -t "$TAG" "$CTX"
echo "go-base: built $TAG from $GOROOT ($GOVERSION)"
