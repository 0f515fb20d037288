# A Node.js target (targets/bms-mca-resource or targets/bms-mca-backend) in an image. Build context:
# the targets/ folder (app.js requires ../common/contract; node_modules/x509 links to ../common/x509). node_modules come from the host
# (`npm ci` already ran there): the default base is built from the host's node binary by
# build/docker/node-base.sh, which has no shell and no npm. With a real Node base image, see
# build/docker/README.md (RUN npm ci in the image instead).
#   docker build -f build/docker/node-target.Dockerfile --build-arg TARGET=bms-mca-resource \
#     -t mcaspec/bms-mca-resource:dev targets
ARG NODE_BASE=mcaspec/node-base:local
FROM ${NODE_BASE}
ARG TARGET=bms-mca-resource
LABEL org.mcaspec.image=${TARGET}
COPY common/ /app/common/
COPY ${TARGET}/package.json ${TARGET}/server.js ${TARGET}/app.js /app/target/
COPY ${TARGET}/node_modules/ /app/target/node_modules/
WORKDIR /app/target
USER 65534:65534
ENV NODE_ENV=production
ENTRYPOINT ["/usr/local/bin/node"]
CMD ["server.js"]
