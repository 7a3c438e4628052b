"""Hourly, daily, weekly and monthly partitions: time windows with a fixed cadence."""

from __future__ import annotations

from datetime import date, datetime

from weir._partitions.time_window import ScheduleType, TimeWindowPartitionsDefinition

DEFAULT_DATE_FORMAT = "%Y-%m-%d"
DEFAULT_HOURLY_FORMAT = "%Y-%m-%d-%H:%M"


class HourlyPartitionsDefinition(TimeWindowPartitionsDefinition):
    """One partition per hour, keyed like ``2024-03-12-15:00`` (minute_offset past each hour).

    In a timezone with daylight saving, the hour skipped in spring has no partition and
    the hour repeated in autumn has two, the second keyed with its UTC offset appended
    (``2024-11-03-01:00-0500``).

    >>> hourly = HourlyPartitionsDefinition(start_date="2024-03-12-00:00")
    >>> hourly.get_partition_keys(current_time=datetime(2024, 3, 12, 2, 30))
    ['2024-03-12-00:00', '2024-03-12-01:00']
    """

    def __init__(
        self,
        start_date: datetime | date | str,
        end_date: datetime | date | str | None = None,
        minute_offset: int = 0,
        timezone: str | None = None,
        fmt: str | None = None,
        end_offset: int = 0,
    ):
        super().__init__(
            start=start_date,
            fmt=fmt or DEFAULT_HOURLY_FORMAT,
            end=end_date,
            schedule_type=ScheduleType.HOURLY,
            timezone=timezone,
            end_offset=end_offset,
            minute_offset=minute_offset,
        )


class DailyPartitionsDefinition(TimeWindowPartitionsDefinition):
    """One partition per day, keyed like ``2024-03-12``, starting at hour_offset:minute_offset.

    >>> daily = DailyPartitionsDefinition(start_date="2024-03-12", end_offset=1)
    >>> daily.get_partition_keys(current_time=datetime(2024, 3, 13, 9))
    ['2024-03-12', '2024-03-13']
    """

    def __init__(
        self,
        start_date: datetime | date | str,
        end_date: datetime | date | str | None = None,
        minute_offset: int = 0,
        hour_offset: int = 0,
        timezone: str | None = None,
        fmt: str | None = None,
        end_offset: int = 0,
    ):
        super().__init__(
            start=start_date,
            fmt=fmt or DEFAULT_DATE_FORMAT,
            end=end_date,
            schedule_type=ScheduleType.DAILY,
            timezone=timezone,
            end_offset=end_offset,
            minute_offset=minute_offset,
            hour_offset=hour_offset,
        )


class WeeklyPartitionsDefinition(TimeWindowPartitionsDefinition):
    """One partition per week, starting on day_offset (0 = Sunday) at hour_offset:minute_offset.

    >>> weekly = WeeklyPartitionsDefinition(start_date="2024-03-12")  # a Tuesday
    >>> weekly.get_partition_keys(current_time=datetime(2024, 3, 31))
    ['2024-03-17', '2024-03-24']
    """

    def __init__(
        self,
        start_date: datetime | date | str,
        end_date: datetime | date | str | None = None,
        minute_offset: int = 0,
        hour_offset: int = 0,
        day_offset: int = 0,
        timezone: str | None = None,
        fmt: str | None = None,
        end_offset: int = 0,
    ):
        super().__init__(
            start=start_date,
            fmt=fmt or DEFAULT_DATE_FORMAT,
            end=end_date,
            schedule_type=ScheduleType.WEEKLY,
            timezone=timezone,
            end_offset=end_offset,
            minute_offset=minute_offset,
            hour_offset=hour_offset,
            day_offset=day_offset,
        )


class MonthlyPartitionsDefinition(TimeWindowPartitionsDefinition):
    """One partition per month, starting on day day_offset (default 1) of each month.

    >>> monthly = MonthlyPartitionsDefinition(start_date="2024-01-15")
    >>> monthly.get_partition_keys(current_time=datetime(2024, 4, 1))
    ['2024-02-01', '2024-03-01']
    """

    def __init__(
        self,
        start_date: datetime | date | str,
        end_date: datetime | date | str | None = None,
        minute_offset: int = 0,
        hour_offset: int = 0,
        day_offset: int = 1,
        timezone: str | None = None,
        fmt: str | None = None,
        end_offset: int = 0,
    ):
        super().__init__(
            start=start_date,
            fmt=fmt or DEFAULT_DATE_FORMAT,
            end=end_date,
            schedule_type=ScheduleType.MONTHLY,
            timezone=timezone,
            end_offset=end_offset,
            minute_offset=minute_offset,
            hour_offset=hour_offset,
            day_offset=day_offset,
        )
