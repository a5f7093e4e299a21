"""Frames for the live loop: the newest camera frame only (late ones are dropped, so the preview never lags),
and a one-slot mailbox between the analysis thread and the window."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

from formcheck.io.sources import Frame, FrameSource
from formcheck.pipeline.prefetch import prefetch


class LatestFrameReader:
    """Reads a live source in a thread and keeps only the newest frame (older unread frames are dropped)."""

    def __init__(self, source: FrameSource):
        self.source = source
        self.dropped = 0
        self.error: BaseException | None = None
        self.arrived = 0.0  # monotonic time the frame last handed out was read from the source
        self._latest: Frame | None = None
        self._latest_at = 0.0
        self._ended = False
        self._cond = threading.Condition()
        self._stop = False
        self._thread = threading.Thread(target=self._run, name="camera", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            for frame in self.source:
                with self._cond:
                    if self._stop:
                        break
                    if self._latest is not None:
                        self.dropped += 1
                    self._latest, self._latest_at = frame, time.monotonic()
                    self._cond.notify()
        except BaseException as exc:  # handed to the frame loop
            self.error = exc
        finally:
            with self._cond:
                self._ended = True
                self._cond.notify()

    def frames(self, idle_s: float | None = None) -> Iterator[Frame | None]:
        """The newest frame each time; ``None`` after ``idle_s`` without one (so a window can stay responsive)."""
        while True:
            with self._cond:
                waited = 0.0
                while self._latest is None and not self._ended and (idle_s is None or waited < idle_s):
                    self._cond.wait(0.05)
                    waited += 0.05
                frame, self._latest = self._latest, None
                if frame is None and self._ended:
                    break
                if frame is not None:
                    self.arrived = self._latest_at
            yield frame
        if self.error is not None:
            raise self.error

    def close(self) -> None:
        with self._cond:
            self._stop = True
            self._latest = None
        self._thread.join(timeout=2)


def open_frames(source: FrameSource) -> tuple[Iterator[Frame | None], Callable[[], int], Callable[[], None]]:
    """Frames for the loop, a counter of dropped frames and a closer: the newest frame of a live source, every
    frame (decoded ahead) of a video file."""
    if source.live:
        reader = LatestFrameReader(source)
        return reader.frames(idle_s=0.1), lambda: reader.dropped + getattr(source, "dropped", 0), reader.close
    return prefetch(source, size=4), lambda: 0, lambda: None


class Mailbox:
    """One slot: the newest item wins (an unread older one is replaced)."""

    def __init__(self):
        self._item = None
        self._cond = threading.Condition()

    def put(self, item) -> None:
        with self._cond:
            self._item = item
            self._cond.notify()

    def get(self, timeout: float):
        with self._cond:
            if self._item is None:
                self._cond.wait(timeout)
            item, self._item = self._item, None
            return item

    def empty(self) -> bool:
        return self._item is None

    def wake(self) -> None:
        with self._cond:
            self._cond.notify()
