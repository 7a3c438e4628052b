"""IANA time zones by name, with a close match when a name is misspelled."""

from __future__ import annotations

from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from weir_partitions.errors import UnknownTimezoneError


@lru_cache(maxsize=256)
def _cached(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def load_timezone(name: object) -> ZoneInfo:
    """The ZoneInfo for an IANA name, or UnknownTimezoneError carrying a close match.

    >>> load_timezone("Europe/Berlin").key
    'Europe/Berlin'
    >>> try:
    ...     load_timezone("Europe/Berln")
    ... except UnknownTimezoneError as error:
    ...     error.suggestion
    'Europe/Berlin'
    """
    if isinstance(name, str) and name:
        try:
            return _cached(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    raise UnknownTimezoneError(name, _closest(name) if isinstance(name, str) else None)


def _closest(name: str) -> str | None:
    import difflib  # only on the error path
    from zoneinfo import available_timezones

    matches = difflib.get_close_matches(name, sorted(available_timezones()), n=1, cutoff=0.6)
    return matches[0] if matches else None
