"""The one frame loop: Source -> PoseEstimator -> smoother -> analyzer -> sinks, into one ``AnalysisResult``.

Uploads, the CLI, live coaching, the server's live WebSocket and evaluation all drive :class:`FrameLoop`;
they differ only in where frames (or poses) come from and which sinks they hand results to."""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import ExitStack

from formcheck.core.result import AnalysisResult, Tagged
from formcheck.engine.base import Analyzer
from formcheck.io.sources import Frame, FrameSource, VideoFileSource
from formcheck.pipeline.prefetch import prefetch
from formcheck.pipeline.results import FrameResult, StageTimes
from formcheck.pipeline.segments import Segment, plan_segments, segmented_poses
from formcheck.pipeline.sinks import CallbackSink, Sink, ThreadedSink
from formcheck.pipeline.stride import AdaptiveStride, StridePolicy, interpolate
from formcheck.pose.estimator import PoseEstimator
from formcheck.pose.smoothing import PoseSmoother
from formcheck.pose.types import Pose


class FrameLoop:
    """Analysis of one stream, one pose at a time, into one :class:`AnalysisResult`.

    >>> loop = FrameLoop(create_analyzer("squat"), model="full", source="clip.mp4")
    >>> for frame in source:
    ...     loop.step(frame, estimator.detect_for_video(frame.image, frame.timestamp))
    >>> result = loop.finish()

    ``step`` smooths the pose, runs the analyzer, folds the events into the result and hands a
    :class:`FrameResult` to every sink. ``finish`` closes the analyzer's open holds and repetitions and
    copies its series, summary and recognition into the result. Sinks are entered by the caller (``run``
    does it with an ``ExitStack``)."""

    def __init__(self, analyzer: Analyzer, *, smoother: PoseSmoother | None = None, sinks: list[Sink] = (),
                 model: str = "", source: str = "", times: StageTimes | None = None):
        self.analyzer, self.smoother, self.sinks = analyzer, smoother, list(sinks)
        self.result = AnalysisResult(exercise=analyzer.exercise, model=model, source=source)
        self.times = times or StageTimes()
        self.last_t = 0.0
        self._dt = 0.0  # the last frame interval, so the duration covers the last frame too

    def step(self, frame: Frame | None, pose: Pose) -> FrameResult:
        t1 = time.perf_counter()
        if self.smoother is not None:
            pose = self.smoother(pose)
        events = self.analyzer.update(pose)
        self.result.add_all(events, self._exercise())
        t2 = time.perf_counter()
        out = FrameResult(frame, pose, events)
        for sink in self.sinks:
            sink(out)
        self.times.analysis += t2 - t1
        self.times.sinks += time.perf_counter() - t2
        r = self.result
        r.frames += 1
        r.frames_with_person += pose.present
        r.frames_with_several_people += pose.people > 1
        if r.frames > 1:
            self._dt = max(0.0, pose.timestamp - self.last_t)
        self.last_t = pose.timestamp
        return out

    def _exercise(self) -> str:
        return self.analyzer.exercise  # ``auto`` becomes the recognised id once decided

    def finish(self, frame_interval_s: float | None = None) -> AnalysisResult:
        """End of the stream: the result, with the analyzer's last events, series, summary and recognition."""
        r = self.result
        r.add_all(self.analyzer.finish(self.last_t), self._exercise())
        r.exercise = self.analyzer.exercise
        # events seen while recognising were tagged "auto": they belong to the recognised exercise
        r.events = [Tagged(r.exercise, x.event) if x.exercise == "auto" else x for x in r.events]
        r.take_analyzer(self.analyzer)
        for summary in r.summaries.values():  # what the analyzer wants the person told (a second opinion)
            if summary.get("notice") and summary["notice"] not in r.notices:
                r.notices.append(summary["notice"])
        dt = self._dt if frame_interval_s is None else frame_interval_s
        r.duration_s = round(self.last_t + (dt if r.frames else 0.0), 3)
        add_input_notices(r)
        return r


