"""Time-window partitions: keys as of a moment, DST, calendars, formats, bad keys, laws."""

import itertools
import pickle
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import weir as dg
from hypothesis import given, settings
from hypothesis import strategies as st

NY = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")


def hours_between(window: dg.TimeWindow) -> float:
    return (window.end.timestamp() - window.start.timestamp()) / 3600


def instants(window: dg.TimeWindow) -> tuple[float, float]:
    # Compare instants, not datetimes: Python compares two datetimes of one tzinfo by wall
    # clock and ignores `fold`, so the two 01:00s of a fall-back night look equal.
    return window.start.timestamp(), window.end.timestamp()


def tile(windows: list[dg.TimeWindow]) -> bool:
    spans = [instants(w) for w in windows]
    return all(a < b for a, b in spans) and all(a[1] == b[0] for a, b in itertools.pairwise(spans))


# -- which keys exist, as of when --------------------------------------------------------------


def test_only_complete_windows_exist():
    daily = dg.DailyPartitionsDefinition(start_date="2024-01-01")
    assert daily.get_partition_keys(current_time=datetime(2024, 1, 3, 23, 59)) == [
        "2024-01-01",
        "2024-01-02",
    ]
    assert daily.get_partition_keys(current_time=datetime(2024, 1, 4)) == [
        "2024-01-01",
        "2024-01-02",
        "2024-01-03",
    ]
    assert daily.get_partition_keys(current_time=datetime(2023, 12, 31)) == []
    assert daily.get_last_partition_key(current_time=datetime(2023, 12, 31)) is None


def test_end_offset_adds_or_holds_back_windows():
    now = datetime(2024, 1, 3, 12)
    keys = {
        offset: dg.DailyPartitionsDefinition("2024-01-01", end_offset=offset).get_partition_keys(
            current_time=now
        )
        for offset in (-1, 0, 1, 2)
    }
    assert keys[0] == ["2024-01-01", "2024-01-02"]
    assert keys[1] == ["2024-01-01", "2024-01-02", "2024-01-03"]  # today, still running
    assert keys[2] == [*keys[1], "2024-01-04"]
    assert keys[-1] == ["2024-01-01"]


def test_end_offset_counts_from_the_start_when_now_is_before_it():
    daily = dg.DailyPartitionsDefinition("2024-01-10", end_offset=2)
    assert daily.get_partition_keys(current_time=datetime(2024, 1, 1)) == [
        "2024-01-10",
        "2024-01-11",
    ]


def test_end_date_is_exclusive_and_caps_end_offset():
    daily = dg.DailyPartitionsDefinition("2024-01-01", end_date="2024-01-04", end_offset=5)
    assert daily.get_partition_keys(current_time=datetime(2030, 1, 1)) == [
        "2024-01-01",
        "2024-01-02",
        "2024-01-03",
    ]
    assert daily.get_partition_keys(current_time=datetime(2024, 1, 1, 5)) == [
        "2024-01-01",
        "2024-01-02",
        "2024-01-03",
    ]


def test_naive_current_time_is_read_in_the_definitions_timezone():
    daily = dg.DailyPartitionsDefinition("2024-01-01", timezone="America/New_York")
    # 03:00 UTC on the 3rd is still the 2nd in New York: only the 1st is complete.
    assert daily.get_partition_keys(current_time=datetime(2024, 1, 3, 3, tzinfo=UTC)) == [
        "2024-01-01"
    ]
    assert daily.get_partition_keys(current_time=datetime(2024, 1, 3, 3)) == [
        "2024-01-01",
        "2024-01-02",
    ]


def test_first_last_count_and_next_key():
    hourly = dg.HourlyPartitionsDefinition("2024-01-01-00:00", end_date="2024-01-02-00:00")
    assert hourly.get_first_partition_key() == "2024-01-01-00:00"
    assert hourly.get_last_partition_key() == "2024-01-01-23:00"
    assert hourly.get_num_partitions() == 24 == len(hourly.get_partition_keys())
    assert hourly.get_next_partition_key("2024-01-01-05:00") == "2024-01-01-06:00"
    assert hourly.get_next_partition_key("2024-01-01-23:00") is None
    assert hourly.get_last_partition_window().end == datetime(2024, 1, 2, tzinfo=UTC)


