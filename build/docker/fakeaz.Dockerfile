# mcaspec/fakeaz: the fake MCA authorization server (admin API under /admin/).
# Built FROM the local mcaspec/mcaspec image (no registry): see build/docker/README.md.
#   docker run --rm -p 9080:9080 -e MCASPEC_ADMIN_TOKEN=$(openssl rand -hex 16) mcaspec/fakeaz:dev
#       every interface of the container, behind a mapped port: the serverUrl of each request comes
#       from its Host / X-Forwarded-* headers, the admin API needs the token (Authorization: Bearer)
#   docker run --rm --network host mcaspec/fakeaz:dev fakeaz --listen 127.0.0.1:9080   # loopback, open admin API
ARG BASE=mcaspec/mcaspec:dev
FROM ${BASE}
EXPOSE 9080
CMD ["fakeaz", "--listen", "0.0.0.0:9080", "--public-url", "from-request"]
