"""Schema-driven fuzzing of the whole JSON API from its own OpenAPI description (/api/openapi.json).

schemathesis turns every operation of the description into a hypothesis strategy (path, query, body); each
generated request goes to a real waitress server on 127.0.0.1 with an admin's bearer token, against the real
Neo4j. Whatever the input — fitting the description (positive) or deliberately not (negative) — the server
must not answer 5xx. Bounded: LINKWATCH_FUZZ_EXAMPLES requests per operation and mode (default 10: one to two
minutes on two cores); every failure is collected, so one run names all of them.
"""
from __future__ import annotations

import os

import pytest
import requests
import schemathesis
from schemathesis.generation import GenerationMode
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable

from app import auth, create_app

from test_routes_roles import app as _roles_world  # noqa: F401 - the fixture's small world (accounts, a campaign)
from webtools import live_server

EXAMPLES = int(os.environ.get("LINKWATCH_FUZZ_EXAMPLES", "10"))


@pytest.fixture
def server(_roles_world):  # noqa: F811
    with live_server(create_app()) as base:
        yield base


def test_no_generated_request_makes_the_api_fail(server):
    headers = {"Authorization": f"Bearer {auth.create_token('adam', label='fuzz')}"}
    spec = requests.get(f"{server}/api/openapi.json", headers=headers).json()
    schema = schemathesis.openapi.from_dict(spec)
    failures: list[str] = []
    tried = 0
    for result, mode in ((r, m) for r in schema.get_all_operations() for m in GenerationMode):
        operation = result.ok()
        seen: set[int] = set()

        @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy(generation_mode=mode))
        def exercise(case):
            response = case.call(base_url=server, headers=headers, timeout=60)
            seen.add(response.status_code)
            if response.status_code >= 500:
                failures.append(f"{mode} {operation.method.upper()} {operation.path} -> {response.status_code}: "
                                f"path={case.path_parameters} query={case.query} body={str(case.body)[:200]}")

        try:
            exercise()
        except Unsatisfiable:
            assert mode == GenerationMode.NEGATIVE  # an operation without inputs has no wrong input to send
            continue
        tried += 1
        assert seen, f"{mode} {operation.method.upper()} {operation.path}: no request was sent"
    assert tried >= 35  # every operation of the description was fuzzed
    assert failures == [], "\n".join(failures)
    # the server is still answering
    assert requests.get(f"{server}/healthz").json()["status"] == "ok"
