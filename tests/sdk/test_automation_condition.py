"""AutomationCondition trees, FreshnessPolicy and BackfillPolicy: the asset policies the
control plane evaluates from the definitions snapshot."""

import doctest
import json
from datetime import timedelta

import pytest
import weir as dg
from hypothesis import given
from hypothesis import strategies as st
from weir._automation import conditions, freshness, policies

A = dg.AutomationCondition


# ---- the built-ins are the documented compositions ------------------------------------


def test_eager_is_the_documented_composition():
    since_last_handled = A.newly_requested() | A.newly_updated() | A.initial_evaluation()
    expected = (
        A.in_latest_time_window()
        & (A.missing().newly_true() | A.any_deps_match(
            (A.newly_updated() & ~A.executed_with_root_target()) | A.will_be_requested()
        )).since(since_last_handled)
        & ~A.any_deps_match(A.missing() & ~A.will_be_requested())
        & ~A.any_deps_match(A.in_progress())
        & ~A.in_progress()
    )  # fmt: skip
    assert _without_labels(A.eager()) == _without_labels(expected)


def test_on_cron_is_the_documented_composition():
    cron, tz = "0 9 * * *", "Europe/Paris"
    handled = A.newly_requested() | A.newly_updated() | A.initial_evaluation()
    expected = (
        A.in_latest_time_window()
        & A.cron_tick_passed(cron, tz).since(handled)
        & A.all_deps_match(
            A.newly_updated().since(A.cron_tick_passed(cron, tz)) | A.will_be_requested()
        )
    )
    assert _without_labels(A.on_cron(cron, tz)) == _without_labels(expected)
    tick = A.on_cron(cron, tz).children[1].children[0]
    assert tick.node_type == "cron_tick_passed"
    assert tick.parameters == {"cron_schedule": "0 9 * * *", "cron_timezone": "Europe/Paris"}


def test_check_conditions_are_dagsters():
    """Dagster's names and defaults: checks match over every check unless blocking_only,
    and all_deps_blocking_checks_passed lets an upstream requested on the tick through."""
    assert _without_labels(A.all_deps_blocking_checks_passed()) == _without_labels(
        A.all_deps_match(
            A.all_checks_match(A.check_passed(), blocking_only=True) | A.will_be_requested()
        )
    )
    any_failed = A.any_checks_match(A.check_failed())
    assert (any_failed.node_type, any_failed.parameters) == (
        "any_checks_match",
        {"blocking_only": False},
    )
    assert str(any_failed) == "any_checks_match(check_failed())"
    assert str(A.all_checks_match(A.check_passed(), blocking_only=True)) == (
        "all_checks_match(check_passed(), blocking_only=True)"
    )
    assert str(A.all_deps_blocking_checks_passed().children[0]) == (
        "all_blocking_checks_passed | will_be_requested()"
    )
    assert str(~A.run_in_progress() & ~A.backfill_in_progress()) == (
        "~run_in_progress() & ~backfill_in_progress()"
    )
    with pytest.raises(dg.DefinitionError, match="blocking_only must be True or False"):
        A.any_checks_match(A.check_passed(), blocking_only="yes")  # type: ignore[arg-type]
    with pytest.raises(dg.DefinitionError, match="'all_checks_match' takes parameters"):
        A.from_dict({"type": "all_checks_match", "children": [A.check_passed().to_dict()]})


def test_on_missing_is_the_documented_composition():
    handled = A.newly_requested() | A.newly_updated() | A.initial_evaluation()
    expected = (
        A.in_latest_time_window()
        & A.missing().newly_true().since(handled)
        & ~A.any_deps_match(A.missing() & ~A.will_be_requested())
    )
    assert _without_labels(A.on_missing()) == _without_labels(expected)


def _without_labels(condition):
    return A.from_dict(_strip(condition.to_dict()))


def _strip(node):
    return {**node, "label": None, "children": [_strip(c) for c in node["children"]]}


# ---- reading a condition --------------------------------------------------------------


def test_conditions_read_like_the_code_that_built_them():
    assert str(A.eager()) == "eager"
    assert str(A.on_cron("0 * * * *")) == "on_cron(0 * * * *, UTC)"
    assert A.on_missing().expression == (
        "in_latest_time_window() & missing().newly_true().since_last_handled() & ~any_deps_missing"
    )
    assert str((A.missing() | A.execution_failed()) & ~A.in_progress()) == (
        "(missing() | execution_failed()) & ~in_progress()"
    )
    assert str(A.newly_updated().since(A.cron_tick_passed("0 0 * * *"))) == (
        "newly_updated().since(cron_tick_passed('0 0 * * *', 'UTC'))"
    )
    assert str(A.code_version_changed().with_label("new code")) == "new code"
    assert str(A.in_latest_time_window(timedelta(hours=1))) == "in_latest_time_window(3600.0)"