def test_keys_in_range_accepts_keys_or_a_partition_key_range():
    daily = dg.DailyPartitionsDefinition("2024-01-01", end_date="2024-03-01")
    expected = ["2024-01-30", "2024-01-31", "2024-02-01"]
    assert daily.get_partition_keys_in_range("2024-01-30", "2024-02-01") == expected
    assert daily.get_partition_keys_in_range(dg.PartitionKeyRange("2024-01-30", "2024-02-01")) == (
        expected
    )
    with pytest.raises(dg.PartitionKeyError, match="runs backwards"):
        daily.get_partition_keys_in_range("2024-02-01", "2024-01-30")
    with pytest.raises(dg.PartitionKeyError, match="2024-03-05"):
        daily.get_partition_keys_in_range("2024-02-01", "2024-03-05")


def test_hundred_thousand_hourly_keys_enumerate_in_order():
    hourly = dg.HourlyPartitionsDefinition("2020-01-01-00:00", timezone="Europe/Berlin")
    now = datetime(2019, 12, 31, 23, tzinfo=UTC) + timedelta(hours=100_000)  # Berlin's 2020
    keys = hourly.get_partition_keys(current_time=now)
    assert len(keys) == 100_000 == hourly.get_num_partitions(current_time=now)
    assert len(set(keys)) == len(keys)
    # Berlin repeats 02:00 each October: those keys carry the offset.
    assert "2020-10-25-02:00" in keys and "2020-10-25-02:00+0100" in keys
    assert "2020-03-29-02:00" not in keys  # skipped in spring
    assert keys[-1] == hourly.get_last_partition_key(current_time=now)


# -- daylight saving time ----------------------------------------------------------------------


def test_hourly_new_york_spring_forward_has_no_partition_for_the_skipped_hour():
    hourly = dg.HourlyPartitionsDefinition("2024-03-10-00:00", timezone="America/New_York")
    keys = hourly.get_partition_keys(current_time=datetime(2024, 3, 10, 5, tzinfo=NY))
    assert keys == [
        "2024-03-10-00:00",
        "2024-03-10-01:00",
        "2024-03-10-03:00",
        "2024-03-10-04:00",
    ]
    assert [hours_between(hourly.time_window_for_partition_key(k)) for k in keys] == [1.0] * 4
    assert not hourly.has_partition_key("2024-03-10-02:00")


def test_hourly_new_york_fall_back_has_two_partitions_for_the_repeated_hour():
    hourly = dg.HourlyPartitionsDefinition("2024-11-03-00:00", timezone="America/New_York")
    keys = hourly.get_partition_keys(current_time=datetime(2024, 11, 3, 3, tzinfo=NY))
    assert keys == [
        "2024-11-03-00:00",
        "2024-11-03-01:00",
        "2024-11-03-01:00-0500",
        "2024-11-03-02:00",
    ]
    first, second = (hourly.time_window_for_partition_key(k) for k in keys[1:3])
    assert first.start.utcoffset() == timedelta(hours=-4)
    assert second.start.utcoffset() == timedelta(hours=-5)
    assert instants(first)[1] == instants(second)[0] and hours_between(second) == 1.0


def test_hourly_berlin_across_both_transitions():
    hourly = dg.HourlyPartitionsDefinition("2024-03-31-00:00", timezone="Europe/Berlin")
    spring = hourly.get_partition_keys_in_range("2024-03-31-01:00", "2024-03-31-03:00")
    assert spring == ["2024-03-31-01:00", "2024-03-31-03:00"]
    autumn = hourly.get_partition_keys_in_range("2024-10-27-01:00", "2024-10-27-03:00")
    assert autumn == [
        "2024-10-27-01:00",
        "2024-10-27-02:00",
        "2024-10-27-02:00+0100",
        "2024-10-27-03:00",
    ]


@pytest.mark.parametrize(
    ("timezone", "spring_day", "autumn_day"),
    [
        ("America/New_York", "2024-03-10", "2024-11-03"),
        ("Europe/Berlin", "2024-03-31", "2024-10-27"),
    ],
)
def test_daily_windows_are_23_and_25_hours_on_transition_days(timezone, spring_day, autumn_day):
    daily = dg.DailyPartitionsDefinition("2024-01-01", timezone=timezone)
    assert hours_between(daily.time_window_for_partition_key(spring_day)) == 23
    assert hours_between(daily.time_window_for_partition_key(autumn_day)) == 25
    keys = daily.get_partition_keys(current_time=datetime(2025, 1, 1))
    assert len(keys) == 366  # one key per calendar day, none lost or doubled


def test_daily_boundary_in_the_skipped_hour_moves_to_the_end_of_the_gap():
    daily = dg.DailyPartitionsDefinition(
        "2024-03-01", hour_offset=2, minute_offset=30, timezone="America/New_York"
    )
    window = daily.time_window_for_partition_key("2024-03-10")
    assert window.start == datetime(2024, 3, 10, 3, 0, tzinfo=NY)
    assert window.end == datetime(2024, 3, 11, 2, 30, tzinfo=NY)
    assert daily.time_window_for_partition_key("2024-03-09").end == window.start


