# syntax=docker/dockerfile:1
# The Node.js code location of examples/node-location. From the repository root:
#   docker build -f deploy/docker/node-location.Dockerfile -t weir-node-location .
# It loads the .proto files at start-up from ../../protos, so the layout is kept.
# tests/deploy/test_image_steps.py runs this file's RUN steps outside Docker.

FROM node:20-bookworm-slim AS build
WORKDIR /weir/examples/node-location
COPY examples/node-location/package.json examples/node-location/package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim
ENV NODE_ENV=production WEIR_HOME=/home/node/.weir \
    WEIR_CODESERVER_HOST=0.0.0.0 WEIR_CODESERVER_PORT=4200
WORKDIR /weir/examples/node-location
COPY protos/weir/ /weir/protos/weir/
COPY --from=build /weir/examples/node-location/node_modules/ node_modules/
COPY examples/node-location/*.js examples/node-location/package.json ./
COPY deploy/docker/healthcheck.js /weir/deploy/healthcheck.js
# The base image's unprivileged user (uid 1000).
USER 1000:1000
EXPOSE 4200
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD ["node", "/weir/deploy/healthcheck.js", "127.0.0.1:4200"]
CMD ["node", "server.js"]
