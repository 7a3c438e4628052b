"""Partition keys of time windows: strftime-compatible formatting and parsing, made fast.

Most formats are a date part followed by a time part (``%Y-%m-%d-%H:%M``); their keys
are assembled from per-day and per-time-of-day strings computed once with strftime,
several times faster than strftime per key. Formats built only from %Y %m %d %H %M %S
are parsed by position rather than by strptime. Anything else uses strftime/strptime.

When a schedule runs every hour, the wall-clock hour repeated at a fall-back transition
would give two windows the same key; as in Dagster, the second one gets its UTC offset
appended (``2024-11-03-01:00-0500``) unless the format already has ``%z``.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone

# Directives that depend only on the date, and only on the time of day.
_DATE_DIRECTIVES = frozenset("aAbBCdDeFgGhjmuUVwWyY")
_TIME_DIRECTIVES = frozenset("HIMpRST")
# Fixed-width directives parsed by position, with their widths.
_WIDTHS = {"Y": 4, "m": 2, "d": 2, "H": 2, "M": 2, "S": 2}
_CACHE_LIMIT = 8192
_EPOCH_ORDINAL = datetime(1970, 1, 1).toordinal()


class KeyFormat:
    """Turns a tick's aware local datetime into its key, and a key back into a datetime.

    >>> from datetime import datetime
    >>> KeyFormat("%Y-%m-%d-%H:%M", mark_repeated_hours=True).format(datetime(2024, 1, 2, 3))
    '2024-01-02-03:00'
    """

    def __init__(self, fmt: str, *, mark_repeated_hours: bool):
        self.fmt = fmt
        self._mark_repeated = mark_repeated_hours and "%z" not in fmt
        self._split = _split_date_and_time(fmt)
        self._date_template = None if self._split is None else _numeric_template(self._split[0])
        self._date_parts: dict[int, str] = {}
        self._time_parts: dict[int, str] = {}
        self._layout = _layout(fmt)
        self._date_fields = (
            None if self._split is None or self._date_template is None
            else _field_spans(self._split[0])
        )  # fmt: skip

    @property
    def date_width(self) -> int | None:
        """The length of every key's date part (the keys' first characters) when it is
        fixed: a date part of only %Y, %m and %d. None otherwise."""
        if self._date_template is None or self._date_fields is None:
            return None
        return len(self._date_template.format(2000, 1, 1))

    def day_of(self, date_part: str) -> int | None:
        """The day (from 1970-01-01) whose keys start with `date_part`, or None if no
        day's do (see `date_width`)."""
        if self._date_fields is None or self._date_template is None:
            return None
        values = {"Y": 1970, "m": 1, "d": 1}
        try:
            for field, start, end in self._date_fields:
                values[field] = int(date_part[start:end])
            day = date(values["Y"], values["m"], values["d"])
        except ValueError:
            return None
        # int() takes " 7" and "+7": only the canonical spelling is a key's.
        if self._date_template.format(day.year, day.month, day.day) != date_part:
            return None
        return day.toordinal() - _EPOCH_ORDINAL

    def time_part(self, seconds: int) -> str:
        """What follows the date part in keys of windows starting `seconds` after local
        midnight (not repeated by a fall-back transition); "" if the format has no time part."""
        time_fmt = "" if self._split is None else self._split[1]
        if not time_fmt:
            return ""
        hours, rest = divmod(seconds, 3600)
        return datetime(2000, 1, 1, hours, rest // 60, rest % 60).strftime(time_fmt)

    def format(self, local: datetime) -> str:
        if self._split is None:
            key = local.strftime(self.fmt)
        else:
            date_fmt, time_fmt = self._split
            ordinal = local.toordinal()
            key = self._date_parts.get(ordinal)  # type: ignore[assignment]
            if key is None:
                if self._date_template is not None:  # cheaper than strftime
                    date_part = self._date_template.format(local.year, local.month, local.day)
                else:
                    date_part = local.strftime(date_fmt)
                key = _remember(self._date_parts, ordinal, date_part)
            if time_fmt:
                second = local.hour * 3600 + local.minute * 60 + local.second
                time_part = self._time_parts.get(second)
                if time_part is None:
                    time_part = _remember(self._time_parts, second, local.strftime(time_fmt))
                key += time_part
        if self._mark_repeated and local.fold:
            key += local.strftime("%z")
        return key

    def parse(self, key: str) -> datetime:
        """The datetime a key names: naive (wall clock) unless the key carries an offset.

        Raises ValueError when the key does not fit the format.
        """
        if self._layout is None:
            try:
                return datetime.strptime(key, self.fmt)
            except ValueError:
                if "%z" in self.fmt:
                    raise
                return datetime.strptime(key, self.fmt + "%z")
        pattern, width, fields = self._layout
        offset = None
        if self._mark_repeated and len(key) == width + 5:
            key, offset = key[:-5], _parse_offset(key[-5:])
        return _parse_fixed(key, pattern, fields, offset)


def _remember(cache: dict[int, str], key: int, value: str) -> str:
    if len(cache) >= _CACHE_LIMIT:
        cache.clear()
    cache[key] = value
    return value


def _numeric_template(date_fmt: str) -> str | None:
    """A str.format template over (year, month, day) equal to `date_fmt`, if it has one."""
    numbered = {"Y": "{0:04d}", "m": "{1:02d}", "d": "{2:02d}"}
    template: list[str] = []
    i = 0
    while i < len(date_fmt):
        char = date_fmt[i]
        if char == "%":
            directive = date_fmt[i + 1 : i + 2]
            if directive == "%":
                template.append("%")
            elif directive in numbered:
                template.append(numbered[directive])
            else:
                return None
            i += 2
        else:
            template.append({"{": "{{", "}": "}}"}.get(char, char))
            i += 1
    return "".join(template)


def _split_date_and_time(fmt: str) -> tuple[str, str] | None:
    """(date part, time part) of a format whose date directives all come first, else None."""
    split_at = len(fmt)
    i = 0
    while i < len(fmt):
        if fmt[i] != "%":
            i += 1
            continue
        directive = fmt[i + 1 : i + 2]
        if directive in _TIME_DIRECTIVES:
            split_at = min(split_at, i)
        elif directive in _DATE_DIRECTIVES:
            if split_at < i:
                return None  # a date field after a time field
        elif directive != "%":
            return None
        i += 2
    return fmt[:split_at], fmt[split_at:]


def _field_spans(fmt: str) -> list[tuple[str, int, int]] | None:
    """(directive, start, end) of each field of a fixed-width format, by position."""
    spans: list[tuple[str, int, int]] = []
    at = i = 0
    while i < len(fmt):
        if fmt[i] == "%" and fmt[i + 1 : i + 2] != "%":
            directive = fmt[i + 1 : i + 2]
            if directive not in _WIDTHS:
                return None
            spans.append((directive, at, at + _WIDTHS[directive]))
            at += _WIDTHS[directive]
            i += 2
        else:
            at += 1
            i += 2 if fmt[i] == "%" else 1
    return spans


def _layout(fmt: str) -> tuple[re.Pattern[str], int, list[str]] | None:
    """A pattern matching keys of a fixed-width format, the keys' width and the field each
    group holds; None if `fmt` has a directive that is not fixed-width."""
    pattern: list[str] = []
    fields: list[str] = []
    width = 0
    i = 0
    while i < len(fmt):
        if fmt[i] == "%":
            directive = fmt[i + 1 : i + 2]
            if directive == "%":
                pattern.append("%")
                width += 1
            elif directive in _WIDTHS:
                pattern.append(f"([0-9]{{{_WIDTHS[directive]}}})")
                fields.append(directive)
                width += _WIDTHS[directive]
            else:
                return None
            i += 2
        else:
            pattern.append(re.escape(fmt[i]))
            width += 1
            i += 1
    return (re.compile("".join(pattern)), width, fields) if fields else None


def _parse_fixed(
    key: str, pattern: re.Pattern[str], fields: list[str], offset: timezone | None
) -> datetime:
    match = pattern.fullmatch(key)
    if match is None:
        raise ValueError(f"{key!r} does not match the format")
    values = {"Y": 1900, "m": 1, "d": 1, "H": 0, "M": 0, "S": 0}
    for directive, text in zip(fields, match.groups(), strict=True):
        values[directive] = int(text)
    return datetime(
        values["Y"], values["m"], values["d"], values["H"], values["M"], values["S"], tzinfo=offset
    )


def _parse_offset(text: str) -> timezone:
    sign, hours, minutes = text[0], text[1:3], text[3:5]
    if sign not in "+-" or not (hours + minutes).isdigit():
        raise ValueError(f"{text!r} is not a UTC offset like -0500")
    delta = timedelta(hours=int(hours), minutes=int(minutes))
    return timezone(-delta if sign == "-" else delta)
