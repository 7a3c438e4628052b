"""`weir assets …` and `weir runs …` against a control plane's HTTP API on a real port."""

from __future__ import annotations

import contextlib
import http.server
import re
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from api_harness import (
    ApiServer,
    add_location,
    asset,
    deployment,
    event,
    free_port,
    key,
    materialized,
    snapshot,
    weir,
)
from weir_controlplane.cli import main
from weir_controlplane.client import WeirClient
from weir_controlplane.errors import ControlPlaneUnreachableError, NotFoundError
from weir_controlplane.storage import DeploymentScope
from weir_protos.v1 import common_pb2, events_pb2
from weir_protos.v1 import control_plane_pb2 as cp

E = events_pb2


@pytest.fixture
def etl(server: ApiServer, scope: DeploymentScope) -> DeploymentScope:
    add_location(
        server.storage,
        scope,
        "etl",
        snapshot(
            asset("raw/orders", group="ingest", kinds=["s3"]),
            asset("orders", deps=["raw/orders"], group="sales", kinds=["python"]),
            asset("revenue", deps=["orders"], group="sales", checks=["positive"]),
        ),
    )
    return scope


def columns(output: str) -> list[dict[str, str]]:
    """Parse an aligned table: each column starts where its header starts."""
    header, *rows = output.rstrip("\n").splitlines()
    # Headers are separated by two spaces or more; one space is inside a header.
    found = list(re.finditer(r"\S+(?: \S+)*", header))
    names = [match.group() for match in found]
    starts = [match.start() for match in found]
    ends = [*starts[1:], None]
    return [
        {name: row[start:end].strip() for name, start, end in zip(names, starts, ends, strict=True)}
        for row in rows
    ]


def launch(server: ApiServer, scope: DeploymentScope, *names: str) -> str:
    request = cp.LaunchRunRequest(asset_keys=[key(name) for name in names])
    return server.control_plane().LaunchRun(request, metadata=deployment(scope)).run.run_id


def test_assets_list_prints_an_aligned_table(
    server: ApiServer, etl: DeploymentScope, capsys: pytest.CaptureFixture[str]
) -> None:
    run_id = launch(server, etl, "orders")
    server.report(
        etl,
        run_id,
        event(1, E.RUN_EVENT_TYPE_ASSET_MATERIALIZATION, materialization=materialized("orders")),
    )
    code, out, _ = weir(server, etl, capsys, "assets", "list")
    assert code == 0
    rows = columns(out)
    assert [row["KEY"] for row in rows] == ["orders", "raw/orders", "revenue"]
    by_key = {row["KEY"]: row for row in rows}
    assert by_key["orders"]["LOCATION"] == "etl"
    assert by_key["orders"]["GROUP"] == "sales"
    assert by_key["raw/orders"]["KINDS"] == "s3"
    assert by_key["revenue"]["CHECKS"] == "1 not run"
    assert by_key["orders"]["LAST MATERIALIZED"] != "never"
    assert by_key["revenue"]["LAST MATERIALIZED"] == "never"

    code, out, _ = weir(
        server, etl, capsys, "assets", "list", "--group", "sales", "--kind", "python"
    )
    assert [row["KEY"] for row in columns(out)] == ["orders"]
    code, out, _ = weir(server, etl, capsys, "assets", "list", "--group", "none")
    assert out.strip() == "No assets match."


