"""Databases for control-plane tests: SQLite always, PostgreSQL when configured.

Every fixture built on `database_url` runs its tests once per backend. The API tests
share `server` (the API on real ports, one per test module) and `etl` (a deployment with
the "etl" code location); a module needing another location overrides `etl`. PostgreSQL
runs need `WEIR_TEST_POSTGRES_URL` (e.g. postgresql+psycopg://postgres@127.0.0.1/test);
each session works in a schema of its own, dropped afterwards, so parallel or earlier
runs never see each other's rows.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
from api_harness import ApiServer, add_location, etl_snapshot, serving
from sqlalchemy.engine import make_url
from weir_controlplane.storage import DeploymentScope, Storage

POSTGRES_URL_ENV = "WEIR_TEST_POSTGRES_URL"
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@contextmanager
def postgres_schema(base_url: str) -> Iterator[str]:
    """A URL whose connections work in a new, empty schema; the schema is dropped after."""
    schema = f"weir_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(
        make_url(base_url).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    url = (
        make_url(base_url)
        .set(drivername="postgresql+psycopg")
        .update_query_dict({"options": f"-csearch_path={schema}"})
    )
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


@contextmanager
def empty_database(backend: str, directory: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{directory / f'weir-{uuid.uuid4().hex[:8]}.db'}"
        return
    base_url = os.environ.get(POSTGRES_URL_ENV)
    if not base_url:
        pytest.skip(f"{POSTGRES_URL_ENV} is not set; PostgreSQL storage tests need a server")
    with postgres_schema(base_url) as url:
        yield url


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """One database per backend for the whole session (tests keep apart by deployment)."""
    with empty_database(request.param, tmp_path_factory.mktemp("db")) as url:
        yield url


@pytest.fixture(params=BACKENDS)
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database of its own for this test, with no tables yet."""
    with empty_database(request.param, tmp_path) as url:
        yield url


@pytest.fixture(params=BACKENDS)
def two_empty_database_urls(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[str, str]]:
    """Two databases of one backend for this test, with no tables yet."""
    with (
        empty_database(request.param, tmp_path) as first,
        empty_database(request.param, tmp_path) as second,
    ):
        yield first, second


@pytest.fixture
def postgres_storage(tmp_path: Path) -> Iterator[Storage]:
    """Storage on PostgreSQL alone, for what only PostgreSQL does (concurrent writers)."""
    with empty_database("postgresql", tmp_path) as url:
        opened = Storage.open(url)
        yield opened
        opened.close()


@pytest.fixture(scope="session")
def storage(database_url: str) -> Iterator[Storage]:
    opened = Storage.open(database_url)
    yield opened
    opened.close()


@pytest.fixture
def scope(storage: Storage) -> DeploymentScope:
    """A fresh deployment: the test sees no rows but its own."""
    return storage.deployments.ensure_deployment(f"test-{uuid.uuid4().hex[:12]}")


@pytest.fixture(scope="module")
def server(storage: Storage) -> Iterator[ApiServer]:
    """The API over gRPC and HTTP on free ports, for one test module (see api_harness)."""
    with serving(storage) as api_server:
        yield api_server


@pytest.fixture
def etl(server: ApiServer, scope: DeploymentScope) -> DeploymentScope:
    """A deployment with the code location "etl" (see `etl_snapshot`)."""
    add_location(server.storage, scope, "etl", etl_snapshot())
    return scope
