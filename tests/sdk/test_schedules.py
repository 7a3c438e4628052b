"""Schedules: cron validation, tick evaluation, and tick times across daylight-saving changes."""

import doctest
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
import weir as dg
from hypothesis import given, settings
from hypothesis import strategies as st
from weir._automation import cron, schedules

NEW_YORK = ZoneInfo("America/New_York")


@dg.asset
def orders():
    return 1


JOB = dg.define_asset_job("refresh", "orders")


def at(*args, tz=NEW_YORK):
    return datetime(*args, tzinfo=tz)


# ---- evaluating ticks -----------------------------------------------------------------


def test_schedule_function_sees_the_tick_time_in_its_timezone():
    @dg.schedule("0 6 * * *", job=JOB, execution_timezone="America/New_York")
    def morning(context):
        day = context.scheduled_execution_time.strftime("%Y-%m-%d %H:%M %Z")
        return dg.RunRequest(run_key=day, tags={"day": day})

    tick_time = datetime(2024, 7, 1, 10, 0, tzinfo=UTC)  # 06:00 in New York (EDT)
    result = morning.evaluate_tick(dg.build_schedule_context(scheduled_execution_time=tick_time))

    (request,) = result.run_requests
    assert request.run_key == "2024-07-01 06:00 EDT"
    assert request.job_name == "refresh"
    assert result.skip_message is None


def test_naive_tick_time_is_read_in_the_schedule_timezone():
    @dg.schedule("0 6 * * *", job=JOB, execution_timezone="Asia/Tokyo")
    def tokyo(context):
        return dg.RunRequest(run_key=context.scheduled_execution_time.isoformat())

    context = dg.build_schedule_context(scheduled_execution_time=datetime(2024, 1, 1, 6))
    (request,) = tokyo.evaluate_tick(context).run_requests
    assert request.run_key == "2024-01-01T06:00:00+09:00"


def test_calling_the_schedule_directly_returns_what_the_function_returns():
    @dg.schedule("0 * * * *", job=JOB)
    def hourly(context):
        return dg.RunRequest(run_key=str(context.scheduled_execution_time.hour))

    context = dg.build_schedule_context(scheduled_execution_time=datetime(2024, 1, 1, 5))
    assert hourly(context) == dg.RunRequest(run_key="5")
    assert hourly(context=context) == dg.RunRequest(run_key="5")


def test_schedule_function_without_context_and_generators():
    @dg.schedule("0 * * * *", job=JOB)
    def no_context():
        yield dg.RunRequest(run_key="a")
        yield dg.RunRequest(run_key="b")

    assert no_context() == [dg.RunRequest(run_key="a"), dg.RunRequest(run_key="b")]
    result = no_context.evaluate_tick(dg.build_schedule_context())
    assert [r.run_key for r in result.run_requests] == ["a", "b"]


def test_run_config_dict_becomes_one_run_request():
    @dg.schedule("0 * * * *", job=JOB)
    def configured(context):
        return {"ops": {"orders": {"config": {"day": "2024-01-01"}}}}

    (request,) = configured.evaluate_tick(dg.build_schedule_context()).run_requests
    assert request.run_config == {"ops": {"orders": {"config": {"day": "2024-01-01"}}}}
    assert request.job_name == "refresh"


def test_skip_reason_launches_nothing_and_says_why():
    @dg.schedule("0 * * * *", job=JOB)
    def skipping(context):
        return dg.SkipReason("holiday")

    result = skipping.evaluate_tick(dg.build_schedule_context())
    assert result.run_requests == []
    assert result.skip_message == "holiday"


def test_returning_nothing_launches_nothing():
    @dg.schedule("0 * * * *", job=JOB)
    def quiet(context):
        return None

    result = quiet.evaluate_tick(dg.build_schedule_context())
    assert result.run_requests == [] and result.skip_message is None


def test_returning_something_else_is_a_clear_error():
    @dg.schedule("0 * * * *", job=JOB)
    def wrong(context):
        return 42

    with pytest.raises(dg.TickEvaluationError, match="Schedule 'wrong' returned int 42"):
        wrong.evaluate_tick(dg.build_schedule_context())


