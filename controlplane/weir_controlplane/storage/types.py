"""Column types that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Dialect

from weir_controlplane.storage.errors import NaiveDatetimeError


class UTCDateTime(sa.TypeDecorator[datetime]):
    """A timestamp that is UTC-aware in and out.

    PostgreSQL stores `timestamptz` and hands back aware values; SQLite has no time
    zones, so values are stored as naive UTC and get their tzinfo back on the way out.
    Naive input is refused rather than guessed at.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise NaiveDatetimeError()
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


# Primary keys that are 64-bit on PostgreSQL and SQLite's rowid alias on SQLite, whose
# autoincrement works only for a column declared exactly INTEGER PRIMARY KEY.
BigIntegerPK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

# JSON documents: JSONB on PostgreSQL, JSON text on SQLite.
JSONDocument = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