def test_operators_flatten_but_keep_labelled_conditions_whole():
    flat = A.missing() & A.in_progress() & A.newly_updated()
    assert flat.node_type == "and" and len(flat.children) == 3

    combined = A.eager() & A.code_version_changed()
    assert [c.label for c in combined.children] == ["eager", None]
    assert (A.missing() | A.in_progress() | A.execution_failed()).children[2] == (
        A.execution_failed()
    )
    assert (~A.missing()).node_type == "not"


def test_conditions_are_values():
    assert A.on_cron("0 * * * *") == A.on_cron("0 * * * *")
    assert A.on_cron("0 * * * *") != A.on_cron("0 1 * * *")
    assert len({A.eager(), A.eager(), A.on_missing()}) == 2


def test_replace_and_without_edit_the_built_ins():
    lenient = A.eager().without(~A.any_deps_missing())
    assert "~any_deps_missing" not in lenient.expression
    assert lenient.label is None  # no longer what "eager" means

    also_code = A.eager().replace(
        "any_deps_updated", A.any_deps_updated() | A.code_version_changed()
    )
    assert "(newly_missing | any_deps_updated | code_version_changed())" in str(
        also_code.children[1]
    )
    with pytest.raises(dg.DefinitionError, match="not an operand"):
        A.eager().without(A.missing())
    with pytest.raises(dg.DefinitionError, match="applies to an '&' condition"):
        A.missing().without(A.missing())


# ---- serialization --------------------------------------------------------------------


def test_to_dict_is_a_stable_json_tree():
    tree = A.on_cron("*/15 * * * *", "Asia/Tokyo").to_dict()
    assert json.loads(json.dumps(tree)) == tree
    assert tree["type"] == "and"
    assert tree["label"] == "on_cron(*/15 * * * *, Asia/Tokyo)"
    assert [c["type"] for c in tree["children"]] == [
        "in_latest_time_window",
        "since",
        "all_deps_match",
    ]
    assert tree["children"][0] == {
        "type": "in_latest_time_window",
        "label": None,
        "params": {"lookback_seconds": None},
        "children": [],
    }


LEAVES = [
    A.missing(),
    A.in_progress(),
    A.run_in_progress(),
    A.backfill_in_progress(),
    A.all_deps_blocking_checks_passed(),
    A.execution_failed(),
    A.newly_updated(),
    A.newly_requested(),
    A.initial_evaluation(),
    A.will_be_requested(),
    A.code_version_changed(),
    A.data_version_changed(),
    A.cron_tick_passed("0 6 * * 1-5", "America/New_York"),
    A.in_latest_time_window(timedelta(days=2)),
    A.any_deps_updated(),
    A.all_deps_updated_since_cron("0 0 * * *"),
]

trees = st.recursive(
    st.sampled_from(LEAVES),
    lambda sub: st.one_of(
        st.tuples(sub, sub).map(lambda ab: ab[0] & ab[1]),
        st.tuples(sub, sub).map(lambda ab: ab[0] | ab[1]),
        sub.map(lambda c: ~c),
        sub.map(lambda c: c.newly_true()),
        sub.map(lambda c: c.since_last_handled()),
        st.tuples(sub, sub).map(lambda ab: ab[0].since(ab[1])),
        sub.map(A.any_deps_match),
        sub.map(A.all_deps_match),
        st.tuples(st.sampled_from([A.check_passed(), A.check_failed()]), st.booleans()).map(
            lambda c: A.any_checks_match(*c)
        ),
        st.tuples(sub, st.booleans()).map(lambda c: A.all_checks_match(*c)),
        st.tuples(sub, st.text(min_size=1, max_size=8)).map(lambda c: c[0].with_label(c[1])),
    ),
    max_leaves=12,
)


@given(trees)
def test_every_condition_round_trips_through_json(condition):
    data = json.loads(json.dumps(condition.to_dict()))
    assert A.from_dict(data) == condition
    assert str(A.from_dict(data)) == str(condition)


def test_from_dict_rejects_what_the_control_plane_could_not_evaluate():
    with pytest.raises(dg.DefinitionError, match="Unknown automation condition node 'magic'"):
        A.from_dict({"type": "magic", "children": []})
    with pytest.raises(dg.DefinitionError, match="'not' takes 1 operands, got 2"):
        A.from_dict({"type": "not", "children": [A.missing().to_dict()] * 2})
    with pytest.raises(dg.DefinitionError, match="takes two or more operands"):
        A.from_dict({"type": "and", "children": [A.missing().to_dict()]})
    with pytest.raises(dg.DefinitionError, match="must be AutomationConditions"):
        A("not", ("missing",))


def test_bad_cron_or_timezone_in_a_condition_is_a_definition_error():
    with pytest.raises(dg.DefinitionError, match="invalid cron string '0 0 \\* \\*'"):
        A.on_cron("0 0 * *")
    with pytest.raises(dg.DefinitionError, match="unknown timezone 'Paris'"):
        A.cron_tick_passed("0 0 * * *", "Paris")
    with pytest.raises(dg.DefinitionError, match="non-negative timedelta"):
        A.in_latest_time_window(timedelta(hours=-1))


