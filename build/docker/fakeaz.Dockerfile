# mcaspec/fakeaz: the fake MCA authorization server (admin API under /admin/).
# Built FROM the local mcaspec/mcaspec image (no registry): see build/docker/README.md.
#   docker run --rm --network host mcaspec/fakeaz:dev                                # 127.0.0.1:9080
#   docker run --rm --network host mcaspec/fakeaz:dev fakeaz --listen 127.0.0.1:19080
ARG BASE=mcaspec/mcaspec:dev
FROM ${BASE}
CMD ["fakeaz", "--listen", "127.0.0.1:9080"]
