"""The analyst's path on the demo world, end to end: playbooks return rows; in a real browser an analyst
logs in, opens the top campaign, reads why it was flagged, pivots through a shared card and records a decision."""
from __future__ import annotations

import os
import re
import socket
import threading
from pathlib import Path

import pytest
from waitress.server import create_server

from app import auth, create_app
from graph import console, queries
from graph.config import managed_paths

from test_browser import CHROMIUM, CHROMIUM_ARGS

PASSWORD = "correct horse battery"
pytestmark = pytest.mark.slow


@pytest.fixture
def demo_world(demo_detected):
    """The demo world loaded into an empty database and detected once (shared: conftest.demo_detected)."""
    return demo_detected


@pytest.mark.parametrize("query", queries.library(), ids=lambda q: q.id)
def test_every_playbook_returns_rows_on_the_demo_world(demo_world, query):
    result = console.run_readonly(query.query, query.params, limits=console.Limits(timeout_s=120))
    assert result.rows, f"{query.id} returned nothing with its default parameters"


@pytest.fixture
def live_server(demo_world):
    auth.save_user("ana", "analyst", PASSWORD)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = create_server(create_app(), host="127.0.0.1", port=port, threads=4)
    threading.Thread(target=server.run, daemon=True).start()
    yield f"http://127.0.0.1:{port}"
    server.close()
    demo_world.changed("test_ui_demo's analyst recorded a case decision")


@pytest.mark.skipif(CHROMIUM is None and os.environ.get("CI") != "true", reason="Debian's chromium is not installed")
def test_analyst_finds_reads_pivots_and_decides(live_server):
    from playwright.sync_api import sync_playwright

    artifacts = Path(os.environ.get("LINKWATCH_ARTIFACTS", managed_paths().home / "artifacts"))
    artifacts.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        outside = []
        page.on("request", lambda req: outside.append(req.url) if not req.url.startswith(live_server) else None)

        page.goto(f"{live_server}/campaigns")
        page.fill("input[name=username]", "ana")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_server}/campaigns")
        rows = page.locator("table.data tbody tr")
        assert rows.count() >= 4  # the four planted campaigns are flagged (some may show as several clusters)
        page.screenshot(path=str(artifacts / "1-dashboard.png"), full_page=True)

        rows.first.locator("a").first.click()
        page.wait_for_selector("#network canvas")
        evidence = page.inner_text(".evidence-list")
        assert re.search(r"\d+ accounts use \d+ payment methods", evidence)
        page.screenshot(path=str(artifacts / "2-campaign.png"), full_page=True)
        campaign_url = page.url

        page.locator(".shared a[href^='/identifiers/payment/']").first.click()
        page.wait_for_selector("table.data tbody tr td a")
        assert page.locator("table.data tbody tr").count() >= 2  # a card shared by several members
        page.screenshot(path=str(artifacts / "3-pivot.png"), full_page=True)

        page.goto(campaign_url)
        page.select_option("select[name=status]", "confirmed")
        page.fill("input[name=assignee]", "ana")
        page.fill("textarea[name=note]", "shared cards and synchronized proxy traffic; ban")
        with page.expect_navigation():
            page.click("form[action^='/cases/'] button[type=submit]")
        assert page.url == campaign_url
        assert "case: confirmed" in page.inner_text("main")
        assert "shared cards and synchronized proxy traffic; ban" in page.inner_text("main")
        page.screenshot(path=str(artifacts / "4-decision.png"), full_page=True)
        browser.close()
    assert outside == []
    print(f"screenshots: {artifacts}")
