"""The HTTP API answers only requests addressed to a host name it is known by.

A web page can make a browser send requests to 127.0.0.1 through a name it controls
(DNS rebinding: `evil.example` first resolves to the attacker, then to 127.0.0.1); such
requests carry `Host: evil.example`. Refusing unknown Host headers keeps a loopback API
out of a browser's reach. Known names: loopback (localhost, 127.0.0.1, [::1]), the
address the server binds, and any the operator adds (`--allowed-host`, for a proxy or a
DNS name).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")


def is_loopback(host: str) -> bool:
    """Whether a server bound to `host` is reachable from this machine only."""
    host = host.strip().strip("[]").lower()
    return host in LOOPBACK_HOSTS or host.startswith("127.")


def host_names(bind_host: str = "", extra: Iterable[str] = ()) -> frozenset[str]:
    """The lower-case host names (no port, no brackets) a server on `bind_host` answers."""
    names = {*LOOPBACK_HOSTS, *extra}
    if bind_host:
        names.add(bind_host)
    return frozenset(name.strip().strip("[]").lower() for name in names if name.strip())


def host_of(header: str) -> str:
    """ "127.0.0.1:3000" -> "127.0.0.1", "[::1]:3000" -> "::1", "Example.com" -> "example.com"."""
    header = header.strip().lower()
    if header.startswith("["):
        return header[1 : header.find("]")] if "]" in header else header
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


class HostCheckMiddleware:
    """ASGI middleware: a request whose Host is not one of `allowed` gets a Connect error
    (permission_denied, 403) and reaches no route."""

    def __init__(self, app: Any, allowed: frozenset[str]) -> None:
        self.app = app
        self.allowed = allowed

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        header = ""
        for name, value in scope.get("headers", ()):
            if name == b"host":
                header = value.decode("latin-1")
                break
        if host_of(header) in self.allowed:
            await self.app(scope, receive, send)
            return
        body = json.dumps(
            {
                "code": "permission_denied",
                "message": "the Host header names a host this server does not answer for; "
                "add it with --allowed-host if it is this server",
            }
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 403,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
