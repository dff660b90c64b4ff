"""Shared fixtures. Every test runs against the real managed Neo4j + GDS that
`bin/linkwatch test` starts (its own data folder and port); nothing is mocked."""
from __future__ import annotations

import os

import pytest

from graph import db


def _require_disposable() -> None:
    if os.environ.get("LINKWATCH_TEST_DATABASE_IS_DISPOSABLE") != "1":
        pytest.exit(
            "tests wipe the database: run them with `bin/linkwatch test`, which starts a separate Neo4j "
            "(or set LINKWATCH_TEST_DATABASE_IS_DISPOSABLE=1 for a server whose data may be destroyed)",
            returncode=2,
        )


@pytest.fixture(scope="session")
def _server_ready():
    _require_disposable()
    db.gds_version()
    yield
    db.close()


@pytest.fixture
def neo4j(_server_ready):
    """The process-wide driver, after checking once that the server and GDS answer."""
    return db.driver()


@pytest.fixture
def empty_db(neo4j):
    """An empty database with the Linkwatch schema applied."""
    db.wipe()
    db.apply_schema()
    return neo4j


@pytest.fixture(scope="session")
def demo_bundle(tmp_path_factory, _server_ready):
    """The demo world's bundle (simulated once per test session; seed 1)."""
    from app.cli import main

    bundle = tmp_path_factory.mktemp("demo") / "bundle"
    assert main(["simulate", "--scale", "demo", "--seed", "1", "--out", str(bundle), "--quiet"]) == 0
    return bundle
