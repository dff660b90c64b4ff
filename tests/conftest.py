"""Shared fixtures. Every test runs against the real managed Neo4j + GDS that
`bin/linkwatch test` starts (its own data folder and port); nothing is mocked.

With several workers (pytest-xdist, LINKWATCH_TEST_WORKERS) each worker has its own server: worker i takes the
i-th of LINKWATCH_TEST_HOMES / LINKWATCH_TEST_PORTS, before any test connects."""
from __future__ import annotations

import contextlib
import io
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from graph import db


def _use_this_workers_server() -> None:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")  # gw0, gw1, ...
    homes, ports = os.environ.get("LINKWATCH_TEST_HOMES", "").split(), os.environ.get("LINKWATCH_TEST_PORTS", "").split()
    if worker and homes:
        index = int(worker.removeprefix("gw"))
        os.environ["LINKWATCH_HOME"], os.environ["LINKWATCH_NEO4J_PORT"] = homes[index], ports[index]


_use_this_workers_server()


def _require_disposable() -> None:
    if os.environ.get("LINKWATCH_TEST_DATABASE_IS_DISPOSABLE") != "1":
        pytest.exit(
            "tests wipe the database: run them with `bin/linkwatch test`, which starts a separate Neo4j "
            "(or set LINKWATCH_TEST_DATABASE_IS_DISPOSABLE=1 for a server whose data may be destroyed)",
            returncode=2,
        )


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the xdist_group marks
def pytest_collection_modifyitems(config, items):
    """Tests on the demo world run first, next to each other, so that it is loaded and detected once: first the
    tests sharing `demo_detected`, then the few marked `changes_demo_world` (they rebuild its linkage or run
    detection again), then everything else (the first to wipe it pays once for its million relationships). The
    order of everything else stays as collected (a stable sort); a module's other tests run with the rest, so
    their own fixtures never wipe the shared world between two of its readers. Whichever test first asks for
    the world pays for simulating, loading and detecting it: those tests get a longer time limit.

    With workers, all the demo world's tests go to one worker, in the order above, and it is the first unit of
    work handed out (the longest); every other module goes to one worker as a whole, so its module fixtures
    are built once (pytest-xdist's ``--dist loadgroup``)."""
    def group(item) -> int:
        if item.get_closest_marker("changes_demo_world"):
            return 1
        return 0 if "demo_detected" in item.fixturenames else 2

    for item in items:
        demo = group(item) < 2
        if demo:
            item.add_marker(pytest.mark.timeout(1800))
        item.add_marker(pytest.mark.xdist_group("demo-world" if demo else item.path.name))
    items.sort(key=group)


def pytest_collection_finish(session):
    """Under ``--dist loadgroup`` every test must carry its group in its id (pytest-xdist adds ``@<group>`` from
    the ``xdist_group`` marks above); without it the groups are split over workers and each one loads and
    detects the demo world again. Stop at once instead of running the suite that slowly."""
    config = session.config
    if hasattr(config, "workerinput") and config.getvalue("loadgroup"):
        ungrouped = [item.nodeid for item in session.items if "@" not in item.nodeid]
        if ungrouped:
            raise pytest.UsageError(f"pytest-xdist did not apply the xdist_group marks (e.g. {ungrouped[0]}): "
                                    "a pytest or pytest-xdist version that does not work together")


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


@dataclass
class DemoWorld:
    """The demo world as `demo_detected` left it: its bundle and the export of its one detection run."""

    bundle: Path
    detection: Path  # accounts.csv and campaigns.json of the run
    printed: str = ""  # what `linkwatch detect` printed
    run_id: str = ""
    accounts: int = -1
    changed_by: list[str] = field(default_factory=list)

    def changed(self, by: str) -> None:
        """Declare that a test changed the database in a way the fingerprint cannot see (a case decision, a
        property): the next test asking for the world gets it loaded and detected again."""
        self.changed_by.append(by)

    def _fingerprint(self) -> tuple[list[str], int]:
        record = db.driver().execute_query(
            "OPTIONAL MATCH (r:DetectionRun) WITH collect(r.run_id) AS runs "
            "RETURN runs, COUNT { MATCH (a:Account) } AS accounts").records[0]
        return sorted(record["runs"]), record["accounts"]

    def holds(self) -> bool:
        """Whether the database still holds exactly this world: its one run, its accounts, nothing declared.
        Case decisions analysts' tests recorded are undone here (the world starts with none), cheaply."""
        if self.changed_by or self._fingerprint() != ([self.run_id], self.accounts):
            return False
        db.driver().execute_query("MATCH (n) WHERE n:Case OR n:Decision DETACH DELETE n")
        return True


@pytest.fixture(scope="session")
def _demo_world(demo_bundle, tmp_path_factory) -> DemoWorld:
    return DemoWorld(bundle=demo_bundle, detection=tmp_path_factory.mktemp("demo-detection") / "detection")


@pytest.fixture
def demo_detected(_demo_world) -> DemoWorld:
    """The demo world loaded into an empty database and detected once (`linkwatch detect --export`), shared by
    every test that only reads it or records case decisions. It is loaded again only when the database no longer
    holds it: a wipe, another load or detection run (the fingerprint: the one run id and the account count, two
    cheap reads), or a test that declared a change with ``demo_detected.changed(...)``. A test that changes the
    world in another way must declare it; one that runs detection again is marked ``changes_demo_world``."""
    from app.cli import main

    world = _demo_world
    if world.run_id and world.holds():
        return world
    db.wipe()
    db.apply_schema()
    printed = io.StringIO()  # the CLI's summaries stay out of the test's own capsys
    with contextlib.redirect_stdout(printed):
        assert main(["load", str(world.bundle), "--quiet",
                     "--rejects", str(world.detection.parent / "rejects.csv")]) == 0, printed.getvalue()
        assert main(["detect", "--export", str(world.detection)]) == 0, printed.getvalue()
    world.printed = printed.getvalue()
    world.run_id = json.loads((world.detection / "campaigns.json").read_text())["run_id"]
    world.changed_by.clear()
    world.accounts = -1
    runs, world.accounts = world._fingerprint()
    assert runs == [world.run_id], runs
    return world
