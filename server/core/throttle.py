"""Slows password guessing: too many failed logins -> 429 for the rest of the window.

Three counters per attempt, all counted in one atomic step *before* the password is checked (so parallel guesses
cannot all slip under the limit): the username from this address, the username from anywhere, and this address
for any username. A successful login clears the first two. Keys are hashed (fixed size, whatever the username's
length). In memory per process, with a cap on the keys tracked; shared by every API process through Redis when
``settings.redis_url`` is set (INCR + EXPIRE in one transaction).
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Protocol

from server.api.errors import Problem
from server.core.settings import Settings

KEY_PREFIX = "formcheck:login:"
_DECR_IF_EXISTS = "if redis.call('exists', KEYS[1]) == 1 then return redis.call('decr', KEYS[1]) end return 0"


@dataclass(frozen=True)
class Limit:
    key: str  # hashed, fixed length
    max_failures: int


class Counter(Protocol):
    """Fixed-window counters: ``hit`` adds one to each key and returns (count, seconds left) for each."""

    def hit(self, keys: list[str], window_s: float) -> list[tuple[int, float]]: ...

    def clear(self, keys: list[str]) -> None: ...

    def undo(self, key: str) -> None: ...


class MemoryCounter:
    """Counters in this process, at most ``max_keys`` of them (expired ones first, then the oldest, make room)."""

    def __init__(self, max_keys: int = 100_000, clock=time.monotonic):
        self.max_keys, self.clock = max_keys, clock
        self._windows: OrderedDict[str, tuple[int, float]] = OrderedDict()  # key -> (count, window end)
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._windows)

    def _make_room(self, now: float) -> None:
        if len(self._windows) < self.max_keys:
            return
        for key in [k for k, (_, end) in self._windows.items() if end <= now]:
            del self._windows[key]
        while len(self._windows) >= self.max_keys:
            self._windows.popitem(last=False)

    def hit(self, keys: list[str], window_s: float) -> list[tuple[int, float]]:
        now, out = self.clock(), []
        with self._lock:
            for key in keys:
                count, end = self._windows.get(key, (0, 0.0))
                if end <= now:
                    count, end = 0, now + window_s
                    self._windows.pop(key, None)
                    self._make_room(now)
                self._windows[key] = (count + 1, end)
                out.append((count + 1, end - now))
        return out

    def clear(self, keys: list[str]) -> None:
        with self._lock:
            for key in keys:
                self._windows.pop(key, None)

    def undo(self, key: str) -> None:
        with self._lock:
            if key in self._windows:
                count, end = self._windows[key]
                self._windows[key] = (max(0, count - 1), end)


class RedisCounter:
    """Counters in Redis, shared by every API process: INCR and EXPIRE (only when new) in one transaction."""

    def __init__(self, url: str, prefix: str = KEY_PREFIX):
        import redis

        self.client, self.prefix = redis.Redis.from_url(url, socket_timeout=5), prefix

    def hit(self, keys: list[str], window_s: float) -> list[tuple[int, float]]:
        import redis

        ttl = max(1, math.ceil(window_s))
        try:
            with self.client.pipeline(transaction=True) as pipe:
                for key in keys:
                    pipe.incr(self.prefix + key)
                    pipe.expire(self.prefix + key, ttl, nx=True)
                    pipe.ttl(self.prefix + key)
                replies = pipe.execute()
        except redis.RedisError:  # fail closed: no unthrottled logins while the shared counter is away
            raise Problem(503, "Logging in is unavailable for a moment (the login throttle's store does not "
                          "answer); try again shortly.", "Unavailable", {"Retry-After": "30"}) from None
        return [(int(replies[i]), float(max(replies[i + 2], 1))) for i in range(0, len(replies), 3)]

    def clear(self, keys: list[str]) -> None:
        if keys:
            self.client.delete(*(self.prefix + key for key in keys))

    def undo(self, key: str) -> None:
        self.client.eval(_DECR_IF_EXISTS, 1, self.prefix + key)


def _hashed(*parts: str) -> str:
    digest = hashlib.sha256("\x00".join(parts).encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return digest


class LoginThrottle:
    """``attempt`` before checking a password (429 when over a limit), ``succeeded`` after a good one."""

    def __init__(self, counter: Counter, *, max_failures: int = 5, per_user: int = 20, per_address: int = 50,
                 window_s: float = 300.0):
        self.counter, self.window_s = counter, window_s
        self.max_failures, self.per_user, self.per_address = max_failures, per_user, per_address

    def _limits(self, username: str, address: str) -> list[Limit]:
        name = username.lower()
        return [Limit(_hashed("pair", name, address), self.max_failures),
                Limit(_hashed("user", name), self.per_user),
                Limit(_hashed("address", address), self.per_address)]

    def attempt(self, username: str, address: str) -> None:
        """Count this attempt (as a failure until ``succeeded``) and refuse it with a 429 problem when any of its
        counters is past its limit; check and count are one atomic step."""
        limits = self._limits(username, address)
        counts = self.counter.hit([limit.key for limit in limits], self.window_s)
        over = [left for limit, (count, left) in zip(limits, counts, strict=True) if count > limit.max_failures]
        if over:
            wait = max(1, math.ceil(max(over)))
            raise Problem(
                429,
                f"Too many failed logins; try again in {math.ceil(wait / 60)} minute(s).",
                "Too many attempts",
                {"Retry-After": str(wait)},
            )

    def succeeded(self, username: str, address: str) -> None:
        """A good password: forget this username's failures; this attempt no longer counts for the address."""
        pair, user, by_address = self._limits(username, address)
        self.counter.clear([pair.key, user.key])
        self.counter.undo(by_address.key)


def make_throttle(settings: Settings) -> LoginThrottle:
    """The login throttle the settings ask for: shared through Redis when ``redis_url`` is set, else in memory."""
    counter: Counter = (RedisCounter(settings.redis_url) if settings.redis_url
                        else MemoryCounter(settings.login_throttle_max_keys))
    return LoginThrottle(counter, max_failures=settings.login_max_failures,
                         per_user=settings.login_max_failures_per_user,
                         per_address=settings.login_max_failures_per_address, window_s=settings.login_window_s)
