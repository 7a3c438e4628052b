"""The JSON bodies posted to webhooks: the alert event as it is, or Slack's shape.

Plain JSON::

    {"kind": "RUN_FAILED", "deployment": "prod", "summary": "Run 1f2e… failed",
     "occurred_at": "2026-12-06T20:00:00+00:00", "run_id": "1f2e…", ...}

Slack-compatible (`{"text": ..., "blocks": [...]}`): `text` is the notification line,
`blocks` a section with the message and a context line saying where it happened.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from weir_controlplane.storage.alerts import BodyFormat

# Slack refuses a section text longer than 3000 characters.
_SLACK_TEXT_LIMIT = 3000
_WHERE_FIELDS = (
    ("code_location", "location"),
    ("run_id", "run"),
    ("asset_key", "asset"),
    ("check_name", "check"),
    ("instigator", "from"),
)


def render(event: Mapping[str, Any], body_format: BodyFormat, deployment: str) -> bytes:
    """The request body for `event` (a stored AlertEvent document) in `body_format`."""
    document = {"deployment": deployment, **event}
    if body_format is BodyFormat.SLACK:
        document = _slack(document)
    return json.dumps(document, separators=(",", ":"), sort_keys=True).encode()


def _slack(event: Mapping[str, Any]) -> dict[str, Any]:
    summary = str(event.get("summary", ""))
    message = str(event.get("message", ""))
    section = f"*{summary}*" + (f"\n```{message}```" if message else "")
    if len(section) > _SLACK_TEXT_LIMIT:
        section = section[: _SLACK_TEXT_LIMIT - 4] + "…```"
    where = [f"{event.get('kind', '')}", f"deployment `{event['deployment']}`"]
    where += [f"{label} `{event[name]}`" for name, label in _WHERE_FIELDS if event.get(name)]
    return {
        "text": summary,
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": section}},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": " · ".join(where)}]},
        ],
    }
