"""Webhook URLs: what a policy may post to, and how one is shown.

A webhook URL may be a credential (a Slack incoming webhook's path is its secret), so
replies and logs show only its scheme and host: `https://hooks.slack.com/…`.
"""

from __future__ import annotations

from urllib.parse import urlsplit

MAX_URL_LENGTH = 2048


def problem(url: str) -> str | None:
    """Why `url` cannot be a webhook (None when it can)."""
    if not url:
        return "webhook_url is required, e.g. https://hooks.slack.com/services/..."
    if len(url) > MAX_URL_LENGTH:
        return f"webhook_url is longer than {MAX_URL_LENGTH} characters"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  # raises on a port that is not a number
    except ValueError:
        return "webhook_url does not parse as a URL"
    if parts.scheme not in ("http", "https"):
        return f"webhook_url must be an http:// or https:// URL, not {parts.scheme or 'none'!r}"
    if not parts.hostname:
        return "webhook_url names no host"
    if any(char.isspace() for char in url):
        return "webhook_url contains white space"
    return None


def masked(url: str) -> str:
    """`url` with everything after the host hidden (it may hold a secret)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "(a URL that does not parse)"
    hidden = "/…" if (parts.path not in ("", "/") or parts.query or parts.fragment) else ""
    return f"{parts.scheme}://{host}{port}{hidden}"
