"""`weir dev` / `weir controlplane` refuse settings that cannot work, before they start."""

from __future__ import annotations

from pathlib import Path

import pytest
from weir_controlplane.app import ControlPlaneConfig
from weir_controlplane.cli import main
from weir_controlplane.errors import InvalidSettingError

BAD_FLAGS = [
    (["--max-concurrent-runs", "0"], "--max-concurrent-runs must be at least 1"),
    (["--max-concurrent-runs", "-1"], "--max-concurrent-runs must be at least 1"),
    (["--heartbeat-interval", "0"], "--heartbeat-interval must be a positive number"),
    (["--heartbeat-interval", "-2"], "--heartbeat-interval must be a positive number"),
    (["--heartbeat-interval", "nan"], "--heartbeat-interval must be a positive number"),
    (["--heartbeat-timeout", "inf"], "--heartbeat-timeout must be longer than"),
    (
        ["--heartbeat-interval", "5", "--heartbeat-timeout", "5"],
        "--heartbeat-timeout must be longer than --heartbeat-interval (5.0 s)",
    ),
    (["--grpc-port", "70000"], "--grpc-port must be a port (0 to 65535)"),
    (["--http-port", "-1"], "--http-port must be a port (0 to 65535)"),
]


@pytest.mark.timeout(30)  # a control plane that accepted the flags would serve forever
@pytest.mark.parametrize("command", ["controlplane", "dev"])
@pytest.mark.parametrize(("flags", "message"), BAD_FLAGS)
def test_invalid_settings_are_refused_in_one_line_before_starting(
    command: str,
    flags: list[str],
    message: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("WEIR_HOME", str(tmp_path / "home"))
    defs = tmp_path / "defs.py"
    defs.write_text("import weir\ndefs = weir.Definitions()\n")
    target = ["-f", str(defs)] if command == "dev" else []
    ports = ["--grpc-port", "0", "--http-port", "0"]

    assert main([command, *target, *ports, *flags]) == 1

    out, err = capsys.readouterr()
    assert err.startswith(f"error: {message}"), err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "WEIR_CONTROLPLANE_READY" not in out
    assert not (tmp_path / "home").exists(), "nothing may be created for a refused start"


def test_the_configuration_refuses_what_the_cli_would() -> None:
    with pytest.raises(InvalidSettingError) as refused:
        ControlPlaneConfig(max_concurrent_runs=0)
    assert refused.value.setting == "max_concurrent_runs"
    assert "queued" in str(refused.value)
    with pytest.raises(InvalidSettingError, match="heartbeat_timeout"):
        ControlPlaneConfig(heartbeat_interval=3, heartbeat_timeout=1)
    with pytest.raises(InvalidSettingError, match="grpc_port"):
        ControlPlaneConfig(grpc_port=True)
    assert ControlPlaneConfig(grpc_port=0, http_port=0, max_concurrent_runs=1).http_port == 0
