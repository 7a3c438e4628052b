"""FreshnessPolicy: how recently an asset must have been updated to count as fresh.

Stored with the asset and evaluated by the control plane's freshness daemon, which records
PASS, WARN or FAIL. Two forms:

- ``FreshnessPolicy.time_window(fail_window, warn_window)``: fail when the last update is
  older than `fail_window`, warn when older than `warn_window`.
- ``FreshnessPolicy.cron(deadline_cron, lower_bound_delta, timezone)``: by each cron
  deadline, the asset must have been updated within `lower_bound_delta` before it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar

from weir._automation.cron import validate_cron, validate_timezone
from weir._errors import DefinitionError

MIN_WINDOW = timedelta(seconds=60)


class FreshnessPolicy:
    """Base of the freshness policies; build one with `time_window` or `cron`.

    >>> from datetime import timedelta
    >>> policy = FreshnessPolicy.time_window(fail_window=timedelta(hours=24),
    ...                                      warn_window=timedelta(hours=12))
    >>> policy.policy_type
    'time_window'
    """

    policy_type: ClassVar[str]

    def __new__(cls, *args: Any, **kwargs: Any) -> FreshnessPolicy:
        if cls is FreshnessPolicy:
            raise DefinitionError(
                "Build a freshness policy with FreshnessPolicy.time_window(fail_window="
                "timedelta(hours=24)) or FreshnessPolicy.cron(deadline_cron='0 9 * * *', "
                "lower_bound_delta=timedelta(hours=1)); a maximum_lag_minutes=N policy becomes "
                "FreshnessPolicy.time_window(fail_window=timedelta(minutes=N))"
            )
        return super().__new__(cls)

    @staticmethod
    def time_window(
        fail_window: timedelta, warn_window: timedelta | None = None
    ) -> TimeWindowFreshnessPolicy:
        """Fail when the asset was last updated more than `fail_window` ago; warn past
        `warn_window`. Both are at least 60 seconds and `warn_window` < `fail_window`."""
        return TimeWindowFreshnessPolicy(fail_window=fail_window, warn_window=warn_window)

    @staticmethod
    def cron(
        deadline_cron: str, lower_bound_delta: timedelta, timezone: str = "UTC"
    ) -> CronFreshnessPolicy:
        """By every tick of `deadline_cron`, the asset must have been updated within
        `lower_bound_delta` before the tick.

        >>> from datetime import timedelta
        >>> FreshnessPolicy.cron("0 9 * * *", timedelta(hours=1), "Europe/Paris").timezone
        'Europe/Paris'
        """
        return CronFreshnessPolicy(
            deadline_cron=deadline_cron, lower_bound_delta=lower_bound_delta, timezone=timezone
        )

    def to_dict(self) -> dict[str, Any]:
        raise NotImplementedError


@dataclass(frozen=True)
class TimeWindowFreshnessPolicy(FreshnessPolicy):
    """Fresh while the last update is younger than `fail_window` (and `warn_window`)."""

    policy_type: ClassVar[str] = "time_window"
    fail_window: timedelta
    warn_window: timedelta | None = None

    def __post_init__(self) -> None:
        where = "FreshnessPolicy.time_window"
        _check_delta(self.fail_window, "fail_window", where)
        if self.warn_window is not None:
            _check_delta(self.warn_window, "warn_window", where)
            if self.warn_window >= self.fail_window:
                raise DefinitionError(
                    f"{where}: warn_window ({self.warn_window}) must be shorter than "
                    f"fail_window ({self.fail_window}), so a warning comes before the failure"
                )

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": self.policy_type,
            "fail_window_seconds": self.fail_window.total_seconds(),
            "warn_window_seconds": (
                None if self.warn_window is None else self.warn_window.total_seconds()
            ),
        }


@dataclass(frozen=True)
class CronFreshnessPolicy(FreshnessPolicy):
    """Fresh when updated within `lower_bound_delta` before each `deadline_cron` tick."""

    policy_type: ClassVar[str] = "cron"
    deadline_cron: str
    lower_bound_delta: timedelta
    timezone: str = "UTC"

    def __post_init__(self) -> None:
        where = "FreshnessPolicy.cron"
        validate_cron(self.deadline_cron, where)
        validate_timezone(self.timezone, where)
        _check_delta(self.lower_bound_delta, "lower_bound_delta", where)
        interval = _shortest_interval(self.deadline_cron)
        if self.lower_bound_delta > interval:
            raise DefinitionError(
                f"{where}: lower_bound_delta ({self.lower_bound_delta}) is longer than the "
                f"shortest time between deadlines of {self.deadline_cron!r} ({interval}); "
                f"an update would count for two deadlines, so shorten it"
            )

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": self.policy_type,
            "deadline_cron": self.deadline_cron,
            "lower_bound_delta_seconds": self.lower_bound_delta.total_seconds(),
            "timezone": self.timezone,
        }


def _check_delta(value: object, name: str, where: str) -> None:
    if not isinstance(value, timedelta):
        raise DefinitionError(
            f"{where}: {name} must be a timedelta, e.g. timedelta(hours=6), got {value!r}"
        )
    if value < MIN_WINDOW:
        raise DefinitionError(f"{where}: {name} must be at least 60 seconds, got {value}")


def _shortest_interval(cron: str) -> timedelta:
    """The shortest gap between consecutive ticks, sampled over a year of wall-clock time."""
    from croniter import croniter

    ticks = croniter(cron, datetime(2023, 12, 31, 23, 59))
    previous = ticks.get_next(datetime)
    shortest = timedelta.max
    end = previous + timedelta(days=366)
    for _ in range(2000):  # enough for any pattern coarser than a few minutes
        current = ticks.get_next(datetime)
        shortest = min(shortest, current - previous)
        if current > end or shortest <= MIN_WINDOW:
            break
        previous = current
    return shortest
