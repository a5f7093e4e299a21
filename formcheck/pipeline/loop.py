"""The frame loop: Source -> PoseEstimator -> smoother -> analyzer -> sinks."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from formcheck.core.events import Event
from formcheck.core.result import SessionReport
from formcheck.engine.base import Analyzer
from formcheck.io.sources import Frame, FrameSource
from formcheck.pipeline.threads import ThreadedSink, prefetch
from formcheck.pose.estimator import PoseEstimator
from formcheck.pose.smoothing import PoseSmoother
from formcheck.pose.types import Pose


@dataclass(slots=True)
class FrameResult:
    frame: Frame
    pose: Pose
    events: list[Event]


@dataclass
class StageTimes:
    """Accumulated seconds per stage (for ``formcheck bench``)."""

    decode: float = 0.0
    pose: float = 0.0
    analysis: float = 0.0
    sinks: float = 0.0
    frames: int = 0
    wall: float = 0.0
    extra: dict = field(default_factory=dict)

    def per_frame_ms(self) -> dict[str, float]:
        n = max(self.frames, 1)
        return {k: 1000 * getattr(self, k) / n for k in ("decode", "pose", "analysis", "sinks")}


def run(
    source: FrameSource,
    estimator: PoseEstimator,
    analyzer: Analyzer,
    *,
    smoother: PoseSmoother | None = None,
    sinks: list[Callable[[FrameResult], None]] = (),
    on_frame: Callable[[FrameResult], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    times: StageTimes | None = None,
) -> SessionReport:
    """Run the whole flow over a source and return its report.

    Three stages overlap: decoding (a thread), pose inference (this thread) and analysis with the sinks
    (a thread), so inference never waits for the rest. ``sinks`` and ``on_frame`` (progress bars) are called in
    frame order from the analysis thread; wrap slow sinks in :class:`ThreadedSink`. ``should_stop`` lets a
    caller cancel: the report then covers what was done.
    """
    report = SessionReport(exercise=analyzer.exercise, model=estimator.model, source=source.name)
    times = times or StageTimes()
    started = time.perf_counter()
    last_t = [0.0]

    def analyse(frame: Frame, pose: Pose) -> None:
        t1 = time.perf_counter()
        if smoother is not None:
            pose = smoother(pose)
        events = analyzer.update(pose)
        for e in events:
            report.add(e)
        t2 = time.perf_counter()
        result = FrameResult(frame, pose, events)
        for sink in sinks:
            sink(result)
        times.analysis += t2 - t1
        times.sinks += time.perf_counter() - t2
        report.frames += 1
        report.frames_with_person += pose.present
        report.frames_with_several_people += pose.people > 1
        last_t[0] = frame.timestamp
        if on_frame is not None:
            on_frame(result)

    analysis = ThreadedSink(lambda item: analyse(*item), maxsize=32, name="analysis")
    try:
        for frame in prefetch(source, times=times):
            t0 = time.perf_counter()
            pose = estimator.detect_for_video(frame.image, frame.timestamp)
            times.pose += time.perf_counter() - t0
            times.frames += 1
            analysis((frame, pose))
            if should_stop is not None and should_stop():
                report.notices.append("analysis was stopped before the end of the video")
                break
    finally:
        analysis.close()
    for e in analyzer.finish(last_t[0]):
        report.add(e)
    report.exercise = analyzer.exercise  # ``auto`` becomes the recognised exercise
    times.wall += time.perf_counter() - started
    report.duration_s = round(last_t[0] + (1.0 / source.fps if report.frames else 0.0), 3)
    _add_input_notices(report, source)
    return report


def _add_input_notices(report: SessionReport, source: FrameSource) -> None:
    if source.interrupted:
        report.notices.append(source.interrupted)
    if report.frames and report.frames_with_person == 0:
        report.notices.append("nobody was seen in the video: make sure the whole body is in view")
    elif report.frames and report.frames_with_person < 0.5 * report.frames:
        report.notices.append(
            f"a person was seen in only {100 * report.frames_with_person // report.frames}% of the frames"
        )
    if report.frames_with_several_people > 0.2 * max(report.frames, 1):
        report.notices.append("more than one person was in view: results follow the most visible person")
