"""The benchmark runner's own logic: discovery, result lines, the table, profiles.

Nothing here asserts on a duration: the figures themselves live in bench/RESULTS.md.
"""

from __future__ import annotations

import cProfile
import json
import sys
import types

import pytest
import weir

from bench.report import (
    NOT_RUN_DAGSTER,
    UNAVAILABLE_IN_WEIR,
    build_rows,
    kept_sections,
    render,
    replace_kept_section,
    results_table,
    summarize_importtime,
    summarize_profile,
)
from bench.run import environment, harness_command, main, parse_result_line, run_harness
from bench.spec import Target, Workload, WorkloadError, discover


def _line(workload, implementation, params, median, **extra):
    return {
        "workload": workload,
        "implementation": implementation,
        "version": "1.0",
        "python": "3.11.7",
        "parameters": params,
        "runs": 3,
        "seconds": [median] * 3,
        "median_s": median,
        "min_s": median,
        "max_s": median,
        "peak_rss_mb": 20.0,
        **extra,
    }


def _workload(name="sample", **overrides):
    module = types.ModuleType(f"bench.workloads.{name}")
    module.__file__ = f"{name}.py"
    module.TITLE = "sample"
    module.TIMED = "the sample call"
    module.IMPLEMENTATIONS = ("weir", "dagster")
    module.PARAMS = [{"assets": 100}]
    module.QUICK_PARAMS = [{"assets": 10}]
    module.UNIT = ("assets", "asset")
    module.run = lambda bench: None
    for name, value in overrides.items():
        setattr(module, name, value)
    return Workload.from_module(module)


def test_discovers_every_workload_file_with_import_first():
    workloads = discover()
    names = [w.name for w in workloads]
    assert {"import_time", "definitions", "materialize", "partitions"} <= set(names)
    assert names[0] == "import_time"
    assert all("weir" in w.implementations and w.repeat >= 3 for w in workloads)
    assert not any(name.startswith("_") for name in names)


def test_a_workload_missing_a_declaration_is_named_in_the_error():
    module = types.ModuleType("bench.workloads.broken")
    module.__file__ = "broken.py"
    module.IMPLEMENTATIONS = ("weir",)
    with pytest.raises(WorkloadError, match=r"'broken'.*must define"):
        Workload.from_module(module)


def test_fewer_than_three_runs_or_an_unknown_implementation_is_refused():
    with pytest.raises(WorkloadError, match="at least 3"):
        _workload(REPEAT=2)
    with pytest.raises(WorkloadError, match="IMPLEMENTATIONS"):
        _workload(IMPLEMENTATIONS=("airflow",))


def test_result_line_is_found_among_other_output():
    stdout = "\n".join(
        [
            "user code printed this",
            '{"not": "a result"}',
            json.dumps(_line("sample", "weir", {}, 0.5)),
            "a library logged after it",
        ]
    )
    assert parse_result_line(stdout)["median_s"] == 0.5
    assert parse_result_line("no json here\n{broken") is None


def test_table_pairs_both_implementations_with_ratio_and_verdict():
    workload = _workload(target=lambda params: Target(max_ms_per_unit=0.5))
    lines = [
        _line("sample", "weir", {"assets": 100}, 0.01, median_ms_per_unit=0.1, unit="asset"),
        _line("sample", "dagster", {"assets": 100}, 1.0, median_ms_per_unit=10.0, unit="asset"),
    ]
    [row] = build_rows([workload], lines, quick=False)
    assert row.speedup == pytest.approx(100.0)
    assert row.missed() == []
    table = "\n".join(results_table([row]))
    assert "100.0x faster" in table
    assert "0.1 ms/asset" in table and "10 ms/asset" in table
    assert "| met |" in table


def test_a_section_written_by_another_script_survives_regeneration():
    workload = _workload()
    [row] = build_rows([workload], [_line("sample", "weir", {"assets": 100}, 0.01)], quick=False)
    first = render([row], {"mode": "full"}, quick=False)
    with_load = replace_kept_section(first, "load-suite", "## Load suite\n\n| a |\n")
    assert with_load.startswith(first.rstrip("\n")) and "## Load suite" in with_load
    # Writing it again replaces it; regenerating the rest keeps it.
    again = replace_kept_section(with_load, "load-suite", "## Load suite\n\n| b |\n")
    assert "| a |" not in again and again.count("## Load suite") == 1
    regenerated = render([row], {"mode": "full"}, quick=False) + kept_sections(again)
    assert regenerated.endswith("| b |\n<!-- /kept:load-suite -->\n")


def test_missed_targets_say_by_how_much():
    workload = _workload(target=lambda params: Target(max_seconds=0.1, max_ms_per_unit=0.5))
    lines = [
        _line("sample", "weir", {"assets": 100}, 0.2, median_ms_per_unit=2.0, unit="asset"),
        _line("sample", "dagster", {"assets": 100}, 0.6),
    ]
    [row] = build_rows([workload], lines, quick=False)
    reasons = row.missed()
    assert reasons == [
        "median 200.0 ms > 100.0 ms",
        "2 ms/asset > 0.5 ms",
        "only 3.0x faster than Dagster",
    ]
    row.profile = ["own time by function: `weir/_x.py:1(slow)` 80%"]
    text = render([row], {"date": "today"}, quick=False)
    assert "## Where the time goes" in text
    assert "`weir/_x.py:1(slow)` 80%" in text


