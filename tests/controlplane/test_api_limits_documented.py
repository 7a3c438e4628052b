"""The proto comments state the API's size limits; they must say what `limits.py` does."""

from __future__ import annotations

from pathlib import Path

from weir_controlplane.api import limits
from weir_selection.parser import MAX_DEPTH

PROTOS = Path(__file__).resolve().parents[2] / "protos" / "weir" / "v1"


def test_the_proto_comments_state_the_limits_the_api_enforces() -> None:
    control_plane = (PROTOS / "control_plane.proto").read_text()
    reporting = (PROTOS / "reporting.proto").read_text()
    assert f"At most {limits.MAX_SELECTION_CHARS:,} characters" in control_plane
    assert f"nesting at most {MAX_DEPTH}" in control_plane.replace("\n  //", "")
    assert f"At most {limits.MAX_TAGS} tags" in control_plane
    assert f"keys of 1 to {limits.MAX_TAG_KEY_BYTES} bytes" in control_plane
    assert f"values of at most {limits.MAX_TAG_VALUE_BYTES // 1024} KiB" in control_plane
    assert f"at most {limits.MAX_RUN_CONFIG_BYTES // 1024} KiB serialized" in control_plane
    assert f"server's default ({limits.DEFAULT_PAGE_SIZE})" in control_plane
    assert f"maximum ({limits.MAX_PAGE_SIZE:,})" in control_plane
    assert f"reach {limits.MAX_REPLY_BYTES // 2**20} MiB" in control_plane
    assert f"At most {limits.MAX_SENSOR_CURSOR_BYTES // 1024} KiB." in control_plane
    assert f"most {limits.MAX_EVENT_BYTES // 1024} KiB serialized" in reporting
    assert f"at most {limits.MAX_EVENT_METADATA_BYTES // 1024} KiB" in reporting
    assert "from 1 to 2^63 - 1" in reporting and limits.MAX_INT64 == 2**63 - 1