def test_daily_boundary_in_the_repeated_hour_is_its_first_instance():
    daily = dg.DailyPartitionsDefinition("2024-11-01", hour_offset=1, timezone="America/New_York")
    window = daily.time_window_for_partition_key("2024-11-03")
    assert window.start.utcoffset() == timedelta(hours=-4)
    assert hours_between(daily.time_window_for_partition_key("2024-11-02")) == 24


@pytest.mark.parametrize("timezone", ["Australia/Lord_Howe", "Asia/Kathmandu", "Asia/Kolkata"])
def test_hourly_windows_tile_in_zones_with_half_hour_offsets(timezone):
    hourly = dg.HourlyPartitionsDefinition("2024-01-01-00:00", timezone=timezone)
    keys = hourly.get_partition_keys(current_time=datetime(2025, 1, 1, tzinfo=UTC))
    windows = [hourly.time_window_for_partition_key(k) for k in keys]
    assert tile(windows)
    assert all(w.start.minute == 0 for w in windows)


# -- calendars: month ends, leap years, weeks -------------------------------------------------


def test_monthly_windows_follow_month_lengths_and_leap_years():
    monthly = dg.MonthlyPartitionsDefinition("2023-01-01")
    assert hours_between(monthly.time_window_for_partition_key("2023-02-01")) == 28 * 24
    assert hours_between(monthly.time_window_for_partition_key("2024-02-01")) == 29 * 24
    assert monthly.get_partition_keys(current_time=datetime(2023, 4, 15)) == [
        "2023-01-01",
        "2023-02-01",
        "2023-03-01",
    ]


def test_monthly_start_mid_month_begins_next_month_and_day_offset_moves_boundary():
    assert dg.MonthlyPartitionsDefinition("2024-01-15").get_first_partition_key() == "2024-02-01"
    monthly = dg.MonthlyPartitionsDefinition("2024-01-01", day_offset=15, hour_offset=6)
    window = monthly.time_window_for_partition_key("2024-01-15")
    assert window == dg.TimeWindow(
        datetime(2024, 1, 15, 6, tzinfo=ZoneInfo("UTC")),
        datetime(2024, 2, 15, 6, tzinfo=ZoneInfo("UTC")),
    )


def test_daily_keys_know_leap_days():
    daily = dg.DailyPartitionsDefinition("2023-01-01")
    assert daily.has_partition_key("2024-02-29")
    assert not daily.has_partition_key("2023-02-29")
    assert daily.get_partition_keys_in_range("2024-02-28", "2024-03-01") == [
        "2024-02-28",
        "2024-02-29",
        "2024-03-01",
    ]


def test_weekly_starts_on_the_next_day_offset():
    weekly = dg.WeeklyPartitionsDefinition("2024-03-12")  # a Tuesday
    assert weekly.get_first_partition_key() == "2024-03-17"  # the next Sunday
    mondays = dg.WeeklyPartitionsDefinition("2024-03-12", day_offset=1)
    assert mondays.get_partition_keys(current_time=datetime(2024, 4, 2)) == [
        "2024-03-18",
        "2024-03-25",
    ]
    assert mondays.day_offset == 1 and mondays.schedule_type is dg.ScheduleType.WEEKLY


def test_custom_cron_schedule():
    six_hourly = dg.TimeWindowPartitionsDefinition(
        start="2024-01-01-00:00", fmt="%Y-%m-%d-%H:%M", cron_schedule="0 */6 * * *"
    )
    assert six_hourly.get_partition_keys(current_time=datetime(2024, 1, 2)) == [
        "2024-01-01-00:00",
        "2024-01-01-06:00",
        "2024-01-01-12:00",
        "2024-01-01-18:00",
    ]
    weekdays = dg.TimeWindowPartitionsDefinition(
        start="2024-03-01", fmt="%Y-%m-%d", cron_schedule="0 0 * * MON-FRI"
    )
    # Friday's window runs to Monday.
    assert weekdays.get_partition_keys(current_time=datetime(2024, 3, 6)) == [
        "2024-03-01",
        "2024-03-04",
        "2024-03-05",
    ]
    assert hours_between(weekdays.time_window_for_partition_key("2024-03-01")) == 72


# -- key formats ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "key"),
    [("%Y/%m/%d", "2024/02/29"), ("%Y%m%d", "20240229"), ("%d %b %Y", "29 Feb 2024")],
)
def test_custom_formats_round_trip(fmt, key):
    daily = dg.DailyPartitionsDefinition("2024-01-01", fmt=fmt)
    assert daily.has_partition_key(key)
    window = daily.time_window_for_partition_key(key)
    assert window.start == datetime(2024, 2, 29, tzinfo=ZoneInfo("UTC"))
    assert daily.get_partition_key_for_timestamp(window.start.timestamp() + 60) == key


