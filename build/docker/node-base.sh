#!/usr/bin/env bash
# Builds a minimal Node.js base image from the host's own node binary and the shared libraries it
# links (no registry needed): FROM scratch + node + libc & co. For targets whose real base image
# (node:20-slim, a company image...) cannot be pulled here. Usage:
#   bash build/docker/node-base.sh [TAG]        # default mcaspec/node-base:local
set -euo pipefail
TAG="${1:-mcaspec/node-base:local}"
NODE="$(command -v node)" || { echo "node-base: no node on PATH" >&2; exit 1; }
NODE="$(readlink -f "$NODE")"
CTX="$(mktemp -d)"
trap 'rm -rf "$CTX"' EXIT
mkdir -p "$CTX/root/usr/local/bin" "$CTX/root/tmp" "$CTX/root/etc"
cp "$NODE" "$CTX/root/usr/local/bin/node"
# The dynamic loader and every library node links, at their paths.
for lib in $(ldd "$NODE" | grep -o '/[^ ]*' | sort -u); do
  mkdir -p "$CTX/root$(dirname "$lib")"
  cp -L "$lib" "$CTX/root$lib"
done
printf 'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n' >"$CTX/root/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$CTX/root/etc/group"
printf '127.0.0.1 localhost\n::1 localhost\n' >"$CTX/root/etc/hosts"
cat >"$CTX/Dockerfile" <<'DOCKERFILE'
FROM scratch
LABEL org.mcaspec.image=node-base
COPY root/ /
ENV PATH=/usr/local/bin
ENTRYPOINT ["/usr/local/bin/node"]
DOCKERFILE
chmod 1777 "$CTX/root/tmp"
DOCKER_BUILDKIT=0 docker build -q -t "$TAG" "$CTX"
echo "node-base: built $TAG from $NODE ($("$NODE" --version))"
