"""Helpers for tests of the web app: one password, CSRF tokens, session login, bearer headers."""
from __future__ import annotations

import os
import re
import socket
import threading
from contextlib import contextmanager
from pathlib import Path

from waitress.server import create_server

from app import auth
from graph.config import managed_paths

PASSWORD = "correct horse battery"


def csrf_token(client, path: str = "/login") -> str:
    """The CSRF token rendered in the page at ``path``."""
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).get_data(as_text=True)).group(1)


def login(client, name: str, password: str = PASSWORD):
    return client.post("/login", data={"username": name, "password": password, "csrf_token": csrf_token(client)})


def bearer(name: str) -> dict[str, str]:
    """Authorization header with a new API token of user ``name``."""
    return {"Authorization": f"Bearer {auth.create_token(name)}"}


@contextmanager
def live_server(app, threads: int = 4):
    """``app`` served by a real waitress server on 127.0.0.1 (a free port); yields its base URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = create_server(app, host="127.0.0.1", port=port, threads=threads)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.close()


def http_login(base: str, name: str, password: str = PASSWORD):
    """A ``requests`` session logged in through the real login form of the server at ``base``."""
    import requests

    http = requests.Session()
    page = http.get(f"{base}/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = http.post(f"{base}/login", data={"username": name, "password": password, "csrf_token": token},
                         allow_redirects=False)
    assert response.status_code == 302, response.status_code
    return http


def artifacts_dir() -> Path:
    """Where browser tests save screenshots: LINKWATCH_ARTIFACTS, else the test server's home/artifacts."""
    path = Path(os.environ.get("LINKWATCH_ARTIFACTS", managed_paths().home / "artifacts"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def browser_session(playwright, base: str, name: str = "ana", password: str = PASSWORD):
    """Debian's chromium logged in as ``name`` through the login form of the server at ``base``, 1400×900.
    Returns (browser, page, outside): ``outside`` collects every request that left ``base``."""
    from test_browser import CHROMIUM, CHROMIUM_ARGS

    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    outside: list[str] = []
    page.on("request", lambda req: outside.append(req.url) if not req.url.startswith(base) else None)
    page.goto(f"{base}/")
    page.fill("input[name=username]", name)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")
    return browser, page, outside
