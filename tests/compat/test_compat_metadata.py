"""Metadata as Dagster's guides use it: definition metadata reads back as written (and an
I/O manager reads it to find its table); materialization metadata is typed; groups nest.
"""

from compat_target import dg

crm_accounts = dg.AssetSpec(
    "crm_accounts",
    metadata={"source": "crm", "refresh_hours": 6, "dashboard": dg.MetadataValue.url("https://bi")},
    group_name="sales",
)


class TableIOManager(dg.IOManager):
    """Stores each asset under the table its definition metadata names."""

    def __init__(self):
        self.tables = {}

    def handle_output(self, context: dg.OutputContext, obj):
        self.tables[context.definition_metadata["table_name"]] = obj

    def load_input(self, context: dg.InputContext):
        return self.tables[context.asset_key.path[-1]]


@dg.asset(metadata={"table_name": "analytics.daily_revenue", "owner_team": "finance"})
def daily_revenue() -> int:
    return 1200


@dg.asset(group_name="marketing/attribution")
def touchpoints() -> list[str]:
    return ["ad", "email"]


@dg.asset(group_name="marketing/attribution")
def first_touch(touchpoints: list[str]) -> str:
    return touchpoints[0]


@dg.asset(group_name="marketing")
def campaigns() -> int:
    return 3


@dg.asset
def loaded_rows() -> dg.MaterializeResult:
    return dg.MaterializeResult(metadata={"rows": 250, "preview": "a,b,c"})


def test_definition_metadata_reads_back_as_written():
    assert crm_accounts.metadata["source"] == "crm"
    assert crm_accounts.metadata["refresh_hours"] == 6


def test_a_metadata_value_given_as_one_stays_one():
    assert crm_accounts.metadata["dashboard"].value == "https://bi"


def test_asset_metadata_reads_back_as_written_on_its_spec():
    (spec,) = daily_revenue.specs
    assert spec.metadata["table_name"] == "analytics.daily_revenue"
    assert spec.metadata["owner_team"] == "finance"


def test_an_io_manager_reads_the_definition_metadata_as_a_string():
    io_manager = TableIOManager()

    dg.materialize([daily_revenue], resources={"io_manager": io_manager})

    assert io_manager.tables == {"analytics.daily_revenue": 1200}


def test_materialization_metadata_is_typed():
    result = dg.materialize([loaded_rows])

    (materialization,) = result.asset_materializations_for_node("loaded_rows")
    assert materialization.metadata["rows"].value == 250
    assert materialization.metadata["preview"].value == "a,b,c"


def test_a_nested_group_name_is_kept():
    (spec,) = touchpoints.specs
    assert spec.group_name == "marketing/attribution"


def test_a_nested_group_is_selected_by_its_full_name():
    result = dg.materialize(
        [touchpoints, first_touch, campaigns],
        selection=dg.AssetSelection.groups("marketing/attribution"),
    )

    assert result.output_for_node("first_touch") == "ad"
    materialized = {m.asset_key for m in result.get_asset_materialization_events()}
    assert dg.AssetKey("campaigns") not in materialized
