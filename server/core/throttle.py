"""Slows password guessing: too many failed logins for a username from one address -> 429 for a while."""

from __future__ import annotations

import math
import threading
import time
from collections import defaultdict, deque

from server.api.errors import Problem


class LoginThrottle:
    """In-memory, per server process: ``max_failures`` within ``window_s`` seconds locks that pair out."""

    def __init__(self, max_failures: int = 5, window_s: float = 300.0):
        self.max_failures, self.window_s = max_failures, window_s
        self._failures: dict[tuple[str, str], deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def _recent(self, key: tuple[str, str], now: float) -> deque[float]:
        times = self._failures[key]
        while times and now - times[0] > self.window_s:
            times.popleft()
        return times

    def check(self, username: str, address: str) -> None:
        """A 429 problem when this username and address failed too often lately."""
        now = time.monotonic()
        with self._lock:
            times = self._recent((username.lower(), address), now)
            if len(times) < self.max_failures:
                return
            wait = max(1, math.ceil(self.window_s - (now - times[0])))
        raise Problem(
            429,
            f"Too many failed logins; try again in {math.ceil(wait / 60)} minute(s).",
            "Too many attempts",
            {"Retry-After": str(wait)},
        )

    def failed(self, username: str, address: str) -> None:
        with self._lock:
            self._recent((username.lower(), address), time.monotonic()).append(time.monotonic())

    def succeeded(self, username: str, address: str) -> None:
        with self._lock:
            self._failures.pop((username.lower(), address), None)