def test_asset_keeps_its_condition_and_policies():
    @dg.asset(
        automation_condition=A.on_cron("0 6 * * *"),
        freshness_policy=dg.FreshnessPolicy.time_window(fail_window=timedelta(hours=24)),
        backfill_policy=dg.BackfillPolicy.single_run(),
    )
    def daily_report():
        return 1

    spec = daily_report.specs[0]
    assert spec.automation_condition == A.on_cron("0 6 * * *")
    assert spec.freshness_policy.fail_window == timedelta(hours=24)
    assert daily_report.backfill_policy.max_partitions_per_run is None


def test_asset_rejects_automation_arguments_of_the_wrong_kind():
    with pytest.raises(dg.DefinitionError, match="automation_condition of asset 'a' must be"):
        dg.AssetSpec("a", automation_condition="eager")
    with pytest.raises(dg.DefinitionError, match="freshness_policy of asset 'b' must be"):

        @dg.asset(freshness_policy={"maximum_lag_minutes": 60})
        def b():
            return 1

    with pytest.raises(dg.DefinitionError, match="backfill_policy of 'c' must be"):

        @dg.asset(backfill_policy=10)
        def c():
            return 1


# ---- freshness ------------------------------------------------------------------------


def test_time_window_freshness_policy():
    policy = dg.FreshnessPolicy.time_window(
        fail_window=timedelta(hours=24), warn_window=timedelta(hours=12)
    )
    assert policy.to_dict() == {
        "type": "time_window",
        "fail_window_seconds": 86400.0,
        "warn_window_seconds": 43200.0,
    }
    assert isinstance(policy, dg.FreshnessPolicy)
    assert dg.FreshnessPolicy.time_window(timedelta(minutes=5)).warn_window is None


@pytest.mark.parametrize(
    "fail, warn, message",
    [
        (timedelta(seconds=30), None, "fail_window must be at least 60 seconds"),
        (timedelta(hours=1), timedelta(seconds=59), "warn_window must be at least 60 seconds"),
        (timedelta(hours=1), timedelta(hours=1), "must be shorter than fail_window"),
        (timedelta(hours=1), timedelta(hours=2), "must be shorter than fail_window"),
        (3600, None, "must be a timedelta"),
    ],
)
def test_time_window_freshness_policy_validation(fail, warn, message):
    with pytest.raises(dg.DefinitionError, match=message):
        dg.FreshnessPolicy.time_window(fail_window=fail, warn_window=warn)


def test_cron_freshness_policy():
    policy = dg.FreshnessPolicy.cron(
        deadline_cron="0 9 * * 1-5", lower_bound_delta=timedelta(hours=1), timezone="Europe/Paris"
    )
    assert policy.to_dict() == {
        "type": "cron",
        "deadline_cron": "0 9 * * 1-5",
        "lower_bound_delta_seconds": 3600.0,
        "timezone": "Europe/Paris",
    }
    assert policy.policy_type == "cron"


def test_cron_freshness_policy_validation():
    with pytest.raises(dg.DefinitionError, match="invalid cron string"):
        dg.FreshnessPolicy.cron("0 9 * *", timedelta(hours=1))
    with pytest.raises(dg.DefinitionError, match="unknown timezone"):
        dg.FreshnessPolicy.cron("0 9 * * *", timedelta(hours=1), timezone="Mars/Olympus")
    with pytest.raises(dg.DefinitionError, match=r"longer than the shortest time .* \(1:00:00\)"):
        dg.FreshnessPolicy.cron("0 * * * *", timedelta(hours=2))
    with pytest.raises(dg.DefinitionError, match="at least 60 seconds"):
        dg.FreshnessPolicy.cron("0 * * * *", timedelta(seconds=10))


def test_old_style_freshness_policy_explains_the_new_form():
    with pytest.raises(dg.DefinitionError, match="maximum_lag_minutes=N policy becomes"):
        dg.FreshnessPolicy(maximum_lag_minutes=60)


# ---- backfill policy ------------------------------------------------------------------


def test_backfill_policies():
    assert dg.BackfillPolicy.single_run().max_partitions_per_run is None
    assert dg.BackfillPolicy.single_run().policy_type.value == "SINGLE_RUN"
    assert dg.BackfillPolicy.multi_run(5).max_partitions_per_run == 5
    assert dg.BackfillPolicy.multi_run().policy_type.value == "MULTI_RUN"
    with pytest.raises(dg.DefinitionError, match="whole number >= 1"):
        dg.BackfillPolicy.multi_run(0)


def test_docstring_examples_run():
    for module in (conditions, freshness, policies):
        assert doctest.testmod(module).failed == 0, module.__name__
