"""Limits of the live WebSocket: message rates per session, and live-session slots per user and in total.

Slots are kept in this process, or in Redis when ``settings.redis_url`` is set so that every API process sees
the same count. A Redis slot is a member of a sorted set scored by its expiry time: the holder renews it while
the session runs (:meth:`SlotLease.renew`), so a crashed process's slots lapse within ``SLOT_TTL_S`` instead
of leaking. Sessions in progress are listed the same way, so that a restarting process closes only the sessions
nobody holds any more (:func:`held_sessions`).
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field

SLOT_TTL_S = 30.0
RENEW_EVERY_S = 10.0
KEY_PREFIX = "formcheck:live"

# KEYS: total, user, sessions; ARGV: now, expiry, member, max total, max per user
_ACQUIRE = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[5]) then return 'user' end
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[4]) then return 'total' end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[3])
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
redis.call('EXPIRE', KEYS[1], 3600)
redis.call('EXPIRE', KEYS[2], 3600)
return 'ok'
"""


class SlotRefused(Exception):
    """No live slot: ``scope`` is ``"user"`` (this user has too many) or ``"total"`` (the server is full)."""

    def __init__(self, scope: str, limit: int):
        super().__init__(scope)
        self.scope, self.limit = scope, limit

    @property
    def detail(self) -> str:
        if self.scope == "user":
            return (f"You already have {self.limit} live session(s) open (in another tab or device). Close it, or "
                    "wait half a minute after it ended, then press Start again.")
        return f"The server has its most live sessions ({self.limit}) right now. Try again in a few minutes."


@dataclass
class RateLimit:
    """A token bucket: ``rate`` messages per second on average, bursts of ``burst``."""

    rate: float
    burst: float
    tokens: float = -1.0
    stamp: float = field(default_factory=time.monotonic)

    def allow(self, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        if self.tokens < 0:
            self.tokens = self.burst
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


class MessageLimits:
    """Per-session rate limits per message type, and at most one "slow down" reply per type per second."""

    def __init__(self, settings):
        self.buckets = {
            "frame": RateLimit(settings.live_max_frames_per_s, settings.live_max_frames_per_s * 1.5),
            "frame_time": RateLimit(settings.live_max_frames_per_s, settings.live_max_frames_per_s * 1.5),
            "landmarks": RateLimit(settings.live_max_landmarks_per_s, settings.live_max_landmarks_per_s * 1.5),
            "control": RateLimit(settings.live_max_controls_per_s, settings.live_max_controls_per_s * 2),
            "pain": RateLimit(1.0 / max(settings.live_pain_interval_s, 1e-3), 1.0),
            "error": RateLimit(5.0, 10.0),
        }
        self.pain_interval_s = settings.live_pain_interval_s
        self.refused: dict[str, int] = {}

    def allow(self, kind: str) -> bool:
        bucket = self.buckets.get(kind) or self.buckets["control"]
        if bucket.allow():
            return True
        self.refused[kind] = self.refused.get(kind, 0) + 1
        return False

    def reply_allowed(self) -> bool:
        """Whether to answer a refused or malformed message now (floods get a few replies, not one each)."""
        return self.buckets["error"].allow()

    def refusal(self, kind: str) -> dict:
        if kind == "pain":
            detail = (f"Your pain report was received; one report per {self.pain_interval_s:g} s is kept, "
                      "so this one was not stored.")
        else:
            detail = f"Too many {kind} messages per second: some were not processed. Send fewer."
        return {"type": "error", "title": "Slow down", "status": 429, "detail": detail}


class SlotLease:
    """A held live slot (and the session it is for, once known); release it when the session ends."""

    def __init__(self, pool: LiveSlots, user_id: int, member: str):
        self.pool, self.user_id, self.member = pool, user_id, member
        self.session_id: int | None = None

    async def hold_session(self, session_id: int) -> None:
        self.session_id = session_id
        await self.renew()

    async def renew(self) -> None:
        await self.pool._renew(self)

    async def release(self) -> None:
        await self.pool._release(self)


class LiveSlots:
    """Live-session slots per user and in total (in this process, or shared through Redis)."""

    def __init__(self, max_total: int, max_per_user: int, redis_url: str | None = None, prefix: str = KEY_PREFIX):
        self.max_total, self.max_per_user, self.prefix = max_total, max_per_user, prefix
        self.redis = None
        if redis_url:
            import redis.asyncio as aioredis

            self.redis = aioredis.from_url(redis_url)
            self._acquire_script = self.redis.register_script(_ACQUIRE)
        self._local_users: dict[int, int] = {}
        self._local_sessions: set[int] = set()
        self._local_total = 0

    def _keys(self, user_id: int) -> list[str]:
        return [f"{self.prefix}:slots", f"{self.prefix}:user:{user_id}", f"{self.prefix}:sessions"]

    async def acquire(self, user_id: int) -> SlotLease:
        """A slot for one live session of ``user_id``; :class:`SlotRefused` when there is none."""
        member = uuid.uuid4().hex
        if self.redis is None:
            if self._local_users.get(user_id, 0) >= self.max_per_user:
                raise SlotRefused("user", self.max_per_user)
            if self._local_total >= self.max_total:
                raise SlotRefused("total", self.max_total)
            self._local_users[user_id] = self._local_users.get(user_id, 0) + 1
            self._local_total += 1
            return SlotLease(self, user_id, member)
        now = time.time()
        keys = self._keys(user_id)[:2]
        answer = await self._acquire_script(keys=keys, args=[now, now + SLOT_TTL_S, member, self.max_total,
                                                              self.max_per_user])
        answer = answer.decode() if isinstance(answer, bytes) else answer
        if answer != "ok":
            raise SlotRefused(answer, self.max_per_user if answer == "user" else self.max_total)
        return SlotLease(self, user_id, member)

    async def _renew(self, lease: SlotLease) -> None:
        if self.redis is None:
            if lease.session_id is not None:
                self._local_sessions.add(lease.session_id)
            return
        expiry = time.time() + SLOT_TTL_S
        total, user, sessions = self._keys(lease.user_id)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.zadd(total, {lease.member: expiry}).zadd(user, {lease.member: expiry})
            if lease.session_id is not None:
                pipe.zadd(sessions, {str(lease.session_id): expiry}).expire(sessions, 24 * 3600)
            await pipe.execute()

    async def _release(self, lease: SlotLease) -> None:
        if self.redis is None:
            self._local_users[lease.user_id] = max(0, self._local_users.get(lease.user_id, 1) - 1)
            if not self._local_users[lease.user_id]:
                del self._local_users[lease.user_id]
            self._local_total = max(0, self._local_total - 1)
            self._local_sessions.discard(lease.session_id)
            return
        total, user, sessions = self._keys(lease.user_id)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.zrem(total, lease.member).zrem(user, lease.member)
            if lease.session_id is not None:
                pipe.zrem(sessions, str(lease.session_id))
            await pipe.execute()

    async def held_sessions(self) -> set[int]:
        """Ids of live sessions some process is running now (their slot not lapsed)."""
        if self.redis is None:
            return set(self._local_sessions)
        key = self._keys(0)[2]
        ids = await self.redis.zrangebyscore(key, time.time(), "+inf")
        return {int(i) for i in ids}

    async def in_use(self, user_id: int | None = None) -> int:
        if self.redis is None:
            return self._local_total if user_id is None else self._local_users.get(user_id, 0)
        key = self._keys(user_id or 0)[0 if user_id is None else 1]
        return await self.redis.zcount(key, time.time(), "+inf")

    async def close(self) -> None:
        if self.redis is not None:
            await self.redis.aclose()