def test_assets_lineage_shows_each_assets_dependencies(
    server: ApiServer, etl: DeploymentScope, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = weir(server, etl, capsys, "assets", "lineage", "orders", "--downstream", "1")
    assert code == 0
    rows = columns(out)
    assert [(row["KEY"], row["DEPENDS ON"]) for row in rows] == [
        ("raw/orders", "-"),
        ("orders", "raw/orders"),
        ("revenue", "orders"),
    ]


def test_assets_lineage_and_the_client_follow_every_page_of_a_large_lineage(
    server: ApiServer, scope: DeploymentScope, capsys: pytest.CaptureFixture[str]
) -> None:
    # 20,000 assets with a 200-byte tag each: more than one reply holds.
    note = {"note": "n" * 200}
    leaves = [f"leaf{i:05d}" for i in range(20_000)]
    add_location(
        server.storage,
        scope,
        "wide",
        snapshot(asset("root"), *(asset(leaf, deps=["root"], tags=note) for leaf in leaves)),
    )
    first = server.control_plane().GetAssetLineage(
        cp.GetAssetLineageRequest(selection="root+"), metadata=deployment(scope)
    )
    assert first.next_cursor  # the lineage does span pages
    code, out, _ = weir(server, scope, capsys, "assets", "lineage", "root+")
    assert code == 0
    rows = columns(out)
    assert [row["KEY"] for row in rows] == ["root", *leaves]
    assert {row["DEPENDS ON"] for row in rows[1:]} == {"root"}
    whole = WeirClient(server.http_url, deployment=scope.name).get_asset_lineage("root+")
    assert len(whole.assets) == len(whole.edges) + 1 == 20_001


def test_runs_list_show_and_cancel(
    server: ApiServer, etl: DeploymentScope, capsys: pytest.CaptureFixture[str]
) -> None:
    failed = launch(server, etl, "orders")
    server.report(
        etl,
        failed,
        event(1, E.RUN_EVENT_TYPE_RUN_STARTED),
        event(
            2,
            E.RUN_EVENT_TYPE_STEP_FAILURE,
            step="orders",
            step_failure=E.StepFailure(
                error=common_pb2.Error(class_name="KeyError", message="'customer_id'")
            ),
        ),
        event(3, E.RUN_EVENT_TYPE_RUN_FAILURE, message="Step orders failed: KeyError"),
    )
    queued = launch(server, etl, "revenue")

    code, out, _ = weir(server, etl, capsys, "runs", "list")
    assert code == 0
    rows = columns(out)
    assert [(row["RUN ID"], row["STATUS"]) for row in rows] == [
        (queued, "QUEUED"),
        (failed, "FAILURE"),
    ]
    code, out, _ = weir(server, etl, capsys, "runs", "list", "--status", "failure")
    assert [row["RUN ID"] for row in columns(out)] == [failed]

    code, out, _ = weir(server, etl, capsys, "runs", "show", failed)
    assert code == 0
    assert f"Run {failed}" in out
    assert "Status:    FAILURE" in out
    assert "KeyError: 'customer_id'" in out
    events = columns(out.split("\n\n", 1)[1])
    assert [row["EVENT"] for row in events] == [
        "RUN_ENQUEUED",
        "RUN_STARTED",
        "STEP_FAILURE",
        "RUN_FAILURE",
    ]

    code, out, _ = weir(server, etl, capsys, "runs", "cancel", queued)
    assert code == 0 and out.strip() == f"Run {queued}: CANCELED"
    code, out, _ = weir(server, etl, capsys, "runs", "cancel", failed)
    assert out.strip() == f"Run {failed}: FAILURE (it had already ended)"


def test_runs_launch_of_a_selection(
    server: ApiServer, etl: DeploymentScope, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = weir(
        server, etl, capsys, "runs", "launch", "--select", "orders+", "--tag", "team=sales"
    )
    assert code == 0
    assert "(QUEUED): 2 asset(s) in etl: orders, revenue" in out
    run_id = out.split()[2]
    run = WeirClient(server.http_url, deployment=etl.name).get_run(run_id).run
    assert run.tags["team"] == "sales" and run.selection == "orders+"


def test_errors_are_one_line_without_a_traceback(
    server: ApiServer, etl: DeploymentScope, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = weir(server, etl, capsys, "runs", "show", "no-such-run")
    assert code == 1 and out == ""
    assert err == "error: run 'no-such-run' does not exist in this deployment (not_found)\n"
    code, _, err = weir(server, etl, capsys, "runs", "launch", "--select", "orders", "--tag", "x")
    assert code == 1 and err == "error: --tag takes KEY=VALUE, got 'x'\n"

    closed = f"http://127.0.0.1:{free_port()}"
    code = main(["runs", "list", "--url", closed])
    _, err = capsys.readouterr()
    assert code == 1
    assert err.startswith(f"error: cannot reach the control plane at {closed}")
    assert err.count("\n") == 1 and "Traceback" not in err


def test_the_client_raises_the_servers_error_classes(
    server: ApiServer, etl: DeploymentScope
) -> None:
    client = WeirClient(server.http_url, deployment=etl.name)
    with pytest.raises(NotFoundError, match="no-such-run"):
        client.get_run("no-such-run")
    with pytest.raises(ControlPlaneUnreachableError):
        WeirClient(f"http://127.0.0.1:{free_port()}").list_runs()
    assert [a.key.path for a in client.all_assets(group="sales", limit=1)] == [
        ["orders"],
        ["revenue"],
    ]


def test_an_unknown_flag_shows_the_subcommands_usage(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["runs", "list", "--bogus"])
    _, err = capsys.readouterr()
    assert exit_info.value.code == 2
    assert err.startswith("usage: weir runs list ")
    assert "weir runs list: error: unrecognized arguments: --bogus" in err


def test_api_errors_name_the_cli_flag_the_person_typed(
    server: ApiServer, etl: DeploymentScope, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = weir(
        server, etl, capsys, "runs", "launch", "--select", "orders", "--partition", "2024-01-01"
    )
    assert code == 1
    assert err.startswith("error: --partition '2024-01-01' was given but none of the selected")
    assert "partitionKey" not in err


def test_the_grpc_port_or_another_http_server_is_one_line_not_a_traceback(
    server: ApiServer, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["runs", "list", "--url", f"http://127.0.0.1:{server.grpc_port}"])
    _, err = capsys.readouterr()
    assert code == 1 and err.count("\n") == 1 and "Traceback" not in err
    assert "does not answer as an HTTP/1.1 server" in err and "HTTP port" in err

    with _html_server(404) as url:
        code = main(["runs", "list", "--url", url])
    _, err = capsys.readouterr()
    assert code == 1 and err.count("\n") == 1 and "<html" not in err
    assert f"{url} answered HTTP 404" in err and "not a Weir API reply" in err

    with _html_server(200) as url:
        code = main(["assets", "list", "--url", url])
    _, err = capsys.readouterr()
    assert code == 1 and err.count("\n") == 1 and "<html" not in err
    assert "answered HTTP 200, text/html that is not a Weir API reply" in err


def test_the_cli_default_url_is_the_clients() -> None:
    from weir_controlplane import client, connect_client
    from weir_controlplane.cli import remote

    assert remote.DEFAULT_URL == connect_client.DEFAULT_URL == client.DEFAULT_URL


def test_the_cli_status_names_are_the_proto_enum() -> None:
    from weir_controlplane.cli.runs import STATUS_NAMES
    from weir_protos.v1 import runs_pb2

    assert [
        runs_pb2.RunStatus.Name(value).removeprefix("RUN_STATUS_")
        for value in runs_pb2.RunStatus.values()
        if value != runs_pb2.RUN_STATUS_UNSPECIFIED
    ] == STATUS_NAMES


@contextlib.contextmanager
def _html_server(status: int) -> Iterator[str]:
    """A plain HTTP server that answers every POST with an HTML page."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = b"<html><body><h1>Not here</h1>\n<p>some other server</p></body></html>"
            self.send_response(status)
            self.send_header("content-type", "text/html; charset=utf-8")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(10)
