"""The SDK's time windows and schedules answer exactly what the shared engine
(`weir_partitions`) answers for the same arguments: the adapters add nothing and drop
nothing, in random time zones and across DST."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, available_timezones

import weir as dg
from hypothesis import given, settings
from hypothesis import strategies as st
from weir_partitions import CronClock, TimeWindowKeySpace, parse_cron

ZONES = sorted(z for z in available_timezones() if "/" in z and not z.startswith("Etc/"))


@st.composite
def definitions(draw: st.DrawFn) -> tuple[dg.TimeWindowPartitionsDefinition, datetime]:
    zone = draw(st.sampled_from(ZONES))
    start = draw(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2030, 1, 1)))
    common = {"timezone": zone, "end_offset": draw(st.integers(-2, 2))}
    minute, hour = draw(st.integers(0, 59)), draw(st.integers(0, 23))
    kind = draw(st.sampled_from(["hourly", "daily", "weekly", "monthly", "cron"]))
    if kind == "hourly":
        defn = dg.HourlyPartitionsDefinition(start, minute_offset=minute, **common)
        span = timedelta(hours=300)
    elif kind == "daily":
        defn = dg.DailyPartitionsDefinition(start, minute_offset=minute, hour_offset=hour, **common)
        span = timedelta(days=120)
    elif kind == "weekly":
        defn = dg.WeeklyPartitionsDefinition(
            start, hour_offset=hour, day_offset=minute % 7, **common
        )
        span = timedelta(weeks=60)
    elif kind == "monthly":
        defn = dg.MonthlyPartitionsDefinition(start, day_offset=1 + minute % 28, **common)
        span = timedelta(days=900)
    else:
        cron = draw(st.sampled_from(["*/20 * * * *", "30 2 * * 1-5", "0 0 L * *", "0 0 * * 1#2"]))
        defn = dg.TimeWindowPartitionsDefinition(
            start=start, fmt="%Y-%m-%d %H:%M", cron_schedule=cron, **common
        )
        span = timedelta(days=200)
    if draw(st.booleans()):
        end = start + span * draw(st.floats(0.1, 1))
        defn = dg.TimeWindowPartitionsDefinition(
            start=defn.start,
            fmt=defn.fmt,
            end=end,
            timezone=defn.timezone,
            end_offset=defn.end_offset,
            cron_schedule=defn.cron_schedule,
        )
    return defn, start.replace(tzinfo=ZoneInfo(zone)) + span * draw(st.floats(0, 1))


def engine_of(defn: dg.TimeWindowPartitionsDefinition) -> TimeWindowKeySpace:
    return TimeWindowKeySpace(
        defn.cron_schedule, defn.timezone, defn.fmt, defn.start, defn.end, defn.end_offset
    )


@settings(max_examples=100, deadline=None)
@given(definitions())
def test_time_window_definitions_answer_what_the_engine_answers(case):
    defn, now = case
    space, moment = engine_of(defn), now.timestamp()
    keys = defn.get_partition_keys(current_time=now)
    assert keys == space.keys(moment)
    assert defn.get_first_partition_key(current_time=now) == space.first_key(moment)
    assert defn.get_last_partition_key(current_time=now) == space.last_key(moment)
    for key in keys[:20] + keys[-5:]:
        window = defn.time_window_for_partition_key(key)
        expected = space.window(space.require_tick(key))
        # isoformat carries the offset: the two instances of a repeated hour differ
        assert [t.isoformat() for t in window] == [t.isoformat() for t in expected]
        assert defn.get_partition_key_for_timestamp(moment) == space.format_tick(
            space.clock.prev_tick(int(moment))
        )
    beyond = space.format_tick(space.clock.next_tick(int(moment) + 1))
    for key in [beyond, *(k + "0" for k in keys[:3]), *(k[:-1] for k in keys[:3])]:
        assert defn.has_partition_key(key, current_time=now) == space.has_key(key, moment)


@settings(max_examples=100, deadline=None)
@given(
    st.sampled_from(ZONES),
    st.sampled_from(["0 6 * * *", "30 2 * * *", "*/15 * * * *", "0 * * * 1-5", "0 0 * * 1#2"]),
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2035, 1, 1)),
)
def test_schedule_ticks_are_the_engine_ticks(zone, cron, start):
    schedule = dg.ScheduleDefinition(
        name="s", job_name="j", cron_schedule=cron, execution_timezone=zone
    )
    after = start.replace(tzinfo=ZoneInfo(zone))
    clock = CronClock(parse_cron(cron), ZoneInfo(zone))
    ticks = clock.iter_ticks(int(after.timestamp()) + 1)
    expected = [next(ticks)[1].isoformat() for _ in range(6)]
    assert [t.isoformat() for t in schedule.next_tick_times(after, 6)] == expected


def test_a_schedule_cron_string_is_a_partition_schedule_too():
    # One engine: what a schedule accepts, time-window partitions accept.
    dg.ScheduleDefinition(name="s", job_name="j", cron_schedule="0 0 * * 1#2")
    second_mondays = dg.TimeWindowPartitionsDefinition(
        start="2024-01-01", fmt="%Y-%m-%d", cron_schedule="0 0 * * 1#2"
    )
    assert second_mondays.get_partition_keys(current_time=datetime(2024, 4, 1)) == [
        "2024-01-08",
        "2024-02-12",
    ]
