"""One small building block for work that must stay off the frame loop (video encoding, database writes,
screenshots): items are handed to a function, in order, by a daemon thread."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Any

_STOP = object()


class BackgroundWorker:
    """Calls ``fn(item)`` for each submitted item in its own thread, in submission order.

    ``drop_when_full`` makes :meth:`submit` skip an item instead of waiting when ``maxsize`` items are queued
    (for work that may be skipped, such as screenshots or progress updates). An exception from ``fn`` does not
    stop the worker (later items are still handled); the first one is raised again by :meth:`close`, unless
    ``swallow_errors`` is set.
    """

    def __init__(self, fn: Callable[[Any], None], *, maxsize: int = 0, name: str = "worker",
                 drop_when_full: bool = False, swallow_errors: bool = False):
        self.fn = fn
        self.drop_when_full, self.swallow_errors = drop_when_full, swallow_errors
        self.dropped = 0
        self._q: queue.Queue = queue.Queue(maxsize=maxsize)
        self._error: list[Exception] = []
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def submit(self, item: Any) -> bool:
        """Queue an item; False when it was dropped (``drop_when_full`` and the queue is full)."""
        if not self.drop_when_full:
            self._q.put(item)
            return True
        try:
            self._q.put_nowait(item)
            return True
        except queue.Full:
            self.dropped += 1
            return False

    def _run(self) -> None:
        while True:
            item = self._q.get()
            try:
                if item is _STOP:
                    return
                self.fn(item)
            except Exception as exc:  # handed to close()
                if not self.swallow_errors and not self._error:
                    self._error.append(exc)
            finally:
                self._q.task_done()

    def flush(self) -> None:
        """Wait until every item submitted so far has been handled."""
        self._q.join()

    def close(self) -> None:
        """Handle what is queued, stop the thread, and raise the first error ``fn`` raised."""
        self._q.put(_STOP)
        self._thread.join()
        if self._error:
            raise self._error[0]
