# syntax=docker/dockerfile:1
# The Weir control plane (API, daemons, run queue). From the repository root:
#   docker build -f deploy/docker/controlplane.Dockerfile -t weir-controlplane .
# Build and runtime stages share one base, so the venv's interpreter path stays valid.
# tests/deploy/test_image_steps.py runs this file's RUN steps outside Docker.

FROM python:3.11-slim-bookworm AS build
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PROJECT_ENVIRONMENT=/opt/weir \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN pip install --no-cache-dir uv==0.13.9
WORKDIR /src
# Every workspace member's pyproject is needed for the lock to resolve; only the control
# plane's packages install.
COPY pyproject.toml uv.lock ./
COPY sdk/ sdk/
COPY selection/ selection/
COPY partitions/ partitions/
COPY protos/pyproject.toml protos/
COPY protos/weir_protos/ protos/weir_protos/
COPY codeserver/ codeserver/
COPY controlplane/ controlplane/
# For the Kubernetes run launcher, add the official client (about 150 MB of the image):
#   docker build --build-arg EXTRAS="--extra kubernetes" ...
ARG EXTRAS=""
# hadolint ignore=SC2086
RUN uv sync --frozen --no-dev --no-editable --package weir-controlplane $EXTRAS

FROM python:3.11-slim-bookworm
RUN useradd --system --uid 10001 --user-group --home-dir /var/lib/weir --create-home weir
COPY --from=build /opt/weir /opt/weir
COPY deploy/docker/healthcheck.py /usr/local/lib/weir/healthcheck.py
ENV PATH=/opt/weir/bin:$PATH WEIR_HOME=/var/lib/weir PYTHONUNBUFFERED=1
USER 10001:10001
WORKDIR /var/lib/weir
# 3000: HTTP/JSON (Connect) API and web UI; 4000: gRPC API and run reporting.
EXPOSE 3000 4000
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
    CMD ["python", "/usr/local/lib/weir/healthcheck.py", "127.0.0.1:4000"]
ENTRYPOINT ["weir"]
CMD ["controlplane", "--host", "0.0.0.0", "-w", "/etc/weir/weir.yaml"]
