"""Per-detection-run cache: what the campaign pages show about a run is computed once per run, not per request.

Campaign facts, members, charts and the drawn network change only when ``linkwatch detect`` completes a
new run, so they are cached under the newest completed ``DetectionRun`` (its id and completion time: a
wiped and rebuilt database reusing an id still gets a new key). Detection marks a run completed
(``completed_at``) after its memberships and account scores are written, so a run being written is never
cached half-done: pages keep showing the previous run until then. Without any completed run pages are
built on every request. The newest run is looked up at most once every ``RUN_CACHE_CHECK_S`` (default
1 s) per process; a new run empties the cache. Cases (status, assignee, notes, history) are never cached.

Values are shared between threads: callers must not modify what ``fetch`` returns.
"""
from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Any, Callable

from flask import g

from graph import db

MAX_ENTRIES = 512  # campaigns × member pages × dashboard filters; an entry is at most a few hundred kB


class RunCache:
    def __init__(self, check_s: float, max_entries: int = MAX_ENTRIES):
        self.check_s, self.max_entries = check_s, max_entries
        self._lock = threading.Lock()
        self._run: tuple | None = None  # the run the entries belong to
        self._newest: tuple | None = None  # the newest completed run when last looked up
        self._checked_at = float("-inf")
        self._entries: OrderedDict[tuple, tuple[Any, list[dict]]] = OrderedDict()  # key -> (value, notes)
        self._computing: dict[tuple, threading.Lock] = {}  # keys being computed

    def _current_run(self) -> tuple | None:
        """The key of the newest completed run (None: no completed run)."""
        with self._lock:
            if time.monotonic() - self._checked_at < self.check_s:
                return self._newest
        rows = db.run("ui/latest_run")
        with self._lock:
            self._newest = (rows[0]["run_id"], rows[0]["completed_at"]) if rows else None
            self._checked_at = time.monotonic()
            return self._newest

    def refresh(self) -> None:
        """Look the newest run up again on the next fetch (the warmer calls it when it has seen a new run)."""
        with self._lock:
            self._checked_at = float("-inf")

    def _lookup(self, run: tuple, key: tuple) -> tuple[Any, list[dict]] | None:
        with self._lock:
            if run != self._run:
                self._entries.clear()
                self._run = run
            hit = self._entries.get(key)
            if hit is not None:
                self._entries.move_to_end(key)
            return hit

    def fetch(self, key: tuple, compute: Callable[[], Any]) -> Any:
        """``compute()``'s value for ``key`` under the newest run, computed once per run.

        Concurrent requests for a missing entry wait for one computation instead of each running it.
        The "Show the Cypher" entries that ``compute`` recorded are replayed on every hit, so a page lists
        the same statements (and its JSON twin the same ``cypher``) whether it came from the cache or not.
        """
        run = self._current_run()
        if run is None:
            return compute()
        hit = self._lookup(run, key)
        if hit is None:
            with self._lock:
                computing = self._computing.setdefault(key, threading.Lock())
            with computing:
                hit = self._lookup(run, key)
                if hit is None:
                    before = len(g.get("shown_queries", []))
                    value = compute()
                    with self._lock:
                        if self._run == run:
                            self._entries[key] = (value, g.get("shown_queries", [])[before:])
                            while len(self._entries) > self.max_entries:
                                self._entries.popitem(last=False)
                        self._computing.pop(key, None)
                    return value
        value, notes = hit
        g.setdefault("shown_queries", []).extend(notes)
        return value
