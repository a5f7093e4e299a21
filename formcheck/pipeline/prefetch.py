"""A prefetching decoder: frames are read in a thread of their own so decoding overlaps inference."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from formcheck.pipeline.results import StageTimes

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
