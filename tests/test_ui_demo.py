"""The analyst's path on the demo world, end to end: playbooks return rows; in a real browser an analyst
logs in, opens the top campaign, reads why it was flagged, pivots through a shared card and records a decision."""
from __future__ import annotations

import os
import re

import pytest

from app import auth, create_app
from graph import console, queries

from test_browser import CHROMIUM, CHROMIUM_ARGS
from webtools import PASSWORD, artifacts_dir, browser_session
from webtools import live_server as serving

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
    with serving(create_app()) as base:
        yield base  # the case decisions the analyst recorded are undone by conftest.demo_detected


@pytest.mark.skipif(CHROMIUM is None and os.environ.get("CI") != "true", reason="Debian's chromium is not installed")
def test_analyst_finds_reads_pivots_and_decides(live_server):
    from playwright.sync_api import sync_playwright

    artifacts = artifacts_dir()
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


# ---- the analyst workflow on the demo world: triage queue first, compact account pages -----------------------

ACCOUNT_PAGE_MAX_HEIGHT = 2 * 900  # "about two screens" at the 900-pixel viewport below


@pytest.mark.skipif(CHROMIUM is None and os.environ.get("CI") != "true", reason="Debian's chromium is not installed")
def test_an_analyst_lands_on_the_triage_queue(live_server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser, page, outside = browser_session(playwright, live_server)
        assert page.inner_text("h1") == "Triage queue"
        rows = page.locator("table.triage tbody tr")
        assert rows.count() >= 1
        scores = [float(rows.nth(i).locator("td").nth(1).inner_text()) for i in range(rows.count())]
        assert scores == sorted(scores, reverse=True)
        # the change since the previous run, then (on its own line) the campaigns it may share an operator with
        changes = [rows.nth(i).locator("td.change").inner_text().split("\n")[0].strip() for i in range(rows.count())]
        assert all(re.fullmatch(r"new|unchanged|(grown|shrunk) by [\d,]+|merged with .+|split from .+", c)
                   for c in changes), changes
        cases = {rows.nth(i).locator("td").nth(6).inner_text() for i in range(rows.count())}
        assert cases <= {"new", "triage"}  # decided campaigns have left the queue
        page.screenshot(path=str(artifacts_dir() / "5-triage.png"), full_page=True)
        # a filter narrows the queue and stays in the form
        page.fill("input[name=assignee]", "nobody")
        page.select_option("select[name=lineage]", "new")
        with page.expect_navigation():
            page.click("form.filters button[type=submit]")
        assert "assignee=nobody" in page.url and page.input_value("input[name=assignee]") == "nobody"
        assert page.locator("select[name=lineage] option:checked").inner_text() == "new"
        browser.close()
    assert outside == []


@pytest.mark.skipif(CHROMIUM is None and os.environ.get("CI") != "true", reason="Debian's chromium is not installed")
def test_a_campaign_members_account_page_fits_in_about_two_screens(live_server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser, page, outside = browser_session(playwright, live_server)
        campaigns = page.request.get(f"{live_server}/api/campaigns").json()["campaigns"]
        members = page.request.get(f"{live_server}/api/campaigns/{campaigns[0]['campaign_id']}").json()["members"]
        # the member with the most identifiers: the longest page a campaign member has
        sizes = {m["account"]: len(page.request.get(f"{live_server}/api/accounts/{m['account']}").json()["identifiers"])
                 for m in members[:20]}
        account = max(sizes, key=lambda a: (sizes[a], a))
        page.goto(f"{live_server}/accounts/{account}")
        # evidence and the account's campaign come first
        first = page.locator("main section").first
        assert "Campaign" in first.inner_text() and first.locator(".evidence-list li").count() >= 1
        groups = page.locator(".idgroup")
        assert groups.count() >= 2
        assert all(re.search(r"\d+ · \d+ shared", groups.nth(i).locator("h3").inner_text())
                   for i in range(groups.count()))
        height = page.evaluate("document.documentElement.scrollHeight")
        page.screenshot(path=str(artifacts_dir() / "6-account.png"), full_page=True)
        assert height <= ACCOUNT_PAGE_MAX_HEIGHT, f"{account}: {height} px"
        # "show all" opens what the summary leaves out
        more = page.locator("details.show-all")
        if more.count():
            more.first.locator("summary").click()
            assert page.evaluate("document.documentElement.scrollHeight") > height
        browser.close()
    assert outside == []


@pytest.mark.skipif(CHROMIUM is None and os.environ.get("CI") != "true", reason="Debian's chromium is not installed")
def test_the_campaign_network_reads_at_a_glance(live_server):
    from playwright.sync_api import sync_playwright

    from graph.config import setting

    budget = int(setting("LINKWATCH_WEB_NETWORK_MAX_NODES"))
    with sync_playwright() as playwright:
        browser, page, outside = browser_session(playwright, live_server)
        campaigns = page.request.get(f"{live_server}/api/campaigns").json()["campaigns"]
        page.goto(f"{live_server}/campaigns/{campaigns[0]['campaign_id']}")
        page.wait_for_selector("#network canvas")
        # the layout settles, then stops moving
        page.wait_for_selector("#network[data-physics=stopped]", timeout=60_000)
        legend = page.locator(".network-legend li")
        assert legend.count() >= 2
        kinds = [legend.nth(i).inner_text() for i in range(legend.count())]
        assert any("(hard)" in k for k in kinds), kinds  # the demo campaigns share cards
        network = page.evaluate("JSON.parse(document.getElementById('network').dataset.network)")
        assert 0 < len(network["nodes"]) <= budget
        hubs = [n for n in network["nodes"] if n["kind"] not in ("Account", "Group")]
        assert hubs and all(n["shape"] == ("diamond" if n["hard"] else "dot") for n in hubs)
        assert max(n["size"] for n in hubs) > min(n["size"] for n in network["nodes"])  # hubs sized by members
        first = page.locator("#network canvas").screenshot()
        page.wait_for_timeout(1500)
        assert page.locator("#network canvas").screenshot() == first  # nothing moves any more
        # search highlights, a click opens the side panel
        card = next(n for n in hubs if n["kind"] == "PaymentMethod")
        page.fill(".network-search", card["value_text"])
        assert int(page.get_attribute("#network", "data-highlighted")) >= 1
        spot = page.evaluate("""(id) => { const net = document.getElementById('network').visNetwork;
                                          return net.canvasToDOM(net.getPositions([id])[id]); }""", card["id"])
        box = page.locator("#network").bounding_box()
        page.mouse.click(box["x"] + spot["x"], box["y"] + spot["y"])
        panel = page.locator(".network-panel")
        panel.wait_for(state="visible")
        assert card["value_text"] in panel.inner_text()
        assert page.get_attribute(".network-panel-link", "href").startswith("/identifiers/payment/")
        page.screenshot(path=str(artifacts_dir() / "7-network.png"), full_page=True)
        with page.expect_download() as download:
            page.click(".network-png")
        assert download.value.suggested_filename == "network.png"
        browser.close()
    assert outside == []
