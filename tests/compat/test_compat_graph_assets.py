"""Assets computed by op graphs: @graph_asset and @graph_multi_asset."""

from compat_target import dg


@dg.asset
def raw_readings() -> list[int]:
    return [3, -1, 4, -1, 5]


@dg.op
def drop_negative(readings: list[int]) -> list[int]:
    return [r for r in readings if r >= 0]


@dg.op
def total(readings: list[int]) -> int:
    return sum(readings)


@dg.op
def count(readings: list[int]) -> int:
    return len(readings)


@dg.graph_asset
def reading_total(raw_readings):
    return total(drop_negative(raw_readings))


@dg.asset
def reading_report(reading_total: int) -> str:
    return f"total {reading_total}"


def test_a_graph_asset_reads_upstream_assets_and_feeds_downstream_ones():
    result = dg.materialize([raw_readings, reading_total, reading_report])

    assert result.success
    assert result.output_for_node("reading_total") == 12
    assert result.output_for_node("reading_report") == "total 12"
    materialized = {e.asset_key for e in result.get_asset_materialization_events()}
    assert dg.AssetKey("reading_total") in materialized


def test_a_graph_asset_is_an_asset_of_the_definitions():
    defs = dg.Definitions(assets=[raw_readings, reading_total, reading_report])
    assert defs.get_assets_def("reading_total").key == dg.AssetKey("reading_total")
    job = dg.define_asset_job("readings", selection="*reading_report")
    defs = dg.Definitions(assets=[raw_readings, reading_total, reading_report], jobs=[job])
    assert defs.get_job_def("readings").execute_in_process().output_for_node("reading_report") == (
        "total 12"
    )


@dg.graph_multi_asset(outs={"kept_total": dg.AssetOut(), "kept_count": dg.AssetOut()})
def reading_stats(raw_readings):
    kept = drop_negative(raw_readings)
    return {"kept_total": total(kept), "kept_count": count(kept)}


def test_a_graph_multi_asset_produces_one_asset_per_out():
    result = dg.materialize([raw_readings, reading_stats])

    assert result.success
    assert result.asset_value("kept_total") == 12
    assert result.asset_value("kept_count") == 3


class Threshold(dg.ConfigurableResource):
    minimum: int = 0


@dg.op
def above_threshold(threshold: Threshold, readings: list[int]) -> list[int]:
    return [r for r in readings if r > threshold.minimum]


@dg.graph_asset
def strong_readings(raw_readings):
    return above_threshold(raw_readings)


def test_ops_of_a_graph_asset_get_resources():
    result = dg.materialize(
        [raw_readings, strong_readings], resources={"threshold": Threshold(minimum=3)}
    )
    assert result.output_for_node("strong_readings") == [4, 5]


class Factor(dg.Config):
    by: int = 1


@dg.op
def scale(config: Factor, value: int) -> int:
    return value * config.by


@dg.graph_asset
def scaled_total(reading_total):
    return scale(reading_total)


def test_ops_of_a_graph_asset_are_configured_under_the_asset():
    assets = [raw_readings, reading_total, scaled_total]
    result = dg.materialize(
        assets, run_config={"ops": {"scaled_total": {"ops": {"scale": {"config": {"by": 3}}}}}}
    )
    assert result.output_for_node("scaled_total") == 36
    result = dg.materialize(
        assets, run_config=dg.RunConfig(ops={"scaled_total": {"ops": {"scale": Factor(by=2)}}})
    )
    assert result.output_for_node("scaled_total") == 24
    assert dg.materialize(assets).output_for_node("scaled_total") == 12
