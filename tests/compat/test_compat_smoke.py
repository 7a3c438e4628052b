"""The smallest port: two assets materialized in process, under either package."""

from compat_target import dg


@dg.asset
def raw_numbers() -> list[int]:
    return [1, 2, 3]


@dg.asset
def total(raw_numbers: list[int]) -> int:
    return sum(raw_numbers)


def test_two_assets_materialize_and_the_downstream_reads_the_upstream():
    result = dg.materialize([raw_numbers, total])
    assert result.success
    assert result.output_for_node("total") == 6