def test_run_requests_and_a_skip_reason_together_are_an_error():
    @dg.schedule("0 * * * *", job=JOB)
    def confused(context):
        return [dg.RunRequest(), dg.SkipReason("no")]

    with pytest.raises(dg.TickEvaluationError, match="both RunRequests and a SkipReason"):
        confused.evaluate_tick(dg.build_schedule_context())


def test_an_exception_in_the_function_names_the_schedule_and_keeps_the_cause():
    @dg.schedule("0 * * * *", job=JOB)
    def broken(context):
        raise ValueError("upstream API down")

    with pytest.raises(dg.TickEvaluationError, match="'broken' raised ValueError") as err:
        broken.evaluate_tick(dg.build_schedule_context())
    assert isinstance(err.value.__cause__, ValueError)


def test_schedule_without_function_requests_its_run_config_with_its_tags():
    nightly = dg.ScheduleDefinition(
        job=JOB, cron_schedule="0 2 * * *", run_config={"ops": {}}, tags={"kind": "nightly"}
    )

    assert nightly.name == "refresh_schedule"
    (request,) = nightly.evaluate_tick(dg.build_schedule_context()).run_requests
    assert request == dg.RunRequest(
        run_config={"ops": {}}, tags={"kind": "nightly"}, job_name="refresh"
    )


def test_run_tags_apply_to_runs_and_request_tags_win():
    @dg.schedule("0 * * * *", job=JOB, tags={"owner": "ops"}, run_tags={"env": "prod"})
    def tagged(context):
        return dg.RunRequest(tags={"env": "staging", "day": "1"})

    (request,) = tagged.evaluate_tick(dg.build_schedule_context()).run_requests
    assert request.tags == {"env": "staging", "day": "1"}
    assert tagged.tags == {"owner": "ops"}


def test_should_execute_false_skips_the_tick():
    @dg.schedule("0 * * * *", job=JOB, should_execute=lambda context: False)
    def guarded(context):
        return dg.RunRequest()

    result = guarded.evaluate_tick(dg.build_schedule_context())
    assert result.run_requests == [] and "should_execute" in result.skip_message


def test_schedule_receives_resources_by_parameter_name():
    class Calendar(dg.ConfigurableResource):
        holidays: list[str]

    @dg.schedule("0 6 * * *", job=JOB)
    def workdays(context, calendar: Calendar):
        day = context.scheduled_execution_time.strftime("%m-%d")
        return dg.SkipReason("holiday") if day in calendar.holidays else dg.RunRequest()

    context = dg.build_schedule_context(
        scheduled_execution_time=datetime(2024, 12, 25, 6),
        resources={"calendar": Calendar(holidays=["12-25"])},
    )
    assert workdays.evaluate_tick(context).skip_message == "holiday"
    assert workdays.required_resource_keys == {"calendar"}
    assert workdays(context, calendar=Calendar(holidays=[])) == dg.RunRequest()
    with pytest.raises(dg.TickEvaluationError, match="needs resource 'calendar'"):
        workdays.evaluate_tick(dg.build_schedule_context())


def test_schedule_with_an_asset_target_gets_an_implicit_job():
    @dg.schedule("0 * * * *", target=[orders])
    def hourly_orders(context):
        return dg.RunRequest()

    assert hourly_orders.job_name == "__anonymous_asset_job_hourly_orders"
    defs = dg.Definitions(assets=[orders], schedules=[hourly_orders])
    (request,) = hourly_orders.evaluate_tick(dg.build_schedule_context()).run_requests
    assert defs.jobs[request.job_name] is hourly_orders.job


def test_default_status_and_description():
    @dg.schedule("0 * * * *", job=JOB, default_status=dg.DefaultScheduleStatus.RUNNING)
    def documented(context):
        """Refresh orders every hour."""

    assert documented.default_status is dg.DefaultScheduleStatus.RUNNING
    assert documented.description == "Refresh orders every hour."
    assert documented.cron_schedule == "0 * * * *"


# ---- definition errors ----------------------------------------------------------------


