"""`weir dev` / `weir controlplane` refuse settings that cannot work, before they start."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest
from weir_controlplane.app import ControlPlaneConfig
from weir_controlplane.cli import main
from weir_controlplane.errors import InvalidSettingError
from weir_controlplane.runs.queue_config import RunQueueConfig, load_run_queue
from weir_controlplane.storage import TagConcurrencyLimit

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
    (["--daemon-lease", "0"], "--daemon-lease must be a positive number of seconds"),
    (["--keep-ticks", "-1"], "--keep-ticks must be a whole number, 0 or more"),
    (["--keep-evaluations", "-5"], "--keep-evaluations must be a whole number, 0 or more"),
    (["--keep-ticks-days", "nan"], "--keep-ticks-days must be a number of days, 0 or more"),
    (["--keep-evaluations-days", "-1"], "--keep-evaluations-days must be a number of days"),
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
    assert gc.isenabled(), "the collector paused for the server's imports stayed off"


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


BAD_RUN_QUEUES = [
    ("run_queue: [1]", "run_queue must be a mapping"),
    ("run_queue: {max_concurrent_run: 3}", "unknown settings ['max_concurrent_run']"),
    ("run_queue: {max_concurrent_runs: 0}", "max_concurrent_runs must be an integer of at least 1"),
    (
        "run_queue: {tag_concurrency_limits: [{key: team}]}",
        "tag_concurrency_limits[0] needs a limit",
    ),
    ("run_queue: {tag_concurrency_limits: [{limit: 2}]}", "needs a tag key (key: team)"),
    (
        "run_queue: {tag_concurrency_limits: [{key: team, limit: 1, values: x}]}",
        "unknown fields ['values']",
    ),
    (
        "run_queue: {tag_concurrency_limits: [{key: team, limit: 1, value: {perValue: true}}]}",
        "value must be a tag value or {applyLimitPerUniqueValue: true}",
    ),
]


@pytest.mark.timeout(30)
@pytest.mark.parametrize(("section", "message"), BAD_RUN_QUEUES)
def test_a_bad_run_queue_in_weir_yaml_is_refused_naming_the_setting(
    section: str,
    message: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("WEIR_HOME", str(tmp_path / "home"))
    workspace = tmp_path / "weir.yaml"
    workspace.write_text(f"locations: []\n{section}\n")
    ports = ["--grpc-port", "0", "--http-port", "0"]

    assert main(["controlplane", "-w", str(workspace), *ports]) == 1

    _, err = capsys.readouterr()
    assert message in err and err.startswith(f"error: {workspace}: run_queue"), err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert not (tmp_path / "home").exists()


def test_the_run_queue_section_reads_in_dagster_s_names(tmp_path: Path) -> None:
    workspace = tmp_path / "weir.yaml"
    workspace.write_text(
        "locations: []\n"
        "run_queue:\n"
        "  max_concurrent_runs: 4\n"
        "  tag_concurrency_limits:\n"
        "    - {key: team, value: finance, limit: 2}\n"
        "    - {key: database, limit: 3}\n"
        "    - {key: customer, value: {applyLimitPerUniqueValue: true}, limit: 1}\n"
    )
    queue = load_run_queue(workspace)
    assert queue.max_concurrent_runs == 4
    assert queue.tag_concurrency_limits == (
        TagConcurrencyLimit("team", 2, "finance"),
        TagConcurrencyLimit("database", 3),
        TagConcurrencyLimit("customer", 1, per_unique_value=True),
    )
    (tmp_path / "bare.yaml").write_text("locations: []\n")
    assert load_run_queue(tmp_path / "bare.yaml") == RunQueueConfig()


@pytest.mark.timeout(30)
def test_a_bad_run_launcher_in_weir_yaml_is_refused_naming_the_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("WEIR_HOME", str(tmp_path / "home"))
    workspace = tmp_path / "weir.yaml"
    section = "run_launcher:\n  kubernetes:\n    locations: {etl: {image: etl:1}}\n"
    workspace.write_text(f"locations: []\n{section}")
    ports = ["--grpc-port", "0", "--http-port", "0"]

    assert main(["controlplane", "-w", str(workspace), *ports]) == 1

    _, err = capsys.readouterr()
    assert err.startswith(f"error: {workspace}: run_launcher.kubernetes.locations.etl.command")
    assert err.count("\n") == 1 and "Traceback" not in err
    assert not (tmp_path / "home").exists()
