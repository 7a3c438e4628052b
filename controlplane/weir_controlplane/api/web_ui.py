"""The web UI over HTTP: the built single-page app from `ui_static/`, on the API's port.

    GET /                    index.html (no-cache: a new build is picked up at once)
    GET /static/<hashed>     the app's scripts and styles, cached for good (immutable)
    GET /assets/raw/orders   index.html again: the page routes itself client-side

Only the UI's own routes are claimed, for GET and HEAD alone, so that every
`/<service>/<method>` path stays the Connect API's (a POST to `/runs/x` still gets the
API's "no method" error). The UI calls the same API, with the same tokens, as any client.
"""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

STATIC_DIR = Path(__file__).resolve().parent.parent / "ui_static"
# Client-side pages; `{rest:path}` takes keys with slashes (`/assets/raw/orders`).
PAGE_PATHS = (
    "/",
    "/assets",
    "/assets/{rest:path}",
    "/lineage",
    "/runs",
    "/runs/{rest:path}",
    "/backfills",
    "/backfills/{rest:path}",
    "/automation",
    "/locations",
)
IMMUTABLE = "public, max-age=31536000, immutable"


class _HashedFiles(StaticFiles):
    """Vite names every built file by its content hash, so a name never changes meaning."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        if response.status_code == 200:
            response.headers["cache-control"] = IMMUTABLE
        return response


def ui_built(static_dir: Path = STATIC_DIR) -> bool:
    return (static_dir / "index.html").is_file()


def ui_routes(static_dir: Path = STATIC_DIR) -> list[BaseRoute]:
    """The UI's routes; when the UI was not built, its pages say how to build it."""
    index = static_dir / "index.html"

    async def page(request: Request) -> Response:
        if not ui_built(static_dir):
            return PlainTextResponse(
                "The web UI is not built: run `make ui` (or install a weir-controlplane "
                "wheel, which carries it). The API is served here all the same.",
                status_code=404,
            )
        return FileResponse(index, headers={"cache-control": "no-cache"})

    routes: list[BaseRoute] = [Route(path, page, methods=["GET", "HEAD"]) for path in PAGE_PATHS]
    static = static_dir / "static"
    routes.append(Mount("/static", app=_HashedFiles(directory=static, check_dir=False)))
    return routes
