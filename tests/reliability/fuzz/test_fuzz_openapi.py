"""schemathesis against the served /openapi.json: every operation, bounded examples, on
loopback. No reply is a 5xx; every error is Connect error JSON with a code other than
internal.

The cases come from schemathesis's strategies for each operation of the document the
server serves, run under hypothesis here (its pytest plugin does not run on this pytest).
"""

from __future__ import annotations

from typing import Any

import fuzz_harness
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from weir_controlplane.api.openapi import openapi_document

fuzz_target = fuzz_harness.fuzz_target  # the shared server fixture

OPERATIONS = sorted(openapi_document()["paths"])
EXAMPLES = 25
# What an error may say: a server error is a bug, but a method the server does not
# implement yet, or a code location it cannot reach, is a proper answer.
SERVER_SIDE_ANSWERS = {501: "unimplemented", 503: "unavailable"}


@pytest.fixture(scope="module")
def api_schema(fuzz_target: Any) -> Any:
    return schemathesis.openapi.from_url(f"{fuzz_target.server.http_url}/openapi.json")


@pytest.mark.parametrize("path", OPERATIONS, ids=[p.rsplit("/", 1)[-1] for p in OPERATIONS])
def test_no_request_the_schema_allows_gets_a_server_error(
    api_schema: Any, fuzz_target: Any, path: str
) -> None:
    operation = api_schema[path]["POST"]
    strategy = operation.as_strategy()

    @given(data=st.data())
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,  # the same examples every CI run: a failure reproduces
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    def check(data: Any) -> None:
        case = data.draw(strategy)
        response = case.call(
            base_url=fuzz_target.server.http_url,
            headers={"x-weir-deployment": fuzz_target.deployment},
            timeout=30,
        )
        if response.status_code == 200:
            return
        error = response.json()
        assert isinstance(error.get("code"), str), (path, case.body, response.text[:500])
        if response.status_code >= 500:
            assert SERVER_SIDE_ANSWERS.get(response.status_code) == error["code"], (
                path,
                case.body,
                error,
            )

    check()
