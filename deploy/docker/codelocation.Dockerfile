# syntax=docker/dockerfile:1
# A Python code location. Stage `base` is the image user code is layered on:
#   docker build -f deploy/docker/codelocation.Dockerfile --target base -t weir-codelocation .
# and then, in the user's own Dockerfile:
#   FROM weir-codelocation
#   COPY --chown=10001:10001 my_project/ /app/my_project/
#   RUN uv pip install --python /opt/weir/bin/python -r /app/my_project/requirements.txt
#   CMD ["-m", "my_project.definitions"]
# Stage `quickstart` (the default) is that, for examples/quickstart: what compose.yaml runs.
# Stage `celery` serves examples/celery and runs its Celery workers; build it with
#   --build-arg EXTRAS="--extra celery" --target celery
# (compose.yaml does), which adds Celery and its Redis client to the image.
# tests/deploy/test_image_steps.py runs this file's RUN steps outside Docker.

FROM python:3.11-slim-bookworm AS build
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PROJECT_ENVIRONMENT=/opt/weir \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN pip install --no-cache-dir uv==0.13.9
WORKDIR /src
COPY pyproject.toml uv.lock ./
COPY sdk/ sdk/
COPY selection/ selection/
COPY partitions/ partitions/
COPY protos/pyproject.toml protos/
COPY protos/weir_protos/ protos/weir_protos/
COPY codeserver/ codeserver/
COPY controlplane/ controlplane/
# The code server, the SDK and the wire contract; never the control plane.
ARG EXTRAS=""
# hadolint ignore=SC2086
RUN uv sync --frozen --no-dev --no-editable --package weir-codeserver $EXTRAS

FROM python:3.11-slim-bookworm AS base
RUN useradd --system --uid 10001 --user-group --home-dir /var/lib/weir --create-home weir \
    && pip install --no-cache-dir uv==0.13.9
COPY --from=build /opt/weir /opt/weir
COPY deploy/docker/healthcheck.py /usr/local/lib/weir/healthcheck.py
# The run workers write asset values under $WEIR_HOME (the filesystem I/O manager).
ENV PATH=/opt/weir/bin:$PATH WEIR_HOME=/var/lib/weir PYTHONUNBUFFERED=1 PYTHONPATH=/app \
    WEIR_CODESERVER_HOST=0.0.0.0 WEIR_CODESERVER_PORT=4100
USER 10001:10001
WORKDIR /app
EXPOSE 4100
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
    CMD ["python", "/usr/local/lib/weir/healthcheck.py", "127.0.0.1:4100"]
# A Kubernetes Job per run replaces this with `python -m weir_codeserver.job_main ...`.
ENTRYPOINT ["weir-codeserver"]

FROM base AS celery
COPY --chown=10001:10001 examples/celery/defs.py /app/celery/defs.py
# The code server; its workers run the same image with the entrypoint
# `python -m weir_codeserver.celery` (what `weir celery worker` runs): compose.yaml.
CMD ["-f", "/app/celery/defs.py"]

FROM base AS quickstart
COPY --chown=10001:10001 examples/quickstart/defs.py /app/quickstart/defs.py
CMD ["-f", "/app/quickstart/defs.py"]
