"""What live sessions of one API process share: a bounded pool of threads for their work (pose inference, the
engine, recording), so that they never block the event loop nor take every core, and the live-session slots."""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import logging
from concurrent.futures import ThreadPoolExecutor

from server.services.live import close_orphaned_sessions
from server.services.live_limits import LiveSlots

log = logging.getLogger("formcheck.live")


class LiveRuntime:
    """The live sessions' thread pool and slots (one per app)."""

    def __init__(self, settings):
        self.threads = max(1, settings.live_inference_threads)
        self.executor = ThreadPoolExecutor(self.threads, thread_name_prefix="live-work")
        self.slots = LiveSlots(settings.live_max_connections, settings.live_max_connections_per_user,
                               settings.redis_url)
        self.max_server_pose = settings.live_max_server_pose_sessions
        self.server_pose_sessions = 0  # frames-mode sessions now (each holds its own pose model)

    def take_server_pose(self) -> bool:
        """A frames-mode place in this process (False when full: their models' memory is bounded)."""
        if self.server_pose_sessions >= self.max_server_pose:
            return False
        self.server_pose_sessions += 1
        return True

    def give_server_pose(self) -> None:
        self.server_pose_sessions = max(0, self.server_pose_sessions - 1)

    async def run(self, fn, *args):
        """``fn(*args)`` in the live pool (sessions queue for a thread: a busy server slows, it does not stall)."""
        return await asyncio.get_running_loop().run_in_executor(self.executor, fn, *args)

    async def released(self) -> None:
        """After a session's estimator and buffers are freed: hand the freed memory back to the system (glibc keeps
        it in per-thread arenas otherwise, and the process would stay at its peak after the patients leave)."""
        await self.run(_trim_memory)

    async def close(self) -> None:
        self.executor.shutdown(wait=False, cancel_futures=True)
        await self.slots.close()


def _trim_memory() -> None:
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
        if libc is not None and hasattr(libc, "malloc_trim"):
            libc.malloc_trim(0)
    except OSError:
        pass


def live_runtime(app) -> LiveRuntime:
    """The app's :class:`LiveRuntime`, made on first use."""
    runtime = getattr(app.state, "live", None)
    if runtime is None:
        runtime = app.state.live = LiveRuntime(app.state.settings)
    return runtime


async def start_live(app) -> None:
    """At start-up: the runtime, and live sessions a killed process left "recording" closed as "interrupted"
    (sessions another process still runs, by its slots in Redis, are left alone)."""
    runtime = live_runtime(app)
    try:
        held = await runtime.slots.held_sessions()
    except Exception as exc:  # Redis down: close nothing rather than another process's session
        log.warning("live sessions left recording were not checked (%s)", exc)
        return
    await asyncio.get_running_loop().run_in_executor(None, close_orphaned_sessions, app.state.store, held)