@pytest.mark.parametrize(
    "bad, message",
    [
        ("0 25 * * *", "invalid cron string '0 25 \\* \\* \\*'"),
        ("every day", "invalid cron string"),
        ("0 0 * * * *", "6 fields"),
        ("0 0 30 2 *", "never fires"),
        ("", "needs a cron string"),
    ],
)
def test_bad_cron_is_a_definition_error_naming_the_schedule_with_an_example(bad, message):
    with pytest.raises(dg.DefinitionError, match=message) as err:

        @dg.schedule(bad, job=JOB)
        def nightly(context):
            return None

    assert "Schedule 'nightly'" in str(err.value)
    assert "'0 6 * * *'" in str(err.value)


def test_unknown_timezone_is_a_definition_error_with_a_suggestion():
    with pytest.raises(dg.DefinitionError, match="unknown timezone 'America/New_Yrok'") as err:
        dg.ScheduleDefinition(
            job=JOB, cron_schedule="0 6 * * *", execution_timezone="America/New_Yrok"
        )
    assert "did you mean 'America/New_York'" in str(err.value)
    assert "Schedule 'refresh_schedule'" in str(err.value)


def test_schedule_must_target_exactly_one_thing():
    with pytest.raises(dg.DefinitionError, match="sets job and job_name"):
        dg.ScheduleDefinition(cron_schedule="0 6 * * *", job=JOB, job_name="refresh")
    with pytest.raises(dg.DefinitionError, match="launches nothing"):
        dg.ScheduleDefinition(name="s", cron_schedule="0 6 * * *")
    with pytest.raises(dg.DefinitionError, match="not a job"):
        dg.ScheduleDefinition(name="s", cron_schedule="0 6 * * *", job="refresh")


def test_schedule_targeting_an_unknown_job_fails_in_definitions():
    nightly = dg.ScheduleDefinition(job_name="nope", cron_schedule="0 2 * * *")

    with pytest.raises(dg.DefinitionError, match="Schedule 'nope_schedule' targets job 'nope'"):
        dg.Definitions(assets=[orders], jobs=[JOB], schedules=[nightly])


def test_schedule_targeting_a_job_by_name_resolves_in_definitions():
    nightly = dg.ScheduleDefinition(name="nightly", job_name="refresh", cron_schedule="0 2 * * *")
    defs = dg.Definitions(assets=[orders], jobs=[JOB], schedules=[nightly])

    assert defs.get_schedule_def("nightly").job is None
    assert defs.get_schedule_def("nightly").job_name == "refresh"
    with pytest.raises(dg.DefinitionError, match="known schedules: nightly"):
        defs.get_schedule_def("daily")


# ---- tick times -----------------------------------------------------------------------


def ticks(cron_schedule, start, n, tz="America/New_York"):
    schedule = dg.ScheduleDefinition(
        name="s", job_name="j", cron_schedule=cron_schedule, execution_timezone=tz
    )
    return [t.isoformat() for t in schedule.next_tick_times(start, n)]


def test_next_tick_times_in_utc():
    start = datetime(2024, 1, 1, 6, 0, tzinfo=UTC)  # exactly on a tick: excluded
    assert ticks("0 6 * * *", start, 2, tz="UTC") == [
        "2024-01-02T06:00:00+00:00",
        "2024-01-03T06:00:00+00:00",
    ]


def test_naive_start_is_read_in_the_schedule_timezone():
    assert ticks("0 6 * * *", datetime(2024, 1, 1, 7), 1) == ["2024-01-02T06:00:00-05:00"]


def test_daily_tick_in_the_spring_forward_gap_fires_at_the_end_of_the_gap():
    # 2024-03-10 02:00 EST jumps to 03:00 EDT: 02:30 does not exist that day.
    assert ticks("30 2 * * *", at(2024, 3, 9), 3) == [
        "2024-03-09T02:30:00-05:00",
        "2024-03-10T03:00:00-04:00",
        "2024-03-11T02:30:00-04:00",
    ]


def test_daily_tick_in_the_repeated_fall_back_hour_fires_once():
    # 2024-11-03 02:00 EDT falls back to 01:00 EST: 01:30 happens twice.
    assert ticks("30 1 * * *", at(2024, 11, 2, 12), 3) == [
        "2024-11-03T01:30:00-04:00",
        "2024-11-04T01:30:00-05:00",
        "2024-11-05T01:30:00-05:00",
    ]