def run(
    source: FrameSource,
    estimator: PoseEstimator,
    analyzer: Analyzer,
    *,
    smoother: PoseSmoother | None = None,
    sinks: list[Sink] = (),
    on_frame: Callable[[FrameResult], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    times: StageTimes | None = None,
    stride: StridePolicy | None = None,
    threads: int | None = None,
) -> AnalysisResult:
    """Run the frame loop over a video source and return its result.

    Three stages overlap: decoding (a thread), pose inference (this thread) and the frame loop with its sinks
    (a thread), so inference never waits for the rest. Sinks are entered here and left when the run ends
    (also on an error); ``on_frame`` (progress bars) is called after them. ``should_stop`` lets a caller
    cancel: the result then covers what was done.

    A recorded source can be analysed with an adaptive frame stride (:mod:`formcheck.pipeline.stride`):
    ``stride``, default :func:`default_stride` (``FORMCHECK_MAX_STRIDE``, 1 = off). Every frame still reaches the
    frame loop and the sinks. A live source is always analysed frame by frame.

    A video file whose frames no sink needs (a report, a pose recording) is estimated in up to ``threads``
    parts at once (:mod:`formcheck.pipeline.segments`; default ``FORMCHECK_POSE_THREADS``, one per core);
    the frames then reach the sinks without pixels. With the stride on, or a sink that draws, it is one part."""
    times = times or StageTimes()
    loop = FrameLoop(analyzer, smoother=smoother, sinks=sinks, model=estimator.model, source=source.name,
                     times=times)
    policy = stride if stride is not None else default_stride()
    chooser = AdaptiveStride(policy, source.fps) if policy.enabled and not source.live else None
    segments = _parts(source, threads, chooser is None and not any(s.needs_frames for s in sinks))
    started = time.perf_counter()

    def analyse(item: tuple[Frame, Pose]) -> None:
        out = loop.step(*item)
        if on_frame is not None:
            on_frame(out)

    def detect(frame: Frame) -> Pose:
        t0 = time.perf_counter()
        pose = estimator.detect_for_video(frame.image, frame.timestamp)
        times.pose += time.perf_counter() - t0
        times.model_frames += 1
        if chooser is not None:
            chooser.seen(pose)
        return pose

    stopped = False
    pending: list[Frame] = []  # frames the model skipped, waiting for the next pose it sees
    last: Pose | None = None

    def seen(frame: Frame, pose: Pose) -> None:
        for skipped in pending:
            analysis((skipped, interpolate(last, pose, skipped.timestamp)))
        pending.clear()
        analysis((frame, pose))

    with ExitStack() as stack:
        for sink in sinks:
            stack.enter_context(sink)
        analysis = stack.enter_context(ThreadedSink(CallbackSink(analyse), maxsize=32, name="analysis"))
        if segments is not None:
            for frame, pose in segmented_poses(source, estimator, segments, times):
                times.frames += 1
                analysis((frame, pose))
                if should_stop is not None and should_stop():
                    stopped = True
                    break
        for frame in prefetch(source, times=times) if segments is None else ():
            times.frames += 1
            if chooser is None or last is None or chooser.wants_next():
                pose = detect(frame)
                seen(frame, pose)
                last = pose
            else:
                chooser.skipped()
                pending.append(frame)
            if should_stop is not None and should_stop():
                stopped = True
                break
        if pending:  # the stream ended between two frames the model saw: it sees the last one
            frame = pending.pop()
            seen(frame, detect(frame))
    result = loop.finish(1.0 / source.fps if source.fps else None)
    if stopped:
        result.notices.insert(0, "analysis was stopped before the end of the video")
    if source.interrupted:
        result.notices.insert(0, source.interrupted)
    times.wall += time.perf_counter() - started
    return result


def _parts(source: FrameSource, threads: int | None, allowed: bool) -> list[Segment] | None:
    """The parts a video file is estimated in at once, or None to estimate it frame by frame in this thread."""
    if not allowed or source.live or not isinstance(source, VideoFileSource) or not source.seekable:
        return None
    if threads is None:
        from formcheck.core.settings import Settings

        threads = Settings().pose_threads
    segments = plan_segments(source.frame_count, source.fps, threads)
    return segments if len(segments) > 1 else None


def default_stride() -> StridePolicy:
    """The offline stride from the settings (``FORMCHECK_MAX_STRIDE``; default 1 = every frame)."""
    from formcheck.core.settings import Settings

    return StridePolicy(max_stride=Settings().max_stride)


def replay(poses, analyzer: Analyzer, *, model: str = "", source: str = "",
           sinks: list[Sink] = ()) -> AnalysisResult:
    """The frame loop over recorded poses (evaluation, tests, derived cases): no frames, no estimator."""
    loop = FrameLoop(analyzer, sinks=sinks, model=model, source=source)
    with ExitStack() as stack:
        for sink in sinks:
            stack.enter_context(sink)
        for pose in poses:
            loop.step(None, pose)
    return loop.finish()


def add_input_notices(result: AnalysisResult) -> None:
    """Notices about the input, in words for the person: nobody seen, seen rarely, several people."""
    if result.frames and result.frames_with_person == 0:
        result.notices.append("nobody was seen in the video: make sure the whole body is in view")
    elif result.frames and result.frames_with_person < 0.5 * result.frames:
        result.notices.append(
            f"a person was seen in only {100 * result.frames_with_person // result.frames}% of the frames"
        )
    if result.frames_with_several_people > 0.2 * max(result.frames, 1):
        result.notices.append("more than one person was in view: results follow the most visible person")
