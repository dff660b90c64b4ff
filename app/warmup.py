"""Fast first view after a detection run: a background thread notices a new completed run and builds the
per-run cache (app/runcache.py) for the triage queue and the top flagged campaigns before anyone asks.

Started by ``linkwatch serve`` (``create_app`` with ``WARM_CACHE``); tests that want it start it themselves.
The thread looks up the newest run every ``RUN_CACHE_CHECK_S`` seconds (at least one), warms at most
``LINKWATCH_WEB_WARM_CAMPAIGNS`` campaigns per run, one after the other, and never fails a request: an error
while warming is logged and the page is built on its first view as before.
"""
from __future__ import annotations

import logging
import threading
import time

from flask import Flask

from graph import db
from graph.config import setting

log = logging.getLogger(__name__)


def warm_run(app: Flask, campaigns: int) -> list[str]:
    """Build the cached parts of the triage queue and of its ``campaigns`` first campaigns; returns their ids."""
    from app import campaigns as campaign_pages, triage_views

    app.extensions["linkwatch_run_cache"].refresh()
    with app.test_request_context("/"):
        top = triage_views.warm()[:campaigns]
    for campaign_id in top:
        with app.test_request_context("/campaigns/" + campaign_id):
            campaign_pages.warm(campaign_id)
    return top


class Warmer:
    """Polls for a new completed detection run and warms the cache for it once."""

    def __init__(self, app: Flask, campaigns: int | None = None, check_s: float | None = None):
        self.app = app
        self.campaigns = int(setting("LINKWATCH_WEB_WARM_CAMPAIGNS")) if campaigns is None else campaigns
        self.check_s = max(1.0, app.config["RUN_CACHE_CHECK_S"]) if check_s is None else check_s
        self.warmed_run: tuple | None = None
        self.last_warmed: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="linkwatch-cache-warmer", daemon=True)

    def start(self) -> "Warmer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def check_once(self) -> bool:
        """Warm if a new completed run appeared since the last check; True if it warmed."""
        rows = db.run("ui/latest_run")
        run = (rows[0]["run_id"], rows[0]["completed_at"]) if rows else None
        if run is None or run == self.warmed_run or self.campaigns <= 0:
            return False
        started = time.monotonic()
        self.last_warmed = warm_run(self.app, self.campaigns)
        self.warmed_run = run
        log.info("warmed run %s: queue and %d campaigns in %.1f s", run[0], len(self.last_warmed),
                 time.monotonic() - started)
        return True

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.check_once()
            except Exception:  # a warming failure must not stop the server; the page is built on first view
                log.exception("warming the page cache failed")
            self._stop.wait(self.check_s)
