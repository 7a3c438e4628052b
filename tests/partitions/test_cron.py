"""The cron engine against a brute-force reading of the same rules, across DST in random
time zones: croniter walks the wall clock, and every minute of the window is placed on the
timeline by zoneinfo alone, with no arithmetic of the engine's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones

import pytest
from croniter import croniter
from hypothesis import given, settings
from hypothesis import strategies as st
from weir_partitions import (
    CronClock,
    CronError,
    CronFieldCountError,
    CronNeverFiresError,
    parse_cron,
)

ZONES = sorted(z for z in available_timezones() if "/" in z and not z.startswith("Etc/"))
CRONS = [
    "0 * * * *",
    "30 * * * *",
    "*/20 * * * *",
    "*/7 2-3 * * *",
    "0 0 * * *",
    "30 2 * * *",
    "0 1 * * *",
    "0 0,12 * * *",
    "15 3 * * 0",
    "45 * * * 1-5",
    "0 0 L * *",
    "0 2 1 * *",
    "0 0 * * 1#2",  # the second Monday: croniter's syntax, refused by the old engine
    "@daily",
]


@st.composite
def cron_strings(draw: st.DrawFn) -> str:
    if draw(st.booleans()):
        return draw(st.sampled_from(CRONS))
    minute = draw(st.sampled_from(["0", "*/15", "5,35", str(draw(st.integers(0, 59)))]))
    hour = draw(st.sampled_from(["*", "1-3", str(draw(st.integers(0, 23)))]))
    dow = draw(st.sampled_from(["*", "*", "1-5", "0", "6#1"]))
    return f"{minute} {hour} * * {dow}"


def transitions(tz: ZoneInfo, year: int) -> list[int]:
    """The instants in `year` at which `tz` changes offset (to the minute, then exact)."""
    found = []
    t = int(datetime(year, 1, 1, tzinfo=UTC).timestamp())
    end = int(datetime(year + 1, 1, 1, tzinfo=UTC).timestamp())
    step = 6 * 3600
    while t < end:
        if (
            datetime.fromtimestamp(t, tz).utcoffset()
            != datetime.fromtimestamp(t + step, tz).utcoffset()
        ):
            lo, hi = t, t + step
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if (
                    datetime.fromtimestamp(mid, tz).utcoffset()
                    == datetime.fromtimestamp(lo, tz).utcoffset()
                ):
                    lo = mid
                else:
                    hi = mid
            found.append(hi)
        t += step
    return found


@st.composite
def windows(draw: st.DrawFn) -> tuple[str, ZoneInfo, int, int]:
    """(cron, zone, lo, hi): about a day and a half, usually around an offset change."""
    tz = ZoneInfo(draw(st.sampled_from(ZONES)))
    year = draw(st.integers(1990, 2035))
    changes = transitions(tz, year)
    if changes and draw(st.integers(0, 4)):
        centre = draw(st.sampled_from(changes)) + draw(st.integers(-6 * 3600, 6 * 3600))
    else:
        centre = int(datetime(year, 1, 1, tzinfo=UTC).timestamp()) + draw(
            st.integers(0, 364 * 86400)
        )
    return draw(cron_strings()), tz, centre - 18 * 3600, centre + 18 * 3600


@lru_cache(maxsize=64)
def wall_times(cron: str, first: datetime, last: datetime) -> frozenset[datetime]:
    walk = croniter(cron, first - timedelta(minutes=1))
    found = set()
    while (wall := walk.get_next(datetime)) <= last:
        found.add(wall)
    return frozenset(found)


def reference_ticks(cron: str, tz: ZoneInfo, lo: int, hi: int) -> list[int]:
    """Every tick in [lo, hi) by the rules in words, one minute of the timeline at a time."""
    every_hour = croniter.expand(cron)[0][1] == ["*"]
    start = lo - lo % 60
    locals_ = [(t, datetime.fromtimestamp(t, tz)) for t in range(start - 86400, hi + 86400, 60)]
    walls = wall_times(
        cron,
        locals_[0][1].replace(tzinfo=None) - timedelta(days=1),
        locals_[-1][1].replace(tzinfo=None) + timedelta(days=1),
    )
    ticks = set()
    for (t, local), (_, previous) in zip(locals_[1:], locals_, strict=False):
        naive = local.replace(tzinfo=None, fold=0)
        # A wall time that occurs: fires at each instance (every hour) or the first.
        if local.second == 0 and naive in walls and (every_hour or local.fold == 0):
            ticks.add(t)
        if every_hour or local.utcoffset() <= previous.utcoffset():  # type: ignore[operator]
            continue
        # Spring forward between t - 60 and t: times in the gap fire when it ends.
        change = t - 60
        while datetime.fromtimestamp(change, tz).utcoffset() == previous.utcoffset():
            change += 1
        gap_start = previous.replace(tzinfo=None) + timedelta(seconds=change - (t - 60))
        gap_end = datetime.fromtimestamp(change, tz).replace(tzinfo=None)
        if any(gap_start <= w < gap_end for w in walls):
            ticks.add(change)
    return sorted(tick for tick in ticks if lo <= tick < hi)


@settings(max_examples=60, deadline=None)
@given(windows())
def test_ticks_are_the_wall_times_croniter_names_placed_by_the_dst_rules(case):
    cron, tz, lo, hi = case
    clock = CronClock(parse_cron(cron), tz)
    expected = reference_ticks(cron, tz, lo, hi)
    got = []
    for tick, local in clock.iter_ticks(lo):
        if tick >= hi:
            break
        assert (
            local == datetime.fromtimestamp(tick, tz)
            and local.fold == datetime.fromtimestamp(tick, tz).fold
        )
        got.append(tick)
    assert got == expected


@settings(max_examples=60, deadline=None)
@given(windows(), st.data())
def test_next_and_previous_tick_bracket_every_instant(case, data):
    cron, tz, lo, hi = case
    clock = CronClock(parse_cron(cron), tz)
    expected = reference_ticks(cron, tz, lo, hi)
    for _ in range(10):
        ts = data.draw(st.integers(lo, hi - 1))
        later = [t for t in expected if t >= ts]
        earlier = [t for t in expected if t <= ts]
        if later:
            assert clock.next_tick(ts) == later[0]
        if earlier:
            assert clock.prev_tick(ts) == earlier[-1]
        tick = clock.next_tick(ts)
        assert clock.prev_tick(tick) == tick
        assert clock.shift(clock.shift(tick, 3), -3) == tick


def test_a_spring_forward_gap_fires_daily_schedules_at_its_end_and_hourly_ones_not_at_all():
    tz = ZoneInfo("America/New_York")
    night = int(datetime(2024, 3, 10, tzinfo=tz).timestamp())
    daily = CronClock(parse_cron("30 2 * * *"), tz)
    assert daily.local(daily.next_tick(night)).isoformat() == "2024-03-10T03:00:00-04:00"
    hourly = CronClock(parse_cron("30 * * * *"), tz)
    ticks = hourly.iter_ticks(night)
    assert [next(ticks)[1].isoformat() for _ in range(3)] == [
        "2024-03-10T00:30:00-05:00",
        "2024-03-10T01:30:00-05:00",
        "2024-03-10T03:30:00-04:00",
    ]


def test_a_repeated_hour_fires_hourly_schedules_twice_and_daily_ones_once():
    tz = ZoneInfo("America/New_York")
    night = int(datetime(2024, 11, 3, tzinfo=tz).timestamp())
    hourly = CronClock(parse_cron("30 * * * *"), tz).iter_ticks(night)
    assert [next(hourly)[1].isoformat() for _ in range(4)] == [
        "2024-11-03T00:30:00-04:00",
        "2024-11-03T01:30:00-04:00",
        "2024-11-03T01:30:00-05:00",
        "2024-11-03T02:30:00-05:00",
    ]
    daily = CronClock(parse_cron("30 1 * * *"), tz).iter_ticks(night)
    assert [next(daily)[1].isoformat() for _ in range(2)] == [
        "2024-11-03T01:30:00-04:00",
        "2024-11-04T01:30:00-05:00",
    ]


def test_nth_weekday_and_last_day_of_month_are_read_by_croniter():
    tz = ZoneInfo("UTC")
    start = int(datetime(2024, 1, 1, tzinfo=UTC).timestamp())
    second_monday = CronClock(parse_cron("0 0 * * 1#2"), tz).iter_ticks(start)
    assert [next(second_monday)[1].date().isoformat() for _ in range(3)] == [
        "2024-01-08",
        "2024-02-12",
        "2024-03-11",
    ]
    last_day = CronClock(parse_cron("0 0 L * *"), tz).iter_ticks(start)
    assert [next(last_day)[1].day for _ in range(3)] == [31, 29, 31]


@pytest.mark.parametrize(
    ("cron", "error", "needle"),
    [
        ("0 0 * *", CronFieldCountError, "has 4 fields; expected 5"),
        ("0 0 * * * *", CronFieldCountError, "has 6 fields"),
        ("61 * * * *", CronError, "the minute '61' is outside 0-59"),
        ("0 24 * * *", CronError, "the hour '24' is outside 0-23"),
        ("0 0 * 13 *", CronError, "the month '13' is outside 1-12"),
        ("0 0 * * funday", CronError, "'funday' is not a valid day of week"),
        ("0 0 30 2 *", CronNeverFiresError, "never fires"),
        ("", CronError, "non-empty string"),
    ],
)
def test_a_bad_cron_string_says_which_field_is_wrong(cron, error, needle):
    with pytest.raises(error, match=needle):
        parse_cron(cron)
