"""The engine's errors: a database that cannot be reached is a retryable
`DatabaseUnavailableError` (UNAVAILABLE to callers), and a bad URL is refused without
repeating it, since it may hold a password."""

from __future__ import annotations

import socket

import pytest
from weir_controlplane import errors
from weir_controlplane.api.error_mapping import to_api_error
from weir_controlplane.storage import Database, create_engine
from weir_controlplane.storage.engine import masked
from weir_controlplane.storage.errors import DatabaseUnavailableError, InvalidDatabaseUrlError

PASSWORD = "S3cretPassw0rd"


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_an_unreachable_postgres_is_unavailable_not_internal() -> None:
    url = f"postgresql://postgres:{PASSWORD}@127.0.0.1:{closed_port()}/test?connect_timeout=2"
    db = Database(create_engine(url))
    try:
        with pytest.raises(DatabaseUnavailableError) as raised, db.read():
            pass
        with pytest.raises(DatabaseUnavailableError), db.write():
            pass
    finally:
        db.dispose()
    answer = to_api_error(raised.value, method="GetRun", request_id="r1")
    assert isinstance(answer, errors.UnavailableError)
    assert PASSWORD not in str(answer)


@pytest.mark.parametrize(
    "url",
    [
        f"postgresql://postgres:{PASSWORD}@127.0.0.1:no-port/test",
        f"{PASSWORD} is not a URL",
        f"mysql://root:{PASSWORD}@127.0.0.1/test",
    ],
)
def test_a_bad_database_url_is_refused_without_repeating_it(url: str) -> None:
    with pytest.raises(InvalidDatabaseUrlError) as raised:
        create_engine(url)
    assert PASSWORD not in str(raised.value)
    assert "URL" in str(raised.value)


def test_masked_hides_the_password() -> None:
    shown = masked(f"postgresql+psycopg://postgres:{PASSWORD}@db:5432/weir")
    assert shown == "postgresql+psycopg://postgres:***@db:5432/weir"
    assert PASSWORD not in masked(f"{PASSWORD}:nonsense://")
