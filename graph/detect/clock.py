"""Wall seconds per step of a detection run, for its timing line (`linkwatch detect` prints them)."""
from __future__ import annotations

import time


class Clock:
    """Laps in order: ``lap(step)`` records the seconds since the previous lap (or since the clock started)."""

    def __init__(self, prefix: str = ""):
        self.prefix = prefix
        self.seconds: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, step: str) -> None:
        now = time.perf_counter()
        self.seconds[self.prefix + step] = round(now - self._last, 2)
        self._last = now