def test_hourly_schedule_fires_once_per_real_hour_across_dst():
    assert ticks("30 * * * *", at(2024, 3, 10, 0, 45), 3) == [
        "2024-03-10T01:30:00-05:00",
        "2024-03-10T03:30:00-04:00",  # 02:30 does not exist; one real hour after 01:30
        "2024-03-10T04:30:00-04:00",
    ]
    assert ticks("30 * * * *", at(2024, 11, 3, 0, 45), 3) == [
        "2024-11-03T01:30:00-04:00",
        "2024-11-03T01:30:00-05:00",  # the repeated hour fires again
        "2024-11-03T02:30:00-05:00",
    ]


def test_start_inside_the_repeated_hour_continues_from_the_second_occurrence():
    first_130 = datetime(2024, 11, 3, 5, 30, tzinfo=UTC)  # 01:30 EDT
    assert ticks("30 * * * *", first_130, 2) == [
        "2024-11-03T01:30:00-05:00",
        "2024-11-03T02:30:00-05:00",
    ]


def test_several_cron_strings_are_merged_without_duplicates():
    schedule = dg.ScheduleDefinition(
        name="s", job_name="j", cron_schedule=["0 9 * * 1-5", "0 9 * * 1", "0 12 * * 6"]
    )
    start = datetime(2024, 1, 5, 10, tzinfo=UTC)  # Friday
    assert [t.isoformat() for t in schedule.next_tick_times(start, 3)] == [
        "2024-01-06T12:00:00+00:00",
        "2024-01-08T09:00:00+00:00",
        "2024-01-09T09:00:00+00:00",
    ]


DST_ZONES = ["America/New_York", "Europe/Berlin", "Australia/Sydney", "America/Santiago"]


@settings(max_examples=60, deadline=None)
@given(
    zone=st.sampled_from(DST_ZONES),
    hour=st.integers(0, 23),
    minute=st.sampled_from([0, 15, 30, 59]),
    start=st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1)),
)
def test_daily_schedule_fires_exactly_once_per_local_day(zone, hour, minute, start):
    tz = ZoneInfo(zone)
    after = start.replace(tzinfo=UTC)
    times = dg.ScheduleDefinition(
        name="s", job_name="j", cron_schedule=f"{minute} {hour} * * *", execution_timezone=zone
    ).next_tick_times(after, 30)

    utc = [t.astimezone(UTC) for t in times]  # compare instants, not wall times
    assert all(t > after for t in utc)
    assert all(a < b for a, b in pairwise(utc))
    days = [t.astimezone(tz).date() for t in times]
    assert days == [days[0] + timedelta(days=i) for i in range(30)]
    for t in times:
        local = t.astimezone(tz)
        on_time = (local.hour, local.minute) == (hour, minute)
        assert on_time or _is_end_of_gap(local), local.isoformat()


@settings(max_examples=60, deadline=None)
@given(
    zone=st.sampled_from(DST_ZONES),
    minute=st.sampled_from([0, 30, 45]),
    start=st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1)),
)
def test_hourly_schedule_ticks_are_one_real_hour_apart(zone, minute, start):
    # Every zone here moves its clock by whole hours, so a fixed minute keeps a 1 h cadence.
    times = dg.ScheduleDefinition(
        name="s", job_name="j", cron_schedule=f"{minute} * * * *", execution_timezone=zone
    ).next_tick_times(start.replace(tzinfo=UTC), 50)

    # Subtract in UTC: Python subtracts datetimes of one zone by wall time, ignoring DST.
    utc = [t.astimezone(UTC) for t in times]
    assert all(b - a == timedelta(hours=1) for a, b in pairwise(utc))


def _is_end_of_gap(local: datetime) -> bool:
    """True if the wall clock jumped forward just before `local`."""
    just_before = (local.astimezone(UTC) - timedelta(seconds=1)).astimezone(local.tzinfo)
    return just_before.utcoffset() < local.utcoffset()


def test_dst_gap_sanity_for_the_law_above():
    assert _is_end_of_gap(datetime(2024, 3, 10, 3, 0, tzinfo=NEW_YORK))
    assert not _is_end_of_gap(datetime(2024, 3, 11, 3, 0, tzinfo=NEW_YORK))


def test_docstring_examples_run():
    assert doctest.testmod(schedules).failed == 0
    assert doctest.testmod(cron).failed == 0
