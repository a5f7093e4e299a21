"""The sink protocol: what a frame loop hands each analysed frame to (overlay, recorder, WebSocket, progress).

A sink is a context manager that is called once per frame: ``with sink: sink(result)``. Leaving the context
flushes and releases what it holds (a video file, a thread); it is the only way a sink is closed."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from formcheck.core.background import BackgroundWorker

if TYPE_CHECKING:
    from formcheck.pipeline.results import FrameResult


@runtime_checkable
class Sink(Protocol):
    needs_frames: bool  # does it use the frame's pixels (drawing, video)? False: poses and events only

    def __call__(self, result: FrameResult) -> None: ...

    def __enter__(self) -> Sink: ...

    def __exit__(self, *exc) -> None: ...


class BaseSink:
    """A sink with nothing to release; subclasses override :meth:`close` when they hold something, and set
    ``needs_frames`` False when they never look at the frame's pixels (then a video can be analysed in parallel
    parts, :func:`formcheck.pipeline.loop.run`)."""

    needs_frames: bool = True

    def __call__(self, result: FrameResult) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def close(self) -> None:
        """Flush and release (called when the context is left)."""

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class CallbackSink(BaseSink):
    """A plain function as a sink (progress bars, taps in tests); it gets no pixels unless ``needs_frames``."""

    def __init__(self, fn: Callable[[FrameResult], None], needs_frames: bool = False):
        self.fn, self.needs_frames = fn, needs_frames

    def __call__(self, result: FrameResult) -> None:
        self.fn(result)


class ThreadedSink(BaseSink):
    """Runs another sink in its own thread so slow work (encoding video, writing) leaves the frame loop.
    Leaving the context drains the queue, then leaves the inner sink's context."""

    def __init__(self, inner: Sink, maxsize: int = 16, name: str = "sink"):
        self.inner, self.needs_frames = inner, inner.needs_frames
        self._worker = BackgroundWorker(inner, maxsize=maxsize, name=name)

    def __call__(self, result: FrameResult) -> None:
        self._worker.submit(result)

    def close(self) -> None:
        try:
            self._worker.close()
        finally:
            self.inner.__exit__(None, None, None)
