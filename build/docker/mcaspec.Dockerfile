# The mcaspec CLI in an empty image. No registry is needed: the static binary is built on the host
# (CGO_ENABLED=0) into the build context by `make images` (build/docker.mk), e.g.
#   CGO_ENABLED=0 go build -trimpath -o out/docker/mcaspec ./cmd/mcaspec
#   docker build -f build/docker/mcaspec.Dockerfile -t mcaspec/mcaspec:dev out/docker
# Run it with host networking: every mcaspec server listens on 127.0.0.1 only.
#   docker run --rm --network host mcaspec/mcaspec:dev fakeaz --listen 127.0.0.1:9080
FROM scratch
LABEL org.mcaspec.image=mcaspec
COPY mcaspec /mcaspec
# nobody: the servers need no privilege and write no file.
USER 65534:65534
ENTRYPOINT ["/mcaspec"]
CMD ["help"]