def test_unavailable_missing_and_no_equivalent_cells():
    both = _workload()
    weir_only = _workload(
        "weir_only", IMPLEMENTATIONS=("weir",), NO_EQUIVALENT="no equivalent in Dagster"
    )
    lines = [
        {
            "workload": "sample",
            "implementation": "weir",
            "parameters": {"assets": 100},
            "unavailable": "weir has no DailyPartitionsDefinition",
        },
        _line("weir_only", "weir", {"assets": 100}, 0.01),
    ]
    rows = build_rows([both, weir_only], lines, quick=False)
    assert rows[0].missed() is None
    text = render(rows, {"date": "today"}, quick=False)
    assert UNAVAILABLE_IN_WEIR in text
    assert NOT_RUN_DAGSTER in text
    assert "no equivalent in Dagster" in text
    assert "weir has no DailyPartitionsDefinition" in text


def test_quick_mode_uses_the_reduced_sizes():
    workload = _workload()
    [row] = build_rows([workload], [], quick=True)
    assert row.params == {"assets": 10}


def _slow_square(n):
    return sum(i * i for i in range(n))


def test_profile_summary_names_the_function_that_took_the_time(tmp_path):
    profiler = cProfile.Profile()
    profiler.enable()
    _slow_square(200_000)
    profiler.disable()
    path = tmp_path / "run.prof"
    profiler.dump_stats(path)
    summary = "\n".join(summarize_profile(str(path)))
    assert "_slow_square" in summary or "<genexpr>" in summary
    assert "own time by function" in summary


def test_importtime_summary_lists_what_the_package_pulls_in():
    text = "\n".join(
        [
            "import time: self [us] | cumulative | imported package",
            "import time:       100 |        100 | site",
            "import time:      3000 |       3000 |     pydantic.main",
            "import time:      1000 |       4000 |   pydantic",
            "import time:       500 |        500 |   weir._key",
            "import time:       200 |       4700 | weir",
        ]
    )
    summary = summarize_importtime(text)
    assert summary[0].startswith("5 modules imported")
    assert "`pydantic.main` 3.0 ms" in summary[1]
    assert summary[2] == "direct imports (cumulative): `pydantic` 4.0 ms, `weir._key` 0.5 ms"


def test_a_tiny_workload_end_to_end_on_weir():
    command = harness_command(sys.executable, "definitions", "weir", {"assets": 50}, repeat=3)
    line = run_harness(command, {"workload": "definitions", "implementation": "weir"})
    assert "error" not in line, line
    assert line["version"] == weir.__version__
    assert line["parameters"] == {"assets": 50}
    assert line["runs"] == 3
    assert line["min_s"] <= line["median_s"] <= line["max_s"]
    assert line["count"] == 50 and line["unit"] == "asset"
    assert line["peak_rss_mb"] > 0
    assert set(line["phases"]) == {"@asset decoration", "Definitions + validation"}


def test_phases_and_notes_are_listed_under_the_table():
    workload = _workload()
    weir_line = _line(
        "sample",
        "weir",
        {"assets": 100},
        0.3,
        phases={"decoration": 0.2, "construction": 0.1},
        notes={"heavy_modules": {"grpc": False}},
    )
    text = render(build_rows([workload], [weir_line], quick=False), {}, quick=False)
    assert "decoration 200.0 ms (median), construction 100.0 ms (median)" in text
    assert "heavy modules: grpc no" in text


def test_a_weir_only_row_without_an_absolute_target_has_no_verdict():
    workload = _workload(IMPLEMENTATIONS=("weir",))
    [row] = build_rows([workload], [_line("sample", "weir", {"assets": 100}, 0.01)], quick=False)
    assert row.missed() is None
    assert row.target.describe("asset") == "≥ 10x faster"


def test_header_says_when_and_how_busy_from_the_measurements_themselves():
    lines = [
        _line("sample", "weir", {}, 0.1, measured_at="2026-01-02 10:00 UTC", load_average=0.5),
        _line("sample", "dagster", {}, 1.0, measured_at="2026-01-02 10:05 UTC", load_average=1.5),
    ]
    env = environment(lines, quick=False, repeat=None)
    assert env["date"] == "2026-01-02 10:00 UTC to 2026-01-02 10:05 UTC"
    assert env["load average (1 min) after each measurement"].startswith("0.50 to 1.50")
    assert env["versions"] == "dagster 1.0, weir 1.0"


def test_an_earlier_run_can_be_tabulated_again_without_measuring(tmp_path):
    raw = tmp_path / "results.jsonl"
    lines = [
        _line("definitions", "weir", {"assets": 1000}, 0.01, median_ms_per_unit=0.01, unit="asset"),
        _line("definitions", "dagster", {"assets": 1000}, 1.0),
    ]
    raw.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    output = tmp_path / "RESULTS.md"
    code = main(
        [
            "--only",
            "definitions",
            "--no-profile",
            "--from-results",
            str(raw),
            "--output",
            str(output),
        ]
    )
    assert code == 0
    text = output.read_text()
    assert "| Definitions, layered assets | assets=1000 |" in text
    assert "100.0x faster" in text
    assert "not run (`make bench-setup` first)" in text  # the 5,000 and 10,000 rows
