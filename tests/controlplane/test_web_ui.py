"""The web UI on the API's HTTP port: pages at their deep routes, hashed files cached for
good, and the Connect API's paths left to the API."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from api_harness import ApiServer, add_location, deployment, etl_snapshot, serving_http
from weir_controlplane.api import create_connect_app
from weir_controlplane.api.web_ui import IMMUTABLE, ui_routes
from weir_controlplane.storage import DeploymentScope

INDEX = "<!doctype html><div id=root></div><script src=/static/app-1a2b3c.js></script>"


@pytest.fixture
def built(tmp_path: Path) -> Path:
    (tmp_path / "static").mkdir()
    (tmp_path / "index.html").write_text(INDEX)
    (tmp_path / "static" / "app-1a2b3c.js").write_text("console.log('weir')")
    return tmp_path


@contextmanager
def client_for(server: ApiServer, static_dir: Path) -> Iterator[httpx.Client]:
    app = create_connect_app(server.api, routes=ui_routes(static_dir))
    with serving_http(app) as port, httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
        yield client


@pytest.fixture
def http(server: ApiServer, built: Path, scope: DeploymentScope) -> Iterator[httpx.Client]:
    add_location(server.storage, scope, "etl", etl_snapshot())
    with client_for(server, built) as client:
        client.headers.update(dict(deployment(scope)))
        yield client


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/assets",
        "/assets/raw/orders",
        "/lineage",
        "/runs",
        "/runs/0b6f4a52-63b3-4c1e-9d7e-6d0f0e7b9a11",
        "/backfills",
        "/backfills/bf_1",
        "/automation",
        "/locations",
    ],
)
def test_every_page_route_serves_the_app_uncached(http: httpx.Client, path: str) -> None:
    reply = http.get(path)
    assert reply.status_code == 200
    assert reply.text == INDEX
    assert reply.headers["content-type"].startswith("text/html")
    assert reply.headers["cache-control"] == "no-cache"


def test_hashed_files_are_cached_for_good(http: httpx.Client) -> None:
    reply = http.get("/static/app-1a2b3c.js")
    assert reply.status_code == 200
    assert reply.text == "console.log('weir')"
    assert reply.headers["cache-control"] == IMMUTABLE
    missing = http.get("/static/app-000000.js")
    assert missing.status_code == 404
    assert "immutable" not in missing.headers.get("cache-control", "")


def test_the_api_keeps_its_paths(http: httpx.Client) -> None:
    listed = http.post("/weir.v1.ControlPlaneService/ListAssets", json={"selection": "orders+"})
    assert listed.status_code == 200, listed.text
    assert [a["key"]["path"] for a in listed.json()["assets"]] == [["orders"], ["revenue"]]
    # A POST to a page path is an API call to a method that does not exist, not the page.
    posted = http.post("/runs/abc", json={})
    assert posted.status_code == 404
    assert posted.json()["code"] == "unimplemented"
    # Paths that are not pages are not the app either.
    other = http.get("/weir.v1.ControlPlaneService/ListAssets")
    assert other.status_code == 405
    assert http.get("/healthz").json()["status"] == "SERVING"


def test_an_unbuilt_ui_says_how_to_build_it(server: ApiServer, tmp_path: Path) -> None:
    with client_for(server, tmp_path) as client:
        reply = client.get("/assets")
    assert reply.status_code == 404
    assert "make ui" in reply.text
