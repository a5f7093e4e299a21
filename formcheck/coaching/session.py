"""A guided session through the one frame loop: :class:`SessionFlow` as the loop's analyzer.

``formcheck live`` and the server's live WebSocket both run a :class:`CoachedSession`; they differ only in where
poses come from (a camera or video, JPEG frames from a browser) and in their sinks."""

from __future__ import annotations

from formcheck.coaching.flow import SessionFlow
from formcheck.core.events import PainReported
from formcheck.core.result import AnalysisResult
from formcheck.io.sources import Frame
from formcheck.pipeline.loop import FrameLoop, FrameResult
from formcheck.pipeline.sinks import Sink
from formcheck.pose.smoothing import PoseSmoother
from formcheck.pose.types import Pose


class CoachedSession:
    """One guided session: each pose goes through :class:`~formcheck.pipeline.loop.FrameLoop` into the flow;
    keys and pain reports go to the flow between frames. The loop's :class:`AnalysisResult` holds every event of
    the session, each tagged with its exercise, and every warning the rules raised (the cue shown is throttled,
    the record is not). Sinks are entered by the caller."""

    def __init__(self, flow: SessionFlow, *, smoother: PoseSmoother | None = None, sinks: list[Sink] = (),
                 model: str = "", source: str = ""):
        self.flow = flow
        self.loop = FrameLoop(flow, smoother=smoother, sinks=sinks, model=model, source=source)
        self._result: AnalysisResult | None = None

    @property
    def result(self) -> AnalysisResult:
        """The session's result so far (complete after :meth:`finish`)."""
        return self._result or self.loop.result

    @property
    def last_t(self) -> float:
        return self.loop.last_t

    def step(self, frame: Frame | None, pose: Pose) -> FrameResult:
        """One pose through the loop (smoothing, the flow, the sinks)."""
        out = self.loop.step(frame, pose)
        self._take_side_events()
        return out

    def tick(self, t: float) -> None:
        """Advance the session's clock without a pose (timers after the last frame)."""
        self.flow.tick(t)
        self._take_side_events()

    def key(self, key: str, t: float | None = None) -> None:
        self.flow.key(key, t)
        self._take_side_events()

    def report_pain(self, t: float, rating: int, location: str, note: str = "") -> PainReported:
        event = self.flow.report_pain(t, rating, location, note)
        self._take_side_events()
        return event

    def source_ended(self, t: float, notice: str | None = None) -> None:
        self.flow.source_ended(t, notice)
        self._take_side_events()

    def finish(self) -> AnalysisResult:
        """Close the set in progress and complete the result: per-exercise series, the session's exercise (its
        only exercise, or the programme's title) and the notices about the source. Calling it again is harmless."""
        if self._result is not None:
            return self._result
        flow = self.flow
        result = self.loop.finish()
        self._take_side_events()
        result.series = {ex: s for ex, s in flow.series_by_exercise.items() if s}
        exercises = list(dict.fromkeys(i.exercise for i in flow.plan))
        result.exercise = exercises[0] if len(exercises) == 1 else flow.title
        result.notices[:0] = [n for n in flow.notices if n not in result.notices]
        self._result = result
        return result

    def report_dict(self) -> dict:
        """The session report: :meth:`AnalysisResult.to_dict` plus the live-only totals under ``summary``
        (``exercises``: per-exercise tallies, ``ended_by``, ``programme``)."""
        d = self.result.to_dict()
        d["summary"].update(exercises=self.flow.summary_rows(), ended_by=self.flow.ended_by or "completed",
                            programme=self.flow.title)
        return d

    def _take_side_events(self) -> None:
        for x in self.flow.take_events():
            self.result.add(x.event, x.exercise)
