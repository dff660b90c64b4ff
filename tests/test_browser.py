"""The UI in a real headless Chromium against a real server: works, and never leaves the machine."""
from __future__ import annotations

import os
import shutil
import socket
import threading
from urllib.parse import urlparse

import pytest
from waitress.server import create_server

from app import auth, create_app

PASSWORD = "correct horse battery"
SHOTS = os.environ.get("LINKWATCH_SCREENSHOT_DIR", "/tmp")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync"]

pytestmark = pytest.mark.skipif(
    CHROMIUM is None and os.environ.get("CI") != "true",
    reason="Debian's chromium is not installed (bin/linkwatch test installs it when run as root)",
)


@pytest.fixture
def live_server(empty_db):
    empty_db.execute_query(
        "CREATE (a:Account {account_id: 'acct-1'})-[:HAS_IDENTIFIER {kind: 'payment'}]->(:PaymentMethod {value: 'pm_1'})"
        "<-[:HAS_IDENTIFIER {kind: 'payment'}]-(:Account {account_id: 'acct-2'})"
    )
    auth.save_user("ana", "analyst", PASSWORD)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = create_server(create_app(), host="127.0.0.1", port=port, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    server.close()


@pytest.fixture(scope="module")
def browser():
    """One Chromium for the module; every test gets its own context (no cookie or storage carries over)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context()
    outside: list[str] = []
    context.on("request", lambda req: outside.append(req.url)
               if urlparse(req.url).hostname not in ("127.0.0.1", "localhost") and not req.url.startswith(("data:", "blob:"))
               else None)
    page = context.new_page()
    page.outside_requests = outside
    yield page
    context.close()


def test_console_runs_a_playbook_and_draws_the_graph_offline(live_server, page):
    page.goto(f"{live_server}/console")
    assert page.url.startswith(f"{live_server}/login")
    page.fill("input[name=username]", "ana")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server}/console")

    page.get_by_text("Accounts sharing a payment method with an account").click()
    page.fill("#params input[name=account]", "acct-1")
    page.click("#run")
    page.wait_for_selector("#results tbody tr")
    assert page.inner_text("#results tbody tr td") == "acct-2"
    assert "1 rows in" in page.inner_text("#status")

    page.fill("#query", "MATCH p = (:Account)-[:HAS_IDENTIFIER]->(:PaymentMethod) RETURN p")
    page.click("#run")
    page.wait_for_function("document.querySelectorAll('#results tbody tr').length === 2")
    page.click("button[data-tab=graph]")
    page.wait_for_selector("#network canvas")
    assert page.inner_text("#graph-note") == "3 nodes."
    page.wait_for_timeout(1500)  # let the layout settle for the screenshot
    page.screenshot(path=f"{SHOTS}/console-graph.png", full_page=True)

    page.fill("#query", "MATCH (n) DETACH DELETE n")
    page.click("#run")
    page.wait_for_function("document.querySelector('#error').textContent.length > 0")
    assert "read-only" in page.inner_text("#error")
    page.screenshot(path=f"{SHOTS}/console-refused.png", full_page=True)
    assert page.outside_requests == []


def _log_in(page, base: str, next_value: str | None = None) -> None:
    from urllib.parse import quote

    page.goto(f"{base}/login" + (f"?next={quote(next_value, safe='')}" if next_value is not None else ""))
    page.fill("input[name=username]", "ana")
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit]")


@pytest.mark.parametrize("next_value", ["/\t/evil.example", "/\n/evil.example", "//evil.example/x",
                                        "/\\evil.example", "/%09/evil.example", "https://evil.example/",
                                        "/%5C%5Cevil.example"])
def test_the_login_redirect_never_leaves_the_origin(live_server, page, next_value):
    _log_in(page, live_server, next_value)
    assert page.url == f"{live_server}/"
    assert "Linkwatch" in page.title()
    assert page.outside_requests == []


def test_the_login_redirect_keeps_a_same_origin_path(live_server, page):
    _log_in(page, live_server, "/accounts/acct-1?x=1")
    assert page.url == f"{live_server}/accounts/acct-1?x=1"


def test_console_csv_export_neutralises_formula_cells(live_server, page):
    _log_in(page, live_server, "/console")
    page.fill("#query", "RETURN '=HYPERLINK(\"http://evil.example\",\"x\")' AS f, -1 AS n, '@SUM(1)' AS g, "
                        "'-2' AS s, 'plain' AS p")
    page.click("#run")
    page.wait_for_selector("#results tbody tr")
    with page.expect_download() as info:
        page.click("#export-csv")
    text = open(info.value.path(), encoding="utf-8").read()
    import csv
    import io

    assert list(csv.reader(io.StringIO(text))) == [
        ["f", "n", "g", "s", "p"], ["'=HYPERLINK(\"http://evil.example\",\"x\")", "-1", "'@SUM(1)", "'-2", "plain"]]
    assert page.outside_requests == []


def test_an_account_whose_id_holds_any_character_opens_from_its_link(live_server, page, empty_db):
    hostile = "team/ü 50%?#../x"
    empty_db.execute_query("MATCH (pm:PaymentMethod {value: 'pm_1'}) "
                           "CREATE (:Account {account_id: $id, org: 'Slash Org'})-[:HAS_IDENTIFIER {kind: 'payment'}]->(pm)",
                           id=hostile)
    _log_in(page, live_server, "/identifiers/payment/pm_1")
    assert page.url == f"{live_server}/identifiers/payment/pm_1"
    with page.expect_navigation():
        page.get_by_role("link", name=hostile, exact=True).click()
    assert urlparse(page.url).netloc == urlparse(live_server).netloc
    assert page.locator("h1").inner_text().find(hostile) >= 0
    assert "Slash Org" in page.content()
    page.go_back()
    assert page.url == f"{live_server}/identifiers/payment/pm_1"
