"""Threads that keep slow work off the frame loop: a prefetching decoder and a threaded sink."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING

from formcheck.core.background import BackgroundWorker

if TYPE_CHECKING:
    from formcheck.pipeline.loop import FrameResult, StageTimes

_END = object()


def prefetch(iterable: Iterable, size: int = 8, times: StageTimes | None = None) -> Iterator:
    """Iterate ``iterable`` in a background thread (so decoding overlaps inference)."""
    q: queue.Queue = queue.Queue(maxsize=size)
    stop = threading.Event()
    error: list[BaseException] = []

    def work():
        try:
            it = iter(iterable)
            while not stop.is_set():
                t0 = time.perf_counter()
                try:
                    item = next(it)
                except StopIteration:
                    break
                if times is not None:
                    times.decode += time.perf_counter() - t0
                while not stop.is_set():
                    try:
                        q.put(item, timeout=0.1)
                        break
                    except queue.Full:
                        continue
        except BaseException as exc:  # handed to the consumer
            error.append(exc)
        finally:
            q.put(_END)

    thread = threading.Thread(target=work, name="decode", daemon=True)
    thread.start()
    try:
        while True:
            item = q.get()
            if item is _END:
                break
            yield item
    finally:
        stop.set()
        while thread.is_alive():
            try:
                q.get_nowait()
            except queue.Empty:
                thread.join(0.05)
    if error:
        raise error[0]


class ThreadedSink(BackgroundWorker):
    """Runs a per-frame callable in its own thread so slow work (encoding video, writing) leaves the frame loop.
    ``close()`` also closes the callable when it has a ``close`` method."""

    def __init__(self, fn: Callable[[FrameResult], None], maxsize: int = 16, name: str = "sink"):
        super().__init__(fn, maxsize=maxsize, name=name)

    def __call__(self, result: FrameResult) -> None:
        self.submit(result)

    def close(self) -> None:
        try:
            super().close()
        finally:
            closer = getattr(self.fn, "close", None)
            if closer:
                closer()