def test_start_dates_in_the_format_iso_or_as_datetimes_agree():
    by_format = dg.HourlyPartitionsDefinition("2024-01-01-00:00")
    assert by_format == dg.HourlyPartitionsDefinition("2024-01-01")
    assert by_format == dg.HourlyPartitionsDefinition(datetime(2024, 1, 1))
    assert dg.DailyPartitionsDefinition(date(2024, 1, 1)) == dg.DailyPartitionsDefinition(
        "2024-01-01"
    )


def test_a_format_too_coarse_for_the_schedule_is_rejected():
    with pytest.raises(dg.DefinitionError, match="cannot tell apart"):
        dg.HourlyPartitionsDefinition("2024-01-01-00:00", fmt="%Y-%m-%d")


def test_subclasses_equal_the_general_form_and_survive_pickling():
    daily = dg.DailyPartitionsDefinition("2024-01-01", timezone="Europe/Berlin", end_offset=1)
    general = dg.TimeWindowPartitionsDefinition(
        start="2024-01-01",
        fmt="%Y-%m-%d",
        cron_schedule="0 0 * * *",
        timezone="Europe/Berlin",
        end_offset=1,
    )
    assert daily == general and hash(daily) == hash(general)
    assert daily.schedule_type is dg.ScheduleType.DAILY
    restored = pickle.loads(pickle.dumps(daily))
    assert restored == daily
    assert restored.get_last_partition_key() == daily.get_last_partition_key()
    assert eval(repr(daily), {"TimeWindowPartitionsDefinition": dg.TimeWindowPartitionsDefinition})


def test_schedule_type_with_offsets_builds_the_cron_string():
    defn = dg.TimeWindowPartitionsDefinition(
        start="2024-01-01",
        fmt="%Y-%m-%d",
        schedule_type=dg.ScheduleType.DAILY,
        hour_offset=6,
        minute_offset=15,
    )
    assert defn.cron_schedule == "15 6 * * *"
    assert (defn.minute_offset, defn.hour_offset) == (15, 6)


# -- bad keys and bad definitions ------------------------------------------------------------


def test_unknown_key_error_shows_format_and_range():
    daily = dg.DailyPartitionsDefinition("2024-01-01")
    now = datetime(2024, 1, 10)
    with pytest.raises(dg.PartitionKeyError) as bad_format:
        daily.validate_partition_key("01/02/2024", "orders", current_time=now)
    message = str(bad_format.value)
    assert "'orders'" in message and "'%Y-%m-%d'" in message
    assert "'2024-01-01'" in message and "'2024-01-09'" in message
    with pytest.raises(dg.PartitionKeyError, match="after the last partition"):
        daily.validate_partition_key("2024-01-10", "orders", current_time=now)
    with pytest.raises(dg.PartitionKeyError, match="before the first partition"):
        daily.validate_partition_key("2023-12-31", "orders", current_time=now)


def test_key_that_is_not_a_window_start_is_rejected():
    daily = dg.DailyPartitionsDefinition("2024-01-01", fmt="%Y-%m-%d %H:%M")
    assert daily.has_partition_key("2024-01-02 00:00")
    assert not daily.has_partition_key("2024-01-02 06:00")
    with pytest.raises(dg.PartitionKeyError, match="not the start of a window"):
        daily.time_window_for_partition_key("2024-01-02 06:00")
    with pytest.raises(dg.PartitionKeyError, match="does not match the format"):
        daily.time_window_for_partition_key("2024-01-02")


def test_non_canonical_spellings_are_not_keys():
    daily = dg.DailyPartitionsDefinition("2024-01-01")
    assert not daily.has_partition_key("2024-1-2")
    assert not daily.has_partition_key(" 2024-01-02")
    assert not daily.has_partition_key(20240102)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"schedule_type": "DAILY", "timezone": "Mars/Olympus"}, "Unknown timezone"),
        ({"cron_schedule": "0 0 31 2 *"}, "never fires"),
        ({"cron_schedule": "0 0 * *"}, "expected 5"),
        ({"cron_schedule": "61 * * * *"}, "outside 0-59"),
        ({"cron_schedule": "0 0 * * *", "schedule_type": "DAILY"}, "not both"),
        ({}, "One of schedule_type and cron_schedule"),
        ({"schedule_type": "FORTNIGHTLY"}, "schedule_type must be one of"),
        ({"schedule_type": "DAILY", "hour_offset": 24}, "hour_offset"),
        ({"schedule_type": "DAILY", "end": "2023-01-01"}, "must come after start"),
        ({"schedule_type": "DAILY", "start": "yesterday"}, "neither the format"),
    ],
)
def test_bad_definitions_say_what_to_fix(kwargs, match):
    args = {"start": "2024-01-01", "fmt": "%Y-%m-%d"} | kwargs
    with pytest.raises(dg.DefinitionError, match=match):
        dg.TimeWindowPartitionsDefinition(**args)


def test_the_cron_engine_loads_with_the_first_time_window_not_with_import_weir():
    # croniter, under the cron engine, costs ~80 ms to import: only code that defines
    # time windows (or schedules) pays it.
    code = (
        "import sys, weir\n"
        "print('croniter' in sys.modules)\n"
        "weir.StaticPartitionsDefinition(['a']).get_partition_keys()\n"
        "print('croniter' in sys.modules)\n"
        "weir.DailyPartitionsDefinition('2024-01-01').get_partition_keys()\n"
        "print('croniter' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False", "True"]


# -- laws -----------------------------------------------------------------------------------------

ZONES = ["UTC", "America/New_York", "Europe/Berlin", "Australia/Lord_Howe", "Asia/Kathmandu"]


@st.composite
def time_partitions(draw):
    timezone = draw(st.sampled_from(ZONES))
    start = draw(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2030, 1, 1)))
    kind = draw(st.sampled_from(["hourly", "daily", "weekly", "monthly", "cron"]))
    minute = draw(st.integers(0, 59))
    hour = draw(st.integers(0, 23))
    end_offset = draw(st.integers(-2, 2))
    common = {"timezone": timezone, "end_offset": end_offset}
    if kind == "hourly":
        defn = dg.HourlyPartitionsDefinition(start, minute_offset=minute, **common)
        span = timedelta(hours=draw(st.integers(0, 300)))
    elif kind == "daily":
        defn = dg.DailyPartitionsDefinition(start, minute_offset=minute, hour_offset=hour, **common)
        span = timedelta(days=draw(st.integers(0, 120)))
    elif kind == "weekly":
        day = draw(st.integers(0, 6))
        defn = dg.WeeklyPartitionsDefinition(start, hour_offset=hour, day_offset=day, **common)
        span = timedelta(weeks=draw(st.integers(0, 60)))
    elif kind == "monthly":
        day = draw(st.integers(1, 28))
        defn = dg.MonthlyPartitionsDefinition(start, hour_offset=hour, day_offset=day, **common)
        span = timedelta(days=draw(st.integers(0, 900)))
    else:
        cron = draw(st.sampled_from(["*/20 * * * *", "0 */5 * * *", "30 2 * * 1-5", "0 0 L * *"]))
        defn = dg.TimeWindowPartitionsDefinition(
            start=start, fmt="%Y-%m-%d %H:%M", cron_schedule=cron, **common
        )
        span = timedelta(hours=draw(st.integers(0, 2000)))
    now = start.replace(tzinfo=ZoneInfo(timezone)) + span
    return defn, now


@settings(max_examples=150, deadline=None)
@given(time_partitions())
def test_keys_are_unique_sorted_and_their_windows_tile(case):
    defn, now = case
    keys = defn.get_partition_keys(current_time=now)
    windows = [defn.time_window_for_partition_key(k) for k in keys]
    assert len(set(keys)) == len(keys)
    assert tile(windows)  # consecutive windows meet exactly: no gaps, no overlaps
    assert defn.get_num_partitions(current_time=now) == len(keys)
    if keys:
        assert instants(windows[0])[0] >= defn.start.timestamp()
        assert defn.get_first_partition_key(current_time=now) == keys[0]
        assert defn.get_last_partition_key(current_time=now) == keys[-1]
        assert defn.get_partition_keys_in_range(keys[0], keys[-1], current_time=now) == keys
        if defn.end_offset <= 0:
            assert instants(windows[-1])[1] <= now.timestamp()


@settings(max_examples=150, deadline=None)
@given(time_partitions())
def test_every_key_names_its_own_window_and_nothing_else(case):
    defn, now = case
    keys = defn.get_partition_keys(current_time=now)
    for key in keys[:50]:
        window = defn.time_window_for_partition_key(key)
        assert defn.has_partition_key(key, current_time=now)
        assert defn.get_partition_key_for_timestamp(window.start.timestamp()) == key
        assert defn.get_partition_key_for_timestamp(window.end.timestamp() - 1) == key
        assert defn.get_partition_keys_in_time_window(window) == [key]
